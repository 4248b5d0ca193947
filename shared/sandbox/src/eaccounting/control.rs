//! The test handle's window on the company: the records as the eAccounting UI lists them, a
//! stock adjustment made in the UI, and an authorization code as if the user had consented in
//! the browser. Not vendor facts.

use std::sync::Arc;

use chrono::TimeDelta;
use rand::Rng;
use serde_json::{json, Value};

use super::articles::{move_stock, render};
use super::facts::{fmt_time, CODE_SECS};
use super::{App, Inner};
use crate::kit::{lock, Sandbox};

pub(super) struct Ext(pub(super) Arc<Inner>);

/// An eAccounting sandbox seen from its UI; from [`Sandbox::eaccounting`].
pub struct EAccountingView {
    app: App,
}

impl Sandbox {
    /// The eAccounting company behind this handle (`None` on another vendor's sandbox).
    pub fn eaccounting(&self) -> Option<EAccountingView> {
        let ext = self.common.ext::<Ext>()?;
        Some(EAccountingView {
            app: App {
                common: self.common.clone(),
                inner: ext.0.clone(),
            },
        })
    }
}

impl EAccountingView {
    /// Every record of `collection` (`customers`, `articles`, `orders`, `quotes`,
    /// `customerinvoicedrafts`, `customerinvoices`) as the API serves it, oldest first.
    pub fn records(&self, collection: &str) -> Vec<Value> {
        let co = lock(&self.app.inner.company);
        let plain = |v: &Vec<super::Obj>| v.iter().cloned().map(Value::Object).collect();
        match collection {
            "customers" => plain(&co.customers),
            "articles" => co.articles.iter().map(|a| render(&co, a)).collect(),
            "orders" => plain(&co.orders),
            "quotes" => plain(&co.quotes),
            "customerinvoicedrafts" => plain(&co.drafts),
            "customerinvoices" => plain(&co.invoices),
            _ => Vec::new(),
        }
    }

    /// The article with this `Number` (SKU).
    pub fn article_by_number(&self, number: &str) -> Option<Value> {
        self.records("articles")
            .into_iter()
            .find(|a| a["Number"] == json!(number))
    }

    /// A stock adjustment in the UI: sets the article's `StockBalance` (its `ChangedUtc`
    /// moves).
    pub fn set_stock(&self, number: &str, balance: f64) -> bool {
        let now = fmt_time(self.app.common.stamp());
        let mut co = lock(&self.app.inner.company);
        let Some(a) = co.articles.iter().find(|a| a["Number"] == json!(number)) else {
            return false;
        };
        let (id, old) = (a["Id"].clone(), a["StockBalance"].as_f64().unwrap_or(0.0));
        move_stock(&mut co, &id, balance - old, &now);
        true
    }

    /// A code for `scopes`, as `/connect/authorize` hands out after the user consents (for
    /// the client's registered redirect URI).
    pub fn authorization_code(&self, scopes: &[&str]) -> String {
        let inner = &self.app.inner;
        let code = format!("code_{}", hex::encode(rand::thread_rng().gen::<[u8; 16]>()));
        lock(&inner.tokens).codes.insert(
            code.clone(),
            (
                self.app.common.now() + TimeDelta::seconds(CODE_SECS),
                inner.redirect_uri.clone(),
                scopes.iter().map(|s| s.to_string()).collect(),
            ),
        );
        code
    }
}
