//! The CCV Shop sandbox over real HTTP (reqwest), against the vendor page's facts
//! (`shared/spec/vendor-apis/shops-accounting.md` §(a)): signed requests and responses, paging,
//! filters, write rules, error bodies, limits, faults, webhooks and their signed deliveries.

#[path = "accounting_support/mod.rs"]
mod support;

use std::collections::HashSet;

use chrono::{SecondsFormat, Utc};
use hmac::{Hmac, KeyInit, Mac};
use puente_sandbox::commerce::{is_ean13, CommerceSizes};
use puente_sandbox::{start_ccv, vat, CcvConfig, Faults, Sandbox};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha512;
use support::{drained, receiver, Answer};

const PUBLIC: &str = "ccv-sandbox-public";
const SECRET: &str = "ccv-sandbox-secret";

/// hex HMAC-SHA512, written here so the sandbox's own signing code is not what checks it
/// (and itself checked against `openssl` in `signer_matches_openssl_vectors`).
fn hmac_hex(key: &str, msg: &[u8]) -> String {
    let mut m = <Hmac<Sha512> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    m.update(msg);
    hex::encode(m.finalize().into_bytes())
}

fn message(method: &str, uri: &str, body: &[u8], date: &str) -> Vec<u8> {
    let mut m = format!("{PUBLIC}|{method}|{uri}|").into_bytes();
    m.extend_from_slice(body);
    m.extend_from_slice(format!("|{date}").as_bytes());
    m
}

struct Shop {
    sb: Sandbox,
    http: reqwest::Client,
}

