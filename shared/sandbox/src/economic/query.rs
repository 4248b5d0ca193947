//! Listing a collection [D `_introduction.md` "Pagination", "Filtering", "Sorting"]:
//! `filter=` (see [`super::filter`]) with its 400 naming `allowedFilteringFields` and
//! `allowedFilteringOperators`, `sort=` (`a,-b,~c`, case-insensitive strings, `~` sorts numbers
//! as text), then `skippages`/`pagesize` into `{collection, pagination, metaData, self}`.

use std::cmp::Ordering;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{bad, error_with};
use super::facts::*;
use super::filter::{self, operators_for, FType, FilterError};
use super::{App, Obj};
use crate::kit::http::{json, qget};
use crate::kit::paging::{economic::page, link};

/// How a collection is listed.
pub(super) struct Coll {
    /// Path under the root (`customers`, `orders/drafts`).
    pub(super) path: &'static str,
    /// Filterable (and [I] sortable) properties.
    pub(super) fields: &'static [(&'static str, FType)],
    /// The `metaData.create` description when the collection takes POSTs.
    pub(super) create: Option<&'static str>,
}

fn filter_error(e: FilterError, coll: &Coll) -> Response {
    let fields: Vec<&str> = coll.fields.iter().map(|(f, _)| *f).collect();
    let mut extra = Obj::new();
    let msg = match e {
        FilterError::Field(f) => {
            extra.insert("allowedFilteringFields".into(), json!(fields));
            extra.insert(
                "allowedFilteringOperators".into(),
                json!([
                    "$eq:", "$ne:", "$gt:", "$gte:", "$lt:", "$lte:", "$like:", "$and:", "$or:",
                    "$in:", "$nin:"
                ]),
            );
            format!("Filtering on the property '{f}' is not allowed.")
        }
        FilterError::Operator(f, op, t) => {
            extra.insert("allowedFilteringFields".into(), json!(fields));
            extra.insert("allowedFilteringOperators".into(), json!(operators_for(t)));
            format!(
                "The operator '{}' is not allowed on the property '{f}'.",
                op.name()
            )
        }
        FilterError::Value(m) | FilterError::Syntax(m) => m,
    };
    error_with(
        StatusCode::BAD_REQUEST,
        E_FILTER,
        &format!("Invalid filter. {msg}"),
        "See the collection's schema for the properties marked filterable.",
        extra,
    )
}

fn cmp_for_sort(a: &Value, b: &Value, as_text: bool) -> Ordering {
    let text = |v: &Value| match v {
        Value::String(s) => s.to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if !as_text => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        _ => text(a).cmp(&text(b)),
    }
}

/// Applies `sort=` (`a,-b,~c`) to `rows`; ties keep the collection's order.
fn sort(rows: &mut [Value], spec: &str, coll: &Coll) -> Result<(), Response> {
    let mut keys = Vec::new();
    for part in spec.split(',').filter(|p| !p.is_empty()) {
        let (desc, rest) = match part.strip_prefix('-') {
            Some(r) => (true, r),
            None => (false, part),
        };
        let (text, name) = match rest.strip_prefix('~') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        if !(SORTABLE_IS_FILTERABLE && coll.fields.iter().any(|(f, _)| *f == name)) {
            let fields: Vec<&str> = coll.fields.iter().map(|(f, _)| *f).collect();
            let mut extra = Obj::new();
            extra.insert("allowedSortingFields".into(), json!(fields));
            return Err(error_with(
                StatusCode::BAD_REQUEST,
                E_SORT,
                &format!("Sorting on the property '{name}' is not allowed."),
                "See the collection's schema for the properties marked sortable.",
                extra,
            ));
        }
        keys.push((name.to_string(), desc, text));
    }
    rows.sort_by(|a, b| {
        for (k, desc, text) in &keys {
            let get = |v: &Value| {
                k.split('.')
                    .try_fold(v.clone(), |v, p| v.get(p).cloned())
                    .unwrap_or(Value::Null)
            };
            let o = cmp_for_sort(&get(a), &get(b), *text);
            let o = if *desc { o.reverse() } else { o };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    });
    Ok(())
}

/// A collection answer over `rows` (rendered, in the collection's default order):
/// `filter=`, `sort=`, then `skippages`/`pagesize`; `{collection, pagination, metaData, self}`.
pub(super) fn collection(
    app: &App,
    coll: &Coll,
    q: &[(String, String)],
    rows: Vec<Value>,
) -> Response {
    collection_at(app, coll, coll.path, q, rows)
}

/// [`collection`] at `path` (a sub-collection such as a customer's contacts).
pub(super) fn collection_at(
    app: &App,
    coll: &Coll,
    path: &str,
    q: &[(String, String)],
    mut rows: Vec<Value>,
) -> Response {
    let mut run = || -> Result<Response, Response> {
        let num = |key: &str, default: usize| match qget(q, key) {
            None => Ok(default),
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| bad(E_PAGING, format!("'{v}' is not a valid {key}."))),
        };
        let size = num("pagesize", DEFAULT_PAGE_SIZE)?;
        if size == 0 || size > MAX_PAGE_SIZE {
            return Err(bad(
                E_PAGING,
                format!("pagesize must be between 1 and {MAX_PAGE_SIZE}."),
            ));
        }
        let skip = num("skippages", 0)?;
        let unfiltered = rows.len();
        if let Some(f) = qget(q, "filter") {
            let e = filter::parse(f, coll.fields).map_err(|e| filter_error(e, coll))?;
            rows.retain(|r| filter::matches(&e, r, coll.fields));
        }
        if let Some(s) = qget(q, "sort") {
            sort(&mut rows, s, coll)?;
        }
        let base = app.url(path);
        let (items, pagination) = page(&rows, skip, size, MAX_PAGE_SIZE, unfiltered, &base, q);
        let mut body = json!({"collection": items, "pagination": pagination,
            "self": link(&base, q, &[])});
        if let (Some(desc), Some(o)) = (coll.create, body.as_object_mut()) {
            o.insert(
                "metaData".into(),
                json!({"create": {"description": desc, "href": base, "httpMethod": "post"}}),
            );
        }
        Ok(json(StatusCode::OK, body))
    };
    run().unwrap_or_else(|e| e)
}
