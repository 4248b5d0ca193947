//! Alegra sandbox: the `/api/v1` resources of a PHP-style API (contacts, items, estimates,
//! taxes, webhook subscriptions).
//!
//! Facts modelled come from `shared/spec/vendor-apis/clientify-alegra.md`
//! §2 and §3; each handler cites its section and the page's confidence tag
//! ([D] vendor docs, [C] client code, [I] inferred).
//!
//! The store and the router are here; [`api`] has the conventions every route shares (error
//! bodies, Basic auth, the rate limit), [`contacts`], [`catalog`] and [`webhooks`] the
//! resources.

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod api;
mod catalog;
mod contacts;
mod identification;
mod webhooks;

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::middleware;
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::TimeDelta;
use serde_json::{json, Map, Value};

use crate::kit::clock::{fmt_seconds, parse_iso};
use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{Common, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};
use crate::{SandboxConfig, World};

use api::{guard, method_not_allowed, unknown_route, Window};
use catalog::{cat_create, cat_detail, cat_list, cat_update, seed_item, taxes, Catalog, Res};
use contacts::{create, destroy, detail, list, update, write_contact};
use webhooks::{create_sub, delete_sub, list_subs};

pub(crate) use contacts::id_type;

type Obj = Map<String, Value>;
type Q = Query<Vec<(String, String)>>;

/// Page size cap [C: A5, A6, A7, A9 `LIMIT=30`].
const MAX_LIMIT: usize = 30;

struct Data {
    rows: BTreeMap<u64, Obj>,
    next_id: u64,
    /// Webhook subscriptions (§2.4): id → `{id, event, url}`.
    subs: BTreeMap<u64, Obj>,
    next_sub: u64,
    /// Consecutive failed deliveries per subscription: at 10 it is deleted [D: A11].
    failures: BTreeMap<u64, u32>,
}

struct Inner {
    email: String,
    token: String,
    limit: u32,
    window: TimeDelta,
    data: Mutex<Data>,
    /// Items, estimates and taxes (ALG-7, ALG-8). Locked after `data` when both are held.
    catalog: Mutex<Catalog>,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Starts an Alegra sandbox seeded with the given contacts.
pub async fn start_alegra(
    cfg: &SandboxConfig,
    addr: Option<SocketAddr>,
    contacts: Vec<Value>,
) -> io::Result<Sandbox> {
    start_alegra_seeded(cfg, addr, contacts, Vec::new()).await
}

/// [`start_alegra`] with items too (`{name, reference, description, price, tax: [id]}`);
/// taxes IVA 21 % (id 1), 10 % (2) and 4 % (3) always exist.
pub async fn start_alegra_seeded(
    cfg: &SandboxConfig,
    addr: Option<SocketAddr>,
    contacts: Vec<Value>,
    items: Vec<Value>,
) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Never,
        api::FAULT_REPLIES,
        cfg.faults.clone(),
    ));
    let vendor = router(common.clone(), cfg, contacts, items)?;
    serve(listener, root, "/api/v1", common, vendor)
}

/// The registry's entry: Alegra seeded with the default world's Alegra side.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "alegra",
    about: "Alegra invoicing: contacts, items, estimates, taxes, webhooks (PHP-style REST API)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = SandboxConfig::default();
        let world = World::generate(&cfg);
        let sandbox =
            start_alegra_seeded(&cfg, addr, world.alegra_contacts, world.alegra_items).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", sandbox.base_url.clone()),
            ("email", cfg.alegra_email),
            ("token", cfg.alegra_token),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}

/// Builds the Alegra router seeded with `contacts` and `items`.
fn router(
    common: Arc<Common>,
    cfg: &SandboxConfig,
    contacts: Vec<Value>,
    items: Vec<Value>,
) -> io::Result<Router> {
    let mut catalog = Catalog::new();
    for v in items {
        seed_item(&mut catalog, v).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let mut data = Data {
        rows: BTreeMap::new(),
        next_id: 1,
        subs: BTreeMap::new(),
        next_sub: 1,
        failures: BTreeMap::new(),
    };
    for v in contacts {
        seed(&mut data, &common, v).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let window = TimeDelta::from_std(cfg.alegra_rate_window.max(Duration::from_millis(1)))
        .unwrap_or(TimeDelta::seconds(60));
    let app = App {
        common,
        inner: Arc::new(Inner {
            email: cfg.alegra_email.clone(),
            token: cfg.alegra_token.clone(),
            limit: cfg.alegra_rate_limit,
            window,
            data: Mutex::new(data),
            catalog: Mutex::new(catalog),
            windows: Mutex::new(HashMap::new()),
        }),
    };
    let mut r = Router::new();
    let routes: Vec<(&str, MethodRouter<App>)> = vec![
        ("/api/v1/contacts", get(list).post(create)),
        (
            "/api/v1/contacts/{id}",
            get(detail).put(update).delete(destroy),
        ),
        (
            "/api/v1/webhooks/subscriptions",
            get(list_subs).post(create_sub),
        ),
        (
            "/api/v1/webhooks/subscriptions/{id}",
            axum::routing::delete(delete_sub),
        ),
        ("/api/v1/taxes", get(taxes)),
    ];
    let mut routes = routes;
    for (base, res) in [
        ("/api/v1/items", Res::Items),
        ("/api/v1/estimates", Res::Estimates),
    ] {
        routes.push((
            base,
            get(move |st: State<App>, q: Q| cat_list(res, st, q))
                .post(move |st: State<App>, b: Bytes| cat_create(res, st, b)),
        ));
        let one = if res == Res::Items {
            "/api/v1/items/{id}"
        } else {
            "/api/v1/estimates/{id}"
        };
        routes.push((
            one,
            get(move |st: State<App>, p: Path<String>| cat_detail(res, st, p))
                .put(move |st: State<App>, p: Path<String>, b: Bytes| cat_update(res, st, p, b)),
        ));
    }
    for (path, mr) in routes {
        // Canonical paths have no trailing slash [C: §2.1]; accept one [I].
        r = r.route(path, mr.clone()).route(&format!("{path}/"), mr);
    }
    // Other methods / unknown paths: the `{"message","code"}` error shape
    // [C: A5 errors.go], still behind auth and the rate limit, whose headers
    // are on every response [D: A1].
    Ok(r.method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app))
}

fn seed(data: &mut Data, common: &Common, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err("alegra seed contact: not an object".into());
    };
    let mut rec = write_contact(None, &body).map_err(|e| format!("alegra seed contact: {e}"))?;
    let id = match body.get("id") {
        Some(Value::String(x)) => x.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
    .unwrap_or(data.next_id);
    data.next_id = data.next_id.max(id + 1);
    let ts = |key: &str| body.get(key).and_then(Value::as_str).and_then(parse_iso);
    let created = ts("created_at").unwrap_or_else(|| common.now());
    let updated = ts("updated_at").unwrap_or(created);
    rec.insert("id".into(), json!(id.to_string()));
    rec.insert("created_at".into(), json!(fmt_seconds(created)));
    rec.insert("updated_at".into(), json!(fmt_seconds(updated)));
    data.rows.insert(id, rec);
    Ok(())
}
