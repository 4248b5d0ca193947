//! Vendor timestamps, parsed in one place.

use chrono::{DateTime, NaiveDateTime, Utc};

/// RFC 3339 / ISO 8601 with offset (Clientify), or `YYYY-MM-DD HH:MM:SS` taken as UTC
/// (Alegra; its time zone is not documented — see the vendor-apis page).
pub fn parse_vendor_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg10_vendor_timestamps_parse() {
        let a = parse_vendor_time("2026-11-22T10:11:12.123456+02:00").unwrap();
        assert_eq!(a.to_rfc3339(), "2026-11-22T08:11:12.123456+00:00");
        let b = parse_vendor_time("2026-11-22 10:11:12").unwrap();
        assert_eq!(b.to_rfc3339(), "2026-11-22T10:11:12+00:00");
        assert!(parse_vendor_time("yesterday").is_none());
    }
}
