//! Clientify (CRM), API v1. Facts from `spec/vendor-apis/clientify-alegra.md` §1; most are
//! [C] (seen in client code), so every path and field name Puente relies on is here.
//!
//! - Auth `Authorization: Token <key>`; DRF paging `{count,next,previous,results}`, 404
//!   `Invalid page.` past the end; `page_size` up to 250 accepted.
//! - Filters: `taxpayer_identification_number=`, `modified[gte]=` (ISO 8601), `ordering=`.
//! - PUT is a partial update; `emails`/`phones`/`addresses`/`tags` replace their lists;
//!   `custom_fields` `[{field,value}]` merge by name.
//! - The Alegra id lives in the custom field `in_alegra` (ALG-2 step 1, ALG-13) and every
//!   synced record carries the tag `alegra` (ALG-5).
//! - Products `/products/` (`sku`, `name`, `price`, filter `sku=`) [C: C7] and orders
//!   `/orders/` (`order_id`, `ecommerce`, `status`, `order_date`, `currency`, `items`
//!   `[{name, sku, price, quantity}]`; filters `order_id=`, `ecommerce=`): the endpoint exists
//!   [C: C1] but its payload is not documented, so these names follow ODO-4/ODO-5 and live
//!   only in [`product_record`], [`order_record`] and [`body_for`].
//! - Towards Alegra, products also carry `description` and `taxes` (ALG-7). Clientify's
//!   product tax fields are **not confirmed** by any source (§4 "product tax fields"); Puente
//!   reads and writes `taxes: [{"name", "percentage"}]` (the rate is what links to Alegra's
//!   tax ids) — change [`product_taxes`] and [`taxes_json`] when the real shape is known.
//! - Budgets `/budgets/` (ALG-8): **no endpoint was found** (§1.3 "Budgets/quotes: no
//!   endpoint found"); the sandbox models one DRF-style: `code` (`ALG-{alegra id}`, filter
//!   `code=`), `contact` / `company` (id on write; nested `{id, name,
//!   taxpayer_identification_number}` on read), `date`, `due_date` (`YYYY-MM-DD`),
//!   `observations`, `total`, `lines: [{product, sku, name, quantity, price, discount,
//!   taxes}]`. Every name is in [`budget_record`] and [`budget_body`].
//!
//! One connection serves one partner system ([`Partner`]): towards Alegra it keeps the marks
//! above and every canonical field; towards Odoo it keeps no marks but the contact type
//! (ODO-2 "Cliente actual") and maps exactly ODO-1/ODO-2's fields: a contact's whole name is
//! `first_name` (Odoo has one `name`), a company's `name` is also written to `business_name`,
//! countries are ISO codes in canonical form (Clientify keeps `España`, Odoo `ES`).

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::time::parse_vendor_time;
use crate::{Connector, Page};
use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use puente_core::country::{canonical_country, spanish_name};
use puente_core::{
    budget_lines, canonical_decimal, canonical_sku, canonical_tax_id, natural_key, order_items,
    parse_budget_lines, parse_order_items, parse_tax_rates, ref_product, tax_rates, BudgetLine,
    Fields, Kind, OrderItem, Record, Relationship, TaxId, REF_CUSTOMER, REF_CUSTOMER_KIND,
};
use serde_json::{json, Value};

pub const SYSTEM: &str = "clientify";
/// Clientify ids are whole numbers, for every entity.
pub const ID_SYNTAX: IdSyntax = IdSyntax::Integer;
/// Custom field holding the Alegra id (ALG-2, ALG-13).
pub const LINK_FIELD: &str = "in_alegra";
/// Tag every synced record carries (ALG-5).
pub const LINK_TAG: &str = "alegra";
const PHONE_MOBILE: i64 = 2;
const PHONE_MAIN: i64 = 1;

/// The system a Clientify connection syncs with: it decides the marks Puente keeps on
/// Clientify records and which canonical fields are mapped (module doc).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Partner {
    /// ALG-*: marks `in_alegra` + tag `alegra`, every canonical field.
    #[default]
    Alegra,
    /// ODO-*: no marks but the contact type; ODO-1/ODO-2 fields only.
    Odoo,
}

/// Settings of a Clientify connection.
#[derive(Clone, Debug)]
pub struct ClientifyConfig {
    pub base_url: String,
    pub api_key: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub partner: Partner,
}

pub struct Clientify {
    http: Http,
    page_size: u32,
    partner: Partner,
}

fn path(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts/",
        Kind::Company => "companies/",
        Kind::Product => "products/",
        Kind::Order => "orders/",
        Kind::Budget => "budgets/",
    }
}

fn object_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contact",
        Kind::Company => "company",
        Kind::Product => "product",
        Kind::Order => "order",
        Kind::Budget => "budget",
    }
}

/// ALG-8: the code prefix of budgets linked to Alegra estimates (`ALG-{alegra id}`).
pub const ALEGRA_CODE_PREFIX: &str = "ALG-";

/// Label Clientify orders carry in `ecommerce` when they come from Odoo (ODO-4).
pub const ODOO_ECOMMERCE: &str = "Odoo";

/// ALG-4, Clientify side: status slug → canonical relationship. Every lead-like stage is a
/// lead, so a `hot-lead` is not rewritten to `cold-lead` when Alegra says `lead`.
pub fn relationship_of(status: &str) -> Relationship {
    match status {
        "client" => Relationship::Client,
        "visitor" | "not-qualified-lead" | "cold-lead" | "warm-lead" | "hot-lead" | "in-deal" => {
            Relationship::Lead
        }
        _ => Relationship::Other,
    }
}

