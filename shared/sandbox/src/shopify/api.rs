//! What every Shopify REST call shares (§(c) "Base URLs and auth", "Rate limits", "REST
//! errors"): the version in the path, the `X-Shopify-Access-Token` header, the shop's state,
//! the per-shop leaky bucket with `X-Shopify-Shop-Api-Call-Limit`, the `{"errors": …}` body,
//! and the paging parameters (`limit`, `page_info`, `fields`) with their 400s.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::facts;
use super::App;
use crate::kit::faults::FaultReplies;
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::paging::cursor::{self, Cursors};

/// A shop's standing: answering, locked (423) or frozen for an unpaid bill (402).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShopState {
    #[default]
    Active,
    Locked,
    Frozen,
}

/// `{"errors": value}` with `status`.
pub(crate) fn errors(status: StatusCode, value: Value) -> Response {
    json(status, json!({ "errors": value }))
}

pub(crate) fn not_found() -> Response {
    errors(StatusCode::NOT_FOUND, json!("Not Found"))
}

pub(crate) fn bad_request(msg: impl Into<String>) -> Response {
    errors(StatusCode::BAD_REQUEST, json!(msg.into()))
}

/// 400 `{"errors":{"<param>":["is invalid"]}}` [I].
pub(crate) fn invalid(param: &str) -> Response {
    errors(StatusCode::BAD_REQUEST, json!({ param: [facts::INVALID] }))
}

/// 422 with a field map (validation).
pub(crate) fn unprocessable(field: &str, msg: &str) -> Response {
    errors(StatusCode::UNPROCESSABLE_ENTITY, json!({ field: [msg] }))
}

fn too_many(leak: u32, size: u32, retry: f64) -> Response {
    let mut r = errors(StatusCode::TOO_MANY_REQUESTS, json!(facts::throttled(leak)));
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&facts::retry_after(retry)) {
        h.insert("Retry-After", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{size}/{size}")) {
        h.insert("X-Shopify-Shop-Api-Call-Limit", v);
    }
    r
}

/// Injected faults: a 429 as the bucket sends it (Standard plan numbers, `Retry-After:
/// 1.0`), and 5xx with `{"errors": …}`.
pub(crate) const FAULT_REPLIES: FaultReplies = FaultReplies {
    too_many: || too_many(2, 40, 1.0),
    server_error: |status| {
        errors(
            status,
            json!(if status == StatusCode::SERVICE_UNAVAILABLE {
                "Service Unavailable"
            } else {
                "Internal Server Error"
            }),
        )
    },
};

/// The per-shop leaky bucket [D]: each call adds 1; it leaks `leak` per second.
#[derive(Debug)]
pub(crate) struct Bucket {
    level: f64,
    at: Option<DateTime<Utc>>,
}

impl Bucket {
    pub(crate) fn new() -> Bucket {
        Bucket {
            level: 0.0,
            at: None,
        }
    }
}

/// Checks a call's version, token, shop state and bucket; `Ok` carries the
/// `X-Shopify-Shop-Api-Call-Limit` value to put on the answer (`None`: bucket off).
pub(crate) fn admit(
    app: &App,
    version: &str,
    headers: &HeaderMap,
) -> Result<Option<String>, Response> {
    if !facts::VERSIONS.contains(&version) {
        return Err(not_found());
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if token != app.inner.cfg.access_token {
        return Err(errors(StatusCode::UNAUTHORIZED, json!(facts::BAD_TOKEN)));
    }
    match *lock(&app.inner.state) {
        ShopState::Active => {}
        ShopState::Locked => return Err(errors(StatusCode::LOCKED, json!(facts::LOCKED))),
        ShopState::Frozen => {
            return Err(errors(StatusCode::PAYMENT_REQUIRED, json!(facts::FROZEN)))
        }
    }
    let (size, leak) = (app.inner.cfg.bucket_size, app.inner.cfg.leak_rate);
    if size == 0 || leak == 0 {
        return Ok(None);
    }
    let now = app.common.now();
    let mut b = lock(&app.inner.bucket);
    if let Some(at) = b.at {
        let secs = (now - at).num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6;
        b.level = (b.level - secs.max(0.0) * f64::from(leak)).max(0.0);
    }
    b.at = Some(now);
    if b.level + 1.0 > f64::from(size) {
        let wait = (b.level + 1.0 - f64::from(size)) / f64::from(leak);
        return Err(too_many(leak, size, wait));
    }
    b.level += 1.0;
    Ok(Some(format!("{}/{size}", b.level.ceil() as u64)))
}

/// Puts the call-limit header and the version served on an answer.
pub(crate) fn finish(mut r: Response, limit: Option<String>, version: &str) -> Response {
    let h = r.headers_mut();
    if let Some(v) = limit.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert("X-Shopify-Shop-Api-Call-Limit", v);
    }
    if let Ok(v) = HeaderValue::from_str(version) {
        h.insert("X-Shopify-API-Version", v);
    }
    r
}

/// A list request's paging: the filters in force (from the request, or carried by
/// `page_info`), the kit cursor to resume from, `limit` and `fields`.
pub(crate) struct ListQuery {
    pub(crate) filters: Vec<(String, String)>,
    pub(crate) cursor: Option<String>,
    pub(crate) limit: usize,
    pub(crate) fields: Option<String>,
}

