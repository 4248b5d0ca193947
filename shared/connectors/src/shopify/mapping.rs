//! Shopify REST JSON → canonical records: every Shopify field name Puente reads for
//! orders, customers and products (variants).

use super::SYSTEM;
use crate::time::parse_vendor_time;
use chrono::SecondsFormat;
use puente_core::{
    canonical_decimal, order_items, CustomerRef, DependencyRefs, Fields, Kind, OrderItem, Record,
};
use serde_json::{json, Value};

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn utc(raw: &str) -> String {
    parse_vendor_time(raw)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_default()
}

fn base(kind: Kind, id: String, v: &Value, fields: Fields) -> Record {
    let mut r = Record::new(SYSTEM, kind, id, fields);
    r.modified = parse_vendor_time(&s(v, "updated_at"));
    r.created = parse_vendor_time(&s(v, "created_at"));
    r
}

/// The text of `body_html` (tags dropped, entities of the common kind decoded).
pub(super) fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&amp;", "&")
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Shopify address as one line: `Calle Mayor 1, 28001 Madrid, ES`.
pub(super) fn address_line(a: &Value) -> String {
    if !a.is_object() {
        return String::new();
    }
    let street = [s(a, "address1"), s(a, "address2")]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let town = [s(a, "zip"), s(a, "city")]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    [street, town, s(a, "country_code")]
        .into_iter()
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// ROA-8: the customer a Shopify order carries (`customer`, with the order's own `email`,
/// `phone` and billing/shipping phones as fallbacks, and the address), as canonical contact
/// fields. `None` without a `customer` (a Basic-plan shop, a sale without customer).
pub fn order_customer(o: &Value) -> Option<Fields> {
    let c = o.get("customer").filter(|c| c.is_object())?;
    let billing = o.get("billing_address").cloned().unwrap_or(Value::Null);
    let shipping = o.get("shipping_address").cloned().unwrap_or(Value::Null);
    let first = |xs: [String; 4]| xs.into_iter().find(|x| !x.is_empty()).unwrap_or_default();
    let addr = c
        .get("default_address")
        .filter(|a| a.is_object())
        .unwrap_or(&billing);
    let mut f = Fields::new()
        .with(
            "first_name",
            first([
                s(c, "first_name"),
                s(&billing, "first_name"),
                String::new(),
                String::new(),
            ]),
        )
        .with(
            "last_name",
            first([
                s(c, "last_name"),
                s(&billing, "last_name"),
                String::new(),
                String::new(),
            ]),
        )
        .with(
            "email",
            first([
                s(c, "email"),
                s(o, "email"),
                s(o, "contact_email"),
                String::new(),
            ]),
        )
        .with(
            "phone",
            first([
                s(c, "phone"),
                s(o, "phone"),
                s(&billing, "phone"),
                s(&shipping, "phone"),
            ]),
        );
    // ROA-8: Shopify also sends the customer's address.
    if addr.is_object() {
        f.set("street", s(addr, "address1"));
        f.set("city", s(addr, "city"));
        f.set("postal_code", s(addr, "zip"));
        f.set("country", s(addr, "country_code"));
    }
    Some(f)
}

/// Shopify's order state in one word, lower case: `cancelled`, `refunded`, `fulfilled`,
/// `partial` or `open` (what ROA-1's backfill filters on).
pub fn order_status(o: &Value) -> &'static str {
    if !o.get("cancelled_at").is_none_or(Value::is_null) {
        "cancelled"
    } else if s(o, "financial_status") == "refunded" {
        "refunded"
    } else if s(o, "fulfillment_status") == "fulfilled" {
        "fulfilled"
    } else if s(o, "fulfillment_status") == "partial" {
        "partial"
    } else {
        "open"
    }
}

/// The id (and ROA-7 code) of the product a line or variant is: the product id, or
/// `{product id}-{variant id}` for one of several variants.
pub(super) fn product_key(product_id: &str, variant_id: &str, one_of_several: bool) -> String {
    if one_of_several && !variant_id.is_empty() {
        format!("{product_id}-{variant_id}")
    } else {
        product_id.to_string()
    }
}

