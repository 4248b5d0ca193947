//! Pieces shared by both sandboxes: the per-sandbox clock, request
//! statistics, the `/_sandbox/*` control routes and small response helpers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::faults::{FaultState, Faults, Vendor};

/// Request counters of one sandbox (also served at `GET /_sandbox/stats`).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// Every request that reached the router, `/_sandbox/*` excluded.
    pub total: u64,
    /// Per HTTP method.
    pub by_method: BTreeMap<String, u64>,
    /// Per `"METHOD /path"` with numeric or uuid segments replaced by `{id}`.
    pub by_route: BTreeMap<String, u64>,
    /// Requests answered with 429.
    pub rate_limited: u64,
    /// Injected faults by kind (`error_5xx`, `burst_429`, `reset`, `timeout`,
    /// `lost_response`); faulted requests are counted above too.
    #[serde(default)]
    pub faults: BTreeMap<String, u64>,
}

/// How a vendor spells its paths, for canonical stats keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slash {
    /// Django style: `/v1/contacts/`.
    Always,
    /// PHP style: `/api/v1/contacts`.
    Never,
}

/// Sandbox clock: wall clock plus an offset moved by `advance_clock`.
struct Clock {
    offset: TimeDelta,
    /// Last timestamp handed out by [`Common::stamp`].
    last: Option<DateTime<Utc>>,
}

/// State every sandbox has, whatever the vendor.
pub(crate) struct Common {
    clock: Mutex<Clock>,
    stats: Mutex<Stats>,
    /// `http://127.0.0.1:PORT`, used when a request has no `Host` header.
    pub root_url: String,
    slash: Slash,
    /// Whose error shapes injected faults imitate.
    pub(crate) vendor: Vendor,
    pub(crate) faults: Mutex<FaultState>,
    /// Outgoing webhooks (see `webhooks`).
    pub(crate) outbox: crate::webhooks::Outbox,
    /// Where Clientify posts its webhooks (none: off) and in which shape.
    pub(crate) hook: Mutex<(Option<String>, crate::webhooks::WebhookShape)>,
    /// The most recent requests as received (`METHOD /path?query`, undecoded), for tests
    /// that check which resource a request reached.
    requests: Mutex<std::collections::VecDeque<String>>,
}

/// How many requests [`Common::requests`] keeps.
const REQUEST_LOG: usize = 10_000;

/// Locks a mutex, ignoring poisoning (a panicking handler must not take the
/// whole sandbox down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Common {
    pub(crate) fn new(root_url: String, slash: Slash, vendor: Vendor, faults: Faults) -> Self {
        Common {
            clock: Mutex::new(Clock {
                offset: TimeDelta::zero(),
                last: None,
            }),
            stats: Mutex::new(Stats::default()),
            root_url,
            slash,
            vendor,
            faults: Mutex::new(FaultState::new(faults)),
            outbox: Default::default(),
            hook: Mutex::new((None, Default::default())),
            requests: Default::default(),
        }
    }

    /// Current sandbox time (microsecond resolution).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        let off = lock(&self.clock).offset;
        truncate_micros(Utc::now() + off)
    }

    /// A write timestamp: the sandbox time, but strictly later than any
    /// timestamp handed out before (1 µs later on a tie), so that ordering
    /// by modification time is total.
    pub(crate) fn stamp(&self) -> DateTime<Utc> {
        let mut c = lock(&self.clock);
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
        let mut c = lock(&self.clock);
        if c.last.is_none_or(|l| l < t) {
            c.last = Some(t);
        }
    }

    pub(crate) fn advance(&self, secs: i64) {
        let mut c = lock(&self.clock);
        c.offset += TimeDelta::seconds(secs);
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.requests).clear();
    }

    /// The most recent requests (see the field), oldest first.
    pub(crate) fn requests(&self) -> Vec<String> {
        lock(&self.requests).iter().cloned().collect()
    }

    fn record(&self, method: &str, path: &str) {
        let key = format!("{method} {}", route_key(path, self.slash));
        let mut s = lock(&self.stats);
        s.total += 1;
        *s.by_method.entry(method.to_string()).or_default() += 1;
        *s.by_route.entry(key).or_default() += 1;
    }

    /// Counts one vendor-level call carried inside a request (Odoo's
    /// `object.execute_kw` and friends) under `key` in `by_route`. The HTTP
    /// request itself is already counted by [`count_requests`]; `total` and
    /// `by_method` stay per HTTP request.
    pub(crate) fn record_call(&self, key: &str) {
        *lock(&self.stats)
            .by_route
            .entry(key.to_string())
            .or_default() += 1;
    }

    pub(crate) fn record_fault(&self, kind: &str) {
        *lock(&self.stats)
            .faults
            .entry(kind.to_string())
            .or_default() += 1;
    }

    fn record_limited(&self) {
        lock(&self.stats).rate_limited += 1;
    }
}

