//! Every WooCommerce behaviour this sandbox had to choose because the vendor page
//! (`shared/spec/vendor-apis/shops-accounting.md` §(d)) marks it [I] or leaves it open, in one
//! place so it is easy to correct.

/// [I] The sandbox serves plain HTTP on loopback but plays the HTTPS case of §(d) "Base URL
/// and auth": HTTP Basic `ck:cs` and the `consumer_key`/`consumer_secret` query parameters
/// are both accepted. OAuth 1.0a (WooCommerce's plain-HTTP scheme) is not served.
pub(crate) const HTTPS_AUTH_OVER_LOOPBACK: bool = true;

/// [I] The site's time zone: a fixed +01:00 (Madrid without summer time). `date_*` fields are
/// site-local without offset, `date_*_gmt` UTC.
pub(crate) const SITE_OFFSET_SECS: i32 = 3600;

/// [I] `status=any` (the default) lists every status except `trash`.
pub(crate) const ANY_EXCLUDES: &str = "trash";

/// [C] WooCommerce's `User-Agent` on pings and deliveries (versions [I]).
pub(crate) const USER_AGENT: &str = "WooCommerce/9.5.1 Hookshot (WordPress/6.7.1)";

/// [C] `X-WC-Webhook-Delivery-ID` is `wp_hash(webhook id . time in seconds)`: two deliveries
/// of one webhook in the same second share it. [I] The hash is the first 32 hex digits of a
/// SHA-256 (WordPress uses an MD5 HMAC with the site's salt).
pub(crate) fn delivery_id(webhook: u64, unix_secs: i64) -> String {
    use sha2::{Digest, Sha256};
    let h = Sha256::digest(format!("puente-sandbox-salt{webhook}{unix_secs}").as_bytes());
    hex::encode(h)[..32].to_string()
}

/// [C] A webhook is disabled on its 7th consecutive failed delivery (the docs say 5); the
/// default of `WooConfig::disable_after_failures`.
pub(crate) const DISABLE_AFTER: u32 = 7;

// [I] Deliveries go out right after the write (the real site queues them in Action Scheduler
// and may coalesce rapid updates of one resource within 10 minutes; the sandbox does not):
// `webhooks::fire`.

/// [I] A throttled request (only when `WooConfig::rate_limit` is set: core has no limit, a
/// host may) is a 429 in the WP envelope with this code and a `Retry-After` in seconds.
pub(crate) const TOO_MANY_CODE: &str = "woocommerce_rest_too_many_requests";

// [I] The store's prices exclude tax and no tax is configured: `total_tax` is `"0.00"`
// (`model::Order::render`).

/// [C] Ids: WordPress user ids for customers (1 is the admin), post ids for products and
/// variations, HPOS order ids from 1000 [I], category term ids from 15 (15 is
/// "Uncategorized", the default category every product without one gets) [C].
pub(crate) const UNCATEGORIZED: u64 = 15;
