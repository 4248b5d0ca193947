//! WooCommerce sandbox: one store's REST API v3 (`/wp-json/wc/v3/…`), faithful to
//! `shared/spec/vendor-apis/shops-accounting.md` §(d) and "What a faithful sandbox must
//! reproduce". Choices the page leaves open are in [`facts`], marked [I].
//!
//! Served: `orders` (filters `status` incl. `trash`, `after`/`before`,
//! `modified_after`/`modified_before`, `dates_are_gmt`, `customer`, `product`, `search`,
//! `include`/`exclude`, `order`/`orderby`, `page`/`per_page` ≤ 100/`offset`), `orders/{id}`
//! (GET, PUT/POST status and note, DELETE to trash or `force`), `products` (`sku`, `category`,
//! `type`, `modified_after`, `search`, `include`), `products/{id}`, `products/{id}/variations`,
//! `products/categories` (`parent`, `hide_empty`), `customers` (`email`, `search`, `role`),
//! `webhooks` (CRUD; creating one sends the unsigned `webhook_id=N` ping). Deliveries are
//! signed JSON with the `X-WC-Webhook-*` headers, never retried; a webhook is disabled after
//! its 7th consecutive failure (configurable).
//!
//! Files: [`api`] (auth, envelope, paging, dates), [`model`] (records and their JSON),
//! [`seed`], [`orders`], [`catalog`] (products, categories, customers), [`webhooks`],
//! [`owner`] (the [`WooSandbox`] handle: what the shop owner does in wp-admin).

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

pub use owner::{WooOrder, WooSandbox};

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{lock, Common, Faults};
use crate::registry::{StartFuture, Started, VendorSandbox};

/// What a REST API key may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WooPermissions {
    Read,
    Write,
    #[default]
    ReadWrite,
}

/// Knobs of one WooCommerce sandbox (one store).
#[derive(Clone, Debug)]
pub struct WooConfig {
    /// Seed of the generated records.
    pub seed: u64,
    /// Registered customers (at least the 4 of the cast).
    pub customers: usize,
    /// Products (at least the 9 of the cast).
    pub products: usize,
    /// Orders (at least the 14 story orders).
    pub orders: usize,
    pub consumer_key: String,
    pub consumer_secret: String,
    pub permissions: WooPermissions,
    /// The store's currency.
    pub currency: String,
    /// Calls per minute before a 429 (a host's limit; core has none): 0 = off.
    pub rate_limit: u32,
    /// The consecutive failed delivery that disables a webhook (7, the code; the docs say 5).
    pub disable_after_failures: u32,
    pub faults: Faults,
}

impl Default for WooConfig {
    fn default() -> Self {
        WooConfig {
            seed: 42,
            customers: 30,
            products: 30,
            orders: 60,
            consumer_key: "ck_sandbox_0123456789abcdef0123456789abcdef01234567".into(),
            consumer_secret: "cs_sandbox_0123456789abcdef0123456789abcdef01234567".into(),
            permissions: WooPermissions::ReadWrite,
            currency: "EUR".into(),
            rate_limit: 0,
            disable_after_failures: facts::DISABLE_AFTER,
            faults: Faults::default(),
        }
    }
}

pub(crate) struct Inner {
    cfg: WooConfig,
    store: Mutex<model::Store>,
    window: Mutex<api::Window>,
}

#[derive(Clone)]
pub(crate) struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    fn store(&self) -> std::sync::MutexGuard<'_, model::Store> {
        lock(&self.inner.store)
    }
}

/// Starts a WooCommerce sandbox for `cfg`; `base_url` is `{root}/wp-json/wc/v3`.
pub async fn start_woocommerce(
    cfg: &WooConfig,
    addr: Option<SocketAddr>,
) -> io::Result<WooSandbox> {
    let (listener, root) = bind(addr)?;
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Never,
        api::FAULT_REPLIES,
        cfg.faults.clone(),
    ));
    let mut store = model::Store::new();
    seed::generate(&mut store, cfg, common.now());
    let app = App {
        common: common.clone(),
        inner: Arc::new(Inner {
            cfg: cfg.clone(),
            store: Mutex::new(store),
            window: Mutex::new(Default::default()),
        }),
    };
    let v3 = |p: &str| format!("/wp-json/wc/v3{p}");
    let router = Router::new()
        .route(&v3("/orders"), get(orders::list))
        .route(
            &v3("/orders/{id}"),
            get(orders::get)
                .put(orders::update)
                .post(orders::update)
                .delete(orders::delete),
        )
        .route(&v3("/products"), get(catalog::products))
        .route(&v3("/products/{id}"), get(catalog::product))
        .route(&v3("/products/{id}/variations"), get(catalog::variations))
        .route(
            &v3("/products/{id}/variations/{vid}"),
            get(catalog::variation),
        )
        .route(&v3("/products/categories"), get(catalog::categories))
        .route(&v3("/products/categories/{id}"), get(catalog::category))
        .route(&v3("/customers"), get(catalog::customers))
        .route(&v3("/customers/{id}"), get(catalog::customer))
        .route(&v3("/webhooks"), get(webhooks::list).post(webhooks::create))
        .route(
            &v3("/webhooks/{id}"),
            get(webhooks::get)
                .put(webhooks::update)
                .post(webhooks::update)
                .delete(webhooks::delete),
        )
        .route_layer(middleware::from_fn_with_state(app.clone(), guard))
        .fallback(|| async { api::no_route() })
        .with_state(app.clone());
    let sandbox = serve(listener, root, "/wp-json/wc/v3", common, router)?;
    Ok(WooSandbox { sandbox, app })
}

/// Auth and limits before every route.
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let q: Vec<(String, String)> = axum::extract::Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    match api::admit(&app, req.method(), req.headers(), &q) {
        Ok(()) => next.run(req).await,
        Err(r) => r,
    }
}

/// The registry's entry: a store with the default seed.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "woocommerce",
    about: "WooCommerce REST v3: orders, products and variations, categories, customers, webhooks",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = WooConfig::default();
        let s = start_woocommerce(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", s.sandbox.base_url.clone()),
            ("consumer_key", cfg.consumer_key),
            ("consumer_secret", cfg.consumer_secret),
        ];
        s.sandbox.set_user(std::sync::Arc::new(Shopper(s.clone())));
        Ok(Started {
            sandbox: s.sandbox,
            connection,
        })
    })
}

/// A shopper at checkout: the `n`th order goes to a registered customer for one product
/// with a SKU, both of the seeded store, firing `order.created` as the store does.
struct Shopper(WooSandbox);

impl crate::kit::VendorUser for Shopper {
    fn entity(&self) -> &'static str {
        "order"
    }

    fn make(&self, n: u32) -> Result<String, String> {
        let customers = self.0.customers();
        let skus: Vec<String> = self
            .0
            .products()
            .iter()
            .filter_map(|p| {
                p["sku"]
                    .as_str()
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            })
            .collect();
        let sku = skus
            .get(n as usize % skus.len().max(1))
            .cloned()
            .ok_or("no product with a SKU")?;
        let customer = customers
            .get(n as usize % customers.len().max(1))
            .and_then(|c| c["id"].as_u64())
            .ok_or("no registered customer")?;
        self.0
            .place_order(WooOrder {
                customer_id: customer,
                lines: vec![(sku, 1 + u64::from(n % 3))],
                ..WooOrder::default()
            })
            .map(|id| id.to_string())
    }
}
