//! RO App (ex-Remonline) sandbox: both API generations of one account, faithful to
//! `shared/spec/vendor-apis/shops-accounting.md` §(e) and "What a faithful sandbox must
//! reproduce". The page has no readable vendor docs: what it leaves open is in [`facts`],
//! marked [I].
//!
//! Legacy (`?token=` from `POST /token/new`, 50-item pages `{success, count, data}`, epoch-ms
//! times): `/clients/` (GET, POST), `/order/` (GET, POST), `/order/types/`, `/statuses/`,
//! `/warehouse/`, `/warehouse/goods/{id}`, `/warehouse/categories/`.
//! v2 (`Authorization: Bearer <api key>`, `{paging, data}`): `/v2/contacts/people` and
//! `/organizations` (GET, POST, `{id}`), `/v2/orders` (GET, POST), `/v2/orders/{id}` (GET,
//! PATCH), `/v2/orders/statuses`, `/v2/orders/types`, `/v2/orders/{id}/items` (GET, POST;
//! `{item}` PATCH, DELETE), `/v2/orders/{id}/write-off`, `/v2/orders/{id}/comments` (GET,
//! POST), `/v2/orders/{id}/events`, `/v2/catalog/products` (GET, POST, `{id}`),
//! `/v2/catalog/products/categories` (GET, POST), `/v2/company`. Array filters repeat the
//! key (`phones[]=…`); phones match by digits. A configurable 3–8 calls a second per key,
//! then 429.
//!
//! Files: [`api`] (auth, limit, envelopes, parameters), [`model`], [`seed`], [`clients`],
//! [`orders`] (orders, items, write-off, comments, events), [`catalog`], [`owner`] (the
//! [`RoAppSandbox`] handle: what an employee does in the RO App UI).

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod api;
mod catalog;
mod clients;
mod facts;
mod model;
mod orders;
mod owner;
mod seed;

pub use owner::RoAppSandbox;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, patch, post};
use axum::Router;
use chrono::TimeDelta;
use rand::Rng;
use serde_json::json;

use crate::kit::http::{json, qget};
use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{lock, Common, Faults};
use crate::registry::{StartFuture, Started, VendorSandbox};
use api::Gen;

/// Knobs of one RO App sandbox (one account).
#[derive(Clone, Debug)]
pub struct RoAppConfig {
    /// Seed of the generated records.
    pub seed: u64,
    /// Clients (at least the 5 of the cast).
    pub clients: usize,
    /// Catalogue products (at least the 5 of the cast).
    pub products: usize,
    /// Repair orders already in the account.
    pub orders: usize,
    /// The API key: `api_key` of `/token/new` and the v2 Bearer token.
    pub api_key: String,
    /// How long a legacy token lives on the sandbox clock (clients refresh every ~23 h).
    pub token_ttl: Duration,
    /// Calls a second per key before a 429 (3 for the current API, 8 in older docs); 0 = off.
    pub rate_limit: u32,
    /// The account's currency (ROA-2).
    pub currency: String,
    pub faults: Faults,
}

impl Default for RoAppConfig {
    fn default() -> Self {
        RoAppConfig {
            seed: 42,
            clients: 30,
            products: 20,
            orders: 20,
            api_key: "roapp_sandbox_api_key_0123456789abcdef".into(),
            token_ttl: Duration::from_secs(24 * 3600),
            rate_limit: 3,
            currency: "EUR".into(),
            faults: Faults::default(),
        }
    }
}

pub(crate) struct Inner {
    cfg: RoAppConfig,
    account: Mutex<model::Account>,
    tokens: Mutex<api::Tokens>,
    window: Mutex<api::Window>,
}

#[derive(Clone)]
pub(crate) struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    fn account(&self) -> std::sync::MutexGuard<'_, model::Account> {
        lock(&self.inner.account)
    }
}

type Q = Query<Vec<(String, String)>>;

