//! Visma eAccounting (eEkonomi / Spiris) sandbox: the v2 REST API of one Swedish company and
//! its OAuth2 identity server on the same port, faithful to
//! `shared/spec/vendor-apis/shops-accounting.md` §(b2).
//!
//! - OAuth2: `GET /connect/authorize` (auto-consent, redirects with a `code`), `POST
//!   /connect/token` with HTTP Basic client auth for `authorization_code` and `refresh_token`
//!   (refresh tokens rotate); 1-hour bearer tokens on the sandbox clock; 401 for a missing or
//!   expired token, 403 for a missing scope.
//! - API under `/v2`: the `{Meta, Data}` envelope with `$page`/`$pagesize`; OData `$filter`
//!   on `ChangedUtc`/`ModifiedUtc` and `eq` on a few text properties ([`odata`]) and
//!   `$orderby`; GUID ids; `customers`, `articles` (stock fields), `orders` (`Status` 1–4,
//!   `convert`), `quotes`, `customerinvoicedrafts` (`convert` to an invoice),
//!   `customerinvoices`, `termsofpayment(s)`, `units`.
//! - 600 requests a minute per endpoint, 429 with `{"ErrorCode":4010,…}`; no webhooks.
//!
//! Every [I] choice is in [`facts`]. [`auth`] is the identity server and the bearer check,
//! [`api`] the shared answers (errors, limits, envelope, bodies); the resources are in
//! [`customers`], [`articles`], [`sales`] (orders, drafts, invoices); [`seed`] builds the
//! company, [`control`] is the test handle's view.

#![allow(clippy::result_large_err)]

mod api;
mod articles;
mod auth;
mod control;
mod customers;
mod facts;
mod odata;
mod sales;
mod seed;

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Router};
use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use serde_json::{Map, Value};

use crate::commerce::CommerceSizes;
use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{Common, Faults, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};

pub use control::EAccountingView;

type Obj = Map<String, Value>;

/// Knobs of one eAccounting sandbox.
#[derive(Clone, Debug)]
pub struct EAccountingConfig {
    /// Seed and sizes of the shared commerce data: the company holds the shared and the
    /// eAccounting-only customers and articles.
    pub sizes: CommerceSizes,
    /// Orders seeded (every `Status`).
    pub orders: usize,
    /// Customer invoices seeded.
    pub invoices: usize,
    pub client_id: String,
    pub client_secret: String,
    /// The redirect URI registered for the client.
    pub redirect_uri: String,
    /// A refresh token granted before the sandbox started (what a connection's config holds),
    /// with `scopes`; it rotates like any other.
    pub refresh_token: String,
    pub scopes: Vec<String>,
    /// Access-token lifetime in seconds.
    pub token_secs: i64,
    /// Requests per minute per endpoint; 0 = off.
    pub rate_limit: u32,
    pub faults: Faults,
}

impl Default for EAccountingConfig {
    fn default() -> Self {
        EAccountingConfig {
            sizes: CommerceSizes::default(),
            orders: 12,
            invoices: 8,
            client_id: "eaccounting-sandbox-client".into(),
            client_secret: "eaccounting-sandbox-secret".into(),
            redirect_uri: "http://127.0.0.1/callback".into(),
            refresh_token: "eaccounting-sandbox-refresh-0".into(),
            scopes: ["ea:api", "offline_access", "ea:sales"]
                .map(String::from)
                .to_vec(),
            token_secs: facts::ACCESS_TOKEN_SECS,
            rate_limit: facts::RATE_LIMIT,
            faults: Faults::default(),
        }
    }
}

/// The company's data; every collection in creation order.
struct Company {
    customers: Vec<Obj>,
    articles: Vec<Obj>,
    orders: Vec<Obj>,
    quotes: Vec<Obj>,
    drafts: Vec<Obj>,
    invoices: Vec<Obj>,
    terms: Vec<Obj>,
    units: Vec<Obj>,
    next_customer: u64,
    next_order: u64,
    next_quote: u64,
    next_invoice: u64,
    /// Draws the GUIDs of new records (seeded: a run is reproducible).
    rng: StdRng,
}

impl Company {
    fn guid(&mut self) -> String {
        uuid::Builder::from_random_bytes(self.rng.gen())
            .into_uuid()
            .to_string()
    }
}

/// An access token.
struct Access {
    expires: DateTime<Utc>,
    scopes: Vec<String>,
}

