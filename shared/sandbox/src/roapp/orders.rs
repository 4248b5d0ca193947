//! Orders in both generations (§(e) "Orders"): legacy `GET/POST /order/`, v2 `/v2/orders`
//! with the status object and order type, line items that can be changed until the order's
//! products are written off (ROA-3), the write-off itself, comments and the event feed
//! (ROA-6). Filters: `ids[]`, `id_labels[]`, `statuses[]`, `types[]`, `clients_ids[]`,
//! `client_phones[]` (by digits), `created_at[]`, `modified_at[]`, `closed_at[]`, `sort_dir`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::api::{
    arr, body_json, body_pairs, err, ids, in_range, legacy_err, legacy_page, range, v2_err,
    v2_page, Gen, Range,
};
use super::clients::phones_match;
use super::model::{Account, Item, Order};
use super::{facts, App};
use crate::kit::http::{json, qget};
use crate::shopworld::phone_digits;

type Q = Query<Vec<(String, String)>>;

/// Who the event feed names for a change made through the API.
pub(super) const API_AUTHOR: &str = "API";

struct OrderFilter {
    ids: Vec<u64>,
    labels: Vec<String>,
    statuses: Vec<u64>,
    types: Vec<u64>,
    clients: Vec<u64>,
    phones: Vec<String>,
    created: Range,
    modified: Range,
    closed: Range,
    desc: bool,
}

impl OrderFilter {
    fn parse(gen: Gen, q: &[(String, String)]) -> Result<OrderFilter, Response> {
        let desc = match qget(q, "sort_dir") {
            None => facts::ORDERS_DEFAULT_DESC,
            Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                return Err(err(
                    gen,
                    StatusCode::BAD_REQUEST,
                    "sort_dir must be asc or desc",
                ))
            }
        };
        Ok(OrderFilter {
            ids: ids(gen, q, "ids")?,
            labels: arr(q, "id_labels"),
            statuses: ids(gen, q, "statuses")?,
            types: ids(gen, q, "types")?,
            clients: ids(gen, q, "clients_ids")?,
            phones: arr(q, "client_phones")
                .iter()
                .map(|p| phone_digits(p))
                .collect(),
            created: range(gen, q, "created_at")?,
            modified: range(gen, q, "modified_at")?,
            closed: range(gen, q, "closed_at")?,
            desc,
        })
    }

    fn rows<'a>(&self, a: &'a Account) -> Vec<&'a Order> {
        let closed_filter = self.closed.0.is_some() || self.closed.1.is_some();
        let mut rows: Vec<&Order> = a
            .orders
            .values()
            .filter(|o| self.ids.is_empty() || self.ids.contains(&o.id))
            .filter(|o| self.labels.is_empty() || self.labels.contains(&o.label))
            .filter(|o| self.statuses.is_empty() || self.statuses.contains(&o.status_id))
            .filter(|o| self.types.is_empty() || self.types.contains(&o.type_id))
            .filter(|o| self.clients.is_empty() || self.clients.contains(&o.client_id))
            .filter(|o| {
                self.phones.is_empty()
                    || a.clients
                        .get(&o.client_id)
                        .is_some_and(|c| phones_match(&self.phones, &c.phones))
            })
            .filter(|o| in_range(self.created, o.created) && in_range(self.modified, o.modified))
            .filter(|o| !closed_filter || o.closed.is_some_and(|t| in_range(self.closed, t)))
            .collect();
        if self.desc {
            rows.reverse();
        }
        rows
    }
}

/// `GET /order/` (legacy).
pub(super) async fn legacy_list(State(app): State<App>, Query(q): Q) -> Response {
    let f = match OrderFilter::parse(Gen::Legacy, &q) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let a = app.account();
    let rows: Vec<Value> = f.rows(&a).iter().map(|o| o.legacy(&a)).collect();
    legacy_page(&q, &rows)
}

/// `GET /v2/orders`.
pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    let f = match OrderFilter::parse(Gen::V2, &q) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let a = app.account();
    let rows: Vec<Value> = f.rows(&a).iter().map(|o| o.v2(&a)).collect();
    v2_page(&q, &rows)
}

