//! Canonical records: what every connector maps its vendor's JSON to and from.
//!
//! Fields are a sorted map of canonical field name → value, with the empty string meaning
//! "absent" (vendors disagree on `null`, `""` and a missing key; the engine must not). Keeping
//! them as a map rather than a struct per entity lets one merge, one hash and one diff serve
//! every entity and every flow.

use crate::taxid::TaxId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The entity kinds Puente syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Contact,
    Company,
    /// Products, matched by SKU (ALG-7, ODO-3).
    Product,
    /// Sales orders, matched by the selling system and its order number (ODO-4).
    Order,
    /// Budgets / quotes (ALG-8: Alegra estimates ⇄ Clientify budgets), matched by the code
    /// `ALG-{alegra id}`, which only exists once the estimate does (see
    /// [`Kind::key_minted_on_create`]).
    Budget,
    /// Stock levels of products, matched by SKU: an update-only entity (APC-4, accounting →
    /// shop).
    Stock,
}

/// Canonical contact fields (persons). `tax_id` is also the natural key (ALG-2).
pub const CONTACT_FIELDS: &[&str] = &[
    "tax_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "status",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    // Added for the shops and accounting systems (APC-1, ROA-8); see `Kind::base_fields`.
    "company_name",
];

/// Canonical company fields (ALG-6: Alegra providers ⇄ Clientify companies).
pub const COMPANY_FIELDS: &[&str] = &[
    "tax_id",
    "name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
];

/// Canonical product fields (ODO-3: name, list_price → price, SKU; ALG-7 adds description
/// and taxes). `sku` is the natural key; `price` a [`crate::sku::decimal`]; `taxes` the
/// product's tax rates as [`tax_rates`] (percentages, not vendor tax ids, so both sides
/// compare). Flows whose vendors lack a field leave it empty on both sides.
/// Added for the shops and accounting systems (APC-6, ROA-7; see `Kind::base_fields`):
/// `ean` (EAN/GTIN), `summary` (a short description beside the long `description`),
/// `price_incl_tax` (a [`crate::sku::decimal`]), `currency`, `category` (a path such as
/// `Accesorios/Fundas`), `code` (another system's id kept as a code, ROA-7), `unit`, and
/// `type`: empty for a simple product, else what kind of product it is (`variable`: one
/// with variants), which a flow of simple products only filters out with a reason (APC-6).
pub const PRODUCT_FIELDS: &[&str] = &[
    "sku",
    "name",
    "price",
    "description",
    "taxes",
    "ean",
    "summary",
    "price_incl_tax",
    "currency",
    "category",
    "code",
    "unit",
    "type",
];

/// Canonical budget fields (ALG-8). `code` is the natural key (`ALG-{alegra id}`),
/// `customer` the tax id of the contact or company it is for (both sides link parties by tax
/// id, so the key is what compares; the vendor ids are resolved when writing), `date` and
/// `due_date` `YYYY-MM-DD`, `total` a [`crate::sku::decimal`], `lines` the lines as
/// canonical JSON (see [`budget_lines`]).
pub const BUDGET_FIELDS: &[&str] = &[
    "code",
    "customer",
    "date",
    "due_date",
    "observations",
    "total",
    "lines",
];

/// Canonical sales-order fields (ODO-4). `order_id` is the selling system's number (Odoo
/// `name`), `ecommerce` the selling system's label (`Odoo`); together they are the natural
/// key. `order_date` is RFC 3339 UTC (`2026-11-22T10:00:00Z`), `status` one of
/// [`ORDER_STATUSES`], `currency` an ISO 4217 code, and `items` the lines as canonical JSON
/// (see [`order_items`]): one value, so a changed line is a changed order.
///
/// Added for the shops and accounting systems (APC-1..3, ROA-2, ROA-6; see
/// `Kind::base_fields`): `customer` (the natural key of the customer it is for; its vendor
/// id is resolved when writing, as for budgets), `total` (a decimal), `payment` (the
/// selling system's payment state, lower case: `paid`, `pending`, `refunded`…),
/// `payment_method`, `shipping_method`, `shipping_cost` (a decimal), `shipping_address`
/// (one line of text).
pub const ORDER_FIELDS: &[&str] = &[
    "order_id",
    "ecommerce",
    "status",
    "order_date",
    "currency",
    "items",
    "customer",
    "total",
    "payment",
    "payment_method",
    "shipping_method",
    "shipping_cost",
    "shipping_address",
];