/// ROA-2: a Shopify order. Lines are the order's products (`name`, `sku`, `price`,
/// `quantity`); its customer travels inside it (ROA-8) and its products are named by id in
/// `extra.refs` (ROA-7); the delivery (ROA-6) is the first shipping line and the shipping
/// address.
pub fn order_record(o: &Value) -> Record {
    let mut products = std::collections::BTreeMap::new();
    let items: Vec<OrderItem> = o
        .get("line_items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|l| {
                    let item = OrderItem {
                        name: match s(l, "name") {
                            n if n.is_empty() => s(l, "title"),
                            n => n,
                        },
                        sku: s(l, "sku"),
                        price: canonical_decimal(&s(l, "price")),
                        quantity: s(l, "quantity"),
                        ..OrderItem::default()
                    };
                    let pid = s(l, "product_id");
                    if !pid.is_empty() {
                        let several = l.get("variant_title").is_some_and(|t| {
                            t.as_str()
                                .is_some_and(|t| !t.is_empty() && t != "Default Title")
                        });
                        products.insert(
                            item.ref_key(),
                            product_key(&pid, &s(l, "variant_id"), several),
                        );
                    }
                    item
                })
                .collect()
        })
        .unwrap_or_default();
    let ship = o
        .get("shipping_lines")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let customer = order_customer(o);
    let customer_key = customer
        .as_ref()
        .map(|c| match c.get("phone") {
            "" => c.get("email").to_string(),
            p => p.to_string(),
        })
        .unwrap_or_default();
    let f = Fields::new()
        .with("order_id", s(o, "name"))
        .with("ecommerce", "Shopify")
        .with("status", order_status(o))
        .with("order_date", utc(&s(o, "created_at")))
        .with("currency", s(o, "currency"))
        .with("items", order_items(&items))
        .with("customer", customer_key)
        .with("total", canonical_decimal(&s(o, "total_price")))
        .with("payment", s(o, "financial_status"))
        .with("shipping_method", s(&ship, "title"))
        .with(
            "shipping_cost",
            if ship.is_object() {
                canonical_decimal(&s(&ship, "price"))
            } else {
                String::new()
            },
        )
        .with(
            "shipping_address",
            address_line(o.get("shipping_address").unwrap_or(&Value::Null)),
        );
    let mut r = base(Kind::Order, s(o, "id"), o, f);
    let refs = DependencyRefs {
        customer: customer
            .filter(|c| !c.get("phone").is_empty() || !c.get("email").is_empty())
            .map(|fields| CustomerRef {
                id: String::new(),
                kind: Some(Kind::Contact),
                fields: Some(fields),
            }),
        products,
    };
    r.extra = json!({ "refs": refs });
    r
}

/// A Shopify customer.
pub fn customer_record(c: &Value) -> Record {
    let addr = c.get("default_address").cloned().unwrap_or(Value::Null);
    let mut f = Fields::new()
        .with("first_name", s(c, "first_name"))
        .with("last_name", s(c, "last_name"))
        .with("email", s(c, "email"))
        .with("phone", s(c, "phone"));
    if addr.is_object() {
        f.set("street", s(&addr, "address1"));
        f.set("city", s(&addr, "city"));
        f.set("postal_code", s(&addr, "zip"));
        f.set("country", s(&addr, "country_code"));
    }
    base(Kind::Contact, s(c, "id"), c, f)
}

/// ROA-7: every variant of a Shopify product as a product of its own (what an order line
/// sells): SKU, name (the product's title, and the variant's when there are several),
/// description, price, the product id as code, and the product type as category.
pub fn product_records(p: &Value) -> Vec<Record> {
    let variants = p
        .get("variants")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let several = variants.len() > 1;
    let pid = s(p, "id");
    variants
        .iter()
        .map(|v| {
            let key = product_key(&pid, &s(v, "id"), several);
            let name = if several {
                format!("{} - {}", s(p, "title"), s(v, "title"))
            } else {
                s(p, "title")
            };
            let f = Fields::new()
                .with("sku", s(v, "sku"))
                .with("name", name)
                .with("description", text_of(&s(p, "body_html")))
                .with("price", canonical_decimal(&s(v, "price")))
                .with("code", &key)
                .with("category", s(p, "product_type"))
                .with("ean", s(v, "barcode"));
            base(Kind::Product, key, p, f)
        })
        .collect()
}
