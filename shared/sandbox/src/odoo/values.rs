//! Scalar helpers: Odoo's datetime formats, what PostgreSQL casts to a timestamp, Python
//! truthiness, cents rounding, SQL `LIKE`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::fault::{value_err, Fault};

const DT: &str = "%Y-%m-%d %H:%M:%S";

/// Odoo's datetime read format (seconds, UTC).
pub(super) fn fmt_dt(t: NaiveDateTime) -> String {
    t.format(DT).to_string()
}

/// `write_date`/`create_date` storage: microseconds [§3].
pub(super) fn fmt_dt_micro(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
}

/// A stored datetime string (with or without fraction).
pub(super) fn parse_stored_dt(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .ok()
        .or_else(|| NaiveDateTime::parse_from_str(s, DT).ok())
}

/// `fields.Datetime.to_datetime` [src]: a date alone is midnight, otherwise
/// the first 19 characters must be `YYYY-MM-DD HH:MM:SS`.
pub(super) fn to_datetime(s: &str) -> Result<NaiveDateTime, Fault> {
    let s = s.trim();
    if s.len() == 10 {
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return Ok(d.and_hms_opt(0, 0, 0).unwrap_or_default());
        }
    }
    let head: String = s.chars().take(19).collect();
    NaiveDateTime::parse_from_str(&head, DT)
        .map_err(|_| value_err(format!("time data '{head}' does not match format '{DT}'")))
}

pub(super) fn to_date(s: &str) -> Result<NaiveDate, Fault> {
    let head: String = s.trim().chars().take(10).collect();
    NaiveDate::parse_from_str(&head, "%Y-%m-%d").map_err(|_| {
        value_err(format!(
            "time data '{head}' does not match format '%Y-%m-%d'"
        ))
    })
}

/// What PostgreSQL accepts as a timestamp literal in a domain [§3]: dates,
/// `T` or space, fractions, an optional `Z`, and `now`/`today`/`yesterday`/
/// `tomorrow`.
pub(super) fn pg_timestamp(s: &str, now: DateTime<Utc>) -> Option<NaiveDateTime> {
    let t = s.trim();
    let midnight = now.date_naive().and_hms_opt(0, 0, 0)?;
    match t.to_ascii_lowercase().as_str() {
        "now" => return Some(now.naive_utc()),
        "today" => return Some(midnight),
        "yesterday" => return Some(midnight - TimeDelta::days(1)),
        "tomorrow" => return Some(midnight + TimeDelta::days(1)),
        _ => {}
    }
    let t = t.trim_end_matches('Z').trim_end_matches("+00:00");
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(v) = NaiveDateTime::parse_from_str(t, f) {
            return Some(v);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// Rounds half away from zero to cents, tolerant of binary noise
/// (`float_round` with the currency's 0.01 rounding).
pub(super) fn round2(x: f64) -> f64 {
    let y = x * 100.0;
    let r = (y + y.signum() * 1e-7).round();
    r / 100.0
}

pub(super) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(true) => true,
    }
}

pub(super) fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap_or(0.0),
        Value::Bool(true) => 1.0,
        _ => 0.0,
    }
}

pub(super) fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub(super) fn ids_of(v: &Value) -> Vec<i64> {
    match v {
        Value::Array(a) => a.iter().filter_map(Value::as_i64).collect(),
        Value::Number(n) => n.as_i64().into_iter().collect(),
        _ => Vec::new(),
    }
}

pub(super) fn fnum(x: f64) -> Value {
    json!(x)
}

/// SQL `LIKE` with `%`, `_` and `\` escapes.
pub(super) fn sql_like(pattern: &str, text: &str, insensitive: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if insensitive {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&p[1..], &t[i..])),
            Some('_') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;

    #[test]
    fn like_patterns_follow_sql() {
        assert!(sql_like("%ana%", "Mariana", false));
        assert!(sql_like("%ANA%", "Mariana", true));
        assert!(!sql_like("%ANA%", "Mariana", false));
        assert!(sql_like("B_2%", "B12345", false));
        assert!(!sql_like("a\\%", "ab", false));
        assert!(sql_like("a\\%", "a%", false));
    }

    #[test]
    fn amounts_round_half_up_per_line() {
        assert_eq!(round2(37.5 * 0.15), 5.63);
        assert_eq!(round2(2.675), 2.68);
        assert_eq!(round2(-1.005), -1.01);
    }

    #[test]
    fn domain_timestamps_accept_what_postgres_casts() {
        let now = DateTime::parse_from_rfc3339("2026-11-22T17:57:44Z")
            .unwrap()
            .with_timezone(&Utc);
        for s in [
            "2020-01-01",
            "2020-01-01 00:00:00",
            "2020-01-01T00:00:00",
            "2020-01-01 00:00:00.123456",
        ] {
            assert!(pg_timestamp(s, now).is_some(), "{s}");
        }
        assert_eq!(
            pg_timestamp("yesterday", now).unwrap().to_string(),
            "2026-11-21 00:00:00"
        );
        assert!(pg_timestamp("someday", now).is_none());
        assert!(to_datetime("2026-01-01T10:00:00").is_err());
        assert_eq!(
            to_datetime("2026-01-01").unwrap().to_string(),
            "2026-01-01 00:00:00"
        );
    }
}
