//! Request statistics and the request log of one sandbox, and the middleware that fills them.
//!
//! Benchmarks and tests read these to count what a sync cost (requests per route, 429s,
//! injected faults) and to check which resource a request reached.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::{lock, Common};

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

/// How many requests [`Recorder::requests`] keeps.
const REQUEST_LOG: usize = 10_000;

/// How many writes with their bodies [`Recorder::writes`] keeps.
const WRITE_LOG: usize = 1_000;

/// Bodies longer than this are not kept whole in the write log.
const WRITE_BODY_MAX: usize = 64 * 1024;

/// The counters and the request log.
pub(crate) struct Recorder {
    slash: Slash,
    stats: Mutex<Stats>,
    /// The most recent requests as received (`METHOD /path?query`, undecoded), for tests
    /// that check which resource a request reached.
    requests: Mutex<VecDeque<String>>,
    /// The most recent writes (POST/PUT/PATCH/DELETE; not those refused with 429) with their
    /// bodies, in the order they were answered, for tests that
    /// check what a connector sent (an update sends only what changed).
    writes: Mutex<VecDeque<(String, String)>>,
}

impl Recorder {
    pub(crate) fn new(slash: Slash) -> Self {
        Recorder {
            slash,
            stats: Mutex::new(Stats::default()),
            requests: Default::default(),
            writes: Default::default(),
        }
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.stats).clone()
    }

    pub(crate) fn reset(&self) {
        *lock(&self.stats) = Stats::default();
        lock(&self.requests).clear();
        lock(&self.writes).clear();
    }

    /// The most recent writes (see the field), oldest first.
    pub(crate) fn writes(&self) -> Vec<(String, String)> {
        lock(&self.writes).iter().cloned().collect()
    }

    fn log_write(&self, line: String, body: String) {
        let mut log = lock(&self.writes);
        if log.len() >= WRITE_LOG {
            log.pop_front();
        }
        log.push_back((line, body));
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

    fn log(&self, line: String) {
        let mut log = lock(&self.requests);
        if log.len() >= REQUEST_LOG {
            log.pop_front();
        }
        log.push_back(line);
    }

    /// Counts one vendor-level call carried inside a request under `key` in `by_route`.
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
    let rec = &common.recorder;
    rec.record(req.method().as_str(), &path);
    let line = format!("{} {}", req.method(), req.uri());
    rec.log(line.clone());
    let mut write = None;
    let req = if matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    ) {
        let (parts, body) = req.into_parts();
        // Buffered here and handed on unchanged (signatures over the body still hold).
        let bytes = axum::body::to_bytes(body, usize::MAX)
            .await
            .unwrap_or_default();
        let kept = &bytes[..bytes.len().min(WRITE_BODY_MAX)];
        write = Some(String::from_utf8_lossy(kept).into_owned());
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };
    let resp = next.run(req).await;
    if resp.status() == StatusCode::TOO_MANY_REQUESTS {
        // Refused before it was looked at: nothing was written.
        rec.record_limited();
    } else if let Some(body) = write {
        rec.log_write(line, body);
    }
    resp
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
}
