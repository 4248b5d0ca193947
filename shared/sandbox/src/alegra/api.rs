//! What every Alegra route shares: the `{"message","code"}` error body, HTTP Basic auth,
//! the per-user rate limit with its headers, and body and field parsing.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::{App, Inner, Obj};
use crate::kit::faults::FaultReplies;
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::paging::offset_limit;

/// Fixed rate-limit window of one user.
pub(super) struct Window {
    start: DateTime<Utc>,
    count: u32,
}

/// 405 in the vendor's error shape [C: A5] (status text [I]).
pub(super) async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "Método no permitido")
}

/// 404 for paths outside the modelled resources [C: A5 shape; text I].
pub(super) async fn unknown_route() -> Response {
    error(StatusCode::NOT_FOUND, "Recurso no encontrado")
}

/// Error body `{"message","code"}` [C: A5 errors.go, A7].
pub(super) fn error(status: StatusCode, msg: &str) -> Response {
    json(status, json!({"message": msg, "code": status.as_u16()}))
}

pub(super) fn bad(msg: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, msg.as_ref())
}

/// Email from `Authorization: Basic base64(email:token)`, and whether the
/// credentials are the configured ones.
fn basic_user(headers: &HeaderMap, inner: &Inner) -> (String, bool) {
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return (String::new(), false);
    };
    let mut it = raw.trim().splitn(2, ' ');
    let (Some(scheme), Some(b64)) = (it.next(), it.next()) else {
        return (String::new(), false);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return (String::new(), false);
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return (String::new(), false);
    };
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((email, token)) => (
            email.to_string(),
            email == inner.email && token == inner.token,
        ),
        None => (text.into_owned(), false),
    }
}

fn set_rate_headers(resp: &mut Response, limit: u32, remaining: u32, reset: i64) {
    let h = resp.headers_mut();
    h.insert("X-Rate-Limit-Limit", HeaderValue::from(limit));
    h.insert("X-Rate-Limit-Remaining", HeaderValue::from(remaining));
    h.insert("X-Rate-Limit-Reset", HeaderValue::from(reset));
}

/// Injected faults answer like the real limit (with the documented 150/minute in the
/// headers, whatever this sandbox's limit) and the vendor's error body.
pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || {
        let mut r = error(StatusCode::TOO_MANY_REQUESTS, "Too Many request");
        set_rate_headers(&mut r, 150, 0, 1);
        r
    },
    server_error: |status| error(status, "Error interno del servidor"),
};

/// Rate limit then Basic auth, on every request (unknown routes too).
///
/// Models §2.1 [D: A1]: 150 requests/minute per user, 429 "Too Many
/// request", headers `X-Rate-Limit-Limit/Remaining/Reset` (seconds left in
/// the window) on every response, no `Retry-After` (not documented); fixed
/// window keyed by the Basic email [I]; auth HTTP Basic `email:token`,
/// problems → 401 [D: A2] with `{"message","code"}` [C: A5].
pub(super) async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let (user, ok) = basic_user(req.headers(), &app.inner);
    let limit = app.inner.limit;
    let mut rate = None;
    if limit > 0 {
        let now = app.common.now();
        let window = app.inner.window;
        let mut ws = lock(&app.inner.windows);
        let w = ws.entry(user).or_insert(Window {
            start: now,
            count: 0,
        });
        if now >= w.start + window {
            w.start = now;
            w.count = 0;
        }
        w.count = w.count.saturating_add(1);
        let left = w.start + window - now;
        let reset = ((left.num_milliseconds() + 999) / 1000).max(1);
        rate = Some((w.count > limit, limit.saturating_sub(w.count), reset));
    }
    let mut resp = match rate {
        Some((true, _, _)) => error(StatusCode::TOO_MANY_REQUESTS, "Too Many request"),
        _ if !ok => error(
            StatusCode::UNAUTHORIZED,
            "Las credenciales de autenticación no son válidas",
        ),
        _ => next.run(req).await,
    };
    if let Some((_, remaining, reset)) = rate {
        set_rate_headers(&mut resp, limit, remaining, reset);
    }
    resp
}

pub(super) fn parse_json(body: &Bytes) -> Result<Obj, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Obj::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(bad("El cuerpo de la petición debe ser un objeto JSON")),
        Err(_) => Err(bad("El cuerpo de la petición no es un JSON válido")),
    }
}

pub(super) fn text(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::String(x) => Ok(x.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err(format!("El campo {field} no es válido")),
    }
}

pub(super) fn id_of(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

/// `start`/`limit` over the filtered, sorted rows: the page's records, copied so the caller
/// can release its lock, and the total before paging.
pub(super) fn page_of(rows: &[&Obj], start: usize, limit: usize) -> (Vec<Value>, usize) {
    let page = offset_limit(rows, start, Some(limit))
        .iter()
        .map(|o| Value::Object((*o).clone()))
        .collect();
    (page, rows.len())
}

/// A list answer: the bare array, or `{"metadata":{"total"},"data"}` with `metadata=true`
/// (or `1`) [C: A8, A5].
pub(super) fn list_response(q: &[(String, String)], page: Vec<Value>, total: usize) -> Response {
    if qget(q, "metadata").is_some_and(|m| m.eq_ignore_ascii_case("true") || m == "1") {
        json(
            StatusCode::OK,
            json!({"metadata": {"total": total}, "data": page}),
        )
    } else {
        json(StatusCode::OK, Value::Array(page))
    }
}
