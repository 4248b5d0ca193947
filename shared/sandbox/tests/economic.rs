//! The Visma e-conomic sandbox over real HTTP (reqwest), against the vendor page's facts
//! (`shared/spec/vendor-apis/shops-accounting.md` §(b1)) and the vendor's REST docs: token
//! auth, paging, the filter language, sorting, write rules, annotated errors, documents,
//! inventory, the daily calls, legacy webhooks and faults.

#[path = "accounting_support/mod.rs"]
mod support;

use std::collections::HashSet;

use puente_sandbox::commerce::{is_ean13, CommerceSizes};
use puente_sandbox::{start_economic, vat, EconomicConfig, Faults, HookKind, Sandbox};
use reqwest::Method;
use serde_json::{json, Value};
use support::{drained, receiver, Answer};

const APP: &str = "economic-sandbox-app-secret";
const GRANT: &str = "economic-sandbox-grant";

struct Eco {
    sb: Sandbox,
    http: reqwest::Client,
}

impl Eco {
    async fn start(cfg: EconomicConfig) -> Eco {
        Eco {
            sb: start_economic(&cfg, None).await.unwrap(),
            http: reqwest::Client::new(),
        }
    }

    async fn as_(
        &self,
        tokens: (&str, &str),
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.sb.base_url))
            .header("X-AppSecretToken", tokens.0)
            .header("X-AgreementGrantToken", tokens.1);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        Answer::read(r.send().await.unwrap()).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.as_((APP, GRANT), method, path, body).await
    }

    async fn get(&self, path: &str) -> Value {
        let a = self.call(Method::GET, path, None).await;
        assert_eq!(
            a.status,
            200,
            "{path}: {}",
            String::from_utf8_lossy(&a.body)
        );
        a.json()
    }
}

/// The error document `{message, errorCode, developerHint, logId, httpStatusCode}`.
fn assert_error(a: &Answer, status: u16) -> Value {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let b = a.json();
    assert_eq!(b["httpStatusCode"], status);
    for k in ["message", "errorCode", "developerHint", "logId"] {
        assert!(b[k].as_str().is_some_and(|s| !s.is_empty()), "{k} in {b}");
    }
    b
}

/// Follows `nextPage`; every document.
async fn all(eco: &Eco, first: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    while let Some(p) = next {
        let b = eco.get(&p).await;
        out.extend(b["collection"].as_array().unwrap().iter().cloned());
        next = b["pagination"]["nextPage"]
            .as_str()
            .map(|u| u.strip_prefix(&eco.sb.base_url).unwrap().to_string());
    }
    out
}

