//! Clientify v1 sandbox: a Django REST Framework style API under `/v1`.
//!
//! Facts modelled come from `shared/spec/vendor-apis/clientify-alegra.md`
//! §1 and §3; each handler cites its section and the page's confidence tag
//! ([D] vendor docs, [C] client code, [I] inferred).
//!
//! The store and the router are here; [`drf`] has the framework's conventions (error
//! bodies, field parsing, token auth, throttling), [`query`] reading (rendering, paging,
//! filters, ordering), [`records`] and [`catalog`] the writes, [`handlers`], [`tags`] and
//! [`custom_fields`] the routes, [`webhooks`] the deliveries after a write.

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

mod auth;
mod catalog;
mod custom_fields;
mod drf;
mod handlers;
mod query;
mod records;
mod tags;
mod webhooks;

pub use webhooks::WebhookShape;

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::middleware;
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::kit::clock::{fmt_micros, parse_iso};
use crate::kit::http::s;
use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{Common, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};
use crate::{SandboxConfig, World};

pub use auth::{SANDBOX_PASSWORD, SANDBOX_USERNAME};
use custom_fields::{create_def, get_def, list_defs, FieldDef};
use drf::{django_not_found, guard, method_not_allowed};
use handlers::{create, destroy, detail, list, update};
use records::write_record;
use tags::{add_tag, list_tags, remove_tag};
use webhooks::Hooks;

type Obj = Map<String, Value>;
type Q = axum::extract::Query<Vec<(String, String)>>;

/// First id handed to a contact / company in an empty table.
pub(crate) const FIRST_CONTACT_ID: u64 = 1001;
pub(crate) const FIRST_COMPANY_ID: u64 = 101;
/// First id handed to a product / order in an empty table.
pub(crate) const FIRST_PRODUCT_ID: u64 = 501;
pub(crate) const FIRST_ORDER_ID: u64 = 9001;
pub(crate) const FIRST_BUDGET_ID: u64 = 7001;
/// Owner written on records created through the API.
pub(crate) const OWNER: &str = "comercial@puente.local";

/// Contact status slugs [C: C4].
pub(crate) const STATUSES: [&str; 10] = [
    "visitor",
    "not-qualified-lead",
    "cold-lead",
    "warm-lead",
    "hot-lead",
    "lost-lead",
    "in-deal",
    "client",
    "lost-client",
    "other",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Contact = 0,
    Company = 1,
    /// `/v1/products/` [C: C7]: `sku`, `name`, `description`, `price`.
    Product = 2,
    /// `/v1/orders/` [C: C1 GET/POST]; payload not documented, modelled on ODO-4/ODO-5 [I].
    Order = 3,
    /// `/v1/budgets/`: no endpoint was found (§1.3); modelled DRF-style for ALG-8 [I]:
    /// `code`, `contact` / `company` (id on write, nested `{id, name,
    /// taxpayer_identification_number}` on read), `date`, `due_date`, `observations`,
    /// `total`, `lines: [{product, sku, name, quantity, price, discount, taxes}]`.
    Budget = 4,
}

impl Kind {
    fn from_segment(s: &str) -> Option<Kind> {
        match s {
            "contacts" => Some(Kind::Contact),
            "companies" => Some(Kind::Company),
            "products" => Some(Kind::Product),
            "orders" => Some(Kind::Order),
            "budgets" => Some(Kind::Budget),
            _ => None,
        }
    }
    fn segment(self) -> &'static str {
        match self {
            Kind::Contact => "contacts",
            Kind::Company => "companies",
            Kind::Product => "products",
            Kind::Order => "orders",
            Kind::Budget => "budgets",
        }
    }
    fn object_type(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
            Kind::Product => "product",
            Kind::Order => "order",
            Kind::Budget => "budget",
        }
    }
    fn from_object_type(s: &str) -> Option<Kind> {
        match s {
            "contact" => Some(Kind::Contact),
            "company" => Some(Kind::Company),
            _ => None,
        }
    }
}