impl Shop {
    async fn start(cfg: CcvConfig) -> Shop {
        Shop {
            sb: start_ccv(&cfg, None).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    /// A request with explicit signature headers (`None`: header left out).
    async fn raw(
        &self,
        method: Method,
        uri: &str,
        body: &str,
        headers: [(&str, Option<String>); 3],
    ) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{uri}", self.sb.root_url))
            .header("accept", "application/vnd.verto.webshop+json");
        for (k, v) in headers {
            if let Some(v) = v {
                r = r.header(k, v);
            }
        }
        if !body.is_empty() {
            r = r
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        Answer::read(r.send().await.unwrap()).await
    }

    /// A request signed as the official SDK signs it, `uri` relative to the host.
    async fn call(&self, method: Method, uri: &str, body: &str) -> Answer {
        let date = Utc::now().format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
        let hash = hmac_hex(
            SECRET,
            &message(method.as_str(), uri, body.as_bytes(), &date),
        );
        let a = self
            .raw(
                method.clone(),
                uri,
                body,
                [
                    ("x-public", Some(PUBLIC.into())),
                    ("x-date", Some(date)),
                    ("x-hash", Some(hash)),
                ],
            )
            .await;
        assert_signed(&method, uri, &a);
        a
    }

    async fn get(&self, uri: &str) -> Answer {
        self.call(Method::GET, uri, "").await
    }
}

/// The answer carries `x-date` and `x-hash` = HMAC(secret, public|METHOD|uri|body|x-date).
fn assert_signed(method: &Method, uri: &str, a: &Answer) {
    let date = a.header("x-date");
    assert!(!date.is_empty(), "{uri}: unsigned answer {}", a.status);
    let want = hmac_hex(SECRET, &message(method.as_str(), uri, &a.body, date));
    assert_eq!(a.header("x-hash"), want, "{method} {uri} → {}", a.status);
}

fn v1(path: &str) -> String {
    format!("/api/rest/v1/{path}")
}

/// The error body `{code, status, developermessage}`.
fn assert_error(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let b = a.json();
    assert_eq!(b["code"], code, "{b}");
    assert_eq!(b["status"], status);
    assert!(b["developermessage"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

/// Follows `next` from `uri`; every item, in order.
async fn all_items(shop: &Shop, uri: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(uri.to_string());
    while let Some(u) = next {
        let a = shop.get(&u).await;
        assert_eq!(a.status, 200, "{u}");
        let b = a.json();
        out.extend(b["items"].as_array().unwrap().iter().cloned());
        next = b["next"]
            .as_str()
            .map(|n| n.strip_prefix(&shop.sb.root_url).unwrap().to_string());
    }
    out
}

/// The test's signer reproduces vectors computed outside the code under test:
/// `printf '%s' 'ccv-sandbox-public|GET|/api/rest/v1/products?productnumber=BON-1001||2026-01-02T10:00:00Z' | openssl dgst -sha512 -hmac 'ccv-sandbox-secret'`
/// → `8461496bf3cc9a97…2f7985f0`;
/// `printf '%s' 'ccv-sandbox-public|PATCH|/api/rest/v1/products/2001|{"stock":12}|2026-01-02T10:00:00+00:00' | openssl dgst -sha512 -hmac 'ccv-sandbox-secret'`
/// → `bd4d2239698d2b71…dc700641`;
/// `python3 -c "import hmac,hashlib;print(hmac.new(b'whk_0123', b'{\"event\":\"products.updated\",\"id\":2001,\"href\":\"http://127.0.0.1/api/rest/v1/products/2001\"}', hashlib.sha512).hexdigest())"`
/// → `3ca088b65d43293c…aa97a774`.
const GET_HASH: &str = "8461496bf3cc9a9729f52245e1b5f23f54cba5724d8856c1d67be97a9eb83bca\
                        ebd89f2b690e7ad87e1787325d5880fd5458af7f7a27d3647eb4b6dd2f7985f0";
const PATCH_HASH: &str = "bd4d2239698d2b715a195b70b16bba3fafd2274cd9984420c33be9ddb8bbcb67\
                          f618a3fb71157134d50115a1271e182ef2b5723435eb18c98168b075dc700641";

#[test]
fn signer_matches_openssl_vectors() {
    let get = message(
        "GET",
        "/api/rest/v1/products?productnumber=BON-1001",
        b"",
        "2026-01-02T10:00:00Z",
    );
    assert_eq!(hmac_hex(SECRET, &get), GET_HASH);
    let patch = message(
        "PATCH",
        "/api/rest/v1/products/2001",
        br#"{"stock":12}"#,
        "2026-01-02T10:00:00+00:00",
    );
    assert_eq!(hmac_hex(SECRET, &patch), PATCH_HASH);
    let delivery = br#"{"event":"products.updated","id":2001,"href":"http://127.0.0.1/api/rest/v1/products/2001"}"#;
    assert_eq!(
        hmac_hex("whk_0123", delivery),
        "3ca088b65d43293c5a36b2a2f95e3cf4b87903b0d9729541717a0b5766619c88\
         d53e274a8903630bc340056aed2d55e6c95f343ce0bc0a0d201e53c2aa97a774"
    );
}

/// With the skew check off, requests carrying the openssl-computed hashes pass (a GET with a
/// query, and a PATCH whose body is hashed byte for byte); one changed byte is refused.
#[tokio::test]
async fn requests_signed_with_independent_hashes_are_accepted() {
    let shop = Shop::start(CcvConfig {
        skew_secs: 0,
        ..CcvConfig::default()
    })
    .await;
    let hdrs = |date: &str, hash: &str| {
        [
            ("x-public", Some(PUBLIC.to_string())),
            ("x-date", Some(date.to_string())),
            ("x-hash", Some(hash.to_string())),
        ]
    };
    let uri = "/api/rest/v1/products?productnumber=BON-1001";
    let a = shop
        .raw(Method::GET, uri, "", hdrs("2026-01-02T10:00:00Z", GET_HASH))
        .await;
    assert_eq!(a.status, 200);
    let items = a.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], 2001);
    assert_signed(&Method::GET, uri, &a);
    let patch = shop
        .raw(
            Method::PATCH,
            "/api/rest/v1/products/2001",
            r#"{"stock":12}"#,
            hdrs("2026-01-02T10:00:00+00:00", PATCH_HASH),
        )
        .await;
    assert_eq!(patch.status, 204);
    assert!(patch.body.is_empty());
    assert_eq!(
        shop.sb.ccv().unwrap().product_by_sku("BON-1001").unwrap()["stock"],
        12.0
    );
    // The same hash over a body with one more space: refused.
    let tampered = shop
        .raw(
            Method::PATCH,
            "/api/rest/v1/products/2001",
            r#"{"stock": 12}"#,
            hdrs("2026-01-02T10:00:00+00:00", PATCH_HASH),
        )
        .await;
    assert_error(&tampered, 401, "401.10");
    assert_signed(&Method::PATCH, "/api/rest/v1/products/2001", &tampered);
}

#[tokio::test]
async fn auth_refuses_missing_wrong_and_stale_signatures() {
    let shop = Shop::start(CcvConfig::default()).await;
    let uri = v1("orders");
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let sign = |date: &str, secret: &str| hmac_hex(secret, &message("GET", &uri, b"", date));
    let cases = [
        (
            "no headers",
            [("x-public", None), ("x-date", None), ("x-hash", None)],
        ),
        (
            "wrong public key",
            [
                ("x-public", Some("someone-else".into())),
                ("x-date", Some(now.clone())),
                ("x-hash", Some(sign(&now, SECRET))),
            ],
        ),
        (
            "wrong secret",
            [
                ("x-public", Some(PUBLIC.into())),
                ("x-date", Some(now.clone())),
                ("x-hash", Some(sign(&now, "not-the-secret"))),
            ],
        ),
    ];
    for (what, h) in cases {
        let a = shop.raw(Method::GET, &uri, "", h).await;
        assert_eq!(a.status, 401, "{what}");
        assert_error(&a, 401, "401.10");
        assert_signed(&Method::GET, &uri, &a);
    }
    // Ten minutes off is outside the default five-minute window; two minutes is inside, and
    // an unpadded date is read too.
    let stale = (Utc::now() - chrono::TimeDelta::minutes(10))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let a = shop
        .raw(
            Method::GET,
            &uri,
            "",
            [
                ("x-public", Some(PUBLIC.into())),
                ("x-date", Some(stale.clone())),
                ("x-hash", Some(sign(&stale, SECRET))),
            ],
        )
        .await;
    assert_error(&a, 401, "401.10");
    let near = Utc::now() - chrono::TimeDelta::minutes(2);
    let unpadded = near.format("%Y-%-m-%-dT%-H:%-M:%-SZ").to_string();
    let a = shop
        .raw(
            Method::GET,
            &uri,
            "",
            [
                ("x-public", Some(PUBLIC.into())),
                ("x-date", Some(unpadded.clone())),
                ("x-hash", Some(sign(&unpadded, SECRET))),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", String::from_utf8_lossy(&a.body));
}

/// Every answer is signed: lists, creates, 204s, 404s, 405s, injected 429s and 5xx.
#[tokio::test]
async fn every_response_is_signed() {
    let shop = Shop::start(CcvConfig::default()).await;
    // `call` asserts the signature of each answer.
    assert_eq!(shop.get(&v1("products?size=2")).await.status, 200);
    assert_eq!(shop.get("/api/rest/v1/").await.status, 200);
    let c = shop
        .call(
            Method::POST,
            &v1("categories"),
            r#"{"name":"Koffiezetapparaten","parentcategory":16}"#,
        )
        .await;
    assert_eq!(c.status, 201);
    let id = c.json()["id"].as_u64().unwrap();
    let p = shop
        .call(
            Method::PATCH,
            &v1(&format!("categories/{id}")),
            r#"{"position":9}"#,
        )
        .await;
    assert_eq!(p.status, 204);
    assert!(p.body.is_empty());
    assert_error(&shop.get(&v1("products/999999")).await, 404, "404.20");
    assert_error(
        &shop.call(Method::PUT, &v1("products/2001"), "{}").await,
        405,
        "405.10",
    );
    shop.sb.set_faults(Faults {
        burst_429: Some((1, 1)),
        ..Faults::default()
    });
    assert_error(&shop.get(&v1("orders")).await, 429, "429.10");
    shop.sb.set_faults(Faults {
        error_5xx: 1.0,
        seed: 3,
        ..Faults::default()
    });
    let a = shop.get(&v1("orders")).await;
    assert!(a.status == 500 || a.status == 503, "{}", a.status);
    assert!(a.json()["code"]
        .as_str()
        .unwrap()
        .starts_with(&a.status.to_string()));
    assert!(shop.sb.stats().faults["error_5xx"] >= 1);
}

#[tokio::test]
async fn paging_covers_every_record_once_in_a_stable_order() {
    let shop = Shop::start(CcvConfig {
        orders: 53,
        ..CcvConfig::default()
    })
    .await;
    let items = all_items(&shop, &v1("orders?size=7")).await;
    let ids: Vec<u64> = items.iter().map(|o| o["id"].as_u64().unwrap()).collect();
    assert_eq!(ids.len(), 53);
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 53);
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted);
    // Sorted by a field, then by id: the same set again.
    let by_date = all_items(&shop, &v1("orders?orderby=create_date_desc&size=10")).await;
    assert_eq!(by_date.len(), 53);
    let dates: Vec<&str> = by_date
        .iter()
        .map(|o| o["create_date"].as_str().unwrap())
        .collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]));
    // The envelope, the 250 cap, and a trailing slash.
    let first = shop.get(&v1("products/?size=1000")).await.json();
    assert_eq!(first["size"], 250);
    assert_eq!(first["start"], 0);
    assert!(first["previous"].is_null() && first["next"].is_null());
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let page = shop.get(&v1("products?start=5&size=5")).await.json();
    for k in ["href", "first", "previous", "next"] {
        assert!(page[k].as_str().unwrap().starts_with("http://"), "{k}");
    }
    assert_error(&shop.get(&v1("products?start=x")).await, 400, "400.10");
}

