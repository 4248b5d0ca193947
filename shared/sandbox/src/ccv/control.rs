//! The test handle's window on the shop: the records as the shop's back office shows them,
//! back-office edits (stock, order status) that fire webhooks like API writes do, and adding a
//! webhook subscription without signing a request. Not vendor facts.

use std::sync::Arc;

use serde_json::{json, Value};

use super::facts::fmt_time;
use super::{catalog, orders, users, webhooks, App, Inner};
use crate::kit::{lock, Sandbox};

/// What the [`Sandbox`] handle reaches (kept in the kit's vendor slot).
pub(super) struct Ext(pub(super) Arc<Inner>);

/// A CCV sandbox seen from the shop's back office; from [`Sandbox::ccv`].
pub struct CcvView {
    app: App,
}

impl Sandbox {
    /// The CCV shop behind this handle (`None` on another vendor's sandbox).
    pub fn ccv(&self) -> Option<CcvView> {
        let ext = self.common.ext::<Ext>()?;
        Some(CcvView {
            app: App {
                common: self.common.clone(),
                inner: ext.0.clone(),
            },
        })
    }
}

impl CcvView {
    /// Every record of `resource` (`orders`, `orderrows`, `products`, `categories`,
    /// `producttocategories`, `users`, `webhooks`) as the API renders it, by id.
    pub fn records(&self, resource: &str) -> Vec<Value> {
        let shop = lock(&self.app.inner.shop);
        let app = &self.app;
        match resource {
            "orders" => shop
                .orders
                .rows
                .values()
                .map(|o| orders::render(app, o))
                .collect(),
            "orderrows" => shop
                .orderrows
                .rows
                .values()
                .map(|r| orders::render_row(app, r))
                .collect(),
            "products" => shop
                .products
                .rows
                .values()
                .map(|p| catalog::render_product(app, p))
                .collect(),
            "users" => shop
                .users
                .rows
                .values()
                .map(|u| users::render(app, u))
                .collect(),
            "categories" => shop
                .categories
                .rows
                .values()
                .cloned()
                .map(Value::Object)
                .collect(),
            "producttocategories" => shop
                .links
                .rows
                .values()
                .cloned()
                .map(Value::Object)
                .collect(),
            "webhooks" => shop
                .webhooks
                .rows
                .values()
                .cloned()
                .map(Value::Object)
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The product with this `productnumber` (SKU).
    pub fn product_by_sku(&self, sku: &str) -> Option<Value> {
        self.records("products")
            .into_iter()
            .find(|p| p["productnumber"].as_str() == Some(sku))
    }

    /// Subscribes `address` to `event` (as `POST /webhooks` would); the id and `key`.
    pub fn subscribe(&self, event: &str, address: &str) -> Result<(u64, String), String> {
        let mut shop = lock(&self.app.inner.shop);
        webhooks::subscribe(&self.app, &mut shop, event, address, true)
    }

    /// The shop owner sets a product's stock in the back office (`products.updated` fires).
    pub fn set_stock(&self, sku: &str, stock: f64) -> bool {
        let now = fmt_time(self.app.common.stamp());
        let mut shop = lock(&self.app.inner.shop);
        let Some((&id, p)) = shop
            .products
            .rows
            .iter_mut()
            .find(|(_, p)| p["productnumber"].as_str() == Some(sku))
        else {
            return false;
        };
        p.insert("stock".into(), json!(stock));
        p.insert("modifydate".into(), json!(now));
        webhooks::notify(&self.app, &shop, "products.updated", id, "products");
        true
    }

    /// The shop owner moves an order to `status` (1–14) and marks it paid or not
    /// (`orders.updated` fires).
    pub fn set_order_status(&self, id: u64, status: i64, paid: bool) -> bool {
        if !orders::STATUSES.contains(&status) {
            return false;
        }
        let mut shop = lock(&self.app.inner.shop);
        let Some(o) = shop.orders.rows.get_mut(&id) else {
            return false;
        };
        o.insert("status".into(), json!(status));
        o.insert("paid".into(), json!(paid));
        webhooks::notify(&self.app, &shop, "orders.updated", id, "orders");
        true
    }

    /// A customer places an order in the shop: `body` as `POST /orders` takes it
    /// (`customer`, `orderrows` `[{product_id, count}]`, `paid`, `paymethod`, …), through the
    /// same checks; `orders.created` fires. The order as served, or the API's refusal.
    pub async fn place_order(&self, body: Value) -> Result<Value, String> {
        let r = orders::create(
            axum::extract::State(self.app.clone()),
            axum::body::Bytes::from(body.to_string()),
        )
        .await;
        let ok = r.status().is_success();
        let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .map_err(|e| e.to_string())?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if ok {
            Ok(v)
        } else {
            Err(v.to_string())
        }
    }

    /// The shop owner edits an order's `key` in the back office (e.g. its `paymethod`);
    /// `orders.updated` fires. Whether the order exists.
    pub fn edit_order(&self, id: u64, key: &str, value: Value) -> bool {
        let mut shop = lock(&self.app.inner.shop);
        let Some(o) = shop.orders.rows.get_mut(&id) else {
            return false;
        };
        o.insert(key.into(), value);
        webhooks::notify(&self.app, &shop, "orders.updated", id, "orders");
        true
    }

    /// The shop owner edits a product's `key` in the back office (its `description`, a
    /// `stockenabled` flag); `products.updated` fires. Whether the product exists.
    pub fn edit_product(&self, sku: &str, key: &str, value: Value) -> bool {
        let now = fmt_time(self.app.common.stamp());
        let mut shop = lock(&self.app.inner.shop);
        let Some((&id, p)) = shop
            .products
            .rows
            .iter_mut()
            .find(|(_, p)| p["productnumber"].as_str() == Some(sku))
        else {
            return false;
        };
        p.insert(key.into(), value);
        p.insert("modifydate".into(), json!(now));
        webhooks::notify(&self.app, &shop, "products.updated", id, "products");
        true
    }
}