fn customer_body(name: &str) -> Value {
    json!({"name": name, "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
           "paymentTerms": {"paymentTermsNumber": 1}, "vatZone": {"vatZoneNumber": 1},
           "email": "indkob@example.dk", "barred": false})
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn tokens_demo_reads_only_and_bad_grants_are_401() {
    let eco = Eco::start(EconomicConfig::default()).await;
    assert_eq!(eco.call(Method::GET, "/customers", None).await.status, 200);
    let demo = eco
        .as_(("demo", "demo"), Method::GET, "/products", None)
        .await;
    assert_eq!(demo.status, 200);
    let write = eco
        .as_(
            ("demo", "demo"),
            Method::POST,
            "/customers",
            Some(customer_body("Demo ApS")),
        )
        .await;
    assert_error(&write, 403);
    assert_error(
        &eco.as_((APP, "revoked-grant"), Method::GET, "/customers", None)
            .await,
        401,
    );
    assert_error(
        &eco.as_(("other-app", GRANT), Method::GET, "/customers", None)
            .await,
        401,
    );
    let none = Answer::read(
        eco.http
            .get(format!("{}/customers", eco.sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&none, 401);
    // A write that is not JSON.
    let r = eco
        .http
        .post(format!("{}/customers", eco.sb.base_url))
        .header("X-AppSecretToken", APP)
        .header("X-AgreementGrantToken", GRANT)
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_error(&Answer::read(r).await, 415);
}

#[tokio::test]
async fn paging_covers_every_record_once_with_the_full_pagination_object() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let first = eco.get("/customers?pagesize=3").await;
    let p = &first["pagination"];
    let total = p["results"].as_u64().unwrap() as usize;
    assert_eq!(p["maxPageSizeAllowed"], 1000);
    assert_eq!(
        (p["skipPages"].clone(), p["pageSize"].clone()),
        (json!(0), json!(3))
    );
    assert_eq!(p["resultsWithoutFilter"], total);
    for k in ["firstPage", "nextPage", "lastPage"] {
        assert!(p[k].as_str().unwrap().contains("pagesize=3"), "{k}");
    }
    assert_eq!(first["metaData"]["create"]["httpMethod"], "post");
    assert!(first["self"]
        .as_str()
        .unwrap()
        .ends_with("/customers?pagesize=3"));
    let docs = all(&eco, "/customers?pagesize=3").await;
    let numbers: Vec<u64> = docs
        .iter()
        .map(|c| c["customerNumber"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.len(), total);
    assert_eq!(numbers.iter().collect::<HashSet<_>>().len(), total);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]));
    let last = eco
        .get(&format!(
            "/customers?pagesize=3&skippages={}",
            (total - 1) / 3
        ))
        .await;
    assert!(last["pagination"].get("nextPage").is_none());
    assert_eq!(eco.get("/products").await["pagination"]["pageSize"], 20);
    assert_eq!(
        eco.get("/customers").await["collection"][0]["self"],
        format!("{}/customers/1", eco.sb.base_url)
    );
    assert_error(
        &eco.call(Method::GET, "/customers?pagesize=1001", None)
            .await,
        400,
    );
    assert_error(
        &eco.call(Method::GET, "/customers?skippages=-1", None).await,
        400,
    );
}

/// The `filter=` language: operators, `$and:`/`$or:` with parentheses, escapes, `$null:`,
/// case-insensitive `$like` (contains without `*`), `$in` on numbers, and its 400s.
#[tokio::test]
async fn filter_language_and_its_400s() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let odd = "Smit & Zn. (Holding) $1*2, [x]";
    let c = eco
        .call(Method::POST, "/customers", Some(customer_body(odd)))
        .await;
    assert_eq!(c.status, 201);
    let n = c.json()["customerNumber"].as_u64().unwrap();
    let count = |b: &Value| b["collection"].as_array().unwrap().len();
    let q = |f: &str| format!("/customers?pagesize=1000&filter={}", enc(f));
    // Escaped special characters, matched case-insensitively.
    let esc = eco
        .get(&q("name$eq:smit & zn. $(holding$) $$1$*2$, $[X$]"))
        .await;
    assert_eq!(esc["collection"][0]["customerNumber"], n);
    assert_eq!(count(&eco.get(&q("name$like:HOLDING")).await), 1);
    assert_eq!(count(&eco.get(&q("name$like:smit*")).await), 1);
    assert_eq!(count(&eco.get(&q("name$like:*holding")).await), 0);
    let everyone = eco.get("/customers?pagesize=1000").await;
    let total = count(&everyone);
    let with_vat = everyone["collection"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["vatNumber"].is_string())
        .count();
    assert_eq!(count(&eco.get(&q("vatNumber$ne:$null:")).await), with_vat);
    assert_eq!(
        count(&eco.get(&q("vatNumber$eq:$null:")).await),
        total - with_vat
    );
    assert_eq!(
        count(&eco.get(&q("customerNumber$in:[1,2,3,999]")).await),
        3
    );
    assert_eq!(
        count(&eco.get(&q("customerNumber$nin:[1,2,3]")).await),
        total - 3
    );
    assert_eq!(
        count(
            &eco.get(&q("customerNumber$gte:2$and:customerNumber$lt:5"))
                .await
        ),
        3
    );
    // $and binds tighter; parentheses regroup.
    assert_eq!(
        count(
            &eco.get(&q(
                "customerNumber$eq:1$or:customerNumber$eq:2$and:currency$eq:XXX"
            ))
            .await
        ),
        1
    );
    assert_eq!(
        count(
            &eco.get(&q(
                "(customerNumber$eq:1$or:customerNumber$eq:2)$and:currency$eq:XXX"
            ))
            .await
        ),
        0
    );
    let barred = everyone["collection"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["barred"] == true)
        .count();
    assert!(barred > 0);
    assert_eq!(count(&eco.get(&q("barred$eq:true")).await), barred);
    assert_eq!(count(&eco.get(&q("barred$eq:false")).await), total - barred);
    let stamp = c.json()["lastUpdated"].as_str().unwrap().to_string();
    let recent = eco.get(&q(&format!("lastUpdated$gte:{stamp}"))).await;
    assert_eq!(recent["collection"][0]["customerNumber"], n);
    assert_eq!(recent["pagination"]["resultsWithoutFilter"], total);
    // Not filterable: 400 naming the allowed fields and operators.
    let b = assert_error(&eco.call(Method::GET, &q("balance$gt:0"), None).await, 400);
    assert!(b["allowedFilteringFields"]
        .as_array()
        .unwrap()
        .contains(&json!("name")));
    assert!(b["allowedFilteringOperators"]
        .as_array()
        .unwrap()
        .contains(&json!("$like:")));
    let b = assert_error(&eco.call(Method::GET, &q("name$in:[1]"), None).await, 400);
    assert!(!b["allowedFilteringOperators"]
        .as_array()
        .unwrap()
        .contains(&json!("$in:")));
    let many: Vec<String> = (1..=201).map(|i| i.to_string()).collect();
    let long = q(&format!("customerNumber$in:[{}]", many.join(",")));
    assert_error(&eco.call(Method::GET, &long, None).await, 400);
    for bad in [
        "name$eq:(x",
        "name$is:x",
        "(name$eq:a",
        "customerNumber$eq:abc",
        "name",
    ] {
        assert_error(&eco.call(Method::GET, &q(bad), None).await, 400);
    }
}

