//! The [`ShopifySandbox`] handle: what tests do as the merchant in the Shopify admin (place,
//! edit, cancel, fulfil, pay orders, each firing its webhooks as the real shop would), read
//! the shop as the admin shows it (every order, customers included, whatever the plan and the
//! 60-day window), subscribe webhooks and lock the shop.

use std::ops::Deref;

use serde_json::{json, Value};

use super::api::ShopState;
use super::model::{Address, LineItem, Order, ShippingLine};
use super::{facts, webhooks, App, ShopifyConfig};
use crate::kit::lock;
use crate::kit::Sandbox;
use crate::shopworld::{format_phone, phone_digits, PhoneStyle};

/// A running Shopify sandbox; derefs to the kit's [`Sandbox`] (stats, faults, clock,
/// webhook log, shutdown).
#[derive(Clone)]
pub struct ShopifySandbox {
    pub sandbox: Sandbox,
    pub(super) app: App,
}

impl Deref for ShopifySandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

/// An order placed at checkout by [`ShopifySandbox::place_order`].
#[derive(Clone, Debug, Default)]
pub struct NewOrder {
    /// The buyer (`None`: no customer, like a POS sale).
    pub customer_id: Option<u64>,
    /// `(sku, quantity)`; a product without SKU is named by its title.
    pub lines: Vec<(String, u64)>,
    /// `(title, code, price in cents)`.
    pub shipping: Option<(String, String, u64)>,
    /// `paid` (also fires `orders/paid`) or `pending`.
    pub paid: bool,
}

impl ShopifySandbox {
    pub fn config(&self) -> &ShopifyConfig {
        &self.app.inner.cfg
    }

    /// `{root}/admin/api/{default version}`: where a connector's calls go.
    pub fn api_url(&self) -> String {
        format!(
            "{}/admin/api/{}",
            self.sandbox.root_url,
            facts::DEFAULT_VERSION
        )
    }

    /// Every order as the admin shows it (customer included on any plan), by id.
    pub fn orders(&self) -> Vec<Value> {
        let shop = self.app.shop();
        shop.orders
            .values()
            .map(|o| shop.render_order(o, false))
            .collect()
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        let shop = self.app.shop();
        shop.orders.get(&id).map(|o| shop.render_order(o, false))
    }

    /// The order called `name` (`#1001`).
    pub fn order_named(&self, name: &str) -> Option<Value> {
        let n: u64 = name.trim_start_matches('#').parse().ok()?;
        let shop = self.app.shop();
        shop.orders
            .values()
            .find(|o| o.number == n)
            .map(|o| shop.render_order(o, false))
    }

    pub fn customers(&self) -> Vec<Value> {
        let shop = self.app.shop();
        shop.customers
            .keys()
            .filter_map(|id| shop.render_customer(*id))
            .collect()
    }

    pub fn products(&self) -> Vec<Value> {
        self.app
            .shop()
            .products
            .values()
            .map(|p| p.render())
            .collect()
    }

    pub fn subscriptions(&self) -> Vec<Value> {
        self.app.shop().subs.values().map(|s| s.render()).collect()
    }

    /// Subscribes `address` to `topic` as the app would through the API (default version).
    pub fn subscribe(&self, topic: &str, address: &str) -> Result<u64, String> {
        webhooks::subscribe(&self.app, topic, address, facts::DEFAULT_VERSION)
            .map(|s| s.id)
            .map_err(|r| format!("refused: {}", r.status()))
    }

    /// Locks (423), freezes (402) or reopens the shop.
    pub fn set_state(&self, state: ShopState) {
        *lock(&self.app.inner.state) = state;
    }

