//! The shop ⇄ accounting harness (APC-1..7): a CCV Shop sandbox and an accounting sandbox
//! (Visma e-conomic or Visma eAccounting), the local runtime between them on a SQLite store,
//! with the flow's preset (`shared/connectors/presets/ccv-*.toml`) and whatever a test adds.
//! Tests read both sides straight from the sandboxes' back-office views, as a person using
//! the vendors' UIs would.

use puente_core::Kind;
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::commerce::CommerceSizes;
use puente_sandbox::{
    start_ccv, start_eaccounting, start_economic, CcvConfig, CcvView, EAccountingConfig,
    EconomicConfig, Sandbox,
};
use puente_store::sqlite::SqliteStore;
use puente_store::{Action, ActivityEntry, LogQuery, Store};
use serde_json::{json, Value};
use std::sync::Arc;

pub const APC_FLOW: &str = "apc";
pub const APC_SECRET: &str = "s3cret-hook";

/// The accounting system of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Books {
    Economic,
    EAccounting,
}

impl Books {
    pub fn name(self) -> &'static str {
        match self {
            Books::Economic => "economic",
            Books::EAccounting => "eaccounting",
        }
    }
}

/// The sandboxes' sizes: the shop's, and the same seed for the books (shared customers and
/// products carry the same email and SKU on both sides).
#[derive(Clone, Debug)]
pub struct Sizes {
    pub commerce: CommerceSizes,
    pub shop_orders: usize,
}

impl Default for Sizes {
    fn default() -> Self {
        Sizes {
            commerce: CommerceSizes::default(),
            shop_orders: 30,
        }
    }
}

