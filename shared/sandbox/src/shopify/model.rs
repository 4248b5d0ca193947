//! The records of a Shopify shop and how the REST Admin API renders them (§(c) "Fields",
//! "Products and customers"): ids as numbers, money as strings, times in the shop's offset.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::{json, Map, Value};

use super::facts::UTC_OFFSET_SECS;

/// Shop time: `2025-01-31T11:00:00+01:00`.
pub(crate) fn ts(t: DateTime<Utc>) -> String {
    let off = FixedOffset::east_opt(UTC_OFFSET_SECS).expect("valid offset");
    t.with_timezone(&off)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn ots(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| json!(ts(t)))
}

/// Cents as Shopify writes money: `"19.90"`.
pub(crate) fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| json!(s))
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Address {
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) address1: String,
    pub(crate) city: String,
    pub(crate) zip: String,
    pub(crate) phone: Option<String>,
}

impl Address {
    pub(crate) fn render(&self) -> Value {
        json!({
            "first_name": self.first_name, "last_name": self.last_name,
            "name": format!("{} {}", self.first_name, self.last_name),
            "address1": self.address1, "address2": null, "city": self.city, "zip": self.zip,
            "province": null, "province_code": null, "country": "Spain", "country_code": "ES",
            "company": null, "phone": opt(&self.phone),
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Customer {
    pub(crate) id: u64,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    pub(crate) email: Option<String>,
    /// E.164, as Shopify stores customer phones.
    pub(crate) phone: Option<String>,
    /// `enabled` (has an account) or `disabled` (guest checkout).
    pub(crate) state: &'static str,
    pub(crate) address: Option<Address>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl Customer {
    pub(crate) fn render(&self, orders: (u64, u64)) -> Value {
        let addr = self.address.as_ref().map(|a| {
            let mut v = a.render();
            v["id"] = json!(self.id + 900_000_000_000);
            v["customer_id"] = json!(self.id);
            v["default"] = json!(true);
            v
        });
        json!({
            "id": self.id, "email": opt(&self.email), "first_name": self.first_name,
            "last_name": self.last_name, "phone": opt(&self.phone), "state": self.state,
            "verified_email": self.email.is_some() && self.state == "enabled",
            "created_at": ts(self.created_at), "updated_at": ts(self.updated_at),
            "orders_count": orders.0, "total_spent": money(orders.1), "currency": "EUR",
            "tags": "", "note": null, "tax_exempt": false,
            "default_address": addr.clone().unwrap_or(Value::Null),
            "addresses": addr.into_iter().collect::<Vec<_>>(),
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Variant {
    pub(crate) id: u64,
    /// `""`: no SKU.
    pub(crate) sku: String,
    /// `Default Title` for a product without options.
    pub(crate) title: String,
    pub(crate) price: u64,
    pub(crate) inventory: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) product_type: String,
    pub(crate) tags: String,
    /// `None` for a product without options (one `Default Title` variant).
    pub(crate) option: Option<String>,
    pub(crate) variants: Vec<Variant>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
}

impl Product {
    pub(crate) fn render(&self) -> Value {
        let handle: String = crate::kit::fake::slug(&self.title.replace(' ', "_"));
        let variants: Vec<Value> = self
            .variants
            .iter()
            .enumerate()
            .map(|(i, v)| {
                json!({
                    "id": v.id, "product_id": self.id, "title": v.title, "price": money(v.price),
                    "sku": v.sku, "position": i + 1, "compare_at_price": null,
                    "option1": if self.option.is_some() { json!(v.title) } else { json!("Default Title") },
                    "option2": null, "option3": null, "barcode": null, "taxable": true,
                    "inventory_item_id": v.id + 1_000_000_000_000,
                    "inventory_quantity": v.inventory, "inventory_management": "shopify",
                    "requires_shipping": true,
                    "created_at": ts(self.created_at), "updated_at": ts(self.updated_at),
                })
            })
            .collect();
        let values: Vec<&str> = self.variants.iter().map(|v| v.title.as_str()).collect();
        json!({
            "id": self.id, "title": self.title, "body_html": format!("<p>{}</p>", self.title),
            "vendor": "Puente Demo", "product_type": self.product_type, "handle": handle,
            "status": "active", "tags": self.tags, "published_scope": "web",
            "created_at": ts(self.created_at), "updated_at": ts(self.updated_at),
            "published_at": ts(self.created_at),
            "options": [{"id": self.id + 10, "product_id": self.id, "position": 1,
                         "name": self.option.as_deref().unwrap_or("Title"),
                         "values": if self.option.is_some() { json!(values) } else { json!(["Default Title"]) }}],
            "variants": variants, "images": [], "image": null,
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct LineItem {
    pub(crate) id: u64,
    pub(crate) product_id: Option<u64>,
    pub(crate) variant_id: Option<u64>,
    pub(crate) sku: String,
    pub(crate) title: String,
    pub(crate) variant_title: Option<String>,
    pub(crate) quantity: u64,
    pub(crate) price: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct ShippingLine {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) code: String,
    pub(crate) price: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub(crate) id: u64,
    /// `order_number`; `name` is `#` + it.
    pub(crate) number: u64,
    pub(crate) customer_id: Option<u64>,
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) closed_at: Option<DateTime<Utc>>,
    pub(crate) cancelled_at: Option<DateTime<Utc>>,
    pub(crate) cancel_reason: Option<String>,
    pub(crate) currency: String,
    pub(crate) financial_status: &'static str,
    pub(crate) fulfillment_status: Option<&'static str>,
    pub(crate) billing: Option<Address>,
    pub(crate) shipping: Option<Address>,
    pub(crate) shipping_lines: Vec<ShippingLine>,
    pub(crate) line_items: Vec<LineItem>,
    pub(crate) note: Option<String>,
}

impl Order {
    pub(crate) fn subtotal(&self) -> u64 {
        self.line_items.iter().map(|l| l.price * l.quantity).sum()
    }

    pub(crate) fn total(&self) -> u64 {
        self.subtotal() + self.shipping_lines.iter().map(|s| s.price).sum::<u64>()
    }

    /// The REST rendering; `customer` is the embedded customer (already rendered) or `None`
    /// when the order has none or the plan hides it (then `email`/`phone` are null too).
    pub(crate) fn render(&self, customer: Option<Value>, hide_contact: bool) -> Value {
        let total = self.total();
        // Prices include 21 % VAT.
        let tax = total - (total * 100).div_ceil(121);
        let lines: Vec<Value> = self
            .line_items
            .iter()
            .map(|l| {
                let name = match &l.variant_title {
                    Some(v) => format!("{} - {v}", l.title),
                    None => l.title.clone(),
                };
                json!({
                    "id": l.id, "product_id": l.product_id, "variant_id": l.variant_id,
                    "sku": l.sku, "title": l.title, "variant_title": l.variant_title, "name": name,
                    "quantity": l.quantity, "current_quantity": l.quantity,
                    "price": money(l.price), "total_discount": "0.00",
                    "fulfillable_quantity": if self.fulfillment_status == Some("fulfilled") { 0 } else { l.quantity },
                    "fulfillment_status": if self.fulfillment_status == Some("fulfilled") { json!("fulfilled") } else { Value::Null },
                    "requires_shipping": true, "taxable": true, "vendor": "Puente Demo",
                    "gift_card": false,
                })
            })
            .collect();
        let ship: Vec<Value> = self
            .shipping_lines
            .iter()
            .map(|s| {
                json!({"id": s.id, "title": s.title, "code": s.code, "price": money(s.price),
                       "source": "shopify", "discounted_price": money(s.price)})
            })
            .collect();
        let contact = |v: &Option<String>| if hide_contact { Value::Null } else { opt(v) };
        let mut o = Map::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_string(), v);
        };
        put("id", json!(self.id));
        put("name", json!(format!("#{}", self.number)));
        put("order_number", json!(self.number));
        put("number", json!(self.number - 1000));
        put("email", contact(&self.email));
        put("contact_email", contact(&self.email));
        put("phone", contact(&self.phone));
        put("created_at", json!(ts(self.created_at)));
        put("updated_at", json!(ts(self.updated_at)));
        put("processed_at", json!(ts(self.created_at)));
        put("closed_at", ots(self.closed_at));
        put("cancelled_at", ots(self.cancelled_at));
        put("cancel_reason", opt(&self.cancel_reason));
        put("currency", json!(self.currency));
        put("presentment_currency", json!(self.currency));
        put("subtotal_price", json!(money(self.subtotal())));
        put("total_price", json!(money(total)));
        put("total_tax", json!(money(tax)));
        put("total_discounts", json!("0.00"));
        put("taxes_included", json!(true));
        put("financial_status", json!(self.financial_status));
        put("fulfillment_status", json!(self.fulfillment_status));
        put("confirmed", json!(true));
        put("test", json!(false));
        put("note", opt(&self.note));
        put("tags", json!(""));
        put("source_name", json!("web"));
        put(
            "billing_address",
            self.billing.as_ref().map_or(Value::Null, Address::render),
        );
        put(
            "shipping_address",
            self.shipping.as_ref().map_or(Value::Null, Address::render),
        );
        put("shipping_lines", Value::Array(ship));
        put("line_items", Value::Array(lines));
        if let Some(c) = customer {
            put("customer", c);
        }
        Value::Object(o)
    }
}

/// A webhook subscription.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub(crate) id: u64,
    pub(crate) topic: String,
    pub(crate) address: String,
    pub(crate) api_version: String,
    pub(crate) created_at: DateTime<Utc>,
}

impl Subscription {
    pub(crate) fn render(&self) -> Value {
        json!({
            "id": self.id, "address": self.address, "topic": self.topic,
            "created_at": ts(self.created_at), "updated_at": ts(self.created_at),
            "format": "json", "fields": [], "metafield_namespaces": [],
            "api_version": self.api_version,
        })
    }
}

/// Everything a shop holds.
#[derive(Default)]
pub(crate) struct Shop {
    pub(crate) customers: BTreeMap<u64, Customer>,
    pub(crate) products: BTreeMap<u64, Product>,
    pub(crate) orders: BTreeMap<u64, Order>,
    pub(crate) subs: BTreeMap<u64, Subscription>,
    pub(crate) next_customer: u64,
    pub(crate) next_product: u64,
    pub(crate) next_variant: u64,
    pub(crate) next_order: u64,
    pub(crate) next_number: u64,
    pub(crate) next_line: u64,
    pub(crate) next_sub: u64,
}

/// First ids, Shopify-sized (13 digits).
pub(crate) const FIRST_CUSTOMER: u64 = 6_100_000_000_001;
pub(crate) const FIRST_PRODUCT: u64 = 8_100_000_000_001;
pub(crate) const FIRST_VARIANT: u64 = 4_410_000_000_001;
pub(crate) const FIRST_ORDER: u64 = 5_500_000_000_001;
pub(crate) const FIRST_LINE: u64 = 1_350_000_000_001;
pub(crate) const FIRST_SUB: u64 = 1_100_000_000_001;

impl Shop {
    pub(crate) fn new() -> Shop {
        Shop {
            next_customer: FIRST_CUSTOMER,
            next_product: FIRST_PRODUCT,
            next_variant: FIRST_VARIANT,
            next_order: FIRST_ORDER,
            next_number: 1001,
            next_line: FIRST_LINE,
            next_sub: FIRST_SUB,
            ..Shop::default()
        }
    }

    /// Orders count and total spent of a customer (cancelled orders excluded).
    pub(crate) fn spent(&self, customer: u64) -> (u64, u64) {
        self.orders
            .values()
            .filter(|o| o.customer_id == Some(customer) && o.cancelled_at.is_none())
            .fold((0, 0), |(n, t), o| (n + 1, t + o.total()))
    }

    pub(crate) fn render_customer(&self, id: u64) -> Option<Value> {
        self.customers.get(&id).map(|c| c.render(self.spent(id)))
    }

    /// The order as the API shows it (`hide`: a Basic-plan shop).
    pub(crate) fn render_order(&self, o: &Order, hide: bool) -> Value {
        let customer = if hide {
            None
        } else {
            o.customer_id.and_then(|id| self.render_customer(id))
        };
        o.render(customer, hide)
    }
}
