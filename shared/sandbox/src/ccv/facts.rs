//! Every CCV Shop behaviour the vendor page (`shared/spec/vendor-apis/shops-accounting.md`
//! §(a)) marks [I] or leaves open, decided here in one place so it is easy to correct when the
//! real answer is known. Everything else in `ccv/` follows a [C] fact of the page.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::kit::sign::hmac_sha512_hex;

/// [I] Allowed `x-date` skew in seconds when the config does not say (unpublished).
pub(crate) const DEFAULT_SKEW_SECS: u64 = 300;

/// [I] `size` when the request gives none (the SDK samples use 25; the real default is
/// unknown). [C] The maximum is 250; [I] a larger `size` is clamped, not refused.
pub(super) const DEFAULT_SIZE: usize = 25;
pub(super) const MAX_SIZE: usize = 250;

/// [I] The total per-minute limit (429.11) when the config does not say: unknown, so off.
pub(crate) const DEFAULT_TOTAL_LIMIT: u32 = 0;

/// [I] Error codes the page does not list: a refused signature or key, a bad request body or
/// parameter, a write to a completed order's rows, and the code of an injected 5xx.
pub(super) const CODE_UNAUTHORIZED: &str = "401.10";
pub(super) const CODE_BAD_REQUEST: &str = "400.10";
pub(super) const CODE_ORDER_LOCKED: &str = "400.20";
pub(super) const CODE_SERVER_ERROR: &str = "500.40";
pub(super) const CODE_UNAVAILABLE: &str = "503.10";
/// [C] 404.20 (not found), 405.10 (method), 429.10 / 429.11 (limits), 500.80 (payload too
/// big).
pub(super) const CODE_NOT_FOUND: &str = "404.20";
pub(super) const CODE_METHOD: &str = "405.10";
pub(super) const CODE_RATE_RESOURCE: &str = "429.10";
pub(super) const CODE_RATE_TOTAL: &str = "429.11";
pub(super) const CODE_TOO_BIG: &str = "500.80";

/// [I] A 429 carries `Retry-After` with the seconds until its one-minute window reopens (an
/// injected one says 1 s, as the kit's faults promise). The page knows no rate-limit
/// header of CCV's; a client must also cope without one (wait for the next minute).
pub(super) const RETRY_AFTER_ON_429: bool = true;

/// [I] Largest request body accepted (500.80 beyond).
pub(super) const MAX_BODY: usize = 2 * 1024 * 1024;

/// [I] The webhook events a subscription may name: `products.*` is [C]; the order events
/// are named by analogy.
pub(super) const EVENTS: [&str; 5] = [
    "orders.created",
    "orders.updated",
    "products.created",
    "products.updated",
    "products.deleted",
];

/// [I] Prices (`product.price`, order row `price`, order totals) include VAT, as a Dutch
/// B2C shop shows them; `tax` on a row is the VAT percentage.
pub(super) const PRICES_INCLUDE_VAT: bool = true;

/// [I] The `taxtariff` value of each VAT class, and its percentage in the Netherlands.
pub(super) const TARIFFS: [(&str, f64); 5] = [
    ("normal", 21.0),
    ("low a", 9.0),
    ("low b", 9.0),
    ("extra low", 0.0),
    ("zero", 0.0),
];

/// [I] `ordernumber_prefix` of completed orders, and the first order number.
pub(super) const ORDERNUMBER_PREFIX: &str = "2026-";
pub(super) const FIRST_ORDERNUMBER: u64 = 1001;

/// Timestamps the API serves (`create_date`, `createdate`, `modifydate`): whole seconds, UTC,
/// `Z` ([C] the page's example), and [I] the response `x-date`: PHP `date('c')`, `+00:00`.
pub(super) fn fmt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub(super) fn fmt_response_date(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// A request `x-date`, parsed leniently ([C] a community script sends unpadded fields:
/// `2026-1-2T9:5:7Z`; `Z`, `+00:00` and `+0000` are all seen). [I] A value without an
/// offset is UTC.
pub(super) fn parse_x_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%:z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let naive = s.trim_end_matches('Z');
    NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// A `min_create_date`/`max_create_date` filter value: [I] a date (`2026-01-31`, the whole
/// day for `max_`) or a datetime.
pub(super) fn parse_filter_date(s: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
    if let Ok(d) = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        let t = if end_of_day {
            d.and_hms_opt(23, 59, 59)
        } else {
            d.and_hms_opt(0, 0, 0)
        };
        return t.map(|t| t.and_utc());
    }
    parse_x_date(s).or_else(|| crate::kit::clock::parse_iso(s))
}

/// [I] What a webhook delivery carries: the event, the resource's id and its API URL; the
/// receiver reads the resource itself. (The real payload is unknown.)
pub(super) fn delivery_body(event: &str, id: u64, href: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"event": event, "id": id, "href": href}))
        .expect("JSON values serialize")
}

/// [I] The signature of a webhook delivery: hex HMAC-SHA512 of the raw body keyed by the
/// subscription's `key`, in `x-hash` (the page's best guess; the real one is unknown). Every
/// delivery is signed here and nowhere else.
pub(super) fn delivery_headers(key: &str, event: &str, body: &[u8]) -> Vec<(String, String)> {
    vec![
        ("content-type".into(), "application/json".into()),
        ("x-hash".into(), hmac_sha512_hex(key.as_bytes(), body)),
        ("x-event".into(), event.into()),
    ]
}
