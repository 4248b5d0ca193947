//! The HTTP layer every connector shares: auth, retries with backoff, rate-limit pacing,
//! a per-connection call budget and call counting.
//!
//! Retry rules (issue 2, item 5):
//! - 429: the request was not processed, so any method may be retried; wait `Retry-After`,
//!   else `X-Rate-Limit-Reset` (Alegra), else exponential backoff.
//! - 5xx, timeouts and connection resets: GET/PUT/DELETE are retried with backoff; a POST is
//!   not, because it may have been applied: it fails as [`ConnectorError::Ambiguous`] and the
//!   runtime looks the record up by its natural key before trying again.
//! - A refused connection sent nothing, so it is retried for every method.
//! - [`Http::post_idempotent`] is a POST the caller vouches for (RPC reads, e.g. Odoo's
//!   `search_read`): it follows the GET rules.
//! - When a response says no requests remain in the window (`X-Rate-Limit-Remaining: 0`), the
//!   next call waits for the reset instead of provoking a 429.

use crate::error::ConnectorError;
use crate::kit::hooks::{header_u64, HttpHooks, NoHooks, Outgoing, Pace};
use crate::kit::oauth::TokenSource;
use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a connection authenticates.
#[derive(Clone)]
pub enum Auth {
    /// `Authorization: Token <key>` (Clientify).
    Token(String),
    /// HTTP Basic `user:password` (Alegra: email + API token).
    Basic(String, String),
    /// `Authorization: Bearer <token>` from a source that renews it: after a 401 the
    /// token is dropped and the call is made once more with a fresh one.
    Bearer(Arc<dyn TokenSource>),
    /// Fixed headers (e-conomic's two token headers, Shopify's access-token header).
    Headers(Vec<(String, String)>),
    /// No HTTP-level credentials: they travel in the body (Odoo RPC).
    None,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets, not even in debug output.
        match self {
            Auth::Token(_) => f.write_str("Token(***)"),
            Auth::Basic(u, _) => write!(f, "Basic({u}:***)"),
            Auth::Bearer(_) => f.write_str("Bearer(***)"),
            Auth::Headers(h) => write!(
                f,
                "Headers({})",
                h.iter()
                    .map(|(k, _)| format!("{k}: ***"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Auth::None => f.write_str("None"),
        }
    }
}

/// Retry and pacing policy of a connection.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Retries after the first attempt for transient failures (5xx, timeouts, refused).
    pub max_retries: usize,
    /// Retries after 429 answers (a storm can last a whole rate window).
    pub max_rate_limit_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// The longest wait a vendor's `Retry-After`/reset header may impose.
    pub max_header_wait: Duration,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            max_rate_limit_retries: 8,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(8),
            max_header_wait: Duration::from_secs(65),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Counts of calls a connection made, by method, plus retries and 429s.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CallStats {
    pub total: u64,
    pub by_method: BTreeMap<String, u64>,
    pub retries: u64,
    pub rate_limited: u64,
}

impl CallStats {
    /// The calls made since `earlier` was taken (per-run figures from cumulative counters).
    pub fn since(&self, earlier: &CallStats) -> CallStats {
        let mut by_method = self.by_method.clone();
        for (m, n) in &earlier.by_method {
            if let Some(v) = by_method.get_mut(m) {
                *v = v.saturating_sub(*n);
            }
        }
        by_method.retain(|_, v| *v > 0);
        CallStats {
            total: self.total.saturating_sub(earlier.total),
            by_method,
            retries: self.retries.saturating_sub(earlier.retries),
            rate_limited: self.rate_limited.saturating_sub(earlier.rate_limited),
        }
    }
}

#[derive(Default)]
struct Counters {
    total: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    by_method: Mutex<BTreeMap<String, u64>>,
}

/// An authenticated JSON client for one vendor connection.
pub struct Http {
    system: String,
    base: String,
    auth: Auth,
    client: reqwest::Client,
    policy: RetryPolicy,
    counters: Counters,
    budget: Option<u64>,
    budget_used: AtomicU64,
    /// Do not send before this instant (the vendor said the window is spent).
    pace_until: Mutex<Option<Instant>>,
    /// The vendor's signing, response checks and rate-limit headers.
    hooks: Arc<dyn HttpHooks>,
}

/// A decoded answer.
pub struct Answer {
    pub status: StatusCode,
    /// The answer's headers (rate limits, `Link` paging, signatures).
    pub headers: HeaderMap,
    pub body: Value,
}

impl Http {
    pub fn new(system: &str, base: &str, auth: Auth, policy: RetryPolicy) -> Http {
        let client = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.connect_timeout)
            .user_agent(concat!("puente/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("reqwest client builds with static settings");
        Http {
            system: system.to_string(),
            base: base.trim_end_matches('/').to_string(),
            auth,
            client,
            policy,
            counters: Counters::default(),
            budget: None,
            budget_used: AtomicU64::new(0),
            pace_until: Mutex::new(None),
            hooks: Arc::new(NoHooks),
        }
    }

    /// The vendor's additions to every call (see [`HttpHooks`]).
    pub fn with_hooks(mut self, hooks: Arc<dyn HttpHooks>) -> Http {
        self.hooks = hooks;
        self
    }

    /// Caps the calls of one run (see [`Http::reset_budget`]).
    pub fn with_budget(mut self, budget: Option<u64>) -> Http {
        self.budget = budget;
        self
    }

    pub fn reset_budget(&self) {
        self.budget_used.store(0, Ordering::Relaxed);
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn system(&self) -> &str {
        &self.system
    }

    pub fn stats(&self) -> CallStats {
        CallStats {
            total: self.counters.total.load(Ordering::Relaxed),
            by_method: self.counters.by_method.lock().expect("stats lock").clone(),
            retries: self.counters.retries.load(Ordering::Relaxed),
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
        }
    }

    /// Absolute URL for `path` (relative to the base) or an absolute URL as is (DRF `next`).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else {
            format!("{}/{}", self.base, path.trim_start_matches('/'))
        }
    }

    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer, ConnectorError> {
        self.send(Method::GET, path, query, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.send(Method::POST, path, &[], Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.send(Method::PUT, path, &[], Some(body)).await
    }

    /// A POST the caller knows is safe to repeat (a read, or a write that sets absolute
    /// values): retried on 5xx, timeouts and resets like a GET instead of failing as
    /// [`ConnectorError::Ambiguous`]. RPC protocols (Odoo) send every call as a POST.
    pub async fn post_idempotent(
        &self,
        path: &str,
        body: &Value,
    ) -> Result<Answer, ConnectorError> {
        self.send_as(Method::POST, path, &[], Some(body), &[], true)
            .await
    }

    /// Sends with the retry rules in the module doc. Non-2xx answers become errors, except
    /// that a 404 is returned as `NotFound` so callers can decide what absence means.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        self.send_with(method, path, query, body, &[]).await
    }

    /// [`Http::send`] with request headers of the caller's (a vendor's `Accept`, an
    /// idempotency key); the answer's headers come back in [`Answer::headers`].
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        headers: &[(&str, String)],
    ) -> Result<Answer, ConnectorError> {
        let idempotent = method != Method::POST;
        self.send_as(method, path, query, body, headers, idempotent)
            .await
    }

    /// [`Http::send`] with the caller's word on whether a repeat is harmless.
    async fn send_as(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
        extra_headers: &[(&str, String)],
        idempotent: bool,
    ) -> Result<Answer, ConnectorError> {
        // The URL as sent, query included, so a signature covers exactly what goes out.
        let url = {
            let mut u = url::Url::parse(&self.url(path)).map_err(|e| ConnectorError::Decode {
                system: self.system.clone(),
                detail: format!("bad URL for {path}: {e}"),
            })?;
            if !query.is_empty() {
                u.query_pairs_mut()
                    .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
            }
            u
        };
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let body_bytes = body.map(|b| serde_json::to_vec(b).expect("JSON values serialise"));
        let mut token_refreshed = false;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_jitter()
            .without_max_times()
            .build();
        let mut transient_retries = 0usize;
        let mut limited_retries = 0usize;
        loop {
            self.wait_for_pace().await;
            if let Some(limit) = self.budget {
                if self.budget_used.fetch_add(1, Ordering::Relaxed) >= limit {
                    return Err(ConnectorError::Budget {
                        system: self.system.clone(),
                        limit,
                    });
                }
            }
            self.count(&method);
            let mut req = self.client.request(method.clone(), url.clone());
            req = match &self.auth {
                Auth::Token(t) => req.header(AUTHORIZATION, format!("Token {t}")),
                Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
                Auth::Bearer(src) => req.bearer_auth(src.token(&self.client).await?),
                Auth::Headers(h) => h.iter().fold(req, |r, (k, v)| r.header(k, v)),
                Auth::None => req,
            };
            for (k, v) in extra_headers {
                req = req.header(*k, v);
            }
            let outgoing = Outgoing {
                method: &method,
                path_and_query: &path_and_query,
                body: body_bytes.as_deref().unwrap_or_default(),
            };
            for (k, v) in self.hooks.sign(&outgoing) {
                req = req.header(k, v);
            }
            if let Some(b) = &body_bytes {
                req = req.header(CONTENT_TYPE, "application/json").body(b.clone());
            }
            // The body is part of the answer: one that breaks off mid-way is treated like a
            // broken connection (a POST may have been applied: Ambiguous; reads retry).
            let answer = match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let headers = resp.headers().clone();
                    resp.bytes().await.map(|b| (status, headers, b))
                }
                Err(e) => Err(e),
            };
            let delay = match answer {
                Err(e) => {
                    let sent_nothing = e.is_connect() && !e.is_timeout();
                    if !idempotent && !sent_nothing {
                        return Err(ConnectorError::Ambiguous {
                            system: self.system.clone(),
                            detail: describe(&e),
                        });
                    }
                    if transient_retries >= self.policy.max_retries {
                        return Err(ConnectorError::Unreachable {
                            system: self.system.clone(),
                            url: strip_query(url.as_str()),
                            detail: describe(&e),
                        });
                    }
                    transient_retries += 1;
                    backoff.next().unwrap_or(self.policy.max_delay)
                }
                Ok((status, headers, bytes)) => {
                    self.note_rate_headers(&headers);
                    if status.is_success() {
                        self.hooks
                            .verify_response(&outgoing, &headers, &bytes)
                            .map_err(|why| ConnectorError::Decode {
                                system: self.system.clone(),
                                detail: format!(
                                    "{method} {}: the answer's signature does not check out ({why}); not trusted",
                                    strip_query(url.as_str())
                                ),
                            })?;
                        let body = if bytes.is_empty() {
                            Value::Null
                        } else {
                            serde_json::from_slice(&bytes).map_err(|e| ConnectorError::Decode {
                                system: self.system.clone(),
                                detail: format!("{method} {}: {e}", strip_query(url.as_str())),
                            })?
                        };
                        return Ok(Answer {
                            status,
                            headers,
                            body,
                        });
                    }
                    let message = error_message(&bytes);
                    match status.as_u16() {
                        429 => {
                            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                            if limited_retries >= self.policy.max_rate_limit_retries {
                                return Err(ConnectorError::RateLimited {
                                    system: self.system.clone(),
                                    detail: message,
                                });
                            }
                            limited_retries += 1;
                            self.header_wait(&headers)
                                .map(|d| d.min(self.policy.max_header_wait))
                                .unwrap_or_else(|| backoff.next().unwrap_or(self.policy.max_delay))
                        }
                        // A bearer token may have expired before its time: once, a fresh one.
                        401 if matches!(self.auth, Auth::Bearer(_)) && !token_refreshed => {
                            if let Auth::Bearer(src) = &self.auth {
                                src.invalidate();
                            }
                            token_refreshed = true;
                            Duration::ZERO
                        }
                        // A 401/403 that is not JSON came from some other server (a web
                        // page, a proxy's login): the address is wrong, not the credentials.
                        401 | 403 if serde_json::from_slice::<Value>(&bytes).is_err() => {
                            return Err(ConnectorError::Vendor {
                                system: self.system.clone(),
                                status: status.as_u16(),
                                message: format!(
                                    "{} answered HTTP {} with something that is not {}'s API ({message}); \
                                     check the address (base_url or url) in [connections.{}]",
                                    origin(&url),
                                    status.as_u16(),
                                    self.system,
                                    self.system
                                ),
                                transient: false,
                            })
                        }
                        401 | 403 => {
                            return Err(ConnectorError::Auth {
                                system: self.system.clone(),
                                status: status.as_u16(),
                                message,
                                hint: String::new(),
                            })
                        }
                        404 => {
                            return Err(ConnectorError::NotFound {
                                system: self.system.clone(),
                                what: format!("{} ({message})", strip_query(url.as_str())),
                            })
                        }
                        s if s >= 500 => {
                            if !idempotent {
                                return Err(ConnectorError::Ambiguous {
                                    system: self.system.clone(),
                                    detail: format!("HTTP {s}: {message}"),
                                });
                            }
                            if transient_retries >= self.policy.max_retries {
                                return Err(ConnectorError::Vendor {
                                    system: self.system.clone(),
                                    status: s,
                                    message,
                                    transient: true,
                                });
                            }
                            transient_retries += 1;
                            self.header_wait(&headers)
                                .map(|d| d.min(self.policy.max_header_wait))
                                .unwrap_or_else(|| backoff.next().unwrap_or(self.policy.max_delay))
                        }
                        s => {
                            return Err(ConnectorError::Vendor {
                                system: self.system.clone(),
                                status: s,
                                message,
                                transient: false,
                            })
                        }
                    }
                }
            };
            self.counters.retries.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(system = %self.system, %method, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn count(&self, method: &Method) {
        self.counters.total.fetch_add(1, Ordering::Relaxed);
        *self
            .counters
            .by_method
            .lock()
            .expect("stats lock")
            .entry(method.to_string())
            .or_default() += 1;
    }

    async fn wait_for_pace(&self) {
        let until = *self.pace_until.lock().expect("pace lock");
        if let Some(t) = until {
            let now = Instant::now();
            if t > now {
                tokio::time::sleep(t - now).await;
            }
        }
    }

    /// The vendor's rate-limit headers (read by its hooks) decide when the next call goes.
    fn note_rate_headers(&self, headers: &HeaderMap) {
        let mut pace = self.pace_until.lock().expect("pace lock");
        match self.hooks.pace(headers) {
            Pace::Wait(d) => *pace = Some(Instant::now() + d.min(self.policy.max_header_wait)),
            Pace::Clear => *pace = None,
            Pace::Unknown => {}
        }
    }

    /// `Retry-After` (seconds) or, failing that, what the vendor's own headers ask.
    fn header_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        header_u64(headers, "retry-after")
            .map(|s| Duration::from_secs(s.max(1)))
            .or_else(|| self.hooks.retry_wait(headers))
    }
}

/// The vendor's own words from an error body: `{"message"}` (Alegra), `{"detail"}` (DRF),
/// `{"error":{"message"}}`, or DRF field errors `{"field":["msg"]}`.
pub fn error_message(bytes: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else {
        let text = String::from_utf8_lossy(bytes);
        let t: String = text.chars().take(200).collect();
        return if t.trim().is_empty() {
            "(empty body)".into()
        } else {
            t
        };
    };
    if let Some(m) = v.get("message").and_then(Value::as_str) {
        return m.to_string();
    }
    if let Some(m) = v.get("detail").and_then(Value::as_str) {
        return m.to_string();
    }
    if let Some(m) = v.pointer("/error/message").and_then(Value::as_str) {
        return m.to_string();
    }
    if let Some(obj) = v.as_object() {
        let parts: Vec<String> = obj
            .iter()
            .map(|(k, val)| {
                let msgs = match val {
                    Value::Array(a) => a
                        .iter()
                        .map(|x| {
                            x.as_str()
                                .map(str::to_string)
                                .unwrap_or_else(|| x.to_string())
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                format!("{k}: {msgs}")
            })
            .collect();
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    v.to_string()
}

fn describe(e: &reqwest::Error) -> String {
    use std::error::Error;
    let mut s = if e.is_timeout() {
        "timed out".to_string()
    } else if e.is_connect() {
        "connection failed".to_string()
    } else {
        "request failed".to_string()
    };
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// `scheme://host[:port]` of `url`: what was reached, without path or query.
fn origin(url: &reqwest::Url) -> String {
    url.origin().ascii_serialization()
}

fn strip_query(url: &str) -> String {
    url.split('?').next().unwrap_or(url).to_string()
}

/// A shareable handle.
pub type SharedHttp = Arc<Http>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg12_error_messages_keep_the_vendors_words() {
        assert_eq!(
            error_message(br#"{"message":"Too Many request","code":429}"#),
            "Too Many request"
        );
        assert_eq!(
            error_message(br#"{"detail":"Invalid token."}"#),
            "Invalid token."
        );
        assert_eq!(
            error_message(br#"{"first_name":["This field is required."]}"#),
            "first_name: This field is required."
        );
        assert_eq!(error_message(b""), "(empty body)");
    }

    /// A server that answers 200 with a body cut short, counting the requests it got.
    async fn truncating_server() -> (String, Arc<AtomicU64>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hits = Arc::new(AtomicU64::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::Relaxed);
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let _ = sock
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"id\": \"1\"")
                    .await;
                drop(sock);
            }
        });
        (format!("http://{addr}"), hits)
    }

    fn fast_policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 2,
            min_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
            ..RetryPolicy::default()
        }
    }

    #[tokio::test]
    async fn alg12_a_create_whose_answer_breaks_off_is_ambiguous_and_not_retried() {
        let (url, hits) = truncating_server().await;
        let http = Http::new("alegra", &url, Auth::Token("t".into()), fast_policy());
        let err = http
            .post("contacts", &serde_json::json!({"name": "x"}))
            .await
            .err()
            .expect("error");
        assert!(matches!(err, ConnectorError::Ambiguous { .. }), "{err:?}");
        assert_eq!(
            hits.load(Ordering::Relaxed),
            1,
            "a POST that may have been applied is sent once"
        );
    }

    #[tokio::test]
    async fn alg12_a_read_whose_answer_breaks_off_is_retried() {
        let (url, hits) = truncating_server().await;
        let http = Http::new("alegra", &url, Auth::Token("t".into()), fast_policy());
        let err = http.get("contacts", &[]).await.err().expect("error");
        assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
        assert_eq!(hits.load(Ordering::Relaxed), 3, "first try and two retries");
    }

    #[test]
    fn alg12_auth_debug_hides_secrets() {
        let s = format!(
            "{:?} {:?}",
            Auth::Token("sekrit".into()),
            Auth::Basic("me@x.es".into(), "sekrit".into())
        );
        assert!(!s.contains("sekrit"), "{s}");
    }

    /// A server answering every request with `status` and `body` (content type `ctype`).
    async fn fixed_server(status: u16, ctype: &'static str, body: &'static str) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    /// Issue 17: a base URL answered by some other server is not "rejected the credentials":
    /// the message says what was reached and which key to check; the vendor's own 401 (JSON)
    /// still is a credentials error.
    #[tokio::test]
    async fn misleading_messages_a_wrong_address_is_not_called_bad_credentials() {
        let url = fixed_server(401, "text/html", "<html><body>Please log in</body></html>").await;
        let http = Http::new("crm", &url, Auth::Token("t".into()), fast_policy());
        let err = http.get("contacts", &[]).await.err().expect("error");
        let text = err.to_string();
        assert!(!matches!(err, ConnectorError::Auth { .. }), "{err:?}");
        assert!(!text.contains("rejected the credentials"), "{text}");
        assert!(text.contains(&format!("{url} answered HTTP 401")), "{text}");
        assert!(text.contains("[connections.crm]"), "{text}");

        let url = fixed_server(401, "application/json", r#"{"detail": "Invalid token."}"#).await;
        let http = Http::new("crm", &url, Auth::Token("t".into()), fast_policy());
        let err = http.get("contacts", &[]).await.err().expect("error");
        assert!(matches!(err, ConnectorError::Auth { .. }), "{err:?}");
    }

    /// Issue 17: an unreachable vendor's message names the section and key to fix.
    #[tokio::test]
    async fn misleading_messages_unreachable_names_the_key_to_check() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        drop(listener);
        let http = Http::new("books", &url, Auth::Token("t".into()), fast_policy());
        let err = http.get("contacts", &[]).await.err().expect("error");
        let text = err.to_string();
        assert!(matches!(err, ConnectorError::Unreachable { .. }), "{err:?}");
        assert!(
            text.contains("[connections.books]") && text.contains("base_url"),
            "{text}"
        );
    }
}
