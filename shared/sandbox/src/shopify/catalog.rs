//! Products and customers (§(c) "Products and customers"): lists with `ids`, `since_id`,
//! `created_at_min/max`, `updated_at_min/max` (products also `title`, `product_type`), counts,
//! single records, and `POST customers.json` with Shopify's 422 validation errors.

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    self, ids_param, list_answer, list_query, page_ids, project, since_param, TimeFilters,
};
use super::model::{Customer, Product};
use super::{webhooks, App};
use crate::kit::http::{json, qget};
use crate::shopworld::phone_digits;

struct Common {
    times: TimeFilters,
    since_id: u64,
    ids: Option<Vec<u64>>,
}

impl Common {
    fn parse(q: &[(String, String)]) -> Result<Common, Response> {
        Ok(Common {
            times: TimeFilters::parse(q)?,
            since_id: since_param(q)?,
            ids: ids_param(q)?,
        })
    }

    fn ok(
        &self,
        id: u64,
        created: chrono::DateTime<chrono::Utc>,
        updated: chrono::DateTime<chrono::Utc>,
    ) -> bool {
        id > self.since_id
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&id))
            && self.times.ok(created, updated)
    }
}

fn product_ok(c: &Common, q: &[(String, String)], p: &Product) -> bool {
    c.ok(p.id, p.created_at, p.updated_at)
        && qget(q, "title").is_none_or(|t| p.title.to_lowercase().contains(&t.to_lowercase()))
        && qget(q, "product_type").is_none_or(|t| p.product_type == t)
}

/// `GET products.json`.
pub(super) fn list_products(app: &App, version: &str, q: &[(String, String)]) -> Response {
    let lq = match list_query("products", q) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = match Common::parse(&lq.filters) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let shop = app.shop();
    let ids: Vec<u64> = shop
        .products
        .values()
        .filter(|p| product_ok(&c, &lq.filters, p))
        .map(|p| p.id)
        .collect();
    let (page, link) = match page_ids(app, version, "products", &ids, &lq) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = page
        .iter()
        .filter_map(|id| shop.products.get(id))
        .map(|p| project(p.render(), &lq.fields))
        .collect();
    list_answer("products", rows, link)
}

/// `GET products/count.json`.
pub(super) fn count_products(app: &App, q: &[(String, String)]) -> Response {
    let c = match Common::parse(q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let n = app
        .shop()
        .products
        .values()
        .filter(|p| product_ok(&c, q, p))
        .count();
    json(StatusCode::OK, json!({ "count": n }))
}

/// `GET products/{id}.json`.
pub(super) fn product(app: &App, id: u64, q: &[(String, String)]) -> Response {
    let fields = qget(q, "fields").map(str::to_string);
    match app.shop().products.get(&id) {
        Some(p) => json(
            StatusCode::OK,
            json!({ "product": project(p.render(), &fields) }),
        ),
        None => api::not_found(),
    }
}

/// `GET customers.json`.
pub(super) fn list_customers(app: &App, version: &str, q: &[(String, String)]) -> Response {
    let lq = match list_query("customers", q) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let c = match Common::parse(&lq.filters) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let shop = app.shop();
    let ids: Vec<u64> = shop
        .customers
        .values()
        .filter(|x| c.ok(x.id, x.created_at, x.updated_at))
        .map(|x| x.id)
        .collect();
    let (page, link) = match page_ids(app, version, "customers", &ids, &lq) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = page
        .iter()
        .filter_map(|id| shop.render_customer(*id))
        .map(|v| project(v, &lq.fields))
        .collect();
    list_answer("customers", rows, link)
}

/// `GET customers/count.json`.
pub(super) fn count_customers(app: &App, q: &[(String, String)]) -> Response {
    let c = match Common::parse(q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let n = app
        .shop()
        .customers
        .values()
        .filter(|x| c.ok(x.id, x.created_at, x.updated_at))
        .count();
    json(StatusCode::OK, json!({ "count": n }))
}

/// `GET customers/{id}.json`.
pub(super) fn customer(app: &App, id: u64, q: &[(String, String)]) -> Response {
    let fields = qget(q, "fields").map(str::to_string);
    match app.shop().render_customer(id) {
        Some(v) => json(StatusCode::OK, json!({ "customer": project(v, &fields) })),
        None => api::not_found(),
    }
}

/// A customer phone as Shopify stores it (E.164), or `None` when it cannot be one.
pub(super) fn e164(raw: &str) -> Option<String> {
    let d = phone_digits(raw);
    (d.len() == 9).then(|| format!("+34{d}"))
}

/// `POST customers.json` `{"customer": {first_name, last_name, email, phone}}` → 201, or 422
/// `{"errors": {"base"|"email"|"phone": […]}}` [D: the `base` message; I: the others].
pub(super) fn create_customer(app: &App, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return api::bad_request("Invalid JSON");
    };
    let Some(c) = v.get("customer").and_then(Value::as_object) else {
        return api::errors(
            StatusCode::BAD_REQUEST,
            json!({"customer": "Required parameter missing or invalid"}),
        );
    };
    let text = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (first, last, email, phone) = (
        text("first_name"),
        text("last_name"),
        text("email"),
        text("phone"),
    );
    if first.is_none() && last.is_none() && email.is_none() && phone.is_none() {
        return api::unprocessable(
            "base",
            "A name, phone number, or email address must be present",
        );
    }
    let phone = match phone {
        None => None,
        Some(p) => match e164(&p) {
            Some(p) => Some(p),
            None => return api::unprocessable("phone", "is invalid"),
        },
    };
    if email
        .as_ref()
        .is_some_and(|e| !crate::kit::http::valid_email(e))
    {
        return api::unprocessable("email", "is invalid");
    }
    let now = app.common.stamp();
    let mut shop = app.shop();
    let email = email.map(|e| e.to_lowercase());
    if email.is_some() && shop.customers.values().any(|x| x.email == email) {
        return api::unprocessable("email", "has already been taken");
    }
    if phone.is_some() && shop.customers.values().any(|x| x.phone == phone) {
        return api::unprocessable("phone", "has already been taken");
    }
    let id = shop.next_customer;
    shop.next_customer += 1;
    shop.customers.insert(
        id,
        Customer {
            id,
            first_name: first.unwrap_or_default(),
            last_name: last.unwrap_or_default(),
            email,
            phone,
            state: "disabled",
            address: None,
            created_at: now,
            updated_at: now,
        },
    );
    let v = shop.render_customer(id).unwrap_or(Value::Null);
    webhooks::fire(app, &shop, &[("customers/create", v.clone())]);
    json(StatusCode::CREATED, json!({ "customer": v }))
}