/// Canonical stock fields (APC-4): `sku` the key; `available` (on hand), `reserved`
/// (ordered by customers, not yet delivered) as decimals; `managed` (`true`/`false`: whether
/// the shop keeps stock for the product at all).
pub const STOCK_FIELDS: &[&str] = &["sku", "available", "reserved", "managed"];

/// Canonical statuses of ERP orders: `confirmed` (Odoo `sale`), `locked` (Odoo 16 `done`,
/// 17+ `locked`), `cancelled` (`cancel`), and `draft` (quotations, never sent). Shops keep
/// their own status words (lower case), which their flows' filters name.
pub const ORDER_STATUSES: &[&str] = &["draft", "confirmed", "locked", "cancelled"];

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Contact,
        Kind::Company,
        Kind::Product,
        Kind::Order,
        Kind::Budget,
        Kind::Stock,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
            Kind::Product => "product",
            Kind::Order => "order",
            Kind::Budget => "budget",
            Kind::Stock => "stock",
        }
    }

    /// The fields the kind had before the shops and accounting systems came (the first
    /// `n` of [`Kind::fields`]). A record's hash covers these always (empty ones included,
    /// as before) and the later fields only when set, so adding canonical fields never
    /// makes a link of an existing pair look changed.
    pub fn base_fields(self) -> &'static [&'static str] {
        let n = match self {
            Kind::Contact => 12,
            Kind::Company | Kind::Budget | Kind::Stock => self.fields().len(),
            Kind::Product => 5,
            Kind::Order => 6,
        };
        &self.fields()[..n]
    }

    /// Whether the natural key is minted by the system a record is created in (ALG-8: a
    /// budget made in Clientify has no `ALG-{id}` until Alegra gives the estimate an id), so
    /// a record without one is new rather than ineligible.
    pub fn key_minted_on_create(self) -> bool {
        self == Kind::Budget
    }

    /// The canonical fields of this kind, in a fixed order (hashes depend on it).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => CONTACT_FIELDS,
            Kind::Company => COMPANY_FIELDS,
            Kind::Product => PRODUCT_FIELDS,
            Kind::Order => ORDER_FIELDS,
            Kind::Budget => BUDGET_FIELDS,
            Kind::Stock => STOCK_FIELDS,
        }
    }

    /// The canonical field holding (part of) the natural key.
    pub fn key_field(self) -> &'static str {
        match self {
            Kind::Contact | Kind::Company => "tax_id",
            Kind::Product | Kind::Stock => "sku",
            Kind::Order => "order_id",
            Kind::Budget => "code",
        }
    }

    /// What the natural key is called in messages.
    pub fn key_label(self) -> &'static str {
        match self {
            Kind::Contact | Kind::Company => "identification",
            Kind::Product | Kind::Stock => "SKU",
            Kind::Order => "order number",
            Kind::Budget => "budget code",
        }
    }
}

pub use crate::keys::KeyError;

/// The natural key of a record of `kind` with `fields` under the entity's default rules
/// ([`crate::rules::EntityRules::for_kind`]), as a matching string: the canonical tax id
/// (contacts, companies), the upper-cased SKU (products), `ecommerce/order_id` (orders: two
/// shops may both have an order `1001`), the budget code. A flow with other match keys asks
/// its own rules instead.
pub fn natural_key(kind: Kind, fields: &Fields) -> Result<String, KeyError> {
    crate::rules::EntityRules::for_kind(kind).key_of(fields)
}

/// One order line as canonical data (ODO-5), a sales document's typed line (platform.md
/// §7): a product, shipping or a fee, with its discount and tax rate when the seller gives
/// them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub name: String,
    /// The product's barcode (ODO-5), else its SKU; empty for lines without a product.
    pub sku: String,
    /// Unit price, a [`crate::sku::decimal`].
    pub price: String,
    /// A [`crate::sku::decimal`].
    pub quantity: String,
    /// Discount in percent, a decimal; empty: none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub discount: String,
    /// Tax rate in percent, a decimal; empty: not said.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tax: String,
    /// `shipping` or `fee` for lines that are not products; empty: a product.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub line_kind: String,
}

