//! ALG-7 and ALG-8: `/api/v1/items`, `/api/v1/estimates` and `/api/v1/taxes`.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{bad, error, id_of, list_response, page_of, parse_json, text};
use super::webhooks::notify;
use super::{App, Data, Obj, MAX_LIMIT, Q};
use crate::kit::http::{json, qget, s};
use crate::kit::lock;

/// Taxes every account starts with (Spanish VAT rates) [I]; shape `id, name, percentage,
/// description, status, type` [C: A5].
fn default_taxes() -> Vec<Obj> {
    [
        ("1", "IVA", "21.00"),
        ("2", "IVA Reducido", "10.00"),
        ("3", "IVA Superreducido", "4.00"),
    ]
    .iter()
    .map(|(id, name, p)| {
        obj(
            json!({"id": id, "name": name, "percentage": p, "description": "",
                "status": "active", "type": "IVA"}),
        )
    })
    .collect()
}

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Items and estimates share the contacts' paging and error shapes.
pub(crate) struct Catalog {
    items: BTreeMap<u64, Obj>,
    next_item: u64,
    estimates: BTreeMap<u64, Obj>,
    next_estimate: u64,
    taxes: Vec<Obj>,
}

impl Catalog {
    pub(super) fn new() -> Catalog {
        Catalog {
            items: BTreeMap::new(),
            next_item: 1,
            estimates: BTreeMap::new(),
            next_estimate: 1,
            taxes: default_taxes(),
        }
    }

    /// `tax` as the API takes it: an id, `[id]`, `[{id}]` [C: A6] → full tax objects.
    fn taxes_of(&self, v: &Value) -> Result<Vec<Value>, String> {
        let ids: Vec<String> = match v {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|t| match t {
                    Value::Object(o) => s(o.get("id")).to_string(),
                    other => text(other, "tax").unwrap_or_default(),
                })
                .collect(),
            other => vec![text(other, "tax")?],
        };
        ids.iter()
            .filter(|i| !i.is_empty())
            .map(|i| {
                self.taxes
                    .iter()
                    .find(|t| s(t.get("id")) == i)
                    .map(|t| Value::Object(t.clone()))
                    .ok_or_else(|| format!("El impuesto {i} no existe"))
            })
            .collect()
    }
}

fn num_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(x) => x.trim().parse().ok(),
        _ => None,
    }
}

/// Applies an item body (create or partial update) [C: A5, A3, A6]: `price` scalar or
/// `[{idPriceList, price}]`, served as `[{idPriceList, name, price}]` with the price as a
/// string; `tax` ids → tax objects; `name` required.
fn write_item(cat: &Catalog, existing: Option<&Obj>, body: &Obj) -> Result<Obj, String> {
    let mut rec = existing.cloned().unwrap_or_else(|| {
        obj(
            json!({"name": "", "description": "", "reference": "", "status": "active",
            "type": "product", "price": [], "tax": [], "customFields": []}),
        )
    });
    for f in ["name", "description", "reference"] {
        if let Some(v) = body.get(f) {
            rec.insert(f.into(), json!(text(v, f)?));
        }
    }
    if let Some(v) = body.get("type") {
        rec.insert("type".into(), json!(text(v, "type")?));
    }
    if let Some(v) = body.get("price") {
        let p = match v {
            Value::Array(a) => a.first().and_then(|p| p.get("price")).and_then(num_of),
            other => num_of(other),
        }
        .ok_or("El campo price no es válido")?;
        rec.insert(
            "price".into(),
            json!([{"idPriceList": "1", "name": "General", "price": format!("{p:.2}")}]),
        );
    }
    if let Some(v) = body.get("tax") {
        rec.insert("tax".into(), Value::Array(cat.taxes_of(v)?));
    }
    if s(rec.get("name")).trim().is_empty() {
        return Err("El nombre del ítem es obligatorio".into());
    }
    Ok(rec)
}

