//! The Visma eAccounting sandbox over real HTTP (reqwest), against the vendor page's facts
//! (`shared/spec/vendor-apis/shops-accounting.md` §(b2)): OAuth2 codes and rotating refresh
//! tokens, expiring bearer tokens, scopes, the `{Meta, Data}` envelope, OData `$filter`,
//! writes, stock, conversions, the 4010 limit and faults.

#[path = "accounting_support/mod.rs"]
mod support;

use std::collections::HashSet;

use puente_sandbox::commerce::CommerceSizes;
use puente_sandbox::{start_eaccounting, vat, EAccountingConfig, Faults, Sandbox};
use reqwest::Method;
use serde_json::{json, Value};
use support::Answer;

const CLIENT: &str = "eaccounting-sandbox-client";
const SECRET: &str = "eaccounting-sandbox-secret";
const REDIRECT: &str = "http://127.0.0.1/callback";

struct Ea {
    sb: Sandbox,
    http: reqwest::Client,
    token: String,
}

impl Ea {
    /// A sandbox and a bearer token from its configured refresh token.
    async fn start(cfg: EAccountingConfig) -> Ea {
        let sb = start_eaccounting(&cfg, None).await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut ea = Ea {
            sb,
            http,
            token: String::new(),
        };
        let t = ea
            .token_call(
                Some((CLIENT, SECRET)),
                &format!(
                    "grant_type=refresh_token&refresh_token={}",
                    cfg.refresh_token
                ),
            )
            .await;
        assert_eq!(t.status, 200, "{}", String::from_utf8_lossy(&t.body));
        ea.token = t.json()["access_token"].as_str().unwrap().to_string();
        ea
    }

