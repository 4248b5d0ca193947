//! Offline stand-ins of the Clientify CRM and Alegra invoicing APIs: real
//! HTTP servers on loopback, faithful to
//! `shared/spec/vendor-apis/clientify-alegra.md` (auth, paging, filters,
//! error bodies, status codes, timestamps, rate limits), seeded with
//! deterministic Spanish business data. [`odoo`] adds an Odoo 16/17/18
//! external API (JSON-RPC and XML-RPC) faithful to
//! `shared/spec/vendor-apis/odoo.md`, started with [`start_odoo`].
//!
//! Every server also answers (no auth, not counted in stats)
//! `GET /_sandbox/stats`, `POST /_sandbox/stats/reset` and
//! `POST /_sandbox/clock/advance?seconds=N`, and `GET`/`POST /_sandbox/faults`
//! (seeded fault injection, see [`Faults`]).

mod alegra;
mod clientify;
mod common;
mod faults;
pub mod odoo;
pub mod taxid;
mod webhooks;
mod world;

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::middleware;
use axum::Router;
use serde_json::Value;
use tokio::sync::watch;

pub use common::Stats;
pub use faults::Faults;
pub use odoo::{OdooConfig, OdooSeed};
pub use webhooks::{WebhookSent, WebhookShape};
pub use world::World;

use common::{lock, Common, Slash};
use faults::Vendor;

/// Knobs of both sandboxes.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Seed of the generated data.
    pub seed: u64,
    /// Person contacts per side (Clientify contacts; Alegra clients/leads).
    pub contacts: usize,
    /// Companies per side (Clientify companies; Alegra providers).
    pub companies: usize,
    /// Of `contacts`, how many are the same person (same tax id) on both sides.
    pub shared_contacts: usize,
    /// Of `companies`, likewise.
    pub shared_companies: usize,
    /// % of the non-shared records of each side without any identification.
    pub without_id_percent: u32,
    /// Alegra requests per window per user; 0 = unlimited.
    pub alegra_rate_limit: u32,
    /// Alegra rate-limit window.
    pub alegra_rate_window: Duration,
    /// Clientify requests per 60 s per token; 0 = off (limit undocumented).
    pub clientify_rate_limit: u32,
    /// Accepted `Authorization: Token <key>`.
    pub clientify_token: String,
    /// Accepted Basic user.
    pub alegra_email: String,
    /// Accepted Basic password.
    pub alegra_token: String,
    /// Faults both sandboxes inject from the start (default: none).
    pub faults: Faults,
    /// Where the Clientify sandbox POSTs `contact.saved`, `company.saved`, `product.saved`,
    /// `budget.saved` and `company.deleted` after each write through its API (ALG-11). Default `None`: no
    /// webhooks, so suites that do not expect them see no extra traffic. Changeable at run
    /// time with [`Sandbox::set_webhook_target`].
    pub clientify_webhook_target: Option<String>,
    /// Payload shape of those deliveries (default [`WebhookShape::Hook`]).
    pub clientify_webhook_shape: WebhookShape,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            seed: 42,
            contacts: 50,
            companies: 10,
            shared_contacts: 10,
            shared_companies: 3,
            without_id_percent: 5,
            alegra_rate_limit: 150,
            alegra_rate_window: Duration::from_secs(60),
            clientify_rate_limit: 0,
            clientify_token: "clientify-sandbox-token".into(),
            alegra_email: "sandbox@puente.local".into(),
            alegra_token: "alegra-sandbox-token".into(),
            faults: Faults::default(),
            clientify_webhook_target: None,
            clientify_webhook_shape: WebhookShape::default(),
        }
    }
}

/// Both sandboxes and the data they were seeded with.
pub struct Sandboxes {
    pub clientify: Sandbox,
    pub alegra: Sandbox,
    pub world: World,
}

struct Stopper {
    tx: watch::Sender<bool>,
    /// A duplicate of the listening socket, to stop listening at once.
    listener: Mutex<Option<std::net::TcpListener>>,
}

/// One running sandbox server.
#[derive(Clone)]
pub struct Sandbox {
    /// Clientify: `http://127.0.0.1:PORT/v1`; Alegra: `http://127.0.0.1:PORT/api/v1`;
    /// Odoo: `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// `http://127.0.0.1:PORT`.
    pub root_url: String,
    common: Arc<Common>,
    stopper: Arc<Stopper>,
}

impl Sandbox {
    /// Request counters (same data as `GET /_sandbox/stats`).
    pub fn stats(&self) -> Stats {
        self.common.stats()
    }

    /// Replaces the injected faults (restarting their seeded draws); same as
    /// `POST /_sandbox/faults`.
    pub fn set_faults(&self, faults: Faults) {
        self.common.set_faults(faults)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.common.faults()
    }

    /// Clientify: where its webhooks go (`None`: off). Takes effect for the next write.
    pub fn set_webhook_target(&self, url: Option<String>) {
        lock(&self.common.hook).0 = url;
    }

    /// Clientify: the payload shape of its webhooks.
    pub fn set_webhook_shape(&self, shape: WebhookShape) {
        lock(&self.common.hook).1 = shape;
    }

