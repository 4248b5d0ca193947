//! The test handle's window on the agreement: the collections as the e-conomic UI lists them,
//! the UI's webhook settings (legacy webhooks are set up there, not through the API), UI
//! edits that fire webhooks like API writes do (a stock count, a bulk price change, a
//! payment), and the day's call count. Not vendor facts.

use std::sync::Arc;

use serde_json::{json, Value};

use super::api::render_at;
use super::customers::stamp;
use super::hooks::{notify, HookKind};
use super::{customers, products, App, Inner, Stage};
use crate::kit::{lock, Sandbox};

pub(super) struct Ext(pub(super) Arc<Inner>);

/// An e-conomic sandbox seen from its UI; from [`Sandbox::economic`].
pub struct EconomicView {
    app: App,
}

impl Sandbox {
    /// The e-conomic agreement behind this handle (`None` on another vendor's sandbox).
    pub fn economic(&self) -> Option<EconomicView> {
        let ext = self.common.ext::<Ext>()?;
        Some(EconomicView {
            app: App {
                common: self.common.clone(),
                inner: ext.0.clone(),
            },
        })
    }
}

impl EconomicView {
    /// Every document of a collection as the API renders it: `customers`, `products`,
    /// `orders/drafts|sent|archived`, `quotes/…`, `invoices/drafts`, `invoices/booked`.
    pub fn records(&self, collection: &str) -> Vec<Value> {
        let app = &self.app;
        let books = lock(&app.inner.books);
        let docs =
            |m: &std::collections::BTreeMap<u64, (Stage, super::Obj)>, base: &str, stage: Stage| {
                m.iter()
                    .filter(|(_, (s, _))| *s == stage)
                    .map(|(n, (_, d))| render_at(app, d, &format!("{base}/{}/{n}", stage.path())))
                    .collect::<Vec<_>>()
            };
        match collection {
            "customers" => books
                .customers
                .values()
                .map(|c| customers::render(app, c))
                .collect(),
            "products" => books
                .products
                .values()
                .map(|p| products::render(app, &books, p))
                .collect(),
            "orders/drafts" => docs(&books.orders, "orders", Stage::Drafts),
            "orders/sent" => docs(&books.orders, "orders", Stage::Sent),
            "orders/archived" => docs(&books.orders, "orders", Stage::Archived),
            "quotes/drafts" => docs(&books.quotes, "quotes", Stage::Drafts),
            "quotes/sent" => docs(&books.quotes, "quotes", Stage::Sent),
            "quotes/archived" => docs(&books.quotes, "quotes", Stage::Archived),
            "invoices/drafts" => books
                .drafts
                .iter()
                .map(|(n, d)| render_at(app, d, &format!("invoices/drafts/{n}")))
                .collect(),
            "invoices/booked" => books
                .booked
                .iter()
                .map(|(n, d)| render_at(app, d, &format!("invoices/booked/{n}")))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Sets (or with `None` removes) the URL template of a legacy webhook kind, as a
    /// SuperUser does under All settings → Extensions → Web hooks.
    pub fn set_webhook(&self, kind: HookKind, template: Option<&str>) {
        let mut books = lock(&self.app.inner.books);
        match template {
            Some(t) => books.hooks.insert(kind, t.to_string()),
            None => books.hooks.remove(&kind),
        };
    }

    /// A stock count entered in the UI: the product's `inStock` (its `lastUpdated` moves and
    /// its webhook fires).
    pub fn set_in_stock(&self, product_number: &str, in_stock: f64) -> bool {
        let mut books = lock(&self.app.inner.books);
        products::set_stock(&self.app, &mut books, product_number, in_stock)
    }

    /// A bulk price change in the UI: every product's `salesPrice` by `percent`; one webhook
    /// per product (the legacy webhooks never bundle). The number of products changed.
    pub fn bulk_price_change(&self, percent: f64) -> usize {
        let mut books = lock(&self.app.inner.books);
        let numbers: Vec<String> = books.products.keys().cloned().collect();
        for n in &numbers {
            let now = stamp(&self.app);
            if let Some(p) = books.products.get_mut(n) {
                let price = p.get("salesPrice").and_then(Value::as_f64).unwrap_or(0.0);
                let new = (price * (1.0 + percent / 100.0) * 100.0).round() / 100.0;
                p.insert("salesPrice".into(), json!(new));
                p.insert("lastUpdated".into(), json!(now));
            }
            notify(&self.app, &books, HookKind::ProductUpdated, n, n);
        }
        numbers.len()
    }

    /// A payment of `amount` registered on booked invoice `number` (its `remainder` drops).
    pub fn register_payment(&self, number: u64, amount: f64) -> bool {
        let mut books = lock(&self.app.inner.books);
        let Some(d) = books.booked.get_mut(&number) else {
            return false;
        };
        let left = (d["remainder"].as_f64().unwrap_or(0.0) - amount).max(0.0);
        let left = (left * 100.0).round() / 100.0;
        d.insert("remainder".into(), json!(left));
        d.insert("remainderInBaseCurrency".into(), json!(left));
        true
    }

    /// Calls the configured agreement has made in its current 24-hour window.
    pub fn calls_today(&self) -> u64 {
        lock(&self.app.inner.quotas)
            .get("agreement")
            .map_or(0, |q| q.used)
    }
}
