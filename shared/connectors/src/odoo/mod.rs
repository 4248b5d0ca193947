//! The Odoo [`Connector`]: ODO-1..5 mapped onto the low-level client in [`crate::odoo`].
//! Every Odoo model and field name the Clientify ⇄ Odoo flow relies on is in this file.
//!
//! | canonical | Odoo | notes |
//! |---|---|---|
//! | company (ODO-1) | `res.partner` with `is_company = true` | `display_name`→name, `ref`→tax_id, email, phone, street, city, `state_id`→region, `country_id`→country (ISO code), `zip`→postal_code |
//! | contact (ODO-2) | `res.partner` with `is_company = false`, `type = contact` | `name`→first_name (Odoo has one name), status `client` (Clientify contact type "Cliente actual"), `ref`, email, phone, `mobile` (when the server has it: removed in 19), street, city, country, zip |
//! | product (ODO-3) | `product.product` (variant) | `default_code`→sku, `name`, `list_price`→price; created with `detailed_type` (15–17) or `type` (14, 18+) = `consu`, whichever `fields_get` shows |
//! | order (ODO-4, one way) | `sale.order` in state `sale` (16 also `done`) or `cancel` | `name`→order_id, ecommerce `Odoo`, state (+ 17's `locked`)→status, `date_order`→order_date, `currency_id` (else the pricelist's)→currency, lines→items |
//! | item (ODO-5) | `sale.order.line` without `display_type` | `name`, product `barcode` (else `default_code`)→sku, `price_unit`→price, `qty_to_deliver` (only with `sale_stock`, found by `fields_get`) else `product_uom_qty`→quantity |
//!
//! Drafts and quotations (`draft`, `sent`) are never read, so never sent; a cancelled order
//! is read so that an order already sent shows `cancelled` in Clientify, and the engine does
//! not create one that was never sent (only confirmed orders are eligible).
//!
//! Lookups and encodings are in one place each: many2one `[id, "name"]`/`false` through
//! [`crate::odoo::many2one`]; countries by ISO code and states by code or name within the
//! country ([`Odoo::country_id`], [`Odoo::state_id`], both cached per connector); datetimes
//! (`YYYY-MM-DD HH:MM:SS`, UTC) through [`crate::odoo::datetime`] and
//! [`crate::odoo::format_datetime`].
//!
//! **Modified** (ALG-9 on Odoo): `write_date >= since`, ordered `write_date asc, id asc`, where
//! `since` comes from the runtime's tie-safe cursor `(write_date, id)` minus an overlap
//! (`sync::CHECKPOINT_OVERLAP_MINUTES`, and never less than 25 h): `write_date` is the
//! transaction's start and reads back truncated to seconds, so a row committed late or in
//! the same second as the cursor is read again rather than missed; re-reading costs no write
//! (its hash matches the link). **Order lines**: editing a `sale.order.line` does not bump
//! its order's `write_date` (odoo.md §3), so the orders domain is
//! `write_date >= since OR order_line.write_date >= since`, and an order's modification time
//! is the latest of its own and its lines' `write_date`. Products likewise include
//! `product_tmpl_id.write_date`, as template edits (name) may not touch the variant.
//!
//! Calls: a listing page of partners or products is one `search_read`; a page of orders is
//! three (orders, their lines, the lines' products), plus one `read` of pricelists when an
//! order has no currency. The first use of a model costs one `fields_get`, and countries
//! (one `search_read`) and a country's states are read once per connector.

pub mod rpc;
mod settings;

pub use settings::VENDOR;

/// The JSON-RPC client is part of the module's public face (tests and tools use it).
pub use rpc::*;