    /// Webhook deliveries queued or in progress (tests wait for 0 before counting writes).
    pub fn webhooks_pending(&self) -> usize {
        self.common.outbox.pending()
    }

    /// Webhook deliveries made so far (the most recent 10 000), oldest first.
    pub fn webhooks_sent(&self) -> Vec<WebhookSent> {
        self.common.outbox.sent()
    }

    /// The most recent requests (up to 10 000) as they arrived, `METHOD /path?query` with
    /// the path still percent-encoded, oldest first; cleared by [`Sandbox::reset_stats`].
    pub fn requests(&self) -> Vec<String> {
        self.common.requests()
    }

    /// Zeroes the counters (and forgets the request log).
    pub fn reset_stats(&self) {
        self.common.reset_stats()
    }

    /// Moves this sandbox's clock by `secs` (timestamps it sets, and its
    /// rate-limit windows).
    pub fn advance_clock(&self, secs: i64) {
        self.common.advance(secs)
    }

    /// Current time of this sandbox's clock.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.common.now()
    }

    /// Stops serving: the socket stops listening immediately (new
    /// connections are refused) and open connections are closed once idle.
    pub fn shutdown(&self) {
        if let Some(l) = lock(&self.stopper.listener).take() {
            // Linux: shutdown(SHUT_RD) on a listening socket moves it out of
            // LISTEN, so connects are refused before the task even runs.
            let _ = socket2::SockRef::from(&l).shutdown(std::net::Shutdown::Read);
        }
        self.stopper.tx.send_replace(true);
    }
}

/// Starts both sandboxes on the given addresses (127.0.0.1:0 when `None`),
/// seeded from `World::generate(cfg)`.
pub async fn start(
    cfg: &SandboxConfig,
    clientify_addr: Option<SocketAddr>,
    alegra_addr: Option<SocketAddr>,
) -> io::Result<Sandboxes> {
    let mut world = World::generate(cfg);
    let clientify = start_clientify_seeded(
        cfg,
        clientify_addr,
        ClientifySeed {
            contacts: world.clientify_contacts.clone(),
            companies: world.clientify_companies.clone(),
            products: world.clientify_products.clone(),
            ..ClientifySeed::default()
        },
    )
    .await?;
    let alegra = start_alegra_seeded(
        cfg,
        alegra_addr,
        world.alegra_contacts.clone(),
        world.alegra_items.clone(),
    )
    .await?;
    world.attach_clientify_urls(&clientify.base_url);
    Ok(Sandboxes {
        clientify,
        alegra,
        world,
    })
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
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Always,
        Vendor::Clientify,
        cfg.faults.clone(),
    ));
    *lock(&common.hook) = (
        cfg.clientify_webhook_target.clone(),
        cfg.clientify_webhook_shape,
    );
    let vendor = clientify::router(common.clone(), cfg, seed)?;
    serve(listener, root, "/v1", common, vendor)
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
        Vendor::Alegra,
        cfg.faults.clone(),
    ));
    let vendor = alegra::router(common.clone(), cfg, contacts, items)?;
    serve(listener, root, "/api/v1", common, vendor)
}

/// Starts an Odoo sandbox (JSON-RPC and XML-RPC external API of the
/// configured version) seeded with `seed`; `base_url` is the server root.
pub async fn start_odoo(
    cfg: &OdooConfig,
    addr: Option<SocketAddr>,
    seed: OdooSeed,
) -> io::Result<Sandbox> {
    let (listener, root) = bind(addr)?;
    let common = Arc::new(Common::new(
        root.clone(),
        Slash::Never,
        Vendor::Odoo,
        Faults::default(),
    ));
    let vendor = odoo::router(common.clone(), cfg, seed)?;
    serve(listener, root, "", common, vendor)
}

fn bind(addr: Option<SocketAddr>) -> io::Result<(std::net::TcpListener, String)> {
    let addr = addr.unwrap_or(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0));
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let local = listener.local_addr()?;
    let host = match local.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_string(),
        ip if ip.is_unspecified() => "[::1]".to_string(),
        IpAddr::V6(ip) => format!("[{ip}]"),
        IpAddr::V4(ip) => ip.to_string(),
    };
    Ok((listener, format!("http://{host}:{}", local.port())))
}

fn serve(
    listener: std::net::TcpListener,
    root: String,
    base_path: &str,
    common: Arc<Common>,
    vendor: Router,
) -> io::Result<Sandbox> {
    let dup = listener.try_clone()?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Outermost the stats counter (faulted requests count too), then the
    // fault injector, then the vendor's routes.
    let app = vendor
        .merge(common::control_router(common.clone()))
        .layer(middleware::from_fn_with_state(
            common.clone(),
            faults::inject,
        ))
        .layer(middleware::from_fn_with_state(
            common.clone(),
            common::count_requests,
        ));
    let (tx, mut rx) = watch::channel(false);
    tokio::spawn(async move {
        let stop = async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::warn!("sandbox server stopped: {e}");
        }
    });
    Ok(Sandbox {
        base_url: format!("{root}{base_path}"),
        root_url: root,
        common,
        stopper: Arc::new(Stopper {
            tx,
            listener: Mutex::new(Some(dup)),
        }),
    })
}