/// ALG-4, towards Clientify: canonical relationship → (status slug, contact type).
pub fn status_of(rel: Relationship) -> (&'static str, &'static str) {
    match rel {
        Relationship::Client => ("client", "Cliente actual"),
        Relationship::Lead => ("cold-lead", "Cliente potencial"),
        Relationship::Other => ("other", ""),
    }
}

fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn id_of(v: &Value) -> String {
    s(v, "id")
}

/// Maps a Clientify record to a canonical record, for the Alegra flow (see [`to_record_for`]).
pub fn to_record(kind: Kind, v: &Value) -> Record {
    to_record_for(Partner::Alegra, kind, v)
}

/// Maps a Clientify record of `kind` to a canonical record for a flow with `partner`.
pub fn to_record_for(partner: Partner, kind: Kind, v: &Value) -> Record {
    match kind {
        Kind::Product => return product_record_for(partner, v),
        Kind::Order => return order_record(v),
        Kind::Budget => return budget_record(v),
        Kind::Contact | Kind::Company => {}
    }
    if partner == Partner::Odoo {
        return odoo_party_record(kind, v);
    }
    let mut f = Fields::new();
    f.set(
        "tax_id",
        canonical_tax_id(&s(v, "taxpayer_identification_number")),
    );
    match kind {
        Kind::Contact => {
            f.set("first_name", s(v, "first_name"));
            f.set("last_name", s(v, "last_name"));
            f.set("status", relationship_of(&s(v, "status")).as_str());
        }
        _ => f.set("name", s(v, "name")),
    }
    let empty = Vec::new();
    let emails = v.get("emails").and_then(Value::as_array).unwrap_or(&empty);
    if let Some(e) = emails.first() {
        f.set("email", s(e, "email"));
    }
    let phones = v.get("phones").and_then(Value::as_array).unwrap_or(&empty);
    let is_mobile = |p: &&Value| p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE);
    if let Some(p) = phones.iter().find(|p| !is_mobile(p)) {
        f.set("phone", s(p, "phone"));
    }
    if kind == Kind::Contact {
        if let Some(p) = phones.iter().find(is_mobile) {
            f.set("mobile", s(p, "phone"));
        }
    } else if let Some(p) = phones.iter().find(is_mobile) {
        if f.get("phone").is_empty() {
            f.set("phone", s(p, "phone"));
        }
    }
    let addresses = v
        .get("addresses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if let Some(a) = addresses.first() {
        f.set("street", s(a, "street"));
        f.set("city", s(a, "city"));
        f.set("region", s(a, "state"));
        f.set("postal_code", s(a, "postal_code"));
        f.set("country", s(a, "country"));
    }
    let custom = v
        .get("custom_fields")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let partner = custom
        .iter()
        .find(|c| s(c, "field") == LINK_FIELD)
        .map(|c| s(c, "value"))
        .filter(|x| !x.is_empty() && x != "--");
    let tags = v.get("tags").and_then(Value::as_array).unwrap_or(&empty);
    let tagged = tags
        .iter()
        .any(|t| t.as_str() == Some(LINK_TAG) || s(t, "name") == LINK_TAG);
    let marked = tagged && (kind != Kind::Contact || contact_type_fits(v));
    Record {
        system: SYSTEM.into(),
        kind,
        id: id_of(v),
        modified: parse_vendor_time(&s(v, "modified")),
        fields: f,
        partner_ref: partner,
        marked,
        extra: json!({
            "emails": v.get("emails").cloned().unwrap_or(json!([])),
            "phones": v.get("phones").cloned().unwrap_or(json!([])),
            "addresses": v.get("addresses").cloned().unwrap_or(json!([])),
            "tags": v.get("tags").cloned().unwrap_or(json!([])),
        }),
    }
}

/// ALG-4: the contact type agrees with the status ("Cliente actual" for clients, "Cliente
/// potencial" for leads; anything for the rest). A status changed in Clientify itself leaves
/// the type behind, so Puente keeps it in step like the other marks it owns.
fn contact_type_fits(v: &Value) -> bool {
    let (_, want) = status_of(relationship_of(&s(v, "status")));
    want.is_empty() || s(v, "contact_type") == want
}

fn base_record(kind: Kind, v: &Value, fields: Fields) -> Record {
    Record {
        system: SYSTEM.into(),
        kind,
        id: id_of(v),
        modified: parse_vendor_time(&s(v, "modified")),
        fields,
        partner_ref: None,
        marked: true,
        extra: Value::Null,
    }
}

/// ODO-1/ODO-2: a contact or company as the Odoo flow sees it.
fn odoo_party_record(kind: Kind, v: &Value) -> Record {
    let mut f = Fields::new();
    f.set(
        "tax_id",
        canonical_tax_id(&s(v, "taxpayer_identification_number")),
    );
    let empty = Vec::new();
    let phones = v.get("phones").and_then(Value::as_array).unwrap_or(&empty);
    let is_mobile = |p: &&Value| p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE);
    let main = phones.iter().find(|p| !is_mobile(p)).map(|p| s(p, "phone"));
    let mobile = phones.iter().find(is_mobile).map(|p| s(p, "phone"));
    if kind == Kind::Contact {
        // Odoo has one `name`: the whole Clientify name is `first_name` (ODO-2).
        let name = [s(v, "first_name"), s(v, "last_name")]
            .iter()
            .map(|x| x.trim())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        f.set("first_name", name);
        f.set("status", relationship_of(&s(v, "status")).as_str());
        f.set("phone", main.unwrap_or_default());
        f.set("mobile", mobile.unwrap_or_default());
    } else {
        f.set("name", s(v, "name"));
        f.set("phone", main.or(mobile).unwrap_or_default());
    }
    let addresses = v
        .get("addresses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if let Some(a) = addresses.first() {
        f.set("street", s(a, "street"));
        f.set("city", s(a, "city"));
        if kind == Kind::Company {
            f.set("region", s(a, "state"));
        }
        f.set("postal_code", s(a, "postal_code"));
        f.set("country", canonical_country(&s(a, "country")));
    }
    let mut r = base_record(kind, v, f);
    r.marked = kind != Kind::Contact || contact_type_fits(v);
    r.extra = json!({
        "phones": v.get("phones").cloned().unwrap_or(json!([])),
        "addresses": v.get("addresses").cloned().unwrap_or(json!([])),
        "last_name": s(v, "last_name"),
        "business_name": s(v, "business_name"),
    });
    r
}

