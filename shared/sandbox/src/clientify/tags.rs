//! `/v1/{contacts|companies}/{id}/tags/[{tagId}/]`: a record's tags as a sub-resource.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::drf::{bad_request, char_value, field_err, not_found, parse_body};
use super::handlers::{id_of, kind_of};
use super::query::{abs_base, envelope, paginate};
use super::webhooks::notify;
use super::{App, Obj, Q};
use crate::kit::clock::fmt_micros;
use crate::kit::http::json;
use crate::kit::lock;

/// `GET /v1/{contacts|companies}/{id}/tags/` → envelope of `{id,name}`
/// [C: C3, C5 §1.3].
pub(super) async fn list_tags(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let tags: Vec<Value> = {
        let mut d = lock(&app.inner.data);
        let Some(rec) = d.table(kind).rows.get(&id).cloned() else {
            return not_found();
        };
        rec.get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|t| json!({"id": d.tag_id(kind, t), "name": t}))
            .collect()
    };
    let base = abs_base(&headers, &app.common);
    match paginate(&tags, &q, &format!("{base}{}", uri.path())) {
        Ok((page, p)) => envelope(&p, page.to_vec()),
        Err(r) => r,
    }
}

/// `POST /v1/{contacts|companies}/{id}/tags/` `{"name"}` → 201 `{id,name}`,
/// "creates the tag if needed" [C: C3, C5]; bumps `modified` [I: §3].
pub(super) async fn add_tag(
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
    let mut d = lock(&app.inner.data);
    if !d.table(kind).rows.contains_key(&id) {
        return not_found();
    }
    let name = match body.get("name").map(char_value) {
        None => Err("This field is required.".to_string()),
        Some(Ok(n)) if n.is_empty() => Err("This field may not be blank.".to_string()),
        Some(r) => r,
    };
    let name = match name {
        Ok(n) => n,
        Err(m) => {
            let mut e = Obj::new();
            field_err(&mut e, "name", m);
            return bad_request(e);
        }
    };
    let tag_id = d.tag_id(kind, &name);
    let stamp = fmt_micros(app.common.stamp());
    if let Some(rec) = d.table(kind).rows.get_mut(&id) {
        let tags = rec.entry("tags").or_insert_with(|| json!([]));
        if let Value::Array(a) = tags {
            if !a.iter().any(|t| t.as_str() == Some(name.as_str())) {
                a.push(json!(name));
            }
        }
        rec.insert("modified".into(), json!(stamp));
        let rec = rec.clone();
        notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
    }
    json(StatusCode::CREATED, json!({"id": tag_id, "name": name}))
}

/// `DELETE /v1/{contacts|companies}/{id}/tags/{tagId}/` → 204 [C: C3, C5];
/// bumps `modified` [I].
pub(super) async fn remove_tag(
    State(app): State<App>,
    Path((seg, id, tag)): Path<(String, String, String)>,
) -> Response {
    let (kind, id, tag) = match (kind_of(&seg), id_of(&id), id_of(&tag)) {
        (Ok(k), Ok(i), Ok(t)) => (k, i, t),
        _ => return not_found(),
    };
    let mut d = lock(&app.inner.data);
    let Some(name) = d
        .table(kind)
        .tags
        .iter()
        .find(|(_, v)| **v == tag)
        .map(|(k, _)| k.clone())
    else {
        return not_found();
    };
    let stamp = fmt_micros(app.common.stamp());
    let Some(rec) = d.table(kind).rows.get_mut(&id) else {
        return not_found();
    };
    let Some(Value::Array(tags)) = rec.get_mut("tags") else {
        return not_found();
    };
    let before = tags.len();
    tags.retain(|t| t.as_str() != Some(name.as_str()));
    if tags.len() == before {
        return not_found();
    }
    rec.insert("modified".into(), json!(stamp));
    let rec = rec.clone();
    notify(&app, kind, "saved", &rec, &app.common.root_url);
    StatusCode::NO_CONTENT.into_response()
}
