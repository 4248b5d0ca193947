//! Small helpers shared by the adapters.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// The SQS FIFO deduplication window.
pub(crate) const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);

/// SQS's default `maxReceiveCount` in our templates.
pub(crate) const DEFAULT_MAX_RECEIVES: u32 = 5;

/// The latest instant the stores represent (the fixed-width text form needs 4-digit years).
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

/// A unique, hard-to-guess token for message ids and receipts: process-random seed,
/// wall clock and a counter, so ids stay unique across restarts of a durable store.
pub fn token(prefix: &str) -> String {
    static SEED: OnceLock<u64> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(|| {
        let mut h = RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.write_u32(std::process::id());
        h.finish()
    });
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut h = RandomState::new().build_hasher();
    h.write_u64(seed);
    h.write_u64(n);
    let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!("{prefix}-{nanos:x}-{n:x}-{:016x}", h.finish() ^ seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_saturates() {
        let now = Utc::now();
        assert_eq!(
            deadline(now, Duration::from_secs(1)),
            now + TimeDelta::seconds(1)
        );
        assert_eq!(deadline(now, Duration::MAX), far_future());
    }

    #[test]
    fn tokens_are_unique() {
        let a = token("r");
        let b = token("r");
        assert_ne!(a, b);
        assert!(a.starts_with("r-"));
    }
}