/// Starts an RO App sandbox for `cfg`; `base_url` is the server root (legacy paths there,
/// v2 under `/v2`).
pub async fn start_roapp(cfg: &RoAppConfig, addr: Option<SocketAddr>) -> io::Result<RoAppSandbox> {
    let (listener, root) = bind(addr)?;
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Always,
        api::FAULT_REPLIES,
        cfg.faults.clone(),
    ));
    let mut account = model::Account::default();
    seed::generate(&mut account, cfg, common.now());
    let app = App {
        common: common.clone(),
        inner: Arc::new(Inner {
            cfg: cfg.clone(),
            account: Mutex::new(account),
            tokens: Mutex::new(Vec::new()),
            window: Mutex::new(Default::default()),
        }),
    };
    let mut legacy = Router::new();
    let legacy_routes: Vec<(&str, axum::routing::MethodRouter<App>)> = vec![
        (
            "/clients/",
            get(clients::legacy_list).post(clients::legacy_create),
        ),
        (
            "/order/",
            get(orders::legacy_list).post(orders::legacy_create),
        ),
        (
            "/order/types/",
            get(|State(a): State<App>| async move { orders::types(&a.account(), Gen::Legacy) }),
        ),
        (
            "/statuses/",
            get(|State(a): State<App>| async move { orders::statuses(&a.account(), Gen::Legacy) }),
        ),
        ("/warehouse/", get(catalog::warehouses)),
        ("/warehouse/goods/{id}", get(catalog::goods)),
        ("/warehouse/categories/", get(catalog::legacy_categories)),
    ];
    for (path, mr) in legacy_routes {
        // Canonical with a trailing slash [C]; accepted without one [I].
        legacy = legacy
            .route(path.trim_end_matches('/'), mr.clone())
            .route(&format!("{}/", path.trim_end_matches('/')), mr);
    }
    let v2 = Router::new()
        .route("/v2/company", get(company))
        .route(
            "/v2/contacts/people",
            get(clients::people).post(clients::create_person),
        )
        .route("/v2/contacts/people/{id}", get(clients::person))
        .route(
            "/v2/contacts/organizations",
            get(clients::organizations).post(clients::create_organization),
        )
        .route("/v2/contacts/organizations/{id}", get(clients::person))
        .route("/v2/orders", get(orders::list).post(orders::create))
        .route(
            "/v2/orders/statuses",
            get(|State(a): State<App>| async move { orders::statuses(&a.account(), Gen::V2) }),
        )
        .route(
            "/v2/orders/types",
            get(|State(a): State<App>| async move { orders::types(&a.account(), Gen::V2) }),
        )
        .route("/v2/orders/{id}", get(orders::get).patch(orders::update))
        .route(
            "/v2/orders/{id}/items",
            get(orders::items).post(orders::add_item),
        )
        .route(
            "/v2/orders/{id}/items/{item}",
            patch(orders::patch_item).delete(orders::delete_item),
        )
        .route("/v2/orders/{id}/write-off", post(orders::write_off_route))
        .route(
            "/v2/orders/{id}/comments",
            get(orders::comments).post(orders::add_comment),
        )
        .route("/v2/orders/{id}/events", get(orders::events))
        .route(
            "/v2/catalog/products",
            get(catalog::products).post(catalog::create_product),
        )
        .route(
            "/v2/catalog/products/categories",
            get(catalog::categories).post(catalog::create_category),
        )
        .route("/v2/catalog/products/{id}", get(catalog::product));
    let router = legacy
        .merge(v2)
        .route_layer(middleware::from_fn_with_state(app.clone(), guard))
        .route("/token/new", post(token_new))
        .fallback(|req: Request| async move {
            let gen = if req.uri().path().starts_with("/v2/") {
                Gen::V2
            } else {
                Gen::Legacy
            };
            api::err(gen, StatusCode::NOT_FOUND, "Not found")
        })
        .with_state(app.clone());
    let sandbox = serve(listener, root, "", common, router)?;
    Ok(RoAppSandbox { sandbox, app })
}

/// Auth and the rate limit before every route but `/token/new`.
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let gen = if req.uri().path().starts_with("/v2/") {
        Gen::V2
    } else {
        Gen::Legacy
    };
    let q: Vec<(String, String)> = Query::<Vec<(String, String)>>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    match api::admit(&app, gen, req.headers(), &q) {
        Ok(()) => next.run(req).await,
        Err(r) => r,
    }
}

/// `POST /token/new` with `api_key` (form, JSON or query) → `{"token", "success": true}`.
async fn token_new(
    State(app): State<App>,
    Query(q): Q,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = api::limit(&app, Gen::Legacy) {
        return r;
    }
    let pairs = api::body_pairs(&headers, &body);
    let key = qget(&pairs, "api_key")
        .or_else(|| qget(&q, "api_key"))
        .unwrap_or("");
    if key != app.inner.cfg.api_key {
        return api::legacy_err(StatusCode::UNAUTHORIZED, facts::LEGACY_BAD_KEY);
    }
    let token: String = {
        let mut rng = rand::thread_rng();
        (0..32)
            .map(|_| char::from(b"0123456789abcdef"[rng.gen_range(0..16)]))
            .collect()
    };
    let ttl = TimeDelta::from_std(app.inner.cfg.token_ttl).unwrap_or(TimeDelta::hours(24));
    let exp = app.common.now() + ttl;
    lock(&app.inner.tokens).push((token.clone(), exp));
    json(StatusCode::OK, json!({"token": token, "success": true}))
}

/// `GET /v2/company` [I]: the account's name, currency and time zone.
async fn company(State(app): State<App>) -> Response {
    json(
        StatusCode::OK,
        json!({"data": {"id": 1, "name": "Taller Puente Demo", "currency": app.inner.cfg.currency,
                        "timezone": "Europe/Madrid", "branches": [{"id": 1, "name": "Tienda Madrid"}]}}),
    )
}

/// The registry's entry: an account with the default seed (3 calls a second).
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "roapp",
    about: "RO App (ex-Remonline): clients, orders with items, write-off and comments, catalogue (legacy token and v2 Bearer APIs)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = RoAppConfig::default();
        let s = start_roapp(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", s.sandbox.base_url.clone()),
            ("api_key", cfg.api_key),
        ];
        Ok(Started {
            sandbox: s.sandbox,
            connection,
        })
    })
}