use crate::error::ConnectorError;
use crate::http::CallStats;
use crate::kit::mapping::SideMapping;
use crate::{Connector, ListQuery, Page, Read, Write};
use async_trait::async_trait;
use chrono::SecondsFormat;
use puente_core::country::canonical_country;
use puente_core::{
    canonical_sku, canonical_tax_id, decimal, order_items, Fields, KeyKind, KeySpec, Kind,
    OrderItem, Record,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Label of orders from Odoo in Clientify's `ecommerce` (ODO-4).
pub const ECOMMERCE: &str = "Odoo";

const PARTNER: &str = "res.partner";
const PRODUCT: &str = "product.product";
const ORDER: &str = "sale.order";
const LINE: &str = "sale.order.line";
const COUNTRY: &str = "res.country";
const STATE: &str = "res.country.state";
const PRICELIST: &str = "product.pricelist";

/// Settings of the Odoo connector.
#[derive(Clone, Debug)]
pub struct OdooConfig {
    pub settings: OdooSettings,
    /// The flow's mapping adjustments.
    pub mapping: std::sync::Arc<SideMapping>,
    /// Calls allowed per run.
    pub budget: Option<u64>,
    /// Records per `search_read` page.
    pub page_size: u32,
}

/// The Odoo connector.
pub struct Odoo {
    client: OdooClient,
    mapping: std::sync::Arc<SideMapping>,
    page_size: u32,
    version: Mutex<Option<u32>>,
    /// model → its field names (`fields_get`), read once.
    fields: Mutex<HashMap<&'static str, Arc<HashSet<String>>>>,
    /// `res.country`: id → ISO code, read once.
    countries: Mutex<Option<Arc<BTreeMap<i64, String>>>>,
    /// country id → its states `(id, code, name)`, read once per country.
    states: Mutex<HashMap<i64, Arc<States>>>,
}

/// A country's states: `(id, code, name)`.
type States = Vec<(i64, String, String)>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn model_of(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact | Kind::Company => PARTNER,
        Kind::Product => PRODUCT,
        // Budgets are an Alegra flow (ALG-8); `supports` keeps them out of Odoo flows and
        // every entry point refuses them before a model is needed.
        Kind::Order | Kind::Budget | Kind::Stock => ORDER,
    }
}

fn decode(detail: String) -> ConnectorError {
    ConnectorError::Decode {
        system: SYSTEM.into(),
        detail,
    }
}

fn id_of(r: &OdooRecord) -> i64 {
    r.get("id").and_then(Value::as_i64).unwrap_or(0)
}

fn parse_id(id: &str) -> Result<i64, ConnectorError> {
    id.trim()
        .parse()
        .map_err(|_| decode(format!("'{id}' is not an Odoo record id")))
}

/// A `state_id` display name without its country suffix: `Madrid (ES)` → `Madrid`.
fn state_name(display: &str) -> &str {
    match display.rsplit_once(" (") {
        Some((name, rest)) if rest.ends_with(')') && rest.len() <= 4 => name,
        _ => display,
    }
}

/// The error for a key this vendor cannot search by.
fn unsearchable(kind: Kind, spec: &KeySpec) -> ConnectorError {
    ConnectorError::Unsupported {
        system: SYSTEM.into(),
        what: format!("looking {kind}s up by {}", spec.kind),
    }
}