#[tokio::test]
async fn sort_with_minus_and_tilde() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let names: Vec<String> = eco.get("/customers?pagesize=1000&sort=-name").await["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(names.windows(2).all(|w| w[0] >= w[1]), "{names:?}");
    let nums: Vec<u64> = eco
        .get("/customers?pagesize=1000&sort=~customerNumber")
        .await["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerNumber"].as_u64().unwrap())
        .collect();
    let as_text: Vec<String> = nums.iter().map(u64::to_string).collect();
    assert!(as_text.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(nums[1], 10, "1000 < 30 when sorted as text: {nums:?}");
    let mixed = eco
        .get("/customers?pagesize=1000&sort=currency,-customerNumber")
        .await;
    let rows: Vec<(String, u64)> = mixed["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["currency"].as_str().unwrap().to_string(),
                c["customerNumber"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(rows
        .windows(2)
        .all(|w| w[0].0 < w[1].0 || (w[0].0 == w[1].0 && w[0].1 > w[1].1)));
    assert_error(
        &eco.call(Method::GET, "/customers?sort=balance", None).await,
        400,
    );
}

/// Writes: 201 with `Location`, required properties, `null` refused, `false` omitted, PUT,
/// DELETE (204), `lastUpdated` bumped.
#[tokio::test]
async fn apc5_customer_writes_require_fields_refuse_null_and_omit_false() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let a = eco
        .call(
            Method::POST,
            "/customers",
            Some(json!({"email": "x@example.dk"})),
        )
        .await;
    let b = assert_error(&a, 400);
    for k in [
        "currency",
        "customerGroup",
        "name",
        "paymentTerms",
        "vatZone",
    ] {
        let e = &b["errors"][k]["errors"][0];
        assert!(
            e["errorCode"].as_str().unwrap().starts_with('E'),
            "{k}: {b}"
        );
    }
    let mut nulled = customer_body("Null ApS");
    nulled["email"] = Value::Null;
    let b = assert_error(
        &eco.call(Method::POST, "/customers", Some(nulled)).await,
        400,
    );
    assert!(b["errors"]["email"]["errors"][0]["errorCode"].is_string());
    let bad_ref = json!({"name": "X", "currency": "ZUL", "customerGroup": {"customerGroupNumber": 99},
        "paymentTerms": {}, "vatZone": {"vatZoneNumber": 1}});
    let b = assert_error(
        &eco.call(Method::POST, "/customers", Some(bad_ref)).await,
        400,
    );
    assert_eq!(b["errors"]["currency"]["errors"][0]["errorCode"], "E06000");
    assert_eq!(
        b["errors"]["customerGroup"]["errors"][0]["errorCode"],
        "E06000"
    );
    assert_eq!(
        b["errors"]["paymentTerms"]["errors"][0]["errorCode"],
        "E04500"
    );
    let c = eco
        .call(
            Method::POST,
            "/customers",
            Some(customer_body("Fjord Kaffe ApS")),
        )
        .await;
    assert_eq!(c.status, 201);
    let doc = c.json();
    assert_eq!(c.header("location"), doc["self"].as_str().unwrap());
    assert!(doc.get("barred").is_none(), "false is omitted: {doc}");
    let n = doc["customerNumber"].as_u64().unwrap();
    let mut body = customer_body("Fjord Kaffe A/S");
    body["barred"] = json!(true);
    let put = eco
        .call(Method::PUT, &format!("/customers/{n}"), Some(body))
        .await;
    assert_eq!(put.status, 200);
    let after = put.json();
    assert_eq!(after["barred"], true);
    assert!(after["lastUpdated"].as_str() >= doc["lastUpdated"].as_str());
    assert_eq!(
        eco.call(Method::DELETE, &format!("/customers/{n}"), None)
            .await
            .status,
        204
    );
    assert_error(
        &eco.call(Method::GET, &format!("/customers/{n}"), None)
            .await,
        404,
    );
    assert_error(
        &eco.call(Method::PATCH, "/customers/1", Some(json!({})))
            .await,
        405,
    );
    let contact = eco
        .call(
            Method::POST,
            "/customers/1/contacts",
            Some(json!({"name": "Mette Nielsen", "email": "mette@example.dk"})),
        )
        .await;
    assert_eq!(contact.status, 201);
    let contacts = eco.get("/customers/1/contacts").await;
    assert!(contacts["collection"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["name"] == "Mette Nielsen"));
}

/// Products: the key encoding in self links, required properties, read-only `inventory`
/// (APC-4's available = inStock − orderedByCustomers), `lastUpdated` on every write.
#[tokio::test]
async fn apc4_products_inventory_is_read_only_and_available_subtracts_orders() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let b = assert_error(
        &eco.call(Method::POST, "/products", Some(json!({"salesPrice": 1})))
            .await,
        400,
    );
    for k in ["name", "productGroup", "productNumber"] {
        assert!(b["errors"][k].is_object(), "{k}");
    }
    let key = "KAF 1/2_x.5%";
    let p = eco
        .call(
            Method::POST,
            "/products",
            Some(json!({"productNumber": key, "name": "Kaffe 1/2 kg", "productGroup": {"productGroupNumber": 1},
                        "salesPrice": 89.95, "inventory": {"inStock": 500}})),
        )
        .await;
    assert_eq!(p.status, 201);
    let doc = p.json();
    assert!(doc["self"]
        .as_str()
        .unwrap()
        .ends_with("/products/KAF_9_1_6_2_8_x_11_5_3_"));
    assert_eq!(doc["inventory"]["inStock"], 0.0, "inventory is read-only");
    let by_key = eco.get("/products/KAF_9_1_6_2_8_x_11_5_3_").await;
    assert_eq!(by_key["name"], "Kaffe 1/2 kg");
    let first = eco.get("/products?pagesize=1").await["collection"][0].clone();
    let sku = first["productNumber"].as_str().unwrap().to_string();
    let inv = first["inventory"].clone();
    assert_eq!(
        inv["available"].as_f64().unwrap(),
        inv["inStock"].as_f64().unwrap() - inv["orderedByCustomers"].as_f64().unwrap()
    );
    let order = json!({"date": "2026-03-01", "currency": "DKK", "customer": {"customerNumber": 1},
        "recipient": {"name": "Kunde", "vatZone": {"vatZoneNumber": 1}},
        "paymentTerms": {"paymentTermsNumber": 1}, "layout": {"layoutNumber": 19},
        "lines": [{"product": {"productNumber": sku}, "quantity": 5}]});
    assert_eq!(
        eco.call(Method::POST, "/orders/drafts", Some(order))
            .await
            .status,
        201
    );
    let again = eco.get(&format!("/products/{sku}")).await["inventory"].clone();
    assert_eq!(
        again["orderedByCustomers"].as_f64().unwrap(),
        inv["orderedByCustomers"].as_f64().unwrap() + 5.0
    );
    assert_eq!(
        again["available"].as_f64().unwrap(),
        inv["available"].as_f64().unwrap() - 5.0
    );
    // lastUpdated is bumped by a write and filterable.
    let before = first["lastUpdated"].as_str().unwrap().to_string();
    let mut put = first.clone();
    for k in ["self", "inventory", "lastUpdated"] {
        put.as_object_mut().unwrap().remove(k);
    }
    put["salesPrice"] = json!(12.5);
    let r = eco
        .call(Method::PUT, &format!("/products/{sku}"), Some(put))
        .await;
    assert_eq!(r.status, 200);
    let bumped = r.json()["lastUpdated"].as_str().unwrap().to_string();
    assert!(bumped > before);
    let changed = eco
        .get(&format!(
            "/products?filter={}",
            enc(&format!("lastUpdated$gte:{bumped}"))
        ))
        .await;
    let hits: Vec<&str> = changed["collection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["productNumber"].as_str().unwrap())
        .collect();
    assert!(hits.contains(&sku.as_str()), "{hits:?}");
}

/// Annotated errors mirror the request, with `arrayIndex` on array items (the docs' example).
#[tokio::test]
async fn annotated_errors_carry_array_index() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let body = json!({"date": "2026-03-01", "currency": "ZUL", "customer": {"customerNumber": 1},
        "recipient": {"name": "Kunde", "vatZone": {"vatZoneNumber": 1}},
        "paymentTerms": {"paymentTermsNumber": 1}, "layout": {"layoutNumber": 19},
        "lines": [{"description": "a", "quantity": 1, "unit": {"unitNumber": 10}, "unitNetPrice": 10.12345},
                  {"product": {"name": "no number"}, "quantity": 1},
                  {"description": "fine", "quantity": 2, "unitNetPrice": 3}]});
    let b = assert_error(
        &eco.call(Method::POST, "/invoices/drafts", Some(body)).await,
        400,
    );
    assert_eq!(b["errors"]["currency"]["errors"][0]["errorCode"], "E06000");
    assert_eq!(b["errors"]["currency"]["errors"][0]["value"], "ZUL");
    let lines = b["errors"]["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["arrayIndex"], 0);
    assert_eq!(lines[0]["unit"]["errors"][0]["errorCode"], "E06000");
    assert_eq!(lines[0]["unitNetPrice"]["errors"][0]["errorCode"], "E04740");
    assert_eq!(lines[1]["arrayIndex"], 1);
    assert_eq!(lines[1]["product"]["errors"][0]["errorCode"], "E04500");
    assert!(b["logId"].as_str().unwrap().len() >= 32);
}

/// APC-2's document types: order and quote drafts → sent (and back), invoice drafts → booked
/// (with `bookWithNumber`), the booked views; booking lowers stock.
#[tokio::test]
async fn apc2_documents_move_from_draft_to_sent_and_booked() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let sku = eco.get("/products?pagesize=1").await["collection"][0]["productNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let doc = |extra: Value| {
        let mut d = json!({"date": "2026-03-01", "currency": "DKK", "customer": {"customerNumber": 2},
            "recipient": {"name": "Kunde", "vatZone": {"vatZoneNumber": 1}},
            "paymentTerms": {"paymentTermsNumber": 2}, "layout": {"layoutNumber": 19},
            "lines": [{"product": {"productNumber": sku}, "quantity": 2, "unitNetPrice": 100}]});
        d.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        d
    };
    for (base, key) in [("/orders", "orderNumber"), ("/quotes", "quoteNumber")] {
        let d = eco
            .call(
                Method::POST,
                &format!("{base}/drafts"),
                Some(doc(json!({}))),
            )
            .await;
        assert_eq!(d.status, 201);
        let draft = d.json();
        assert_eq!(
            (
                draft["netAmount"].clone(),
                draft["vatAmount"].clone(),
                draft["grossAmount"].clone()
            ),
            (json!(200.0), json!(50.0), json!(250.0))
        );
        let n = draft[key].as_u64().unwrap();
        let sent = eco
            .call(
                Method::POST,
                &format!("{base}/sent"),
                Some(doc(json!({key: n}))),
            )
            .await;
        assert_eq!(sent.status, 201);
        assert_error(
            &eco.call(Method::GET, &format!("{base}/drafts/{n}"), None)
                .await,
            404,
        );
        assert_eq!(eco.get(&format!("{base}/sent/{n}")).await[key], n);
        assert_error(
            &eco.call(
                Method::PUT,
                &format!("{base}/sent/{n}"),
                Some(doc(json!({}))),
            )
            .await,
            405,
        );
        let back = eco
            .call(
                Method::POST,
                &format!("{base}/drafts"),
                Some(doc(json!({key: n}))),
            )
            .await;
        assert_eq!(back.status, 201);
        assert_eq!(eco.get(&format!("{base}/drafts/{n}")).await[key], n);
        assert!(!eco.get(&format!("{base}/archived")).await["collection"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    let stock = eco.get(&format!("/products/{sku}")).await["inventory"]["inStock"]
        .as_f64()
        .unwrap();
    let d = eco
        .call(Method::POST, "/invoices/drafts", Some(doc(json!({}))))
        .await;
    let n = d.json()["draftInvoiceNumber"].as_u64().unwrap();
    let booked = eco
        .call(
            Method::POST,
            "/invoices/booked",
            Some(json!({"draftInvoice": {"draftInvoiceNumber": n}, "bookWithNumber": 90001})),
        )
        .await;
    assert_eq!(booked.status, 201);
    let b = booked.json();
    assert_eq!(b["bookedInvoiceNumber"], 90001);
    assert_eq!(b["remainder"], 250.0);
    assert_eq!(b["dueDate"], "2026-03-15");
    assert_error(
        &eco.call(Method::GET, &format!("/invoices/drafts/{n}"), None)
            .await,
        404,
    );
    assert_eq!(
        eco.get("/invoices/booked/90001").await["grossAmount"],
        250.0
    );
    let after = eco.get(&format!("/products/{sku}")).await["inventory"]["inStock"]
        .as_f64()
        .unwrap();
    assert_eq!(after, stock - 2.0);
    let d2 = eco
        .call(Method::POST, "/invoices/drafts", Some(doc(json!({}))))
        .await
        .json();
    let taken = json!({"draftInvoice": {"draftInvoiceNumber": d2["draftInvoiceNumber"]}, "bookWithNumber": 90001});
    assert_error(
        &eco.call(Method::POST, "/invoices/booked", Some(taken))
            .await,
        400,
    );
    let gone = json!({"draftInvoice": {"draftInvoiceNumber": 777}});
    let e = assert_error(
        &eco.call(Method::POST, "/invoices/booked", Some(gone)).await,
        400,
    );
    assert_eq!(
        e["errors"]["draftInvoice"]["errors"][0]["errorCode"],
        "E06000"
    );
    let numbers = |v: &Value| -> HashSet<u64> {
        v["collection"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["bookedInvoiceNumber"].as_u64().unwrap())
            .collect()
    };
    let all = numbers(&eco.get("/invoices/booked?pagesize=1000").await);
    let paid = numbers(&eco.get("/invoices/paid?pagesize=1000").await);
    let unpaid = numbers(&eco.get("/invoices/unpaid?pagesize=1000").await);
    let overdue = numbers(&eco.get("/invoices/overdue?pagesize=1000").await);
    let not_due = numbers(&eco.get("/invoices/not-due?pagesize=1000").await);
    assert!(!paid.is_empty() && !overdue.is_empty());
    assert_eq!(paid.len() + unpaid.len(), all.len());
    assert_eq!(overdue.len() + not_due.len(), unpaid.len());
    assert!(unpaid.contains(&90001));
    assert!(eco.sb.economic().unwrap().register_payment(90001, 250.0));
    assert!(numbers(&eco.get("/invoices/paid?pagesize=1000").await).contains(&90001));
}

#[tokio::test]
async fn daily_calls_are_counted_per_agreement_and_answer_429_past_the_limit() {
    let eco = Eco::start(EconomicConfig {
        daily_limit: 5,
        ..EconomicConfig::default()
    })
    .await;
    for _ in 0..5 {
        assert_eq!(eco.call(Method::GET, "/units", None).await.status, 200);
    }
    let over = eco.call(Method::GET, "/units", None).await;
    assert_error(&over, 429);
    assert!(over.header("retry-after").parse::<u64>().unwrap() > 80_000);
    // The demo agreement has its own count.
    assert_eq!(
        eco.as_(("demo", "demo"), Method::GET, "/units", None)
            .await
            .status,
        200
    );
    let stats = eco.sb.stats();
    assert_eq!(stats.by_route["calls/day agreement"], 5);
    assert_eq!(stats.rate_limited, 1);
    assert_eq!(eco.sb.economic().unwrap().calls_today(), 5);
    eco.sb.advance_clock(24 * 3600);
    assert_eq!(eco.call(Method::GET, "/units", None).await.status, 200);
    assert_eq!(eco.sb.economic().unwrap().calls_today(), 1);
}

/// Legacy webhooks: one unsigned request per changed resource to the URL template with its
/// merge fields filled; a bulk change is a burst.
#[tokio::test]
async fn legacy_webhooks_send_one_unsigned_request_per_change() {
    let (url, seen) = receiver().await;
    let eco = Eco::start(EconomicConfig {
        webhooks: vec![(
            HookKind::CustomerUpdated,
            format!("{url}/customer?new=[NEWNUMBER]&old=[OLDNUMBER]"),
        )],
        ..EconomicConfig::default()
    })
    .await;
    let view = eco.sb.economic().unwrap();
    view.set_webhook(
        HookKind::ProductUpdated,
        Some(&format!("{url}/product?n=[NEWNUMBER]")),
    );
    view.set_webhook(
        HookKind::InvoiceBooked,
        Some(&format!("{url}/booked/[INVOICENO]")),
    );
    let c = eco
        .call(Method::POST, "/customers", Some(customer_body("Hook ApS")))
        .await
        .json();
    let n = c["customerNumber"].as_u64().unwrap();
    let mut body = customer_body("Hook ApS");
    body["customerNumber"] = json!(5000);
    assert_eq!(
        eco.call(Method::PUT, &format!("/customers/{n}"), Some(body))
            .await
            .status,
        200
    );
    drained(&eco.sb).await;
    let uris: Vec<String> = seen.lock().unwrap().iter().map(|g| g.uri.clone()).collect();
    assert_eq!(
        uris,
        [
            format!("/customer?new={n}&old={n}"),
            format!("/customer?new=5000&old={n}")
        ]
    );
    seen.lock().unwrap().clear();
    let changed = view.bulk_price_change(10.0);
    drained(&eco.sb).await;
    assert_eq!(seen.lock().unwrap().len(), changed);
    assert!(changed > 10);
    seen.lock().unwrap().clear();
    let sku = eco.get("/products?pagesize=1").await["collection"][0]["productNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let draft = json!({"date": "2026-03-01", "currency": "DKK", "customer": {"customerNumber": 1},
        "recipient": {"name": "Kunde", "vatZone": {"vatZoneNumber": 1}},
        "paymentTerms": {"paymentTermsNumber": 1}, "layout": {"layoutNumber": 19},
        "lines": [{"product": {"productNumber": sku}, "quantity": 1}]});
    let d = eco
        .call(Method::POST, "/invoices/drafts", Some(draft))
        .await
        .json();
    let b = eco
        .call(
            Method::POST,
            "/invoices/booked",
            Some(json!({"draftInvoice": {"draftInvoiceNumber": d["draftInvoiceNumber"]}})),
        )
        .await
        .json();
    drained(&eco.sb).await;
    let got = seen.lock().unwrap().clone();
    let uris: Vec<&str> = got.iter().map(|g| g.uri.as_str()).collect();
    assert_eq!(
        uris,
        [
            format!("/product?n={sku}"),
            format!("/booked/{}", b["bookedInvoiceNumber"])
        ]
    );
    for g in &got {
        assert!(g.body.is_empty());
        assert!(g
            .headers
            .keys()
            .all(|k| !k.as_str().contains("signature") && !k.as_str().contains("hash")));
    }
}

#[tokio::test]
async fn faults_answer_in_the_vendors_error_shape() {
    let eco = Eco::start(EconomicConfig {
        faults: Faults {
            burst_429: Some((2, 1)),
            ..Faults::default()
        },
        ..EconomicConfig::default()
    })
    .await;
    assert_eq!(eco.call(Method::GET, "/units", None).await.status, 200);
    let limited = eco.call(Method::GET, "/units", None).await;
    assert_error(&limited, 429);
    assert_eq!(limited.header("retry-after"), "1");
    eco.sb.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let a = eco.call(Method::GET, "/customers", None).await;
    assert!(a.status == 500 || a.status == 503);
    assert_error(&a, a.status);
    assert_eq!(eco.sb.stats().faults["burst_429"], 1);
}

/// The seeded agreement: the shared customers (by email) and products (by SKU), valid VAT
/// numbers and EAN-13 bar codes, documents in every stage, booked invoices paid and not.
#[tokio::test]
async fn seeded_agreement_shares_emails_and_skus_with_the_shop() {
    let eco = Eco::start(EconomicConfig::default()).await;
    let view = eco.sb.economic().unwrap();
    let sizes = CommerceSizes::default();
    let customers = view.records("customers");
    assert_eq!(
        customers.len(),
        sizes.shared_customers + sizes.accounting_customers
    );
    let emails: HashSet<&str> = customers
        .iter()
        .map(|c| c["email"].as_str().unwrap())
        .collect();
    assert!(sizes
        .shared_emails()
        .iter()
        .all(|e| emails.contains(e.as_str())));
    for c in &customers {
        if let Some(v) = c["vatNumber"].as_str() {
            assert!(vat::is_valid(v), "{v}");
        }
    }
    assert!(
        customers.iter().any(|c| c["currency"] == "DKK")
            && customers.iter().any(|c| c["currency"] != "DKK")
    );
    let products = view.records("products");
    let skus: HashSet<&str> = products
        .iter()
        .map(|p| p["productNumber"].as_str().unwrap())
        .collect();
    assert!(sizes
        .shared_skus()
        .iter()
        .all(|s| skus.contains(s.as_str())));
    assert!(products
        .iter()
        .filter_map(|p| p["barCode"].as_str())
        .all(is_ean13));
    for stage in [
        "orders/drafts",
        "orders/sent",
        "orders/archived",
        "quotes/drafts",
        "invoices/drafts",
        "invoices/booked",
    ] {
        assert!(!view.records(stage).is_empty(), "{stage}");
    }
    let lookups = eco.get("/vat-zones").await;
    assert_eq!(lookups["collection"].as_array().unwrap().len(), 4);
    assert_eq!(eco.get("/payment-terms/2").await["daysOfCredit"], 14);
}
