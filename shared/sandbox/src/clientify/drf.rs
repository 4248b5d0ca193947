//! Django REST Framework conventions as Clientify shows them: `{"detail"}` and field-error
//! bodies, DRF field parsing, token auth and `SimpleRateThrottle`, Django's HTML 404.

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde_json::{json, Value};

use super::{App, Obj};
use crate::kit::faults::FaultReplies;
use crate::kit::http::json;
use crate::kit::lock;

/// The throttle's window: DRF rates are "N per minute" here.
const THROTTLE_WINDOW_SECS: i64 = 60;

pub(super) fn detail_resp(status: StatusCode, msg: &str) -> Response {
    json(status, json!({ "detail": msg }))
}

pub(super) fn not_found() -> Response {
    detail_resp(StatusCode::NOT_FOUND, "Not found.")
}

pub(super) fn bad_request(errs: Obj) -> Response {
    json(StatusCode::BAD_REQUEST, Value::Object(errs))
}

pub(super) fn field_err(errs: &mut Obj, field: &str, msg: impl Into<String>) {
    let e = errs.entry(field.to_string()).or_insert_with(|| json!([]));
    if let Value::Array(a) = e {
        a.push(Value::String(msg.into()));
    }
}

/// Python type name, for DRF messages.
pub(super) fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

pub(super) fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// DRF `CharField`: strings (whitespace trimmed) and numbers are accepted;
/// null is taken as blank (Clientify fields are optional) [I].
pub(super) fn char_value(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err("Not a valid string.".into()),
    }
}

pub(super) fn list_type_err(v: &Value) -> String {
    if v.is_null() {
        "This field may not be null.".into()
    } else {
        format!("Expected a list of items but got type \"{}\".", py_type(v))
    }
}

/// Reads a JSON object body the way DRF's `JSONParser` does.
pub(super) fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Obj, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Obj::new());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().contains("json") {
        return Err(detail_resp(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{ct}\" in request."),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Err(e) => Err(detail_resp(
            StatusCode::BAD_REQUEST,
            &format!("JSON parse error - {e}"),
        )),
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(json(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.", py_type(&other))]}),
        )),
    }
}

/// Token auth then optional throttling, on every matched route.
///
/// Models §1.1: `Authorization: Token <key>` [C: all clients]; DRF 401
/// bodies `{"detail":…}` with `WWW-Authenticate: Token` [I: DRF defaults];
/// rate limit undocumented [C: C6, C9] → off by default, when on DRF's
/// `SimpleRateThrottle`: 429 `{"detail":"Request was throttled. Expected
/// available in N seconds."}` + `Retry-After: N` [I: §3 knob].
pub(super) async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let unauthorized = |msg: &str| {
        let mut r = detail_resp(StatusCode::UNAUTHORIZED, msg);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        r
    };
    let hdr = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let parts: Vec<&str> = hdr.split_whitespace().collect();
    if parts.is_empty() || !parts[0].eq_ignore_ascii_case("token") {
        return unauthorized("Authentication credentials were not provided.");
    }
    if parts.len() == 1 {
        return unauthorized("Invalid token header. No credentials provided.");
    }
    if parts.len() > 2 {
        return unauthorized("Invalid token header. Token string should not contain spaces.");
    }
    if parts[1] != app.inner.token {
        return unauthorized("Invalid token.");
    }
    if app.inner.limit > 0 {
        let now = app.common.now();
        let window = TimeDelta::seconds(THROTTLE_WINDOW_SECS);
        let mut t = lock(&app.inner.throttle);
        let hist = t.entry(parts[1].to_string()).or_default();
        while hist.front().is_some_and(|&x| x <= now - window) {
            hist.pop_front();
        }
        if hist.len() >= app.inner.limit as usize {
            let oldest = *hist.front().expect("non-empty when over the limit");
            let left = window - (now - oldest);
            let wait = ((left.num_microseconds().unwrap_or(0) + 999_999) / 1_000_000).max(1);
            drop(t);
            return throttled(wait);
        }
        hist.push_back(now);
    }
    next.run(req).await
}

/// DRF's `Throttled` answer: 429, `Retry-After` and the wait in words.
fn throttled(wait: i64) -> Response {
    let unit = if wait == 1 { "second" } else { "seconds" };
    let mut r = detail_resp(
        StatusCode::TOO_MANY_REQUESTS,
        &format!("Request was throttled. Expected available in {wait} {unit}."),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(wait));
    r
}

/// Injected faults answer as DRF does: the throttle's 429, and Django's JSON-ified 500.
pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || throttled(1),
    server_error: |status| detail_resp(status, "A server error occurred."),
};

/// Unknown URL: Django's own HTML 404 page (not DRF JSON) [I: §1.1 "It is
/// DRF"; URL resolution happens before the API view].
pub(super) async fn django_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n",
    )
        .into_response()
}

/// DRF 405 body; PATCH is not modelled since no client uses it (§1.5
/// "PATCH never used") [I].
pub(super) async fn method_not_allowed(method: Method) -> Response {
    detail_resp(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    )
}

/// DRF `DecimalField(decimal_places=2)`: a number or numeric string, rendered as a string
/// with two decimals [I: DRF default `COERCE_DECIMAL_TO_STRING`].
pub(super) fn decimal_value(v: &Value) -> Result<String, String> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(format!("{x:.2}")),
        _ => Err("A valid number is required.".into()),
    }
}

pub(super) fn display_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}
