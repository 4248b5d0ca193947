//! The HMAC signatures vendors put on what they send, so a sandbox can sign its webhook
//! deliveries and responses and check signed requests, the way the real vendor does:
//!
//! - hex HMAC-SHA512: CCV Shop's `x-hash`, over `public|METHOD|uri|body|x-date` on API
//!   requests and on its responses (the official SDK refuses an unsigned response), over
//!   `uri|body` on its calls to an app, and (by default) on its webhook deliveries;
//! - base64 HMAC-SHA256 of the raw body: Shopify's `X-Shopify-Hmac-Sha256` and WooCommerce's
//!   `X-WC-Webhook-Signature`.
//!
//! Verification compares in constant time (`Mac::verify_slice`), as the vendors tell their
//! clients to.

// The base64 SHA-256 helpers wait for the Shopify and WooCommerce sandboxes; only tests use them.
#![cfg_attr(not(test), allow(dead_code))]

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Sha256, Sha512};

fn mac<M: Mac + KeyInit>(key: &[u8], msg: &[u8]) -> M {
    let mut m = <M as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(msg);
    m
}

/// Hex (lower case) HMAC-SHA512 of `msg` under `key`.
pub(crate) fn hmac_sha512_hex(key: &[u8], msg: &[u8]) -> String {
    hex::encode(mac::<Hmac<Sha512>>(key, msg).finalize().into_bytes())
}

/// Whether `sig` (hex, either case) is the HMAC-SHA512 of `msg` under `key`.
pub(crate) fn verify_hmac_sha512_hex(key: &[u8], msg: &[u8], sig: &str) -> bool {
    hex::decode(sig.trim())
        .is_ok_and(|tag| mac::<Hmac<Sha512>>(key, msg).verify_slice(&tag).is_ok())
}

/// Base64 (standard alphabet, padded) HMAC-SHA256 of `msg` under `key`.
pub(crate) fn hmac_sha256_base64(key: &[u8], msg: &[u8]) -> String {
    STANDARD.encode(mac::<Hmac<Sha256>>(key, msg).finalize().into_bytes())
}

/// Whether `sig` (base64) is the HMAC-SHA256 of `msg` under `key`.
pub(crate) fn verify_hmac_sha256_base64(key: &[u8], msg: &[u8], sig: &str) -> bool {
    STANDARD
        .decode(sig.trim())
        .is_ok_and(|tag| mac::<Hmac<Sha256>>(key, msg).verify_slice(&tag).is_ok())
}

/// `parts` joined with `|`, byte for byte: the message CCV Shop signs
/// (`public|METHOD|uri|body|x-date`, or `uri|body` on calls to an app).
pub(crate) fn pipe_joined(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&b'|')
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test case 2, recomputed with
    /// `printf '%s' 'what do ya want for nothing?' | openssl dgst -sha512 -hmac 'Jefe'`
    /// → `SHA2-512(stdin)= 164b7a7bfcf819e2…38bce737` and
    /// `printf '%s' 'what do ya want for nothing?' | openssl dgst -sha256 -hmac 'Jefe' -binary | base64`
    /// → `W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM=`.
    #[test]
    fn rfc_4231_vectors() {
        let msg = b"what do ya want for nothing?";
        assert_eq!(
            hmac_sha512_hex(b"Jefe", msg),
            "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554\
             9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
        );
        assert_eq!(
            hmac_sha256_base64(b"Jefe", msg),
            "W9zBRr9gdU5qBCQmCJV1x1oAPwidJzmDnexYuWTsOEM="
        );
    }

    /// A CCV `GET` as its SDK signs it (empty body between the pipes):
    /// `printf '%s' 'pk_live_3f9a|GET|/api/rest/v1/orders?start=0&size=25||2026-01-02T10:00:00+00:00' | openssl dgst -sha512 -hmac 'sk_sandbox_secret'`
    /// → `SHA2-512(stdin)= 76cfd46af87705cd…eff314a59` (the same from Python's
    /// `hmac.new(key, msg, hashlib.sha512).hexdigest()`).
    #[test]
    fn ccv_request_hash() {
        let msg = pipe_joined(&[
            b"pk_live_3f9a",
            b"GET",
            b"/api/rest/v1/orders?start=0&size=25",
            b"",
            b"2026-01-02T10:00:00+00:00",
        ]);
        let want = "76cfd46af87705cd535c7c9b571a8efc1dfd345526eb535fb99dcfa024a25b61\
                    1d33ccb18e358fedc43c1d85497b6cfcd84ad36b8873c8d04e57568eff314a59";
        assert_eq!(hmac_sha512_hex(b"sk_sandbox_secret", &msg), want);
        assert!(verify_hmac_sha512_hex(b"sk_sandbox_secret", &msg, want));
        assert!(verify_hmac_sha512_hex(
            b"sk_sandbox_secret",
            &msg,
            &want.to_uppercase()
        ));
        assert!(!verify_hmac_sha512_hex(b"other", &msg, want));
        assert!(!verify_hmac_sha512_hex(
            b"sk_sandbox_secret",
            b"tampered",
            want
        ));
        assert!(!verify_hmac_sha512_hex(
            b"sk_sandbox_secret",
            &msg,
            "not hex"
        ));
    }

    /// A CCV call to an app (install handshake), keyed by the app secret:
    /// `printf '%s' 'https://app.example/Handshake.php|{"api_public":"pk","api_secret":"sk"}' | openssl dgst -sha512 -hmac 'app_secret'`
    /// → `SHA2-512(stdin)= 94c1aa741769eb19…7e38daf4c0`.
    #[test]
    fn ccv_app_call_hash() {
        let msg = pipe_joined(&[
            b"https://app.example/Handshake.php",
            br#"{"api_public":"pk","api_secret":"sk"}"#,
        ]);
        assert_eq!(
            hmac_sha512_hex(b"app_secret", &msg),
            "94c1aa741769eb195a110957657a1c80d6d8c1598860f4aa0143364066e31f9e\
             80cd2fe60e4c94faa3f111407d1454527991d64eccd594b6a250807e38daf4c0"
        );
    }

    /// Shopify and WooCommerce sign the raw body:
    /// `printf '%s' '{"id":820982911946154508,"email":"jon@example.com"}' | openssl dgst -sha256 -hmac 'hush' -binary | base64`
    /// → `D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=`;
    /// `printf '%s' '{"id":727,"status":"processing","total":"29.35"}' | openssl dgst -sha256 -hmac 'wc_secret_1' -binary | base64`
    /// → `/SdQ14VXuM/mOEXOIYsRfGW8lESYOXWI/5ajxskmsQM=`.
    #[test]
    fn body_signatures_in_base64() {
        let shopify = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
        let sig = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=";
        assert_eq!(hmac_sha256_base64(b"hush", shopify), sig);
        assert!(verify_hmac_sha256_base64(b"hush", shopify, sig));
        assert!(!verify_hmac_sha256_base64(b"hush", b"{\"id\":1}", sig));
        assert!(!verify_hmac_sha256_base64(b"hush", shopify, "%%%"));
        let woo = br#"{"id":727,"status":"processing","total":"29.35"}"#;
        assert_eq!(
            hmac_sha256_base64(b"wc_secret_1", woo),
            "/SdQ14VXuM/mOEXOIYsRfGW8lESYOXWI/5ajxskmsQM="
        );
    }
}
