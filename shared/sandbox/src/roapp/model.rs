//! The records of an RO App account and their JSON in both API generations (§(e)): legacy
//! with epoch-millisecond times and `{success, count, data}` pages, v2 with ISO times and
//! `{paging, data}`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::facts::V2_TIME_FORMAT;

pub(crate) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn iso(t: DateTime<Utc>) -> String {
    t.format(V2_TIME_FORMAT).to_string()
}

/// Cents as a number of euros (`19.9`).
pub(crate) fn amount(cents: u64) -> f64 {
    cents as f64 / 100.0
}

#[derive(Clone, Debug)]
pub(crate) struct Client {
    pub(crate) id: u64,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    /// An organisation's name (then `first_name`/`last_name` are empty).
    pub(crate) org: Option<String>,
    pub(crate) email: String,
    /// As typed in the UI (`+34 (600) 11-22-33`).
    pub(crate) phones: Vec<String>,
    pub(crate) address: String,
    pub(crate) notes: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
}

impl Client {
    pub(crate) fn name(&self) -> String {
        match &self.org {
            Some(o) => o.clone(),
            None => format!("{} {}", self.first_name, self.last_name)
                .trim()
                .to_string(),
        }
    }

    pub(crate) fn legacy(&self) -> Value {
        json!({
            "id": self.id, "name": self.name(), "first_name": self.first_name, "last_name": self.last_name,
            "phone": self.phones, "email": self.email, "address": self.address, "notes": self.notes,
            "supplier": false, "juridical": self.org.is_some(), "conflicted": false,
            "discount_code": "", "custom_fields": {}, "ad_campaign": null,
            "created_at": ms(self.created), "modified_at": ms(self.modified),
        })
    }