/// Applies an estimate body [C: A5]: `client` `{id}` or an id (must exist; served as `{id,
/// name, identification}` [I]), `items:[{id, price, quantity, discount, tax}]` (each item
/// must exist; name and reference default to the item's), `date`, `dueDate`,
/// `observations`; `total` computed by Alegra from the lines.
fn write_estimate(
    cat: &Catalog,
    contacts: &Data,
    existing: Option<&Obj>,
    body: &Obj,
) -> Result<Obj, String> {
    let mut rec = existing.cloned().unwrap_or_else(|| {
        obj(
            json!({"date": "", "dueDate": "", "observations": "", "status": "draft",
            "client": null, "items": [], "total": 0}),
        )
    });
    for f in ["date", "dueDate", "observations"] {
        if let Some(v) = body.get(f) {
            rec.insert(f.into(), json!(text(v, f)?));
        }
    }
    if let Some(v) = body.get("client") {
        let id = match v {
            Value::Object(o) => s(o.get("id")).to_string(),
            other => text(other, "client")?,
        };
        let c = id
            .parse::<u64>()
            .ok()
            .and_then(|i| contacts.rows.get(&i))
            .ok_or_else(|| format!("El cliente {id} no existe"))?;
        rec.insert(
            "client".into(),
            json!({"id": id, "name": s(c.get("name")), "identification": s(c.get("identification"))}),
        );
    }
    if let Some(v) = body.get("items") {
        let Value::Array(lines) = v else {
            return Err("El campo items no es válido".into());
        };
        let mut out = Vec::new();
        for l in lines {
            let id = s(l.get("id")).to_string();
            let id = if id.is_empty() {
                l.get("id").map(|x| x.to_string()).unwrap_or_default()
            } else {
                id
            };
            let item = id
                .parse::<u64>()
                .ok()
                .and_then(|i| cat.items.get(&i))
                .ok_or_else(|| format!("El ítem {id} no existe"))?;
            let price = l.get("price").and_then(num_of).unwrap_or_else(|| {
                item.get("price")
                    .and_then(|p| p.get(0))
                    .and_then(|p| p.get("price"))
                    .and_then(num_of)
                    .unwrap_or(0.0)
            });
            let quantity = l
                .get("quantity")
                .and_then(num_of)
                .ok_or("La cantidad es obligatoria")?;
            let discount = l.get("discount").and_then(num_of).unwrap_or(0.0);
            let tax = match l.get("tax") {
                Some(t) => Value::Array(cat.taxes_of(t)?),
                None => item.get("tax").cloned().unwrap_or(json!([])),
            };
            let rate: f64 = tax
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.get("percentage").and_then(num_of))
                        .sum()
                })
                .unwrap_or(0.0);
            let net = price * quantity * (1.0 - discount / 100.0);
            let name = l
                .get("name")
                .map(|n| s(Some(n)).to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s(item.get("name")).to_string());
            out.push(json!({
                "id": id, "name": name, "description": s(item.get("description")),
                "reference": s(item.get("reference")), "price": price, "discount": discount,
                "quantity": quantity, "tax": tax,
                "total": ((net * (1.0 + rate / 100.0)) * 100.0).round() / 100.0,
            }));
        }
        rec.insert("items".into(), Value::Array(out));
    }
    let total: f64 = rec
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("total").and_then(num_of))
                .sum()
        })
        .unwrap_or(0.0);
    rec.insert("total".into(), json!((total * 100.0).round() / 100.0));
    if rec.get("client").is_none_or(Value::is_null) {
        return Err("El cliente es obligatorio".into());
    }
    Ok(rec)
}

/// Which catalog table a path names.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Res {
    Items,
    Estimates,
}

fn res_not_found(r: Res) -> Response {
    match r {
        Res::Items => error(StatusCode::NOT_FOUND, "El ítem no existe"),
        Res::Estimates => error(StatusCode::NOT_FOUND, "La cotización no existe"),
    }
}

/// `GET /items`, `/estimates`: `start`/`limit` (cap 30), bare array or `metadata=true`
/// [C], filters `name`, `reference`, `query` (items) and `client_id` (estimates) [C: A5].
pub(super) async fn cat_list(r: Res, State(app): State<App>, Query(q): Q) -> Response {
    let start: usize = qget(&q, "start")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let limit = qget(&q, "limit")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(MAX_LIMIT)
        .clamp(1, MAX_LIMIT);
    let nonempty = |k: &str| qget(&q, k).map(str::trim).filter(|v| !v.is_empty());
    let name = nonempty("name").map(str::to_lowercase);
    let reference = nonempty("reference").map(str::to_lowercase);
    let query = nonempty("query").map(str::to_lowercase);
    let client = nonempty("client_id");
    let cat = lock(&app.inner.catalog);
    let table = match r {
        Res::Items => &cat.items,
        Res::Estimates => &cat.estimates,
    };
    let rows: Vec<&Obj> = table
        .values()
        .filter(|o| {
            name.as_ref()
                .is_none_or(|x| s(o.get("name")).to_lowercase().contains(x))
                && reference
                    .as_ref()
                    .is_none_or(|x| s(o.get("reference")).to_lowercase() == *x)
                && query.as_ref().is_none_or(|x| {
                    [s(o.get("name")), s(o.get("reference"))]
                        .iter()
                        .any(|f| f.to_lowercase().contains(x))
                })
                && client.is_none_or(|c| {
                    o.get("client")
                        .and_then(|cl| cl.get("id"))
                        .and_then(Value::as_str)
                        == Some(c)
                })
        })
        .collect();
    let (page, total) = page_of(&rows, start, limit);
    drop(cat);
    list_response(&q, page, total)
}

