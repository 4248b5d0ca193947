//! The WooCommerce sandbox over real HTTP, against `shops-accounting.md` §(d): Basic and
//! query-string keys, `X-WP-Total(Pages)`/`Link` paging with the 400 over 100, the status
//! enum with `trash`, date filters, string money and `*_gmt` dates, the category tree and
//! variations, the unsigned ping, signed PHP-escaped deliveries, no retries and the disable
//! rule, errors in the WP envelope.

#[path = "shops_support/mod.rs"]
mod support;

use std::collections::{HashMap, HashSet};

use puente_sandbox::shopworld::phone_digits;
use puente_sandbox::woocommerce::WooOrder;
use puente_sandbox::{start_woocommerce, Faults, WooConfig, WooPermissions, WooSandbox};
use reqwest::StatusCode;
use serde_json::{json, Value};
use support::{b64_hmac, eventually, link, Receiver};

struct Api {
    s: WooSandbox,
    http: reqwest::Client,
}

impl Api {
    async fn start(cfg: WooConfig) -> Api {
        Api {
            s: start_woocommerce(&cfg, None).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let c = self.s.config();
        self.http
            .request(method, format!("{}/{path}", self.s.base_url))
            .basic_auth(&c.consumer_key, Some(&c.consumer_secret))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.req(reqwest::Method::GET, path).send().await.unwrap()
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }

    /// Every page of `path` (which has a `?`), 100 at a time.
    async fn all(&self, path: &str) -> Vec<Value> {
        let mut out = Vec::new();
        for page in 1.. {
            let r = self.get(&format!("{path}&per_page=100&page={page}")).await;
            let pages: usize = r.headers()["x-wp-totalpages"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            out.extend(r.json::<Value>().await.unwrap().as_array().unwrap().clone());
            if page >= pages {
                break;
            }
        }
        out
    }
}

fn ids(v: &[Value]) -> Vec<u64> {
    v.iter().map(|o| o["id"].as_u64().unwrap()).collect()
}

#[tokio::test]
async fn basic_and_query_string_keys_are_accepted_and_bad_ones_refused_in_the_wp_envelope() {
    let api = Api::start(WooConfig::default()).await;
    let c = api.s.config().clone();
    let url = format!("{}/orders", api.s.base_url);
    let r = api.http.get(&url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.", "data": {"status": 401}})
    );
    let r = api
        .http
        .get(&url)
        .basic_auth("ck_nobody", Some(&c.consumer_secret))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Consumer key is invalid."
    );
    let r = api
        .http
        .get(&url)
        .basic_auth(&c.consumer_key, Some("cs_wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "woocommerce_rest_authentication_error"
    );
    assert_eq!(api.get("orders").await.status(), StatusCode::OK);
    let q = format!(
        "{url}?consumer_key={}&consumer_secret={}",
        c.consumer_key, c.consumer_secret
    );
    assert_eq!(
        api.http.get(&q).send().await.unwrap().status(),
        StatusCode::OK
    );
    let r = api
        .http
        .get(format!("{}/nowhere", api.s.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rest_no_route");
    // A read-only key cannot write.
    let ro = Api::start(WooConfig {
        permissions: WooPermissions::Read,
        ..WooConfig::default()
    })
    .await;
    let id = ro.s.orders()[0]["id"].as_u64().unwrap();
    let r = ro
        .req(reqwest::Method::PUT, &format!("orders/{id}"))
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(ro.get("orders").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn pages_with_wp_totals_cover_every_order_once_and_per_page_over_100_is_400() {
    let api = Api::start(WooConfig::default()).await;
    let visible = api
        .s
        .orders()
        .iter()
        .filter(|o| o["status"] != "trash")
        .count();
    let r = api.get("orders?per_page=7").await;
    let total: usize = r.headers()["x-wp-total"].to_str().unwrap().parse().unwrap();
    let pages: usize = r.headers()["x-wp-totalpages"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(total, visible);
    assert_eq!(pages, visible.div_ceil(7));
    let hdr = r.headers()["link"].to_str().unwrap().to_string();
    assert!(link(Some(&hdr), "next").unwrap().contains("page=2"));
    assert!(link(Some(&hdr), "last")
        .unwrap()
        .contains(&format!("page={pages}")));
    let mut seen: Vec<Value> = r.json::<Value>().await.unwrap().as_array().unwrap().clone();
    for p in 2..=pages {
        seen.extend(
            api.json(&format!("orders?per_page=7&page={p}"))
                .await
                .as_array()
                .unwrap()
                .clone(),
        );
    }
    let got = ids(&seen);
    assert_eq!(got.len(), total);
    assert_eq!(got.iter().collect::<HashSet<_>>().len(), total);
    // Newest first by default (date desc).
    let dates: Vec<&str> = seen
        .iter()
        .map(|o| o["date_created_gmt"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));
    let r = api.get("orders?per_page=101").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
               "data": {"status": 400, "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"}}})
    );
    let past = api
        .get(&format!("orders?per_page=7&page={}", pages + 1))
        .await;
    assert_eq!(past.headers()["x-wp-total"], total.to_string().as_str());
    assert_eq!(past.json::<Value>().await.unwrap(), json!([]));
    let asc = api.json("orders?per_page=100&order=asc&orderby=id").await;
    let asc = ids(asc.as_array().unwrap());
    assert!(asc.windows(2).all(|w| w[0] < w[1]));
}

#[tokio::test]
async fn roa1_status_enum_with_trash_date_filters_and_string_money() {
    let api = Api::start(WooConfig::default()).await;
    let all = api.s.orders();
    let mut by_status: HashMap<String, usize> = HashMap::new();
    for o in &all {
        *by_status
            .entry(o["status"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for s in [
        "pending",
        "processing",
        "on-hold",
        "completed",
        "cancelled",
        "refunded",
        "failed",
        "trash",
        "checkout-draft",
    ] {
        let n = by_status.get(s).copied().unwrap_or(0);
        assert!(n > 0, "seed has {s}");
        assert_eq!(api.all(&format!("orders?status={s}")).await.len(), n, "{s}");
    }
    let two = api.all("orders?status=completed,cancelled").await.len();
    assert_eq!(two, by_status["completed"] + by_status["cancelled"]);
    let r = api.get("orders?status=shipped").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let e = r.json::<Value>().await.unwrap();
    assert_eq!(e["code"], "rest_invalid_param");
    assert!(e["data"]["params"]["status"]
        .as_str()
        .unwrap()
        .contains("trash"));
    // modified_after in GMT, and in site time (+01:00 without dates_are_gmt).
    let cut = all[all.len() / 2]["date_modified_gmt"]
        .as_str()
        .unwrap()
        .to_string();
    let want = all
        .iter()
        .filter(|o| {
            o["status"] != "trash" && o["date_modified_gmt"].as_str().unwrap() > cut.as_str()
        })
        .count();
    assert_eq!(
        api.all(&format!("orders?modified_after={cut}&dates_are_gmt=true"))
            .await
            .len(),
        want
    );
    let local = all[all.len() / 2]["date_modified"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        api.all(&format!("orders?modified_after={local}"))
            .await
            .len(),
        want
    );
    let r = api.get("orders?after=last-week").await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["params"]["after"],
        "Invalid date."
    );
    let o = &all[0];
    assert!(o["total"].as_str().unwrap().contains('.'));
    assert_ne!(o["date_created"], o["date_created_gmt"]);
    let line = all
        .iter()
        .flat_map(|o| o["line_items"].as_array().unwrap().clone())
        .next()
        .unwrap();
    assert!(line["price"].is_number() && line["total"].is_string());
    for k in ["product_id", "variation_id", "sku", "name", "quantity"] {
        assert!(line.get(k).is_some(), "{k}");
    }
}

#[tokio::test]
async fn roa5_roa8_guests_contacts_and_phones_in_several_formats() {
    let api = Api::start(WooConfig::default()).await;
    let all = api.all("orders?status=any").await;
    assert!(all.iter().any(|o| o["customer_id"] == 0));
    assert!(all.iter().any(|o| o["customer_id"].as_u64().unwrap() > 0));
    assert!(all.iter().any(|o| o["billing"]["email"] == ""
        && o["billing"]["phone"] == ""
        && o["shipping"]["phone"] == ""));
    assert!(all
        .iter()
        .any(|o| o["line_items"].as_array().unwrap().is_empty()));
    let javier: Vec<&Value> = all
        .iter()
        .filter(|o| o["billing"]["email"] == "javier.martin@example.es")
        .collect();
    let j = javier
        .iter()
        .find(|o| o["shipping"]["phone"] != "" && o["billing"]["phone"] != "")
        .unwrap();
    assert_ne!(j["billing"]["phone"], j["shipping"]["phone"]);
    assert_eq!(
        phone_digits(j["billing"]["phone"].as_str().unwrap()),
        phone_digits(j["shipping"]["phone"].as_str().unwrap())
    );
    let everything = api.s.orders();
    let lucia: HashSet<&str> = everything
        .iter()
        .filter(|o| o["billing"]["email"] == "lucia.garcia@example.es")
        .map(|o| o["billing"]["phone"].as_str().unwrap())
        .collect();
    assert!(lucia.len() >= 2, "{lucia:?}");
    assert!(lucia.iter().all(|p| phone_digits(p) == "600112233"));
    let found = api.json("customers?email=lucia.garcia@example.es").await;
    assert_eq!(found[0]["billing"]["phone"], "+34 600 11 22 33");
    assert_eq!(api.all("customers?role=customer").await.len(), 30);
}

#[tokio::test]
async fn roa7_categories_form_a_parent_tree_and_variable_products_have_variations() {
    let api = Api::start(WooConfig::default()).await;
    let cats = api.all("products/categories?orderby=name").await;
    let by_id: HashMap<u64, &Value> = cats
        .iter()
        .map(|c| (c["id"].as_u64().unwrap(), c))
        .collect();
    let depth = |mut id: u64| {
        let mut d = 0;
        while let Some(c) = by_id.get(&id) {
            id = c["parent"].as_u64().unwrap();
            d += 1;
        }
        d
    };
    let iphone = cats.iter().find(|c| c["name"] == "iPhone").unwrap();
    assert_eq!(depth(iphone["id"].as_u64().unwrap()), 3);
    let samsung: Vec<&Value> = cats.iter().filter(|c| c["name"] == "Samsung").collect();
    assert_eq!(samsung.len(), 2);
    assert_ne!(samsung[0]["slug"], samsung[1]["slug"]);
    let acc = cats.iter().find(|c| c["name"] == "Accesorios").unwrap()["id"]
        .as_u64()
        .unwrap();
    let children = api.json(&format!("products/categories?parent={acc}")).await;
    assert!(
        children.as_array().unwrap().len() >= 3,
        "several categories on one level"
    );
    let products = api.all("products?orderby=id").await;
    let funda = products
        .iter()
        .find(|p| p["name"] == "Funda iPhone 15")
        .unwrap();
    assert_eq!(funda["type"], "variable");
    let fid = funda["id"].as_u64().unwrap();
    let levels: Vec<usize> = funda["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| depth(c["id"].as_u64().unwrap()))
        .collect();
    assert_eq!(levels, [1, 2, 3], "several levels of one branch");
    let vars = api.json(&format!("products/{fid}/variations")).await;
    let skus: HashSet<&str> = vars
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sku"].as_str().unwrap())
        .collect();
    assert_eq!(skus, HashSet::from(["CASE-IP15-BLK", "CASE-IP15-RED"]));
    let one = api.json("products?sku=CHG-USBC-20W").await;
    assert_eq!(one.as_array().unwrap().len(), 1);
    assert_eq!(
        one[0]["categories"].as_array().unwrap().len(),
        2,
        "two categories on one level"
    );
    assert!(products.iter().any(|p| p["sku"] == ""));
    let gift = products
        .iter()
        .find(|p| p["name"] == "Tarjeta regalo")
        .unwrap();
    assert_eq!(gift["categories"][0]["slug"], "uncategorized");
    let in_acc = api.all(&format!("products?category={acc}")).await;
    assert!(in_acc.iter().all(|p| p["categories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == acc)));
    let r = api.get("products?type=bundle").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// `printf '%s' '{"id":1042,"status":"processing","billing":{"first_name":"Luc\u00eda"},"payment_url":"http:\/\/127.0.0.1\/checkout\/order-pay\/1042\/"}' | openssl dgst -sha256 -hmac 'wc-sandbox-secret' -binary | base64`
/// → `LITR9V4jy5On2j0TLQNBGBfFZnXY4G2lYbs/lJOg7Ks=` (Python's `hmac` agrees).
#[test]
fn the_signature_verifier_matches_openssl_on_a_php_escaped_body() {
    let body = br#"{"id":1042,"status":"processing","billing":{"first_name":"Luc\u00eda"},"payment_url":"http:\/\/127.0.0.1\/checkout\/order-pay\/1042\/"}"#;
    assert_eq!(
        b64_hmac("wc-sandbox-secret", body),
        "LITR9V4jy5On2j0TLQNBGBfFZnXY4G2lYbs/lJOg7Ks="
    );
}

async fn add_webhook(api: &Api, topic: &str, url: &str) -> u64 {
    let r = api
        .req(reqwest::Method::POST, "webhooks")
        .json(&json!({"name": "puente", "topic": topic, "delivery_url": url, "secret": "wc-sandbox-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    r.json::<Value>().await.unwrap()["id"].as_u64().unwrap()
}

#[tokio::test]
async fn creating_a_webhook_pings_unsigned_then_deliveries_are_signed_php_json() {
    let api = Api::start(WooConfig::default()).await;
    let rx = Receiver::ok().await;
    let wid = add_webhook(&api, "order.updated", &rx.url).await;
    let ping = &rx.got()[0];
    assert_eq!(ping.body.as_ref(), format!("webhook_id={wid}").as_bytes());
    assert_eq!(
        ping.header("content-type"),
        "application/x-www-form-urlencoded"
    );
    assert!(ping.headers.get("x-wc-webhook-signature").is_none());
    assert!(ping.header("user-agent").contains("Hookshot"));
    let del = api
        .s
        .add_webhook("order.deleted", &rx.url, "wc-sandbox-secret")
        .await
        .unwrap();
    assert_eq!(api.s.webhook_state(del), Some(("active".to_string(), 0)));
    let r = api
        .req(reqwest::Method::POST, "webhooks")
        .json(&json!({"topic": "order.eaten", "delivery_url": rx.url}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "woocommerce_rest_shop_webhook_invalid_topic"
    );

    let lucia = api
        .s
        .customers()
        .iter()
        .find(|c| c["email"] == "lucia.garcia@example.es")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let id = api
        .s
        .place_order(WooOrder {
            customer_id: lucia,
            lines: vec![("CASE-IP15-BLK".into(), 1)],
            ..WooOrder::default()
        })
        .unwrap();
    api.s.set_quantity(id, "CASE-IP15-BLK", 2).unwrap();
    api.s.set_status(id, "trash").unwrap();
    let got = rx.wait_for(4).await;
    let (upd, del) = (&got[2], &got[3]);
    for g in [upd, del] {
        assert_eq!(
            g.header("x-wc-webhook-signature"),
            b64_hmac("wc-sandbox-secret", &g.body)
        );
        assert_eq!(
            g.header("x-wc-webhook-source"),
            format!("{}/", api.s.root_url)
        );
        assert_eq!(g.header("x-wc-webhook-resource"), "order");
        assert_eq!(g.header("content-type"), "application/json");
        assert!(!g.header("x-wc-webhook-delivery-id").is_empty());
    }
    assert_eq!(upd.header("x-wc-webhook-topic"), "order.updated");
    assert_eq!(upd.header("x-wc-webhook-event"), "updated");
    assert_eq!(upd.header("x-wc-webhook-id"), wid.to_string());
    let text = String::from_utf8(upd.body.to_vec()).unwrap();
    assert!(
        text.contains(r"http:\/\/") && text.contains(r"Luc\u00eda"),
        "PHP escaping: {text}"
    );
    assert_eq!(upd.json()["line_items"][0]["quantity"], 2);
    assert_eq!(del.header("x-wc-webhook-topic"), "order.deleted");
    assert_eq!(del.json(), json!({"id": id}));
}

#[tokio::test]
async fn a_ping_not_answered_200_leaves_the_webhook_pending_and_the_next_update_pings_again() {
    let api = Api::start(WooConfig::default()).await;
    let rx = Receiver::start(&[202]).await;
    let wid = add_webhook(&api, "order.updated", &rx.url).await;
    let ping = api.s.webhooks_sent().pop().unwrap();
    assert_eq!((ping.event.as_str(), ping.status), ("ping", Some(202)));
    let r = api
        .req(reqwest::Method::PUT, &format!("webhooks/{wid}"))
        .json(&json!({"name": "again"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got = rx.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].body.as_ref(), format!("webhook_id={wid}").as_bytes());
    // Answered 200 now: no more pings on update.
    api.req(reqwest::Method::PUT, &format!("webhooks/{wid}"))
        .json(&json!({"name": "third"}))
        .send()
        .await
        .unwrap();
    assert_eq!(rx.got().len(), 2);
    let r = api
        .req(reqwest::Method::DELETE, &format!("webhooks/{wid}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_IMPLEMENTED);
    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("webhooks/{wid}?force=true"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn deliveries_are_not_retried_and_the_seventh_consecutive_failure_disables_the_webhook() {
    for (limit, ok_first) in [(7u32, true), (5, false)] {
        let api = Api::start(WooConfig {
            disable_after_failures: limit,
            ..WooConfig::default()
        })
        .await;
        // The ping is answered 200, one delivery too (resetting nothing yet), then all fail.
        let mut script = vec![200];
        if ok_first {
            script.push(200);
        }
        script.extend([500; 20]);
        let rx = Receiver::start(&script).await;
        let wid = add_webhook(&api, "order.updated", &rx.url).await;
        let id = api
            .s
            .orders()
            .iter()
            .find(|o| o["status"] == "processing")
            .unwrap()["id"]
            .as_u64()
            .unwrap();
        let sent = if ok_first { 1 } else { 0 };
        for n in 0..limit + 2 {
            api.s
                .set_quantity(
                    id,
                    api.s.order(id).unwrap()["line_items"][0]["sku"]
                        .as_str()
                        .unwrap(),
                    u64::from(n) + 1,
                )
                .unwrap();
            eventually(|| api.s.webhooks_pending() == 0).await;
            let (status, failures) = api.s.webhook_state(wid).unwrap();
            let failed = (n + 1).saturating_sub(sent);
            if failed < limit {
                assert_eq!(
                    (status.as_str(), failures),
                    ("active", failed),
                    "limit {limit}, change {n}"
                );
            } else {
                assert_eq!(status, "disabled", "limit {limit}, change {n}");
            }
        }
        // One ping plus one post per delivery while active: no retries, none once disabled.
        assert_eq!(rx.got().len() as u32, 1 + sent + limit);
    }
}

#[tokio::test]
async fn api_updates_fire_order_updated_and_delete_goes_to_the_trash() {
    let api = Api::start(WooConfig::default()).await;
    let rx = Receiver::ok().await;
    add_webhook(&api, "order.updated", &rx.url).await;
    add_webhook(&api, "order.deleted", &rx.url).await;
    let id = api
        .s
        .orders()
        .iter()
        .find(|o| o["status"] == "processing")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let r = api
        .req(reqwest::Method::PUT, &format!("orders/{id}"))
        .json(&json!({"status": "completed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let o: Value = r.json().await.unwrap();
    assert_eq!(o["status"], "completed");
    assert!(o["date_completed_gmt"].is_string());
    let r = api
        .req(reqwest::Method::PUT, &format!("orders/{id}"))
        .json(&json!({"status": "shipped"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = api
        .req(reqwest::Method::DELETE, &format!("orders/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "trash");
    let r = api
        .req(reqwest::Method::DELETE, &format!("orders/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::GONE);
    let r = api
        .req(reqwest::Method::DELETE, &format!("orders/{id}?force=true"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        api.get(&format!("orders/{id}")).await.status(),
        StatusCode::NOT_FOUND
    );
    let got = rx.wait_for(5).await;
    let topics: Vec<&str> = got[2..]
        .iter()
        .map(|g| g.header("x-wc-webhook-topic"))
        .collect();
    assert_eq!(topics, ["order.updated", "order.deleted", "order.deleted"]);
}

#[tokio::test]
async fn faults_and_a_host_rate_limit_answer_in_the_wp_envelope() {
    let api = Api::start(WooConfig {
        rate_limit: 3,
        ..WooConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(api.get("orders").await.status(), StatusCode::OK);
    }
    let r = api.get("orders").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        r.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["status"], 429);
    api.s.advance_clock(61);
    assert_eq!(api.get("orders").await.status(), StatusCode::OK);
    api.s.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let r = api.get("orders").await;
    assert!(r.status().is_server_error());
    let e = r.json::<Value>().await.unwrap();
    assert!(e["code"].is_string() && e["data"]["status"].as_u64().unwrap() >= 500);
    api.s.set_faults(Faults {
        burst_429: Some((1, 1)),
        ..Faults::default()
    });
    assert_eq!(
        api.get("orders").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(api.s.stats().rate_limited, 2);
}