/// ODO-3: a Clientify product (`sku`, `name`, `price` as number or decimal string).
pub fn product_record(v: &Value) -> Record {
    product_record_for(Partner::Odoo, v)
}

/// A Clientify product for a flow with `partner`: ODO-3's fields, and towards Alegra also
/// `description` and `taxes` (ALG-7).
pub fn product_record_for(partner: Partner, v: &Value) -> Record {
    let mut f = Fields::new()
        .with("sku", canonical_sku(&s(v, "sku")))
        .with("name", s(v, "name"))
        .with("price", canonical_decimal(&s(v, "price")));
    if partner == Partner::Alegra {
        f.set("description", s(v, "description"));
        f.set("taxes", tax_rates(&product_taxes(v)));
    }
    base_record(Kind::Product, v, f)
}

/// The tax rates of a product or budget line: `taxes: [{name, percentage}]` (unconfirmed,
/// module doc).
pub fn product_taxes(v: &Value) -> Vec<String> {
    v.get("taxes")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|t| s(t, "percentage")).collect())
        .unwrap_or_default()
}

/// Canonical rates as Clientify `taxes` (named after the Spanish VAT, the only tax the
/// flow's users have; the name is informative, the rate is what is matched).
pub fn taxes_json(rates: &str) -> Value {
    Value::Array(
        parse_tax_rates(rates)
            .into_iter()
            .map(|p| json!({"name": format!("IVA {p}%"), "percentage": num(&p)}))
            .collect(),
    )
}

/// ALG-8: a Clientify budget (shape modelled, module doc). A code that is not `ALG-…` was
/// not given by Puente: the budget is new to Alegra, and its code is replaced by the
/// estimate's once it exists there.
pub fn budget_record(v: &Value) -> Record {
    let code = s(v, "code");
    let code = if code.to_uppercase().starts_with(ALEGRA_CODE_PREFIX) {
        code
    } else {
        String::new()
    };
    let (party, party_kind) = match (v.get("contact"), v.get("company")) {
        (Some(c), _) if !c.is_null() => (c.clone(), Kind::Contact),
        (_, Some(c)) if !c.is_null() => (c.clone(), Kind::Company),
        _ => (Value::Null, Kind::Contact),
    };
    let party_id = if party.is_object() {
        id_of(&party)
    } else {
        match &party {
            Value::Number(n) => n.to_string(),
            Value::String(x) => x.clone(),
            _ => String::new(),
        }
    };
    let mut products = serde_json::Map::new();
    let lines: Vec<BudgetLine> = v
        .get("lines")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|l| {
                    let sku = s(l, "sku");
                    let pid = s(l, "product");
                    if let (Ok(k), false) = (puente_core::Sku::parse(&sku), pid.is_empty()) {
                        products.insert(k.key(), json!(pid));
                    }
                    BudgetLine {
                        sku,
                        name: s(l, "name"),
                        price: s(l, "price"),
                        quantity: s(l, "quantity"),
                        discount: s(l, "discount"),
                        taxes: tax_rates(&product_taxes(l)),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let f = Fields::new()
        .with("code", code)
        .with(
            "customer",
            canonical_tax_id(&s(&party, "taxpayer_identification_number")),
        )
        .with("date", s(v, "date"))
        .with("due_date", s(v, "due_date"))
        .with("observations", s(v, "observations"))
        .with("total", canonical_decimal(&s(v, "total")))
        .with("lines", budget_lines(&lines));
    let mut r = base_record(Kind::Budget, v, f);
    r.extra = json!({"refs": {
        "customer": (!party_id.is_empty()).then(|| json!({"id": party_id, "kind": party_kind})),
        "products": products,
    }});
    r
}

/// A Clientify primary key as JSON: a number when it is one (ids are integers).
fn pk(id: &str) -> Value {
    id.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(id))
}

/// ALG-8 write body of a budget; the customer's and products' Clientify ids come from the
/// runtime's reference fields ([`puente_core::REF_CUSTOMER`]).
fn budget_body(fields: &Fields, touched: &dyn Fn(&str) -> bool) -> Result<Value, ConnectorError> {
    let mut b = serde_json::Map::new();
    for f in ["code", "date", "due_date", "observations"] {
        if touched(f) {
            b.insert(f.into(), json!(fields.get(f)));
        }
    }
    if touched("total") {
        b.insert("total".into(), num(fields.get("total")));
    }
    if touched("customer") {
        let id = fields.get(REF_CUSTOMER);
        if id.is_empty() {
            return Err(ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail: format!(
                    "the budget's customer {} has no Clientify contact or company",
                    fields.get("customer")
                ),
            });
        }
        let (set, unset) = if fields.get(REF_CUSTOMER_KIND) == "company" {
            ("company", "contact")
        } else {
            ("contact", "company")
        };
        b.insert(set.into(), pk(id));
        b.insert(unset.into(), Value::Null);
    }
    if touched("lines") {
        let mut out = Vec::new();
        for l in parse_budget_lines(fields.get("lines")) {
            let key = puente_core::Sku::parse(&l.sku)
                .map(|k| k.key())
                .unwrap_or_default();
            let pid = fields.get(&ref_product(&key));
            if pid.is_empty() {
                return Err(ConnectorError::Mapping {
                    system: SYSTEM.into(),
                    detail: format!(
                        "budget line '{}' (SKU '{}') has no Clientify product",
                        l.name, l.sku
                    ),
                });
            }
            out.push(json!({
                "product": pk(pid),
                "sku": l.sku,
                "name": l.name,
                "quantity": num(&l.quantity),
                "price": num(&l.price),
                "discount": num(&l.discount),
                "taxes": taxes_json(&l.taxes),
            }));
        }
        b.insert("lines".into(), Value::Array(out));
    }
    Ok(Value::Object(b))
}

