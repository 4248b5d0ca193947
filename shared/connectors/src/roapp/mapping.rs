//! RO App JSON (legacy and v2) → canonical records, and the texts Puente writes into an
//! order (the delivery block of ROA-6). Every RO App field name Puente reads is here.

use super::SYSTEM;
use chrono::{DateTime, SecondsFormat, Utc};
use puente_core::{canonical_decimal, order_items, Fields, Kind, OrderItem, Record};
use serde_json::{json, Value};

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// A time as either generation writes it: epoch milliseconds (legacy) or ISO 8601 (v2).
pub(super) fn time(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    match v.get(key)? {
        Value::Number(n) => DateTime::from_timestamp_millis(n.as_i64()?),
        Value::String(x) => crate::time::parse_vendor_time(x),
        _ => None,
    }
}

fn base(kind: Kind, v: &Value, fields: Fields) -> Record {
    let mut r = Record::new(SYSTEM, kind, s(v, "id"), fields);
    r.modified = time(v, "modified_at").or_else(|| time(v, "created_at"));
    r.created = time(v, "created_at");
    r
}

/// The phones of a client: legacy `phone: [str]`, v2 `phones: [str | {phone, title}]`.
pub(super) fn phones(c: &Value) -> Vec<String> {
    c.get("phones")
        .or_else(|| c.get("phone"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| {
            p.as_str()
                .map(str::to_string)
                .or_else(|| p.get("phone").and_then(Value::as_str).map(str::to_string))
        })
        .collect()
}

/// A client (person) of either generation.
pub fn client_record(c: &Value) -> Record {
    let (mut first, mut last) = (s(c, "first_name"), s(c, "last_name"));
    if first.is_empty() && last.is_empty() {
        let name = s(c, "name");
        let (f, l) = name.split_once(' ').unwrap_or((&name, ""));
        (first, last) = (f.to_string(), l.to_string());
    }
    let f = Fields::new()
        .with("first_name", first)
        .with("last_name", last)
        .with("email", s(c, "email"))
        .with("phone", phones(c).first().cloned().unwrap_or_default())
        .with("street", s(c, "address"));
    base(Kind::Contact, c, f)
}

/// ROA-6: the delivery block Puente keeps in an order's `manager_notes` (what the last
/// delivery comment said) and posts to its event feed.
pub(super) const DELIVERY: &str = "Entrega:";
const COST: &str = "Coste de entrega:";
const ADDRESS: &str = "Dirección de entrega:";

/// The delivery text of canonical order fields; empty when the order says nothing of it.
pub fn delivery_text(f: &Fields, currency: &str) -> String {
    let (m, c, a) = (
        f.get("shipping_method"),
        f.get("shipping_cost"),
        f.get("shipping_address"),
    );
    if m.is_empty() && c.is_empty() && a.is_empty() {
        return String::new();
    }
    let mut lines = vec![format!("{DELIVERY} {m}")];
    if !c.is_empty() {
        lines.push(format!("{COST} {c} {currency}"));
    }
    if !a.is_empty() {
        lines.push(format!("{ADDRESS} {a}"));
    }
    lines.join("\n")
}

/// The delivery fields back from a delivery text (see [`delivery_text`]).
fn delivery_fields(notes: &str, f: &mut Fields) {
    for line in notes.lines() {
        let line = line.trim();
        if let Some(x) = line.strip_prefix(DELIVERY) {
            f.set("shipping_method", x.trim());
        } else if let Some(x) = line.strip_prefix(COST) {
            let amount = x.split_whitespace().next().unwrap_or("");
            f.set("shipping_cost", canonical_decimal(amount));
        } else if let Some(x) = line.strip_prefix(ADDRESS) {
            f.set("shipping_address", x.trim());
        }
    }
}

/// The item rows of an order (`items` in v2, `parts` in legacy).
pub(super) fn items_of(o: &Value) -> Vec<Value> {
    o.get("items")
        .or_else(|| o.get("parts"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// ROA-2 in RO App: an order (either generation). `order_id` is its number (the shop's
/// order number for the orders Puente makes), `order_date` its creation, `currency` the
/// account's, `items` its products; `status` the status name; the delivery fields come
/// from the delivery block. `extra` keeps the item ids (for updates) and whether the
/// products are written off (ROA-3).
pub fn order_record(o: &Value, currency: &str) -> Record {
    let rows = items_of(o);
    let items: Vec<OrderItem> = rows
        .iter()
        .map(|i| OrderItem {
            name: s(i, "title"),
            sku: s(i, "sku"),
            price: canonical_decimal(&s(i, "price")),
            quantity: s(i, "quantity"),
            ..OrderItem::default()
        })
        .collect();
    let number = match s(o, "number") {
        n if n.is_empty() => s(o, "id_label"),
        n => n,
    };
    let written_off = o
        .get("written_off")
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || rows
            .iter()
            .any(|i| i.get("written_off").and_then(Value::as_bool) == Some(true));
    let client = o.get("client").cloned().unwrap_or(Value::Null);
    let mut f = Fields::new()
        .with("order_id", number)
        .with(
            "order_date",
            time(o, "created_at")
                .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
                .unwrap_or_default(),
        )
        .with("currency", currency)
        .with("items", order_items(&items))
        .with(
            "status",
            o.get("status").map(|st| s(st, "name")).unwrap_or_default(),
        )
        .with(
            "customer",
            phones(&client)
                .first()
                .cloned()
                .unwrap_or_else(|| s(&client, "email")),
        );
    delivery_fields(&s(o, "manager_notes"), &mut f);
    let mut r = base(Kind::Order, o, f);
    r.extra = json!({
        "written_off": written_off,
        "items": rows.iter().map(|i| json!({
            "id": s(i, "id"), "sku": s(i, "sku"), "title": s(i, "title"),
            "quantity": s(i, "quantity"), "price": canonical_decimal(&s(i, "price")),
        })).collect::<Vec<_>>(),
        "client_id": s(&client, "id"),
    });
    r
}

/// A catalogue product (v2). `category` is filled by the caller from the category tree.
pub fn product_record(p: &Value, category: String) -> Record {
    let price = p
        .get("prices")
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .map(|x| s(x, "price"))
        .unwrap_or_else(|| s(p, "price"));
    let f = Fields::new()
        .with("sku", s(p, "sku"))
        .with("name", s(p, "title"))
        .with("description", s(p, "description"))
        .with("price", canonical_decimal(&price))
        .with("code", s(p, "code"))
        .with("category", category)
        .with(
            "unit",
            p.get("unit").map(|u| s(u, "code")).unwrap_or_default(),
        );
    base(Kind::Product, p, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roa6_the_delivery_block_reads_back_as_written() {
        let f = Fields::new()
            .with("shipping_method", "Envío urgente 24h")
            .with("shipping_cost", "9.95")
            .with("shipping_address", "Calle de Alcalá 12, 28014 Madrid, ES");
        let text = delivery_text(&f, "EUR");
        assert!(
            text.contains("Envío urgente 24h") && text.contains("9.95 EUR"),
            "{text}"
        );
        let mut back = Fields::new();
        delivery_fields(&text, &mut back);
        assert_eq!(back, f);
        assert_eq!(delivery_text(&Fields::new(), "EUR"), "");
    }

    #[test]
    fn roa2_orders_of_both_generations_read_alike() {
        let legacy = json!({"id": 7, "id_label": "#1001", "created_at": 1738317600000i64,
            "modified_at": 1738317600000i64, "manager_notes": "",
            "parts": [{"id": 1, "title": "Funda", "sku": "C-1", "quantity": 2, "price": 19.9, "written_off": false}],
            "client": {"id": 3, "phone": ["+34 (600) 11-22-33"], "email": ""}});
        let v2 = json!({"id": 7, "number": "#1001", "created_at": "2025-01-31T10:00:00Z",
            "modified_at": "2025-01-31T10:00:00Z", "manager_notes": "", "written_off": false,
            "items": [{"id": 1, "title": "Funda", "sku": "C-1", "quantity": 2, "price": 19.9}],
            "client": {"id": 3, "phones": [{"phone": "+34 (600) 11-22-33", "title": "Móvil"}]}});
        let (a, b) = (order_record(&legacy, "EUR"), order_record(&v2, "EUR"));
        assert_eq!(a.fields, b.fields);
        assert_eq!(a.fields.get("order_date"), "2025-01-31T10:00:00Z");
        assert_eq!(a.created, b.created);
    }
}
