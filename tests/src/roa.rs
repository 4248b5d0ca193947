//! Shop → RO App test harness (issue 14, ROA-1..9): a shop sandbox (Shopify or WooCommerce)
//! and an RO App sandbox on loopback, the whole local app over a SQLite store, Puente's
//! webhook receiver served on loopback (so the shops' signed deliveries come through the
//! runtime's own acceptance path) and helpers to read both vendors as their users would.

use puente_connectors::RetryPolicy;
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::{
    start_roapp, start_shopify, start_woocommerce, RoAppConfig, RoAppSandbox, Sandbox,
    ShopifyConfig, ShopifySandbox, WooConfig, WooSandbox,
};
use puente_store::sqlite::SqliteStore;
use puente_store::{ActivityEntry, LogQuery, Store};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const FLOW: &str = "shop-roapp";
pub const SECRET: &str = "s3cret-hook";

/// The shop side.
pub enum Shop {
    Shopify(ShopifySandbox),
    Woo(WooSandbox),
}

impl Shop {
    pub fn sandbox(&self) -> &Sandbox {
        match self {
            Shop::Shopify(s) => &s.sandbox,
            Shop::Woo(w) => &w.sandbox,
        }
    }
    pub fn shopify(&self) -> &ShopifySandbox {
        match self {
            Shop::Shopify(s) => s,
            Shop::Woo(_) => panic!("not a Shopify shop"),
        }
    }
    pub fn woo(&self) -> &WooSandbox {
        match self {
            Shop::Woo(w) => w,
            Shop::Shopify(_) => panic!("not a WooCommerce shop"),
        }
    }
}

/// Quick retries, and a 429 waited out quickly.
pub fn retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 4,
        max_rate_limit_retries: 12,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_header_wait: Duration::from_secs(3),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
    }
}

