//! The record routes: `/v1/{contacts|companies|products|orders|budgets}/[{id}/]`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::drf::{bad_request, not_found, parse_body};
use super::query::{abs_base, envelope, matches, order, paginate, parse_filters, render, sparse};
use super::records::write_record;
use super::webhooks::notify;
use super::{App, Kind, Obj, Q};
use crate::kit::clock::fmt_micros;
use crate::kit::http::json;
use crate::kit::lock;

pub(super) fn kind_of(seg: &str) -> Result<Kind, Response> {
    Kind::from_segment(seg).ok_or_else(not_found)
}

pub(super) fn id_of(raw: &str) -> Result<u64, Response> {
    raw.parse().map_err(|_| not_found())
}

/// `GET /v1/contacts/`, `/v1/companies/`: DRF page envelope with absolute
/// `next` [C: §1.2], 404 "Invalid page." past the end [C: C6 log], filters
/// `email phone first_name taxpayer_identification_number query` (contacts)
/// / `name taxpayer_identification_number query` (companies) [C: C5, C7,
/// C8], `created[gte]` / `modified[gte]` bracket syntax [C: C4, C6, C9],
/// `ordering` [C/I], `fields` [C: C3, C12].
pub(super) async fn list(
    State(app): State<App>,
    Path(seg): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let kind = match kind_of(&seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let filters = match parse_filters(kind, &q) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let base = abs_base(&headers, &app.common);
    // Filter and sort references under the lock; only the page is copied and rendered.
    let (p, results) = {
        let mut d = lock(&app.inner.data);
        let mut rows: Vec<&Obj> = d
            .table(kind)
            .rows
            .values()
            .filter(|o| matches(o, kind, &filters))
            .collect();
        order(&mut rows, &q);
        let (page, p) = match paginate(&rows, &q, &format!("{base}{}", uri.path())) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let results: Vec<Value> = page
            .iter()
            .map(|o| sparse(render(o, kind, &base), &q))
            .collect();
        (p, results)
    };
    envelope(&p, results)
}

/// `GET /v1/{contacts|companies}/{id}/` → object or 404 `{"detail":"Not
/// found."}` [I: DRF default, §1.1].
pub(super) async fn detail(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let rec = lock(&app.inner.data).table(kind).rows.get(&id).cloned();
    match rec {
        None => not_found(),
        Some(o) => json(
            StatusCode::OK,
            sparse(render(&o, kind, &abs_base(&headers, &app.common)), &q),
        ),
    }
}

/// `POST /v1/contacts/` (and companies) → 201 + full object [C: C8];
/// flat `email`/`phone` and arrays accepted [C: C1, C5, C8, C11];
/// validation → 400 `{"field":["…"]}` [I: DRF]; `created`/`modified` set by
/// the server [C/I: §1.2, §3].
pub(super) async fn create(
    State(app): State<App>,
    Path(seg): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = match kind_of(&seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let rec = {
        let mut d = lock(&app.inner.data);
        match write_record(&mut d, kind, None, &body, false) {
            Err(e) => return bad_request(e),
            Ok(mut rec) => {
                let t = d.table(kind);
                let id = t.next_id;
                t.next_id += 1;
                let now = fmt_micros(app.common.stamp());
                rec.insert("id".into(), json!(id));
                rec.insert("created".into(), json!(now));
                rec.insert("modified".into(), json!(now));
                t.rows.insert(id, rec.clone());
                notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
                rec
            }
        }
    };
    json(
        StatusCode::CREATED,
        Value::Object(render(&rec, kind, &abs_base(&headers, &app.common))),
    )
}

/// `PUT /v1/{contacts|companies}/{id}/`: partial merge, as clients send
/// partial bodies and it works [C: C1, C4, C5 §1.5]; lists replaced,
/// `custom_fields` merged by name [I]; `modified` bumped [I: §3].
pub(super) async fn update(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let rec = {
        let mut d = lock(&app.inner.data);
        let Some(old) = d.table(kind).rows.get(&id).cloned() else {
            return not_found();
        };
        match write_record(&mut d, kind, Some(&old), &body, false) {
            Err(e) => return bad_request(e),
            Ok(mut rec) => {
                rec.insert("modified".into(), json!(fmt_micros(app.common.stamp())));
                d.table(kind).rows.insert(id, rec.clone());
                notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
                rec
            }
        }
    };
    json(
        StatusCode::OK,
        Value::Object(render(&rec, kind, &abs_base(&headers, &app.common))),
    )
}

/// `DELETE /v1/{contacts|companies}/{id}/` → 204 [I: DRF default §1.1].
pub(super) async fn destroy(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    match lock(&app.inner.data).table(kind).rows.remove(&id) {
        Some(rec) => {
            // The vendor lists `company.deleted` only (§1.4).
            if kind == Kind::Company {
                notify(&app, kind, "deleted", &rec, &app.common.root_url);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}
