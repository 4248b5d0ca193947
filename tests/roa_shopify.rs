//! Shopify → RO App end to end (issue 14, ROA-1..8): the whole local app against the
//! Shopify and RO App sandboxes, webhooks delivered by the shop to Puente's own receiver.

use puente_connectors::kit::sign::hmac_sha256_base64;
use puente_e2e::roa::*;
use puente_runtime::serve::accept_webhook_with;
use puente_runtime::Mode;
use puente_sandbox::shopify::NewOrder;
use puente_sandbox::{ShopifyConfig, ShopifyPlan};
use puente_store::Action;
use serde_json::Value;
use std::collections::BTreeSet;

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn utc(raw: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(raw)
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Orders the backfill takes: created in the last 60 days, not fulfilled, cancelled or
/// refunded (as the admin shows them).
fn backfilled(o: &Value, now: chrono::DateTime<chrono::Utc>) -> bool {
    let recent = utc(o["created_at"].as_str().unwrap()) >= now - chrono::Duration::days(60);
    let excluded = !o["cancelled_at"].is_null()
        || o["financial_status"] == "refunded"
        || o["fulfillment_status"] == "fulfilled";
    recent && !excluded
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa1_backfill_poll_and_webhooks_import_every_new_order_once() {
    let cfg = ShopifyConfig {
        duplicate_probability: 1.0,
        ..shopify_config()
    };
    let env = Roa::start("roa1", Setup::shopify(cfg)).await;
    let shop = env.shop.shopify();
    // The one-off backfill: the last two months, without fulfilled, cancelled, refunded.
    let s1 = env.sync(Mode::Backfill).await;
    assert_eq!(s1.entities["order"].failed, 0, "{s1:?}");
    let now = chrono::Utc::now();
    let want: BTreeSet<String> = shop
        .orders()
        .iter()
        .filter(|o| backfilled(o, now))
        .map(|o| s(o, "name"))
        .collect();
    let got: BTreeSet<String> = env.roapp_orders().iter().map(|o| s(o, "number")).collect();
    assert!(want.len() >= 6, "the seed has orders to import: {want:?}");
    assert_eq!(got, want, "exactly the backfill's orders");
    let excluded: Vec<String> = shop
        .orders()
        .iter()
        .filter(|o| !backfilled(o, now))
        .map(|o| s(o, "name"))
        .collect();
    assert!(excluded.len() >= 4, "{excluded:?}");
    assert!(duplicate_numbers(&env.roapp_orders()).is_empty());

    // A second backfill writes nothing.
    env.roapp.sandbox.reset_stats();
    let s2 = env.sync(Mode::Backfill).await;
    let o = &s2.entities["order"];
    assert_eq!(
        (o.created_total(), o.updated_total(), o.failed),
        (0, 0, 0),
        "{o:?}"
    );
    assert!(
        env.roapp.sandbox.writes().is_empty(),
        "{:?}",
        env.roapp.sandbox.writes()
    );

    // A new order before any webhook is subscribed: the poll imports it.
    let lucia = shop.customers()[0]["id"].as_u64().unwrap();
    let polled = shop
        .place_order(NewOrder {
            customer_id: Some(lucia),
            lines: vec![("SCR-IP15".into(), 1)],
            shipping: Some(("Envío estándar".into(), "standard".into(), 495)),
            paid: true,
        })
        .unwrap();
    let polled = s(&shop.order(polled).unwrap(), "name");
    env.sync(Mode::Modified).await;
    assert!(env.roapp_order(&polled).is_some(), "{polled} polled");

    // Activation subscribes Puente; a new order arrives by webhook, delivered twice with
    // one X-Shopify-Webhook-Id (and orders/paid besides): one RO App order.
    let made = env.activate().await;
    assert!(made.iter().any(|m| m.contains("orders/create")), "{made:?}");
    let id = shop
        .place_order(NewOrder {
            customer_id: Some(lucia),
            lines: vec![("CHG-USBC-20W".into(), 2)],
            shipping: None,
            paid: true,
        })
        .unwrap();
    let name = s(&shop.order(id).unwrap(), "name");
    env.drain().await;
    let sent = env.shop.sandbox().webhooks_sent();
    assert!(
        sent.iter().filter(|w| w.event == "orders/create").count() >= 2,
        "duplicates were sent"
    );
    assert!(sent.iter().all(|w| w.status == Some(202)), "{sent:?}");
    assert!(env.roapp_order(&name).is_some(), "{name} by webhook");
    assert!(duplicate_numbers(&env.roapp_orders()).is_empty());
    assert_eq!(env.app.store.dead_letters(10).await.unwrap().len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa1_a_tampered_delivery_is_401_and_nothing_is_queued() {
    let env = Roa::start("roa1-tamper", Setup::shopify(shopify_config())).await;
    let shop = env.shop.shopify();
    let order = &shop.orders()[0];
    let body = serde_json::to_vec(order).unwrap();
    let secret = &shop.config().api_secret;
    let headers = |sig: &str| {
        vec![
            ("x-shopify-topic".to_string(), "orders/updated".to_string()),
            ("x-shopify-hmac-sha256".to_string(), sig.to_string()),
            (
                "x-shopify-webhook-id".to_string(),
                "0b1c2d3e-0000-4000-a000-000000000001".to_string(),
            ),
        ]
    };
    let sig = hmac_sha256_base64(secret.as_bytes(), &body);
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'1').unwrap();
    tampered[at] = b'2';
    let (status, v) = accept_webhook_with(
        &env.app,
        Some(SECRET),
        "test",
        "shop",
        SECRET,
        &headers(&sig),
        &tampered,
    )
    .await;
    assert_eq!(status, 401, "{v}");
    assert_eq!(env.app.store.queue_depth().await.unwrap(), (0, 0));
    let (status, _) = accept_webhook_with(
        &env.app,
        Some(SECRET),
        "test",
        "shop",
        SECRET,
        &headers("AAAA"),
        &body,
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(env.app.store.queue_depth().await.unwrap(), (0, 0));
    // The untouched delivery is queued, and again only once.
    for expect in ["queued", "duplicate"] {
        let (status, v) = accept_webhook_with(
            &env.app,
            Some(SECRET),
            "test",
            "shop",
            SECRET,
            &headers(&sig),
            &body,
        )
        .await;
        assert_eq!((status, v["status"].as_str()), (202, Some(expect)), "{v}");
    }
    assert_eq!(env.app.store.queue_depth().await.unwrap().0, 1);
}
