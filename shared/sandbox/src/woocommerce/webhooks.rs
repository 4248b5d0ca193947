//! `/webhooks` and deliveries (§(d) "Webhooks", from WooCommerce core's `WC_Webhook`):
//! creating an active webhook sends an unsigned form POST `webhook_id=N` that must be answered
//! exactly 200 (else the webhook stays `pending_delivery` and the next update pings again);
//! each event is a JSON POST of the resource as `GET /{resource}s/{id}` renders it (`{"id":N}`
//! for `*.deleted`), written as PHP writes JSON, signed `X-WC-Webhook-Signature` = base64
//! HMAC-SHA256 of the exact body with the webhook's secret, with the other `X-WC-Webhook-*`
//! headers. Never retried; 200–302 is success; the 7th consecutive failure disables it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{answer, body_json, paged, wp_error};
use super::model::{php_json, Store, Webhook};
use super::{facts, App, Inner};
use crate::kit::http::qget;
use crate::kit::lock;
use crate::kit::outbox::{client, Delivery};
use crate::kit::sign::hmac_sha256_base64;
use crate::kit::WebhookSent;

type Q = Query<Vec<(String, String)>>;

const RESOURCES: [&str; 4] = ["order", "product", "customer", "coupon"];
const EVENTS: [&str; 4] = ["created", "updated", "deleted", "restored"];

fn valid_topic(t: &str) -> bool {
    if let Some(hook) = t.strip_prefix("action.") {
        return !hook.is_empty();
    }
    match t.split_once('.') {
        Some(("customer", "restored")) => false,
        Some((r, e)) => RESOURCES.contains(&r) && EVENTS.contains(&e),
        None => false,
    }
}

fn invalid_id() -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        "woocommerce_rest_shop_webhook_invalid_id",
        "Invalid ID.",
    )
}

/// Queues the delivery of `resource.event` about record `id` to every active webhook of that
/// topic, at once (see `facts`).
pub(super) fn fire(
    app: &App,
    store: &Store,
    resource: &str,
    event: &str,
    id: u64,
    payload: &Value,
) {
    let topic = format!("{resource}.{event}");
    let deleted = json!({ "id": id });
    let body = php_json(if event == "deleted" {
        &deleted
    } else {
        payload
    });
    let now = app.common.now().timestamp();
    for w in store
        .webhooks
        .values()
        .filter(|w| w.status == "active" && w.topic == topic)
    {
        let headers = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("user-agent".to_string(), facts::USER_AGENT.to_string()),
            (
                "x-wc-webhook-source".to_string(),
                format!("{}/", app.common.root_url),
            ),
            ("x-wc-webhook-topic".to_string(), topic.clone()),
            ("x-wc-webhook-resource".to_string(), resource.to_string()),
            ("x-wc-webhook-event".to_string(), event.to_string()),
            (
                "x-wc-webhook-signature".to_string(),
                hmac_sha256_base64(w.secret.as_bytes(), body.as_bytes()),
            ),
            ("x-wc-webhook-id".to_string(), w.id.to_string()),
            (
                "x-wc-webhook-delivery-id".to_string(),
                facts::delivery_id(w.id, now),
            ),
        ];
        let mut d = Delivery::new(
            w.delivery_url.clone(),
            &topic,
            body.clone().into_bytes(),
            headers,
        );
        d.accept = |s| (200..=302).contains(&s);
        let inner: Arc<Inner> = app.inner.clone();
        let wid = w.id;
        d.done = Some(Box::new(move |sent: &WebhookSent| {
            let ok = sent.status.is_some_and(|s| (200..=302).contains(&s));
            let threshold = inner.cfg.disable_after_failures.saturating_sub(2);
            let mut store = lock(&inner.store);
            if let Some(w) = store.webhooks.get_mut(&wid) {
                if ok {
                    w.failures = 0;
                } else if w.failures > threshold {
                    w.status = "disabled".into();
                } else {
                    w.failures += 1;
                }
            }
        }));
        app.common.outbox.deliver(d);
    }
}

/// The unsigned ping: a form POST `webhook_id=N`; true when answered exactly 200.
async fn ping(app: &App, id: u64, url: &str) -> bool {
    let res = client(Duration::from_secs(10))
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", facts::USER_AGENT)
        .body(format!("webhook_id={id}"))
        .send()
        .await;
    let (status, error) = match res {
        Ok(r) => (Some(r.status().as_u16()), None),
        Err(e) => (None, Some(e.to_string())),
    };
    let ok = status == Some(200);
    app.common.outbox.log(WebhookSent {
        url: url.to_string(),
        event: "ping".into(),
        status,
        attempts: 1,
        error: error.or_else(|| {
            (!ok).then(|| {
                format!(
                    "Delivery URL returned response code: {}",
                    status.unwrap_or(0)
                )
            })
        }),
    });
    if ok {
        if let Some(w) = app.store().webhooks.get_mut(&id) {
            w.pending_delivery = false;
        }
    }
    ok
}

