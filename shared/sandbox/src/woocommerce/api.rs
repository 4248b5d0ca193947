//! What every WooCommerce REST call shares (§(d) "Base URL and auth", "Paging and format",
//! "Errors and limits"): consumer key/secret by HTTP Basic or query string, the key's
//! permissions, the WP error envelope `{"code","message","data":{"status"}}`, JSON as PHP
//! writes it, `page`/`per_page` with `X-WP-Total(Pages)` and `Link`, and date parameters.

use std::collections::VecDeque;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use super::model::php_json;
use super::{facts, App, WooPermissions};
use crate::kit::faults::FaultReplies;
use crate::kit::http::qget;
use crate::kit::lock;
use crate::kit::paging::wp;

/// A JSON answer written the way WordPress writes it (`\/`, `\uXXXX`).
pub(crate) fn answer(status: StatusCode, v: &Value) -> Response {
    let mut r = (status, php_json(v)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=UTF-8"),
    );
    r
}

/// The WP error envelope.
pub(crate) fn wp_error(status: StatusCode, code: &str, message: &str) -> Response {
    answer(
        status,
        &json!({"code": code, "message": message, "data": {"status": status.as_u16()}}),
    )
}

/// `rest_invalid_param` for `param` with WordPress's per-parameter reason.
pub(crate) fn invalid_param(param: &str, why: &str) -> Response {
    answer(
        StatusCode::BAD_REQUEST,
        &json!({"code": "rest_invalid_param", "message": format!("Invalid parameter(s): {param}"),
                "data": {"status": 400, "params": {param: why}}}),
    )
}

pub(crate) fn no_route() -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        "rest_no_route",
        "No route was found matching the URL and request method.",
    )
}

fn too_many(retry: u64) -> Response {
    let mut r = wp_error(
        StatusCode::TOO_MANY_REQUESTS,
        facts::TOO_MANY_CODE,
        "Too many requests.",
    );
    r.headers_mut()
        .insert("Retry-After", HeaderValue::from(retry));
    r
}

/// Injected faults: a throttled answer (as a host would send it) and WordPress's 5xx.
pub(crate) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || too_many(1),
    server_error: |status| {
        wp_error(
            status,
            "internal_server_error",
            "There has been a critical error on this website.",
        )
    },
};

/// The consumer key and secret of a request: HTTP Basic first, then the query string.
fn credentials(headers: &HeaderMap, q: &[(String, String)]) -> Option<(String, String)> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.split_once(':')
                .map(|(k, s)| (k.to_string(), s.to_string()))
        });
    basic.or_else(|| {
        Some((
            qget(q, "consumer_key")?.to_string(),
            qget(q, "consumer_secret")?.to_string(),
        ))
    })
}

/// Checks a call's credentials, the key's permissions and the (optional) rate limit.
/// [`facts::HTTPS_AUTH_OVER_LOOPBACK`]: both HTTPS schemes are taken over plain HTTP.
pub(crate) fn admit(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    q: &[(String, String)],
) -> Result<(), Response> {
    let cfg = &app.inner.cfg;
    let write = *method != Method::GET && *method != Method::HEAD;
    let Some((key, secret)) = credentials(headers, q).filter(|_| facts::HTTPS_AUTH_OVER_LOOPBACK)
    else {
        let (code, msg) = if write {
            (
                "woocommerce_rest_cannot_create",
                "Sorry, you are not allowed to create resources.",
            )
        } else {
            (
                "woocommerce_rest_cannot_view",
                "Sorry, you cannot list resources.",
            )
        };
        return Err(wp_error(StatusCode::UNAUTHORIZED, code, msg));
    };
    if key != cfg.consumer_key {
        return Err(wp_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "Consumer key is invalid.",
        ));
    }
    if secret != cfg.consumer_secret {
        return Err(wp_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "Consumer secret is invalid.",
        ));
    }
    let allowed = match cfg.permissions {
        WooPermissions::Read => !write,
        WooPermissions::Write => write,
        WooPermissions::ReadWrite => true,
    };
    if !allowed {
        return Err(wp_error(
            StatusCode::UNAUTHORIZED,
            "woocommerce_rest_authentication_error",
            "The API key provided does not have the proper permissions.",
        ));
    }
    if cfg.rate_limit > 0 {
        let now = app.common.now();
        let mut w = lock(&app.inner.window);
        while w
            .front()
            .is_some_and(|t| now - *t >= TimeDelta::seconds(60))
        {
            w.pop_front();
        }
        if w.len() as u32 >= cfg.rate_limit {
            let wait = w
                .front()
                .map_or(1, |t| 60 - (now - *t).num_seconds())
                .max(1);
            return Err(too_many(wait as u64));
        }
        w.push_back(now);
    }
    Ok(())
}