struct Table {
    rows: std::collections::BTreeMap<u64, Obj>,
    next_id: u64,
    /// Tag name → tag id (tags are per object type, `/contacts/tags/`).
    tags: std::collections::BTreeMap<String, u64>,
}

struct Data {
    tables: [Table; 5],
    /// Ids of emails, phones and addresses.
    next_sub: u64,
    next_tag: u64,
    defs: Vec<FieldDef>,
    next_def: u64,
}

impl Data {
    fn new() -> Data {
        let t = |next_id| Table {
            rows: Default::default(),
            next_id,
            tags: Default::default(),
        };
        Data {
            tables: [
                t(FIRST_CONTACT_ID),
                t(FIRST_COMPANY_ID),
                t(FIRST_PRODUCT_ID),
                t(FIRST_ORDER_ID),
                t(FIRST_BUDGET_ID),
            ],
            next_sub: 1,
            next_tag: 1,
            defs: Vec::new(),
            next_def: 1,
        }
    }
    fn table(&mut self, k: Kind) -> &mut Table {
        &mut self.tables[k as usize]
    }
    fn define(&mut self, name: &str, kind: Kind, field_type: &str) -> &FieldDef {
        let id = self.next_def;
        self.next_def += 1;
        self.defs.push(FieldDef {
            id,
            name: name.to_string(),
            kind,
            field_type: field_type.to_string(),
        });
        self.defs.last().expect("just pushed")
    }
    fn defined(&self, name: &str, kind: Kind) -> bool {
        self.defs.iter().any(|d| d.kind == kind && d.name == name)
    }
    fn tag_id(&mut self, kind: Kind, name: &str) -> u64 {
        if let Some(id) = self.tables[kind as usize].tags.get(name) {
            return *id;
        }
        let id = self.next_tag;
        self.next_tag += 1;
        self.table(kind).tags.insert(name.to_string(), id);
        id
    }
}

struct Inner {
    token: String,
    limit: u32,
    data: Mutex<Data>,
    /// DRF `SimpleRateThrottle` history per token.
    throttle: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Records a Clientify sandbox starts with (partial records are completed;
/// ids and timestamps kept when present).
#[derive(Clone, Debug, Default)]
pub struct ClientifySeed {
    pub contacts: Vec<Value>,
    pub companies: Vec<Value>,
    /// `{sku, name, price, description}`.
    pub products: Vec<Value>,
    /// `{order_id, ecommerce, status, order_date, currency, items: [{name, sku, price, quantity}]}`.
    pub orders: Vec<Value>,
}

/// Starts a Clientify sandbox seeded with the given records (partial
/// records are completed; ids and timestamps kept when present).
pub async fn start_clientify(
    cfg: &SandboxConfig,
    addr: Option<SocketAddr>,
    contacts: Vec<Value>,
    companies: Vec<Value>,
) -> io::Result<Sandbox> {
    start_clientify_seeded(
        cfg,
        addr,
        ClientifySeed {
            contacts,
            companies,
            ..ClientifySeed::default()
        },
    )
    .await
}

/// [`start_clientify`] with products and orders too.
pub async fn start_clientify_seeded(
    cfg: &SandboxConfig,
    addr: Option<SocketAddr>,
    seed: ClientifySeed,
) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let hooks = Hooks(Mutex::new((
        cfg.clientify_webhook_target.clone(),
        cfg.clientify_webhook_shape,
    )));
    let common = Arc::new(
        Common::new(
            root.clone(),
            Slash::Always,
            drf::FAULT_REPLIES,
            cfg.faults.clone(),
        )
        .with_ext(hooks),
    );
    let vendor = router(common.clone(), cfg, seed)?;
    serve(listener, root, "/v1", common, vendor)
}

/// The registry's entry: Clientify seeded with the default world's Clientify side.
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "clientify",
    about: "Clientify CRM: contacts, companies, products, orders, budgets (DRF REST API)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = SandboxConfig::default();
        let world = World::generate(&cfg);
        let seed = ClientifySeed {
            contacts: world.clientify_contacts,
            companies: world.clientify_companies,
            products: world.clientify_products,
            ..ClientifySeed::default()
        };
        let sandbox = start_clientify_seeded(&cfg, addr, seed).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("base_url", sandbox.base_url.clone()),
            ("api_key", cfg.clientify_token),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}