/// ODO-4/ODO-5: a Clientify order.
pub fn order_record(v: &Value) -> Record {
    let items: Vec<OrderItem> = v
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| OrderItem {
                    name: s(i, "name"),
                    sku: s(i, "sku"),
                    price: s(i, "price"),
                    quantity: s(i, "quantity"),
                })
                .collect()
        })
        .unwrap_or_default();
    let date = parse_vendor_time(&s(v, "order_date"))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| s(v, "order_date"));
    let f = Fields::new()
        .with("order_id", s(v, "order_id"))
        .with("ecommerce", s(v, "ecommerce"))
        .with("status", s(v, "status"))
        .with("order_date", date)
        .with("currency", s(v, "currency"))
        .with("items", order_items(&items));
    base_record(Kind::Order, v, f)
}

/// A canonical decimal as a JSON number (Clientify takes numbers or decimal strings).
fn num(x: &str) -> Value {
    x.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(x))
}

/// The body writing a product or order (all fields on create, the changed ones on update).
fn catalog_body(
    kind: Kind,
    fields: &Fields,
    touched: &dyn Fn(&str) -> bool,
    creating: bool,
) -> Value {
    let mut b = serde_json::Map::new();
    if kind == Kind::Product {
        for f in ["sku", "name"] {
            if touched(f) {
                b.insert(f.into(), json!(fields.get(f)));
            }
        }
        if touched("price") {
            b.insert("price".into(), num(fields.get("price")));
        }
        // Only the Alegra flow maps these (ODO-3 has no description nor taxes): an Odoo
        // product never reports them, so they are never "touched" there on update.
        if touched("description") && (!creating || !fields.get("description").is_empty()) {
            b.insert("description".into(), json!(fields.get("description")));
        }
        if touched("taxes") && (!creating || !fields.get("taxes").is_empty()) {
            b.insert("taxes".into(), taxes_json(fields.get("taxes")));
        }
        return Value::Object(b);
    }
    for f in ["order_id", "ecommerce", "status", "order_date", "currency"] {
        if touched(f) {
            b.insert(f.into(), json!(fields.get(f)));
        }
    }
    if touched("items") {
        let items: Vec<Value> = parse_order_items(fields.get("items"))
            .into_iter()
            .map(|i| json!({"name": i.name, "sku": i.sku, "price": num(&i.price), "quantity": num(&i.quantity)}))
            .collect();
        b.insert("items".into(), Value::Array(items));
    }
    Value::Object(b)
}

