//! The RO App sandbox over real HTTP, against `shops-accounting.md` §(e): both auth
//! generations, legacy 50-item pages with epoch-ms times, the v2 envelope, repeated `x[]`
//! filters, phones matched by digits, order types' initial statuses, items frozen by the
//! write-off, comments and the event feed, the catalogue, 429 at the configured rate, faults.

#[path = "shops_support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::time::Duration;

use puente_sandbox::{start_roapp, Faults, RoAppConfig, RoAppSandbox};
use reqwest::StatusCode;
use serde_json::{json, Value};

struct Api {
    s: RoAppSandbox,
    http: reqwest::Client,
    token: String,
}

impl Api {
    /// No rate limit, so tests can call freely.
    async fn start(cfg: RoAppConfig) -> Api {
        let s = start_roapp(&cfg, None).await.unwrap();
        let http = reqwest::Client::new();
        let r = http
            .post(format!("{}/token/new", s.base_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("api_key={}", cfg.api_key))
            .send()
            .await
            .unwrap();
        let token = r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap_or("")
            .to_string();
        Api { s, http, token }
    }

    fn free() -> RoAppConfig {
        RoAppConfig {
            rate_limit: 0,
            ..RoAppConfig::default()
        }
    }

    async fn legacy(&self, path_and_query: &str) -> reqwest::Response {
        let sep = if path_and_query.contains('?') {
            '&'
        } else {
            '?'
        };
        let url = format!(
            "{}{path_and_query}{sep}token={}",
            self.s.base_url, self.token
        );
        self.http.get(url).send().await.unwrap()
    }

    async fn legacy_json(&self, path_and_query: &str) -> Value {
        let r = self.legacy(path_and_query).await;
        assert_eq!(r.status(), StatusCode::OK, "{path_and_query}");
        r.json().await.unwrap()
    }

    fn v2(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}/v2/{path}", self.s.base_url))
            .bearer_auth(&self.s.config().api_key)
    }

