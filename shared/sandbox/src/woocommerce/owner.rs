//! The [`WooSandbox`] handle: what tests do as the shop owner in wp-admin (orders placed at
//! checkout, status changes, quantity edits, trash, each firing its webhooks) and reading the
//! store as wp-admin shows it.

use std::ops::Deref;

use serde_json::{json, Value};

use super::model::{Contact, Line, Order, ShipLine};
use super::orders::apply;
use super::seed::STATUSES;
use super::{webhooks, App, WooConfig};
use crate::kit::Sandbox;

/// A running WooCommerce sandbox; derefs to the kit's [`Sandbox`].
#[derive(Clone)]
pub struct WooSandbox {
    pub sandbox: Sandbox,
    pub(super) app: App,
}

impl Deref for WooSandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

/// An order placed at checkout by [`WooSandbox::place_order`].
#[derive(Clone, Debug, Default)]
pub struct WooOrder {
    /// A registered customer (their billing and shipping are copied), or 0 for a guest.
    pub customer_id: u64,
    /// A guest's billing `(first_name, last_name, email, phone)`.
    pub guest: Option<(String, String, String, String)>,
    /// `(sku, quantity)` (a product without SKU by name).
    pub lines: Vec<(String, u64)>,
    /// `(method_title, method_id, cost in cents)`.
    pub shipping: Option<(String, String, u64)>,
    /// Initial status (`processing` when empty).
    pub status: String,
}

impl WooSandbox {
    pub fn config(&self) -> &WooConfig {
        &self.app.inner.cfg
    }

    /// Every order, trash included, as `GET /orders/{id}` renders it, by id.
    pub fn orders(&self) -> Vec<Value> {
        let root = &self.app.common.root_url;
        self.app
            .store()
            .orders
            .values()
            .map(|o| o.render(root))
            .collect()
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        let root = &self.app.common.root_url;
        self.app.store().orders.get(&id).map(|o| o.render(root))
    }

    pub fn customers(&self) -> Vec<Value> {
        self.app
            .store()
            .customers
            .values()
            .map(|c| c.render())
            .collect()
    }

    pub fn products(&self) -> Vec<Value> {
        let store = self.app.store();
        store
            .products
            .values()
            .map(|p| p.render(&store.categories))
            .collect()
    }

    /// `(id, name, parent)` of every category.
    pub fn categories(&self) -> Vec<(u64, String, u64)> {
        self.app
            .store()
            .categories
            .values()
            .map(|c| (c.id, c.name.clone(), c.parent))
            .collect()
    }

    /// `(status, consecutive failures)` of a webhook.
    pub fn webhook_state(&self, id: u64) -> Option<(String, u32)> {
        self.app
            .store()
            .webhooks
            .get(&id)
            .map(|w| (w.status.clone(), w.failures))
    }

    /// Adds an active webhook as wp-admin would (the ping included) and returns its id.
    pub async fn add_webhook(&self, topic: &str, url: &str, secret: &str) -> Result<u64, String> {
        let body = json!({"name": "puente", "topic": topic, "delivery_url": url, "secret": secret});
        webhooks::add(&self.app, &body)
            .await
            .map(|w| w.id)
            .map_err(|r| format!("refused: {}", r.status()))
    }

    /// A customer checks out: `order.created`. Returns the order id.
    pub fn place_order(&self, o: WooOrder) -> Result<u64, String> {
        let now = self.app.common.stamp();
        let mut store = self.app.store();
        let (billing, shipping) = if o.customer_id > 0 {
            let c = store
                .customers
                .get(&o.customer_id)
                .ok_or_else(|| format!("no customer {}", o.customer_id))?;
            (c.billing.clone(), c.shipping.clone())
        } else {
            let (first_name, last_name, email, phone) = o.guest.clone().unwrap_or_default();
            let b = Contact {
                first_name,
                last_name,
                email,
                phone,
                ..Contact::default()
            };
            let s = Contact {
                email: String::new(),
                phone: String::new(),
                ..b.clone()
            };
            (b, s)
        };
        let mut lines = Vec::new();
        for (key, quantity) in &o.lines {
            let found = store.products.values().find_map(|p| {
                if p.kind == "simple"
                    && ((!key.is_empty() && &p.sku == key) || (p.sku.is_empty() && &p.name == key))
                {
                    return Some((p.id, 0, p.name.clone(), p.sku.clone(), p.price));
                }
                p.variations.iter().find(|v| &v.sku == key).map(|v| {
                    (
                        p.id,
                        v.id,
                        format!("{} - {}", p.name, v.option),
                        v.sku.clone(),
                        v.price,
                    )
                })
            });
            let (product_id, variation_id, name, sku, price) =
                found.ok_or_else(|| format!("no product {key}"))?;
            let id = store.next_line;
            store.next_line += 1;
            lines.push(Line {
                id,
                product_id,
                variation_id,
                name,
                sku,
                quantity: *quantity,
                price,
            });
        }
        let status = if o.status.is_empty() {
            "processing"
        } else {
            o.status.as_str()
        };
        let status = *STATUSES
            .iter()
            .find(|s| **s == status)
            .ok_or_else(|| format!("no status {status}"))?;
        let id = store.next_order;
        store.next_order += 1;
        let shipping_lines = o
            .shipping
            .map(|(t, m, c)| {
                let lid = store.next_line;
                store.next_line += 1;
                vec![ShipLine {
                    id: lid,
                    method_title: t,
                    method_id: m,
                    total: c,
                }]
            })
            .unwrap_or_default();
        let order = Order {
            id,
            status,
            currency: self.app.inner.cfg.currency.clone(),
            customer_id: o.customer_id,
            billing,
            shipping,
            lines,
            shipping_lines,
            created: now,
            modified: now,
            paid: (status == "processing").then_some(now),
            completed: None,
            note: String::new(),
        };
        let v = order.render(&self.app.common.root_url);
        store.orders.insert(id, order);
        webhooks::fire(&self.app, &store, "order", "created", id, &v);
        Ok(id)
    }

    fn change(&self, id: u64, body: Value) -> Result<(), String> {
        let now = self.app.common.stamp();
        let mut store = self.app.store();
        let o = store
            .orders
            .get_mut(&id)
            .ok_or_else(|| format!("no order {id}"))?;
        let events = apply(o, &body, now).map_err(|r| format!("refused: {}", r.status()))?;
        let v = o.render(&self.app.common.root_url);
        for e in events {
            webhooks::fire(&self.app, &store, "order", e, id, &v);
        }
        Ok(())
    }

    /// Sets the status (`order.updated`; `order.deleted` into the trash, `order.restored`
    /// out of it).
    pub fn set_status(&self, id: u64, status: &str) -> Result<(), String> {
        self.change(id, json!({ "status": status }))
    }

    /// Edits the quantity of the line with `sku` (`order.updated`).
    pub fn set_quantity(&self, id: u64, sku: &str, quantity: u64) -> Result<(), String> {
        let line = {
            let store = self.app.store();
            let o = store
                .orders
                .get(&id)
                .ok_or_else(|| format!("no order {id}"))?;
            o.lines
                .iter()
                .find(|l| l.sku == sku)
                .map(|l| l.id)
                .ok_or_else(|| format!("order {id} has no {sku}"))?
        };
        self.change(
            id,
            json!({"line_items": [{"id": line, "quantity": quantity}]}),
        )
    }
}
