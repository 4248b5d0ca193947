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
//!
//! The shop and accounting vendors of issue 13 follow
//! `shared/spec/vendor-apis/shops-accounting.md`: CCV Shop ([`start_ccv`], HMAC-signed
//! requests and responses), Visma e-conomic ([`start_economic`], token headers, the `filter=`
//! language) and Visma eAccounting ([`start_eaccounting`], OAuth2, OData `$filter`), seeded
//! from [`commerce`] so the shop and each accounting system share some SKUs and emails.
//!
//! Layout (`shared/spec/platform.md` §9): `kit/` holds what every sandbox shares (server and
//! [`Sandbox`] handle, clock, stats, control routes, faults, the webhook outbox, paging
//! styles, signing, fake data, tax ids, VAT numbers); each vendor has its own folder
//! (`clientify/`, `alegra/`, `odoo/`, `ccv/`, `economic/`, `eaccounting/`), split by
//! resource, with its inferred behaviour in the folder's `facts.rs` where it has one; `world/`
//! is the data Clientify and Alegra share, `commerce/` the data the shop and accounting
//! sandboxes share; [`registry`] lists the vendor sandboxes by name for whoever starts them
//! all.

mod alegra;
mod ccv;
mod clientify;
pub mod commerce;
mod eaccounting;
mod economic;
mod kit;
pub mod odoo;
mod registry;
pub mod roapp;
pub mod shopify;
pub mod shopworld;
pub mod woocommerce;
mod world;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

pub use alegra::{start_alegra, start_alegra_seeded};
pub use ccv::{start_ccv, CcvConfig, CcvView};
pub use clientify::{
    start_clientify, start_clientify_seeded, ClientifySeed, WebhookShape,
    SANDBOX_PASSWORD as CLIENTIFY_PASSWORD, SANDBOX_USERNAME as CLIENTIFY_USERNAME,
};
pub use eaccounting::{start_eaccounting, EAccountingConfig, EAccountingView};
pub use economic::{start_economic, EconomicConfig, EconomicView, HookKind};
pub use kit::taxid;
pub use kit::vat;
pub use kit::{Faults, Sandbox, Stats, VendorUser, WebhookSent};
pub use odoo::{start_odoo, OdooConfig, OdooSeed};
pub use registry::{registry, sandbox, StartFuture, Started, VendorSandbox};
pub use roapp::{start_roapp, RoAppConfig, RoAppSandbox};
pub use shopify::{start_shopify, ShopifyConfig, ShopifyPlan, ShopifySandbox};
pub use woocommerce::{start_woocommerce, WooConfig, WooPermissions, WooSandbox};
pub use world::World;

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
