//! The records of a WooCommerce store and their REST v3 JSON (§(d) "Orders", "Products,
//! categories, customers"): money as strings with two decimals (a line's `price` is a number),
//! `date_*` site-local and `date_*_gmt` UTC, `customer_id` 0 for guests.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Value};

use super::facts::SITE_OFFSET_SECS;

/// `2025-01-31T11:00:00` (site time, no offset).
pub(crate) fn local(t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(SITE_OFFSET_SECS).expect("valid offset");
    t.with_timezone(&off)
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

/// `2025-01-31T10:00:00` (UTC, no offset).
pub(crate) fn gmt(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `t` to the second, as MySQL's `datetime` keeps it: what filters compare.
pub(crate) fn secs(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

fn odate(t: Option<DateTime<Utc>>, f: fn(DateTime<Utc>) -> String) -> Value {
    t.map_or(Value::Null, |t| json!(f(t)))
}

/// `"19.90"`.
pub(crate) fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// A billing or shipping block. `email` is only rendered for billing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Contact {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) address_1: String,
    pub(crate) city: String,
    pub(crate) postcode: String,
    pub(crate) email: String,
    pub(crate) phone: String,
}

impl Contact {
    pub(crate) fn render(&self, billing: bool) -> Value {
        let mut v = json!({
            "first_name": self.first_name, "last_name": self.last_name, "company": "",
            "address_1": self.address_1, "address_2": "", "city": self.city, "state": "",
            "postcode": self.postcode, "country": if self.address_1.is_empty() { "" } else { "ES" },
            "phone": self.phone,
        });
        if billing {
            v["email"] = json!(self.email);
        }
        v
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub(crate) id: u64,
    pub(crate) email: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) billing: Contact,
    pub(crate) shipping: Contact,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
}

impl Customer {
    pub(crate) fn render(&self) -> Value {
        json!({
            "id": self.id, "date_created": local(self.created), "date_created_gmt": gmt(self.created),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
            "email": self.email, "first_name": self.first_name, "last_name": self.last_name,
            "role": "customer", "username": self.email.split('@').next().unwrap_or(""),
            "billing": self.billing.render(true), "shipping": self.shipping.render(false),
            "is_paying_customer": true, "avatar_url": "https://secure.gravatar.com/avatar/?s=96&d=mm&r=g",
            "meta_data": [],
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Category {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) slug: String,
    pub(crate) parent: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Variation {
    pub(crate) id: u64,
    pub(crate) sku: String,
    pub(crate) option: String,
    pub(crate) price: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub(crate) id: u64,
    pub(crate) name: String,
    /// `simple` or `variable`.
    pub(crate) kind: &'static str,
    pub(crate) sku: String,
    pub(crate) price: u64,
    pub(crate) categories: Vec<u64>,
    /// Attribute name of a variable product (`Color`).
    pub(crate) attribute: String,
    pub(crate) variations: Vec<Variation>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
}

impl Product {
    pub(crate) fn render(&self, cats: &BTreeMap<u64, Category>) -> Value {
        let categories: Vec<Value> = self
            .categories
            .iter()
            .filter_map(|id| cats.get(id))
            .map(|c| json!({"id": c.id, "name": c.name, "slug": c.slug}))
            .collect();
        let options: Vec<&str> = self.variations.iter().map(|v| v.option.as_str()).collect();
        let attributes = if self.kind == "variable" {
            json!([{"id": 0, "name": self.attribute, "position": 0, "visible": true,
                    "variation": true, "options": options}])
        } else {
            json!([])
        };
        let slug = crate::kit::fake::slug(&self.name);
        json!({
            "id": self.id, "name": self.name, "slug": slug, "type": self.kind, "status": "publish",
            "featured": false, "catalog_visibility": "visible", "description": format!("<p>{}</p>", self.name),
            "short_description": "", "sku": self.sku, "price": money(self.price),
            "regular_price": if self.kind == "variable" { String::new() } else { money(self.price) },
            "sale_price": "", "on_sale": false, "purchasable": true, "virtual": false,
            "manage_stock": self.kind == "simple", "stock_quantity": if self.kind == "simple" { json!(25) } else { Value::Null },
            "stock_status": "instock", "backorders": "no",
            "categories": categories, "tags": [], "images": [], "attributes": attributes,
            "variations": self.variations.iter().map(|v| v.id).collect::<Vec<_>>(),
            "date_created": local(self.created), "date_created_gmt": gmt(self.created),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
            "meta_data": [],
        })
    }

    pub(crate) fn render_variation(&self, v: &Variation) -> Value {
        json!({
            "id": v.id, "sku": v.sku, "price": money(v.price), "regular_price": money(v.price),
            "sale_price": "", "status": "publish", "manage_stock": true, "stock_quantity": 10,
            "stock_status": "instock", "attributes": [{"id": 0, "name": self.attribute, "option": v.option}],
            "date_created": local(self.created), "date_created_gmt": gmt(self.created),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
            "meta_data": [],
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Line {
    pub(crate) id: u64,
    pub(crate) product_id: u64,
    pub(crate) variation_id: u64,
    pub(crate) name: String,
    pub(crate) sku: String,
    pub(crate) quantity: u64,
    pub(crate) price: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct ShipLine {
    pub(crate) id: u64,
    pub(crate) method_title: String,
    pub(crate) method_id: String,
    pub(crate) total: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) status: &'static str,
    pub(crate) currency: String,
    pub(crate) customer_id: u64,
    pub(crate) billing: Contact,
    pub(crate) shipping: Contact,
    pub(crate) lines: Vec<Line>,
    pub(crate) shipping_lines: Vec<ShipLine>,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) paid: Option<DateTime<Utc>>,
    pub(crate) completed: Option<DateTime<Utc>>,
    pub(crate) note: String,
}

impl Order {
    pub(crate) fn total(&self) -> u64 {
        self.lines.iter().map(|l| l.price * l.quantity).sum::<u64>()
            + self.shipping_lines.iter().map(|s| s.total).sum::<u64>()
    }

    pub(crate) fn render(&self, root: &str) -> Value {
        let lines: Vec<Value> = self
            .lines
            .iter()
            .map(|l| {
                let t = money(l.price * l.quantity);
                json!({
                    "id": l.id, "name": l.name, "product_id": l.product_id, "variation_id": l.variation_id,
                    "quantity": l.quantity, "tax_class": "", "subtotal": t, "subtotal_tax": "0.00",
                    "total": t, "total_tax": "0.00", "taxes": [], "meta_data": [], "sku": l.sku,
                    "price": l.price as f64 / 100.0, "parent_name": null,
                })
            })
            .collect();
        let ship: Vec<Value> = self
            .shipping_lines
            .iter()
            .map(|s| {
                json!({"id": s.id, "method_title": s.method_title, "method_id": s.method_id,
                       "instance_id": "1", "total": money(s.total), "total_tax": "0.00",
                       "taxes": [], "meta_data": []})
            })
            .collect();
        let shipping_total: u64 = self.shipping_lines.iter().map(|s| s.total).sum();
        let mut v = json!({
            "id": self.id, "parent_id": 0, "status": self.status, "currency": self.currency,
            "version": "9.5.1", "prices_include_tax": false,
            "date_created": local(self.created), "date_created_gmt": gmt(self.created),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
            "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": money(shipping_total),
            "shipping_tax": "0.00", "cart_tax": "0.00", "total": money(self.total()), "total_tax": "0.00",
        });
        let more = json!({
            "customer_id": self.customer_id, "order_key": format!("wc_order_{:013x}", self.id * 7_919_000_001),
            "billing": self.billing.render(true), "shipping": self.shipping.render(false),
            "payment_method": "bacs", "payment_method_title": "Transferencia bancaria",
            "transaction_id": "", "customer_ip_address": "", "customer_user_agent": "",
            "created_via": "checkout", "customer_note": self.note,
            "date_completed": odate(self.completed, local), "date_completed_gmt": odate(self.completed, gmt),
            "date_paid": odate(self.paid, local), "date_paid_gmt": odate(self.paid, gmt),
            "cart_hash": "", "number": self.id.to_string(), "meta_data": [],
            "line_items": lines, "tax_lines": [], "shipping_lines": ship, "fee_lines": [],
            "coupon_lines": [], "refunds": [], "payment_url": format!("{root}/checkout/order-pay/{}/", self.id),
            "is_editable": matches!(self.status, "pending" | "on-hold" | "checkout-draft"),
            "needs_payment": self.status == "pending", "needs_processing": true,
            "currency_symbol": "€",
        });
        if let (Value::Object(a), Value::Object(b)) = (&mut v, more) {
            a.extend(b);
        }
        v
    }
}

/// A webhook: `status` `active`, `paused` or `disabled`.
#[derive(Clone, Debug)]
pub(crate) struct Webhook {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) status: String,
    pub(crate) topic: String,
    pub(crate) delivery_url: String,
    pub(crate) secret: String,
    pub(crate) failures: u32,
    /// Set until a ping is answered 200 (a later update pings again) [C].
    pub(crate) pending_delivery: bool,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
}

impl Webhook {
    pub(crate) fn resource(&self) -> &str {
        self.topic.split('.').next().unwrap_or("")
    }
    pub(crate) fn event(&self) -> &str {
        self.topic.split('.').nth(1).unwrap_or("")
    }
    pub(crate) fn render(&self) -> Value {
        json!({
            "id": self.id, "name": self.name, "status": self.status, "topic": self.topic,
            "resource": self.resource(), "event": self.event(),
            "hooks": [format!("woocommerce_{}_{}", self.event(), self.resource())],
            "delivery_url": self.delivery_url,
            "date_created": local(self.created), "date_created_gmt": gmt(self.created),
            "date_modified": local(self.modified), "date_modified_gmt": gmt(self.modified),
        })
    }
}

/// Everything a store holds.
#[derive(Default)]
pub(crate) struct Store {
    pub(crate) customers: BTreeMap<u64, Customer>,
    pub(crate) categories: BTreeMap<u64, Category>,
    pub(crate) products: BTreeMap<u64, Product>,
    pub(crate) orders: BTreeMap<u64, Order>,
    pub(crate) webhooks: BTreeMap<u64, Webhook>,
    pub(crate) next_customer: u64,
    pub(crate) next_category: u64,
    pub(crate) next_post: u64,
    pub(crate) next_order: u64,
    pub(crate) next_line: u64,
    pub(crate) next_webhook: u64,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            next_customer: 2,
            next_category: 15,
            next_post: 100,
            next_order: 1000,
            next_line: 1,
            next_webhook: 1,
            ..Store::default()
        }
    }
}

/// `value` as PHP's `wp_json_encode` writes it: `/` as `\/` and every non-ASCII character as
/// `\uXXXX` (UTF-16), which is what WooCommerce signs and sends [C].
pub(crate) fn php_json(value: &Value) -> String {
    let plain = value.to_string();
    let mut out = String::with_capacity(plain.len() + plain.len() / 8);
    for c in plain.chars() {
        match c {
            '/' => out.push_str("\\/"),
            c if c.is_ascii() => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn php_json_escapes_slashes_and_non_ascii() {
        let v = json!({"url": "https://x.es/a"});
        assert_eq!(php_json(&v), r#"{"url":"https:\/\/x.es\/a"}"#);
        assert_eq!(
            php_json(&json!("Batería 😀")),
            r#""Bater\u00eda \ud83d\ude00""#
        );
        let v = json!({"url": "https://x.es/a", "name": "Batería 😀"});
        let back: Value = serde_json::from_str(&php_json(&v)).unwrap();
        assert_eq!(back, v);
    }
}
