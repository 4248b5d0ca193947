//! Shopify sandbox: one shop's REST Admin API (`/admin/api/{version}/…json`), faithful to
//! `shared/spec/vendor-apis/shops-accounting.md` §(c) and "What a faithful sandbox must
//! reproduce". Choices the page leaves open are in [`facts`], marked [I].
//!
//! Served: `orders.json` (filters `status` default `open`, `financial_status`,
//! `fulfillment_status`, `created_at_min/max`, `updated_at_min/max`, `processed_at_min/max`,
//! `since_id`, `ids`, `limit` ≤ 250, `fields`; the 60-day window unless `read_all_orders`),
//! `orders/count.json`, `orders/{id}.json`, `products.json` (+ `count`, `{id}`),
//! `customers.json` (+ `count`, `{id}`, POST with 422 validation), `webhooks.json` (+ `count`,
//! `{id}`, POST, DELETE), `shop.json`. Lists page by `Link` cursors whose `page_info` refuses
//! other filters. The leaky bucket answers `X-Shopify-Shop-Api-Call-Limit` and 429 with
//! `Retry-After`; a locked shop 423. Webhooks go out signed (base64 HMAC-SHA256 of the raw
//! body with the app secret) with the full header set, retried with the original payload,
//! sometimes twice with one `X-Shopify-Webhook-Id`.
//!
//! Files: [`api`] (auth, bucket, errors, paging), [`model`] (records and their JSON),
//! [`seed`] (the shop it starts with), [`orders`] and [`catalog`] (the resources),
//! [`webhooks`] (subscriptions and deliveries), [`owner`] (what a merchant does in the admin,
//! for tests: the [`ShopifySandbox`] handle).

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod api;
mod catalog;
mod facts;
mod model;
mod orders;
mod owner;
mod seed;
mod webhooks;

pub use api::ShopState;
pub use owner::{NewOrder, ShopifySandbox};

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;

use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{lock, Common, Faults};
use crate::registry::{StartFuture, Started, VendorSandbox};

/// Shopify plans, as far as the API tells them apart.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ShopifyPlan {
    /// "Basic": orders come without their customer (ROA-8).
    Basic,
    /// "Shopify" (standard).
    #[default]
    Shopify,
    Advanced,
    Plus,
}

impl ShopifyPlan {
    /// Bucket size and leak rate per second of the REST API [D].
    pub fn bucket(self) -> (u32, u32) {
        match self {
            ShopifyPlan::Basic | ShopifyPlan::Shopify => (40, 2),
            ShopifyPlan::Advanced => (80, 4),
            ShopifyPlan::Plus => (400, 20),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ShopifyPlan::Basic => "basic",
            ShopifyPlan::Shopify => "professional",
            ShopifyPlan::Advanced => "unlimited",
            ShopifyPlan::Plus => "shopify_plus",
        }
    }
}

/// Knobs of one Shopify sandbox (one shop).
#[derive(Clone, Debug)]
pub struct ShopifyConfig {
    /// Seed of the generated records.
    pub seed: u64,
    /// Customers (at least the 6 of the cast).
    pub customers: usize,
    /// Products (at least the 9 of the cast).
    pub products: usize,
    /// Orders (at least the 12 story orders).
    pub orders: usize,
    pub plan: ShopifyPlan,
    /// `puente-demo.myshopify.com`: sent in `X-Shopify-Shop-Domain`.
    pub shop_domain: String,
    /// Accepted `X-Shopify-Access-Token`.
    pub access_token: String,
    /// The app's client secret: the key of `X-Shopify-Hmac-Sha256`.
    pub api_secret: String,
    /// The shop's currency.
    pub currency: String,
    /// Leaky bucket size; 0 = no limit. [`ShopifyConfig::for_plan`] sets the plan's.
    pub bucket_size: u32,
    /// Calls leaked per second; 0 = no limit.
    pub leak_rate: u32,
    /// Whether the app holds `read_all_orders` (else orders older than 60 days are hidden).
    pub read_all_orders: bool,
    /// Delays before each retry of a refused delivery (default 8, 1 s doubling).
    pub webhook_retry_delays: Vec<Duration>,
    /// Probability that a delivery is sent twice with the same `X-Shopify-Webhook-Id`.
    pub duplicate_probability: f64,
    pub faults: Faults,
}

