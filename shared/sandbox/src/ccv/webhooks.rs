//! `webhooks` CRUD and the deliveries [C `ccvshop-api` `Resources/Webhook.php`, jacobdekeizer
//! model]: `POST /webhooks {event, address, is_active}` returns `{id, href, createdate, event,
//! address, key, is_active}`, the `key` being the subscription's own secret; `PATCH` changes
//! only `address` and `is_active`; an inactive subscription does not fire. What a delivery
//! carries and how it is signed are [I], in [`super::facts`].

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde_json::{json, Value};

use super::api::{bad, check_fields, created, id_of, missing, no_content, parse_body, Kind};
use super::facts::{delivery_body, delivery_headers, fmt_time, EVENTS};
use super::orders::run;
use super::{App, Obj, Shop};
use crate::kit::http::json;
use crate::kit::lock;

fn render(app: &App, h: &Obj) -> Value {
    let mut v = h.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert("href".into(), json!(app.url(&format!("webhooks/{id}"))));
    Value::Object(v)
}

/// Sends `event` about `{collection}/{id}` to every active subscription of that event.
pub(super) fn notify(app: &App, shop: &Shop, event: &str, id: u64, collection: &str) {
    let href = app.url(&format!("{collection}/{id}"));
    for h in shop.webhooks.rows.values() {
        if h["event"].as_str() != Some(event) || h["is_active"].as_bool() != Some(true) {
            continue;
        }
        let (Some(url), Some(key)) = (h["address"].as_str(), h["key"].as_str()) else {
            continue;
        };
        let body = delivery_body(event, id, &href);
        let headers = delivery_headers(key, event, &body);
        app.common
            .outbox
            .send_with(url.to_string(), event, body, headers);
    }
}

/// A new subscription's `key`: 32 random hex digits.
fn new_key() -> String {
    let bytes: [u8; 16] = rand::thread_rng().gen();
    hex::encode(bytes)
}

/// Adds a subscription (the API and the test handle both use it); its id and key.
pub(super) fn subscribe(
    app: &App,
    shop: &mut Shop,
    event: &str,
    address: &str,
    active: bool,
) -> Result<(u64, String), String> {
    if !EVENTS.contains(&event) {
        return Err(format!(
            "Invalid event '{event}'; one of: {}",
            EVENTS.join(", ")
        ));
    }
    if !(address.starts_with("http://") || address.starts_with("https://")) {
        return Err(format!("Invalid address '{address}'"));
    }
    let key = new_key();
    let rec = json!({"createdate": fmt_time(app.common.stamp()), "event": event,
        "address": address, "key": key, "is_active": active});
    let id = shop
        .webhooks
        .insert(rec.as_object().cloned().unwrap_or_default());
    Ok((id, key))
}

pub(super) async fn list(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    run(|| {
        let shop = lock(&app.inner.shop);
        let rows: Vec<Value> = shop
            .webhooks
            .rows
            .values()
            .map(|h| render(&app, h))
            .collect();
        drop(shop);
        super::api::paged(&app, "webhooks", &q, &rows)
    })
}

pub(super) async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.webhooks.rows.get(&i)) {
        Some(h) => json(StatusCode::OK, render(&app, h)),
        None => missing("Webhook", &id),
    }
}

/// `POST /webhooks {event, address, is_active}` → 201 with the `key`.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let f = check_fields(
            &parse_body(&body)?,
            &[
                ("event", Kind::Str),
                ("address", Kind::Str),
                ("is_active", Kind::Bool),
            ],
        )?;
        let event = f.get("event").and_then(Value::as_str).unwrap_or("");
        let address = f.get("address").and_then(Value::as_str).unwrap_or("");
        let active = f.get("is_active").and_then(Value::as_bool).unwrap_or(true);
        let mut shop = lock(&app.inner.shop);
        let (id, _) = subscribe(&app, &mut shop, event, address, active).map_err(bad)?;
        Ok(created(render(&app, &shop.webhooks.rows[&id])))
    })
}

/// `PATCH /webhooks/{id} {address?, is_active?}` → 204; the event cannot change [C].
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let f = check_fields(
            &parse_body(&body)?,
            &[("address", Kind::Str), ("is_active", Kind::Bool)],
        )?;
        let mut shop = lock(&app.inner.shop);
        let Some(h) = id_of(&id).and_then(|i| shop.webhooks.rows.get_mut(&i)) else {
            return Err(missing("Webhook", &id));
        };
        h.extend(f);
        Ok(no_content())
    })
}

pub(super) async fn remove(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.webhooks.rows.remove(&i)) {
        Some(_) => no_content(),
        None => missing("Webhook", &id),
    }
}