/// What a new order needs; `Err` is the message of the 422.
pub(super) struct NewOrder {
    pub(super) client_id: u64,
    pub(super) type_id: u64,
    pub(super) status_id: Option<u64>,
    pub(super) malfunction: String,
    pub(super) manager_notes: String,
    pub(super) items: Vec<Value>,
    /// [I] see `facts` (number and date on create): the number to give the order (else minted `A-n`).
    pub(super) number: Option<String>,
    /// [I] see `facts` (number and date on create): the creation time of an imported order.
    pub(super) created: Option<DateTime<Utc>>,
}

/// Creates an order (ROA-4: without a status, its type's initial one).
pub(super) fn create_order(app: &App, n: NewOrder, author: &str) -> Result<u64, String> {
    let now = app.common.stamp();
    let mut a = app.account();
    if !a.clients.contains_key(&n.client_id) {
        return Err(format!("client {} does not exist", n.client_id));
    }
    let Some(t) = a.types.iter().find(|t| t.id == n.type_id).cloned() else {
        return Err(format!("order type {} does not exist", n.type_id));
    };
    let status = match n.status_id {
        Some(s) if a.statuses.iter().any(|x| x.id == s) => s,
        Some(s) => return Err(format!("status {s} does not exist")),
        None if facts::STATUS_FROM_ORDER_TYPE => t.initial_status,
        None => 1,
    };
    let mut items = Vec::new();
    for v in &n.items {
        items.push(item_from(&mut a, v)?);
    }
    let id = a.next_order;
    a.next_order += 1;
    let label = match n.number.filter(|x| !x.trim().is_empty()) {
        Some(x) => x.trim().to_string(),
        None => {
            a.next_label += 1;
            format!("A-{}", a.next_label - 1)
        }
    };
    let created = n.created.filter(|c| *c <= now).unwrap_or(now);
    a.orders.insert(
        id,
        Order {
            id,
            label,
            client_id: n.client_id,
            status_id: status,
            type_id: t.id,
            branch_id: 1,
            items,
            written_off: None,
            events: Vec::new(),
            malfunction: n.malfunction,
            manager_notes: n.manager_notes,
            created,
            modified: now,
            closed: None,
        },
    );
    a.event(id, "created", "Orden creada".into(), now, author);
    Ok(id)
}

