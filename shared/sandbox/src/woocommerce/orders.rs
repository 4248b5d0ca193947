//! `/orders` and `/orders/{id}` (§(d) "Orders"): the filters with WordPress's 400s, the status
//! enum with `trash`, updates through the API (which fire `order.updated` like any save), and
//! DELETE to the trash (or gone with `force=true`), which fires `order.deleted` `{"id":N}`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    answer, body_json, date_param, descending, id_list, invalid_param, paged, wp_error,
};
use super::model::secs;
use super::model::Order;
use super::seed::STATUSES;
use super::{webhooks, App};
use crate::kit::http::qget;

type Q = Query<Vec<(String, String)>>;

fn status_list() -> String {
    let mut all = vec!["any"];
    all.extend(STATUSES);
    all.join(", ")
}

/// The statuses asked for (`status=a,b` or `status[]=a`); `None` = any.
fn statuses(q: &[(String, String)]) -> Result<Option<Vec<String>>, Response> {
    let raw: Vec<&str> = q
        .iter()
        .filter(|(k, _)| k == "status" || k == "status[]")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .collect();
    for (i, s) in raw.iter().enumerate() {
        if *s != "any" && !STATUSES.contains(s) {
            return Err(invalid_param(
                "status",
                &format!("status[{i}] is not one of {}.", status_list()),
            ));
        }
    }
    if raw.is_empty() || raw.contains(&"any") {
        return Ok(None);
    }
    Ok(Some(raw.into_iter().map(str::to_string).collect()))
}

fn not_found() -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_order_invalid_id",
        "Invalid ID.",
    )
}

/// `GET /orders`.
pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    let filter = (|| -> Result<_, Response> {
        Ok((
            statuses(&q)?,
            (date_param(&q, "after")?, date_param(&q, "before")?),
            (
                date_param(&q, "modified_after")?,
                date_param(&q, "modified_before")?,
            ),
            id_list(&q, "include")?,
            id_list(&q, "exclude")?,
            descending(&q, true)?,
        ))
    })();
    let (status, (after, before), (mafter, mbefore), include, exclude, desc) = match filter {
        Ok(f) => f,
        Err(r) => return r,
    };
    let num = |k: &str| {
        qget(&q, k).map(|v| {
            v.parse::<u64>()
                .map_err(|_| invalid_param(k, &format!("{k} is not of type integer.")))
        })
    };
    let customer = match num("customer").transpose() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let product = match num("product").transpose() {
        Ok(c) => c,
        Err(r) => return r,
    };
    let orderby = qget(&q, "orderby").unwrap_or("date");
    if !matches!(
        orderby,
        "date" | "id" | "modified" | "include" | "title" | "slug"
    ) {
        return invalid_param(
            "orderby",
            "orderby is not one of date, id, include, title, slug, modified.",
        );
    }
    let search = qget(&q, "search").map(str::to_lowercase);
    let store = app.store();
    let mut rows: Vec<&Order> = store
        .orders
        .values()
        .filter(|o| match &status {
            // [I] facts::ANY_EXCLUDES
            None => o.status != super::facts::ANY_EXCLUDES,
            Some(s) => s.iter().any(|x| x == o.status),
        })
        .filter(|o| {
            after.is_none_or(|t| secs(o.created) > t) && before.is_none_or(|t| secs(o.created) < t)
        })
        .filter(|o| {
            mafter.is_none_or(|t| secs(o.modified) > t)
                && mbefore.is_none_or(|t| secs(o.modified) < t)
        })
        .filter(|o| include.as_ref().is_none_or(|i| i.contains(&o.id)))
        .filter(|o| exclude.as_ref().is_none_or(|i| !i.contains(&o.id)))
        .filter(|o| customer.is_none_or(|c| o.customer_id == c))
        .filter(|o| {
            product.is_none_or(|p| {
                o.lines
                    .iter()
                    .any(|l| l.product_id == p || l.variation_id == p)
            })
        })
        .filter(|o| {
            search.as_ref().is_none_or(|s| {
                let b = &o.billing;
                [
                    &b.first_name,
                    &b.last_name,
                    &b.email,
                    &b.phone,
                    &o.id.to_string(),
                ]
                .iter()
                .any(|f| f.to_lowercase().contains(s.as_str()))
            })
        })
        .collect();
    match orderby {
        "id" | "include" | "title" | "slug" => rows.sort_by_key(|o| o.id),
        "modified" => rows.sort_by_key(|o| (o.modified, o.id)),
        _ => rows.sort_by_key(|o| (o.created, o.id)),
    }
    if desc {
        rows.reverse();
    }
    let root = app.common.root_url.clone();
    paged(&app, "orders", &q, &rows, |o| o.render(&root))
}

