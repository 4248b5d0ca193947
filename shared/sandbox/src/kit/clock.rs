//! The sandbox clock and the timestamp formats the vendors serve.
//!
//! Each sandbox has its own clock (wall clock plus an offset), so a test can move one vendor
//! forward (`POST /_sandbox/clock/advance`) to expire its rate-limit windows or make its
//! timestamps later, without touching the others.

use std::sync::Mutex;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use super::lock;

struct ClockState {
    offset: TimeDelta,
    /// Last timestamp handed out by [`Clock::stamp`].
    last: Option<DateTime<Utc>>,
}

/// Sandbox clock: wall clock plus an offset moved by `advance_clock`.
pub(crate) struct Clock(Mutex<ClockState>);

impl Default for Clock {
    fn default() -> Self {
        Clock(Mutex::new(ClockState {
            offset: TimeDelta::zero(),
            last: None,
        }))
    }
}

impl Clock {
    /// Current sandbox time (microsecond resolution).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let off = lock(&self.0).offset;
        truncate_micros(Utc::now() + off)
    }

    /// A write timestamp: the sandbox time, but strictly later than any
    /// timestamp handed out before (1 µs later on a tie), so that ordering
    /// by modification time is total.
    pub(crate) fn stamp(&self) -> DateTime<Utc> {
        let mut c = lock(&self.0);
        let mut t = truncate_micros(Utc::now() + c.offset);
        if let Some(last) = c.last {
            if t <= last {
                t = last + TimeDelta::microseconds(1);
            }
        }
        c.last = Some(t);
        t
    }

    /// Makes later stamps strictly greater than `t` (seeded data).
    pub(crate) fn observe(&self, t: DateTime<Utc>) {
        let mut c = lock(&self.0);
        if c.last.is_none_or(|l| l < t) {
            c.last = Some(t);
        }
    }

    /// Moves the clock by `secs` (negative: back).
    pub(crate) fn advance(&self, secs: i64) {
        lock(&self.0).offset += TimeDelta::seconds(secs);
    }
}

fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Clientify/DRF timestamp: `2026-11-22T10:11:12.123456+00:00`.
pub(crate) fn fmt_micros(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
}

/// Alegra/PHP timestamp: `2026-11-22 10:11:12` (UTC).
pub(crate) fn fmt_seconds(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// Parses an ISO-8601 datetime the way Django's `parse_datetime` does
/// (Python `fromisoformat`): offset or `Z`, `T` or space separator, optional
/// fraction; a naive value is taken as UTC and a bare date as midnight UTC.
pub(crate) fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_strictly_increasing() {
        let c = Clock::default();
        let mut prev = c.stamp();
        for _ in 0..1000 {
            let t = c.stamp();
            assert!(t > prev);
            prev = t;
        }
        c.advance(3600);
        assert!(c.now() - prev > TimeDelta::seconds(3590));
    }

    #[test]
    fn iso_parsing_accepts_django_forms() {
        assert!(parse_iso("2026-01-02T03:04:05.123456+02:00").is_some());
        assert!(parse_iso("2026-01-02T03:04:05Z").is_some());
        assert!(parse_iso("2026-01-02 03:04:05").is_some());
        assert!(parse_iso("2026-01-02").is_some());
        // An unencoded '+' arrives as a space: Django rejects it too.
        assert!(parse_iso("2026-01-02T03:04:05 00:00").is_none());
        assert!(parse_iso("yesterday").is_none());
    }
}
