//! What every RO App call shares (§(e) "Auth", "Paging", "Rate limits", "Errors"): the two
//! auth generations, the per-key limit, both error shapes, both page envelopes, repeated
//! `x[]` parameters, time ranges, and bodies sent as a form or as JSON.

use std::collections::VecDeque;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::{facts, App};
use crate::kit::faults::FaultReplies;
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::paging::{numbered, page_count};

/// Which API generation a path belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gen {
    /// `/clients/`, `/order/`, … with `?token=`.
    Legacy,
    /// `/v2/…` with `Authorization: Bearer`.
    V2,
}

pub(crate) fn legacy_err(status: StatusCode, msg: &str) -> Response {
    json(status, json!({"success": false, "message": msg}))
}

pub(crate) fn v2_err(status: StatusCode, msg: &str) -> Response {
    json(status, json!({"message": msg}))
}

pub(crate) fn err(gen: Gen, status: StatusCode, msg: &str) -> Response {
    match gen {
        Gen::Legacy => legacy_err(status, msg),
        Gen::V2 => v2_err(status, msg),
    }
}

fn too_many(gen: Gen) -> Response {
    let mut r = err(gen, StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    r.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from(facts::RETRY_AFTER_SECS),
    );
    r
}

/// Injected faults: the legacy shapes (the kit does not know the path's generation).
pub(crate) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || too_many(Gen::Legacy),
    server_error: |status| legacy_err(status, "Internal server error"),
};

/// Legacy tokens handed out by `/token/new`, with their expiry.
pub(crate) type Tokens = Vec<(String, DateTime<Utc>)>;

/// Per-key call times in the last second.
pub(crate) type Window = VecDeque<DateTime<Utc>>;

/// Checks a call's credentials for its generation, then the rate limit.
pub(crate) fn admit(
    app: &App,
    gen: Gen,
    headers: &HeaderMap,
    q: &[(String, String)],
) -> Result<(), Response> {
    let cfg = &app.inner.cfg;
    let now = app.common.now();
    match gen {
        Gen::Legacy => {
            let token = qget(q, "token").unwrap_or("");
            let ok = lock(&app.inner.tokens)
                .iter()
                .any(|(t, exp)| t == token && *exp > now);
            if !ok {
                return Err(legacy_err(
                    StatusCode::UNAUTHORIZED,
                    facts::LEGACY_BAD_TOKEN,
                ));
            }
        }
        Gen::V2 => {
            let bearer = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or("");
            if bearer.trim() != cfg.api_key {
                return Err(v2_err(StatusCode::UNAUTHORIZED, facts::V2_UNAUTHORIZED));
            }
        }
    }
    limit(app, gen)
}

/// The per-key limit of `rate_limit` calls a second (0 = off).
pub(crate) fn limit(app: &App, gen: Gen) -> Result<(), Response> {
    let max = app.inner.cfg.rate_limit;
    if max == 0 {
        return Ok(());
    }
    let now = app.common.now();
    let mut w = lock(&app.inner.window);
    while w.front().is_some_and(|t| now - *t >= TimeDelta::seconds(1)) {
        w.pop_front();
    }
    if w.len() as u32 >= max {
        return Err(too_many(gen));
    }
    w.push_back(now);
    Ok(())
}

/// The values of a repeated `key[]` parameter (a plain `key` counts too).
pub(crate) fn arr(q: &[(String, String)], key: &str) -> Vec<String> {
    let k2 = format!("{key}[]");
    q.iter()
        .filter(|(k, _)| *k == k2 || k == key)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// Ids from `key[]`, or a 400.
pub(crate) fn ids(gen: Gen, q: &[(String, String)], key: &str) -> Result<Vec<u64>, Response> {
    arr(q, key)
        .iter()
        .map(|v| v.parse::<u64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            err(
                gen,
                StatusCode::BAD_REQUEST,
                &format!("{key}[] must be integers"),
            )
        })
}

