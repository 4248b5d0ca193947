//! CCV Shop sandbox: the REST API of one Dutch web shop, `http://host/api/rest/v1/{resource}`,
//! faithful to `shared/spec/vendor-apis/shops-accounting.md` §(a) and its "What a faithful
//! sandbox must reproduce".
//!
//! - Every request is signed: `x-public`, `x-date`, `x-hash` = hex HMAC-SHA512(secret,
//!   `public|METHOD|uri|body|x-date`), `uri` the path and query as sent, `body` the exact
//!   bytes; `x-date` must be within the configured skew of the sandbox clock.
//! - **Every response is signed** (`x-date`, `x-hash` over `public|METHOD|uri|rawBody|x-date`),
//!   error answers and injected faults included (the official SDK refuses unsigned answers).
//! - Paths with and without a trailing `/`; `start`/`size` paging in
//!   `{href,start,size,first,previous,next,items}`; filters and `orderby=field[_desc]`.
//! - `orders` (numbers null until `is_completed`, status 1–14), `orders/{id}/orderrows`,
//!   `orderrows/{id}`, `products` (`PATCH` sets stock), `categories` (`parentcategory`),
//!   `producttocategories`, `users` (customer accounts), `webhooks` (each with its `key`) and
//!   signed deliveries of `orders.*`/`products.*`.
//! - 201 with a body on POST, 204 on PATCH/PUT/DELETE; errors `{code,status,developermessage}`;
//!   429.10 per resource and method per minute (150 GET, 100 each write method) and 429.11
//!   over a configurable total.
//!
//! Every [I] choice is in [`facts`]. Where things are: [`api`] (errors, signatures, limits,
//! paging), [`orders`], [`catalog`] (products, categories, product-to-category links),
//! [`users`], [`webhooks`], [`seed`] (the seeded shop) and [`control`] (the test handle's
//! view of the shop).

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod api;
mod catalog;
mod control;
mod facts;
mod orders;
mod seed;
mod users;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, MethodRouter};
use axum::{middleware, Router};
use serde_json::{Map, Value};

use crate::commerce::CommerceSizes;
use crate::kit::server::{bind, serve_wrapped};
use crate::kit::stats::Slash;
use crate::kit::{Common, Faults, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};

pub use control::CcvView;

type Obj = Map<String, Value>;

/// Path prefix of every resource.
const PREFIX: &str = "/api/rest/v1";

/// Knobs of one CCV Shop sandbox.
#[derive(Clone, Debug)]
pub struct CcvConfig {
    /// Seed and sizes of the shared commerce data (products, customers); the shop holds the
    /// shared and the shop-only records.
    pub sizes: CommerceSizes,
    /// Orders seeded (spread over the 60 days before start).
    pub orders: usize,
    /// Accepted `x-public`.
    pub public_key: String,
    /// The API secret signing requests and responses.
    pub secret: String,
    /// Allowed distance between `x-date` and the sandbox clock, seconds; 0 = not checked.
    pub skew_secs: u64,
    /// Requests per resource per minute: GET, and each write method; 0 = off.
    pub get_limit: u32,
    pub write_limit: u32,
    /// Requests per minute in total (429.11); 0 = off.
    pub total_limit: u32,
    /// Faults injected from the start.
    pub faults: Faults,
}

impl Default for CcvConfig {
    fn default() -> Self {
        CcvConfig {
            sizes: CommerceSizes::default(),
            orders: 30,
            public_key: "ccv-sandbox-public".into(),
            secret: "ccv-sandbox-secret".into(),
            skew_secs: facts::DEFAULT_SKEW_SECS,
            get_limit: 150,
            write_limit: 100,
            total_limit: facts::DEFAULT_TOTAL_LIMIT,
            faults: Faults::default(),
        }
    }
}

/// Records of one resource: id → stored fields (links are added when rendered).
#[derive(Default)]
struct Table {
    rows: BTreeMap<u64, Obj>,
    next: u64,
}

impl Table {
    fn starting_at(first: u64) -> Table {
        Table {
            rows: BTreeMap::new(),
            next: first,
        }
    }

    fn insert(&mut self, mut rec: Obj) -> u64 {
        let id = self.next;
        self.next += 1;
        rec.insert("id".into(), Value::from(id));
        self.rows.insert(id, rec);
        id
    }
}

/// The shop's data.
struct Shop {
    orders: Table,
    orderrows: Table,
    products: Table,
    categories: Table,
    links: Table,
    users: Table,
    webhooks: Table,
    next_ordernumber: u64,
}