    async fn get(&self, path: &str) -> Value {
        let r = self.v2(reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        r.json().await.unwrap()
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.v2(reqwest::Method::POST, path)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

fn ids(v: &Value) -> Vec<u64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn roa_auth_legacy_token_then_query_and_v2_bearer() {
    let api = Api::start(Api::free()).await;
    assert_eq!(api.token.len(), 32);
    let r = api
        .http
        .post(format!("{}/token/new", api.s.base_url))
        .json(&json!({"api_key": "wrong"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"success": false, "message": "Invalid API key"})
    );
    let r = api
        .http
        .post(format!("{}/token/new", api.s.base_url))
        .json(&json!({"api_key": api.s.config().api_key}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["success"], true);
    let ok = api.legacy_json("/clients/").await;
    assert_eq!(ok["success"], true);
    let r = api
        .http
        .get(format!("{}/clients/?token=nope", api.s.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    let r = api
        .http
        .get(format!("{}/v2/orders", api.s.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.json::<Value>().await.unwrap()["message"].is_string());
    let r = api
        .http
        .get(format!("{}/v2/orders", api.s.base_url))
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a legacy token is not a v2 key"
    );
    assert!(api.get("orders").await["data"].is_array());
    // Legacy tokens expire on the sandbox clock; Bearer keys do not.
    api.s.advance_clock(24 * 3600 + 1);
    assert_eq!(
        api.legacy("/clients/").await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert!(api.get("orders").await["data"].is_array());
    // Paths without the trailing slash reach the same resource; unknown paths are 404.
    let api = Api::start(Api::free()).await;
    assert_eq!(api.legacy("/clients").await.status(), StatusCode::OK);
    assert_eq!(
        api.legacy("/nothing/").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn legacy_pages_of_50_cover_every_client_once_with_epoch_millisecond_times() {
    let api = Api::start(RoAppConfig {
        clients: 120,
        ..Api::free()
    })
    .await;
    let mut seen = Vec::new();
    for page in 1..=3 {
        let p = api.legacy_json(&format!("/clients/?page={page}")).await;
        assert_eq!(p["count"], 120);
        assert_eq!(p["page"], page);
        let data = p["data"].as_array().unwrap();
        assert_eq!(data.len(), [50, 50, 20][page - 1]);
        for c in data {
            let ms = c["created_at"].as_i64().unwrap();
            assert!(ms > 1_600_000_000_000, "epoch ms: {ms}");
            assert!(c["phone"].is_array());
        }
        seen.extend(ids(&p["data"]));
    }
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 120);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(api.legacy_json("/clients/?page=4").await["data"], json!([]));
    assert_eq!(
        api.legacy("/clients/?page=0").await.status(),
        StatusCode::BAD_REQUEST
    );
    // v2: {paging, data}, per_page at most 50.
    let p = api.get("contacts/people?per_page=20&page=2").await;
    assert_eq!(p["paging"]["count"], 119, "people only: one organisation");
    assert_eq!(p["paging"]["total_pages"], 6);
    assert_eq!(p["data"].as_array().unwrap().len(), 20);
    assert!(p["data"][0]["created_at"].as_str().unwrap().ends_with('Z'));
    let r = api
        .v2(reqwest::Method::GET, "contacts/people?per_page=51")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        api.get("contacts/organizations").await["paging"]["count"],
        1
    );
}

#[tokio::test]
async fn roa8_phones_match_by_digits_in_any_format_and_emails_case_blind() {
    let api = Api::start(Api::free()).await;
    for phone in [
        "0034600112233",
        "600 11 22 33",
        "%2B34600112233",
        "600112233",
    ] {
        let legacy = api
            .legacy_json(&format!("/clients/?phones[]={phone}"))
            .await;
        assert_eq!(legacy["count"], 1, "{phone}");
        assert_eq!(legacy["data"][0]["phone"][0], "+34 (600) 11-22-33");
        let v2 = api.get(&format!("contacts/people?phones[]={phone}")).await;
        assert_eq!(v2["data"][0]["first_name"], "Lucía");
    }
    let both = api
        .legacy_json("/clients/?phones[]=600112233&phones[]=633445566")
        .await;
    assert_eq!(both["count"], 2);
    let sergio = api.legacy_json("/clients/?phones[]=952123456").await;
    assert_eq!(
        sergio["data"][0]["email"], "sergio.diaz@example.es",
        "second phone matches too"
    );
    let carmen = api
        .get("contacts/people?emails[]=carmen.lopez@example.es")
        .await;
    assert_eq!(carmen["data"][0]["email"], "Carmen.Lopez@Example.es");
    let lucias = api.legacy_json("/clients/?names[]=luc%C3%ADa").await;
    assert_eq!(lucias["count"], 2, "a person and an organisation");
    assert_eq!(
        api.legacy_json("/clients/?phones[]=611223344").await["count"],
        0,
        "Javier is not in RO App"
    );
    // Creating does not dedupe: matching is the connector's job.
    let r = api
        .post(
            "contacts/people",
            json!({"first_name": "Lucía", "last_name": "García Pérez", "phones": ["600112233"]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        api.legacy_json("/clients/?phones[]=600112233").await["count"],
        2
    );
    let r = api
        .post("contacts/people", json!({"email": "x@y.es"}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Legacy create takes a form with repeated phone[].
    let r = api
        .http
        .post(format!("{}/clients/?token={}", api.s.base_url, api.token))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("name=Javier+Mart%C3%ADn+Ruiz&phone[]=%2B34+611+22+33+44&email=javier.martin%40example.es")
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["data"]["id"]
        .as_u64()
        .unwrap();
    let found = api.legacy_json("/clients/?phones[]=0034611223344").await;
    assert_eq!(ids(&found["data"]), [id]);
    assert_eq!(found["data"][0]["last_name"], "Martín Ruiz");
}

#[tokio::test]
async fn roa4_orders_take_their_type_initial_status_and_carry_client_and_items() {
    let api = Api::start(Api::free()).await;
    let lucia = api.get("contacts/people?phones[]=600112233").await["data"][0]["id"]
        .as_u64()
        .unwrap();
    let funda = api.get("catalog/products?skus[]=CASE-IP15-BLK").await["data"][0]["id"]
        .as_u64()
        .unwrap();
    let types = api.get("orders/types").await;
    assert_eq!(types["data"][0]["name"], "Venta online");
    let r = api
        .post(
            "orders",
            json!({"client_id": lucia, "order_type_id": 1, "items": [
            {"product_id": funda, "quantity": 2},
            {"title": "Envío estándar", "quantity": 1, "price": 4.95}]}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let o = r.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!(o["status"]["name"], "Nuevo");
    assert_eq!(o["status"]["group"]["type"], "new");
    assert_eq!(o["client"]["id"], lucia);
    assert_eq!(o["items"][0]["sku"], "CASE-IP15-BLK");
    assert_eq!(o["items"][0]["quantity"], 2);
    assert_eq!(o["price"], 44.75);
    assert!(o["number"].as_str().unwrap().starts_with("A-"));
    let r = api
        .post("orders", json!({"client_id": lucia, "order_type_id": 2}))
        .await;
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["status"]["name"],
        "Diagnóstico"
    );
    let r = api.post("orders", json!({"order_type_id": 1})).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "client_id is required"})
    );
    let r = api
        .post("orders", json!({"client_id": 1, "order_type_id": 1}))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The legacy list shows it with epoch-ms times and its parts; filters select it.
    let legacy = api
        .legacy_json(&format!(
            "/order/?clients_ids[]={lucia}&client_phones[]=0034600112233&types[]=1"
        ))
        .await;
    assert_eq!(legacy["count"], 1);
    assert!(legacy["data"][0]["created_at"].is_i64());
    assert_eq!(legacy["data"][0]["parts"].as_array().unwrap().len(), 2);
    let all = api.s.orders().len();
    assert_eq!(
        api.legacy_json(
            "/order/?statuses[]=1&statuses[]=2&statuses[]=3&statuses[]=4&statuses[]=5&statuses[]=6"
        )
        .await["count"],
        all
    );
    let desc = ids(&api.legacy_json("/order/").await["data"]);
    assert!(desc.windows(2).all(|w| w[0] > w[1]), "newest first");
    let asc = ids(&api.legacy_json("/order/?sort_dir=asc").await["data"]);
    assert!(asc.windows(2).all(|w| w[0] < w[1]));
    let since = api.s.now().timestamp_millis() - 60_000;
    assert_eq!(
        api.legacy_json(&format!("/order/?created_at[]={since}"))
            .await["count"],
        2
    );
    let statuses = api.legacy_json("/statuses/").await;
    assert_eq!(statuses["data"].as_array().unwrap().len(), 6);
    let company = api.get("company").await;
    assert_eq!(company["data"]["currency"], "EUR");
}

#[tokio::test]
async fn roa3_items_change_until_the_products_are_written_off_then_409() {
    let api = Api::start(Api::free()).await;
    let client = api.s.clients()[0]["id"].as_u64().unwrap();
    let r = api.post("orders", json!({"client_id": client, "order_type_id": 1, "items": [{"title": "Cable USB-C 1 m", "quantity": 1, "price": 9.5}]})).await;
    let o = r.json::<Value>().await.unwrap()["data"].clone();
    let (id, item) = (
        o["id"].as_u64().unwrap(),
        o["items"][0]["id"].as_u64().unwrap(),
    );
    let r = api
        .v2(reqwest::Method::PATCH, &format!("orders/{id}/items/{item}"))
        .json(&json!({"quantity": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["data"]["quantity"], 3);
    let r = api
        .post(
            &format!("orders/{id}/items"),
            json!({"title": "Funda", "quantity": 1, "price": 19.9}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = api.post(&format!("orders/{id}/write-off"), json!({})).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap()["data"]["written_off"],
        true
    );
    let frozen = json!({"message": "Order items are written off"});
    let r = api
        .v2(reqwest::Method::PATCH, &format!("orders/{id}/items/{item}"))
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(r.json::<Value>().await.unwrap(), frozen);
    let r = api
        .post(
            &format!("orders/{id}/items"),
            json!({"title": "Más", "quantity": 1}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let r = api
        .v2(
            reqwest::Method::DELETE,
            &format!("orders/{id}/items/{item}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(
        api.post(&format!("orders/{id}/write-off"), json!({}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let items = api.get(&format!("orders/{id}/items")).await;
    assert!(items["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["written_off"] == true));
    assert_eq!(items["data"][0]["quantity"], 3);
    let kinds: Vec<String> = api.s.events(id).into_iter().map(|e| e.0).collect();
    assert_eq!(
        kinds,
        ["created", "item_changed", "item_added", "written_off"]
    );
    // An employee writes off in the UI: the same freeze.
    let r = api.post("orders", json!({"client_id": client, "order_type_id": 1, "items": [{"title": "X", "quantity": 1}]})).await;
    let o = r.json::<Value>().await.unwrap()["data"].clone();
    let (id2, item2) = (
        o["id"].as_u64().unwrap(),
        o["items"][0]["id"].as_u64().unwrap(),
    );
    api.s.write_off(id2).unwrap();
    let r = api
        .v2(
            reqwest::Method::PATCH,
            &format!("orders/{id2}/items/{item2}"),
        )
        .json(&json!({"quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(
        api.s
            .orders()
            .iter()
            .any(|o| o["written_off"] == true && o["id"] != id && o["id"] != id2),
        "seeded written-off orders"
    );
}

#[tokio::test]
async fn roa6_comments_are_posted_and_listed_in_the_order_event_feed() {
    let api = Api::start(Api::free()).await;
    let client = api.s.clients()[0]["id"].as_u64().unwrap();
    let r = api
        .post("orders", json!({"client_id": client, "order_type_id": 1}))
        .await;
    let id = r.json::<Value>().await.unwrap()["data"]["id"]
        .as_u64()
        .unwrap();
    let text = "Entrega: Envío estándar, 4.95 EUR, Calle de Alcalá 12, 28014 Madrid";
    let r = api
        .post(&format!("orders/{id}/comments"), json!({"text": text}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let c = r.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!(
        (c["type"].as_str(), c["text"].as_str()),
        (Some("comment"), Some(text))
    );
    assert_eq!(
        api.post(&format!("orders/{id}/comments"), json!({"text": " "}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let list = api.get(&format!("orders/{id}/comments")).await;
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert_eq!(list["data"][0]["text"], text);
    let feed = api.get(&format!("orders/{id}/events")).await;
    let types: Vec<&str> = feed["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["created", "comment"]);
    assert_eq!(api.s.comments(id), [text]);
    let r = api
        .v2(reqwest::Method::PATCH, &format!("orders/{id}"))
        .json(&json!({"status_id": 5}))
        .send()
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap()["data"]["closed_at"].is_string());
    assert_eq!(
        api.v2(reqwest::Method::GET, "orders/999/comments")
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn roa7_catalogue_by_sku_code_and_title_with_categories_by_parent() {
    let api = Api::start(Api::free()).await;
    let p = api
        .get("catalog/products?skus[]=CASE-IP15-BLK&skus[]=BAT-SGS21")
        .await;
    assert_eq!(p["paging"]["count"], 2);
    let diag = api.get("catalog/products?titles[]=diagn%C3%B3stico").await;
    assert_eq!(
        diag["data"][0]["sku"], "",
        "a catalogue product without SKU"
    );
    let code = diag["data"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(
        api.get(&format!("catalog/products?codes[]={code}")).await["paging"]["count"],
        1
    );
    assert_eq!(
        api.get("catalog/products?skus[]=CBL-USBC-1M").await["paging"]["count"],
        0
    );
    let cats = api.get("catalog/products/categories").await;
    let acc = cats["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["title"] == "Accesorios")
        .unwrap()["id"]
        .as_u64()
        .unwrap();
    let kids = api
        .get(&format!("catalog/products/categories?parent_id={acc}"))
        .await;
    assert_eq!(kids["data"][0]["title"], "Fundas");
    let r = api
        .post(
            "catalog/products/categories",
            json!({"title": "Cables", "parent_id": acc}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let cables = r.json::<Value>().await.unwrap()["data"]["id"]
        .as_u64()
        .unwrap();
    let r = api
        .post("catalog/products", json!({"title": "Cable USB-C 1 m", "sku": "CBL-USBC-1M", "code": "4711", "unit": "pcs", "category_id": cables, "price": 9.5}))
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let made = r.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!(
        (made["code"].as_str(), made["unit"]["code"].as_str()),
        (Some("4711"), Some("pcs"))
    );
    assert_eq!(
        api.post("catalog/products", json!({"sku": "X"}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        api.post("catalog/products", json!({"title": "X", "category_id": 1}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Legacy warehouse goods: article, barcodes as objects, residue.
    let goods = api.legacy_json("/warehouse/goods/1").await;
    let funda = goods["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["article"] == "CASE-IP15-BLK")
        .unwrap();
    assert_eq!(funda["barcodes"][0]["code"].as_str().unwrap().len(), 13);
    assert!(funda["residue"].as_i64().unwrap() > 0);
    let zero = api
        .legacy_json("/warehouse/goods/1?exclude_zero_residue=true")
        .await;
    assert_eq!(
        zero["count"].as_u64().unwrap(),
        goods["count"].as_u64().unwrap() - 1,
        "the new product has no stock"
    );
    assert_eq!(
        api.legacy_json("/warehouse/categories/").await["data"]
            .as_array()
            .unwrap()
            .len(),
        cats["data"].as_array().unwrap().len() + 1
    );
}

#[tokio::test]
async fn rate_limit_answers_429_at_the_configured_calls_a_second() {
    for limit in [3u32, 8] {
        let api = Api::start(RoAppConfig {
            rate_limit: limit,
            ..RoAppConfig::default()
        })
        .await;
        // The token call counted; wait the window out.
        api.s.advance_clock(2);
        for _ in 0..limit {
            assert_eq!(api.legacy("/statuses/").await.status(), StatusCode::OK);
        }
        let r = api.legacy("/statuses/").await;
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"success": false, "message": "Too many requests"})
        );
        let r = api.v2(reqwest::Method::GET, "orders").send().await.unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(
            r.json::<Value>().await.unwrap(),
            json!({"message": "Too many requests"})
        );
        api.s.advance_clock(1);
        assert_eq!(api.legacy("/statuses/").await.status(), StatusCode::OK);
        assert_eq!(api.s.stats().rate_limited, 2);
    }
    // Real time counts too: 3 a second, paced at 0.35 s, never throttled.
    let api = Api::start(RoAppConfig::default()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..5 {
        assert_eq!(api.legacy("/statuses/").await.status(), StatusCode::OK);
        tokio::time::sleep(Duration::from_millis(350)).await;
    }
}

#[tokio::test]
async fn injected_faults_answer_in_the_legacy_error_shape() {
    let api = Api::start(Api::free()).await;
    api.s.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let r = api.legacy("/clients/").await;
    assert!(r.status().is_server_error());
    assert_eq!(r.json::<Value>().await.unwrap()["success"], false);
    api.s.set_faults(Faults {
        burst_429: Some((1, 1)),
        ..Faults::default()
    });
    let r = api.v2(reqwest::Method::GET, "orders").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(r.headers()["retry-after"], "1");
    api.s.set_faults(Faults::default());
    assert_eq!(api.legacy("/clients/").await.status(), StatusCode::OK);
    assert_eq!(api.s.stats().faults.values().sum::<u64>(), 2);
    assert!(api
        .s
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /v2/orders")));
}