/// Tokens and codes the identity server issued.
#[derive(Default)]
struct Tokens {
    access: HashMap<String, Access>,
    /// Refresh token → scopes; removed when used (rotation).
    refresh: HashMap<String, Vec<String>>,
    /// Code → (expiry, redirect URI, scopes).
    codes: HashMap<String, (DateTime<Utc>, String, Vec<String>)>,
}

/// A fixed one-minute window of one endpoint.
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

struct Inner {
    client_id: String,
    client_secret: String,
    redirect_uri: String,
    token_secs: i64,
    rate_limit: u32,
    company: Mutex<Company>,
    tokens: Mutex<Tokens>,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Starts an eAccounting sandbox seeded per `cfg`; `base_url` is `http://127.0.0.1:PORT/v2`
/// and the identity server is at the root (`/connect/token`).
pub async fn start_eaccounting(
    cfg: &EAccountingConfig,
    addr: Option<SocketAddr>,
) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let mut tokens = Tokens::default();
    tokens
        .refresh
        .insert(cfg.refresh_token.clone(), cfg.scopes.clone());
    let inner = Arc::new(Inner {
        client_id: cfg.client_id.clone(),
        client_secret: cfg.client_secret.clone(),
        redirect_uri: cfg.redirect_uri.clone(),
        token_secs: cfg.token_secs,
        rate_limit: cfg.rate_limit,
        company: Mutex::new(seed::company(cfg)),
        tokens: Mutex::new(tokens),
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
    serve(listener, root, "/v2", common, router(app))
}

/// The registry's entry: the default seeded company.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "eaccounting",
    about:
        "Visma eAccounting (SE accounting, OAuth2 REST v2): customers, articles, orders, invoices",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = EAccountingConfig::default();
        let sandbox = start_eaccounting(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", sandbox.base_url.clone()),
            ("token_url", format!("{}/connect/token", sandbox.root_url)),
            ("client_id", cfg.client_id),
            ("client_secret", cfg.client_secret),
            ("refresh_token", cfg.refresh_token),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}

fn router(app: App) -> Router {
    use axum::routing::{delete, put};
    let api: Vec<(&str, MethodRouter<App>)> = vec![
        (
            "/v2/customers",
            get(customers::list).post(customers::create),
        ),
        (
            "/v2/customers/{id}",
            get(customers::detail)
                .merge(put(customers::replace))
                .merge(delete(customers::remove)),
        ),
        ("/v2/articles", get(articles::list).post(articles::create)),
        (
            "/v2/articles/{id}",
            get(articles::detail).merge(put(articles::replace)),
        ),
        ("/v2/orders", get(sales::orders).post(sales::order_create)),
        (
            "/v2/orders/{id}",
            get(sales::order_detail)
                .merge(put(sales::order_replace))
                .merge(delete(sales::order_remove)),
        ),
        ("/v2/orders/{id}/convert", post(sales::order_convert)),
        ("/v2/quotes", get(sales::quotes).post(sales::quote_create)),
        ("/v2/quotes/{id}", get(sales::quote_detail)),
        (
            "/v2/customerinvoicedrafts",
            get(sales::drafts).post(sales::draft_create),
        ),
        (
            "/v2/customerinvoicedrafts/{id}",
            get(sales::draft_detail)
                .merge(put(sales::draft_replace))
                .merge(delete(sales::draft_remove)),
        ),
        (
            "/v2/customerinvoicedrafts/{id}/convert",
            post(sales::draft_convert),
        ),
        (
            "/v2/customerinvoices",
            get(sales::invoices).post(sales::invoice_create),
        ),
        ("/v2/customerinvoices/{id}", get(sales::invoice_detail)),
        ("/v2/termsofpayment", get(sales::terms)),
        // [C swagger] The 2018 swagger's path; the page's is the singular above.
        ("/v2/termsofpayments", get(sales::terms)),
        ("/v2/units", get(sales::units)),
    ];
    let mut r = Router::new();
    for (path, mr) in api {
        r = r.route(path, mr);
    }
    let r = r
        .method_not_allowed_fallback(api::method_not_allowed)
        .fallback(api::not_found)
        .layer(middleware::from_fn_with_state(app.clone(), auth::bearer));
    Router::new()
        .route("/connect/authorize", get(auth::authorize))
        .route("/connect/token", post(auth::token))
        .merge(r)
        .with_state(app)
}