/// An item from `{product_id?, title?, quantity, price?, sku?, code?}`: a catalogue
/// product's title, price, SKU and code unless given.
fn item_from(a: &mut Account, v: &Value) -> Result<Item, String> {
    let product = v.get("product_id").and_then(Value::as_u64);
    let p = match product {
        Some(id) => Some(
            a.products
                .get(&id)
                .cloned()
                .ok_or_else(|| format!("product {id} does not exist"))?,
        ),
        None => None,
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    let title = s("title")
        .or_else(|| p.as_ref().map(|p| p.title.clone()))
        .unwrap_or_default();
    if title.is_empty() {
        return Err("item title or product_id is required".into());
    }
    let quantity = v.get("quantity").and_then(Value::as_u64).unwrap_or(1);
    let price = v
        .get("price")
        .and_then(Value::as_f64)
        .map(|x| (x * 100.0).round() as u64)
        .or_else(|| p.as_ref().map(|p| p.price))
        .unwrap_or(0);
    let id = a.next_item;
    a.next_item += 1;
    Ok(Item {
        id,
        product_id: product,
        title,
        quantity,
        price,
        code: s("code")
            .or_else(|| p.as_ref().map(|p| p.code.clone()))
            .unwrap_or_default(),
        sku: s("sku")
            .or_else(|| p.as_ref().map(|p| p.sku.clone()))
            .unwrap_or_default(),
    })
}

/// `POST /order/` (legacy, form or JSON): `client_id`, `order_type`, `branch_id`,
/// `malfunction`, `manager_notes` → `{"success": true, "data": {"id", "id_label"}}`.
pub(super) async fn legacy_create(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = body_pairs(&headers, &body);
    let num = |k: &str| qget(&p, k).and_then(|v| v.trim().parse::<u64>().ok());
    let Some(client_id) = num("client_id") else {
        return legacy_err(StatusCode::UNPROCESSABLE_ENTITY, "client_id is required");
    };
    let n = NewOrder {
        client_id,
        type_id: num("order_type").unwrap_or(1),
        status_id: num("status"),
        malfunction: qget(&p, "malfunction").unwrap_or("").into(),
        manager_notes: qget(&p, "manager_notes").unwrap_or("").into(),
        items: Vec::new(),
        number: None,
        created: None,
    };
    match create_order(&app, n, API_AUTHOR) {
        Ok(id) => {
            let label = app.account().orders[&id].label.clone();
            json(
                StatusCode::OK,
                json!({"success": true, "data": {"id": id, "id_label": label}}),
            )
        }
        Err(m) => legacy_err(StatusCode::UNPROCESSABLE_ENTITY, &m),
    }
}

/// `POST /v2/orders` `{client_id, order_type_id, status_id?, malfunction?, manager_notes?,
/// number?, created_at?, items?: [{product_id?, title?, quantity, price?}]}` → 201
/// `{"data": order}`.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let num = |k: &str| v.get(k).and_then(Value::as_u64);
    let Some(client_id) = num("client_id") else {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "client_id is required");
    };
    let Some(type_id) = num("order_type_id") else {
        return v2_err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "order_type_id is required",
        );
    };
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let n = NewOrder {
        client_id,
        type_id,
        status_id: num("status_id"),
        malfunction: s("malfunction"),
        manager_notes: s("manager_notes"),
        items: v
            .get("items")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        number: v.get("number").and_then(Value::as_str).map(str::to_string),
        created: v
            .get("created_at")
            .and_then(Value::as_str)
            .and_then(crate::kit::clock::parse_iso),
    };
    match create_order(&app, n, API_AUTHOR) {
        Ok(id) => {
            let a = app.account();
            json(StatusCode::CREATED, json!({"data": a.orders[&id].v2(&a)}))
        }
        Err(m) => v2_err(StatusCode::UNPROCESSABLE_ENTITY, &m),
    }
}

fn not_found() -> Response {
    v2_err(StatusCode::NOT_FOUND, "Order not found")
}

fn order_id(a: &Account, raw: &str) -> Option<u64> {
    raw.parse().ok().filter(|id| a.orders.contains_key(id))
}

/// `GET /v2/orders/{id}`.
pub(super) async fn get(State(app): State<App>, Path(id): Path<String>) -> Response {
    let a = app.account();
    match order_id(&a, &id) {
        Some(id) => json(StatusCode::OK, json!({"data": a.orders[&id].v2(&a)})),
        None => not_found(),
    }
}

/// Sets an order's status, with its event (and `closed_at` in a closed group).
pub(super) fn set_status(
    a: &mut Account,
    id: u64,
    status: u64,
    now: DateTime<Utc>,
    author: &str,
) -> Result<(), String> {
    let Some(s) = a.statuses.iter().find(|s| s.id == status).cloned() else {
        return Err(format!("status {status} does not exist"));
    };
    let o = a.orders.get_mut(&id).ok_or("no such order")?;
    o.status_id = status;
    o.closed = s.group.0.starts_with("closed").then_some(now);
    a.event(
        id,
        "status_changed",
        format!("Estado: {}", s.name),
        now,
        author,
    );
    Ok(())
}

/// `PATCH /v2/orders/{id}` `{status_id?, manager_notes?, malfunction?}`.
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let now = app.common.stamp();
    let mut a = app.account();
    let Some(id) = order_id(&a, &id) else {
        return not_found();
    };
    if let Some(s) = v.get("status_id").and_then(Value::as_u64) {
        if let Err(m) = set_status(&mut a, id, s, now, API_AUTHOR) {
            return v2_err(StatusCode::UNPROCESSABLE_ENTITY, &m);
        }
    }
    let o = a.orders.get_mut(&id).expect("checked");
    for (k, field) in [
        ("manager_notes", &mut o.manager_notes),
        ("malfunction", &mut o.malfunction),
    ] {
        if let Some(x) = v.get(k).and_then(Value::as_str) {
            *field = x.to_string();
        }
    }
    o.modified = now;
    json(StatusCode::OK, json!({"data": a.orders[&id].v2(&a)}))
}

