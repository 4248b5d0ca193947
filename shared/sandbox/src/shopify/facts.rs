//! Every Shopify behaviour this sandbox had to choose because the vendor page
//! (`shared/spec/vendor-apis/shops-accounting.md` §(c)) marks it [I] or leaves it open, in
//! one place so it is easy to correct. Each constant or function says what was chosen.

use std::time::Duration;

/// REST versions served; any other `{version}` in `/admin/api/{version}/…` is a 404 `{"errors":
/// "Not Found"}`. [I] Real Shopify answers an unsupported but well-formed version with the
/// oldest supported one; the brief asks for a 404, which also catches typos.
pub(crate) const VERSIONS: [&str; 7] = [
    "2024-04", "2024-07", "2024-10", "2025-01", "2025-04", "2025-07", "2025-10",
];

/// Version a subscription created by the sandbox's owner helpers (not through the API)
/// records and sends in `X-Shopify-API-Version`.
pub(crate) const DEFAULT_VERSION: &str = "2025-01";

// [I] Every list (orders, products, customers, webhooks) is ordered by `id` ascending, and
// ids grow with creation time: what `since_id` and cursor pages imply (`model::Shop` keeps
// its records in id order).

/// [I] `limit` above 250 (or below 1, or not a number) is a 400 rather than silently capped.
pub(crate) fn bad_limit() -> &'static str {
    "limit must be between 1 and 250"
}

/// [I] A filter beside `page_info` (only `limit` and `fields` may go with it) is a 400 with
/// this message; so is a `page_info` that is not one of this list's tokens.
pub(crate) fn page_info_with(param: &str) -> String {
    format!("page_info cannot be combined with {param}; only limit and fields are allowed")
}
pub(crate) const BAD_PAGE_INFO: &str = "page_info - Invalid value.";

/// [I] A `status`, `financial_status` or `fulfillment_status` outside its enum, and a date
/// that does not parse, are 400 `{"errors":{"<param>":["is invalid"]}}` rather than ignored.
pub(crate) const INVALID: &str = "is invalid";

/// [D] The 401 body Shopify sends for a missing or wrong access token.
pub(crate) const BAD_TOKEN: &str =
    "[API] Invalid API key or access token (unrecognized login or wrong password)";

/// [C] The 429 body of the REST leaky bucket.
pub(crate) fn throttled(leak: u32) -> String {
    format!(
        "Exceeded {leak} calls per second for api client. Reduce request rates to resume uninterrupted service."
    )
}

/// [I] `Retry-After` on a 429 is the seconds until one call fits in the bucket, at least 1,
/// written as a float (`2.0`), which the official JS client parses.
pub(crate) fn retry_after(secs: f64) -> String {
    format!("{:.1}", secs.ceil().max(1.0))
}

/// [I] Bodies of a locked (423) and frozen (402) shop.
pub(crate) const LOCKED: &str = "This shop is unavailable";
pub(crate) const FROZEN: &str = "Payment Required";

/// [I] The shop's time zone: a fixed +01:00 (Madrid without summer time); every timestamp
/// is written in it (`2025-01-31T11:00:00+01:00`).
pub(crate) const UTC_OFFSET_SECS: i32 = 3600;

/// [I] A Basic-plan shop's orders carry no `customer` and no `email`/`phone`/`contact_email`
/// (ROA-8's "orders carry no customer"); their billing and shipping addresses stay.
pub(crate) const BASIC_HIDES_CUSTOMER: bool = true;

/// [D] Only orders created in the last 60 days are visible without `read_all_orders`.
pub(crate) const ORDER_WINDOW_DAYS: i64 = 60;

/// [I] A delivery whose every attempt failed (1 + the retries) deletes its subscription,
/// which was made through the API (the page: "removed after 8 consecutive failures").
pub(crate) const REMOVE_AFTER_FAILED_DELIVERY: bool = true;

/// [D] 8 retries over 4 h; [I] compressed to 1 s doubling (1 s … 128 s) by default.
pub(crate) fn default_retry_delays() -> Vec<Duration> {
    (0..8).map(|i| Duration::from_secs(1 << i)).collect()
}

/// Topics a subscription may name ([D] the order, product and customer topics; others are a
/// 422 `{"errors":{"topic":["Invalid topic specified: …"]}}` [I]).
pub(crate) const TOPICS: [&str; 13] = [
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/paid",
    "orders/delete",
    "products/create",
    "products/update",
    "products/delete",
    "customers/create",
    "customers/update",
    "app/uninstalled",
];

// [I] `status=closed` means closed and not cancelled; `cancelled` means cancelled (closed or
// not); `open` neither closed nor cancelled (`orders::Filter::ok`).

/// [D] `financial_status=unpaid` is authorized or partially paid; [I] pending too.
pub(crate) const UNPAID: [&str; 3] = ["authorized", "partially_paid", "pending"];