impl Default for ShopifyConfig {
    fn default() -> Self {
        ShopifyConfig::for_plan(ShopifyPlan::Shopify)
    }
}

impl ShopifyConfig {
    /// The defaults for a shop on `plan` (its bucket numbers included).
    pub fn for_plan(plan: ShopifyPlan) -> Self {
        let (bucket_size, leak_rate) = plan.bucket();
        ShopifyConfig {
            seed: 42,
            customers: 40,
            products: 30,
            orders: 60,
            plan,
            shop_domain: "puente-demo.myshopify.com".into(),
            access_token: "shpat_sandbox_0123456789abcdef".into(),
            api_secret: "shpss_sandbox_app_secret".into(),
            currency: "EUR".into(),
            bucket_size,
            leak_rate,
            read_all_orders: false,
            webhook_retry_delays: facts::default_retry_delays(),
            duplicate_probability: 0.0,
            faults: Faults::default(),
        }
    }
}

pub(crate) struct Inner {
    cfg: ShopifyConfig,
    shop: Mutex<model::Shop>,
    bucket: Mutex<api::Bucket>,
    state: Mutex<ShopState>,
    /// Draws of webhook ids and duplicates.
    rng: Mutex<StdRng>,
}

#[derive(Clone)]
pub(crate) struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Starts a Shopify sandbox for `cfg` on `addr` (127.0.0.1 on a free port when `None`).
/// `base_url` is the server root: calls go to `{base_url}/admin/api/{version}/…`.
pub async fn start_shopify(
    cfg: &ShopifyConfig,
    addr: Option<SocketAddr>,
) -> io::Result<ShopifySandbox> {
    let (listener, root) = bind(addr)?;
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Never,
        api::FAULT_REPLIES,
        cfg.faults.clone(),
    ));
    let mut shop = model::Shop::new();
    seed::generate(&mut shop, cfg, common.now());
    let app = App {
        common: common.clone(),
        inner: Arc::new(Inner {
            cfg: cfg.clone(),
            shop: Mutex::new(shop),
            bucket: Mutex::new(api::Bucket::new()),
            state: Mutex::new(ShopState::Active),
            rng: Mutex::new(StdRng::seed_from_u64(cfg.seed ^ 0x5107)),
        }),
    };
    let router = Router::new()
        .route("/admin/api/{version}/{*rest}", any(dispatch))
        .fallback(|| async { api::not_found() })
        .with_state(app.clone());
    let sandbox = serve(listener, root, "", common, router)?;
    Ok(ShopifySandbox { sandbox, app })
}

/// The registry's entry: a "Shopify"-plan shop with the default seed.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "shopify",
    about: "Shopify REST Admin: orders, products, customers, webhooks (one shop)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = ShopifyConfig::default();
        let s = start_shopify(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", s.sandbox.base_url.clone()),
            ("shop_domain", cfg.shop_domain),
            ("access_token", cfg.access_token),
            ("api_version", facts::DEFAULT_VERSION.to_string()),
            ("webhook_secret", cfg.api_secret),
        ];
        s.sandbox.set_user(std::sync::Arc::new(Shopper(s.clone())));
        Ok(Started {
            sandbox: s.sandbox,
            connection,
        })
    })
}

/// A shopper at checkout: the `n`th order goes to a registered customer for one product
/// with a SKU, both of the seeded shop, firing `orders/create` as the shop does.
struct Shopper(ShopifySandbox);