/// ODO-1/ODO-2 write body (Odoo flow): only the mapped fields.
fn odoo_party_body(
    kind: Kind,
    fields: &Fields,
    touched: &dyn Fn(&str) -> bool,
    current: Option<&Record>,
) -> Value {
    let mut b = serde_json::Map::new();
    if touched("tax_id") {
        b.insert(
            "taxpayer_identification_number".into(),
            json!(fields.get("tax_id")),
        );
    }
    let extra = |k: &str| -> String {
        current
            .and_then(|c| c.extra.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    if kind == Kind::Contact {
        if touched("first_name") {
            b.insert("first_name".into(), json!(fields.get("first_name")));
            if current.is_some() && !extra("last_name").is_empty() {
                b.insert("last_name".into(), json!(""));
            }
        }
        if touched("status") {
            let (status, ctype) = status_of(Relationship::from_canonical(fields.get("status")));
            b.insert("status".into(), json!(status));
            if !ctype.is_empty() || current.is_some() {
                b.insert("contact_type".into(), json!(ctype));
            }
        }
    } else if touched("name") {
        // ODO-1: Odoo display_name → name and name → business_name (the same for companies).
        b.insert("name".into(), json!(fields.get("name")));
        b.insert("business_name".into(), json!(fields.get("name")));
    }
    let list = |key: &str| -> Vec<Value> {
        current
            .and_then(|c| c.extra.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    if touched("phone") || touched("mobile") {
        let mut phones = list("phones");
        // A company's one phone is its main phone, or its mobile when it has only that.
        let company_on_mobile = kind == Kind::Company
            && !phones.is_empty()
            && phones
                .iter()
                .all(|p| p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE));
        let mut put = |value: &str, mobile: bool| {
            let pos = phones.iter().position(|p| {
                (p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE)) == mobile
            });
            match (pos, value.is_empty()) {
                (Some(i), true) => {
                    phones.remove(i);
                }
                (Some(i), false) => phones[i]["phone"] = json!(value),
                (None, false) => phones.push(json!({
                    "type": if mobile { PHONE_MOBILE } else { PHONE_MAIN },
                    "phone": value
                })),
                (None, true) => {}
            }
        };
        if kind == Kind::Contact {
            put(fields.get("phone"), false);
            put(fields.get("mobile"), true);
        } else {
            put(fields.get("phone"), company_on_mobile);
        }
        if current.is_some() || !phones.is_empty() {
            b.insert("phones".into(), Value::Array(phones));
        }
    }
    let addr_fields: &[&str] = if kind == Kind::Contact {
        &["street", "city", "postal_code", "country"]
    } else {
        &ADDRESS_FIELDS
    };
    if addr_fields.iter().any(|f| touched(f)) {
        let addresses = list("addresses");
        let all_empty = addr_fields.iter().all(|f| fields.get(f).is_empty());
        let country = fields.get("country");
        let mut new = json!({
            "street": fields.get("street"),
            "city": fields.get("city"),
            "postal_code": fields.get("postal_code"),
            "country": spanish_name(country).unwrap_or(country),
        });
        if kind == Kind::Company {
            new["state"] = json!(fields.get("region"));
        }
        merge_address(&mut b, addresses, new, all_empty, current.is_some());
    }
    Value::Object(b)
}

/// Writes `new` into the first Clientify address (adding one of type 1 if there is none,
/// removing it when every address field is now empty), and puts the list in the body when
/// the record exists or has an address. Shared by the Alegra and the Odoo mappings.
fn merge_address(
    b: &mut serde_json::Map<String, Value>,
    mut addresses: Vec<Value>,
    new: Value,
    all_empty: bool,
    existing: bool,
) {
    if addresses.is_empty() {
        if !all_empty {
            let mut a = new;
            a["type"] = json!(1);
            addresses.push(a);
        }
    } else if all_empty {
        addresses.remove(0);
    } else {
        for (k, v) in new.as_object().expect("object") {
            addresses[0][k] = v.clone();
        }
    }
    if existing || !addresses.is_empty() {
        b.insert("addresses".into(), Value::Array(addresses));
    }
}

const ADDRESS_FIELDS: [&str; 5] = ["street", "city", "region", "postal_code", "country"];

/// The JSON body that writes `fields` (all of them when `current` is `None`, a create;
/// otherwise only the keys whose canonical fields are in `changed`).
fn body_for(
    partner: Partner,
    kind: Kind,
    fields: &Fields,
    changed: &[String],
    current: Option<&Record>,
) -> Result<Value, ConnectorError> {
    let touched = |f: &str| current.is_none() || changed.iter().any(|c| c == f);
    if matches!(kind, Kind::Product | Kind::Order) {
        return Ok(catalog_body(kind, fields, &touched, current.is_none()));
    }
    if kind == Kind::Budget {
        return budget_body(fields, &touched);
    }
    if partner == Partner::Odoo {
        return Ok(odoo_party_body(kind, fields, &touched, current));
    }
    let mut b = serde_json::Map::new();
    if touched("tax_id") {
        b.insert(
            "taxpayer_identification_number".into(),
            json!(fields.get("tax_id")),
        );
    }
    match kind {
        Kind::Contact => {
            for f in ["first_name", "last_name"] {
                if touched(f) {
                    b.insert(f.into(), json!(fields.get(f)));
                }
            }
            if touched("status") {
                let (status, ctype) = status_of(Relationship::from_canonical(fields.get("status")));
                b.insert("status".into(), json!(status));
                if !ctype.is_empty() || current.is_some() {
                    b.insert("contact_type".into(), json!(ctype));
                }
            }
        }
        _ => {
            if touched("name") {
                b.insert("name".into(), json!(fields.get("name")));
            }
        }
    }
    let extra = current.map(|c| &c.extra);
    let list = |key: &str| -> Vec<Value> {
        extra
            .and_then(|e| e.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    if touched("email") {
        let mut emails = list("emails");
        let email = fields.get("email");
        if emails.is_empty() {
            if !email.is_empty() {
                emails.push(json!({"type": 1, "email": email}));
            }
        } else if email.is_empty() {
            emails.remove(0);
        } else {
            emails[0]["email"] = json!(email);
        }
        if current.is_some() || !emails.is_empty() {
            b.insert("emails".into(), Value::Array(emails));
        }
    }
    if touched("phone") || touched("mobile") {
        let mut phones = list("phones");
        let mut put = |value: &str, mobile: bool| {
            let pos = phones.iter().position(|p| {
                (p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE)) == mobile
            });
            match (pos, value.is_empty()) {
                (Some(i), true) => {
                    phones.remove(i);
                }
                (Some(i), false) => phones[i]["phone"] = json!(value),
                (None, false) => phones.push(json!({
                    "type": if mobile { PHONE_MOBILE } else { PHONE_MAIN },
                    "phone": value
                })),
                (None, true) => {}
            }
        };
        put(fields.get("phone"), false);
        if kind == Kind::Contact {
            put(fields.get("mobile"), true);
        }
        if current.is_some() || !phones.is_empty() {
            b.insert("phones".into(), Value::Array(phones));
        }
    }
    if ADDRESS_FIELDS.iter().any(|f| touched(f)) {
        let addresses = list("addresses");
        let all_empty = ADDRESS_FIELDS.iter().all(|f| fields.get(f).is_empty());
        let new = json!({
            "street": fields.get("street"),
            "city": fields.get("city"),
            "state": fields.get("region"),
            "postal_code": fields.get("postal_code"),
            "country": fields.get("country"),
        });
        merge_address(&mut b, addresses, new, all_empty, current.is_some());
    }
    Ok(Value::Object(b))
}

impl Clientify {
    pub fn new(cfg: ClientifyConfig) -> Clientify {
        let http = Http::new(SYSTEM, &cfg.base_url, Auth::Token(cfg.api_key), cfg.retry)
            .with_budget(cfg.budget);
        Clientify {
            http,
            page_size: cfg.page_size.clamp(1, 250),
            partner: cfg.partner,
        }
    }

    /// The partner system this connection serves.
    pub fn partner(&self) -> Partner {
        self.partner
    }

    fn record(&self, kind: Kind, v: &Value) -> Record {
        to_record_for(self.partner, kind, v)
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the API key (Clientify → Settings → API) in connections.clientify.api_key".into(),
            },
            other => other,
        }
    }

    /// Adds the link marks (ALG-2 `in_alegra`, ALG-5 tag; for Odoo only the contact type)
    /// to a write body when missing.
    fn add_marks(
        partner: Partner,
        body: &mut Value,
        current: Option<&Record>,
        partner_id: Option<&str>,
    ) {
        let Some(pid) = partner_id else { return };
        if let Some(c) = current.filter(|c| c.kind == Kind::Budget) {
            let code = format!("{ALEGRA_CODE_PREFIX}{pid}");
            if partner == Partner::Alegra && c.fields.get("code") != code {
                body["code"] = json!(code);
            }
            return;
        }
        if let Some(c) = current.filter(|c| c.kind == Kind::Contact && !c.marked) {
            if body.get("contact_type").is_none() {
                let (_, want) = status_of(Relationship::from_canonical(c.fields.get("status")));
                if !want.is_empty() {
                    body["contact_type"] = json!(want);
                }
            }
        }
        if partner == Partner::Odoo
            || current.is_some_and(|c| matches!(c.kind, Kind::Product | Kind::Order))
        {
            return;
        }
        if current.and_then(|c| c.partner_ref.as_deref()) != Some(pid) {
            body["custom_fields"] = json!([{"field": LINK_FIELD, "value": pid}]);
        }
        let has_tag = current
            .and_then(|c| c.extra.get("tags"))
            .and_then(Value::as_array)
            .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(LINK_TAG)));
        if !has_tag {
            let mut tags: Vec<Value> = current
                .and_then(|c| c.extra.get("tags"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            tags.push(json!(LINK_TAG));
            body["tags"] = Value::Array(tags);
        }
    }
}

#[async_trait]
impl Connector for Clientify {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.http
            .get("contacts/", &[("page_size", "1".into())])
            .await
            .map(|_| ())
            .map_err(Self::auth_hint)
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        if self.partner == Partner::Odoo {
            // Odoo records are linked by `ref` = taxpayer id and SKU: no custom field needed.
            return Ok(Vec::new());
        }
        let mut existing = Vec::new();
        let mut next: Option<String> = Some(self.http.url("custom-fields/"));
        let mut query = vec![("page_size", "250".to_string())];
        while let Some(url) = next {
            let a = match self.http.get(&url, &query).await {
                Ok(a) => a,
                Err(ConnectorError::NotFound { .. }) => break,
                Err(e) => return Err(Self::auth_hint(e)),
            };
            query.clear();
            if let Some(rs) = a.body.get("results").and_then(Value::as_array) {
                for r in rs {
                    existing.push((s(r, "name"), s(r, "object_type")));
                }
            }
            next = a
                .body
                .get("next")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let mut created = Vec::new();
        for kind in [Kind::Contact, Kind::Company] {
            let ot = object_type(kind);
            if !existing.iter().any(|(n, o)| n == LINK_FIELD && o == ot) {
                self.http
                    .post(
                        "custom-fields/",
                        &json!({"name": LINK_FIELD, "object_type": ot, "field_type": "text"}),
                    )
                    .await?;
                created.push(format!(
                    "custom field {LINK_FIELD} on {}",
                    path(kind).trim_end_matches('/')
                ));
            }
        }
        Ok(created)
    }

    fn supports(&self, _kind: Kind) -> bool {
        true
    }

    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    fn id_syntax(&self, _kind: Kind) -> IdSyntax {
        ID_SYNTAX
    }

    async fn list(
        &self,
        kind: Kind,
        since: Option<DateTime<Utc>>,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let page_no = page.unwrap_or("1").to_string();
        let mut q = vec![
            ("page", page_no.clone()),
            ("page_size", self.page_size.to_string()),
        ];
        match since {
            Some(t) => {
                // Tie-safe order for the Modified cursor: modification time, then id.
                q.push(("ordering", "modified,id".into()));
                q.push((
                    "modified[gte]",
                    t.to_rfc3339_opts(SecondsFormat::Micros, true),
                ));
            }
            // Full: by id, which edits during the run do not reorder.
            None => q.push(("ordering", "id".into())),
        }
        let a = match self.http.get(path(kind), &q).await {
            Ok(a) => a,
            // DRF: a page past the end is 404 "Invalid page." (records vanished mid-run).
            Err(ConnectorError::NotFound { .. }) if page_no != "1" => return Ok(Page::default()),
            Err(e) => return Err(Self::auth_hint(e)),
        };
        let records = a
            .body
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: "list answer without `results`".into(),
            })?
            .iter()
            .map(|v| self.record(kind, v))
            .collect();
        let next = a
            .body
            .get("next")
            .and_then(Value::as_str)
            .map(|_| (page_no.parse::<u64>().unwrap_or(1) + 1).to_string());
        Ok(Page {
            records,
            next,
            total: a.body.get("count").and_then(Value::as_u64),
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        match self
            .http
            .get(&format!("{}{}/", path(kind), segment(id)), &[])
            .await
        {
            Ok(a) => Ok(Some(self.record(kind, &a.body))),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }

    async fn find_by_key(&self, kind: Kind, key: &str) -> Result<Vec<Record>, ConnectorError> {
        let q: Vec<(&str, String)> = match kind {
            Kind::Contact | Kind::Company => {
                vec![("taxpayer_identification_number", key.to_string())]
            }
            // The exact filter is case-sensitive: the match on the key is made below.
            Kind::Product => vec![("sku", key.to_string())],
            Kind::Order => {
                let (shop, number) = key.split_once('/').unwrap_or(("", key));
                vec![
                    ("order_id", number.to_string()),
                    ("ecommerce", shop.to_string()),
                ]
            }
            Kind::Budget => vec![("code", key.to_string())],
        };
        let search = |q: Vec<(&'static str, String)>| async move {
            let a = self
                .http
                .get(path(kind), &q)
                .await
                .map_err(Self::auth_hint)?;
            Ok::<Vec<Record>, ConnectorError>(
                a.body
                    .get("results")
                    .and_then(Value::as_array)
                    .map(|rs| {
                        rs.iter()
                            .map(|v| self.record(kind, v))
                            .filter(|r| natural_key(kind, &r.fields).is_ok_and(|k| k == key))
                            .collect()
                    })
                    .unwrap_or_default(),
            )
        };
        let found = search(q).await?;
        if !found.is_empty() || !matches!(kind, Kind::Contact | Kind::Company) {
            return Ok(found);
        }
        // The identification filter is exact on the text people typed (`12.345.678-z`,
        // `es B-1234567-4`): before anyone concludes the record is missing (and creates it
        // twice), a text search on its digits, kept only where the identification parses to
        // the same key.
        let fragments = TaxId::parse(key)
            .map(|t| t.search_fragments())
            .unwrap_or_default();
        for fragment in fragments {
            let found = search(vec![("query", fragment)]).await?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let mut body = body_for(self.partner, kind, fields, &[], None)?;
        if matches!(kind, Kind::Contact | Kind::Company) {
            Self::add_marks(self.partner, &mut body, None, partner_id);
        }
        let a = self
            .http
            .post(path(kind), &body)
            .await
            .map_err(Self::auth_hint)?;
        Ok(self.record(kind, &a.body))
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let (target, changed) = current.fields.apply(set, clear);
        let mut body = body_for(self.partner, current.kind, &target, &changed, Some(current))?;
        Self::add_marks(self.partner, &mut body, Some(current), partner_id);
        if body.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(current.clone());
        }
        let a = self
            .http
            .put(
                &format!("{}{}/", path(current.kind), segment(&current.id)),
                &body,
            )
            .await
            .map_err(Self::auth_hint)?;
        Ok(self.record(current.kind, &a.body))
    }

    fn needs_marks(&self, record: &Record, partner_id: &str) -> bool {
        match (self.partner, record.kind) {
            // ALG-8: a budget made in Clientify takes its estimate's code once it exists.
            (Partner::Alegra, Kind::Budget) => {
                !partner_id.is_empty()
                    && record.fields.get("code") != format!("{ALEGRA_CODE_PREFIX}{partner_id}")
            }
            (_, Kind::Product | Kind::Order | Kind::Budget) => false,
            (Partner::Odoo, _) => !record.marked,
            (Partner::Alegra, _) => {
                !record.marked || record.partner_ref.as_deref() != Some(partner_id)
            }
        }
    }

    fn calls(&self) -> CallStats {
        self.http.stats()
    }

    fn reset_budget(&self) {
        self.http.reset_budget()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Value {
        json!({"id": 12, "first_name": "Ana", "last_name": "Pérez", "status": "hot-lead",
            "emails": [{"id": 1, "type": 1, "email": "ana@ex.com"}],
            "phones": [{"id": 2, "type": 2, "phone": "+34600000000"}, {"id": 3, "type": 1, "phone": "981000000"}],
            "addresses": [{"id": 3, "type": 1, "street": "C/ Mayor 1", "city": "Lugo", "state": "Galicia", "country": "España", "postal_code": "27001"}],
            "tags": ["vip"], "custom_fields": [{"field": "in_alegra", "value": "774"}],
            "taxpayer_identification_number": "12.345.678-z", "modified": "2026-11-22T10:00:00.000001+00:00"})
    }

    #[test]
    fn alg4_clientify_contact_maps_to_canonical() {
        let r = to_record(Kind::Contact, &sample());
        assert_eq!(r.id, "12");
        assert_eq!(r.fields.get("tax_id"), "12345678Z");
        assert_eq!(r.fields.get("status"), "lead");
        assert_eq!(r.fields.get("mobile"), "+34600000000");
        assert_eq!(r.fields.get("phone"), "981000000");
        assert_eq!(r.fields.get("region"), "Galicia");
        assert_eq!(r.partner_ref.as_deref(), Some("774"));
        assert!(!r.marked);
    }

    #[test]
    fn alg4_status_maps_both_ways_consistently() {
        for rel in [
            Relationship::Client,
            Relationship::Lead,
            Relationship::Other,
        ] {
            assert_eq!(relationship_of(status_of(rel).0), rel);
        }
        assert_eq!(
            status_of(Relationship::Client),
            ("client", "Cliente actual")
        );
        assert_eq!(
            status_of(Relationship::Lead),
            ("cold-lead", "Cliente potencial")
        );
    }

    #[test]
    fn alg5_update_body_writes_only_changed_fields_and_adds_marks() {
        let cur = to_record(Kind::Contact, &sample());
        let mut target = cur.fields.clone();
        target.set("city", "Ourense");
        let mut body = body_for(
            Partner::Alegra,
            Kind::Contact,
            &target,
            &["city".into()],
            Some(&cur),
        )
        .unwrap();
        Clientify::add_marks(Partner::Alegra, &mut body, Some(&cur), Some("774"));
        let o = body.as_object().unwrap();
        // Only the address changed; the marks add the tag and, this lead having no contact
        // type, "Cliente potencial" (ALG-4).
        assert_eq!(
            o.keys().cloned().collect::<Vec<_>>(),
            vec!["addresses", "contact_type", "tags"]
        );
        assert_eq!(body["contact_type"], "Cliente potencial");
        assert_eq!(body["addresses"][0]["city"], "Ourense");
        assert_eq!(body["addresses"][0]["id"], 3, "keeps the sub-resource id");
        assert_eq!(body["tags"], json!(["vip", "alegra"]));
    }
}

/// A Clientify webhook delivery, parsed (ALG-11). The vendor's own n8n node accepts three
/// payload shapes, so all three are read: `{"event", "contact"}`, `{"hook": {"id", "event"},
/// "contact"}` (django-rest-hooks) and `{"event", "timestamp", "data": {"contact"}}`.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    /// e.g. `contact.saved`
    pub event: String,
    /// The entity, when the event is one Puente syncs.
    pub kind: Option<Kind>,
    /// The record's id, when the body carries the record.
    pub id: Option<String>,
    /// What makes two deliveries of the same change equal: the record's `modified`, else the
    /// delivery timestamp, else the hook id.
    pub version: String,
}

pub use crate::WebhookError;

/// The Clientify webhook events Puente syncs, and the entity each is about (ALG-11, ODO-6).
/// The one place to add an event (`budget.saved` → budgets). `product.saved` is not in the
/// vendor node's list but both seeds name it. Every other event (`company.deleted`:
/// deletions are not propagated; `deal.saved`, `task.saved`; orders flow to Clientify only)
/// is answered 202 and ignored.
pub const WEBHOOK_EVENTS: &[(&str, Kind)] = &[
    ("contact.saved", Kind::Contact),
    ("company.saved", Kind::Company),
    ("product.saved", Kind::Product),
    // ALG-11: `budget.saved` (budgets are modelled, see the module doc).
    ("budget.saved", Kind::Budget),
];

/// Parses a Clientify webhook body. The record in the body is not trusted beyond its id: the
/// worker re-reads it from the API.
pub fn parse_webhook(body: &[u8]) -> Result<WebhookDelivery, WebhookError> {
    let v = crate::webhook_json(body)?;
    let event = v
        .get("event")
        .and_then(Value::as_str)
        .or_else(|| v.pointer("/hook/event").and_then(Value::as_str))
        .ok_or_else(|| WebhookError("no `event` (nor `hook.event`) in the body".into()))?
        .to_string();
    let entity = event.split('.').next().unwrap_or("");
    let kind = WEBHOOK_EVENTS
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, k)| *k);
    let record = v
        .get(entity)
        .or_else(|| v.get("data").and_then(|d| d.get(entity)))
        .filter(|r| r.is_object());
    // The id goes into a URL: only a Clientify id is taken (a path, a query or an inexact
    // number such as 1e+23 is refused here, before anything is queued).
    let id = match record
        .and_then(|r| r.get("id"))
        .and_then(IdSyntax::from_json)
    {
        Some(Ok(raw)) if kind.is_some() => Some(
            ID_SYNTAX
                .parse(&raw)
                .map_err(|e| WebhookError(format!("`{event}`: {e}")))?,
        ),
        Some(Err(e)) if kind.is_some() => return Err(WebhookError(format!("`{event}`: {e}"))),
        _ => None,
    };
    if kind.is_some() && id.is_none() {
        return Err(WebhookError(format!("`{event}` without a {entity} id")));
    }
    let version = record
        .map(|r| s(r, "modified"))
        .filter(|m| !m.is_empty())
        .or_else(|| v.get("timestamp").map(|t| t.to_string()))
        .or_else(|| v.pointer("/hook/id").map(|t| t.to_string()))
        .unwrap_or_default();
    Ok(WebhookDelivery {
        event,
        kind,
        id,
        version,
    })
}