/// The canonical `items` value of an order: a JSON array of `{name, sku, price, quantity}`
/// with sorted keys and decimals as canonical strings, in the order's line order. Both
/// sides of a flow produce byte-identical text for the same lines, so hashes compare.
pub fn order_items(items: &[OrderItem]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let v: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            let mut o = serde_json::json!({
                "name": i.name.trim(),
                "sku": i.sku.trim(),
                "price": crate::sku::canonical_decimal(&i.price),
                "quantity": crate::sku::canonical_decimal(&i.quantity),
            });
            // Later keys only when set: lines without them read as before.
            for (k, v) in [
                ("discount", crate::sku::canonical_decimal(&i.discount)),
                ("tax", crate::sku::canonical_decimal(&i.tax)),
                ("line_kind", i.line_kind.trim().to_string()),
            ] {
                if !v.is_empty() {
                    o[k] = serde_json::Value::String(v);
                }
            }
            o
        })
        .collect();
    serde_json::to_string(&v).expect("items serialise")
}

/// Reads a canonical `items` value back (empty or unreadable: no lines).
pub fn parse_order_items(s: &str) -> Vec<OrderItem> {
    serde_json::from_str(s).unwrap_or_default()
}

/// The canonical `taxes` value of a product or line: its tax percentages as canonical
/// decimals, sorted and comma-joined (`"10,21"`), empty for none.
pub fn tax_rates<S: AsRef<str>>(percentages: &[S]) -> String {
    let mut v: Vec<String> = percentages
        .iter()
        .map(|p| crate::sku::canonical_decimal(p.as_ref()))
        .filter(|p| !p.is_empty())
        .collect();
    v.sort_by(|a, b| {
        let (x, y) = (a.parse::<f64>(), b.parse::<f64>());
        match (x, y) {
            (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
            _ => a.cmp(b),
        }
    });
    v.dedup();
    v.join(",")
}

/// Reads a canonical `taxes` value back into percentages.
pub fn parse_tax_rates(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// One budget line as canonical data (ALG-8). The product is named by its SKU (the link key
/// of products, ALG-7), never by a vendor id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub sku: String,
    pub name: String,
    /// Unit price, a [`crate::sku::decimal`].
    pub price: String,
    pub quantity: String,
    /// Discount in percent.
    pub discount: String,
    /// Tax rates, as [`tax_rates`].
    pub taxes: String,
}

/// The canonical `lines` value of a budget: a JSON array with sorted keys and canonical
/// decimals, in line order (like [`order_items`]), so both sides hash the same text.
pub fn budget_lines(lines: &[BudgetLine]) -> String {
    if lines.is_empty() {
        return String::new();
    }
    let v: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            let d = crate::sku::canonical_decimal(&l.discount);
            serde_json::json!({
                "sku": crate::sku::canonical_sku(&l.sku),
                "name": l.name.trim(),
                "price": crate::sku::canonical_decimal(&l.price),
                "quantity": crate::sku::canonical_decimal(&l.quantity),
                "discount": if d.is_empty() { "0".to_string() } else { d },
                "taxes": tax_rates(&parse_tax_rates(&l.taxes)),
            })
        })
        .collect();
    serde_json::to_string(&v).expect("lines serialise")
}

/// Reads a canonical `lines` value back (empty or unreadable: no lines).
pub fn parse_budget_lines(s: &str) -> Vec<BudgetLine> {
    serde_json::from_str(s).unwrap_or_default()
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "contact" | "contacts" => Ok(Kind::Contact),
            "company" | "companies" => Ok(Kind::Company),
            "product" | "products" => Ok(Kind::Product),
            "order" | "orders" => Ok(Kind::Order),
            "budget" | "budgets" => Ok(Kind::Budget),
            "stock" | "stocks" => Ok(Kind::Stock),
            other => Err(format!(
                "unknown entity '{other}'; expected 'contact', 'company', 'product', 'order', 'budget' or 'stock'"
            )),
        }
    }
}

