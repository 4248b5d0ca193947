//! WooCommerce REST v3 JSON → canonical records: every WooCommerce field name Puente reads
//! for orders, customers, products and categories.

use super::SYSTEM;
use crate::time::parse_vendor_time;
use chrono::SecondsFormat;
use puente_core::{
    canonical_decimal, order_items, CustomerRef, DependencyRefs, Fields, Kind, OrderItem, Record,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A `*_gmt` date (UTC without offset) as an instant.
fn gmt(v: &Value, key: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    parse_vendor_time(&s(v, &format!("{key}_gmt")))
}

fn base(kind: Kind, id: String, v: &Value, fields: Fields) -> Record {
    let mut r = Record::new(SYSTEM, kind, id, fields);
    r.modified = gmt(v, "date_modified");
    r.created = gmt(v, "date_created");
    r
}

/// The category tree: id → (name, parent id; 0 for a root).
pub type Tree = BTreeMap<u64, (String, u64)>;

fn chain(tree: &Tree, id: u64) -> Vec<u64> {
    let mut out = vec![id];
    let mut at = id;
    while let Some((_, parent)) = tree.get(&at) {
        if *parent == 0 || out.contains(parent) || out.len() > 32 {
            break;
        }
        out.push(*parent);
        at = *parent;
    }
    out.reverse();
    out
}

/// ROA-7's WooCommerce category rules, for the categories `ids` a product is in: when they
/// are one nested branch, the deepest; otherwise the most general level among them, and on
/// that level the alphabetically first. The result is the path from the root
/// (`Accesorios/Fundas/iPhone`); empty without categories (or only "Uncategorized").
pub fn category_path(tree: &Tree, ids: &[u64]) -> String {
    let chains: Vec<Vec<u64>> = ids
        .iter()
        .filter(|id| tree.contains_key(id))
        .map(|id| chain(tree, *id))
        .collect();
    let Some(deepest) = chains.iter().max_by_key(|c| c.len()) else {
        return String::new();
    };
    let one_branch = chains.iter().all(|c| deepest.starts_with(c));
    let pick = if one_branch {
        deepest.clone()
    } else {
        let top = chains.iter().map(Vec::len).min().unwrap_or(0);
        chains
            .iter()
            .filter(|c| c.len() == top)
            .min_by(|a, b| {
                let name = |c: &Vec<u64>| {
                    tree.get(c.last().expect("a chain has its id"))
                        .map(|(n, _)| n.to_lowercase())
                        .unwrap_or_default()
                };
                name(a).cmp(&name(b))
            })
            .cloned()
            .unwrap_or_default()
    };
    let names: Vec<String> = pick
        .iter()
        .filter_map(|id| tree.get(id).map(|(n, _)| n.clone()))
        .collect();
    if names.len() == 1 && names[0].eq_ignore_ascii_case("Uncategorized") {
        return String::new();
    }
    names.join("/")
}

/// The id (and ROA-7 code) of the product a line sells: the product, or
/// `{product}-{variation}` for a variation.
pub(super) fn product_key(product_id: &str, variation_id: &str) -> String {
    match variation_id {
        "" | "0" => product_id.to_string(),
        v => format!("{product_id}-{v}"),
    }
}

/// ROA-8, WooCommerce: the order's customer from its billing block, the phone from the
/// shipping block when it has one, else from billing. `None` when the order names nobody.
pub fn order_customer(o: &Value) -> Option<Fields> {
    let b = o.get("billing").cloned().unwrap_or(Value::Null);
    let sh = o.get("shipping").cloned().unwrap_or(Value::Null);
    let phone = match s(&sh, "phone") {
        p if !p.trim().is_empty() => p,
        _ => s(&b, "phone"),
    };
    let f = Fields::new()
        .with("first_name", s(&b, "first_name"))
        .with("last_name", s(&b, "last_name"))
        .with("email", s(&b, "email"))
        .with("phone", phone);
    (!f.is_empty()).then_some(f)
}

/// ROA-2: a WooCommerce order (`#number`, creation date, lines, currency), its customer
/// inside it (ROA-8) and its products by id in `extra.refs` (ROA-7). `customer` holds the
/// customer's phone or email, empty when there is neither (ROA-5 skips those).
pub fn order_record(o: &Value) -> Record {
    let mut products = BTreeMap::new();
    let items: Vec<OrderItem> = o
        .get("line_items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|l| {
                    let item = OrderItem {
                        name: s(l, "name"),
                        sku: s(l, "sku"),
                        price: canonical_decimal(&s(l, "price")),
                        quantity: s(l, "quantity"),
                        ..OrderItem::default()
                    };
                    let pid = s(l, "product_id");
                    if !pid.is_empty() && pid != "0" {
                        products.insert(item.ref_key(), product_key(&pid, &s(l, "variation_id")));
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
    let key = customer
        .as_ref()
        .map(|c| match c.get("phone") {
            "" => c.get("email").to_string(),
            p => p.to_string(),
        })
        .unwrap_or_default();
    let number = match s(o, "number") {
        n if n.is_empty() => s(o, "id"),
        n => n,
    };
    let f = Fields::new()
        .with("order_id", format!("#{number}"))
        .with("ecommerce", "WooCommerce")
        .with("status", s(o, "status"))
        .with(
            "order_date",
            gmt(o, "date_created")
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default(),
        )
        .with("currency", s(o, "currency"))
        .with("items", order_items(&items))
        .with("customer", &key)
        .with("total", canonical_decimal(&s(o, "total")))
        .with("payment_method", s(o, "payment_method_title"))
        .with("shipping_method", s(&ship, "method_title"))
        .with(
            "shipping_cost",
            if ship.is_object() {
                canonical_decimal(&s(&ship, "total"))
            } else {
                String::new()
            },
        );
    let mut r = base(Kind::Order, s(o, "id"), o, f);
    let refs = DependencyRefs {
        customer: customer
            .filter(|_| !key.is_empty())
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

/// A registered WooCommerce customer.
pub fn customer_record(c: &Value) -> Record {
    let b = c.get("billing").cloned().unwrap_or(Value::Null);
    let sh = c.get("shipping").cloned().unwrap_or(Value::Null);
    let phone = match s(&sh, "phone") {
        p if !p.trim().is_empty() => p,
        _ => s(&b, "phone"),
    };
    let email = match s(c, "email") {
        e if e.is_empty() => s(&b, "email"),
        e => e,
    };
    let f = Fields::new()
        .with("first_name", s(c, "first_name"))
        .with("last_name", s(c, "last_name"))
        .with("email", email)
        .with("phone", phone)
        .with("street", s(&b, "address_1"))
        .with("city", s(&b, "city"))
        .with("postal_code", s(&b, "postcode"))
        .with("country", s(&b, "country"));
    base(Kind::Contact, s(c, "id"), c, f)
}

/// The text of an HTML description.
fn text_of(html: &str) -> String {
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
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// ROA-7: a product (or one variation of it, `variation` its JSON) as the catalogue takes
/// it: SKU, name, description, price, the id as code, the category by the rules above.
pub fn product_record(p: &Value, variation: Option<&Value>, tree: &Tree) -> Record {
    let cats: Vec<u64> = p
        .get("categories")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| c.get("id").and_then(Value::as_u64))
        .collect();
    let (key, sku, name, price) = match variation {
        Some(v) => {
            let option = v
                .get("attributes")
                .and_then(Value::as_array)
                .and_then(|a| a.first())
                .map(|a| s(a, "option"))
                .unwrap_or_default();
            (
                product_key(&s(p, "id"), &s(v, "id")),
                s(v, "sku"),
                format!("{} - {option}", s(p, "name")),
                s(v, "price"),
            )
        }
        None => (s(p, "id"), s(p, "sku"), s(p, "name"), s(p, "price")),
    };
    let f = Fields::new()
        .with("sku", sku)
        .with("name", name)
        .with("description", text_of(&s(p, "description")))
        .with("price", canonical_decimal(&price))
        .with("code", &key)
        .with("category", category_path(tree, &cats));
    base(Kind::Product, key, variation.unwrap_or(p), f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Tree {
        let mut t = Tree::new();
        for (id, name, parent) in [
            (15, "Uncategorized", 0),
            (16, "Accesorios", 0),
            (17, "Fundas", 16),
            (18, "iPhone", 17),
            (19, "Protectores", 16),
            (20, "Cargadores", 16),
            (21, "Cables", 16),
            (22, "Ofertas", 0),
        ] {
            t.insert(id, (name.to_string(), parent));
        }
        t
    }

    #[test]
    fn roa7_woocommerce_category_rules() {
        let t = tree();
        // Nested: the deepest.
        assert_eq!(category_path(&t, &[16, 17, 18]), "Accesorios/Fundas/iPhone");
        assert_eq!(category_path(&t, &[18]), "Accesorios/Fundas/iPhone");
        // Several on one level: alphabetically first.
        assert_eq!(category_path(&t, &[20, 21]), "Accesorios/Cables");
        assert_eq!(category_path(&t, &[21, 20, 19]), "Accesorios/Cables");
        // Several levels (not one branch): the most general.
        assert_eq!(category_path(&t, &[18, 22]), "Ofertas");
        assert_eq!(category_path(&t, &[18, 19]), "Accesorios/Protectores");
        // None, or only the default: no category.
        assert_eq!(category_path(&t, &[]), "");
        assert_eq!(category_path(&t, &[15]), "");
    }
}
