//! Reading: records as served (absolute `url`, sparse fields), DRF paging, django-filter
//! filters and `OrderingFilter`.

use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::drf::{detail_resp, field_err};
use super::{Kind, Obj};
use crate::kit::clock::parse_iso;
use crate::kit::http::{icontains, json, qget, s};
use crate::kit::paging::drf::{self, DrfPage, InvalidPage};
use crate::kit::Common;

/// DRF `PageNumberPagination` page size and `max_page_size` [I].
const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 250;

pub(super) fn abs_base(headers: &HeaderMap, common: &Common) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| common.root_url.clone())
}

fn obj_id(o: &Obj) -> u64 {
    o.get("id").and_then(Value::as_u64).unwrap_or(0)
}

fn ts(o: &Obj, key: &str) -> DateTime<Utc> {
    parse_iso(s(o.get(key))).unwrap_or_default()
}

/// The record as served: with its absolute `url` [C: §1.3].
pub(super) fn render(rec: &Obj, kind: Kind, base: &str) -> Obj {
    let mut o = rec.clone();
    o.insert(
        "url".into(),
        json!(format!("{base}/v1/{}/{}/", kind.segment(), obj_id(rec))),
    );
    o
}

/// `fields=a,b` sparse field selection [C: C3, C12].
pub(super) fn sparse(o: Obj, q: &[(String, String)]) -> Value {
    match qget(q, "fields").filter(|f| !f.trim().is_empty()) {
        None => Value::Object(o),
        Some(f) => {
            let keep: Vec<&str> = f.split(',').map(str::trim).collect();
            Value::Object(
                o.into_iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .collect(),
            )
        }
    }
}

/// DRF `PageNumberPagination` [C: §1.2 envelope, C6 404 "Invalid page."]:
/// `page` 1-based (or `last`), `page_size` default 50 / max 250 [I],
/// invalid `page_size` → default (DRF `_positive_int`); `next`/`previous`
/// are absolute and keep the other params (sorted, as DRF re-encodes them).
pub(super) fn paginate<'a, T>(
    items: &'a [T],
    q: &[(String, String)],
    page_url: &str,
) -> Result<(&'a [T], DrfPage), Response> {
    drf::page(items, q, page_url, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
        .map_err(|InvalidPage| detail_resp(StatusCode::NOT_FOUND, "Invalid page."))
}

pub(super) fn envelope(p: &DrfPage, results: Vec<Value>) -> Response {
    json(StatusCode::OK, p.envelope(results))
}

pub(super) struct Filters {
    exact: Vec<(String, String)>,
    query: Option<String>,
    /// (field, lower bound?, instant)
    dates: Vec<(&'static str, bool, DateTime<Utc>)>,
}

pub(super) fn parse_filters(kind: Kind, q: &[(String, String)]) -> Result<Filters, Obj> {
    let exact_keys: &[&str] = match kind {
        Kind::Contact => &[
            "email",
            "phone",
            "first_name",
            "taxpayer_identification_number",
        ],
        Kind::Company => &["name", "taxpayer_identification_number"],
        Kind::Product => &["sku", "name"],
        Kind::Order => &["order_id", "ecommerce", "status"],
        Kind::Budget => &["code"],
    };
    let mut f = Filters {
        exact: Vec::new(),
        query: None,
        dates: Vec::new(),
    };
    // django-filter ignores empty values and unknown params.
    for key in exact_keys {
        if let Some(v) = qget(q, key).filter(|v| !v.is_empty()) {
            f.exact.push((key.to_string(), v.to_string()));
        }
    }
    f.query = qget(q, "query")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_lowercase);
    let mut errs = Obj::new();
    for (param, field, lower) in [
        ("created[gte]", "created", true),
        ("created[lte]", "created", false),
        ("modified[gte]", "modified", true),
        ("modified[lte]", "modified", false),
    ] {
        if let Some(v) = qget(q, param).filter(|v| !v.is_empty()) {
            match parse_iso(v) {
                Some(t) => f.dates.push((field, lower, t)),
                None => field_err(&mut errs, param, "Enter a valid date/time."),
            }
        }
    }
    if errs.is_empty() {
        Ok(f)
    } else {
        Err(errs)
    }
}

fn sub_values<'a>(o: &'a Obj, list: &str, key: &'a str) -> impl Iterator<Item = &'a str> {
    o.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(move |x| s(x.get(key)))
}

pub(super) fn matches(o: &Obj, kind: Kind, f: &Filters) -> bool {
    for (k, v) in &f.exact {
        let ok = match k.as_str() {
            "email" => sub_values(o, "emails", "email").any(|e| e == v),
            "phone" => sub_values(o, "phones", "phone").any(|p| p == v),
            other => s(o.get(other)) == v,
        };
        if !ok {
            return false;
        }
    }
    if let Some(qs) = &f.query {
        let hit = |x: &str| icontains(x, qs);
        let tax = s(o.get("taxpayer_identification_number"));
        let ok = match kind {
            Kind::Contact => {
                let (fnm, lnm) = (s(o.get("first_name")), s(o.get("last_name")));
                hit(fnm) || hit(lnm) || hit(&format!("{fnm} {lnm}")) || hit(tax)
            }
            Kind::Company => hit(s(o.get("name"))) || hit(s(o.get("business_name"))) || hit(tax),
            Kind::Product => hit(s(o.get("name"))) || hit(s(o.get("sku"))),
            Kind::Order => hit(s(o.get("order_id"))),
            Kind::Budget => hit(s(o.get("code"))),
        } || sub_values(o, "emails", "email").any(hit);
        if !ok {
            return false;
        }
    }
    for (field, lower, t) in &f.dates {
        let v = ts(o, field);
        if (*lower && v < *t) || (!*lower && v > *t) {
            return false;
        }
    }
    true
}

/// DRF `OrderingFilter` on `id`, `created`, `modified` (optionally `-`),
/// comma lists; invalid terms are dropped; default `id` [C/I: §1.2].
pub(super) fn order(rows: &mut [&Obj], q: &[(String, String)]) {
    let terms: Vec<(&str, bool)> = qget(q, "ordering")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter_map(|t| {
            let (desc, f) = t.strip_prefix('-').map_or((false, t), |f| (true, f));
            ["id", "created", "modified"]
                .contains(&f)
                .then_some((f, desc))
        })
        .collect();
    // One key per row (timestamps parsed once), then the id as the final tie-breaker.
    rows.sort_by_cached_key(|o| {
        let id = obj_id(o) as i128;
        let mut key: Vec<i128> = terms
            .iter()
            .map(|(f, desc)| {
                let v = match *f {
                    "created" => ts(o, "created").timestamp_micros() as i128,
                    "modified" => ts(o, "modified").timestamp_micros() as i128,
                    _ => id,
                };
                if *desc {
                    -v
                } else {
                    v
                }
            })
            .collect();
        key.push(id);
        key
    });
}
