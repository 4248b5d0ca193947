//! What every CCV route shares: the `{code,status,developermessage}` errors, request
//! signatures and the clock-skew check, the per-minute limits, signed responses, JSON bodies,
//! `start`/`size` paging and `orderby`.

use std::cmp::Ordering;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde_json::{json, Value};

use super::facts::{self, *};
use super::{App, Obj, Window, PREFIX};
use crate::kit::faults::FaultReplies;
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::paging::ccv::page;
use crate::kit::sign::{hmac_sha512_hex, pipe_joined, verify_hmac_sha512_hex};

/// `{"code","status","developermessage"}` [C `ExceptionFactory`].
pub(super) fn error(status: StatusCode, code: &str, msg: &str) -> Response {
    json(
        status,
        json!({"code": code, "status": status.as_u16(), "developermessage": msg}),
    )
}

pub(super) fn bad(msg: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, CODE_BAD_REQUEST, msg.as_ref())
}

pub(super) fn missing(what: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        CODE_NOT_FOUND,
        &format!("{what} with id '{id}' not found"),
    )
}

pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "Resource not found")
}

pub(super) async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        CODE_METHOD,
        "Method not allowed on this resource",
    )
}

/// A 429 (`429.10` or `429.11`) whose `Retry-After` says when the window reopens
/// ([`facts::RETRY_AFTER_ON_429`]).
pub(super) fn limited(code: &str, msg: &str, secs: i64) -> Response {
    let mut r = error(StatusCode::TOO_MANY_REQUESTS, code, msg);
    if facts::RETRY_AFTER_ON_429 {
        r.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from(secs.max(1)),
        );
    }
    r
}

/// 201 with the created resource [C].
pub(super) fn created(body: Value) -> Response {
    json(StatusCode::CREATED, body)
}

/// 204, no body [C].
pub(super) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Injected faults: a 429.10 and the 5xx, in CCV's shape (signed like any answer by
/// [`sign_responses`]).
pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || {
        limited(
            CODE_RATE_RESOURCE,
            "Rate limit exceeded for this resource",
            1,
        )
    },
    server_error: |status| {
        let code = if status == StatusCode::SERVICE_UNAVAILABLE {
            CODE_UNAVAILABLE
        } else {
            CODE_SERVER_ERROR
        };
        error(status, code, "Internal server error")
    },
};

fn header<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The resource a path names, for the per-resource limit: its last segment that is not an
/// id (`/api/rest/v1/orders/5/orderrows` → `orderrows`).
fn resource_of(path: &str) -> String {
    path.strip_prefix(PREFIX)
        .unwrap_or(path)
        .split('/')
        .rfind(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("")
        .to_string()
}

/// One hit on the fixed one-minute window of `key`: the seconds until it reopens when
/// the hit is over `limit`.
fn over(app: &App, key: String, limit: u32) -> Option<i64> {
    if limit == 0 {
        return None;
    }
    let now = app.common.now();
    let mut ws = lock(&app.inner.windows);
    let w = ws.entry(key).or_insert(Window {
        start: now,
        count: 0,
    });
    if now >= w.start + TimeDelta::seconds(60) {
        w.start = now;
        w.count = 0;
    }
    w.count = w.count.saturating_add(1);
    (w.count > limit).then(|| (w.start + TimeDelta::seconds(60) - now).num_seconds())
}

/// Checks the request signature and the clock skew, then the limits (429.11 in total, then
/// 429.10 per resource and method), and runs the route with the body it read.
pub(super) async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let unauthorized = |msg: &str| error(StatusCode::UNAUTHORIZED, CODE_UNAUTHORIZED, msg);
    let (Some(public), Some(date), Some(hash)) = (
        header(&req, "x-public").map(str::to_string),
        header(&req, "x-date").map(str::to_string),
        header(&req, "x-hash").map(str::to_string),
    ) else {
        return unauthorized("Missing x-public, x-date or x-hash header");
    };
    let method = req.method().clone();
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| req.uri().path().to_string());
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            CODE_TOO_BIG,
            "Payload too big",
        );
    };
    if public != app.inner.public_key {
        return unauthorized("Unknown public key");
    }
    let msg = pipe_joined(&[
        public.as_bytes(),
        method.as_str().as_bytes(),
        uri.as_bytes(),
        &body,
        date.as_bytes(),
    ]);
    if !verify_hmac_sha512_hex(app.inner.secret.as_bytes(), &msg, &hash) {
        return unauthorized("Invalid hash");
    }
    if app.inner.skew_secs > 0 {
        let Some(t) = parse_x_date(&date) else {
            return unauthorized("Invalid x-date");
        };
        let skew = (app.common.now() - t).num_seconds().unsigned_abs();
        if skew > app.inner.skew_secs {
            return unauthorized("x-date too far from the server time");
        }
    }
    if let Some(secs) = over(&app, "*".into(), app.inner.total_limit) {
        return limited(CODE_RATE_TOTAL, "Total rate limit exceeded", secs);
    }
    let limit = if method == Method::GET {
        app.inner.get_limit
    } else {
        app.inner.write_limit
    };
    let resource = resource_of(parts.uri.path());
    if let Some(secs) = over(&app, format!("{method} {resource}"), limit) {
        return limited(
            CODE_RATE_RESOURCE,
            &format!("Rate limit exceeded for {method} {resource}"),
            secs,
        );
    }
    next.run(Request::from_parts(parts, Body::from(body))).await
}

