//! Canonical records: what every connector maps its vendor's JSON to and from.
//!
//! Fields are a sorted map of canonical field name → value, with the empty string meaning
//! "absent" (vendors disagree on `null`, `""` and a missing key; the engine must not). Keeping
//! them as a map rather than a struct per entity lets one merge, one hash and one diff serve
//! every entity and every flow.

use crate::sku::Sku;
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

/// Canonical product fields (ODO-3: name, list_price → price, SKU). `sku` is the natural
/// key; `price` a [`crate::sku::decimal`].
pub const PRODUCT_FIELDS: &[&str] = &["sku", "name", "price"];

/// Canonical sales-order fields (ODO-4). `order_id` is the selling system's number (Odoo
/// `name`), `ecommerce` the selling system's label (`Odoo`); together they are the natural
/// key. `order_date` is RFC 3339 UTC (`2026-11-22T10:00:00Z`), `status` one of
/// [`ORDER_STATUSES`], `currency` an ISO 4217 code, and `items` the lines as canonical JSON
/// (see [`order_items`]): one value, so a changed line is a changed order.
pub const ORDER_FIELDS: &[&str] = &[
    "order_id",
    "ecommerce",
    "status",
    "order_date",
    "currency",
    "items",
];

/// Canonical order statuses: `confirmed` (Odoo `sale`), `locked` (Odoo 16 `done`, 17+
/// `locked`), `cancelled` (`cancel`), and `draft` (quotations, never sent).
pub const ORDER_STATUSES: &[&str] = &["draft", "confirmed", "locked", "cancelled"];

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Contact, Kind::Company, Kind::Product, Kind::Order];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
            Kind::Product => "product",
            Kind::Order => "order",
        }
    }

    /// The canonical fields of this kind, in a fixed order (hashes depend on it).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => CONTACT_FIELDS,
            Kind::Company => COMPANY_FIELDS,
            Kind::Product => PRODUCT_FIELDS,
            Kind::Order => ORDER_FIELDS,
        }
    }

    /// The canonical field holding (part of) the natural key.
    pub fn key_field(self) -> &'static str {
        match self {
            Kind::Contact | Kind::Company => "tax_id",
            Kind::Product => "sku",
            Kind::Order => "order_id",
        }
    }

    /// What the natural key is called in messages.
    pub fn key_label(self) -> &'static str {
        match self {
            Kind::Contact | Kind::Company => "identification",
            Kind::Product => "SKU",
            Kind::Order => "order number",
        }
    }
}

/// Why a record has no usable natural key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// The key field is empty.
    Missing,
    /// The key field holds something unusable; the reason.
    Invalid(String),
}

/// The natural key of a record of `kind` with `fields`, as a matching string: the canonical
/// tax id (contacts, companies), the upper-cased SKU (products), or `ecommerce/order_id`
/// (orders: two shops may both have an order `1001`).
pub fn natural_key(kind: Kind, fields: &Fields) -> Result<String, KeyError> {
    let raw = fields.get(kind.key_field());
    if raw.is_empty() {
        return Err(KeyError::Missing);
    }
    match kind {
        Kind::Contact | Kind::Company => TaxId::parse(raw)
            .map(|t| t.to_string())
            .map_err(|e| KeyError::Invalid(e.to_string())),
        Kind::Product => Sku::parse(raw)
            .map(|s| s.key())
            .map_err(|e| KeyError::Invalid(e.to_string())),
        Kind::Order => {
            let shop = fields.get("ecommerce");
            if shop.is_empty() {
                return Err(KeyError::Invalid(format!(
                    "order {raw} does not say which system sold it (`ecommerce`)"
                )));
            }
            Ok(format!("{shop}/{raw}"))
        }
    }
}

/// One order line as canonical data (ODO-5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrderItem {
    pub name: String,
    /// The product's barcode (ODO-5), else its SKU; empty for lines without a product.
    pub sku: String,
    /// Unit price, a [`crate::sku::decimal`].
    pub price: String,
    /// A [`crate::sku::decimal`].
    pub quantity: String,
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
            serde_json::json!({
                "name": i.name.trim(),
                "sku": i.sku.trim(),
                "price": crate::sku::canonical_decimal(&i.price),
                "quantity": crate::sku::canonical_decimal(&i.quantity),
            })
        })
        .collect();
    serde_json::to_string(&v).expect("items serialise")
}

/// Reads a canonical `items` value back (empty or unreadable: no lines).
pub fn parse_order_items(s: &str) -> Vec<OrderItem> {
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
            other => Err(format!(
                "unknown entity '{other}'; expected 'contact', 'company', 'product' or 'order'"
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