#[tokio::test]
async fn apc1_order_filters_select_states_and_bad_filters_answer_400() {
    let shop = Shop::start(CcvConfig {
        orders: 80,
        ..CcvConfig::default()
    })
    .await;
    let all = all_items(&shop, &v1("orders?size=250")).await;
    for (q, keep) in [
        (
            "status=5",
            Box::new(|o: &Value| o["status"] == 5) as Box<dyn Fn(&Value) -> bool>,
        ),
        ("is_paid=true", Box::new(|o: &Value| o["paid"] == true)),
        ("is_paid=0", Box::new(|o: &Value| o["paid"] == false)),
        (
            "is_completed=false",
            Box::new(|o: &Value| o["is_completed"] == false),
        ),
    ] {
        let got = all_items(&shop, &v1(&format!("orders?{q}"))).await;
        let want: Vec<&Value> = all.iter().filter(|o| keep(o)).collect();
        assert!(!want.is_empty(), "{q}: no seeded order matches");
        assert_eq!(got.len(), want.len(), "{q}");
        assert!(got.iter().all(&keep), "{q}");
    }
    let mid = all[40]["create_date"].as_str().unwrap();
    let after = all_items(&shop, &v1(&format!("orders?min_create_date={mid}"))).await;
    assert_eq!(
        after.len(),
        all.iter()
            .filter(|o| o["create_date"].as_str().unwrap() >= mid)
            .count()
    );
    let numbered = all.iter().find(|o| o["ordernumber"].is_u64()).unwrap();
    let one = shop
        .get(&v1(&format!(
            "orders?ordernumber={}",
            numbered["ordernumber"]
        )))
        .await
        .json();
    assert_eq!(one["items"][0]["id"], numbered["id"]);
    let p = shop.sb.ccv().unwrap().records("products");
    let ean = p.iter().find_map(|p| p["eannumber"].as_str()).unwrap();
    let by_ean = shop
        .get(&v1(&format!("products?eannumber={ean}")))
        .await
        .json();
    assert_eq!(by_ean["items"].as_array().unwrap().len(), 1);
    let by_name = shop.get(&v1("products?productname=koffie")).await.json();
    assert!(by_name["items"].as_array().unwrap().len() > 1);
    assert_error(&shop.get(&v1("orders?status=15")).await, 400, "400.10");
    assert_error(&shop.get(&v1("orders?is_paid=maybe")).await, 400, "400.10");
    assert_error(
        &shop.get(&v1("orders?min_create_date=soon")).await,
        400,
        "400.10",
    );
    assert_error(
        &shop.get(&v1("orders?orderby=total_price")).await,
        400,
        "400.10",
    );
    assert_error(
        &shop.get(&v1("products?productname=ko")).await,
        400,
        "400.10",
    );
}