/// `GET /orders/{id}` (any status, trash included).
pub(super) async fn get(State(app): State<App>, Path(id): Path<String>) -> Response {
    let store = app.store();
    match id.parse().ok().and_then(|id: u64| store.orders.get(&id)) {
        Some(o) => answer(StatusCode::OK, &o.render(&app.common.root_url)),
        None => not_found(),
    }
}

/// Applies a change an API client or the owner makes: status (with paid/completed dates),
/// note, line quantities. Returns the webhook event(s) it fires.
pub(super) fn apply(
    o: &mut Order,
    body: &Value,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<&'static str>, Response> {
    let mut events = vec!["updated"];
    if let Some(s) = body.get("status") {
        let s = s.as_str().unwrap_or("");
        let Some(status) = STATUSES.iter().find(|x| **x == s) else {
            return Err(invalid_param(
                "status",
                &format!("status is not one of {}.", STATUSES.join(", ")),
            ));
        };
        if o.status == "trash" && *status != "trash" {
            events.push("restored");
        }
        if *status == "trash" && o.status != "trash" {
            events = vec!["deleted"];
        }
        if matches!(*status, "processing" | "completed") && o.paid.is_none() {
            o.paid = Some(now);
        }
        if *status == "completed" {
            o.completed = Some(now);
        }
        o.status = status;
    }
    if let Some(n) = body.get("customer_note").and_then(Value::as_str) {
        o.note = n.to_string();
    }
    if let Some(lines) = body.get("line_items").and_then(Value::as_array) {
        for l in lines {
            let (Some(id), Some(q)) = (
                l.get("id").and_then(Value::as_u64),
                l.get("quantity").and_then(Value::as_u64),
            ) else {
                return Err(invalid_param(
                    "line_items",
                    "line_items[0][id] and [quantity] are required.",
                ));
            };
            let Some(line) = o.lines.iter_mut().find(|x| x.id == id) else {
                return Err(wp_error(
                    StatusCode::BAD_REQUEST,
                    "woocommerce_rest_invalid_item_id",
                    "Order item ID provided is not associated with order.",
                ));
            };
            line.quantity = q;
        }
    }
    o.modified = now;
    Ok(events)
}

/// `PUT`/`POST /orders/{id}` with `status`, `customer_note`, `line_items[{id, quantity}]`.
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match body_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let now = app.common.stamp();
    let mut store = app.store();
    let Some(o) = id
        .parse()
        .ok()
        .and_then(|id: u64| store.orders.get_mut(&id))
    else {
        return wp_error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_order_invalid_id",
            "Invalid ID.",
        );
    };
    let events = match apply(o, &body, now) {
        Ok(e) => e,
        Err(r) => return r,
    };
    let v = o.render(&app.common.root_url);
    let oid = o.id;
    for e in events {
        webhooks::fire(&app, &store, "order", e, oid, &v);
    }
    answer(StatusCode::OK, &v)
}

/// `DELETE /orders/{id}`: to the trash, or gone with `force=true`; `order.deleted` either way.
pub(super) async fn delete(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    let force = qget(&q, "force").is_some_and(|f| f == "true" || f == "1");
    let now = app.common.stamp();
    let mut store = app.store();
    let Some(oid) = id
        .parse()
        .ok()
        .filter(|id: &u64| store.orders.contains_key(id))
    else {
        return not_found();
    };
    let v = if force {
        let o = store.orders.remove(&oid).expect("checked");
        o.render(&app.common.root_url)
    } else {
        let o = store.orders.get_mut(&oid).expect("checked");
        if o.status == "trash" {
            return wp_error(
                StatusCode::GONE,
                "woocommerce_rest_already_trashed",
                "The order has already been deleted.",
            );
        }
        o.status = "trash";
        o.modified = now;
        o.render(&app.common.root_url)
    };
    webhooks::fire(&app, &store, "order", "deleted", oid, &json!({"id": oid}));
    answer(StatusCode::OK, &v)
}