/// `GET /v2/orders/{id}/items`.
pub(super) async fn items(State(app): State<App>, Path(id): Path<String>) -> Response {
    let a = app.account();
    let Some(id) = order_id(&a, &id) else {
        return not_found();
    };
    let o = &a.orders[&id];
    let rows: Vec<Value> = o
        .items
        .iter()
        .map(|i| i.render(o.written_off.is_some()))
        .collect();
    json(StatusCode::OK, json!({ "data": rows }))
}

/// What an item change is.
pub(super) enum ItemChange {
    Add(Value),
    Quantity(u64, u64),
    Remove(u64),
}

/// Changes an order's items unless they are written off (ROA-3: 409 then).
pub(super) fn change_items(
    app: &App,
    id: u64,
    change: ItemChange,
    author: &str,
) -> Result<Value, (StatusCode, String)> {
    let now = app.common.stamp();
    let mut a = app.account();
    let o = a
        .orders
        .get(&id)
        .ok_or((StatusCode::NOT_FOUND, "Order not found".to_string()))?;
    if o.written_off.is_some() {
        return Err((StatusCode::CONFLICT, facts::WRITTEN_OFF.to_string()));
    }
    let (kind, text, out) = match change {
        ItemChange::Add(v) => {
            let item = item_from(&mut a, &v).map_err(|m| (StatusCode::UNPROCESSABLE_ENTITY, m))?;
            let text = format!("Añadido: {} × {}", item.title, item.quantity);
            let out = item.render(false);
            a.orders.get_mut(&id).expect("checked").items.push(item);
            ("item_added", text, out)
        }
        ItemChange::Quantity(item, q) => {
            let o = a.orders.get_mut(&id).expect("checked");
            let it = o
                .items
                .iter_mut()
                .find(|i| i.id == item)
                .ok_or((StatusCode::NOT_FOUND, "Item not found".to_string()))?;
            let text = format!("Cantidad de {}: {} → {q}", it.title, it.quantity);
            it.quantity = q;
            ("item_changed", text, it.render(false))
        }
        ItemChange::Remove(item) => {
            let o = a.orders.get_mut(&id).expect("checked");
            let pos = o
                .items
                .iter()
                .position(|i| i.id == item)
                .ok_or((StatusCode::NOT_FOUND, "Item not found".to_string()))?;
            let it = o.items.remove(pos);
            (
                "item_removed",
                format!("Eliminado: {}", it.title),
                Value::Null,
            )
        }
    };
    a.event(id, kind, text, now, author);
    Ok(out)
}

fn item_answer(r: Result<Value, (StatusCode, String)>, ok: StatusCode) -> Response {
    match r {
        Ok(Value::Null) => StatusCode::NO_CONTENT.into_response(),
        Ok(v) => json(ok, json!({ "data": v })),
        Err((s, m)) => v2_err(s, &m),
    }
}

/// `POST /v2/orders/{id}/items` `{product_id?, title?, quantity, price?}` → 201.
pub(super) async fn add_item(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(id) = id.parse() else {
        return not_found();
    };
    item_answer(
        change_items(&app, id, ItemChange::Add(v), API_AUTHOR),
        StatusCode::CREATED,
    )
}

/// `PATCH /v2/orders/{id}/items/{item}` `{quantity}`.
pub(super) async fn patch_item(
    State(app): State<App>,
    Path((id, item)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (Ok(id), Ok(item)) = (id.parse(), item.parse()) else {
        return not_found();
    };
    let Some(q) = v.get("quantity").and_then(Value::as_u64) else {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "quantity is required");
    };
    item_answer(
        change_items(&app, id, ItemChange::Quantity(item, q), API_AUTHOR),
        StatusCode::OK,
    )
}