    pub(crate) fn v2(&self) -> Value {
        let phones: Vec<Value> = self
            .phones
            .iter()
            .map(|p| json!({"phone": p, "title": "Móvil"}))
            .collect();
        let mut v = json!({
            "id": self.id, "email": self.email, "phones": phones, "address": self.address,
            "notes": self.notes, "custom_fields": {}, "is_organization": self.org.is_some(),
            "created_at": iso(self.created), "modified_at": iso(self.modified),
        });
        match &self.org {
            Some(o) => {
                v["name"] = json!(o);
                v["tax_identification_number"] = json!("");
            }
            None => {
                v["first_name"] = json!(self.first_name);
                v["last_name"] = json!(self.last_name);
            }
        }
        v
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Status {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    pub(crate) color: &'static str,
    /// Group type and name [I].
    pub(crate) group: (&'static str, &'static str),
}

impl Status {
    pub(crate) fn render(&self) -> Value {
        json!({"id": self.id, "name": self.name, "color": self.color,
               "group": {"type": self.group.0, "name": self.group.1}})
    }
}

#[derive(Clone, Debug)]
pub(crate) struct OrderType {
    pub(crate) id: u64,
    pub(crate) name: &'static str,
    /// Status a new order of this type starts in (ROA-4).
    pub(crate) initial_status: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Item {
    pub(crate) id: u64,
    pub(crate) product_id: Option<u64>,
    pub(crate) title: String,
    pub(crate) code: String,
    pub(crate) sku: String,
    pub(crate) quantity: u64,
    pub(crate) price: u64,
}

impl Item {
    pub(crate) fn render(&self, written_off: bool) -> Value {
        json!({"id": self.id, "product_id": self.product_id, "title": self.title, "code": self.code,
               "sku": self.sku, "article": self.sku, "quantity": self.quantity, "amount": self.quantity,
               "price": amount(self.price), "total": amount(self.price * self.quantity),
               "written_off": written_off})
    }
}

/// One entry of an order's event feed.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) id: u64,
    /// `created`, `status_changed`, `item_added`, `item_changed`, `item_removed`,
    /// `written_off`, `comment`.
    pub(crate) kind: &'static str,
    pub(crate) text: String,
    pub(crate) at: DateTime<Utc>,
    /// `API` for calls through the API, the employee's name for UI actions.
    pub(crate) author: String,
}

impl Event {
    pub(crate) fn render(&self) -> Value {
        json!({"id": self.id, "type": self.kind, "text": self.text, "created_at": iso(self.at),
               "author": {"name": self.author}})
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Order {
    pub(crate) id: u64,
    /// `A-1001`.
    pub(crate) label: String,
    pub(crate) client_id: u64,
    pub(crate) status_id: u64,
    pub(crate) type_id: u64,
    pub(crate) branch_id: u64,
    pub(crate) items: Vec<Item>,
    pub(crate) written_off: Option<DateTime<Utc>>,
    pub(crate) events: Vec<Event>,
    pub(crate) malfunction: String,
    pub(crate) manager_notes: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modified: DateTime<Utc>,
    pub(crate) closed: Option<DateTime<Utc>>,
}

impl Order {
    pub(crate) fn price(&self) -> u64 {
        self.items.iter().map(|i| i.price * i.quantity).sum()
    }

    fn items(&self) -> Vec<Value> {
        self.items
            .iter()
            .map(|i| i.render(self.written_off.is_some()))
            .collect()
    }

    pub(crate) fn legacy(&self, a: &Account) -> Value {
        let status = a
            .statuses
            .iter()
            .find(|s| s.id == self.status_id)
            .map(Status::render);
        let t = a.types.iter().find(|t| t.id == self.type_id);
        let client = a
            .clients
            .get(&self.client_id)
            .map(|c| json!({"id": c.id, "name": c.name(), "phone": c.phones, "email": c.email}));
        json!({
            "id": self.id, "id_label": self.label, "status": status,
            "order_type": t.map(|t| json!({"id": t.id, "name": t.name})),
            "client": client, "branch_id": self.branch_id, "manager_id": 1, "engineer_id": null,
            "price": amount(self.price()), "payed": 0, "parts": self.items(), "operations": [],
            "malfunction": self.malfunction, "manager_notes": self.manager_notes, "custom_fields": {},
            "brand": "", "model": "", "serial": "",
            "created_at": ms(self.created), "modified_at": ms(self.modified),
            "done_at": self.closed.map(ms),
        })
    }

    pub(crate) fn v2(&self, a: &Account) -> Value {
        let status = a
            .statuses
            .iter()
            .find(|s| s.id == self.status_id)
            .map(Status::render);
        let t = a.types.iter().find(|t| t.id == self.type_id);
        json!({
            "id": self.id, "number": self.label, "status": status,
            "order_type": t.map(|t| json!({"id": t.id, "name": t.name})),
            "client": a.clients.get(&self.client_id).map(Client::v2),
            "branch_id": self.branch_id, "items": self.items(), "price": amount(self.price()),
            "written_off": self.written_off.is_some(), "written_off_at": self.written_off.map(iso),
            "malfunction": self.malfunction, "manager_notes": self.manager_notes, "custom_fields": {},
            "created_at": iso(self.created), "modified_at": iso(self.modified),
            "closed_at": self.closed.map(iso),
        })
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Category {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) parent_id: Option<u64>,
}

impl Category {
    pub(crate) fn render(&self) -> Value {
        json!({"id": self.id, "title": self.title, "parent_id": self.parent_id})
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Product {
    pub(crate) id: u64,
    pub(crate) title: String,
    pub(crate) code: String,
    /// Article / SKU; `""` for none.
    pub(crate) sku: String,
    pub(crate) barcodes: Vec<String>,
    pub(crate) price: u64,
    pub(crate) category_id: Option<u64>,
    pub(crate) description: String,
    /// `pcs` for a piece.
    pub(crate) unit: String,
    pub(crate) residue: i64,
    pub(crate) created: DateTime<Utc>,
}

impl Product {
    pub(crate) fn v2(&self) -> Value {
        json!({
            "id": self.id, "category_id": self.category_id, "title": self.title, "code": self.code,
            "sku": self.sku, "description": self.description,
            "unit": {"code": self.unit, "title": if self.unit == "pcs" { "Pieza" } else { self.unit.as_str() }},
            "cost": amount(self.price * 6 / 10), "barcodes": self.barcodes,
            "prices": [{"id": 1, "price": amount(self.price)}], "created_at": iso(self.created),
        })
    }

    /// `GET /warehouse/goods/{id}` item [C: darkClaw921].
    pub(crate) fn legacy(&self) -> Value {
        let barcodes: Vec<Value> = self.barcodes.iter().map(|b| json!({"code": b})).collect();
        json!({"id": self.id, "title": self.title, "code": self.code, "article": self.sku,
               "barcodes": barcodes, "residue": self.residue, "price": {"1": amount(self.price)},
               "category": self.category_id, "description": self.description})
    }
}

/// Everything an account holds.
#[derive(Default)]
pub(crate) struct Account {
    pub(crate) clients: BTreeMap<u64, Client>,
    pub(crate) orders: BTreeMap<u64, Order>,
    pub(crate) products: BTreeMap<u64, Product>,
    pub(crate) categories: BTreeMap<u64, Category>,
    pub(crate) statuses: Vec<Status>,
    pub(crate) types: Vec<OrderType>,
    pub(crate) next_client: u64,
    pub(crate) next_order: u64,
    pub(crate) next_label: u64,
    pub(crate) next_item: u64,
    pub(crate) next_event: u64,
    pub(crate) next_product: u64,
    pub(crate) next_category: u64,
}

impl Account {
    pub(crate) fn event(
        &mut self,
        order: u64,
        kind: &'static str,
        text: String,
        at: DateTime<Utc>,
        author: &str,
    ) {
        let id = self.next_event;
        self.next_event += 1;
        if let Some(o) = self.orders.get_mut(&order) {
            o.events.push(Event {
                id,
                kind,
                text,
                at,
                author: author.to_string(),
            });
            o.modified = at;
        }
    }
}
