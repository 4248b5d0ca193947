//! Helpers shared by the DynamoDB and SQS adapters: item keys, attribute conversions,
//! timestamps and error mapping.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use puente_store::{StoreError, StoreResult};

/// One DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// A `Backend` error naming the failed call, with the SDK error's whole source chain
/// (the plain `Display` of an SDK error is just "service error").
pub(crate) fn backend(op: &str, e: impl std::error::Error) -> StoreError {
    StoreError::Backend(format!("{op}: {}", DisplayErrorContext(e)))
}

/// A partition or sort key from a type prefix and parts, e.g. `LINK#acme#contact`.
/// `%` and `#` inside parts are escaped, so different parts never give the same key.
pub(crate) fn key(prefix: &str, parts: &[&str]) -> String {
    let mut out = String::from(prefix);
    for p in parts {
        out.push('#');
        out.push_str(&escape(p));
    }
    out
}

fn escape(s: &str) -> Cow<'_, str> {
    if s.contains(['%', '#']) {
        Cow::Owned(s.replace('%', "%25").replace('#', "%23"))
    } else {
        Cow::Borrowed(s)
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn map_attr(m: &BTreeMap<String, String>) -> AttributeValue {
    AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

fn malformed(name: &str) -> StoreError {
    StoreError::Backend(format!(
        "malformed item: attribute {name:?} missing or mistyped"
    ))
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> StoreResult<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| malformed(name))
}

pub(crate) fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> StoreResult<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| malformed(name))
}

pub(crate) fn get_map(item: &Item, name: &str) -> StoreResult<BTreeMap<String, String>> {
    let m = item
        .get(name)
        .and_then(|v| v.as_m().ok())
        .ok_or_else(|| malformed(name))?;
    m.iter()
        .map(|(k, v)| {
            v.as_s()
                .map(|v| (k.clone(), v.clone()))
                .map_err(|_| malformed(name))
        })
        .collect()
}

pub(crate) fn get_list(item: &Item, name: &str) -> StoreResult<Vec<String>> {
    let l = item
        .get(name)
        .and_then(|v| v.as_l().ok())
        .ok_or_else(|| malformed(name))?;
    l.iter()
        .map(|v| v.as_s().cloned().map_err(|_| malformed(name)))
        .collect()
}

/// Fixed-width RFC 3339 UTC with nanoseconds: lossless, and sorts as text.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

pub(crate) fn parse_ts(v: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Backend(format!("malformed timestamp {v:?}: {e}")))
}

/// The latest instant the stores represent (4-digit years).
fn far_future() -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .map(|t| t.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `now + ttl`, saturating instead of overflowing on absurd durations.
pub(crate) fn deadline(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .map_or_else(far_future, |t| t.min(far_future()))
}

/// The DynamoDB TTL attribute value for an expiry: epoch seconds, rounded up so TTL
/// never deletes an item before it expired (reads still filter on the exact expiry,
/// because TTL deletes lazily, up to days later).
pub(crate) fn ttl_secs(t: DateTime<Utc>) -> i64 {
    let secs = t.timestamp();
    if t.timestamp_subsec_nanos() > 0 {
        secs + 1
    } else {
        secs
    }
}

/// Whole seconds for an SQS timeout: rounded up (a message must never become visible
/// before the caller asked), capped at SQS's 12 hours.
pub(crate) fn whole_secs(d: Duration) -> i32 {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    secs.min(43_200) as i32
}

/// Message ids: the same generator as the local stores.
pub(crate) use puente_store::util::token;

/// A stable 128-bit FNV-1a hash in hex (the same in every process and build, unlike
/// std's hashers), for ids that must be shortened or made safe.
pub(crate) fn stable_hash(v: &str) -> String {
    let mut h: u128 = 0x6c62272e07bb014262b821756295c58d;
    for b in v.as_bytes() {
        h ^= u128::from(*b);
        h = h.wrapping_mul(0x0000000001000000000000000000013b);
    }
    format!("{h:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_escape_separators() {
        assert_eq!(key("LINK", &["acme", "contact"]), "LINK#acme#contact");
        assert_ne!(key("X", &["a#b", "c"]), key("X", &["a", "b#c"]));
        assert_eq!(key("X", &["50%#"]), "X#50%25%23");
    }

    #[test]
    fn timestamps_roundtrip_and_ttl_rounds_up() {
        let t = Utc::now();
        assert_eq!(parse_ts(&ts(t)).unwrap(), t);
        let whole = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(ttl_secs(whole), 1_700_000_000);
        assert_eq!(ttl_secs(whole + TimeDelta::milliseconds(1)), 1_700_000_001);
        assert_eq!(deadline(t, Duration::MAX), far_future());
    }

    #[test]
    fn sqs_seconds_round_up() {
        assert_eq!(whole_secs(Duration::ZERO), 0);
        assert_eq!(whole_secs(Duration::from_millis(1)), 1);
        assert_eq!(whole_secs(Duration::from_millis(1000)), 1);
        assert_eq!(whole_secs(Duration::from_millis(1001)), 2);
        assert_eq!(whole_secs(Duration::from_secs(1_000_000)), 43_200);
    }

    #[test]
    fn stable_hash_is_stable() {
        assert_eq!(stable_hash(""), "6c62272e07bb014262b821756295c58d");
        assert_ne!(stable_hash("a"), stable_hash("b"));
        assert_eq!(stable_hash("a").len(), 32);
    }
}