/// A time: epoch milliseconds (both generations) or ISO 8601 (v2).
fn time(gen: Gen, v: &str) -> Option<DateTime<Utc>> {
    if let Ok(n) = v.parse::<i64>() {
        return DateTime::from_timestamp_millis(n);
    }
    match gen {
        Gen::Legacy => None,
        Gen::V2 => crate::kit::clock::parse_iso(v),
    }
}

/// `key[]=from&key[]=to` (either may be missing), or a 400.
pub(crate) type Range = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

pub(crate) fn range(gen: Gen, q: &[(String, String)], key: &str) -> Result<Range, Response> {
    let vals = arr(q, key);
    let mut out = [None, None];
    for (i, v) in vals.iter().take(2).enumerate() {
        out[i] = Some(time(gen, v).ok_or_else(|| {
            err(
                gen,
                StatusCode::BAD_REQUEST,
                &format!("{key}[] must be times"),
            )
        })?);
    }
    Ok((out[0], out[1]))
}

pub(crate) fn in_range(r: Range, t: DateTime<Utc>) -> bool {
    r.0.is_none_or(|a| t >= a) && r.1.is_none_or(|b| t <= b)
}

fn page_param(gen: Gen, q: &[(String, String)]) -> Result<usize, Response> {
    match qget(q, "page") {
        None => Ok(1),
        Some(p) => p.parse::<usize>().ok().filter(|p| *p >= 1).ok_or_else(|| {
            err(
                gen,
                StatusCode::BAD_REQUEST,
                "page must be a positive integer",
            )
        }),
    }
}

/// Legacy page of 50: `{"success": true, "count": total, "page": n, "data": […]}`.
pub(crate) fn legacy_page(q: &[(String, String)], items: &[Value]) -> Response {
    let page = match page_param(Gen::Legacy, q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let data = numbered(items, page, facts::LEGACY_PAGE).to_vec();
    json(
        StatusCode::OK,
        json!({"success": true, "count": items.len(), "page": page, "data": data}),
    )
}

/// v2 page: `per_page` (≤ 50) and `page`: `{"paging": {"total_pages", "count", "page",
/// "per_page"}, "data": […]}`.
pub(crate) fn v2_page(q: &[(String, String)], items: &[Value]) -> Response {
    let page = match page_param(Gen::V2, q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let per_page = match qget(q, "per_page").map(str::parse::<usize>) {
        None => facts::V2_MAX_PER_PAGE,
        Some(Ok(n)) if (1..=facts::V2_MAX_PER_PAGE).contains(&n) => n,
        Some(_) => return v2_err(StatusCode::BAD_REQUEST, "per_page must be between 1 and 50"),
    };
    let data = numbered(items, page, per_page).to_vec();
    json(
        StatusCode::OK,
        json!({
            "paging": {"total_pages": page_count(items.len(), per_page), "count": items.len(), "page": page, "per_page": per_page},
            "data": data,
        }),
    )
}

/// A POST body as pairs: a form (`phone[]=a&phone[]=b`) or a JSON object (arrays become
/// repeated `key[]`).
pub(crate) fn body_pairs(headers: &HeaderMap, body: &[u8]) -> Vec<(String, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"));
    if !is_json {
        return axum::extract::Query::<Vec<(String, String)>>::try_from_uri(
            &format!("/?{}", String::from_utf8_lossy(body))
                .parse()
                .unwrap_or_default(),
        )
        .map(|q| q.0)
        .unwrap_or_default();
    }
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (k, v) in o {
        match v {
            Value::Array(a) => out.extend(a.iter().map(|x| (format!("{k}[]"), scalar(x)))),
            other => out.push((k, scalar(&other))),
        }
    }
    out
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A v2 JSON body, or a 400.
pub(crate) fn body_json(body: &[u8]) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| v2_err(StatusCode::BAD_REQUEST, "Invalid JSON"))
}