/// Canonical field values. Empty means absent, so `set(f, "")` removes `f`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    /// The value of `field`, or `""` when absent.
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }

    /// Sets `field` to the trimmed `value`; an empty value removes the field.
    pub fn set(&mut self, field: &str, value: impl AsRef<str>) {
        let v = value.as_ref().trim();
        if v.is_empty() {
            self.0.remove(field);
        } else {
            self.0.insert(field.to_string(), v.to_string());
        }
    }

    /// Builder form of [`Fields::set`].
    pub fn with(mut self, field: &str, value: impl AsRef<str>) -> Fields {
        self.set(field, value);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// These fields with `set` applied and `clear` removed, and the names of every field
    /// touched (what a connector's partial update must write).
    pub fn apply(&self, set: &Fields, clear: &[String]) -> (Fields, Vec<String>) {
        let mut out = self.clone();
        for (k, v) in set.iter() {
            out.set(k, v);
        }
        for k in clear {
            out.set(k, "");
        }
        let mut touched = set.names();
        touched.extend(clear.iter().cloned());
        (out, touched)
    }

    /// Field names present (non-empty).
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// Canonical value of a raw identification: the normalised [`TaxId`] when it parses, otherwise
/// the trimmed raw text (kept so eligibility can say why it is invalid).
pub fn canonical_tax_id(raw: &str) -> String {
    match TaxId::parse(raw) {
        Ok(t) => t.to_string(),
        Err(_) => raw.trim().to_string(),
    }
}

/// Canonical relationship of a contact with the business (ALG-4), the value of the `status`
/// field: both vendors map their own vocabulary onto these three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    Client,
    Lead,
    Other,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Client => "client",
            Relationship::Lead => "lead",
            Relationship::Other => "other",
        }
    }

    /// Reads the canonical `status` value; anything unknown or empty is `Other`.
    pub fn from_canonical(s: &str) -> Relationship {
        match s {
            "client" => Relationship::Client,
            "lead" => Relationship::Lead,
            _ => Relationship::Other,
        }
    }
}

/// One vendor record, mapped to canonical fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The system it came from, e.g. `clientify`.
    pub system: String,
    pub kind: Kind,
    /// The vendor's id, as a string (Alegra sends strings, Clientify numbers).
    pub id: String,
    /// Last modification time as the vendor reports it (ALG-10 compares these).
    pub modified: Option<DateTime<Utc>>,
    pub fields: Fields,
    /// The counterpart's id as stored in this record itself (Clientify's `in_alegra` custom
    /// field, ALG-2 step 1), when the vendor keeps one.
    pub partner_ref: Option<String>,
    /// Whether the record carries the link marks the flow puts on it (e.g. tag `alegra`,
    /// ALG-5). Vendors without marks report `true`.
    pub marked: bool,
    /// When the record was created, where the vendor says (a backfill takes the records
    /// created since a date: ROA-1).
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    /// Vendor data a connector needs to write the record back (e.g. Alegra's `type` list, so
    /// a provider stays a provider). Never hashed, never merged.
    #[serde(default)]
    pub extra: serde_json::Value,
}

impl Record {
    pub fn new(system: &str, kind: Kind, id: impl Into<String>, fields: Fields) -> Record {
        Record {
            system: system.to_string(),
            kind,
            id: id.into(),
            modified: None,
            fields,
            partner_ref: None,
            marked: true,
            created: None,
            extra: serde_json::Value::Null,
        }
    }

    /// The record's tax id when present and valid.
    pub fn tax_id(&self) -> Result<TaxId, crate::taxid::TaxIdError> {
        TaxId::parse(self.fields.get("tax_id"))
    }

    /// The record's natural key (see [`natural_key`]).
    pub fn key(&self) -> Result<String, KeyError> {
        natural_key(self.kind, &self.fields)
    }
}