/// A fixed one-minute window of one limit key.
struct Window {
    start: chrono::DateTime<chrono::Utc>,
    count: u32,
}

struct Inner {
    public_key: String,
    secret: String,
    skew_secs: u64,
    get_limit: u32,
    write_limit: u32,
    total_limit: u32,
    shop: Mutex<Shop>,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    /// `http://127.0.0.1:PORT/api/rest/v1/{path}`.
    fn url(&self, path: &str) -> String {
        format!("{}{PREFIX}/{path}", self.common.root_url)
    }
}

/// Starts a CCV Shop sandbox seeded per `cfg`; `base_url` is `http://127.0.0.1:PORT/api/rest/v1`.
pub async fn start_ccv(cfg: &CcvConfig, addr: Option<SocketAddr>) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let shop = seed::shop(cfg);
    let inner = Arc::new(Inner {
        public_key: cfg.public_key.clone(),
        secret: cfg.secret.clone(),
        skew_secs: cfg.skew_secs,
        get_limit: cfg.get_limit,
        write_limit: cfg.write_limit,
        total_limit: cfg.total_limit,
        shop: Mutex::new(shop),
        windows: Mutex::new(HashMap::new()),
    });
    let common = Arc::new(
        Common::new(
            root.clone(),
            Slash::Never,
            api::FAULT_REPLIES,
            cfg.faults.clone(),
        )
        .with_ext(control::Ext(inner.clone())),
    );
    let app = App {
        common: common.clone(),
        inner,
    };
    let vendor = router(app.clone());
    serve_wrapped(listener, root, PREFIX, common, vendor, move |r| {
        r.layer(middleware::from_fn_with_state(app, api::sign_responses))
    })
}

/// The registry's entry: the default seeded shop.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "ccv",
    about: "CCV Shop (NL web shop): orders, order rows, products, categories, users, webhooks (HMAC-signed REST)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = CcvConfig::default();
        let sandbox = start_ccv(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", sandbox.base_url.clone()),
            ("public_key", cfg.public_key),
            ("secret", cfg.secret),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}

fn router(app: App) -> Router {
    use axum::routing::{delete, patch, put};
    let routes: Vec<(&str, MethodRouter<App>)> = vec![
        ("", get(api::root)),
        ("/orders", get(orders::list).post(orders::create)),
        ("/orders/{id}", get(orders::detail).patch(orders::update)),
        (
            "/orders/{id}/orderrows",
            get(orders::rows_of)
                .post(orders::add_row)
                .merge(put(orders::replace_rows)),
        ),
        (
            "/orderrows/{id}",
            get(orders::row_detail)
                .patch(orders::row_update)
                .merge(delete(orders::row_delete)),
        ),
        (
            "/products",
            get(catalog::product_list).post(catalog::product_create),
        ),
        (
            "/products/{id}",
            get(catalog::product_detail)
                .patch(catalog::product_update)
                .merge(delete(catalog::product_delete)),
        ),
        (
            "/categories",
            get(catalog::category_list).post(catalog::category_create),
        ),
        (
            "/categories/{id}",
            get(catalog::category_detail)
                .patch(catalog::category_update)
                .merge(delete(catalog::category_delete)),
        ),
        (
            "/categories/{id}/categories",
            get(catalog::category_children),
        ),
        ("/categories/{id}/products", get(catalog::category_products)),
        (
            "/producttocategories",
            get(catalog::link_list).post(catalog::link_create),
        ),
        (
            "/producttocategories/{id}",
            get(catalog::link_detail).merge(delete(catalog::link_delete)),
        ),
        ("/users", get(users::list).post(users::create)),
        (
            "/users/{id}",
            get(users::detail)
                .patch(users::update)
                .merge(delete(users::remove)),
        ),
        ("/webhooks", get(webhooks::list).post(webhooks::create)),
        (
            "/webhooks/{id}",
            get(webhooks::detail)
                .merge(patch(webhooks::update))
                .merge(delete(webhooks::remove)),
        ),
    ];
    let mut r = Router::new();
    for (path, mr) in routes {
        // [C] Clients send paths with and without a trailing slash.
        let full = format!("{PREFIX}{path}");
        r = r.route(&full, mr.clone()).route(&format!("{full}/"), mr);
    }
    r.method_not_allowed_fallback(api::method_not_allowed)
        .fallback(api::not_found)
        .layer(middleware::from_fn_with_state(app.clone(), api::guard))
        .with_state(app)
}