/// A sliding one-minute window of admitted calls.
pub(crate) type Window = VecDeque<DateTime<Utc>>;

/// `page` (default 1) and `per_page` (default 10, at most 100): a page of `items` with its
/// headers, or WordPress's 400. `offset` replaces the page's start when given.
pub(crate) fn paged<T: Clone>(
    app: &App,
    path: &str,
    q: &[(String, String)],
    items: &[T],
    render: impl Fn(&T) -> Value,
) -> Response {
    let num = |key: &str, default: usize| -> Result<usize, Response> {
        match qget(q, key) {
            None => Ok(default),
            Some(s) => s
                .trim()
                .parse()
                .map_err(|_| invalid_param(key, &format!("{key} is not of type integer."))),
        }
    };
    let (page, per_page, offset) = match (num("page", 1), num("per_page", 10), num("offset", 0)) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let items = &items[offset.min(items.len())..];
    let (rows, meta) = match wp::page(items, page, per_page) {
        Ok(x) => x,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.0),
    };
    let body: Vec<Value> = rows.iter().map(render).collect();
    let mut r = answer(StatusCode::OK, &Value::Array(body));
    let keep: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| k != "consumer_key" && k != "consumer_secret")
        .cloned()
        .collect();
    let base = format!("{}/wp-json/wc/v3/{path}", app.common.root_url);
    for (k, v) in meta.headers(&base, &keep) {
        if let Ok(v) = HeaderValue::from_str(&v) {
            r.headers_mut().insert(k, v);
        }
    }
    r
}

/// A date parameter (`after`, `modified_after`, …): ISO 8601; without an offset it is site
/// time unless `dates_are_gmt=true`. Absent, parsed, or WordPress's 400.
pub(crate) fn date_param(
    q: &[(String, String)],
    key: &str,
) -> Result<Option<DateTime<Utc>>, Response> {
    let Some(raw) = qget(q, key) else {
        return Ok(None);
    };
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    let gmt = qget(q, "dates_are_gmt").is_some_and(|v| v == "true" || v == "1");
    for f in ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, f) {
            let shift = if gmt { 0 } else { facts::SITE_OFFSET_SECS };
            return Ok(Some(t.and_utc() - TimeDelta::seconds(i64::from(shift))));
        }
    }
    Err(invalid_param(key, "Invalid date."))
}

/// Ids from `include`/`exclude`: `1,2` or repeated `include[]=1`.
pub(crate) fn id_list(q: &[(String, String)], key: &str) -> Result<Option<Vec<u64>>, Response> {
    let arr = format!("{key}[]");
    let raw: Vec<&str> = q
        .iter()
        .filter(|(k, _)| *k == key || *k == arr)
        .flat_map(|(_, v)| v.split(','))
        .filter(|s| !s.trim().is_empty())
        .collect();
    if raw.is_empty() {
        return Ok(None);
    }
    raw.iter()
        .map(|s| s.trim().parse::<u64>())
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
        .map_err(|_| invalid_param(key, &format!("{key}[0] is not of type integer.")))
}

/// `order` (`asc`/`desc`, default `desc`): whether to reverse an ascending list.
pub(crate) fn descending(q: &[(String, String)], default_desc: bool) -> Result<bool, Response> {
    match qget(q, "order") {
        None => Ok(default_desc),
        Some("desc") => Ok(true),
        Some("asc") => Ok(false),
        Some(_) => Err(invalid_param("order", "order is not one of asc and desc.")),
    }
}

/// A body as JSON (an empty body is `{}`), or WordPress's 400.
pub(crate) fn body_json(body: &[u8]) -> Result<Value, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| {
        wp_error(
            StatusCode::BAD_REQUEST,
            "rest_invalid_json",
            "Invalid JSON body passed.",
        )
    })
}