    /// A customer checks out: a new open order (`orders/create`, and `orders/paid` when
    /// paid). Returns its id.
    pub fn place_order(&self, o: NewOrder) -> Result<u64, String> {
        let now = self.app.common.stamp();
        let mut shop = self.app.shop();
        let mut lines = Vec::new();
        for (key, qty) in &o.lines {
            let found = shop.products.values().find_map(|p| {
                p.variants
                    .iter()
                    .find(|v| {
                        (!key.is_empty() && &v.sku == key) || (v.sku.is_empty() && &p.title == key)
                    })
                    .map(|v| {
                        (
                            p.id,
                            v.id,
                            v.sku.clone(),
                            p.title.clone(),
                            p.option.as_ref().map(|_| v.title.clone()),
                            v.price,
                        )
                    })
            });
            let (pid, vid, sku, title, vt, price) =
                found.ok_or_else(|| format!("no product {key}"))?;
            let id = shop.next_line;
            shop.next_line += 1;
            lines.push(LineItem {
                id,
                product_id: Some(pid),
                variant_id: Some(vid),
                sku,
                title,
                variant_title: vt,
                quantity: *qty,
                price,
            });
        }
        let c = match o.customer_id {
            Some(id) => Some(
                shop.customers
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| format!("no customer {id}"))?,
            ),
            None => None,
        };
        let billing = c.as_ref().map(|c| {
            let mut a = c.address.clone().unwrap_or(Address {
                first_name: c.first_name.clone(),
                last_name: c.last_name.clone(),
                ..Address::default()
            });
            a.phone = c
                .phone
                .as_deref()
                .map(|p| format_phone(&phone_digits(p), PhoneStyle::NationalSpaced));
            a
        });
        let id = shop.next_order;
        shop.next_order += 1;
        let number = shop.next_number;
        shop.next_number += 1;
        let order = Order {
            id,
            number,
            customer_id: o.customer_id,
            email: c.as_ref().and_then(|c| c.email.clone()),
            phone: c.as_ref().and_then(|c| c.phone.clone()),
            created_at: now,
            updated_at: now,
            closed_at: None,
            cancelled_at: None,
            cancel_reason: None,
            currency: self.app.inner.cfg.currency.clone(),
            financial_status: if o.paid { "paid" } else { "pending" },
            fulfillment_status: None,
            billing: billing.clone(),
            shipping: billing,
            shipping_lines: o
                .shipping
                .into_iter()
                .map(|(title, code, price)| ShippingLine {
                    id: id + 3_000_000_000_000,
                    title,
                    code,
                    price,
                })
                .collect(),
            line_items: lines,
            note: None,
        };
        shop.orders.insert(id, order);
        let v = shop.render_order(&shop.orders[&id], self.app.hides_customer());
        let mut events = vec![("orders/create", v.clone())];
        if o.paid {
            events.push(("orders/paid", v));
        }
        webhooks::fire(&self.app, &shop, &events);
        Ok(id)
    }

    /// Applies `f` to order `id` as a merchant edit, bumps `updated_at` and fires `topics`
    /// (each with the order as it is after the edit).
    fn edit(
        &self,
        id: u64,
        topics: &[&str],
        f: impl FnOnce(&mut Order, chrono::DateTime<chrono::Utc>) -> Result<(), String>,
    ) -> Result<(), String> {
        let now = self.app.common.stamp();
        let mut shop = self.app.shop();
        let o = shop
            .orders
            .get_mut(&id)
            .ok_or_else(|| format!("no order {id}"))?;
        f(o, now)?;
        o.updated_at = now;
        let v = shop.render_order(&shop.orders[&id], self.app.hides_customer());
        let events: Vec<(&str, Value)> = topics.iter().map(|t| (*t, v.clone())).collect();
        webhooks::fire(&self.app, &shop, &events);
        Ok(())
    }

    /// Order edit: the line with `sku` (or line item id) gets `quantity` (`orders/updated`).
    pub fn set_quantity(&self, id: u64, sku: &str, quantity: u64) -> Result<(), String> {
        self.edit(id, &["orders/updated"], |o, _| {
            let line = o
                .line_items
                .iter_mut()
                .find(|l| l.sku == sku || l.id.to_string() == sku)
                .ok_or_else(|| format!("order {id} has no line {sku}"))?;
            line.quantity = quantity;
            Ok(())
        })
    }

    /// Changes the delivery method (`orders/updated`).
    pub fn set_shipping(&self, id: u64, title: &str, code: &str, price: u64) -> Result<(), String> {
        self.edit(id, &["orders/updated"], |o, _| {
            let sid = id + 3_000_000_000_000;
            o.shipping_lines = vec![ShippingLine {
                id: sid,
                title: title.into(),
                code: code.into(),
                price,
            }];
            Ok(())
        })
    }

    /// Changes the shipping address's street (`orders/updated`).
    pub fn set_shipping_street(&self, id: u64, street: &str) -> Result<(), String> {
        self.edit(id, &["orders/updated"], |o, _| {
            let a = o.shipping.get_or_insert_with(Address::default);
            a.address1 = street.into();
            Ok(())
        })
    }

    /// Cancels (and refunds when paid): `orders/cancelled` and `orders/updated`.
    pub fn cancel(&self, id: u64) -> Result<(), String> {
        self.edit(id, &["orders/cancelled", "orders/updated"], |o, now| {
            o.cancelled_at = Some(now);
            o.closed_at = Some(now);
            o.cancel_reason = Some("customer".into());
            o.financial_status = if o.financial_status == "paid" {
                "refunded"
            } else {
                "voided"
            };
            Ok(())
        })
    }

    /// Fulfils every line and archives the order: `orders/fulfilled`, `orders/updated`.
    pub fn fulfill(&self, id: u64) -> Result<(), String> {
        self.edit(id, &["orders/fulfilled", "orders/updated"], |o, now| {
            o.fulfillment_status = Some("fulfilled");
            o.closed_at = Some(now);
            Ok(())
        })
    }

    /// Captures payment: `orders/paid`, `orders/updated`.
    pub fn mark_paid(&self, id: u64) -> Result<(), String> {
        self.edit(id, &["orders/paid", "orders/updated"], |o, _| {
            o.financial_status = "paid";
            Ok(())
        })
    }

    /// Deletes the order: `orders/delete` with `{"id": N}`.
    pub fn delete_order(&self, id: u64) -> Result<(), String> {
        let mut shop = self.app.shop();
        shop.orders
            .remove(&id)
            .ok_or_else(|| format!("no order {id}"))?;
        webhooks::fire(&self.app, &shop, &[("orders/delete", json!({ "id": id }))]);
        Ok(())
    }
}
