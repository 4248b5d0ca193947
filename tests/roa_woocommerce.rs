//! WooCommerce → RO App end to end (issue 14, ROA-1..8): the whole
//! local app against the WooCommerce and RO App sandboxes, deliveries signed by the shop
//! and received by Puente's own receiver after the unsigned ping.

use puente_e2e::roa::*;
use puente_runtime::serve::accept_webhook_with;
use puente_runtime::Mode;
use puente_sandbox::woocommerce::WooOrder;
use puente_store::Action;
use serde_json::Value;
use std::collections::BTreeSet;

const EXCLUDED: [&str; 5] = ["completed", "cancelled", "refunded", "failed", "trash"];

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

/// Whether an order names a customer with an email or a phone (shipping or billing).
fn has_contact(o: &Value) -> bool {
    !s(&o["billing"], "email").is_empty()
        || !s(&o["billing"], "phone").is_empty()
        || !s(&o["shipping"], "phone").is_empty()
}

fn recent(o: &Value) -> bool {
    let t = chrono::NaiveDateTime::parse_from_str(
        o["date_created_gmt"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S",
    )
    .unwrap()
    .and_utc();
    t >= chrono::Utc::now() - chrono::Duration::days(60)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa1_roa5_backfill_takes_new_orders_with_products_and_a_reachable_customer() {
    let env = Roa::start("roa1-wc", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    let s1 = env.sync(Mode::Backfill).await;
    let orders = shop.orders();
    let want: BTreeSet<String> = orders
        .iter()
        .filter(|o| recent(o) && !EXCLUDED.contains(&o["status"].as_str().unwrap()))
        .filter(|o| o["line_items"].as_array().is_some_and(|l| !l.is_empty()) && has_contact(o))
        .map(|o| format!("#{}", s(o, "number")))
        .collect();
    let got: BTreeSet<String> = env.roapp_orders().iter().map(|o| s(o, "number")).collect();
    assert!(want.len() >= 5, "{want:?}");
    assert_eq!(got, want, "{s1:?}");
    // ROA-5: the orders left out for their content are skipped with the reason.
    let reasons: Vec<String> = env
        .log()
        .await
        .into_iter()
        .filter(|e| e.action == Action::Skipped && e.kind == "order")
        .filter_map(|e| e.reason)
        .collect();
    let no_items = orders.iter().find(|o| {
        recent(o)
            && !EXCLUDED.contains(&o["status"].as_str().unwrap())
            && o["line_items"].as_array().is_some_and(|l| l.is_empty())
    });
    let no_contact = orders.iter().find(|o| {
        recent(o) && !EXCLUDED.contains(&o["status"].as_str().unwrap()) && !has_contact(o)
    });
    let (no_items, no_contact) = (
        no_items.expect("the seed has an order without products"),
        no_contact.expect("and one without email or phone"),
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&s(no_items, "id")) && r.contains("no products")),
        "{reasons:?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&s(no_contact, "id")) && r.contains("email or a phone")),
        "{reasons:?}"
    );
    // ROA-5: no delivery information reaches RO App.
    for o in env.roapp_orders() {
        let id = o["id"].as_u64().unwrap();
        assert!(env.roapp.comments(id).is_empty(), "{o}");
        assert_eq!(o["manager_notes"], "");
    }
    // A second backfill writes nothing.
    env.roapp.sandbox.reset_stats();
    let s2 = env.sync(Mode::Backfill).await;
    let c = &s2.entities["order"];
    assert_eq!(
        (c.created_total(), c.updated_total(), c.failed),
        (0, 0, 0),
        "{c:?}"
    );
    assert!(env.roapp_writes().is_empty(), "{:?}", env.roapp_writes());
    assert!(duplicate_numbers(&env.roapp.orders()).is_empty());
    assert!(
        duplicate_clients(&env.roapp.clients()).is_empty(),
        "{:?}",
        duplicate_clients(&env.roapp.clients())
    );
    assert!(duplicate_skus(&env.roapp.products()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa1_webhooks_after_the_ping_and_a_repeated_delivery_counts_once() {
    let env = Roa::start("roa1-wc-hooks", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    let made = env.activate().await;
    assert!(made.iter().any(|m| m.contains("order.created")), "{made:?}");
    let pings: Vec<_> = shop
        .webhooks_sent()
        .into_iter()
        .filter(|w| w.event == "ping")
        .collect();
    assert!(
        !pings.is_empty() && pings.iter().all(|p| p.status == Some(200)),
        "the ping is answered 200: {pings:?}"
    );
    assert_eq!(
        env.app.store.queue_depth().await.unwrap().0,
        0,
        "a ping queues nothing"
    );
    let id = shop
        .place_order(WooOrder {
            guest: Some((
                "Nora".into(),
                "Vidal".into(),
                "nora@example.es".into(),
                "+34 655 12 34 56".into(),
            )),
            lines: vec![("SCR-IP15".into(), 2)],
            ..WooOrder::default()
        })
        .unwrap();
    env.drain().await;
    let o = env
        .roapp_order(&format!("#{id}"))
        .expect("imported by webhook");
    assert_eq!(o["items"][0]["quantity"], 2);
    // The same delivery again (WooCommerce's delivery id may repeat; the body decides).
    let body = serde_json::to_vec(&shop.order(id).unwrap()).unwrap();
    let sig = puente_connectors::kit::sign::hmac_sha256_base64(b"puente-wc-secret", &body);
    let headers = vec![
        (
            "x-wc-webhook-topic".to_string(),
            "order.updated".to_string(),
        ),
        ("x-wc-webhook-signature".to_string(), sig),
    ];
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let (st, v) = accept_webhook_with(
            &env.app,
            Some(SECRET),
            "test",
            "shop",
            SECRET,
            &headers,
            &body,
        )
        .await;
        statuses.push((st, v["status"].as_str().unwrap_or("").to_string()));
    }
    assert_eq!(
        statuses,
        vec![(202, "queued".to_string()), (202, "duplicate".to_string())]
    );
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    let (st, _) = accept_webhook_with(
        &env.app,
        Some(SECRET),
        "test",
        "shop",
        SECRET,
        &headers,
        &tampered,
    )
    .await;
    assert_eq!(st, 401);
    env.drain().await;
    assert_eq!(
        env.roapp_orders()
            .iter()
            .filter(|x| x["number"] == format!("#{id}").as_str())
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa4_completed_is_never_set_on_the_shop() {
    let env = Roa::start("roa4-wc", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    env.activate().await;
    let id = shop
        .place_order(WooOrder {
            customer_id: shop.customers()[0]["id"].as_u64().unwrap(),
            lines: vec![("CHG-USBC-20W".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    env.drain().await;
    let rid = env.roapp_order(&format!("#{id}")).unwrap()["id"]
        .as_u64()
        .unwrap();
    shop.reset_stats();
    // RO App delivers the order without writing its products off, then writes them off.
    env.roapp.set_status(rid, 5).unwrap();
    env.sync(Mode::Modified).await;
    assert_eq!(shop.order(id).unwrap()["status"], "processing");
    env.roapp.write_off(rid).unwrap();
    env.sync(Mode::Modified).await;
    assert_eq!(
        shop.order(id).unwrap()["status"],
        "processing",
        "Puente never writes the shop"
    );
    assert!(shop.writes().is_empty(), "{:?}", shop.writes());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa7_woocommerce_categories_deepest_alphabetical_most_general() {
    let env = Roa::start("roa7-wc", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    let id = shop
        .place_order(WooOrder {
            customer_id: shop.customers()[0]["id"].as_u64().unwrap(),
            lines: vec![
                ("CASE-IP15-RED".into(), 1),
                ("CHG-USBC-20W".into(), 1),
                ("CBL-USBC-1M".into(), 1),
            ],
            ..WooOrder::default()
        })
        .unwrap();
    env.sync(Mode::Modified).await;
    assert!(env.roapp_order(&format!("#{id}")).is_some());
    let cats = env.roapp.categories();
    let path = |cid: Option<u64>| {
        let mut out = Vec::new();
        let mut at = cid;
        while let Some(c) = at.and_then(|c| cats.iter().find(|x| x.0 == c)) {
            out.push(c.1.clone());
            at = c.2;
        }
        out.reverse();
        out.join("/")
    };
    let product = |sku: &str| {
        env.roapp
            .products()
            .into_iter()
            .find(|p| p["sku"] == sku)
            .unwrap()
    };
    // Nested (Accesorios › Fundas › iPhone): the deepest, made in RO App level by level.
    assert_eq!(
        path(product("CASE-IP15-RED")["category_id"].as_u64()),
        "Accesorios/Fundas/iPhone"
    );
    // Two on one level (Cables, Cargadores): the alphabetically first. CHG-USBC-20W was in
    // RO App already (used as it is); the new cable shows the rule.
    assert_eq!(
        path(product("CBL-USBC-1M")["category_id"].as_u64()),
        "Accesorios/Cables"
    );
    let red = product("CASE-IP15-RED");
    let wc = shop
        .products()
        .into_iter()
        .find(|p| p["name"] == "Funda iPhone 15")
        .unwrap();
    assert!(
        red["code"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{}-", wc["id"])),
        "product id → Code: {red}"
    );
    assert_eq!(red["unit"]["code"], "pcs");
    // "Accesorios" existed: no second one at the root.
    assert_eq!(
        cats.iter()
            .filter(|c| c.1 == "Accesorios" && c.2.is_none())
            .count(),
        1,
        "{cats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa8_woocommerce_phone_from_shipping_or_billing_or_email_never_duplicated() {
    let env = Roa::start("roa8-wc", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    let before = env.roapp.clients();
    let lucia = before
        .iter()
        .find(|c| client_phones(c).contains(&"600112233".to_string()))
        .unwrap()
        .clone();
    let registered = shop
        .customers()
        .into_iter()
        .find(|c| c["first_name"] == "Lucía")
        .unwrap();
    let a = shop
        .place_order(WooOrder {
            customer_id: registered["id"].as_u64().unwrap(),
            lines: vec![("SCR-IP15".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    // A guest with the same phone in another format, and one with only an email RO App has.
    let b = shop
        .place_order(WooOrder {
            guest: Some((
                "Lucía".into(),
                "García".into(),
                "".into(),
                "0034600112233".into(),
            )),
            lines: vec![("SCR-IP15".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    let c = shop
        .place_order(WooOrder {
            guest: Some((
                "Carmen".into(),
                "López".into(),
                "CARMEN.LOPEZ@example.es".into(),
                "".into(),
            )),
            lines: vec![("SCR-IP15".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    env.sync(Mode::Modified).await;
    let client = |id: u64| env.roapp_order(&format!("#{id}")).unwrap()["client"]["id"].clone();
    assert_eq!(client(a), lucia["id"]);
    assert_eq!(client(b), lucia["id"]);
    assert!(
        before.iter().any(|x| x["id"] == client(c)),
        "Carmen by email"
    );
    assert!(duplicate_clients(&env.roapp.clients()).is_empty());
}

/// The RO App item of `sku` in an order.
fn item<'a>(o: &'a Value, sku: &str) -> &'a Value {
    o["items"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["sku"] == sku))
        .unwrap_or_else(|| panic!("no {sku} in {o}"))
}

/// WooCommerce money: a decimal string.
fn money(v: &Value) -> f64 {
    v.as_str()
        .and_then(|x| x.parse().ok())
        .unwrap_or_else(|| panic!("no amount in {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa2_woocommerce_order_data_reaches_ro_app_with_its_customer() {
    let env = Roa::start("roa2-wc", Setup::woo(woo_config())).await;
    let shop = env.shop.woo();
    let id = shop
        .place_order(WooOrder {
            guest: Some((
                "Inés".into(),
                "Ortega Ruiz".into(),
                "ines.ortega@example.es".into(),
                "+34 622 33 44 55".into(),
            )),
            lines: vec![("SCR-IP15".into(), 2), ("CHG-USBC-20W".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    env.sync(Mode::Modified).await;
    let src = shop.order(id).unwrap();
    let o = env.roapp_order(&format!("#{id}")).expect("imported");
    assert_eq!(o["number"], format!("#{}", s(&src, "number")).as_str());
    let created = chrono::NaiveDateTime::parse_from_str(
        src["date_created_gmt"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S",
    )
    .unwrap()
    .and_utc();
    let got: chrono::DateTime<chrono::Utc> = o["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(got, created, "the creation date is the shop's (GMT)");
    let lines = src["line_items"].as_array().unwrap();
    let mut amount = 0.0;
    for l in lines {
        let sku = s(l, "sku");
        let it = item(&o, &sku);
        assert_eq!(it["quantity"], l["quantity"], "{sku} quantity");
        // WooCommerce writes money as strings: the unit price is the line's total / quantity.
        let unit = money(&l["total"]) / l["quantity"].as_f64().unwrap();
        assert!(
            (it["price"].as_f64().unwrap() - unit).abs() < 1e-9,
            "{sku}: {it} vs {l}"
        );
        assert_eq!(it["title"], l["name"], "{sku} name");
        amount += money(&l["total"]);
    }
    assert_eq!(lines.len(), 2);
    assert_eq!(o["items"].as_array().unwrap().len(), 2);
    assert!(
        (o["price"].as_f64().unwrap() - amount).abs() < 1e-9,
        "the amount: {} vs {amount}",
        o["price"]
    );
    let c = env
        .roapp
        .clients()
        .into_iter()
        .find(|c| c["id"] == o["client"]["id"])
        .unwrap();
    assert_eq!(c["first_name"], "Inés");
    assert_eq!(c["last_name"], "Ortega Ruiz");
    assert_eq!(c["email"], "ines.ortega@example.es");
    assert_eq!(client_phones(&c), vec![digits("+34 622 33 44 55")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa2_woocommerce_in_another_currency_is_refused_and_nothing_is_written() {
    let cfg = puente_sandbox::WooConfig {
        currency: "USD".into(),
        ..woo_config()
    };
    let env = Roa::start("roa2-wc-usd", Setup::woo(cfg)).await;
    env.roapp.sandbox.reset_stats();
    let s = puente_runtime::run(
        env.flow(),
        Mode::Backfill,
        false,
        &puente_runtime::NoProgress,
    )
    .await;
    let o = &s.entities["order"];
    assert!(o.failed >= 3 && o.created_total() == 0, "{o:?}");
    assert!(
        env.roapp_writes().is_empty(),
        "nothing written: {:?}",
        env.roapp_writes()
    );
    let why: Vec<String> = env
        .log()
        .await
        .into_iter()
        .filter(|e| e.action == Action::Failed && e.kind == "order")
        .filter_map(|e| e.reason)
        .collect();
    assert!(!why.is_empty());
    assert!(
        why.iter()
            .all(|w| w.contains("USD") && w.contains("EUR") && w.contains("currency")),
        "{why:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa3_woocommerce_quantities_sync_until_written_off_then_skipped_with_why() {
    let env = Roa::start("roa3-wc", Setup::woo(woo_config())).await;
    env.activate().await;
    let shop = env.shop.woo();
    let id = shop
        .place_order(WooOrder {
            customer_id: shop.customers()[0]["id"].as_u64().unwrap(),
            lines: vec![("SCR-IP15".into(), 1), ("CHG-USBC-20W".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    env.drain().await;
    let number = format!("#{id}");
    shop.set_quantity(id, "SCR-IP15", 4).unwrap();
    env.drain().await;
    let o = env.roapp_order(&number).unwrap();
    assert_eq!(item(&o, "SCR-IP15")["quantity"], 4, "{o}");
    assert_eq!(item(&o, "CHG-USBC-20W")["quantity"], 1, "{o}");
    let rid = o["id"].as_u64().unwrap();
    env.roapp.write_off(rid).unwrap();
    shop.set_quantity(id, "SCR-IP15", 6).unwrap();
    env.drain().await;
    // The poll sees the change too, and skips it again with the same reason.
    env.sync(Mode::Modified).await;
    let o = env.roapp_order(&number).unwrap();
    assert_eq!(
        item(&o, "SCR-IP15")["quantity"],
        4,
        "frozen after the write-off"
    );
    let skipped: Vec<String> = env
        .log()
        .await
        .into_iter()
        .filter(|e| e.action == Action::Skipped && e.kind == "order")
        .filter_map(|e| e.reason)
        .filter(|r| r.contains("written off"))
        .collect();
    assert!(!skipped.is_empty(), "the change is logged as skipped");
    assert!(
        skipped.iter().all(|r| r.contains(&rid.to_string())),
        "{skipped:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa6_woocommerce_delivery_is_not_transferred() {
    let env = Roa::start("roa6-wc", Setup::woo(woo_config())).await;
    env.activate().await;
    let shop = env.shop.woo();
    let id = shop
        .place_order(WooOrder {
            customer_id: shop.customers()[0]["id"].as_u64().unwrap(),
            lines: vec![("SCR-IP15".into(), 1)],
            shipping: Some(("Envío urgente 24h".into(), "flat_rate".into(), 995)),
            ..WooOrder::default()
        })
        .unwrap();
    assert_eq!(
        shop.order(id).unwrap()["shipping_lines"][0]["method_title"],
        "Envío urgente 24h",
        "the shop has a delivery"
    );
    env.drain().await;
    let o = env.roapp_order(&format!("#{id}")).expect("imported");
    let rid = o["id"].as_u64().unwrap();
    assert!(env.roapp.comments(rid).is_empty(), "no delivery comment");
    assert_eq!(o["manager_notes"], "", "no delivery block");
    let text = o.to_string();
    assert!(!text.contains("Envío urgente"), "{text}");
    assert!(
        o["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["sku"] == "SCR-IP15"),
        "no shipping line among the products: {o}"
    );
}
