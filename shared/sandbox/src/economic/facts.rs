//! Every e-conomic behaviour the vendor page (`shared/spec/vendor-apis/shops-accounting.md`
//! §(b1)) marks [I] or leaves open, decided here in one place so it is easy to correct.
//! Everything else in `economic/` follows a [D] fact (the vendor's own REST docs, `e-conomic/
//! slate` `_introduction.md`).

/// Fair use: calls per 24 hours per agreement [D]. [I] The window is fixed: it starts with the
/// agreement's first call and lasts 24 hours of the sandbox clock.
pub(crate) const DAILY_CALLS: u64 = 50_000;

/// Page size default and cap [D].
pub(super) const DEFAULT_PAGE_SIZE: usize = 20;
pub(super) const MAX_PAGE_SIZE: usize = 1000;

/// `$in`/`$nin` list length cap [D].
pub(super) const MAX_IN_VALUES: usize = 200;

/// [I] `errorCode`s of the answers the page gives no code for. E06000 ("… does not exist"),
/// E04740 (scale), E04500 (no identifier) and E04730 (quantity needed with a product) are
/// [D], from the docs' annotated-errors example.
pub(super) const E_UNAUTHORIZED: &str = "E04010";
pub(super) const E_FORBIDDEN: &str = "E04020";
pub(super) const E_NOT_FOUND: &str = "E04040";
pub(super) const E_METHOD: &str = "E04050";
pub(super) const E_MEDIA_TYPE: &str = "E04150";
pub(super) const E_BAD_REQUEST: &str = "E04000";
pub(super) const E_FILTER: &str = "E04410";
pub(super) const E_SORT: &str = "E04420";
pub(super) const E_PAGING: &str = "E04430";
pub(super) const E_VALIDATION: &str = "E04300";
pub(super) const E_REQUIRED: &str = "E04600";
pub(super) const E_NULL: &str = "E04610";
pub(super) const E_TYPE: &str = "E04620";
pub(super) const E_LENGTH: &str = "E04630";
pub(super) const E_RANGE: &str = "E04640";
pub(super) const E_EXISTS: &str = "E04650";
pub(super) const E_STATE: &str = "E04660";
pub(super) const E_TOO_MANY: &str = "E04290";
pub(super) const E_SERVER: &str = "E05000";
pub(super) const E_DOES_NOT_EXIST: &str = "E06000";
pub(super) const E_SCALE: &str = "E04740";
pub(super) const E_NO_IDENTIFIER: &str = "E04500";
pub(super) const E_QUANTITY: &str = "E04730";

/// [I] A 429 past the daily calls carries `Retry-After` with the seconds left in the window;
/// the body is the usual error document.
pub(super) const QUOTA_MESSAGE: &str =
    "The agreement has used its 50000 calls for this 24-hour period.";

/// [I] Operator precedence when a filter has no parentheses: `$and:` binds tighter than `$or:`
/// (the docs only say parentheses control "operator affinity").
pub(super) const AND_BINDS_TIGHTER: bool = true;

/// [I] Date values in filters: besides the `2026-01-02T03:04:05Z` clients send, a date alone
/// (midnight UTC) and other offsets are accepted.
pub(super) const LENIENT_FILTER_DATES: bool = true;

/// [I] `sort=` accepts the same properties as `filter=` on each collection.
pub(super) const SORTABLE_IS_FILTERABLE: bool = true;

/// [I] VAT rate per vat zone: 1 Domestic 25 %, 2 EU 0 % (reverse charge), 3 Abroad 0 %,
/// 4 Domestic exempt 0 %.
pub(super) fn vat_rate(vat_zone: u64) -> f64 {
    if vat_zone == 1 {
        0.25
    } else {
        0.0
    }
}

/// [I] Legacy webhooks: a `POST` with an empty body to the configured URL template with its
/// merge fields (`[NEWNUMBER]`, `[OLDNUMBER]`, `[INVOICENO]`) filled in; unsigned [D: no
/// signature documented]. On a create `[OLDNUMBER]` is the new number; on a delete
/// `[NEWNUMBER]` is the old one (the receiver re-reads and finds it gone); a renumber sends
/// both. Not retried (the retry schedule is cut off in the stored page).
pub(super) fn fill_template(template: &str, new: &str, old: &str) -> String {
    template
        .replace("[NEWNUMBER]", new)
        .replace("[OLDNUMBER]", old)
        .replace("[INVOICENO]", new)
}

/// [I] `/quotes/archived` exists like `/orders/archived` (the page cannot confirm it).
pub(super) const QUOTES_ARCHIVED: bool = true;

// [I] What moves a document to `archived` is not modelled (booking an invoice made from an
// order would): only seeded documents are archived.

/// [I] `inventory.orderedByCustomers` counts the product's quantities on draft and sent
/// orders; `available` = `inStock` − `orderedByCustomers`; booking an invoice lowers
/// `inStock` and bumps the product's `lastUpdated` (one product webhook each).
pub(super) const BOOKING_MOVES_STOCK: bool = true;

/// [I] A write whose `Content-Type` is not JSON answers 415.
pub(super) const WRITES_NEED_JSON: bool = true;