/// Field names outside every kind's canonical fields (so never hashed, merged or compared)
/// through which the runtime hands a connector the ids a write refers to on the connector's
/// own side (ALG-8: a budget's customer and products, made to exist there first).
pub const REF_CUSTOMER: &str = "@customer_id";
/// `contact` or `company`: which kind [`REF_CUSTOMER`] is.
pub const REF_CUSTOMER_KIND: &str = "@customer_kind";

/// A field outside every kind's canonical fields (never hashed, merged or written) through
/// which a connector says a record it read cannot take part, and why, in the user's terms
/// (an Alegra contact identified by a foreign VAT number): the record is skipped with that
/// reason instead of being matched by a key it does not really have.
pub const UNSUPPORTED: &str = "@unsupported";

/// The reference field holding the id of the product with SKU key `sku_key`.
pub fn ref_product(sku_key: &str) -> String {
    format!("@product:{sku_key}")
}

/// What a record refers to on its own system (ALG-8): connectors put it in `extra.refs` as
/// `{"customer": {"id", "kind"}, "products": {SKU key: id}}` so the runtime can make those
/// records exist on the other side before the record itself is written there.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencyRefs {
    #[serde(default)]
    pub customer: Option<CustomerRef>,
    /// SKU key ([`Sku::key`]) → the product's id on the record's system.
    #[serde(default)]
    pub products: BTreeMap<String, String>,
}

/// A budget's or order's customer on its own system. `kind` is `None` when the vendor does
/// not say (Alegra estimates name a contact, which may be a person or a provider).
///
/// A shop's order often carries its customer inside it (a guest has no customer record):
/// then `fields` holds the customer's canonical fields and `id` is empty; the runtime
/// syncs that customer like a record of its own, identified by its natural key.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    #[serde(default)]
    pub id: String,
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
}

/// The id prefix of a record that lives inside another (a guest customer inside a shop
/// order): `key:` and its natural key. Such a record is read from its document and never
/// written back; the id only names it in links.
pub const EMBEDDED_ID_PREFIX: &str = "key:";

impl Record {
    /// A record carried inside another one (see [`EMBEDDED_ID_PREFIX`]), named by its key.
    pub fn embedded(system: &str, kind: Kind, key: &str, fields: Fields) -> Record {
        Record::new(system, kind, format!("{EMBEDDED_ID_PREFIX}{key}"), fields)
    }

    /// Whether this record lives inside another and so cannot be written on its own.
    pub fn is_embedded(&self) -> bool {
        is_embedded_id(&self.id)
    }

    /// The value of canonical `field`, also when the flow does not sync it (a flow that
    /// filters orders by status without writing the status: the field is kept aside in
    /// `extra.hidden_fields`, see [`HIDDEN_FIELDS`]).
    pub fn value(&self, field: &str) -> &str {
        match self.fields.get(field) {
            "" => self
                .extra
                .get(HIDDEN_FIELDS)
                .and_then(|h| h.get(field))
                .and_then(|v| v.as_str())
                .unwrap_or(""),
            v => v,
        }
    }

    /// The records this one refers to, as its connector reported them (empty for most kinds).
    pub fn dependency_refs(&self) -> DependencyRefs {
        self.extra
            .get("refs")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default()
    }
}

/// Where a record keeps the canonical fields its flow does not sync (out of the engine's
/// sight, but still there for filters and for the connector when it writes the record).
pub const HIDDEN_FIELDS: &str = "hidden_fields";

impl OrderItem {
    /// What names the line's product in a document's dependencies
    /// ([`DependencyRefs::products`], [`ref_product`]): its SKU key, or for a product
    /// without SKU its folded name (`name:funda negra`). Both sides of a flow compute it
    /// from the canonical line, so the ids the runtime hands over find their lines.
    pub fn ref_key(&self) -> String {
        match crate::sku::Sku::parse(&self.sku) {
            Ok(s) => s.key(),
            Err(_) => format!(
                "name:{}",
                crate::keys::Name::parse(&self.name)
                    .map(|n| n.as_str().to_string())
                    .unwrap_or_default()
            ),
        }
    }
}

/// Whether `id` names an embedded record (see [`EMBEDDED_ID_PREFIX`]).
pub fn is_embedded_id(id: &str) -> bool {
    id.starts_with(EMBEDDED_ID_PREFIX)
}
