//! What every eAccounting route shares: the error body `{ErrorCode, DeveloperErrorMessage,
//! ErrorId}`, the per-endpoint limit (4010), JSON bodies, GUIDs and the `{Meta, Data}` list
//! with `$page`, `$pagesize`, `$filter` and `$orderby`.

use std::cmp::Ordering;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use rand::Rng;
use serde_json::{json, Value};

use super::facts::*;
use super::odata;
use super::{App, Obj, Window};
use crate::kit::faults::FaultReplies;
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::paging::eaccounting::page;
use crate::kit::stats::{route_key, Slash};

fn error_id() -> String {
    uuid::Builder::from_random_bytes(rand::thread_rng().gen())
        .into_uuid()
        .to_string()
}

/// `{"ErrorCode", "DeveloperErrorMessage", "ErrorId"}` [D for 4010; I for the others].
pub(super) fn error(status: StatusCode, code: u32, msg: &str) -> Response {
    json(
        status,
        json!({"ErrorCode": code, "DeveloperErrorMessage": msg, "ErrorId": error_id()}),
    )
}

pub(super) fn invalid(msg: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, E_VALIDATION, msg.as_ref())
}

pub(super) fn missing(what: &str, id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        E_NOT_FOUND,
        &format!("{what} with id {id} was not found."),
    )
}

pub(super) async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, E_NOT_FOUND, "No such resource.")
}

pub(super) async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        E_METHOD,
        "The requested resource does not support this http method.",
    )
}

fn too_many(limit: u32, secs: i64) -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        E_RATE,
        &rate_message(limit, secs),
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    r
}

pub(super) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || too_many(RATE_LIMIT, 1),
    server_error: |status| error(status, E_SERVER, "An error has occurred."),
};

/// One hit on the endpoint's window; the 429 when it is over the limit.
pub(super) fn rate_limited(app: &App, path: &str) -> Option<Response> {
    let limit = app.inner.rate_limit;
    if limit == 0 {
        return None;
    }
    let now = app.common.now();
    let mut ws = lock(&app.inner.windows);
    let w = ws.entry(route_key(path, Slash::Never)).or_insert(Window {
        start: now,
        count: 0,
    });
    if now >= w.start + TimeDelta::seconds(60) {
        w.start = now;
        w.count = 0;
    }
    w.count = w.count.saturating_add(1);
    if w.count <= limit {
        return None;
    }
    let secs = (w.start + TimeDelta::seconds(60) - now)
        .num_seconds()
        .max(1);
    Some(too_many(limit, secs))
}

/// A JSON object body.
pub(super) fn body_obj(body: &Bytes) -> Result<Obj, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(invalid("The request body must be a JSON object.")),
        Err(e) => Err(invalid(format!("The request body is not valid JSON: {e}"))),
    }
}

/// Whether `s` is a GUID.
pub(super) fn is_guid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok()
}

pub(super) fn created(v: Value) -> Response {
    json(StatusCode::CREATED, v)
}

pub(super) fn ok(v: Value) -> Response {
    json(StatusCode::OK, v)
}

pub(super) fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

pub(super) fn run(f: impl FnOnce() -> Result<Response, Response>) -> Response {
    f().unwrap_or_else(|e| e)
}

/// A list answer over `rows` (in creation order): `$filter` on `change_field`, `$orderby`
/// over `sortable`, then `$page`/`$pagesize` in the `{Meta, Data}` envelope.
pub(super) fn list(
    app: &App,
    q: &[(String, String)],
    mut rows: Vec<Value>,
    change_field: &str,
    sortable: &[&str],
) -> Response {
    run(|| {
        let num = |k: &str, default: usize| match qget(q, k) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| invalid(format!("{k} must be a positive number."))),
        };
        let page_no = num("$page", 1)?;
        let size = num("$pagesize", DEFAULT_PAGE_SIZE)?.min(MAX_PAGE_SIZE);
        if let Some(f) = qget(q, "$filter") {
            let e = odata::parse(f, change_field).map_err(|m| {
                error(
                    StatusCode::BAD_REQUEST,
                    E_FILTER,
                    &format!("Invalid $filter: {m}"),
                )
            })?;
            rows.retain(|r| odata::matches(&e, r));
        }
        if let Some(o) = qget(q, "$orderby") {
            let mut parts = o.split_whitespace();
            let field = parts.next().unwrap_or("");
            let desc = match parts.next() {
                None | Some("asc") => false,
                Some("desc") => true,
                Some(d) => return Err(invalid(format!("Invalid $orderby direction '{d}'."))),
            };
            if !sortable.contains(&field) || parts.next().is_some() {
                return Err(invalid(format!(
                    "Invalid $orderby '{o}'; sortable: {}.",
                    sortable.join(", ")
                )));
            }
            rows.sort_by(|a, b| {
                let o = cmp(&a[field], &b[field]);
                if desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        let (data, meta) = page(&rows, page_no, size, app.common.now());
        Ok(json(StatusCode::OK, meta.envelope(data.to_vec())))
    })
}

fn cmp(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        _ => Ordering::Equal,
    }
}

/// A string property of a body: `Ok(None)` when absent, 400 when not a string.
pub(super) fn opt_str(o: &Obj, k: &str) -> Result<Option<String>, Response> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(format!("{k} must be a string."))),
    }
}

pub(super) fn req_str(o: &Obj, k: &str) -> Result<String, Response> {
    match opt_str(o, k)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err(invalid(format!("{k} is required."))),
    }
}

pub(super) fn opt_num(o: &Obj, k: &str) -> Result<Option<f64>, Response> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| invalid(format!("{k} must be a number."))),
    }
}

pub(super) fn opt_bool(o: &Obj, k: &str) -> Result<Option<bool>, Response> {
    match o.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(format!("{k} must be true or false."))),
    }
}