/// Builds the Clientify router seeded with `contacts` and `companies`.
/// Custom fields used by the seeds are defined (text) alongside the
/// standard `source_campaign` contact field.
fn router(
    common: Arc<Common>,
    cfg: &SandboxConfig,
    seed_data: ClientifySeed,
) -> io::Result<Router> {
    let mut data = Data::new();
    data.define("source_campaign", Kind::Contact, "text");
    let ClientifySeed {
        contacts,
        companies,
        products,
        orders,
    } = seed_data;
    for (kind, list) in [
        (Kind::Contact, contacts),
        (Kind::Company, companies),
        (Kind::Product, products),
        (Kind::Order, orders),
    ] {
        for v in list {
            seed(&mut data, &common, kind, v)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
    }
    let app = App {
        common,
        inner: Arc::new(Inner {
            token: cfg.clientify_token.clone(),
            limit: cfg.clientify_rate_limit,
            data: Mutex::new(data),
            throttle: Mutex::new(HashMap::new()),
        }),
    };

    let mut r = Router::new();
    let routes: Vec<(&str, MethodRouter<App>)> = vec![
        ("/v1/custom-fields", get(list_defs).post(create_def)),
        ("/v1/custom-fields/{id}", get(get_def)),
        ("/v1/{kind}", get(list).post(create)),
        ("/v1/{kind}/{id}", get(detail).put(update).delete(destroy)),
        ("/v1/{kind}/{id}/tags", get(list_tags).post(add_tag)),
        (
            "/v1/{kind}/{id}/tags/{tag}",
            axum::routing::delete(remove_tag),
        ),
    ];
    for (path, mr) in routes {
        // DRF paths end in '/'; some clients omit it [C: C6] → accept both [I].
        r = r.route(path, mr.clone()).route(&format!("{path}/"), mr);
    }
    Ok(r.method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(app.clone(), guard))
        // Without a token: it is how a client gets one.
        .route(
            "/v1/api-auth/obtain_token/",
            axum::routing::post(auth::obtain_token),
        )
        .fallback(django_not_found)
        .with_state(app))
}

/// Normalises one seed record into the store (ids and timestamps kept when
/// given, otherwise assigned).
fn seed(data: &mut Data, common: &Common, kind: Kind, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err(format!("clientify seed {}: not an object", kind.segment()));
    };
    if let Some(Value::Array(cfs)) = body.get("custom_fields") {
        for cf in cfs {
            let name = s(cf.get("field"));
            if !name.is_empty() && !data.defined(name, kind) {
                data.define(name, kind, "text");
            }
        }
    }
    let mut rec = write_record(data, kind, None, &body, true)
        .map_err(|e| format!("clientify seed {}: {}", kind.segment(), Value::Object(e)))?;
    let table = data.table(kind);
    let id = body
        .get("id")
        .and_then(Value::as_u64)
        .unwrap_or(table.next_id);
    table.next_id = table.next_id.max(id + 1);
    let created = body
        .get("created")
        .and_then(Value::as_str)
        .and_then(parse_iso)
        .unwrap_or_else(|| common.stamp());
    let modified = body
        .get("modified")
        .and_then(Value::as_str)
        .and_then(parse_iso)
        .unwrap_or(created);
    common.observe(created.max(modified));
    rec.insert("id".into(), json!(id));
    rec.insert("created".into(), json!(fmt_micros(created)));
    rec.insert("modified".into(), json!(fmt_micros(modified)));
    table.rows.insert(id, rec);
    Ok(())
}