fn truncate_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// True for a path segment that is an object id: all digits, or a uuid.
fn is_id_segment(s: &str) -> bool {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `"/v1/contacts/12"` → `"/v1/contacts/{id}/"` (Clientify) and
/// `"/api/v1/contacts/3/"` → `"/api/v1/contacts/{id}"` (Alegra): ids become
/// `{id}` and the trailing slash follows the vendor's canonical spelling,
/// so a route counts the same with or without it.
pub(crate) fn route_key(path: &str, slash: Slash) -> String {
    let segs: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| if is_id_segment(s) { "{id}" } else { s })
        .collect();
    let mut out = String::from("/");
    out.push_str(&segs.join("/"));
    if slash == Slash::Always && !segs.is_empty() {
        out.push('/');
    }
    out
}

/// Outermost middleware: counts every request except `/_sandbox/*`, and
/// every 429 answer.
pub(crate) async fn count_requests(
    State(common): State<Arc<Common>>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/_sandbox") {
        return next.run(req).await;
    }
    common.record(req.method().as_str(), &path);
    {
        let mut log = lock(&common.requests);
        if log.len() >= REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(format!("{} {}", req.method(), req.uri()));
    }
    let resp = next.run(req).await;
    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
        common.record_limited();
    }
    resp
}

#[derive(Deserialize)]
struct AdvanceQuery {
    seconds: i64,
}

/// Sandbox-only control routes (not vendor facts; no auth, not counted):
/// `GET /_sandbox/stats` → [`Stats`] JSON, `POST /_sandbox/stats/reset` →
/// 204, `POST /_sandbox/clock/advance?seconds=N` → 200 `{"now": …}`,
/// `GET`/`POST /_sandbox/faults` → the [`Faults`] in force / set them (JSON).
pub(crate) fn control_router(common: Arc<Common>) -> Router {
    Router::new()
        .route(
            "/_sandbox/stats",
            get(|State(c): State<Arc<Common>>| async move { Json(c.stats()) }),
        )
        .route(
            "/_sandbox/stats/reset",
            post(|State(c): State<Arc<Common>>| async move {
                c.reset_stats();
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/_sandbox/faults",
            get(|State(c): State<Arc<Common>>| async move { Json(c.faults()) }).post(
                |State(c): State<Arc<Common>>, Json(f): Json<Faults>| async move {
                    c.set_faults(f.clone());
                    Json(f)
                },
            ),
        )
        .route(
            "/_sandbox/clock/advance",
            post(
                |State(c): State<Arc<Common>>, Query(q): Query<AdvanceQuery>| async move {
                    c.advance(q.seconds);
                    Json(serde_json::json!({ "now": c.now().to_rfc3339() }))
                },
            ),
        )
        .with_state(common)
}

/// A JSON response.
pub(crate) fn json(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
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

/// Value of a query parameter (the last one wins, like PHP and Django's
/// `QueryDict.get`).
pub(crate) fn qget<'a>(q: &'a [(String, String)], key: &str) -> Option<&'a str> {
    q.iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Percent-encoding like Python's `urllib.parse.quote_plus`.
pub(crate) fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Case-insensitive substring test.
pub(crate) fn icontains(hay: &str, needle_lower: &str) -> bool {
    hay.to_lowercase().contains(needle_lower)
}

/// String content of a JSON value, `""` for anything that is not a string.
pub(crate) fn s(v: Option<&Value>) -> &str {
    v.and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_replace_ids_and_follow_vendor_slash() {
        assert_eq!(
            route_key("/v1/contacts/12/tags", Slash::Always),
            "/v1/contacts/{id}/tags/"
        );
        assert_eq!(route_key("/v1/contacts/", Slash::Always), "/v1/contacts/");
        assert_eq!(
            route_key("/api/v1/contacts/7/", Slash::Never),
            "/api/v1/contacts/{id}"
        );
        assert_eq!(
            route_key(
                "/api/v1/x/01959152-fe97-7a6e-a2d5-c0c63e82f80a",
                Slash::Never
            ),
            "/api/v1/x/{id}"
        );
    }

    #[test]
    fn stamps_are_strictly_increasing() {
        let c = Common::new(
            String::new(),
            Slash::Never,
            Vendor::Alegra,
            Faults::default(),
        );
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
