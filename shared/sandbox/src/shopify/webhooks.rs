//! Webhook subscriptions (`webhooks.json`) and deliveries (§(c) "Webhooks"): a POST of the
//! topic's REST resource with `X-Shopify-Topic`, `X-Shopify-Hmac-Sha256` (base64 HMAC-SHA256
//! of the raw body with the app's client secret), `X-Shopify-Shop-Domain`,
//! `X-Shopify-API-Version`, `X-Shopify-Webhook-Id` (one per delivery, kept by its retries and
//! duplicates), `X-Shopify-Triggered-At` and `X-Shopify-Event-Id` (one per merchant action).
//! A refused delivery is retried with the original payload and headers; one that never gets
//! through deletes its subscription [I: see facts].

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::Response;
use rand::Rng;
use serde_json::{json, Value};

use super::api::{self, list_answer, list_query, page_ids, project, since_param};
use super::facts;
use super::model::{ts, Shop, Subscription};
use super::{App, Inner};
use crate::kit::http::{json, qget};
use crate::kit::lock;
use crate::kit::outbox::Delivery;
use crate::kit::sign::hmac_sha256_base64;

/// A random (version 4 layout) uuid from `rng`.
pub(super) fn uuid(rng: &mut impl Rng) -> String {
    let a: u128 = rng.gen();
    let h = format!("{a:032x}");
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// Queues the deliveries of one merchant action: each `(topic, payload)` to every
/// subscription of that topic, all with one `X-Shopify-Event-Id`.
pub(super) fn fire(app: &App, shop: &Shop, events: &[(&str, Value)]) {
    let cfg = &app.inner.cfg;
    let triggered = ts(app.common.now());
    let mut rng = lock(&app.inner.rng);
    let event_id = uuid(&mut *rng);
    for (topic, payload) in events {
        let body = serde_json::to_vec(payload).expect("JSON values serialize");
        let sig = hmac_sha256_base64(cfg.api_secret.as_bytes(), &body);
        for sub in shop.subs.values().filter(|s| s.topic == *topic) {
            let webhook_id = uuid(&mut *rng);
            let copies = if rng.gen::<f64>() < cfg.duplicate_probability {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let headers = vec![
                    ("content-type".to_string(), "application/json".to_string()),
                    ("x-shopify-topic".to_string(), topic.to_string()),
                    ("x-shopify-hmac-sha256".to_string(), sig.clone()),
                    ("x-shopify-shop-domain".to_string(), cfg.shop_domain.clone()),
                    ("x-shopify-api-version".to_string(), sub.api_version.clone()),
                    ("x-shopify-webhook-id".to_string(), webhook_id.clone()),
                    ("x-shopify-triggered-at".to_string(), triggered.clone()),
                    ("x-shopify-event-id".to_string(), event_id.clone()),
                ];
                let mut d = Delivery::new(sub.address.clone(), topic, body.clone(), headers);
                d.retry_delays = cfg.webhook_retry_delays.clone();
                let inner: Arc<Inner> = app.inner.clone();
                let sub_id = sub.id;
                d.done = Some(Box::new(move |sent| {
                    let ok = sent.status.is_some_and(|s| (200..300).contains(&s));
                    if !ok && facts::REMOVE_AFTER_FAILED_DELIVERY {
                        lock(&inner.shop).subs.remove(&sub_id);
                    }
                }));
                app.common.outbox.deliver(d);
            }
        }
    }
}

/// `GET webhooks.json` (filters `address`, `topic`, `since_id`).
pub(super) fn list(app: &App, version: &str, q: &[(String, String)]) -> Response {
    let lq = match list_query("webhooks", q) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let since = match since_param(&lq.filters) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let shop = app.shop();
    let ok = |s: &Subscription| {
        s.id > since
            && qget(&lq.filters, "address").is_none_or(|a| s.address == a)
            && qget(&lq.filters, "topic").is_none_or(|t| s.topic == t)
    };
    let ids: Vec<u64> = shop.subs.values().filter(|s| ok(s)).map(|s| s.id).collect();
    let (page, link) = match page_ids(app, version, "webhooks", &ids, &lq) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let rows = page
        .iter()
        .filter_map(|id| shop.subs.get(id))
        .map(|s| project(s.render(), &lq.fields))
        .collect();
    list_answer("webhooks", rows, link)
}

/// `GET webhooks/count.json`.
pub(super) fn count(app: &App) -> Response {
    json(StatusCode::OK, json!({ "count": app.shop().subs.len() }))
}

/// `GET webhooks/{id}.json`.
pub(super) fn get(app: &App, id: u64) -> Response {
    match app.shop().subs.get(&id) {
        Some(s) => json(StatusCode::OK, json!({ "webhook": s.render() })),
        None => api::not_found(),
    }
}

/// `DELETE webhooks/{id}.json` → 200 `{}`.
pub(super) fn delete(app: &App, id: u64) -> Response {
    match app.shop().subs.remove(&id) {
        Some(_) => json(StatusCode::OK, json!({})),
        None => api::not_found(),
    }
}

/// Adds a subscription, or says which field is wrong (422 messages [I]).
pub(super) fn subscribe(
    app: &App,
    topic: &str,
    address: &str,
    version: &str,
) -> Result<Subscription, Response> {
    if !facts::TOPICS.contains(&topic) {
        return Err(api::unprocessable(
            "topic",
            &format!("Invalid topic specified: {topic}"),
        ));
    }
    if address.trim().is_empty() {
        return Err(api::unprocessable("address", "can't be blank"));
    }
    if !(address.starts_with("https://") || address.starts_with("http://")) {
        return Err(api::unprocessable("address", "is invalid"));
    }
    let mut shop = app.shop();
    if shop
        .subs
        .values()
        .any(|s| s.topic == topic && s.address == address)
    {
        return Err(api::unprocessable(
            "address",
            "for this topic has already been taken",
        ));
    }
    let id = shop.next_sub;
    shop.next_sub += 1;
    let sub = Subscription {
        id,
        topic: topic.to_string(),
        address: address.to_string(),
        api_version: version.to_string(),
        created_at: app.common.stamp(),
    };
    shop.subs.insert(id, sub.clone());
    Ok(sub)
}

/// `POST webhooks.json` `{"webhook": {"topic", "address", "format": "json"}}` → 201.
pub(super) fn create(app: &App, version: &str, body: &Bytes) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return api::bad_request("Invalid JSON");
    };
    let Some(w) = v.get("webhook") else {
        return api::errors(
            StatusCode::BAD_REQUEST,
            json!({"webhook": "Required parameter missing or invalid"}),
        );
    };
    let field = |k: &str| w.get(k).and_then(Value::as_str).unwrap_or("");
    if !matches!(field("format"), "" | "json") {
        return api::unprocessable("format", "is not included in the list");
    }
    match subscribe(app, field("topic"), field("address"), version) {
        Ok(s) => json(StatusCode::CREATED, json!({ "webhook": s.render() })),
        Err(r) => r,
    }
}