/// Escapes `%`, `_` and `\` for an exact `=ilike`.
fn like_exact(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

fn join_name(f: &Fields) -> String {
    [f.get("first_name"), f.get("last_name")]
        .iter()
        .filter(|x| !x.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Odoo `state` (and 17+'s `locked`) → canonical order status.
pub fn order_status(state: &str, locked: bool) -> &'static str {
    match state {
        "sale" if locked => "locked",
        "sale" => "confirmed",
        "done" => "locked",
        "cancel" => "cancelled",
        _ => "draft",
    }
}

impl Odoo {
    pub fn new(cfg: OdooConfig) -> Odoo {
        Odoo {
            client: OdooClient::new(cfg.settings).with_budget(cfg.budget),
            mapping: cfg.mapping,
            page_size: cfg.page_size.clamp(1, 1000),
            version: Mutex::new(None),
            fields: Mutex::new(HashMap::new()),
            countries: Mutex::new(None),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// The low-level client (tests seed data through it).
    pub fn client(&self) -> &OdooClient {
        &self.client
    }

    /// The server's major version (`common.version`, once).
    pub async fn version(&self) -> Result<u32, ConnectorError> {
        if let Some(v) = *lock(&self.version) {
            return Ok(v);
        }
        let v = self.client.version().await?;
        *lock(&self.version) = Some(v);
        Ok(v)
    }

    /// The field names of `model` on this server (`fields_get`, once per model).
    pub async fn fields_of(
        &self,
        model: &'static str,
    ) -> Result<Arc<HashSet<String>>, ConnectorError> {
        if let Some(f) = lock(&self.fields).get(model) {
            return Ok(f.clone());
        }
        let all = self.client.fields_get(model, &["type"]).await?;
        let set: Arc<HashSet<String>> = Arc::new(all.keys().cloned().collect());
        lock(&self.fields).insert(model, set.clone());
        Ok(set)
    }

    async fn has_field(&self, model: &'static str, field: &str) -> Result<bool, ConnectorError> {
        Ok(self.fields_of(model).await?.contains(field))
    }

    // ------------------------------------------------------------ countries and states

    async fn countries(&self) -> Result<Arc<BTreeMap<i64, String>>, ConnectorError> {
        if let Some(c) = lock(&self.countries).clone() {
            return Ok(c);
        }
        let rows = self
            .client
            .search_read(COUNTRY, &Domain::new(), &["code"], None, 0, Some("id asc"))
            .await?;
        let map: BTreeMap<i64, String> = rows
            .iter()
            .map(|r| (id_of(r), text_or_empty(&r["code"]).to_uppercase()))
            .collect();
        let map = Arc::new(map);
        *lock(&self.countries) = Some(map.clone());
        Ok(map)
    }

    /// The ISO code of a `country_id` as read.
    async fn country_code_of(&self, v: &Value) -> Result<String, ConnectorError> {
        let Some((id, name)) = many2one(v) else {
            return Ok(String::new());
        };
        let codes = self.countries().await?;
        Ok(codes
            .get(&id)
            .cloned()
            .filter(|c| !c.is_empty())
            .unwrap_or_else(|| canonical_country(&name)))
    }

    /// `res.country` id of a canonical country (ISO code, or a name Puente knows).
    pub async fn country_id(&self, country: &str) -> Result<Option<i64>, ConnectorError> {
        let code = canonical_country(country).to_uppercase();
        if code.is_empty() {
            return Ok(None);
        }
        let codes = self.countries().await?;
        Ok(codes.iter().find(|(_, c)| **c == code).map(|(id, _)| *id))
    }

    async fn states_of(&self, country: i64) -> Result<Arc<States>, ConnectorError> {
        if let Some(s) = lock(&self.states).get(&country) {
            return Ok(s.clone());
        }
        let rows = self
            .client
            .search_read(
                STATE,
                &Domain::new().eq("country_id", country),
                &["code", "name"],
                None,
                0,
                Some("id asc"),
            )
            .await?;
        let list: Arc<States> = Arc::new(
            rows.iter()
                .map(|r| {
                    (
                        id_of(r),
                        text_or_empty(&r["code"]),
                        text_or_empty(&r["name"]),
                    )
                })
                .collect(),
        );
        lock(&self.states).insert(country, list.clone());
        Ok(list)
    }

    /// `res.country.state` id of a region within `country`: by code, then by exact name
    /// (case-insensitive), then by a name that starts with it (`A Coruña` finds
    /// `A Coruña (La Coruña)`).
    pub async fn state_id(
        &self,
        country: i64,
        region: &str,
    ) -> Result<Option<i64>, ConnectorError> {
        let r = region.trim();
        if r.is_empty() {
            return Ok(None);
        }
        let states = self.states_of(country).await?;
        let lower = r.to_lowercase();
        let found = states
            .iter()
            .find(|(_, code, _)| code.eq_ignore_ascii_case(r))
            .or_else(|| states.iter().find(|(_, _, n)| n.to_lowercase() == lower))
            .or_else(|| {
                states
                    .iter()
                    .find(|(_, _, n)| n.to_lowercase().starts_with(&lower))
            });
        Ok(found.map(|(id, ..)| *id))
    }

    // ------------------------------------------------------------ reading

    async fn partner_fields(&self, kind: Kind) -> Result<Vec<&'static str>, ConnectorError> {
        let mut f = vec![
            "name",
            "ref",
            "email",
            "phone",
            "street",
            "city",
            "zip",
            "state_id",
            "country_id",
            "is_company",
            "write_date",
        ];
        if kind == Kind::Company {
            f.push("display_name");
        }
        // `mobile` is gone in 19 (odoo.md §5).
        if kind == Kind::Contact && self.has_field(PARTNER, "mobile").await? {
            f.push("mobile");
        }
        Ok(f)
    }

    fn partner_domain(kind: Kind) -> Domain {
        match kind {
            Kind::Company => Domain::new().eq("is_company", true),
            // Invoice/delivery addresses and 14/16's private addresses are not people.
            _ => Domain::new().eq("is_company", false).eq("type", "contact"),
        }
    }

    /// A partner's canonical fields but its country (which needs `res.country`'s codes).
    fn partner_canonical(kind: Kind, r: &OdooRecord) -> Fields {
        let mut f = Fields::new();
        f.set("tax_id", canonical_tax_id(&text_or_empty(&r["ref"])));
        if kind == Kind::Company {
            let display = text_or_empty(r.get("display_name").unwrap_or(&Value::Null));
            let name = if display.is_empty() {
                text_or_empty(&r["name"])
            } else {
                display
            };
            f.set("name", name);
            if let Some((_, s)) = many2one(&r["state_id"]) {
                f.set("region", state_name(&s));
            }
        } else {
            f.set("first_name", text_or_empty(&r["name"]));
            // ODO-2: Odoo contacts are customers ("Cliente actual" in Clientify).
            f.set("status", "client");
            if let Some(m) = r.get("mobile") {
                f.set("mobile", text_or_empty(m));
            }
        }
        f.set("email", text_or_empty(&r["email"]));
        f.set("phone", text_or_empty(&r["phone"]));
        f.set("street", text_or_empty(&r["street"]));
        f.set("city", text_or_empty(&r["city"]));
        f.set("postal_code", text_or_empty(&r["zip"]));
        f
    }

    async fn partner_record(&self, kind: Kind, r: &OdooRecord) -> Result<Record, ConnectorError> {
        let mut f = Self::partner_canonical(kind, r);
        f.set("country", self.country_code_of(&r["country_id"]).await?);
        let mut rec = Record::new(SYSTEM, kind, id_of(r).to_string(), f);
        rec.modified = datetime(&r["write_date"]);
        self.mapped(r, rec)
    }

    /// `rec` (mapped from the row `raw`) with the flow's read adjustments.
    fn mapped(&self, raw: &OdooRecord, mut rec: Record) -> Result<Record, ConnectorError> {
        if self.mapping.is_empty() {
            return Ok(rec);
        }
        self.mapping
            .apply_read(&Value::Object(raw.clone()), &mut rec)
            .map_err(|detail| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail,
            })?;
        Ok(rec)
    }

    fn product_record(r: &OdooRecord) -> Record {
        let mut f = Fields::new();
        f.set("sku", canonical_sku(&text_or_empty(&r["default_code"])));
        f.set("name", text_or_empty(&r["name"]));
        f.set(
            "price",
            number(&r["list_price"]).map(decimal).unwrap_or_default(),
        );
        let mut rec = Record::new(SYSTEM, Kind::Product, id_of(r).to_string(), f);
        rec.modified = datetime(&r["write_date"]);
        rec
    }

    const PRODUCT_FIELDS: [&'static str; 5] = [
        "default_code",
        "name",
        "list_price",
        "write_date",
        "product_tmpl_id",
    ];

    async fn order_fields(&self) -> Result<Vec<&'static str>, ConnectorError> {
        let mut f = vec![
            "name",
            "state",
            "date_order",
            "currency_id",
            "pricelist_id",
            "write_date",
        ];
        if self.has_field(ORDER, "locked").await? {
            f.push("locked");
        }
        Ok(f)
    }

    /// The states listed: confirmed (16: also `done`, "Locked") and cancelled.
    async fn order_domain(&self) -> Result<Domain, ConnectorError> {
        let states: Vec<&str> = if self.version().await? < 17 {
            vec!["sale", "done", "cancel"]
        } else {
            vec!["sale", "cancel"]
        };
        Ok(Domain::new().is_in("state", states))
    }

    /// Orders as canonical records: their lines and the lines' products are read in one call
    /// each for the whole batch.
    async fn order_records(&self, orders: Vec<OdooRecord>) -> Result<Vec<Record>, ConnectorError> {
        if orders.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = orders.iter().map(id_of).collect();
        let qty_field = if self.has_field(LINE, "qty_to_deliver").await? {
            "qty_to_deliver"
        } else {
            "product_uom_qty"
        };
        let line_fields = [
            "order_id",
            "name",
            "product_id",
            "price_unit",
            qty_field,
            "display_type",
            "write_date",
        ];
        let lines = self
            .client
            .search_read(
                LINE,
                &Domain::new().is_in("order_id", ids.clone()),
                &line_fields,
                None,
                0,
                Some("order_id asc, sequence asc, id asc"),
            )
            .await?;
        let product_ids: BTreeSet<i64> = lines
            .iter()
            .filter_map(|l| many2one(&l["product_id"]).map(|(id, _)| id))
            .collect();
        let mut codes: HashMap<i64, String> = HashMap::new();
        if !product_ids.is_empty() {
            let ids: Vec<i64> = product_ids.into_iter().collect();
            for p in self
                .client
                .read(PRODUCT, &ids, &["barcode", "default_code"])
                .await?
            {
                let code = Some(text_or_empty(&p["barcode"]))
                    .filter(|b| !b.is_empty())
                    .unwrap_or_else(|| text_or_empty(&p["default_code"]));
                codes.insert(id_of(&p), code);
            }
        }
        // 16: the currency is the pricelist's (a related field, normally filled); read the
        // pricelists of orders that came back without one.
        let missing: BTreeSet<i64> = orders
            .iter()
            .filter(|o| many2one(&o["currency_id"]).is_none())
            .filter_map(|o| many2one(&o["pricelist_id"]).map(|(id, _)| id))
            .collect();
        let mut pricelist_currency: HashMap<i64, String> = HashMap::new();
        if !missing.is_empty() {
            let ids: Vec<i64> = missing.into_iter().collect();
            for p in self.client.read(PRICELIST, &ids, &["currency_id"]).await? {
                if let Some((_, c)) = many2one(&p["currency_id"]) {
                    pricelist_currency.insert(id_of(&p), c);
                }
            }
        }
        let mut by_order: HashMap<i64, Vec<&OdooRecord>> = HashMap::new();
        for l in &lines {
            if let Some((oid, _)) = many2one(&l["order_id"]) {
                by_order.entry(oid).or_default().push(l);
            }
        }
        let mut out = Vec::with_capacity(orders.len());
        for o in &orders {
            let oid = id_of(o);
            let mut modified = datetime(&o["write_date"]);
            let mut items = Vec::new();
            for l in by_order.get(&oid).map(Vec::as_slice).unwrap_or(&[]) {
                modified = modified.max(datetime(&l["write_date"]));
                // Section and note lines carry no product.
                if l.get("display_type").and_then(Value::as_str).is_some() {
                    continue;
                }
                let sku = many2one(&l["product_id"])
                    .and_then(|(pid, _)| codes.get(&pid).cloned())
                    .unwrap_or_default();
                items.push(OrderItem {
                    name: text_or_empty(&l["name"]),
                    sku,
                    price: number(&l["price_unit"]).map(decimal).unwrap_or_default(),
                    quantity: number(&l[qty_field]).map(decimal).unwrap_or_default(),
                    ..OrderItem::default()
                });
            }
            let currency = many2one(&o["currency_id"])
                .map(|(_, c)| c)
                .or_else(|| {
                    many2one(&o["pricelist_id"])
                        .and_then(|(pid, _)| pricelist_currency.get(&pid).cloned())
                })
                .unwrap_or_default();
            let locked = o.get("locked").and_then(Value::as_bool).unwrap_or(false);
            let f = Fields::new()
                .with("order_id", text_or_empty(&o["name"]))
                .with("ecommerce", ECOMMERCE)
                .with(
                    "status",
                    order_status(o["state"].as_str().unwrap_or(""), locked),
                )
                .with(
                    "order_date",
                    datetime(&o["date_order"])
                        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                        .unwrap_or_default(),
                )
                .with("currency", currency)
                .with("items", order_items(&items));
            let mut rec = Record::new(SYSTEM, Kind::Order, oid.to_string(), f);
            rec.modified = modified;
            out.push(self.mapped(o, rec)?);
        }
        Ok(out)
    }

    /// The flow's write adjustments in `vals` (see [`SideMapping::apply_write`]).
    fn adjust(
        &self,
        kind: Kind,
        vals: &mut Value,
        fields: &Fields,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        self.mapping
            .apply_write(kind, vals, fields, changed)
            .map_err(|detail| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail,
            })
    }

    /// Reads records of `kind` matching `domain` (a page when `limit` is set).
    async fn read_kind(
        &self,
        kind: Kind,
        domain: &Domain,
        limit: Option<u32>,
        offset: u32,
        order: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        match kind {
            Kind::Budget | Kind::Stock => Err(ConnectorError::unsupported(SYSTEM, kind)),
            Kind::Contact | Kind::Company => {
                let fields = self.partner_fields(kind).await?;
                let d = Self::partner_domain(kind).and(domain.clone());
                let rows = self
                    .client
                    .search_read(PARTNER, &d, &fields, limit, offset, Some(order))
                    .await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in &rows {
                    out.push(self.partner_record(kind, r).await?);
                }
                Ok(out)
            }
            Kind::Product => {
                let rows = self
                    .client
                    .search_read(
                        PRODUCT,
                        domain,
                        &Self::PRODUCT_FIELDS,
                        limit,
                        offset,
                        Some(order),
                    )
                    .await?;
                rows.iter()
                    .map(|r| self.mapped(r, Self::product_record(r)))
                    .collect()
            }
            Kind::Order => {
                let fields = self.order_fields().await?;
                let d = self.order_domain().await?.and(domain.clone());
                let rows = self
                    .client
                    .search_read(ORDER, &d, &fields, limit, offset, Some(order))
                    .await?;
                self.order_records(rows).await
            }
        }
    }

    /// One record by id, whatever its state (a draft order reads as status `draft`).
    async fn read_one(&self, kind: Kind, id: i64) -> Result<Option<Record>, ConnectorError> {
        let d = Domain::new().eq("id", id);
        let found = match kind {
            Kind::Budget | Kind::Stock => return Err(ConnectorError::unsupported(SYSTEM, kind)),
            // By id, without the listing's state filter: the engine decides what is sent.
            Kind::Order => {
                let fields = self.order_fields().await?;
                let rows = self.client.read(ORDER, &[id], &fields).await?;
                self.order_records(rows).await?
            }
            Kind::Contact | Kind::Company => {
                let fields = self.partner_fields(kind).await?;
                let rows = self.client.read(PARTNER, &[id], &fields).await?;
                let mut out = Vec::new();
                for r in rows.iter().filter(|r| {
                    r.get("is_company")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
                        == (kind == Kind::Company)
                }) {
                    out.push(self.partner_record(kind, r).await?);
                }
                out
            }
            Kind::Product => self.read_kind(kind, &d, Some(1), 0, "id asc").await?,
        };
        Ok(found.into_iter().next())
    }

    // ------------------------------------------------------------ writing

    /// Odoo values writing the canonical `fields` of `kind` (all on create, `changed` only
    /// on update).
    async fn vals_for(
        &self,
        kind: Kind,
        fields: &Fields,
        changed: Option<&[String]>,
    ) -> Result<Map<String, Value>, ConnectorError> {
        let touched = |f: &str| changed.is_none_or(|c| c.iter().any(|x| x == f));
        let mut v = Map::new();
        let text = |s: &str| if s.is_empty() { json!(false) } else { json!(s) };
        match kind {
            Kind::Budget | Kind::Stock => return Err(ConnectorError::unsupported(SYSTEM, kind)),
            Kind::Contact | Kind::Company => {
                if touched("tax_id") {
                    v.insert("ref".into(), text(fields.get("tax_id")));
                }
                if kind == Kind::Company {
                    if touched("name") {
                        v.insert("name".into(), json!(fields.get("name")));
                    }
                } else {
                    if touched("first_name") || touched("last_name") {
                        v.insert("name".into(), json!(join_name(fields)));
                    }
                    if touched("mobile") && self.has_field(PARTNER, "mobile").await? {
                        v.insert("mobile".into(), text(fields.get("mobile")));
                    }
                }
                for (canon, odoo) in [
                    ("email", "email"),
                    ("phone", "phone"),
                    ("street", "street"),
                    ("city", "city"),
                    ("postal_code", "zip"),
                ] {
                    if touched(canon) {
                        v.insert(odoo.into(), text(fields.get(canon)));
                    }
                }
                let region_touched = kind == Kind::Company && touched("region");
                if touched("country") || region_touched {
                    let country = self.country_id(fields.get("country")).await?;
                    if touched("country") {
                        v.insert("country_id".into(), m2o_value(country));
                    }
                    if kind == Kind::Company {
                        let state = match country {
                            Some(c) => self.state_id(c, fields.get("region")).await?,
                            None => None,
                        };
                        v.insert("state_id".into(), m2o_value(state));
                    }
                }
                if changed.is_none() {
                    v.insert("is_company".into(), json!(kind == Kind::Company));
                }
            }
            Kind::Product => {
                if touched("sku") {
                    v.insert("default_code".into(), text(fields.get("sku")));
                }
                if touched("name") {
                    v.insert("name".into(), json!(fields.get("name")));
                }
                if touched("price") {
                    let p: f64 = fields.get("price").parse().unwrap_or(0.0);
                    v.insert("list_price".into(), json!(p));
                }
                if changed.is_none() {
                    // Goods by default; 15–17 take `detailed_type`, 14 and 18+ `type`.
                    let ty = if self.has_field(PRODUCT, "detailed_type").await? {
                        "detailed_type"
                    } else {
                        "type"
                    };
                    v.insert(ty.into(), json!("consu"));
                }
            }
            Kind::Order => {
                return Err(ConnectorError::Unsupported {
                    system: SYSTEM.into(),
                    what:
                        "orders written from another system (orders flow Odoo → Clientify, ODO-4)"
                            .into(),
                })
            }
        }
        Ok(v)
    }

    fn kind_check(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Budget | Kind::Stock => Err(ConnectorError::unsupported(SYSTEM, kind)),
            Kind::Order => Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: "orders written from another system (orders flow Odoo → Clientify, ODO-4)"
                    .into(),
            }),
            _ => Ok(()),
        }
    }
}