    async fn token_call(&self, client: Option<(&str, &str)>, form: &str) -> Answer {
        let mut r = self
            .http
            .post(format!("{}/connect/token", self.sb.root_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_string());
        if let Some((id, secret)) = client {
            r = r.basic_auth(id, Some(secret));
        }
        Answer::read(r.send().await.unwrap()).await
    }

    async fn with(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Answer {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.sb.base_url))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        Answer::read(r.send().await.unwrap()).await
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.with(&self.token, method, path, body).await
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

    /// A token for `scopes` through the code flow.
    async fn token_for(&self, scopes: &str) -> Value {
        let code = self
            .sb
            .eaccounting()
            .unwrap()
            .authorization_code(&scopes.split(' ').collect::<Vec<_>>());
        let t = self
            .token_call(
                Some((CLIENT, SECRET)),
                &format!(
                    "grant_type=authorization_code&code={code}&redirect_uri={}",
                    enc(REDIRECT)
                ),
            )
            .await;
        assert_eq!(t.status, 200);
        t.json()
    }
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

/// `{"ErrorCode", "DeveloperErrorMessage", "ErrorId"}`.
fn assert_error(a: &Answer, status: u16, code: u64) -> Value {
    assert_eq!(a.status, status, "{}", String::from_utf8_lossy(&a.body));
    let b = a.json();
    assert_eq!(b["ErrorCode"], code, "{b}");
    assert!(b["DeveloperErrorMessage"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(uuid::Uuid::parse_str(b["ErrorId"].as_str().unwrap()).is_ok());
    b
}

#[tokio::test]
async fn oauth_code_flow_with_basic_client_auth_and_rotating_refresh_tokens() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let authorize = format!(
        "{}/connect/authorize?client_id={CLIENT}&redirect_uri={}&scope={}&response_type=code&state=xyz",
        ea.sb.root_url,
        enc(REDIRECT),
        enc("ea:api offline_access ea:sales")
    );
    let r = ea.http.get(&authorize).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        to.starts_with(&format!("{REDIRECT}?code=")) && to.ends_with("&state=xyz"),
        "{to}"
    );
    let code = to
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        enc(REDIRECT)
    );
    let no_client = ea.token_call(None, &form).await;
    assert_eq!(no_client.status, 401);
    assert_eq!(no_client.json()["error"], "invalid_client");
    assert_eq!(
        ea.token_call(Some((CLIENT, "wrong")), &form).await.status,
        401
    );
    let t = ea.token_call(Some((CLIENT, SECRET)), &form).await;
    assert_eq!(t.status, 200);
    let tok = t.json();
    assert_eq!(
        (tok["token_type"].clone(), tok["expires_in"].clone()),
        (json!("Bearer"), json!(3600))
    );
    assert_eq!(tok["scope"], "ea:api offline_access ea:sales");
    // A code works once.
    let again = ea.token_call(Some((CLIENT, SECRET)), &form).await;
    assert_eq!(
        (again.status, again.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    // Refresh tokens rotate: the old one is spent.
    let rt = tok["refresh_token"].as_str().unwrap();
    let refresh = format!("grant_type=refresh_token&refresh_token={rt}");
    let t2 = ea.token_call(Some((CLIENT, SECRET)), &refresh).await.json();
    assert_ne!(t2["refresh_token"], tok["refresh_token"]);
    assert_eq!(
        ea.token_call(Some((CLIENT, SECRET)), &refresh).await.json()["error"],
        "invalid_grant"
    );
    let a = ea
        .with(
            t2["access_token"].as_str().unwrap(),
            Method::GET,
            "/customers",
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let bad_redirect = ea
        .http
        .get(authorize.replace("callback", "elsewhere"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_redirect.status().as_u16(), 400);
    let bad_grant = ea
        .token_call(Some((CLIENT, SECRET)), "grant_type=password&username=x")
        .await;
    assert_eq!(bad_grant.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn bearer_tokens_expire_after_an_hour_of_sandbox_time() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    assert_eq!(ea.call(Method::GET, "/customers", None).await.status, 200);
    ea.sb.advance_clock(3590);
    assert_eq!(ea.call(Method::GET, "/customers", None).await.status, 200);
    ea.sb.advance_clock(11);
    let expired = ea.call(Method::GET, "/customers", None).await;
    assert_error(&expired, 401, 4001);
    assert!(expired.header("www-authenticate").starts_with("Bearer"));
    assert_error(
        &ea.with("nonsense", Method::GET, "/customers", None).await,
        401,
        4001,
    );
    let none = Answer::read(
        ea.http
            .get(format!("{}/customers", ea.sb.base_url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&none, 401, 4001);
}

#[tokio::test]
async fn missing_scopes_are_403() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let read_only = ea.token_for("ea:api ea:sales_readonly").await;
    assert!(
        read_only.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let t = read_only["access_token"].as_str().unwrap();
    assert_eq!(ea.with(t, Method::GET, "/articles", None).await.status, 200);
    let write = ea
        .with(
            t,
            Method::POST,
            "/articles",
            Some(json!({"Number": "X", "Name": "X"})),
        )
        .await;
    assert_error(&write, 403, 4003);
    let no_api = ea.token_for("ea:sales offline_access").await;
    let a = ea
        .with(
            no_api["access_token"].as_str().unwrap(),
            Method::GET,
            "/articles",
            None,
        )
        .await;
    assert_error(&a, 403, 4003);
}

#[tokio::test]
async fn meta_data_envelope_pages_cover_every_record_once() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let mut ids = Vec::new();
    let mut page = 1;
    loop {
        let b = ea
            .get(&format!("/customers?$page={page}&$pagesize=3"))
            .await;
        let m = &b["Meta"];
        assert_eq!(
            (m["CurrentPage"].clone(), m["PageSize"].clone()),
            (json!(page), json!(3))
        );
        assert!(m["ServerTimeUtc"].as_str().unwrap().ends_with('Z'));
        ids.extend(
            b["Data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["Id"].as_str().unwrap().to_string()),
        );
        if page >= m["TotalNumberOfPages"].as_u64().unwrap() as usize {
            assert_eq!(
                m["TotalNumberOfResults"].as_u64().unwrap() as usize,
                ids.len()
            );
            break;
        }
        page += 1;
    }
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), ids.len());
    assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));
    let big = ea.get("/articles?$pagesize=5000").await;
    assert_eq!(big["Meta"]["PageSize"], 1000);
    assert_eq!(ea.get("/articles").await["Meta"]["PageSize"], 50);
    assert_error(
        &ea.call(Method::GET, "/articles?$page=0", None).await,
        400,
        4000,
    );
    let desc = ea
        .get("/articles?$orderby=Number%20desc&$pagesize=1000")
        .await;
    let numbers: Vec<&str> = desc["Data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["Number"].as_str().unwrap())
        .collect();
    assert!(numbers
        .windows(2)
        .all(|w| w[0].to_lowercase() >= w[1].to_lowercase()));
}

#[tokio::test]
async fn odata_filter_on_changed_and_modified_utc_and_its_400s() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let all = ea.get("/customers?$pagesize=1000").await["Data"]
        .as_array()
        .unwrap()
        .clone();
    let target = all[3].clone();
    let before = ea.sb.now().format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let mut body = target.clone();
    body["Telephone"] = json!("+46 8 123 456");
    let put = ea
        .call(
            Method::PUT,
            &format!("/customers/{}", target["Id"].as_str().unwrap()),
            Some(body),
        )
        .await;
    assert_eq!(put.status, 200);
    let changed = put.json()["ChangedUtc"].as_str().unwrap().to_string();
    assert!(changed.as_str() > target["ChangedUtc"].as_str().unwrap());
    let f = |expr: &str| format!("/customers?$filter={}", enc(expr));
    let since = ea.get(&f(&format!("ChangedUtc gt {before}"))).await;
    assert_eq!(since["Meta"]["TotalNumberOfResults"], 1);
    assert_eq!(since["Data"][0]["Id"], target["Id"]);
    let quoted = ea
        .get(&f(&format!("ChangedUtc ge datetime'{}'", &before[..19])))
        .await;
    assert_eq!(quoted["Data"][0]["Id"], target["Id"]);
    let older = ea
        .get(&f(&format!(
            "ChangedUtc le {before} and ChangedUtc gt 2000-01-01"
        )))
        .await;
    assert_eq!(
        older["Meta"]["TotalNumberOfResults"].as_u64().unwrap() as usize,
        all.len() - 1
    );
    let orders = ea
        .get(&format!(
            "/orders?$filter={}",
            enc("ModifiedUtc lt 2100-01-01T00:00:00Z")
        ))
        .await;
    assert_eq!(orders["Meta"]["TotalNumberOfResults"], 12);
    for bad in [
        "Name eq 'Anna'",
        "ChangedUtc ne 2026-01-01",
        "ChangedUtc gt 2026-01-01 or ChangedUtc lt 2026-02-01",
        "ChangedUtc gt tomorrow",
        "startswith(Name, 'A')",
    ] {
        assert_error(&ea.call(Method::GET, &f(bad), None).await, 400, 4006);
    }
    let wrong_field = format!("/orders?$filter={}", enc("ChangedUtc gt 2026-01-01"));
    assert_error(&ea.call(Method::GET, &wrong_field, None).await, 400, 4006);
}

#[tokio::test]
async fn apc5_apc6_customer_and_article_writes() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let terms = ea.get("/termsofpayment").await["Data"][0]["Id"].clone();
    let unit = ea.get("/units").await["Data"][0]["Id"].clone();
    let b = assert_error(
        &ea.call(
            Method::POST,
            "/customers",
            Some(json!({"InvoiceCity": "Lund"})),
        )
        .await,
        400,
        4000,
    );
    assert!(b["DeveloperErrorMessage"]
        .as_str()
        .unwrap()
        .contains("Name"));
    let mut c = json!({"Name": "Kafé Lund AB", "InvoicePostalCode": "222 22", "InvoiceCity": "Lund",
        "TermsOfPaymentId": terms, "IsPrivatePerson": false, "VatNumber": "SE556012579101"});
    assert_error(
        &ea.call(Method::POST, "/customers", Some(c.clone())).await,
        400,
        4000,
    );
    c["VatNumber"] = json!("SE556012579001");
    let made = ea.call(Method::POST, "/customers", Some(c.clone())).await;
    assert_eq!(made.status, 201);
    let doc = made.json();
    let id = doc["Id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    assert!(doc["CustomerNumber"]
        .as_str()
        .unwrap()
        .parse::<u64>()
        .is_ok());
    c["Name"] = json!("Kafé Lund Aktiebolag");
    assert_eq!(
        ea.call(Method::PUT, &format!("/customers/{id}"), Some(c))
            .await
            .json()["Name"],
        "Kafé Lund Aktiebolag"
    );
    assert_eq!(
        ea.call(Method::DELETE, &format!("/customers/{id}"), None)
            .await
            .status,
        204
    );
    assert_error(
        &ea.call(Method::GET, &format!("/customers/{id}"), None)
            .await,
        404,
        4004,
    );
    let art = ea
        .call(Method::POST, "/articles", Some(json!({"Number": "SE-900", "Name": "Kaffekopp", "NetPrice": 80, "UnitId": unit, "StockBalance": 99})))
        .await;
    assert_eq!(art.status, 201);
    let a = art.json();
    assert_eq!(
        (a["GrossPrice"].clone(), a["StockBalance"].clone()),
        (json!(100.0), json!(0.0))
    );
    let dup = ea
        .call(
            Method::POST,
            "/articles",
            Some(json!({"Number": "SE-900", "Name": "x", "UnitId": unit})),
        )
        .await;
    assert_error(&dup, 400, 4000);
    assert_error(
        &ea.call(
            Method::DELETE,
            &format!("/articles/{}", a["Id"].as_str().unwrap()),
            None,
        )
        .await,
        405,
        4005,
    );
}

/// APC-4 on the accounting side: available = balance − what open orders reserve.
#[tokio::test]
async fn apc4_article_stock_available_is_balance_minus_reserved() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let a = ea.get("/articles?$pagesize=1").await["Data"][0].clone();
    let id = a["Id"].as_str().unwrap().to_string();
    let bal = a["StockBalance"].as_f64().unwrap();
    let held = a["StockBalanceReserved"].as_f64().unwrap();
    assert_eq!(a["StockBalanceAvailable"].as_f64().unwrap(), bal - held);
    let customer = ea.get("/customers?$pagesize=1").await["Data"][0]["Id"].clone();
    for (status, reserves) in [(1, true), (4, false)] {
        let o = ea
            .call(Method::POST, "/orders", Some(json!({"CustomerId": customer, "Status": status, "Rows": [{"ArticleId": id, "Quantity": 3}]})))
            .await;
        assert_eq!(o.status, 201);
        let now = ea.get(&format!("/articles/{id}")).await;
        let want = held + 3.0;
        assert_eq!(
            now["StockBalanceReserved"].as_f64().unwrap(),
            want,
            "status {status} reserves: {reserves}"
        );
    }
    assert!(ea
        .sb
        .eaccounting()
        .unwrap()
        .set_stock(a["Number"].as_str().unwrap(), 40.0));
    let after = ea.get(&format!("/articles/{id}")).await;
    assert_eq!(
        after["StockBalanceAvailable"].as_f64().unwrap(),
        40.0 - held - 3.0
    );
    assert!(after["ChangedUtc"].as_str() > a["ChangedUtc"].as_str());
}

/// APC-2: an order converts to an invoice draft; a draft converts to an invoice.
#[tokio::test]
async fn apc2_orders_convert_to_drafts_and_drafts_to_invoices() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let art = ea.get("/articles?$pagesize=1").await["Data"][0].clone();
    let customer = ea.get("/customers?$pagesize=1").await["Data"][0]["Id"].clone();
    let bad = ea
        .call(
            Method::POST,
            "/orders",
            Some(json!({"CustomerId": customer, "Status": 5, "Rows": [{"Text": "x"}]})),
        )
        .await;
    assert_error(&bad, 400, 4000);
    let o = ea
        .call(Method::POST, "/orders", Some(json!({"CustomerId": customer, "Status": 2,
            "Rows": [{"ArticleId": art["Id"], "Quantity": 2}, {"Text": "Frakt", "UnitPrice": 49}]})))
        .await
        .json();
    let net = art["NetPrice"].as_f64().unwrap() * 2.0 + 49.0;
    assert!((o["Amount"].as_f64().unwrap() - net).abs() < 0.01);
    assert!(o["Number"].as_u64().is_some());
    let oid = o["Id"].as_str().unwrap();
    let d = ea
        .call(Method::POST, &format!("/orders/{oid}/convert"), None)
        .await;
    assert_eq!(d.status, 200);
    let draft = d.json();
    assert_eq!(ea.get(&format!("/orders/{oid}")).await["Status"], 4);
    assert_error(
        &ea.call(Method::POST, &format!("/orders/{oid}/convert"), None)
            .await,
        400,
        4000,
    );
    let did = draft["Id"].as_str().unwrap();
    assert_eq!(
        ea.get(&format!("/customerinvoicedrafts/{did}")).await["CustomerId"],
        customer
    );
    let inv = ea
        .call(
            Method::POST,
            &format!("/customerinvoicedrafts/{did}/convert"),
            None,
        )
        .await;
    assert_eq!(inv.status, 200);
    let invoice = inv.json();
    assert!(invoice["InvoiceNumber"].as_u64().is_some());
    assert_eq!(
        invoice["RemainingAmount"],
        invoice["TotalAmountIncludingVat"]
    );
    assert_error(
        &ea.call(Method::GET, &format!("/customerinvoicedrafts/{did}"), None)
            .await,
        404,
        4004,
    );
    let iid = invoice["Id"].as_str().unwrap();
    assert_eq!(
        ea.get(&format!("/customerinvoices/{iid}")).await["InvoiceNumber"],
        invoice["InvoiceNumber"]
    );
    let after = ea
        .get(&format!("/articles/{}", art["Id"].as_str().unwrap()))
        .await;
    assert_eq!(
        after["StockBalance"].as_f64().unwrap(),
        art["StockBalance"].as_f64().unwrap() - 2.0
    );
}

#[tokio::test]
async fn rate_limit_per_endpoint_answers_4010() {
    let ea = Ea::start(EAccountingConfig {
        rate_limit: 3,
        ..EAccountingConfig::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(ea.call(Method::GET, "/customers", None).await.status, 200);
    }
    let over = ea.call(Method::GET, "/customers", None).await;
    let b = assert_error(&over, 429, 4010);
    let msg = b["DeveloperErrorMessage"].as_str().unwrap();
    assert!(
        msg.starts_with("API calls quota exceeded! maximum admitted 3 per Minute. Try again in "),
        "{msg}"
    );
    // Another endpoint has its own window.
    assert_eq!(ea.call(Method::GET, "/articles", None).await.status, 200);
    assert_eq!(ea.sb.stats().rate_limited, 1);
    ea.sb.advance_clock(60);
    assert_eq!(ea.call(Method::GET, "/customers", None).await.status, 200);
}

#[tokio::test]
async fn faults_answer_in_the_vendor_shape() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    ea.sb.set_faults(Faults {
        burst_429: Some((1, 1)),
        ..Faults::default()
    });
    assert_error(&ea.call(Method::GET, "/customers", None).await, 429, 4010);
    ea.sb.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let a = ea.call(Method::GET, "/customers", None).await;
    assert_error(&a, a.status, 5000);
    assert!(a.status == 500 || a.status == 503);
}

/// The seeded company: the shared customers (by email) and articles (by SKU), GUIDs, valid VAT
/// numbers, orders in every status, invoices paid and unpaid; and no webhooks resource.
#[tokio::test]
async fn seeded_company_shares_emails_and_skus_and_has_no_webhooks() {
    let ea = Ea::start(EAccountingConfig::default()).await;
    let view = ea.sb.eaccounting().unwrap();
    let sizes = CommerceSizes::default();
    let customers = view.records("customers");
    let emails: HashSet<&str> = customers
        .iter()
        .map(|c| c["EmailAddress"].as_str().unwrap())
        .collect();
    assert!(sizes
        .shared_emails()
        .iter()
        .all(|e| emails.contains(e.as_str())));
    assert!(
        customers.iter().any(|c| c["IsPrivatePerson"] == true)
            && customers.iter().any(|c| c["IsPrivatePerson"] == false)
    );
    for c in &customers {
        if let Some(v) = c["VatNumber"].as_str() {
            assert!(vat::is_valid(v), "{v}");
        }
    }
    for sku in sizes.shared_skus() {
        assert!(view.article_by_number(&sku).is_some(), "{sku}");
    }
    let statuses: HashSet<i64> = view
        .records("orders")
        .iter()
        .map(|o| o["Status"].as_i64().unwrap())
        .collect();
    assert_eq!(statuses, HashSet::from([1, 2, 3, 4]));
    let invoices = view.records("customerinvoices");
    assert_eq!(invoices.len(), 8);
    assert!(
        invoices.iter().any(|i| i["RemainingAmount"] == 0.0)
            && invoices
                .iter()
                .any(|i| i["RemainingAmount"].as_f64() > Some(0.0))
    );
    assert_eq!(view.records("customerinvoicedrafts").len(), 1);
    assert_error(&ea.call(Method::GET, "/webhooks", None).await, 404, 4004);
}
