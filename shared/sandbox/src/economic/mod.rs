//! Visma e-conomic sandbox: the legacy REST API (`https://restapi.e-conomic.com`, no version
//! segment) of one Danish agreement, faithful to `shared/spec/vendor-apis/shops-accounting.md`
//! §(b1) and the vendor's REST docs (`e-conomic/slate`).
//!
//! - Auth: `X-AppSecretToken` + `X-AgreementGrantToken`; `demo`/`demo` reads only (a write is
//!   403); a wrong token is 401. A 50,000-calls-a-day counter per agreement (429 past it).
//! - Collections: `skippages`/`pagesize` (20, at most 1000) with the full `pagination` object,
//!   `metaData` and `self` links; the `filter=` language ([`filter`]) with 400s naming
//!   `allowedFilteringFields`/`allowedFilteringOperators`; `sort=` with `-` and `~`.
//! - Documents: `false` booleans and nulls omitted from answers; `null` refused on write;
//!   annotated 400s (`errors` mirroring the request, `arrayIndex` on array items, `logId`).
//! - Resources: `customers` (+ `/contacts`), `products` (read-only `inventory`, `lastUpdated`
//!   bumped on each write, custom key encoding in self links), `orders/drafts|sent|archived`,
//!   `quotes/drafts|sent|archived`, `invoices/drafts`, `invoices/booked` (booking) and the
//!   `paid|unpaid|overdue|not-due` views, and the lookups `payment-terms`, `vat-zones`,
//!   `customer-groups`, `product-groups`, `layouts`, `units`, `currencies`.
//! - Legacy webhooks: URL templates per kind, one unsigned request per changed resource.
//!
//! Every [I] choice is in [`facts`]. [`api`] holds auth, errors and rendering, [`query`] the
//! collections (paging, filter, sort), [`validate`] the document checks; [`customers`],
//! [`products`], [`documents`] (orders, quotes), [`invoices`] and [`lookups`] the resources;
//! [`hooks`] the webhooks; [`seed`] the seeded agreement; [`control`] the test handle's view.

#![allow(clippy::result_large_err)]

mod api;
mod control;
mod customers;
mod documents;
mod facts;
mod filter;
mod hooks;
mod invoices;
mod lookups;
mod products;
mod query;
mod seed;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Router};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::commerce::CommerceSizes;
use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{Common, Faults, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};

pub use control::EconomicView;
pub use hooks::HookKind;

type Obj = Map<String, Value>;

/// Knobs of one e-conomic sandbox.
#[derive(Clone, Debug)]
pub struct EconomicConfig {
    /// Seed and sizes of the shared commerce data: the agreement holds the shared and the
    /// e-conomic-only customers and products.
    pub sizes: CommerceSizes,
    /// Booked invoices seeded (paid, unpaid and overdue).
    pub booked_invoices: usize,
    /// Accepted `X-AppSecretToken` (`demo` is always accepted, read-only).
    pub app_secret_token: String,
    /// Accepted `X-AgreementGrantToken`.
    pub agreement_grant_token: String,
    /// Calls per 24 hours per agreement; 0 = off.
    pub daily_limit: u64,
    /// Legacy webhook URL templates from the start (kind → URL with `[NEWNUMBER]` etc.).
    pub webhooks: Vec<(HookKind, String)>,
    pub faults: Faults,
}

impl Default for EconomicConfig {
    fn default() -> Self {
        EconomicConfig {
            sizes: CommerceSizes::default(),
            booked_invoices: 12,
            app_secret_token: "economic-sandbox-app-secret".into(),
            agreement_grant_token: "economic-sandbox-grant".into(),
            daily_limit: facts::DAILY_CALLS,
            webhooks: Vec::new(),
            faults: Faults::default(),
        }
    }
}

/// Where a sales document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    Drafts,
    Sent,
    Archived,
}

impl Stage {
    fn path(self) -> &'static str {
        match self {
            Stage::Drafts => "drafts",
            Stage::Sent => "sent",
            Stage::Archived => "archived",
        }
    }
}

/// The agreement's data.
struct Books {
    customers: BTreeMap<u64, Obj>,
    /// (customer number, contact number) → contact.
    contacts: BTreeMap<(u64, u64), Obj>,
    next_contact: u64,
    products: BTreeMap<String, Obj>,
    orders: BTreeMap<u64, (Stage, Obj)>,
    quotes: BTreeMap<u64, (Stage, Obj)>,
    drafts: BTreeMap<u64, Obj>,
    booked: BTreeMap<u64, Obj>,
    /// Lookup collections by path (`payment-terms`, …), in number order.
    lookups: BTreeMap<&'static str, Vec<Obj>>,
    /// Legacy webhook templates.
    hooks: BTreeMap<HookKind, String>,
}

/// One agreement's fixed 24-hour window.
struct Quota {
    start: DateTime<Utc>,
    used: u64,
}

struct Inner {
    app_secret_token: String,
    agreement_grant_token: String,
    daily_limit: u64,
    books: Mutex<Books>,
    quotas: Mutex<HashMap<&'static str, Quota>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.common.root_url)
    }
}

