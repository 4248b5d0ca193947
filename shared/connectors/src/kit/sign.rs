//! Webhook signatures vendors put over the raw body, checked in constant time
//! (`Mac::verify_slice`): base64 HMAC-SHA256 (Shopify's `X-Shopify-Hmac-Sha256`,
//! WooCommerce's `X-WC-Webhook-Signature`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Whether `sig` (base64, standard alphabet) is the HMAC-SHA256 of `body` under `key`.
/// The comparison is constant-time; a signature that is not base64 is simply wrong.
pub fn verify_hmac_sha256_base64(key: &[u8], body: &[u8], sig: &str) -> bool {
    let Ok(tag) = STANDARD.decode(sig.trim()) else {
        return false;
    };
    let Ok(mut m) = <Hmac<Sha256> as KeyInit>::new_from_slice(key) else {
        return false;
    };
    m.update(body);
    m.verify_slice(&tag).is_ok()
}

/// The base64 HMAC-SHA256 of `body` under `key` (for tests and for vendors that sign
/// what Puente sends).
pub fn hmac_sha256_base64(key: &[u8], body: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    m.update(body);
    STANDARD.encode(m.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vector computed outside this code:
    /// `printf '%s' '{"id":1}' | openssl dgst -sha256 -hmac 'shpss_test' -binary | base64`
    /// → `1GxccvotnkOedTjSm8S0m/VA3yAUKshyqT52ccNYHj4=` (see `tests/vectors/README.md`).
    #[test]
    fn a_signature_from_openssl_verifies_and_a_changed_body_does_not() {
        let sig = include_str!("../../tests/vectors/hmac_sha256_id1.txt").trim();
        assert!(verify_hmac_sha256_base64(
            b"shpss_test",
            br#"{"id":1}"#,
            sig
        ));
        assert!(!verify_hmac_sha256_base64(
            b"shpss_test",
            br#"{"id":2}"#,
            sig
        ));
        assert!(!verify_hmac_sha256_base64(b"other", br#"{"id":1}"#, sig));
        assert!(!verify_hmac_sha256_base64(
            b"shpss_test",
            br#"{"id":1}"#,
            "not base64!"
        ));
        assert_eq!(hmac_sha256_base64(b"shpss_test", br#"{"id":1}"#), sig);
    }
}