/// A many2one as written: the id, or `false` to clear it.
fn m2o_value(id: Option<i64>) -> Value {
    id.map_or(json!(false), |i| json!(i))
}

#[async_trait]
impl Connector for Odoo {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    /// ODO-8: `version()` first (a known protocol at that URL), then `authenticate`
    /// (`false` is "credentials rejected", naming the user and database).
    async fn check(&self) -> Result<(), ConnectorError> {
        let (v, _uid) = self.client.check().await?;
        *lock(&self.version) = Some(v);
        if v < 14 {
            return Err(ConnectorError::Vendor {
                system: SYSTEM.into(),
                status: 200,
                message: format!(
                    "Odoo {v} is not supported; Puente needs Odoo 14 or later (API keys)"
                ),
                transient: false,
            });
        }
        Ok(())
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        // Nothing to create in Odoo: records are linked by `ref` and `default_code`.
        Ok(Vec::new())
    }

    fn supports(&self, kind: Kind) -> bool {
        !matches!(kind, Kind::Budget | Kind::Stock)
    }

    fn id_syntax(&self, _kind: Kind) -> crate::IdSyntax {
        crate::IdSyntax::Integer
    }

    fn calls(&self) -> CallStats {
        self.client.calls()
    }

    fn reset_budget(&self) {
        self.client.reset_budget()
    }

