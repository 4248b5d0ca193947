//! Odoo sandbox: an offline stand-in of an Odoo 16/17/18 server's external
//! API (`/jsonrpc`, `/xmlrpc/2/<service>` and the legacy `/xmlrpc/<service>`),
//! faithful to `shared/spec/vendor-apis/odoo.md` ("the page").
//!
//! What is modelled, with the page's section in brackets:
//! - services `common` (`version`, `login`, `authenticate`), `object`
//!   (`execute_kw`, `execute`) and `db` (`server_version`, `db_exist`,
//!   `list`) [§1]; API key or password wherever the password goes, `false`
//!   from `authenticate` on bad credentials, Fault 3 on a bad secret [§2];
//! - models `res.partner`, `product.template`, `product.product`,
//!   `sale.order`, `sale.order.line`, `res.country`, `res.country.state`,
//!   `res.currency`, `product.pricelist`, `account.tax`, `uom.uom`,
//!   `res.users`, `res.company` with the 16/17/18 field differences of §5;
//! - methods `search`, `search_read`, `search_count`, `read`, `create`,
//!   `write`, `unlink`, `fields_get`, `name_search`, `name_get` (≤ 17),
//!   `default_get`, `check_access_rights`, `has_access` (18) and on
//!   `sale.order` `action_confirm`, `action_cancel`, `action_draft`,
//!   `action_lock`/`action_unlock` (17+, return None) or `action_done` (16)
//!   [§3]; `read_group` answers a NotImplementedError fault;
//! - domains in prefix notation with every term operator, dotted paths,
//!   `any`/`not any`, `child_of`/`parent_of`, implicit `active` filter and
//!   `context.active_test` [§3];
//! - value encodings (many2one `[id, "name"]`, `false` for empty, datetimes
//!   `YYYY-MM-DD HH:MM:SS` UTC truncated from a microsecond `write_date` set
//!   from the transaction start), x2many commands, and the `write_date`
//!   rules of §3 (a `sale.order.line` write of a field that feeds the order's totals
//!   stamps the order; a name-only edit does not);
//! - faults and JSON-RPC error objects with the codes, exception names and
//!   messages of §4; a `None` result is a Fault 1 over XML-RPC (after the
//!   method ran) and a response without `result` over JSON-RPC.
//!
//! Behaviour taken from the Odoo sources rather than observed is marked
//! [src]; sandbox simplifications are marked [I].
//!
//! Each call is one transaction: it runs under the data lock and journals
//! the rows it changes, which are put back when it fails.
//!
//! Where things are: `rpc` serves the HTTP routes and dispatches the services, `methods`
//! runs the model methods inside a transaction (`tx`), which reads values, evaluates
//! domains (`domain`, `search`) and writes (`create`, `write`) against the
//! version's models (`schema`, `models`); `xml` is the XML-RPC codec, `fault` the
//! exceptions, `base` the stock database rows and seed loading, `generate` the seed
//! generator.

mod base;
mod create;
mod domain;
mod fault;
mod generate;
mod methods;
mod models;
mod rpc;
mod schema;
mod search;
mod tx;
mod values;
mod write;
mod xml;

pub use base::spanish_state_id;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::kit::server::{bind, serve};
use crate::kit::stats::Slash;
use crate::kit::{Common, Faults, Sandbox};
use crate::registry::{StartFuture, Started, VendorSandbox};

type Obj = Map<String, Value>;

/// Id of Spain in `res.country` (ids follow a stock database's alphabetical
/// load order, e.g. Belgium = 20 as on the page's server).
pub const SPAIN_ID: i64 = 68;
/// Id of the euro in `res.currency`.
pub const EUR_ID: i64 = 1;
/// The default sale tax ("15%", `[1]` on a new product) [§5 taxes_id].
pub const SALE_TAX_ID: i64 = 1;
/// `uom.uom` "Units".
pub const UNITS_ID: i64 = 1;
/// uid of the API user (`admin`).
pub const ADMIN_UID: i64 = 2;
/// First id handed to a partner created by a seed or the API (1–6 are base
/// data: 1 the company's own partner "My Company", 2 OdooBot (archived),
/// 3 Administrator).
pub const FIRST_PARTNER_ID: i64 = 7;
/// Partner of the company itself: it is a company contact like any other
/// (as in a real database), so a sync sees it too.
pub const COMPANY_PARTNER_ID: i64 = 1;

/// Knobs of one Odoo sandbox.
#[derive(Clone, Debug)]
pub struct OdooConfig {
    /// Major version served: 16, 17 or 18.
    pub version: u8,
    /// The only database name accepted.
    pub database: String,
    /// Login of the API user (uid 2).
    pub login: String,
    /// API key of that user (accepted wherever the password goes).
    pub api_key: String,
    /// Password of that user (also accepted over RPC).
    pub password: String,
    /// Whether `sale_stock` is installed (`qty_to_deliver`, storable
    /// products, `delivery_status`).
    pub sale_stock: bool,
}

impl Default for OdooConfig {
    fn default() -> Self {
        OdooConfig {
            version: 17,
            database: "puente".into(),
            login: "admin".into(),
            api_key: "0c2f5b8e4a7d9f1e3b6a8c0d2e4f6a8b1c3d5e7f".into(),
            password: "admin-sandbox-password".into(),
            sale_stock: true,
        }
    }
}

/// Records loaded before the server starts, as Odoo `create` values.
///
/// - `partners`: `res.partner` values (companies with `is_company: true`,
///   persons with `parent_id` = a partner id). Ids are assigned from
///   [`FIRST_PARTNER_ID`] in list order unless a value carries `"id"`.
/// - `products`: `product.product` values; template fields (`name`,
///   `list_price`, `type`/`detailed_type`, `taxes_id`, …) go to the template
///   created with each variant. Template and variant ids both start at 1.
/// - `orders`: `sale.order` values with `order_line: [[0, 0, {…}], …]`;
///   `"state": "sale"` seeds a confirmed order (as `action_confirm` leaves
///   it), anything else a draft. Ids start at 1, names at `S00001`.
///
/// Any value may carry `create_date`/`write_date`
/// (`YYYY-MM-DD HH:MM:SS[.ffffff]`, UTC); otherwise every seeded record gets
/// the server start as both (one transaction). Seeds go through the same
/// code as API calls, so defaults, partner address/`vat` sync and
/// validation apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OdooSeed {
    pub partners: Vec<Value>,
    pub products: Vec<Value>,
    pub orders: Vec<Value>,
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
        rpc::FAULT_REPLIES,
        Faults::default(),
    ));
    let vendor = rpc::router(common.clone(), cfg, seed)?;
    serve(listener, root, "", common, vendor)
}

/// The registry's entry: Odoo 17 with `sale_stock`, seeded with [`OdooSeed::generate`]`(42,
/// 10, 50, 16, 20)` (one product of each kind the generator knows).
pub(crate) const SANDBOX: VendorSandbox = VendorSandbox {
    name: "odoo",
    about: "Odoo 16/17/18: partners, products, sale orders (JSON-RPC and XML-RPC)",
    start: start_entry,
};

fn start_entry(addr: Option<SocketAddr>) -> StartFuture {
    Box::pin(async move {
        let cfg = OdooConfig::default();
        let sandbox = start_odoo(&cfg, addr, OdooSeed::generate(42, 10, 50, 16, 20)).await?;
        let connection = vec![
            ("type", SANDBOX.name.to_string()),
            ("url", sandbox.base_url.clone()),
            ("database", cfg.database),
            ("login", cfg.login),
            ("api_key", cfg.api_key),
        ];
        Ok(Started {
            sandbox,
            connection,
        })
    })
}
