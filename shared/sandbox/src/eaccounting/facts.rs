//! Every eAccounting behaviour the vendor page (`shared/spec/vendor-apis/shops-accounting.md`
//! §(b2)) marks [I] or leaves open, decided here in one place so it is easy to correct.
//! Everything else in `eaccounting/` follows a [D] or [C] fact of the page.

use chrono::{DateTime, Utc};

/// Bearer token lifetime, seconds ("roughly 1 h" [D]); the config can change it.
pub(crate) const ACCESS_TOKEN_SECS: i64 = 3600;

/// [I] Authorization codes live 5 minutes and work once.
pub(super) const CODE_SECS: i64 = 300;

/// [I] `$pagesize` default and cap (the client uses 50; the maximum is unknown): a larger
/// size is clamped, not refused.
pub(super) const DEFAULT_PAGE_SIZE: usize = 50;
pub(super) const MAX_PAGE_SIZE: usize = 1000;

/// Requests per minute per client per endpoint [D rate-limits]. [I] An endpoint is a path
/// template (`/v2/customers/{id}`), whatever the method; the window is a fixed minute.
pub(crate) const RATE_LIMIT: u32 = 600;

/// [I] The error codes besides 4010 (the page gives only that one): every error answers
/// `{"ErrorCode", "DeveloperErrorMessage", "ErrorId"}`.
pub(super) const E_VALIDATION: u32 = 4000;
pub(super) const E_UNAUTHORIZED: u32 = 4001;
pub(super) const E_FORBIDDEN: u32 = 4003;
pub(super) const E_NOT_FOUND: u32 = 4004;
pub(super) const E_METHOD: u32 = 4005;
pub(super) const E_FILTER: u32 = 4006;
pub(super) const E_CONFLICT: u32 = 4009;
pub(super) const E_RATE: u32 = 4010;
pub(super) const E_SERVER: u32 = 5000;

/// The 4010 message [D], with the seconds left in the window.
pub(super) fn rate_message(limit: u32, secs: i64) -> String {
    format!("API calls quota exceeded! maximum admitted {limit} per Minute. Try again in {secs} seconds.")
}

/// [I] Which change field each collection filters on: `ChangedUtc` for customers and articles
/// [C], `ModifiedUtc` for orders [C] and (by analogy) invoice drafts and invoices.
pub(super) const CHANGED: &str = "ChangedUtc";
pub(super) const MODIFIED: &str = "ModifiedUtc";

/// [I] Timestamps are served like .NET's round-trip format: seven fraction digits and `Z`.
pub(super) fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f0Z").to_string()
}

/// [I] A `$filter` datetime literal: unquoted ISO 8601 with `Z` or an offset (clients send
/// both), OData's `datetime'…'` form (no offset: UTC), or a date alone (midnight UTC).
pub(super) fn parse_literal(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let inner = s
        .strip_prefix("datetime'")
        .and_then(|r| r.strip_suffix('\''))
        .unwrap_or(s);
    if let Ok(t) = DateTime::parse_from_rfc3339(inner) {
        return Some(t.with_timezone(&Utc));
    }
    if inner.len() > 10 || s != inner {
        return crate::kit::clock::parse_iso(inner);
    }
    chrono::NaiveDate::parse_from_str(inner, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// [I] Scopes: `ea:api` is needed for every call; reads need `ea:sales` or
/// `ea:sales_readonly`, writes `ea:sales`.
pub(super) const SCOPE_API: &str = "ea:api";
pub(super) const SCOPE_SALES: &str = "ea:sales";
pub(super) const SCOPE_SALES_READ: &str = "ea:sales_readonly";
pub(super) const SCOPE_OFFLINE: &str = "offline_access";

/// [I] VAT on articles: 25 % unless the article says otherwise (Swedish standard rate), used
/// to derive `GrossPrice` from `NetPrice` and back when only one is given.
pub(super) const DEFAULT_VAT: f64 = 0.25;

/// [I] Stock: `StockBalanceReserved` is the quantity on orders with `Status` 1–3;
/// `StockBalanceAvailable` = `StockBalance` − reserved; converting an invoice draft (or
/// posting an invoice) lowers `StockBalance` and moves the article's `ChangedUtc`.
pub(super) const RESERVING_STATUSES: [i64; 3] = [1, 2, 3];

/// [I] Converting an order makes a customer invoice *draft* from it and sets the order's
/// `Status` to 4 (Invoiced); the answer is the draft (200).
pub(super) const ORDER_CONVERTS_TO_DRAFT: bool = true;