    fn read(&self) -> &dyn Read {
        self
    }

    fn write(&self) -> Option<&dyn Write> {
        Some(self)
    }
}

#[async_trait]
impl Read for Odoo {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let since = q.modified_since;
        if kind == Kind::Budget {
            return Err(ConnectorError::unsupported(SYSTEM, kind));
        }
        let offset: u32 = page.and_then(|p| p.parse().ok()).unwrap_or(0);
        let (domain, order) = match since {
            // Full: by id, which edits during the run do not reorder.
            None => (Domain::new(), "id asc"),
            Some(t) => {
                let own = Domain::new().since("write_date", t);
                let d = match kind {
                    // Line edits do not bump the order (module doc).
                    Kind::Order => own.or_else(Domain::new().since("order_line.write_date", t)),
                    Kind::Product => {
                        own.or_else(Domain::new().since("product_tmpl_id.write_date", t))
                    }
                    _ => own,
                };
                (d, "write_date asc, id asc")
            }
        };
        let records = self
            .read_kind(kind, &domain, Some(self.page_size), offset, order)
            .await?;
        let next = (records.len() as u32 >= self.page_size)
            .then(|| (offset + records.len() as u32).to_string());
        Ok(Page {
            records,
            next,
            total: None,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        if kind == Kind::Budget {
            return Err(ConnectorError::unsupported(SYSTEM, kind));
        }
        self.read_one(kind, parse_id(id)?).await
    }
}

#[async_trait]
impl Write for Odoo {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (
                Kind::Contact | Kind::Company,
                KeyKind::TaxId | KeyKind::Email
            ) | (Kind::Product, KeyKind::Sku)
                | (Kind::Order, KeyKind::Order)
        )
    }

    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        key: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        if !self.searchable(kind, spec.kind) {
            return Err(unsearchable(kind, spec));
        }
        let domain = match kind {
            Kind::Contact | Kind::Company if spec.kind == KeyKind::Email => {
                Domain::leaf("email", "=ilike", like_exact(key))
            }
            Kind::Contact | Kind::Company => Domain::leaf("ref", "=ilike", like_exact(key))
                .or_else(Domain::leaf(
                    "ref",
                    "=ilike",
                    format!("ES{}", like_exact(key)),
                )),
            Kind::Product => Domain::leaf("default_code", "=ilike", like_exact(key)),
            Kind::Order => {
                let (shop, number) = key.split_once('/').unwrap_or(("", key));
                if shop != ECOMMERCE {
                    return Ok(Vec::new());
                }
                Domain::new().eq("name", number)
            }
            Kind::Budget | Kind::Stock => return Err(ConnectorError::unsupported(SYSTEM, kind)),
        };
        let found = self.read_kind(kind, &domain, Some(20), 0, "id asc").await?;
        Ok(found
            .into_iter()
            .filter(|r| spec.value(&r.fields).is_ok_and(|k| k == key))
            .collect())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::kind_check(kind)?;
        let mut vals = Value::Object(self.vals_for(kind, fields, None).await?);
        self.adjust(kind, &mut vals, fields, None)?;
        let id = self.client.create(model_of(kind), vals).await?;
        self.read_one(kind, id).await?.ok_or_else(|| {
            decode(format!(
                "{} {id} was created but cannot be read back",
                model_of(kind)
            ))
        })
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::kind_check(current.kind)?;
        let (target, changed) = current.fields.apply(set, clear);
        let mut vals = Value::Object(self.vals_for(current.kind, &target, Some(&changed)).await?);
        self.adjust(current.kind, &mut vals, &target, Some(&changed))?;
        if vals.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(current.clone());
        }
        let id = parse_id(&current.id)?;
        self.client
            .write(model_of(current.kind), &[id], vals)
            .await?;
        self.read_one(current.kind, id)
            .await?
            .ok_or_else(|| ConnectorError::NotFound {
                system: SYSTEM.into(),
                what: format!("{} {id}", model_of(current.kind)),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odo4_order_states_map_per_version() {
        assert_eq!(order_status("sale", false), "confirmed");
        assert_eq!(order_status("sale", true), "locked");
        assert_eq!(order_status("done", false), "locked");
        assert_eq!(order_status("cancel", false), "cancelled");
        assert_eq!(order_status("draft", false), "draft");
        assert_eq!(order_status("sent", false), "draft");
    }

    #[test]
    fn odo1_state_display_names_lose_the_country_suffix() {
        assert_eq!(state_name("Madrid (ES)"), "Madrid");
        assert_eq!(state_name("A Coruña (La Coruña)"), "A Coruña (La Coruña)");
        assert_eq!(like_exact("A_1%"), "A\\_1\\%");
    }

    /// The default mapping file beside this module says what the reader does, line by
    /// line, for rows with everything, with Odoo's `false` gaps and with odd shapes.
    #[test]
    fn platform_default_mapping_file_agrees_with_the_reader() {
        let m = crate::kit::defaults::DefaultMapping::parse(include_str!("mapping.toml")).unwrap();
        let row = |v: Value| v.as_object().unwrap().clone();
        let partners = [
            (
                Kind::Contact,
                json!({"id": 7, "name": "Ana Pérez", "ref": "12.345.678-z", "email": "ana@x.es",
                "phone": "981 000 000", "mobile": "600 000 000", "street": "Rúa Nova 1", "city": "Lugo",
                "zip": "27001", "country_id": [68, "Spain"], "state_id": [400, "Lugo (ES)"]}),
            ),
            (
                Kind::Contact,
                json!({"id": 8, "name": "Sin Datos", "ref": false, "email": false, "phone": false,
                "street": false, "city": false, "zip": false, "country_id": false, "state_id": false}),
            ),
            (
                Kind::Company,
                json!({"id": 9, "name": "Talleres", "display_name": "Talleres Lugo SL", "ref": "B27123456",
                "email": "info@t.es", "phone": "+34 981 1", "street": "Polígono", "city": "Lugo", "zip": "27003",
                "country_id": [68, "Spain"], "state_id": [401, "A Coruña (La Coruña)"]}),
            ),
            (
                Kind::Company,
                json!({"id": 10, "name": "Lisboa Lda", "display_name": false, "ref": false,
                "email": false, "phone": false, "street": false, "city": false, "zip": false,
                "country_id": [183, "Portugal"], "state_id": [500, "Lisboa (PT)"]}),
            ),
        ];
        for (kind, raw) in partners {
            let mut rec = Record::new(
                SYSTEM,
                kind,
                "1",
                Odoo::partner_canonical(kind, &row(raw.clone())),
            );
            let country = many2one(&raw["country_id"])
                .map(|(_, name)| canonical_country(&name))
                .unwrap_or_default();
            rec.fields.set("country", country);
            assert_eq!(m.read_mismatches(&raw, &rec), Vec::<String>::new(), "{raw}");
        }
        for raw in [
            json!({"id": 3, "default_code": " bon-1001", "name": "Bono", "list_price": 19.9, "write_date": "2026-11-02 10:00:00"}),
            json!({"id": 4, "default_code": false, "name": "Sin código", "list_price": 0.0, "write_date": false}),
        ] {
            let rec = Odoo::product_record(&row(raw.clone()));
            assert_eq!(m.read_mismatches(&raw, &rec), Vec::<String>::new(), "{raw}");
        }
        // The country line reads Odoo's display name; the connector its code: one answer.
        assert_eq!(canonical_country("Spain"), "ES");
        assert_eq!(canonical_country("Portugal"), "PT");
    }
}