pub struct ApcEnv {
    pub books: Books,
    pub ccv: Sandbox,
    pub acc: Sandbox,
    pub app: App,
    pub store: Arc<dyn Store>,
    pub toml: String,
    ccv_conn: Vec<(&'static str, String)>,
    acc_conn: Vec<(&'static str, String)>,
    store_path: std::path::PathBuf,
    http: reqwest::Client,
}

/// Starts both sandboxes; the `[connections]` settings of each.
pub async fn start_sandboxes(
    books: Books,
    sizes: &Sizes,
) -> (
    Sandbox,
    Vec<(&'static str, String)>,
    Sandbox,
    Vec<(&'static str, String)>,
) {
    let ccv_cfg = CcvConfig {
        sizes: sizes.commerce.clone(),
        orders: sizes.shop_orders,
        // The limits are per minute: a test's burst would wait a minute for nothing.
        get_limit: 0,
        write_limit: 0,
        ..CcvConfig::default()
    };
    let ccv = start_ccv(&ccv_cfg, None).await.expect("ccv sandbox starts");
    let ccv_conn = vec![
        ("type", "ccv".to_string()),
        ("base_url", ccv.base_url.clone()),
        ("public_key", ccv_cfg.public_key.clone()),
        ("secret", ccv_cfg.secret.clone()),
    ];
    let (acc, acc_conn) = match books {
        Books::Economic => {
            let cfg = EconomicConfig {
                sizes: sizes.commerce.clone(),
                ..EconomicConfig::default()
            };
            let sb = start_economic(&cfg, None)
                .await
                .expect("economic sandbox starts");
            let conn = vec![
                ("type", "economic".to_string()),
                ("base_url", sb.base_url.clone()),
                ("app_secret_token", cfg.app_secret_token.clone()),
                ("agreement_grant_token", cfg.agreement_grant_token.clone()),
            ];
            (sb, conn)
        }
        Books::EAccounting => {
            let cfg = EAccountingConfig {
                sizes: sizes.commerce.clone(),
                rate_limit: 0,
                ..EAccountingConfig::default()
            };
            let sb = start_eaccounting(&cfg, None)
                .await
                .expect("eaccounting sandbox starts");
            let conn = vec![
                ("type", "eaccounting".to_string()),
                ("base_url", sb.base_url.clone()),
                ("token_url", format!("{}/connect/token", sb.root_url)),
                ("client_id", cfg.client_id.clone()),
                ("client_secret", cfg.client_secret.clone()),
                ("refresh_token", cfg.refresh_token.clone()),
            ];
            (sb, conn)
        }
    };
    (ccv, ccv_conn, acc, acc_conn)
}

fn section(name: &str, conn: &[(&'static str, String)]) -> String {
    let mut out = format!("[connections.{name}]\n");
    for (k, v) in conn {
        out.push_str(&format!("{k} = {}\n", toml_str(v)));
    }
    out
}

fn toml_str(v: &str) -> String {
    format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The config a user would write for the two sandboxes: connections `ccv` and the books'
/// name, one flow `apc` of `entities`, then `extra` (inside the `[[flows]]` table, so
/// `[flows.tables.x]` adjusts the flow).
pub fn apc_toml(
    books: Books,
    ccv_conn: &[(&'static str, String)],
    acc_conn: &[(&'static str, String)],
    store: &std::path::Path,
    entities: &[&str],
    extra: &str,
) -> String {
    let entities = entities
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "tenant = \"test\"\n[store]\npath = {store}\n[server]\nwebhook_secret = \"{APC_SECRET}\"\n{ccv}{acc}[[flows]]\nname = \"{APC_FLOW}\"\na = \"ccv\"\nb = \"{b}\"\nentities = [{entities}]\n{extra}\n",
        store = toml_str(&store.display().to_string()),
        ccv = section("ccv", ccv_conn),
        acc = section(books.name(), acc_conn),
        b = books.name(),
    )
}

impl ApcEnv {
    pub async fn start(books: Books, entities: &[&str], extra: &str) -> ApcEnv {
        ApcEnv::start_sized(books, &Sizes::default(), entities, extra).await
    }

    pub async fn start_sized(
        books: Books,
        sizes: &Sizes,
        entities: &[&str],
        extra: &str,
    ) -> ApcEnv {
        let (ccv, ccv_conn, acc, acc_conn) = start_sandboxes(books, sizes).await;
        let store_path = crate::temp_path(&format!("apc-{}", books.name()));
        let toml = apc_toml(books, &ccv_conn, &acc_conn, &store_path, entities, extra);
        let config = Config::parse(&toml).unwrap_or_else(|e| panic!("config: {e}\n{toml}"));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).expect("store"));
        let app = App::build(config, store.clone(), crate::test_retry()).expect("the app builds");
        ApcEnv {
            books,
            ccv,
            acc,
            app,
            store,
            toml,
            ccv_conn,
            acc_conn,
            store_path,
            http: reqwest::Client::new(),
        }
    }

    /// The same sandboxes and store under a new config (a user editing the flow).
    pub fn reconfigure(&mut self, entities: &[&str], extra: &str) {
        let toml = apc_toml(
            self.books,
            &self.ccv_conn,
            &self.acc_conn,
            &self.store_path,
            entities,
            extra,
        );
        let config = Config::parse(&toml).unwrap_or_else(|e| panic!("config: {e}\n{toml}"));
        self.app =
            App::build(config, self.store.clone(), crate::test_retry()).expect("the app builds");
        self.toml = toml;
    }

    /// A customer of the shop (an account's Personalinfo), `n`th of the accounts.
    pub fn shop_customer(&self, n: usize) -> Value {
        let users = self.shop().records("users");
        users[n % users.len()]["userinfo"].clone()
    }

    /// A simple product of the shop (no variants), `n`th of them.
    pub fn shop_product(&self, n: usize) -> Value {
        let simple: Vec<Value> = self
            .shop()
            .records("products")
            .into_iter()
            .filter(|p| {
                p["attributecombinations"]["items"]
                    .as_array()
                    .is_none_or(|a| a.is_empty())
            })
            .collect();
        simple[n % simple.len()].clone()
    }

    /// A customer places a paid order of `count` × the `n`th simple product; the order as
    /// the shop serves it. `more` is merged into the order body (`paymethod`,
    /// `discountcoupon`, `deliver_method`, `total_shipping`, `customer`).
    pub async fn place_paid_order(
        &self,
        customer: usize,
        product: usize,
        count: f64,
        more: Value,
    ) -> Value {
        let p = self.shop_product(product);
        let mut body = json!({
            "customer": self.shop_customer(customer),
            "orderrows": [{"product_id": p["id"], "count": count}],
            "paid": true,
            "paymethod": "ideal",
            "deliver_method": "shipping",
        });
        if let (Some(b), Some(m)) = (body.as_object_mut(), more.as_object()) {
            for (k, v) in m {
                b.insert(k.clone(), v.clone());
            }
        }
        self.shop()
            .place_order(body)
            .await
            .expect("the shop takes the order")
    }

    pub fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(APC_FLOW).expect("flow")
    }

    /// A run that must end without run errors.
    pub async fn sync(&self, mode: Mode) -> Summary {
        let s = run(self.flow(), mode, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "run errors: {:?}", s.errors);
        s
    }

    pub async fn dry_run(&self, mode: Mode) -> Summary {
        run(self.flow(), mode, true, &NoProgress).await
    }

    pub fn shop(&self) -> CcvView {
        self.ccv.ccv().expect("a CCV sandbox")
    }

    /// The accounting side's records of `collection`, as its back office shows them
    /// (`customers`, `products`; documents by the e-conomic collection names).
    pub fn acc_records(&self, collection: &str) -> Vec<Value> {
        match self.books {
            Books::Economic => self.acc.economic().expect("economic").records(collection),
            Books::EAccounting => {
                let c = match collection {
                    "products" => "articles",
                    "invoices/drafts" => "customerinvoicedrafts",
                    "invoices/booked" => "customerinvoices",
                    "orders/drafts" | "orders/sent" | "orders" => "orders",
                    "quotes/drafts" | "quotes/sent" | "quotes" => "quotes",
                    other => other,
                };
                self.acc.eaccounting().expect("eaccounting").records(c)
            }
        }
    }

    pub fn acc_customers(&self) -> Vec<Value> {
        self.acc_records("customers")
    }

    /// A customer's (first) email.
    pub fn customer_email(&self, c: &Value) -> String {
        let e = match self.books {
            Books::Economic => &c["email"],
            Books::EAccounting => &c["EmailAddress"],
        };
        e.as_str()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_lowercase()
    }

    pub fn customer_name(&self, c: &Value) -> String {
        let n = match self.books {
            Books::Economic => &c["name"],
            Books::EAccounting => &c["Name"],
        };
        n.as_str().unwrap_or("").to_string()
    }

    /// The accounting customers with this email.
    pub fn customers_by_email(&self, email: &str) -> Vec<Value> {
        self.acc_customers()
            .into_iter()
            .filter(|c| self.customer_email(c) == email.to_lowercase())
            .collect()
    }

    /// A customer's id as the documents reference it.
    pub fn customer_id(&self, c: &Value) -> String {
        match self.books {
            Books::Economic => c["customerNumber"].to_string(),
            Books::EAccounting => c["Id"].as_str().unwrap_or("").to_string(),
        }
    }

    pub fn acc_products(&self) -> Vec<Value> {
        self.acc_records("products")
    }

    pub fn product_sku(&self, p: &Value) -> String {
        let n = match self.books {
            Books::Economic => &p["productNumber"],
            Books::EAccounting => &p["Number"],
        };
        n.as_str().unwrap_or("").to_string()
    }

    pub fn acc_product(&self, sku: &str) -> Option<Value> {
        self.acc_products()
            .into_iter()
            .find(|p| self.product_sku(p) == sku)
    }

    /// The sales documents of a document type (`quote`, `order`, `invoice`,
    /// `booked_invoice`) in the books.
    pub fn documents(&self, doc: &str) -> Vec<Value> {
        let colls: &[&str] = match doc {
            "quote" => &["quotes/drafts", "quotes/sent", "quotes/archived"],
            "order" => &["orders/drafts", "orders/sent", "orders/archived"],
            "invoice" => &["invoices/drafts"],
            "booked_invoice" => &["invoices/booked"],
            other => panic!("no document type {other}"),
        };
        let mut out = Vec::new();
        for c in colls {
            if self.books == Books::EAccounting && c.ends_with("archived") {
                continue;
            }
            if self.books == Books::EAccounting && c.ends_with("/sent") {
                continue;
            }
            out.extend(self.acc_records(c));
        }
        out
    }

    /// The shop order a document was made from (`ccv/<order number>`), empty for others.
    pub fn doc_reference(&self, d: &Value) -> String {
        let r = match self.books {
            Books::Economic => &d["references"]["other"],
            Books::EAccounting => &d["YourReference"],
        };
        r.as_str().unwrap_or("").to_string()
    }

    /// The documents made from shop orders, by shop order number.
    pub fn docs_from_shop(&self, doc: &str) -> Vec<(String, Value)> {
        self.documents(doc)
            .into_iter()
            .filter_map(|d| {
                let r = self.doc_reference(&d);
                r.strip_prefix("ccv/").map(|n| (n.to_string(), d.clone()))
            })
            .collect()
    }

    /// The customer a document is for.
    pub fn doc_customer(&self, d: &Value) -> String {
        match self.books {
            Books::Economic => d["customer"]["customerNumber"].to_string(),
            Books::EAccounting => d["CustomerId"].as_str().unwrap_or("").to_string(),
        }
    }

    /// A document's lines: (product sku or "", description, quantity, unit price).
    pub fn doc_lines(&self, d: &Value) -> Vec<(String, String, f64, f64)> {
        match self.books {
            Books::Economic => d["lines"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| {
                    (
                        l["product"]["productNumber"]
                            .as_str()
                            .unwrap_or("")
                            .to_string(),
                        l["description"].as_str().unwrap_or("").to_string(),
                        l["quantity"].as_f64().unwrap_or(0.0),
                        l["unitNetPrice"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect(),
            Books::EAccounting => {
                let articles = self.acc_products();
                d["Rows"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| {
                        let sku = r["ArticleId"]
                            .as_str()
                            .and_then(|id| articles.iter().find(|a| a["Id"] == json!(id)))
                            .map(|a| self.product_sku(a))
                            .unwrap_or_default();
                        (
                            sku,
                            r["Text"].as_str().unwrap_or("").to_string(),
                            r["Quantity"].as_f64().unwrap_or(0.0),
                            r["UnitPrice"].as_f64().unwrap_or(0.0),
                        )
                    })
                    .collect()
            }
        }
    }

    /// The accounting side counts `quantity` in stock for `sku` (a stock count in its UI).
    pub fn set_acc_stock(&self, sku: &str, quantity: f64) {
        let ok = match self.books {
            Books::Economic => self
                .acc
                .economic()
                .expect("economic")
                .set_in_stock(sku, quantity),
            Books::EAccounting => self
                .acc
                .eaccounting()
                .expect("eaccounting")
                .set_stock(sku, quantity),
        };
        assert!(ok, "{sku} exists in {}", self.books.name());
    }

    /// The shop's orders the preset sends: paid, not cancelled, completed (numbered).
    pub fn paid_shop_orders(&self) -> Vec<Value> {
        self.shop()
            .records("orders")
            .into_iter()
            .filter(|o| {
                o["paid"] == json!(true)
                    && o["status"] != json!(8)
                    && o["ordernumber_full"].is_string()
            })
            .collect()
    }

    /// A value of the accounting connection's settings.
    pub fn acc_setting(&self, key: &str) -> String {
        self.acc_conn
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// A bearer token of the eAccounting sandbox.
    async fn eaccounting_token(&self) -> String {
        let token: Value = self
            .http
            .post(self.acc_setting("token_url"))
            .basic_auth(
                self.acc_setting("client_id"),
                Some(self.acc_setting("client_secret")),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            // A grant of its own (the configured refresh token is the connector's: it
            // rotates on use).
            .body(format!(
                "grant_type=authorization_code&code={code}&redirect_uri={uri}",
                code = self
                    .acc
                    .eaccounting()
                    .expect("eaccounting")
                    .authorization_code(&["ea:api", "ea:sales"]),
                uri = EAccountingConfig::default().redirect_uri,
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        token["access_token"].as_str().unwrap_or("").to_string()
    }

    /// A user changes a product's net sales price in the books, through its API.
    pub async fn acc_set_price(&self, sku: &str, net: f64) {
        let mut p = self.acc_product(sku).expect("the product is in the books");
        let o = p.as_object_mut().unwrap();
        let r = match self.books {
            Books::Economic => {
                for k in ["self", "lastUpdated", "inventory", "invoices"] {
                    o.remove(k);
                }
                o.insert("salesPrice".into(), json!(net));
                self.http
                    .put(format!("{}/products/{sku}", self.acc_setting("base_url")))
                    .header("X-AppSecretToken", self.acc_setting("app_secret_token"))
                    .header(
                        "X-AgreementGrantToken",
                        self.acc_setting("agreement_grant_token"),
                    )
                    .json(&p)
                    .send()
                    .await
                    .unwrap()
            }
            Books::EAccounting => {
                let id = o["Id"].as_str().unwrap_or("").to_string();
                for k in [
                    "Id",
                    "ChangedUtc",
                    "CreatedUtc",
                    "StockBalance",
                    "StockBalanceReserved",
                    "StockBalanceAvailable",
                    "GrossPrice",
                ] {
                    o.remove(k);
                }
                o.insert("NetPrice".into(), json!(net));
                let token = self.eaccounting_token().await;
                self.http
                    .put(format!("{}/articles/{id}", self.acc_setting("base_url")))
                    .bearer_auth(token)
                    .json(&p)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let status = r.status();
        assert!(
            status.is_success(),
            "PUT product {status}: {}",
            r.text().await.unwrap_or_default()
        );
    }

    /// Creates a customer in the books through its API, as a user would; its id.
    pub async fn acc_create_customer(&self, body: Value) -> Value {
        match self.books {
            Books::Economic => {
                let r = self
                    .http
                    .post(format!("{}/customers", self.acc_setting("base_url")))
                    .header("X-AppSecretToken", self.acc_setting("app_secret_token"))
                    .header(
                        "X-AgreementGrantToken",
                        self.acc_setting("agreement_grant_token"),
                    )
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success(), "economic POST {}", r.status());
                r.json().await.unwrap()
            }
            Books::EAccounting => {
                let token = self.eaccounting_token().await;
                let r = self
                    .http
                    .post(format!("{}/customers", self.acc_setting("base_url")))
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                assert!(status.is_success(), "eaccounting POST {status}: {v}");
                v
            }
        }
    }

    /// The activity log entries of kind `kind` with a reason (failures and skips).
    /// The log entries of one entity with one action, newest first.
    pub async fn entries(&self, kind: Kind, action: Action) -> Vec<ActivityEntry> {
        let q = LogQuery {
            kind: Some(kind.as_str().to_string()),
            action: Some(action),
            ..LogQuery::new("test", 10_000)
        };
        self.store.query(&q).await.expect("log query")
    }

    pub async fn reasons(&self, kind: Kind) -> Vec<String> {
        let q = LogQuery {
            kind: Some(kind.as_str().to_string()),
            ..LogQuery::new("test", 10_000)
        };
        self.store
            .query(&q)
            .await
            .expect("log query")
            .into_iter()
            .filter_map(|e| e.reason)
            .collect()
    }
}