/// A body that fails on its first poll: the connection drops with no answer.
fn dropped() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped"))
    });
    Body::from_stream(stream).into_response()
}

/// Signs every answer, errors and injected faults included: `x-date` (the sandbox clock) and
/// `x-hash` = hex HMAC-SHA512(secret, `public|METHOD|uri|rawResponseBody|x-date`) [C
/// `BaseEndpoint::validateResponse`]. A faulted answer that drops the connection stays
/// dropped.
pub(super) async fn sign_responses(State(app): State<App>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let resp = next.run(req).await;
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return dropped();
    };
    let date = facts::fmt_response_date(app.common.now());
    let msg = pipe_joined(&[
        app.inner.public_key.as_bytes(),
        method.as_str().as_bytes(),
        uri.as_bytes(),
        &bytes,
        date.as_bytes(),
    ]);
    let hash = hmac_sha512_hex(app.inner.secret.as_bytes(), &msg);
    let h = &mut parts.headers;
    if let Ok(v) = HeaderValue::from_str(&date) {
        h.insert("x-date", v);
    }
    if let Ok(v) = HeaderValue::from_str(&hash) {
        h.insert("x-hash", v);
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// `GET /api/rest/v1/`: the resources this key may use [C] (shape [I]).
pub(super) async fn root(State(app): State<App>) -> Response {
    let items: Vec<Value> = [
        "orders",
        "orderrows",
        "products",
        "categories",
        "producttocategories",
        "users",
        "webhooks",
    ]
    .iter()
    .map(|r| json!({"name": r, "href": app.url(r)}))
    .collect();
    json(StatusCode::OK, json!({"href": app.url(""), "items": items}))
}

/// A JSON object body; 400 otherwise.
pub(super) fn parse_body(body: &Bytes) -> Result<Obj, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(bad("Request body must be a JSON object")),
        Err(e) => Err(bad(format!("Request body is not valid JSON: {e}"))),
    }
}

/// An id path segment.
pub(super) fn id_of(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

/// Fields a PATCH or POST may set, and each one's kind; anything else is refused [I].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Str,
    OptStr,
    Num,
    Int,
    OptInt,
    Bool,
    Obj,
}

/// Checks `body` against `fields` (unknown field, wrong type → 400) and returns the fields to
/// store.
pub(super) fn check_fields(body: &Obj, fields: &[(&str, Kind)]) -> Result<Obj, Response> {
    let mut out = Obj::new();
    for (k, v) in body {
        let Some((_, kind)) = fields.iter().find(|(f, _)| f == k) else {
            return Err(bad(format!("Property '{k}' is not allowed here")));
        };
        let ok = match kind {
            Kind::Str => v.is_string(),
            Kind::OptStr => v.is_string() || v.is_null(),
            Kind::Num => v.is_number(),
            Kind::Int => v.is_i64() || v.is_u64(),
            Kind::OptInt => v.is_i64() || v.is_u64() || v.is_null(),
            Kind::Bool => v.is_boolean(),
            Kind::Obj => v.is_object(),
        };
        if !ok {
            return Err(bad(format!("Property '{k}' has the wrong type")));
        }
        // Amounts and stock are floats in CCV's schema.
        let v = match (kind, v.as_f64()) {
            (Kind::Num, Some(x)) => Value::from(x),
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

/// A boolean filter value: `true`/`false`/`1`/`0`.
pub(super) fn bool_param(q: &[(String, String)], key: &str) -> Result<Option<bool>, Response> {
    match qget(q, key) {
        None => Ok(None),
        Some("true" | "1") => Ok(Some(true)),
        Some("false" | "0") => Ok(Some(false)),
        Some(v) => Err(bad(format!("Invalid value '{v}' for {key}"))),
    }
}

/// Sorts `rows` by `orderby=field` or `field_desc` when `field` is one of `allowed`; then by
/// id, so pages are stable. Default: by id [I].
pub(super) fn order_by(
    rows: &mut [Value],
    q: &[(String, String)],
    allowed: &[&str],
) -> Result<(), Response> {
    let Some(spec) = qget(q, "orderby") else {
        return Ok(());
    };
    let (field, desc) = match spec.strip_suffix("_desc") {
        Some(f) => (f, true),
        None => (spec, false),
    };
    if !allowed.contains(&field) {
        return Err(bad(format!(
            "Invalid orderby '{spec}'; allowed: {}",
            allowed.join(", ")
        )));
    }
    rows.sort_by(|a, b| {
        let o = cmp_values(&a[field], &b[field]);
        let o = if desc { o.reverse() } else { o };
        o.then_with(|| cmp_values(&a["id"], &b["id"]))
    });
    Ok(())
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

/// A `start`/`size` page of `rows` (already filtered and sorted) in the CCV envelope; links
/// keep the request's other parameters. `path` is the collection's path under the prefix.
pub(super) fn paged(
    app: &App,
    path: &str,
    q: &[(String, String)],
    rows: &[Value],
) -> Result<Response, Response> {
    let num = |key: &str, default: usize| match qget(q, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<usize>()
            .map_err(|_| bad(format!("Invalid value '{v}' for {key}"))),
    };
    let start = num("start", 0)?;
    let size = num("size", DEFAULT_SIZE)?.clamp(1, MAX_SIZE);
    let (items, meta) = page(rows, start, size, &app.url(path), q);
    Ok(json(StatusCode::OK, meta.envelope(items.to_vec())))
}