impl crate::kit::VendorUser for Shopper {
    fn entity(&self) -> &'static str {
        "order"
    }

    fn make(&self, n: u32) -> Result<String, String> {
        let customers = self.0.customers();
        let products = self.0.products();
        let sku = products
            .iter()
            .flat_map(|p| p["variants"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| {
                v["sku"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .nth(n as usize % products.len().max(1))
            .ok_or("no product with a SKU")?;
        let customer = customers
            .get(n as usize % customers.len().max(1))
            .and_then(|c| c["id"].as_u64());
        self.0
            .place_order(NewOrder {
                customer_id: customer,
                lines: vec![(sku, 1 + u64::from(n % 3))],
                shipping: None,
                paid: true,
            })
            .map(|id| id.to_string())
    }
}

type Q = Query<Vec<(String, String)>>;

/// Every `/admin/api/{version}/…` call: admitted by [`api::admit`], then routed by its
/// segments (`orders/123.json` → `["orders", "123"]`).
async fn dispatch(
    State(app): State<App>,
    method: Method,
    Path((version, rest)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let limit = match api::admit(&app, &version, &headers) {
        Ok(l) => l,
        Err(r) => return r,
    };
    let Some(path) = rest.strip_suffix(".json") else {
        return api::finish(api::not_found(), limit, &version);
    };
    let segs: Vec<&str> = path.split('/').collect();
    let id = |s: &str| s.parse::<u64>().ok();
    let r = match (&method, segs.as_slice()) {
        (&Method::GET, ["shop"]) => shop_info(&app),
        (&Method::GET, ["orders"]) => orders::list(&app, &version, &q),
        (&Method::GET, ["orders", "count"]) => orders::count(&app, &q),
        (&Method::GET, ["orders", x]) if id(x).is_some() => {
            orders::detail(&app, id(x).unwrap_or(0), &q)
        }
        (&Method::GET, ["products"]) => catalog::list_products(&app, &version, &q),
        (&Method::GET, ["products", "count"]) => catalog::count_products(&app, &q),
        (&Method::GET, ["products", x]) if id(x).is_some() => {
            catalog::product(&app, id(x).unwrap_or(0), &q)
        }
        (&Method::GET, ["customers"]) => catalog::list_customers(&app, &version, &q),
        (&Method::GET, ["customers", "count"]) => catalog::count_customers(&app, &q),
        (&Method::GET, ["customers", x]) if id(x).is_some() => {
            catalog::customer(&app, id(x).unwrap_or(0), &q)
        }
        (&Method::POST, ["customers"]) => catalog::create_customer(&app, &body),
        (&Method::GET, ["webhooks"]) => webhooks::list(&app, &version, &q),
        (&Method::GET, ["webhooks", "count"]) => webhooks::count(&app),
        (&Method::POST, ["webhooks"]) => webhooks::create(&app, &version, &body),
        (&Method::GET, ["webhooks", x]) if id(x).is_some() => {
            webhooks::get(&app, id(x).unwrap_or(0))
        }
        (&Method::DELETE, ["webhooks", x]) if id(x).is_some() => {
            webhooks::delete(&app, id(x).unwrap_or(0))
        }
        _ => api::not_found(),
    };
    api::finish(r, limit, &version)
}

/// `GET shop.json`: the shop's name, domains, currency, plan and time zone.
fn shop_info(app: &App) -> Response {
    let cfg = &app.inner.cfg;
    crate::kit::http::json(
        axum::http::StatusCode::OK,
        json!({"shop": {
            "id": 60_000_000_001u64, "name": "Puente Demo", "domain": cfg.shop_domain,
            "myshopify_domain": cfg.shop_domain, "currency": cfg.currency,
            "plan_name": cfg.plan.name(), "iana_timezone": "Europe/Madrid",
            "timezone": "(GMT+01:00) Europe/Madrid", "country_code": "ES",
            "email": "tienda@puente.local", "money_format": "{{amount_with_comma_separator}} €",
        }}),
    )
}

impl App {
    fn hides_customer(&self) -> bool {
        facts::BASIC_HIDES_CUSTOMER && self.inner.cfg.plan == ShopifyPlan::Basic
    }

    fn shop(&self) -> std::sync::MutexGuard<'_, model::Shop> {
        lock(&self.inner.shop)
    }
}
