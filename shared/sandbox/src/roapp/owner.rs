//! The [`RoAppSandbox`] handle: what tests read and do as an employee in the RO App UI —
//! the account's clients, orders (with items, write-off state and the event feed), catalogue
//! and categories; writing an order's products off; changing its status.

use std::ops::Deref;

use serde_json::Value;

use super::orders::{set_status, write_off};
use super::{App, RoAppConfig};
use crate::kit::Sandbox;

/// A running RO App sandbox; derefs to the kit's [`Sandbox`].
#[derive(Clone)]
pub struct RoAppSandbox {
    pub sandbox: Sandbox,
    pub(super) app: App,
}

impl Deref for RoAppSandbox {
    type Target = Sandbox;
    fn deref(&self) -> &Sandbox {
        &self.sandbox
    }
}

/// The employee named in the event feed for UI actions.
const EMPLOYEE: &str = "Luis (taller)";

impl RoAppSandbox {
    pub fn config(&self) -> &RoAppConfig {
        &self.app.inner.cfg
    }

    /// Every client (people and organisations) as v2 renders them, by id.
    pub fn clients(&self) -> Vec<Value> {
        self.app
            .account()
            .clients
            .values()
            .map(|c| c.v2())
            .collect()
    }

    /// Every order as v2 renders it, by id.
    pub fn orders(&self) -> Vec<Value> {
        let a = self.app.account();
        a.orders.values().map(|o| o.v2(&a)).collect()
    }

    pub fn order(&self, id: u64) -> Option<Value> {
        let a = self.app.account();
        a.orders.get(&id).map(|o| o.v2(&a))
    }

    /// The texts of an order's comments, oldest first.
    pub fn comments(&self, id: u64) -> Vec<String> {
        self.app
            .account()
            .orders
            .get(&id)
            .map(|o| {
                o.events
                    .iter()
                    .filter(|e| e.kind == "comment")
                    .map(|e| e.text.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// An order's event feed as `(type, text)`, oldest first.
    pub fn events(&self, id: u64) -> Vec<(String, String)> {
        self.app
            .account()
            .orders
            .get(&id)
            .map(|o| {
                o.events
                    .iter()
                    .map(|e| (e.kind.to_string(), e.text.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn products(&self) -> Vec<Value> {
        self.app
            .account()
            .products
            .values()
            .map(|p| p.v2())
            .collect()
    }

    /// `(id, title, parent_id)` of every category.
    pub fn categories(&self) -> Vec<(u64, String, Option<u64>)> {
        self.app
            .account()
            .categories
            .values()
            .map(|c| (c.id, c.title.clone(), c.parent_id))
            .collect()
    }

    /// Writes the order's products off, as an employee does in the UI (ROA-3).
    pub fn write_off(&self, id: u64) -> Result<(), String> {
        write_off(&self.app, id, EMPLOYEE).map_err(|(_, m)| m)
    }

    /// Moves the order to status `status_id`, as in the UI.
    pub fn set_status(&self, id: u64, status_id: u64) -> Result<(), String> {
        let now = self.app.common.stamp();
        set_status(&mut self.app.account(), id, status_id, now, EMPLOYEE)
    }
}