/// Reads `limit` (default 50, at most 250), `fields` and `page_info` (which carries the
/// first page's filters and refuses any other) for the list of `resource`.
pub(crate) fn list_query(resource: &str, q: &[(String, String)]) -> Result<ListQuery, Response> {
    let limit = match qget(q, "limit") {
        None => 50,
        Some(l) => match l.trim().parse::<usize>() {
            Ok(n) if (1..=250).contains(&n) => n,
            _ => return Err(bad_request(facts::bad_limit())),
        },
    };
    let fields = qget(q, "fields").map(str::to_string);
    let Some(raw) = qget(q, "page_info") else {
        let filters = q
            .iter()
            .filter(|(k, _)| k != "limit" && k != "fields")
            .cloned()
            .collect();
        return Ok(ListQuery {
            filters,
            cursor: None,
            limit,
            fields,
        });
    };
    if let Some((k, _)) = q
        .iter()
        .find(|(k, _)| !matches!(k.as_str(), "limit" | "fields" | "page_info"))
    {
        return Err(bad_request(facts::page_info_with(k)));
    }
    let (r, filters, cursor) = unwrap(raw).ok_or_else(|| bad_request(facts::BAD_PAGE_INFO))?;
    if r != resource {
        return Err(bad_request(facts::BAD_PAGE_INFO));
    }
    Ok(ListQuery {
        filters,
        cursor: Some(cursor),
        limit,
        fields,
    })
}

/// A Shopify `page_info`: the kit's keyset cursor wrapped with the resource and the
/// filters of the first page (opaque base64url JSON).
fn wrap(resource: &str, filters: &[(String, String)], cursor: &str) -> String {
    let v = json!({"r": resource, "q": filters, "c": cursor});
    URL_SAFE_NO_PAD.encode(v.to_string())
}

/// What a `page_info` carries: resource, filters, kit cursor.
type Unwrapped = (String, Vec<(String, String)>, String);

fn unwrap(raw: &str) -> Option<Unwrapped> {
    let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    let filters = serde_json::from_value(v.get("q")?.clone()).ok()?;
    Some((
        v.get("r")?.as_str()?.to_string(),
        filters,
        v.get("c")?.as_str()?.to_string(),
    ))
}

/// One page of `ids` (ascending) for `lq`: the page's ids and its `Link` header, or a 400
/// for a token of another list.
pub(crate) fn page_ids(
    app: &App,
    version: &str,
    resource: &str,
    ids: &[u64],
    lq: &ListQuery,
) -> Result<(Vec<u64>, Option<String>), Response> {
    let (page, c) = cursor::page(ids, |x| *x, lq.cursor.as_deref(), lq.limit)
        .map_err(|_| bad_request(facts::BAD_PAGE_INFO))?;
    let wrapped = Cursors {
        next: c.next.map(|t| wrap(resource, &lq.filters, &t)),
        previous: c.previous.map(|t| wrap(resource, &lq.filters, &t)),
    };
    let mut keep = vec![("limit".to_string(), lq.limit.to_string())];
    if let Some(f) = &lq.fields {
        keep.push(("fields".to_string(), f.clone()));
    }
    let base = format!(
        "{}/admin/api/{version}/{resource}.json",
        app.common.root_url
    );
    Ok((page.to_vec(), wrapped.link_header(&base, &keep)))
}

/// Keeps only the top-level `fields` (comma-separated) of a record.
pub(crate) fn project(v: Value, fields: &Option<String>) -> Value {
    let (Some(f), Value::Object(o)) = (fields, &v) else {
        return v;
    };
    let keep: Vec<&str> = f.split(',').map(str::trim).collect();
    Value::Object(
        o.iter()
            .filter(|(k, _)| keep.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

/// `{"<resource>": [page]}` with the `Link` header when there are other pages.
pub(crate) fn list_answer(resource: &str, page: Vec<Value>, link: Option<String>) -> Response {
    let mut r = json(StatusCode::OK, json!({ resource: page }));
    if let Some(v) = link.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert("Link", v);
    }
    r.into_response()
}

/// A time filter (`created_at_min`, …): absent, or parsed, or a 400.
pub(crate) fn time_param(
    q: &[(String, String)],
    key: &str,
) -> Result<Option<DateTime<Utc>>, Response> {
    match qget(q, key) {
        None => Ok(None),
        Some(s) => crate::kit::clock::parse_iso(s)
            .map(Some)
            .ok_or_else(|| invalid(key)),
    }
}

/// `ids=1,2,3`: absent, or the ids, or a 400.
pub(crate) fn ids_param(q: &[(String, String)]) -> Result<Option<Vec<u64>>, Response> {
    match qget(q, "ids") {
        None => Ok(None),
        Some(s) => s
            .split(',')
            .map(|x| x.trim().parse::<u64>())
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
            .map_err(|_| invalid("ids")),
    }
}

/// `since_id`: absent, or the id, or a 400.
pub(crate) fn since_param(q: &[(String, String)]) -> Result<u64, Response> {
    match qget(q, "since_id") {
        None => Ok(0),
        Some(s) => s.trim().parse().map_err(|_| invalid("since_id")),
    }
}

/// The time filters every list has, checked against `(created, updated)`.
pub(crate) struct TimeFilters {
    created: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    updated: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
}

impl TimeFilters {
    pub(crate) fn parse(q: &[(String, String)]) -> Result<TimeFilters, Response> {
        Ok(TimeFilters {
            created: (
                time_param(q, "created_at_min")?,
                time_param(q, "created_at_max")?,
            ),
            updated: (
                time_param(q, "updated_at_min")?,
                time_param(q, "updated_at_max")?,
            ),
        })
    }

    pub(crate) fn ok(&self, created: DateTime<Utc>, updated: DateTime<Utc>) -> bool {
        let within = |(min, max): (Option<DateTime<Utc>>, Option<DateTime<Utc>>), t| {
            min.is_none_or(|m| t >= m) && max.is_none_or(|m| t <= m)
        };
        within(self.created, created) && within(self.updated, updated)
    }
}
