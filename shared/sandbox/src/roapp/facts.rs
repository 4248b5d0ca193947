//! Every RO App behaviour this sandbox had to choose: the vendor page
//! (`shared/spec/vendor-apis/shops-accounting.md` §(e)) has only client-code facts [C] and no
//! readable vendor docs, so much is inferred [I]. Kept in one place to be easy to correct.

/// [C] Legacy list pages hold 50 items (`page=N`, 1-based).
pub(crate) const LEGACY_PAGE: usize = 50;

/// [I] v2 `per_page` defaults to 50 and may not exceed 50 (clients keep ≤ 50 [C]); more is a
/// 400 `{"message": …}`.
pub(crate) const V2_MAX_PER_PAGE: usize = 50;

/// [I] Legacy errors are `{"success": false, "message": …}` [C] with these statuses: 401 for
/// a bad api key, a missing, unknown or expired token; 404 for an unknown record; 422 for a
/// missing field; 429 when throttled.
pub(crate) const LEGACY_BAD_TOKEN: &str = "Invalid token";
pub(crate) const LEGACY_BAD_KEY: &str = "Invalid API key";

/// [I] v2 errors are `{"message": …}` (401 on a bad Bearer key [C], 404, 409, 422, 429).
pub(crate) const V2_UNAUTHORIZED: &str = "Unauthorized";

/// [I] Times: legacy epoch milliseconds [C]; v2 ISO 8601 UTC with `Z` (the v2 time format is
/// unknown). Range filters (`created_at[]`, `modified_at[]`) take two values, from and to,
/// in milliseconds on legacy and milliseconds or ISO 8601 on v2.
pub(crate) const V2_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%SZ";

// [I] (`clients::phones_match`) Phone filters (`phones[]`, `client_phones[]`) match when the digits agree after a
// Spanish country code (`+34`, `0034`) is dropped on both sides; emails match case-blind;
// `names[]` matches a case-blind substring of the full name.

/// [I] 429 answers carry `Retry-After: 1`; the window is one second per API key, counted on
/// the sandbox clock.
pub(crate) const RETRY_AFTER_SECS: u64 = 1;

/// [I] Writing off an order's products (`POST /v2/orders/{id}/write-off`, or a shop employee
/// in the UI) freezes its items: adding, changing or removing one is a 409 `{"message":
/// "Order items are written off"}`. Writing off twice is a 409 too.
pub(crate) const WRITTEN_OFF: &str = "Order items are written off";

// [I] (`orders::comments`) Order comments are `POST/GET /v2/orders/{id}/comments` (`{"text"}`); the order's event
// feed `GET /v2/orders/{id}/events` lists creation, status changes, item changes, write-off
// and comments, oldest first.

/// [I] Orders list newest first (`sort_dir=desc` by id) unless `sort_dir=asc`; clients,
/// products and categories by id ascending.
pub(crate) const ORDERS_DEFAULT_DESC: bool = true;

// [I] (`company` in mod.rs) The account's settings: `GET /v2/company` → `{"data": {"name", "currency",
// "timezone"}}`, where a connector reads RO App's currency (ROA-2).

/// [I] A new order without `status_id` gets its order type's initial status (ROA-4).
pub(crate) const STATUS_FROM_ORDER_TYPE: bool = true;

// [I] (`clients::new_client`) RO App lets two clients share a phone or email (no uniqueness check): that is why
// connectors must match before creating.

// [I] (`orders::create`) `POST /v2/orders` takes the order's `number` (an imported order keeps the
// shop's number, ROA-2; found again with `id_labels[]`) and its `created_at` (ISO 8601, not
// in the future; the shop's creation date). Without them RO App mints `A-n` and uses now.