#[cfg(test)]
mod webhook_tests {
    use super::*;

    #[test]
    fn alg11_three_payload_shapes_parse_to_the_same_event() {
        let c = r#"{"id": 5, "modified": "2026-11-22T10:00:00+00:00"}"#;
        let shapes = [
            format!(r#"{{"event":"contact.saved","contact":{c}}}"#),
            format!(r#"{{"hook":{{"id":9823,"event":"contact.saved"}},"contact":{c}}}"#),
            format!(
                r#"{{"event":"contact.saved","timestamp":1,"account_id":1,"data":{{"contact":{c},"changes":{{}}}}}}"#
            ),
        ];
        for b in shapes {
            let d = parse_webhook(b.as_bytes()).unwrap();
            assert_eq!(d.kind, Some(Kind::Contact));
            assert_eq!(d.id.as_deref(), Some("5"));
            assert_eq!(d.version, "2026-11-22T10:00:00+00:00");
        }
    }

    #[test]
    fn alg11_product_and_budget_events_map_to_their_kinds() {
        let d = parse_webhook(br#"{"event":"budget.saved","budget":{"id":7001}}"#).unwrap();
        assert_eq!(
            (d.kind, d.id.as_deref()),
            (Some(Kind::Budget), Some("7001"))
        );
        let d = parse_webhook(br#"{"event":"product.saved","product":{"id":501}}"#).unwrap();
        assert_eq!(
            (d.kind, d.id.as_deref()),
            (Some(Kind::Product), Some("501"))
        );
    }

    #[test]
    fn alg11_bad_bodies_are_rejected_with_a_reason_and_unknown_events_pass() {
        assert!(parse_webhook(b"not json")
            .unwrap_err()
            .0
            .contains("not JSON"));
        assert!(parse_webhook(b"[1]").is_err());
        assert!(parse_webhook(br#"{"contact":{"id":1}}"#)
            .unwrap_err()
            .0
            .contains("no `event`"));
        assert!(parse_webhook(br#"{"event":"company.saved","company":{}}"#).is_err());
        let d = parse_webhook(br#"{"event":"task.saved","task":{"id":3}}"#).unwrap();
        assert_eq!(d.kind, None);
    }
}