#[tokio::test]
async fn order_numbers_are_null_until_completed_and_rows_lock_then() {
    let shop = Shop::start(CcvConfig::default()).await;
    let orders = shop.sb.ccv().unwrap().records("orders");
    assert!(orders
        .iter()
        .any(|o| o["is_completed"] == false && o["ordernumber"].is_null()));
    assert!(orders
        .iter()
        .all(|o| (o["is_completed"] == true) == o["ordernumber_full"].is_string()));
    let statuses: HashSet<i64> = orders
        .iter()
        .map(|o| o["status"].as_i64().unwrap())
        .collect();
    assert!(statuses.len() >= 4 && statuses.iter().all(|s| (1..=14).contains(s)));
    let body = json!({"customer": {"email": "nieuw@example.nl", "billingaddress": {
        "first_name": "Nieuw", "last_name": "Klant", "country_code": "NL"}},
        "orderrows": [{"product_id": 2001, "count": 2}], "is_completed": false});
    let a = shop
        .call(Method::POST, &v1("orders"), &body.to_string())
        .await;
    assert_eq!(a.status, 201);
    let o = a.json();
    assert!(o["ordernumber"].is_null() && o["ordernumber_full"].is_null());
    let id = o["id"].as_u64().unwrap();
    let rows = shop
        .get(&v1(&format!("orders/{id}/orderrows")))
        .await
        .json();
    assert_eq!(rows["items"][0]["product_number"], "BON-1001");
    let add = shop
        .call(
            Method::POST,
            &v1(&format!("orders/{id}/orderrows")),
            r#"{"product_id":2002,"count":1}"#,
        )
        .await;
    assert_eq!(add.status, 201);
    let done = shop
        .call(
            Method::PATCH,
            &v1(&format!("orders/{id}")),
            r#"{"is_completed":true,"status":2,"paid":true}"#,
        )
        .await;
    assert_eq!(done.status, 204);
    let o = shop.get(&v1(&format!("orders/{id}"))).await.json();
    assert!(o["ordernumber"].is_u64());
    assert_eq!(o["ordernumber_full"], format!("2026-{}", o["ordernumber"]));
    assert_eq!(
        (o["status"].clone(), o["paid"].clone()),
        (json!(2), json!(true))
    );
    let locked = shop
        .call(
            Method::PUT,
            &v1(&format!("orders/{id}/orderrows")),
            r#"{"orderrows":[]}"#,
        )
        .await;
    assert_error(&locked, 400, "400.20");
    let reopen = shop
        .call(
            Method::PATCH,
            &v1(&format!("orders/{id}")),
            r#"{"is_completed":false}"#,
        )
        .await;
    assert_error(&reopen, 400, "400.10");
    let bad_status = shop
        .call(
            Method::PATCH,
            &v1(&format!("orders/{id}")),
            r#"{"status":0}"#,
        )
        .await;
    assert_error(&bad_status, 400, "400.10");
}