/// Starts an e-conomic sandbox seeded per `cfg`; `base_url` is the server root (as
/// `https://restapi.e-conomic.com`).
pub async fn start_economic(cfg: &EconomicConfig, addr: Option<SocketAddr>) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let books = seed::books(cfg);
    let inner = Arc::new(Inner {
        app_secret_token: cfg.app_secret_token.clone(),
        agreement_grant_token: cfg.agreement_grant_token.clone(),
        daily_limit: cfg.daily_limit,
        books: Mutex::new(books),
        quotas: Mutex::new(HashMap::new()),
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
    serve(listener, root, "", common, router(app))
}

/// The registry's entry: the default seeded agreement.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "economic",
    about: "Visma e-conomic (DK accounting, legacy REST): customers, products, orders, quotes, invoices",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = EconomicConfig::default();
        let sandbox = start_economic(&cfg, addr).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", sandbox.base_url.clone()),
            ("app_secret_token", cfg.app_secret_token),
            ("agreement_grant_token", cfg.agreement_grant_token),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}

fn router(app: App) -> Router {
    use axum::body::Bytes;
    use axum::extract::{Path, Query, State};
    use axum::routing::{delete, put};
    type S = State<App>;
    type Q = Query<Vec<(String, String)>>;
    type P = Path<String>;
    let mut routes: Vec<(String, MethodRouter<App>)> = vec![
        (
            "/customers".into(),
            get(customers::list).post(customers::create),
        ),
        (
            "/customers/{n}".into(),
            get(customers::detail)
                .merge(put(customers::replace))
                .merge(delete(customers::remove)),
        ),
        (
            "/customers/{n}/contacts".into(),
            get(customers::contacts).post(customers::contact_create),
        ),
        (
            "/customers/{n}/contacts/{c}".into(),
            get(customers::contact_detail)
                .merge(put(customers::contact_replace))
                .merge(delete(customers::contact_remove)),
        ),
        (
            "/products".into(),
            get(products::list).post(products::create),
        ),
        (
            "/products/{n}".into(),
            get(products::detail)
                .merge(put(products::replace))
                .merge(delete(products::remove)),
        ),
        (
            "/invoices/drafts".into(),
            get(invoices::invoice_drafts).post(invoices::invoice_draft_create),
        ),
        (
            "/invoices/drafts/{n}".into(),
            get(invoices::invoice_draft_detail)
                .merge(put(invoices::invoice_draft_replace))
                .merge(delete(invoices::invoice_draft_remove)),
        ),
        (
            "/invoices/booked".into(),
            get(invoices::booked_list).merge(post(invoices::book)),
        ),
        ("/invoices/booked/{n}".into(), get(invoices::booked_detail)),
    ];
    for view in ["paid", "unpaid", "overdue", "not-due"] {
        routes.push((
            format!("/invoices/{view}"),
            get(move |s: S, q: Q| invoices::booked_view(view, s, q)),
        ));
    }
    for kind in [documents::Kind::Order, documents::Kind::Quote] {
        let base = kind.path();
        routes.push((
            format!("/{base}/drafts"),
            get(move |s: S, q: Q| documents::list(kind, Stage::Drafts, s, q))
                .post(move |s: S, b: Bytes| documents::draft_create(kind, s, b)),
        ));
        routes.push((
            format!("/{base}/drafts/{{n}}"),
            get(move |s: S, p: P| documents::detail(kind, Stage::Drafts, s, p))
                .merge(put(move |s: S, p: P, b: Bytes| {
                    documents::draft_replace(kind, s, p, b)
                }))
                .merge(delete(move |s: S, p: P| {
                    documents::draft_remove(kind, s, p)
                })),
        ));
        routes.push((
            format!("/{base}/sent"),
            get(move |s: S, q: Q| documents::list(kind, Stage::Sent, s, q))
                .post(move |s: S, b: Bytes| documents::mark_sent(kind, s, b)),
        ));
        routes.push((
            format!("/{base}/sent/{{n}}"),
            get(move |s: S, p: P| documents::detail(kind, Stage::Sent, s, p)),
        ));
        if kind == documents::Kind::Order || facts::QUOTES_ARCHIVED {
            routes.push((
                format!("/{base}/archived"),
                get(move |s: S, q: Q| documents::list(kind, Stage::Archived, s, q)),
            ));
            routes.push((
                format!("/{base}/archived/{{n}}"),
                get(move |s: S, p: P| documents::detail(kind, Stage::Archived, s, p)),
            ));
        }
    }
    for l in lookups::LOOKUPS {
        routes.push((
            format!("/{}", l.path),
            get(move |s: S, q: Q| lookups::list(l, s, q)),
        ));
        routes.push((
            format!("/{}/{{n}}", l.path),
            get(move |s: S, p: P| lookups::detail(l, s, p)),
        ));
    }
    let mut r = Router::new();
    for (path, mr) in routes {
        r = r.route(&path, mr);
    }
    r.method_not_allowed_fallback(api::method_not_allowed)
        .fallback(api::not_found)
        .layer(middleware::from_fn_with_state(app.clone(), api::guard))
        .with_state(app)
}