/// `DELETE /v2/orders/{id}/items/{item}` → 204.
pub(super) async fn delete_item(
    State(app): State<App>,
    Path((id, item)): Path<(String, String)>,
) -> Response {
    let (Ok(id), Ok(item)) = (id.parse(), item.parse()) else {
        return not_found();
    };
    item_answer(
        change_items(&app, id, ItemChange::Remove(item), API_AUTHOR),
        StatusCode::OK,
    )
}

/// Writes off an order's products (ROA-3): its items freeze.
pub(super) fn write_off(app: &App, id: u64, author: &str) -> Result<(), (StatusCode, String)> {
    let now = app.common.stamp();
    let mut a = app.account();
    let o = a
        .orders
        .get_mut(&id)
        .ok_or((StatusCode::NOT_FOUND, "Order not found".to_string()))?;
    if o.written_off.is_some() {
        return Err((StatusCode::CONFLICT, facts::WRITTEN_OFF.to_string()));
    }
    o.written_off = Some(now);
    a.event(
        id,
        "written_off",
        "Productos dados de baja".into(),
        now,
        author,
    );
    Ok(())
}

/// `POST /v2/orders/{id}/write-off` → 200 `{"data": order}`; already written off → 409.
pub(super) async fn write_off_route(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse() else {
        return not_found();
    };
    match write_off(&app, id, API_AUTHOR) {
        Ok(()) => {
            let a = app.account();
            json(StatusCode::OK, json!({"data": a.orders[&id].v2(&a)}))
        }
        Err((s, m)) => v2_err(s, &m),
    }
}

/// `GET /v2/orders/{id}/comments`: the feed's comments, oldest first.
pub(super) async fn comments(State(app): State<App>, Path(id): Path<String>) -> Response {
    feed(app, id, true)
}

/// `GET /v2/orders/{id}/events`: the whole feed, oldest first.
pub(super) async fn events(State(app): State<App>, Path(id): Path<String>) -> Response {
    feed(app, id, false)
}

fn feed(app: App, id: String, only_comments: bool) -> Response {
    let a = app.account();
    let Some(id) = order_id(&a, &id) else {
        return not_found();
    };
    let rows: Vec<Value> = a.orders[&id]
        .events
        .iter()
        .filter(|e| !only_comments || e.kind == "comment")
        .map(|e| e.render())
        .collect();
    json(StatusCode::OK, json!({ "data": rows }))
}

/// `POST /v2/orders/{id}/comments` `{"text"}` → 201 `{"data": comment}`; empty → 422.
pub(super) async fn add_comment(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let text = v
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if text.is_empty() {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "text is required");
    }
    let now = app.common.stamp();
    let mut a = app.account();
    let Some(id) = order_id(&a, &id) else {
        return not_found();
    };
    a.event(id, "comment", text, now, API_AUTHOR);
    let e = a.orders[&id].events.last().map(|e| e.render());
    json(StatusCode::CREATED, json!({ "data": e }))
}

/// `GET /statuses/` (legacy) and `GET /v2/orders/statuses`.
pub(super) fn statuses(a: &Account, gen: Gen) -> Response {
    let rows: Vec<Value> = a.statuses.iter().map(|s| s.render()).collect();
    match gen {
        Gen::Legacy => json(StatusCode::OK, json!({"success": true, "data": rows})),
        Gen::V2 => json(StatusCode::OK, json!({ "data": rows })),
    }
}

/// `GET /order/types/` (legacy) and `GET /v2/orders/types` [I].
pub(super) fn types(a: &Account, gen: Gen) -> Response {
    let rows: Vec<Value> = a
        .types
        .iter()
        .map(|t| json!({"id": t.id, "name": t.name, "initial_status_id": t.initial_status}))
        .collect();
    match gen {
        Gen::Legacy => json(StatusCode::OK, json!({"success": true, "data": rows})),
        Gen::V2 => json(StatusCode::OK, json!({ "data": rows })),
    }
}