/// APC-4/APC-6 on the shop side: products created (201 with the body), updated and their stock
/// set by PATCH (204), deleted (204, then 404); categories under a parent; links.
#[tokio::test]
async fn apc6_product_writes_answer_201_and_204() {
    let shop = Shop::start(CcvConfig::default()).await;
    let a = shop
        .call(
            Method::POST,
            &v1("products"),
            r#"{"productnumber":"NEW-1","name":"Koffiekan 1,5 l","price":19.95,"eannumber":"8712345678906","taxtariff":"normal","stockenabled":true,"stock":4}"#,
        )
        .await;
    assert_eq!(a.status, 201);
    let p = a.json();
    assert_eq!(
        (p["is_active"].clone(), p["stock"].clone()),
        (json!(true), json!(4.0))
    );
    let id = p["id"].as_u64().unwrap();
    let u = shop
        .call(
            Method::PATCH,
            &v1(&format!("products/{id}")),
            r#"{"stock":12,"active":false}"#,
        )
        .await;
    assert_eq!(u.status, 204);
    let p2 = shop.get(&v1(&format!("products/{id}"))).await.json();
    assert_eq!(
        (p2["stock"].clone(), p2["is_active"].clone()),
        (json!(12.0), json!(false))
    );
    assert!(p2["modifydate"].as_str() >= p["modifydate"].as_str());
    for (body, _why) in [
        (r#"{"taxtariff":"high"}"#, "unknown tariff"),
        (r#"{"stock":"many"}"#, "wrong type"),
        (r#"{"colour":"red"}"#, "unknown property"),
        ("[1]", "not an object"),
    ] {
        let r = shop
            .call(Method::PATCH, &v1(&format!("products/{id}")), body)
            .await;
        assert_error(&r, 400, "400.10");
    }
    let missing = shop
        .call(Method::POST, &v1("products"), r#"{"name":"x"}"#)
        .await;
    assert_error(&missing, 400, "400.10");
    let cat = shop
        .call(
            Method::POST,
            &v1("categories"),
            r#"{"name":"Moka","parentcategory":11}"#,
        )
        .await;
    assert_eq!(cat.status, 201);
    let cid = cat.json()["id"].as_u64().unwrap();
    let link = shop
        .call(
            Method::POST,
            &v1("producttocategories"),
            &json!({"product_id": id, "category_id": cid}).to_string(),
        )
        .await;
    assert_eq!(link.status, 201);
    let kids = shop.get(&v1("categories/11/categories")).await.json();
    assert!(kids["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == cid));
    let in_cat = shop
        .get(&v1(&format!("categories/{cid}/products")))
        .await
        .json();
    assert_eq!(in_cat["items"][0]["id"], id);
    assert_eq!(
        shop.call(Method::DELETE, &v1(&format!("products/{id}")), "")
            .await
            .status,
        204
    );
    assert_error(
        &shop.get(&v1(&format!("products/{id}"))).await,
        404,
        "404.20",
    );
    let user = shop
        .call(
            Method::POST,
            &v1("users"),
            r#"{"userinfo":{"email":"piet@voorbeeld.nl","billingaddress":{"first_name":"Piet"}}}"#,
        )
        .await;
    assert_eq!(user.status, 201);
    assert_eq!(user.json()["username"], "piet@voorbeeld.nl");
}

#[tokio::test]
async fn limits_answer_429_10_per_resource_and_429_11_in_total() {
    let shop = Shop::start(CcvConfig {
        get_limit: 3,
        write_limit: 2,
        total_limit: 8,
        ..CcvConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(shop.get(&v1("products")).await.status, 200);
    }
    assert_error(&shop.get(&v1("products")).await, 429, "429.10");
    // Another resource has its own window; so has another method.
    assert_eq!(shop.get(&v1("orders")).await.status, 200);
    for _ in 0..2 {
        let r = shop
            .call(Method::PATCH, &v1("products/2001"), r#"{"stock":1}"#)
            .await;
        assert_eq!(r.status, 204);
    }
    let r = shop
        .call(Method::PATCH, &v1("products/2001"), r#"{"stock":1}"#)
        .await;
    assert_error(&r, 429, "429.10");
    // Nine requests so far: the total of 8 a minute is spent for everything.
    assert_error(&shop.get(&v1("users")).await, 429, "429.11");
    assert_eq!(shop.sb.stats().rate_limited, 3);
    // The request log keeps what arrived, refused requests included.
    let log = shop.sb.requests();
    assert_eq!(log.len(), 9);
    assert_eq!(log[0], "GET /api/rest/v1/products");
    assert_eq!(log[8], "GET /api/rest/v1/users");
    assert_eq!(
        shop.sb.stats().by_route["PATCH /api/rest/v1/products/{id}"],
        3
    );
    shop.sb.advance_clock(61);
    // The request's x-date is now a minute behind the sandbox clock: inside the skew window.
    assert_eq!(shop.get(&v1("products")).await.status, 200);
}

/// Webhook subscriptions with their `key`, and deliveries signed with it (hex HMAC-SHA512 of
/// the raw body in `x-hash`, checked with the test's own signer).
#[tokio::test]
async fn webhooks_crud_and_signed_deliveries() {
    let shop = Shop::start(CcvConfig::default()).await;
    let (url, seen) = receiver().await;
    let sub = |event: &str, active: bool| {
        json!({"event": event, "address": format!("{url}/ccv"), "is_active": active}).to_string()
    };
    let a = shop
        .call(
            Method::POST,
            &v1("webhooks"),
            &sub("products.updated", true),
        )
        .await;
    assert_eq!(a.status, 201);
    let hook = a.json();
    let key = hook["key"].as_str().unwrap().to_string();
    assert!(key.len() >= 32);
    for k in ["id", "href", "createdate", "event", "address", "is_active"] {
        assert!(!hook[k].is_null(), "{k}");
    }
    let orders_hook = shop
        .call(Method::POST, &v1("webhooks"), &sub("orders.created", true))
        .await;
    let orders_key = orders_hook.json()["key"].as_str().unwrap().to_string();
    assert_ne!(orders_key, key);
    let idle = shop
        .call(
            Method::POST,
            &v1("webhooks"),
            &sub("products.deleted", false),
        )
        .await;
    assert_eq!(idle.status, 201);
    assert_error(
        &shop
            .call(
                Method::POST,
                &v1("webhooks"),
                &sub("customers.created", true),
            )
            .await,
        400,
        "400.10",
    );
    let hid = hook["id"].as_u64().unwrap();
    assert_error(
        &shop
            .call(
                Method::PATCH,
                &v1(&format!("webhooks/{hid}")),
                r#"{"event":"orders.updated"}"#,
            )
            .await,
        400,
        "400.10",
    );
    assert_eq!(
        shop.call(Method::PATCH, &v1("products/2001"), r#"{"stock":7}"#)
            .await
            .status,
        204
    );
    assert!(shop.sb.ccv().unwrap().set_stock("BON-1002", 3.0));
    let order = json!({"customer": {"email": "an@example.nl"}, "orderrows": [{"product_id": 2003, "count": 1}]});
    assert_eq!(
        shop.call(Method::POST, &v1("orders"), &order.to_string())
            .await
            .status,
        201
    );
    assert_eq!(
        shop.call(Method::DELETE, &v1("products/2019"), "")
            .await
            .status,
        204
    );
    // Switched on, the deleted-products subscription fires on the next delete.
    let idle_id = idle.json()["id"].as_u64().unwrap();
    let on = shop
        .call(
            Method::PATCH,
            &v1(&format!("webhooks/{idle_id}")),
            r#"{"is_active":true}"#,
        )
        .await;
    assert_eq!(on.status, 204);
    let deleted_key = idle.json()["key"].as_str().unwrap().to_string();
    assert_eq!(
        shop.call(Method::DELETE, &v1("products/2020"), "")
            .await
            .status,
        204
    );
    drained(&shop.sb).await;
    let got = seen.lock().unwrap().clone();
    let events: Vec<String> = got
        .iter()
        .map(|g| g.json()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        events,
        [
            "products.updated",
            "products.updated",
            "orders.created",
            "products.deleted"
        ]
    );
    for g in &got {
        let k = match g.json()["event"].as_str().unwrap() {
            "orders.created" => &orders_key,
            "products.deleted" => &deleted_key,
            _ => &key,
        };
        assert_eq!(g.header("x-hash"), hmac_hex(k, &g.body), "{}", g.json());
        assert_ne!(g.header("x-hash"), hmac_hex("wrong", &g.body));
    }
    assert_eq!(got[0].json()["id"], 2001);
    assert!(got[0].json()["href"]
        .as_str()
        .unwrap()
        .ends_with("/api/rest/v1/products/2001"));
    let list = shop.get(&v1("webhooks")).await.json();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        shop.call(Method::DELETE, &v1(&format!("webhooks/{hid}")), "")
            .await
            .status,
        204
    );
    assert_error(
        &shop.get(&v1(&format!("webhooks/{hid}"))).await,
        404,
        "404.20",
    );
}

/// The seeded shop: Dutch (and some Danish and Swedish) customers, with and without a company
/// (valid VAT numbers), products with valid EAN-13s and the shared SKUs, orders in several
/// states and payment states.
#[tokio::test]
async fn seeded_shop_is_realistic_and_shares_skus_and_emails() {
    let shop = Shop::start(CcvConfig::default()).await;
    let view = shop.sb.ccv().unwrap();
    let products = view.records("products");
    let sizes = CommerceSizes::default();
    assert_eq!(products.len(), sizes.shared_products + sizes.shop_products);
    for sku in sizes.shared_skus() {
        assert!(view.product_by_sku(&sku).is_some(), "{sku}");
    }
    for p in &products {
        if let Some(e) = p["eannumber"].as_str() {
            assert!(is_ean13(e), "{e}");
        }
    }
    let users = view.records("users");
    let emails: HashSet<&str> = users
        .iter()
        .map(|u| u["userinfo"]["email"].as_str().unwrap())
        .collect();
    for e in sizes.shared_emails() {
        assert!(emails.contains(e.as_str()), "{e}");
    }
    let with_company = users
        .iter()
        .filter(|u| {
            !u["userinfo"]["billingaddress"]["company"]
                .as_str()
                .unwrap()
                .is_empty()
        })
        .count();
    assert!(with_company > 0 && with_company < users.len());
    for u in &users {
        let btw = u["userinfo"]["btw"].as_str().unwrap();
        assert!(btw.is_empty() || vat::is_valid(btw), "{btw}");
    }
    let orders = view.records("orders");
    assert_eq!(orders.len(), 30);
    assert!(orders.iter().any(|o| o["paid"] == true) && orders.iter().any(|o| o["paid"] == false));
    let cats = view.records("categories");
    assert!(cats.iter().any(|c| c["parentcategory"].is_u64()));
}