pub struct Roa {
    pub shop: Shop,
    pub roapp: RoAppSandbox,
    pub app: Arc<App>,
    /// Puente's receiver root (`http://127.0.0.1:PORT`).
    pub base: String,
    pub store_path: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

/// What a test starts: which shop, their configs, and TOML appended inside the flow.
pub struct Setup {
    pub shopify: Option<ShopifyConfig>,
    pub woo: Option<WooConfig>,
    pub roapp: RoAppConfig,
    pub extra: String,
    pub policy: RetryPolicy,
}

impl Setup {
    pub fn shopify(cfg: ShopifyConfig) -> Setup {
        Setup {
            shopify: Some(cfg),
            woo: None,
            roapp: roapp_config(),
            extra: String::new(),
            policy: retry(),
        }
    }
    pub fn woo(cfg: WooConfig) -> Setup {
        Setup {
            shopify: None,
            woo: Some(cfg),
            roapp: roapp_config(),
            extra: String::new(),
            policy: retry(),
        }
    }
    pub fn with(mut self, extra: &str) -> Setup {
        self.extra.push_str(extra);
        self
    }
}

/// An RO App account without its rate limit (tests of pacing set one).
pub fn roapp_config() -> RoAppConfig {
    RoAppConfig {
        rate_limit: 0,
        ..RoAppConfig::default()
    }
}

/// A small Shopify shop without the leaky bucket (the tests of pacing set one).
pub fn shopify_config() -> ShopifyConfig {
    ShopifyConfig {
        customers: 10,
        products: 12,
        orders: 16,
        bucket_size: 0,
        leak_rate: 0,
        ..ShopifyConfig::default()
    }
}

pub fn woo_config() -> WooConfig {
    WooConfig {
        customers: 6,
        products: 12,
        orders: 20,
        ..WooConfig::default()
    }
}

impl Roa {
    pub async fn start(name: &str, setup: Setup) -> Roa {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let roapp = start_roapp(&setup.roapp, None).await.unwrap();
        let (shop, conn) = match (&setup.shopify, &setup.woo) {
            (Some(c), _) => {
                let s = start_shopify(c, None).await.unwrap();
                let conn = format!(
                    "type = \"shopify\"\nbase_url = \"{}\"\nshop_domain = \"{}\"\naccess_token = \"{}\"\nwebhook_secret = \"{}\"\n",
                    s.sandbox.root_url, c.shop_domain, c.access_token, c.api_secret
                );
                (Shop::Shopify(s), conn)
            }
            (None, Some(c)) => {
                let s = start_woocommerce(c, None).await.unwrap();
                let conn = format!(
                    "type = \"woocommerce\"\nbase_url = \"{}\"\nconsumer_key = \"{}\"\nconsumer_secret = \"{}\"\nwebhook_secret = \"puente-wc-secret\"\n",
                    s.sandbox.base_url, c.consumer_key, c.consumer_secret
                );
                (Shop::Woo(s), conn)
            }
            _ => panic!("a shop"),
        };
        let store_path = crate::temp_path(name);
        let toml = format!(
            r#"
tenant = "test"
[store]
path = "{store}"
[server]
webhook_secret = "{SECRET}"
public_url = "{base}"
[connections.shop]
{conn}
[connections.roapp]
type = "roapp"
base_url = "{roapp}"
api_key = "{key}"
requests_per_second = 0
[[flows]]
name = "{FLOW}"
a = "shop"
b = "roapp"
{extra}
"#,
            store = store_path.display(),
            roapp = roapp.sandbox.root_url,
            key = setup.roapp.api_key,
            extra = setup.extra,
        );
        let config = Config::parse(&toml).unwrap_or_else(|e| panic!("{e}\n{toml}"));
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).unwrap());
        let app =
            Arc::new(App::build(config, store, setup.policy).unwrap_or_else(|e| panic!("{e}")));
        let state = ServerState {
            app: app.clone(),
            secret: Some(SECRET.into()),
            inactive: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router(state)).await;
        });
        Roa {
            shop,
            roapp,
            app,
            base,
            store_path,
            server,
        }
    }

    pub fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(FLOW).expect("flow")
    }

    /// Activation: checks both sides and subscribes the shop's webhooks to Puente.
    pub async fn activate(&self) -> Vec<String> {
        puente_runtime::activate(self.flow())
            .await
            .expect("activation succeeds")
    }

    pub async fn sync(&self, mode: Mode) -> Summary {
        let s = run(self.flow(), mode, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "run errors: {:?}", s.errors);
        s
    }

    /// Waits until the shop delivered its webhooks, then works the queue empty.
    pub async fn drain(&self) {
        for _ in 0..500 {
            if self.shop.sandbox().webhooks_pending() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for _ in 0..200 {
            let done = work_once(
                &self.app,
                self.app.store.as_ref(),
                10,
                Duration::from_secs(30),
            )
            .await;
            let (pending, _) = self.app.store.queue_depth().await.unwrap();
            if done.taken == 0 && pending == 0 {
                break;
            }
            if done.taken == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// What was written to RO App since its stats were reset (asking for a legacy token
    /// writes nothing).
    pub fn roapp_writes(&self) -> Vec<(String, String)> {
        self.roapp
            .sandbox
            .writes()
            .into_iter()
            .filter(|(r, _)| !r.contains("/token/new"))
            .collect()
    }

    /// Activity-log entries, newest first.
    pub async fn log(&self) -> Vec<ActivityEntry> {
        self.app
            .store
            .query(&LogQuery::new("test", 10_000))
            .await
            .unwrap()
    }

    /// RO App orders Puente made (their number is the shop's, `#…`).
    pub fn roapp_orders(&self) -> Vec<Value> {
        self.roapp
            .orders()
            .into_iter()
            .filter(|o| o["number"].as_str().is_some_and(|n| n.starts_with('#')))
            .collect()
    }

    pub fn roapp_order(&self, number: &str) -> Option<Value> {
        self.roapp
            .orders()
            .into_iter()
            .find(|o| o["number"].as_str() == Some(number))
    }
}

impl Drop for Roa {
    fn drop(&mut self) {
        self.server.abort();
        self.shop.sandbox().shutdown();
        self.roapp.sandbox.shutdown();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.store_path.display()));
        }
    }
}

/// Digits of a phone with a Spanish country code dropped (as RO App compares them).
pub fn digits(p: &str) -> String {
    puente_sandbox::shopworld::phone_digits(p)
}

/// The phones of an RO App client (v2 rendering).
pub fn client_phones(c: &Value) -> Vec<String> {
    c["phones"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["phone"].as_str().map(digits))
        .collect()
}

/// Keys that more than one RO App client holds (phone digits, lower-case emails): none
/// when customers are never duplicated.
pub fn duplicate_clients(clients: &[Value]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for c in clients {
        let mut keys: Vec<String> = client_phones(c)
            .into_iter()
            .map(|p| format!("tel:{p}"))
            .collect();
        if let Some(e) = c["email"].as_str().filter(|e| !e.is_empty()) {
            keys.push(format!("mail:{}", e.to_lowercase()));
        }
        keys.sort();
        keys.dedup();
        for k in keys {
            *seen.entry(k).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k)
        .collect()
}

/// SKUs more than one RO App product holds.
pub fn duplicate_skus(products: &[Value]) -> Vec<String> {
    crate::duplicate_keys(products, |p| {
        p["sku"]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(|s| s.to_uppercase())
    })
}

/// Order numbers more than one RO App order holds.
pub fn duplicate_numbers(orders: &[Value]) -> Vec<String> {
    crate::duplicate_keys(orders, |o| o["number"].as_str().map(str::to_string))
}