pub(super) async fn cat_detail(r: Res, State(app): State<App>, Path(id): Path<String>) -> Response {
    let cat = lock(&app.inner.catalog);
    let table = if r == Res::Items {
        &cat.items
    } else {
        &cat.estimates
    };
    match id_of(&id).and_then(|i| table.get(&i)) {
        Some(o) => json(StatusCode::OK, Value::Object(o.clone())),
        None => res_not_found(r),
    }
}

/// POST → 201 + object [C: A5 test]; ids are sequential strings [D: A4].
pub(super) async fn cat_create(r: Res, State(app): State<App>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let contacts = lock(&app.inner.data);
    let mut cat = lock(&app.inner.catalog);
    let made = match r {
        Res::Items => write_item(&cat, None, &body),
        Res::Estimates => write_estimate(&cat, &contacts, None, &body),
    };
    let mut rec = match made {
        Ok(x) => x,
        Err(m) => return bad(m),
    };
    let id = match r {
        Res::Items => {
            cat.next_item += 1;
            cat.next_item - 1
        }
        Res::Estimates => {
            cat.next_estimate += 1;
            cat.next_estimate - 1
        }
    };
    rec.insert("id".into(), json!(id.to_string()));
    if r == Res::Estimates {
        rec.insert("number".into(), json!(id.to_string()));
        cat.estimates.insert(id, rec.clone());
    } else {
        cat.items.insert(id, rec.clone());
        // ALG-11: items are subscribable (§2.4); estimates have no event.
        notify(&app, &contacts, "new-item", &rec);
    }
    json(StatusCode::CREATED, Value::Object(rec))
}

/// PUT: partial merge, like contacts [I].
pub(super) async fn cat_update(
    r: Res,
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let contacts = lock(&app.inner.data);
    let mut cat = lock(&app.inner.catalog);
    let Some(id) = id_of(&id) else {
        return res_not_found(r);
    };
    let old = match r {
        Res::Items => cat.items.get(&id),
        Res::Estimates => cat.estimates.get(&id),
    };
    let Some(old) = old.cloned() else {
        return res_not_found(r);
    };
    let made = match r {
        Res::Items => write_item(&cat, Some(&old), &body),
        Res::Estimates => write_estimate(&cat, &contacts, Some(&old), &body),
    };
    match made {
        Ok(rec) => {
            match r {
                Res::Items => {
                    cat.items.insert(id, rec.clone());
                    notify(&app, &contacts, "edit-item", &rec);
                }
                Res::Estimates => {
                    cat.estimates.insert(id, rec.clone());
                }
            }
            json(StatusCode::OK, Value::Object(rec))
        }
        Err(m) => bad(m),
    }
}

/// `GET /taxes`: bare array (the `{total, results}` form seen in A5 is not modelled).
pub(super) async fn taxes(State(app): State<App>) -> Response {
    let cat = lock(&app.inner.catalog);
    json(
        StatusCode::OK,
        Value::Array(cat.taxes.iter().cloned().map(Value::Object).collect()),
    )
}

/// Seeds one item (ids kept when given).
pub(super) fn seed_item(cat: &mut Catalog, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err("alegra seed item: not an object".into());
    };
    let mut rec = write_item(cat, None, &body).map_err(|e| format!("alegra seed item: {e}"))?;
    let id = s(body.get("id")).parse().unwrap_or(cat.next_item);
    cat.next_item = cat.next_item.max(id + 1);
    rec.insert("id".into(), json!(id.to_string()));
    cat.items.insert(id, rec);
    Ok(())
}