/// `GET /webhooks` (`status` filter), by id.
pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    let store = app.store();
    let rows: Vec<&Webhook> = store
        .webhooks
        .values()
        .filter(|w| qget(&q, "status").is_none_or(|s| s == "all" || w.status == s))
        .collect();
    paged(&app, "webhooks", &q, &rows, |w| w.render())
}

/// `GET /webhooks/{id}`.
pub(super) async fn get(State(app): State<App>, Path(id): Path<String>) -> Response {
    match id
        .parse()
        .ok()
        .and_then(|id: u64| app.store().webhooks.get(&id).map(Webhook::render))
    {
        Some(v) => answer(StatusCode::OK, &v),
        None => invalid_id(),
    }
}

fn check(topic: &str, url: &str) -> Result<(), Response> {
    if !valid_topic(&topic.to_lowercase()) {
        return Err(wp_error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(wp_error(
            StatusCode::BAD_REQUEST,
            "woocommerce_rest_shop_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        ));
    }
    Ok(())
}

fn status_of(v: &Value, default: &str) -> Result<String, Response> {
    match v.get("status").and_then(Value::as_str) {
        None => Ok(default.to_string()),
        Some(s @ ("active" | "paused" | "disabled")) => Ok(s.to_string()),
        Some(_) => Err(super::api::invalid_param(
            "status",
            "status is not one of active, paused, and disabled.",
        )),
    }
}

/// `POST /webhooks` `{name, topic, delivery_url, secret, status}` → 201, then the ping.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match add(&app, &v).await {
        Ok(w) => answer(StatusCode::CREATED, &w.render()),
        Err(r) => r,
    }
}

/// Adds a webhook from a create body and pings it when active.
pub(super) async fn add(app: &App, v: &Value) -> Result<Webhook, Response> {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let (topic, url) = (s("topic").to_lowercase(), s("delivery_url"));
    check(&topic, &url)?;
    let status = status_of(v, "active")?;
    let now = app.common.stamp();
    let secret = match s("secret") {
        // [I] the page: "a hash derived from the creating user".
        x if x.is_empty() => hex::encode(&sha2_of(&app.inner.cfg.consumer_key)[..20]),
        x => x,
    };
    let w = {
        let mut store = app.store();
        let id = store.next_webhook;
        store.next_webhook += 1;
        let name = match s("name") {
            n if n.is_empty() => format!(
                "Webhook created on {}",
                now.format("%B %-d, %Y @ %-I:%M %p")
            ),
            n => n,
        };
        let w = Webhook {
            id,
            name,
            status,
            topic,
            delivery_url: url,
            secret,
            failures: 0,
            pending_delivery: true,
            created: now,
            modified: now,
        };
        store.webhooks.insert(id, w.clone());
        w
    };
    // [C] REST create_item answers 201 whatever the ping gives.
    if w.status == "active" {
        ping(app, w.id, &w.delivery_url).await;
    }
    Ok(w)
}

fn sha2_of(s: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes()).to_vec()
}

/// `PUT`/`POST /webhooks/{id}`: `name`, `status`, `topic`, `delivery_url`, `secret`; pings
/// when it is (re)activated or its first ping was not answered 200.
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = app.common.stamp();
    let (w, ping_now) = {
        let mut store = app.store();
        let Some(w) = id
            .parse()
            .ok()
            .and_then(|id: u64| store.webhooks.get_mut(&id))
        else {
            return wp_error(
                StatusCode::BAD_REQUEST,
                "woocommerce_rest_shop_webhook_invalid_id",
                "ID is invalid.",
            );
        };
        let was_active = w.status == "active";
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let topic = s("topic")
            .map(|t| t.to_lowercase())
            .unwrap_or(w.topic.clone());
        let url = s("delivery_url").unwrap_or(w.delivery_url.clone());
        if let Err(r) = check(&topic, &url) {
            return r;
        }
        let status = match status_of(&v, &w.status) {
            Ok(s) => s,
            Err(r) => return r,
        };
        if status == "active" && !was_active {
            w.failures = 0;
        }
        (w.topic, w.delivery_url, w.status) = (topic, url, status);
        if let Some(n) = s("name") {
            w.name = n;
        }
        if let Some(x) = s("secret") {
            w.secret = x;
        }
        w.modified = now;
        let ping_now = w.status == "active" && (!was_active || w.pending_delivery);
        (w.clone(), ping_now)
    };
    if ping_now {
        ping(&app, w.id, &w.delivery_url).await;
    }
    answer(StatusCode::OK, &w.render())
}

/// `DELETE /webhooks/{id}?force=true` (without `force`: 501, webhooks have no trash).
pub(super) async fn delete(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    if !qget(&q, "force").is_some_and(|f| f == "true" || f == "1") {
        return wp_error(
            StatusCode::NOT_IMPLEMENTED,
            "woocommerce_rest_trash_not_supported",
            "Webhooks do not support trashing.",
        );
    }
    match id
        .parse()
        .ok()
        .and_then(|id: u64| app.store().webhooks.remove(&id))
    {
        Some(w) => answer(StatusCode::OK, &w.render()),
        None => invalid_id(),
    }
}
