//! `orders`, `orders/{id}/orderrows` and `orderrows/{id}` [C `MarcHoog` docstrings,
//! `jacobdekeizer` models and parameters].
//!
//! Order numbers (`ordernumber`, `ordernumber_full`, `invoicenumber`) are null until the order
//! `is_completed`; completing it assigns the next number. Rows can change only while the order
//! is not completed. Every order write sends `orders.created` or `orders.updated`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    bad, bool_param, check_fields, created, error, id_of, missing, no_content, order_by, paged,
    parse_body, Kind,
};
use super::facts::{
    fmt_time, parse_filter_date, CODE_ORDER_LOCKED, FIRST_ORDERNUMBER, ORDERNUMBER_PREFIX, TARIFFS,
};
use super::webhooks::notify;
use super::{App, Obj, Shop};
use crate::kit::http::{json, qget};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

/// Statuses 1–14: New, In process, Wait manufacturer, Wait payment, Sent, Delivered,
/// Completed, Cancelled, Wait supplier, Packaging, Ready for pickup, Assembling, Backorder,
/// Reserved [C].
pub(super) const STATUSES: std::ops::RangeInclusive<i64> = 1..=14;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The order as served, its rows embedded when the request says `expand=orderrows` [C
/// "Embedding: expand=a,b"].
pub(super) fn render_in(app: &App, shop: &Shop, o: &Obj, q: &[(String, String)]) -> Value {
    let mut v = render(app, o);
    let expand = qget(q, "expand").is_some_and(|e| e.split(',').any(|x| x.trim() == "orderrows"));
    if expand {
        let id = o["id"].as_u64();
        let rows: Vec<Value> = shop
            .orderrows
            .rows
            .values()
            .filter(|r| r["order_id"].as_u64() == id)
            .map(|r| render_row(app, r))
            .collect();
        v["orderrows"]["items"] = Value::Array(rows);
    }
    v
}

/// The order as the API serves it: links added, the internal `user_id` as `user{id,href}`.
pub(super) fn render(app: &App, o: &Obj) -> Value {
    let mut v = o.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert("href".into(), json!(app.url(&format!("orders/{id}"))));
    let user = match v.remove("user_id").and_then(|u| u.as_u64()) {
        Some(u) => json!({"id": u, "href": app.url(&format!("users/{u}"))}),
        None => Value::Null,
    };
    v.insert("user".into(), user);
    v.insert(
        "orderrows".into(),
        json!({"href": app.url(&format!("orders/{id}/orderrows"))}),
    );
    Value::Object(v)
}

pub(super) fn render_row(app: &App, r: &Obj) -> Value {
    let mut v = r.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert("href".into(), json!(app.url(&format!("orderrows/{id}"))));
    Value::Object(v)
}

/// Gives a completed order its number: `ordernumber`, `ordernumber_full`, `invoicenumber`.
pub(super) fn complete(shop: &mut Shop, o: &mut Obj) {
    let n = shop.next_ordernumber;
    shop.next_ordernumber += 1;
    o.insert("is_completed".into(), json!(true));
    o.insert("ordernumber_prefix".into(), json!(ORDERNUMBER_PREFIX));
    o.insert("ordernumber".into(), json!(n));
    o.insert(
        "ordernumber_full".into(),
        json!(format!("{ORDERNUMBER_PREFIX}{n}")),
    );
    o.insert("invoicenumber".into(), json!(n - FIRST_ORDERNUMBER + 1));
}

/// Recomputes an order's totals from its rows: `total_price` (rows plus shipping, VAT
/// included), `total_tax` (the VAT in it; shipping at 21 %).
pub(super) fn retotal(shop: &mut Shop, order_id: u64) {
    let (mut total, mut tax) = (0.0, 0.0);
    for r in shop.orderrows.rows.values() {
        if r["order_id"].as_u64() == Some(order_id) {
            let t = r["total_price"].as_f64().unwrap_or(0.0);
            let pct = r["tax"].as_f64().unwrap_or(0.0);
            total += t;
            tax += t * pct / (100.0 + pct);
        }
    }
    if let Some(o) = shop.orders.rows.get_mut(&order_id) {
        let ship = o["total_shipping"].as_f64().unwrap_or(0.0);
        // A discount coupon comes off the total (its VAT at 21 % [I]).
        let coupon = o
            .get("discountcoupon")
            .and_then(|c| c.get("discount"))
            .and_then(Value::as_f64)
            .unwrap_or(0.0);
        o.insert("total_discounts".into(), json!(round2(coupon)));
        o.insert("total_price".into(), json!(round2(total + ship - coupon)));
        o.insert(
            "total_tax".into(),
            json!(round2(tax + (ship - coupon) * 21.0 / 121.0)),
        );
    }
}

/// A row of `count` × product `product_id` on `order_id`, priced from the product unless
/// `price` is given.
pub(super) fn make_row(
    shop: &Shop,
    order_id: u64,
    product_id: u64,
    count: f64,
    price: Option<f64>,
    discount: f64,
) -> Result<Obj, String> {
    let p = shop
        .products
        .rows
        .get(&product_id)
        .ok_or_else(|| format!("Product {product_id} does not exist"))?;
    let tariff = p["taxtariff"].as_str().unwrap_or("normal");
    let tax = TARIFFS
        .iter()
        .find(|(t, _)| *t == tariff)
        .map_or(21.0, |(_, pct)| *pct);
    let price = price.unwrap_or_else(|| p["price"].as_f64().unwrap_or(0.0));
    let total = round2(count * price - discount);
    let row = json!({"order_id": order_id, "product_id": product_id,
        "product_name": p["name"], "product_number": p["productnumber"],
        "sub_sku_number": null, "sub_ean_number": null, "count": count, "price": price,
        "discount": discount, "tax": tax, "total_price": total, "attributes": []});
    Ok(row.as_object().cloned().unwrap_or_default())
}

/// Lowers the stock of each product on `order_id` that manages stock.
pub(super) fn take_stock(shop: &mut Shop, order_id: u64, now: &str) {
    let taken: Vec<(u64, f64)> = shop
        .orderrows
        .rows
        .values()
        .filter(|r| r["order_id"].as_u64() == Some(order_id))
        .filter_map(|r| Some((r["product_id"].as_u64()?, r["count"].as_f64()?)))
        .collect();
    for (pid, n) in taken {
        if let Some(p) = shop.products.rows.get_mut(&pid) {
            if p["stockenabled"].as_bool() == Some(true) {
                let s = p["stock"].as_f64().unwrap_or(0.0) - n;
                p.insert("stock".into(), json!(s));
                p.insert("modifydate".into(), json!(now));
            }
        }
    }
}

/// `GET /orders`: filters `ordernumber, status, is_paid, is_completed, min_create_date,
/// max_create_date`; `orderby=id|ordernumber|create_date|deliver_date[_desc]` [C].
pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    run(|| {
        let status = match qget(&q, "status") {
            None => None,
            Some(s) => match s.parse::<i64>() {
                Ok(n) if STATUSES.contains(&n) => Some(n),
                _ => return Err(bad(format!("Invalid status '{s}': 1 to 14"))),
            },
        };
        let paid = bool_param(&q, "is_paid")?;
        let completed = bool_param(&q, "is_completed")?;
        let date = |key: &str, end: bool| match qget(&q, key) {
            None => Ok(None),
            Some(v) => parse_filter_date(v, end)
                .map(Some)
                .ok_or_else(|| bad(format!("Invalid date '{v}' for {key}"))),
        };
        let min = date("min_create_date", false)?;
        let max = date("max_create_date", true)?;
        let number = qget(&q, "ordernumber");
        let shop = lock(&app.inner.shop);
        let mut rows: Vec<Value> = shop
            .orders
            .rows
            .values()
            .filter(|o| status.is_none_or(|s| o["status"].as_i64() == Some(s)))
            .filter(|o| paid.is_none_or(|p| o["paid"].as_bool() == Some(p)))
            .filter(|o| completed.is_none_or(|c| o["is_completed"].as_bool() == Some(c)))
            .filter(|o| {
                number.is_none_or(|n| {
                    o["ordernumber"]
                        .as_u64()
                        .is_some_and(|x| x.to_string() == n)
                        || o["ordernumber_full"].as_str() == Some(n)
                })
            })
            .filter(|o| {
                let t = o["create_date"]
                    .as_str()
                    .and_then(|s| parse_filter_date(s, false));
                min.is_none_or(|m| t.is_some_and(|t| t >= m))
                    && max.is_none_or(|m| t.is_some_and(|t| t <= m))
            })
            .map(|o| render_in(&app, &shop, o, &q))
            .collect();
        drop(shop);
        order_by(
            &mut rows,
            &q,
            &["id", "ordernumber", "create_date", "deliver_date"],
        )?;
        paged(&app, "orders", &q, &rows)
    })
}

/// Runs a handler body written with `?`.
pub(super) fn run(f: impl FnOnce() -> Result<Response, Response>) -> Response {
    f().unwrap_or_else(|e| e)
}

pub(super) async fn detail(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.orders.rows.get(&i)) {
        Some(o) => json(StatusCode::OK, render_in(&app, &shop, o, &q)),
        None => missing("Order", &id),
    }
}

/// `POST /orders` [I shape]: `customer` (Personalinfo with `email`), `orderrows`
/// `[{product_id, count, price?, discount?}]`, optional `user_id`, `status` (1), `paid`
/// (false), `is_completed` (true), `paymethod`, `deliver_method`, `total_shipping`,
/// `discountcoupon` (`{code, discount}`, the amount off the order [C field, I shape]).
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let mut rest = parse_body(&body)?;
        // `orderrows` is an array: checked on its own below.
        let rows = rest.remove("orderrows");
        let mut f = check_fields(
            &rest,
            &[
                ("customer", Kind::Obj),
                ("user_id", Kind::OptInt),
                ("status", Kind::Int),
                ("paid", Kind::Bool),
                ("is_completed", Kind::Bool),
                ("paymethod", Kind::Str),
                ("deliver_method", Kind::Str),
                ("total_shipping", Kind::Num),
                ("currency", Kind::Str),
                ("discountcoupon", Kind::Obj),
            ],
        )?;
        let Some(Value::Array(rows)) = rows else {
            return Err(bad("Property 'orderrows' is required: an array of rows"));
        };
        if rows.is_empty() {
            return Err(bad("An order needs at least one row"));
        }
        let customer = f.remove("customer").unwrap_or(Value::Null);
        if customer["email"].as_str().is_none_or(|e| !e.contains('@')) {
            return Err(bad("Property 'customer.email' is required"));
        }
        let status = f.get("status").and_then(Value::as_i64).unwrap_or(1);
        if !STATUSES.contains(&status) {
            return Err(bad(format!("Invalid status {status}: 1 to 14")));
        }
        let now = fmt_time(app.common.stamp());
        let mut shop = lock(&app.inner.shop);
        if let Some(u) = f.get("user_id").and_then(Value::as_u64) {
            if !shop.users.rows.contains_key(&u) {
                return Err(bad(format!("User {u} does not exist")));
            }
        }
        let mut order = json!({"ordernumber_prefix": null, "ordernumber": null,
            "ordernumber_full": null, "invoicenumber": null, "create_date": now,
            "status": status, "is_completed": false, "paid": f.get("paid").cloned().unwrap_or(json!(false)),
            "deliver_method": f.get("deliver_method").cloned().unwrap_or(json!("shipping")),
            "deliver_date": null,
            "paymethod": f.get("paymethod").cloned().unwrap_or(json!("ideal")),
            "currency": f.get("currency").cloned().unwrap_or(json!("EUR")),
            "total_price": 0.0, "total_tax": 0.0,
            "total_shipping": f.get("total_shipping").cloned().unwrap_or(json!(0.0)),
            "track_and_trace_code": null, "user_id": f.get("user_id").cloned().unwrap_or(Value::Null),
            "shipping_tax_percentage": 21.0,
            "discountcoupon": f.get("discountcoupon").cloned().unwrap_or(Value::Null),
            "customer": customer})
        .as_object()
        .cloned()
        .unwrap_or_default();
        let mut made = Vec::new();
        let oid = shop.orders.next;
        for (i, r) in rows.iter().enumerate() {
            let pid = r["product_id"].as_u64();
            let count = r["count"].as_f64();
            let (Some(pid), Some(count)) = (pid, count) else {
                return Err(bad(format!(
                    "orderrows[{i}]: product_id and count are required"
                )));
            };
            let row = make_row(
                &shop,
                oid,
                pid,
                count,
                r["price"].as_f64(),
                r["discount"].as_f64().unwrap_or(0.0),
            )
            .map_err(|e| bad(format!("orderrows[{i}]: {e}")))?;
            made.push(row);
        }
        if f.get("is_completed").and_then(Value::as_bool) != Some(false) {
            complete(&mut shop, &mut order);
        }
        let id = shop.orders.insert(order);
        for row in made {
            shop.orderrows.insert(row);
        }
        retotal(&mut shop, id);
        if shop.orders.rows[&id]["is_completed"] == json!(true) {
            take_stock(&mut shop, id, &now);
        }
        let out = render(&app, &shop.orders.rows[&id]);
        notify(&app, &shop, "orders.created", id, "orders");
        Ok(created(out))
    })
}

/// `PATCH /orders/{id}` → 204: `status` (1–14), `paid`, `is_completed` (only to true: it
/// assigns the number), `track_and_trace_code`, `deliver_date` [C fields; I the set].
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = parse_body(&body)?;
        let f = check_fields(
            &body,
            &[
                ("status", Kind::Int),
                ("paid", Kind::Bool),
                ("is_completed", Kind::Bool),
                ("track_and_trace_code", Kind::OptStr),
                ("deliver_date", Kind::OptStr),
            ],
        )?;
        if let Some(s) = f.get("status").and_then(Value::as_i64) {
            if !STATUSES.contains(&s) {
                return Err(bad(format!("Invalid status {s}: 1 to 14")));
            }
        }
        let now = fmt_time(app.common.stamp());
        let mut shop = lock(&app.inner.shop);
        let Some(oid) = id_of(&id).filter(|i| shop.orders.rows.contains_key(i)) else {
            return Err(missing("Order", &id));
        };
        let mut o = shop.orders.rows[&oid].clone();
        let was_completed = o["is_completed"] == json!(true);
        match f.get("is_completed").and_then(Value::as_bool) {
            Some(false) if was_completed => {
                return Err(bad("A completed order cannot be reopened"));
            }
            Some(true) if !was_completed => complete(&mut shop, &mut o),
            _ => {}
        }
        for k in ["status", "paid", "track_and_trace_code", "deliver_date"] {
            if let Some(v) = f.get(k) {
                o.insert(k.into(), v.clone());
            }
        }
        shop.orders.rows.insert(oid, o);
        if !was_completed && shop.orders.rows[&oid]["is_completed"] == json!(true) {
            take_stock(&mut shop, oid, &now);
        }
        notify(&app, &shop, "orders.updated", oid, "orders");
        Ok(no_content())
    })
}

/// `GET /orders/{id}/orderrows`: the rows, paged.
pub(super) async fn rows_of(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    run(|| {
        let shop = lock(&app.inner.shop);
        let Some(oid) = id_of(&id).filter(|i| shop.orders.rows.contains_key(i)) else {
            return Err(missing("Order", &id));
        };
        let rows: Vec<Value> = shop
            .orderrows
            .rows
            .values()
            .filter(|r| r["order_id"].as_u64() == Some(oid))
            .map(|r| render_row(&app, r))
            .collect();
        drop(shop);
        paged(&app, &format!("orders/{oid}/orderrows"), &q, &rows)
    })
}

/// The order `id` if it exists and is not completed; else 404 or 400 (locked).
fn open_order(shop: &Shop, id: &str) -> Result<u64, Response> {
    let Some(oid) = id_of(id).filter(|i| shop.orders.rows.contains_key(i)) else {
        return Err(missing("Order", id));
    };
    if shop.orders.rows[&oid]["is_completed"] == json!(true) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            CODE_ORDER_LOCKED,
            "Order rows can only change on an order that is not completed",
        ));
    }
    Ok(oid)
}

fn row_input(r: &Value, i: usize) -> Result<(u64, f64, Option<f64>, f64), Response> {
    match (r["product_id"].as_u64(), r["count"].as_f64()) {
        (Some(p), Some(c)) => Ok((
            p,
            c,
            r["price"].as_f64(),
            r["discount"].as_f64().unwrap_or(0.0),
        )),
        _ => Err(bad(format!(
            "orderrows[{i}]: product_id and count are required"
        ))),
    }
}

/// `POST /orders/{id}/orderrows` `{product_id, count, price?, discount?}` → 201.
pub(super) async fn add_row(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = Value::Object(parse_body(&body)?);
        let (pid, count, price, discount) = row_input(&body, 0)?;
        let mut shop = lock(&app.inner.shop);
        let oid = open_order(&shop, &id)?;
        let row = make_row(&shop, oid, pid, count, price, discount).map_err(bad)?;
        let rid = shop.orderrows.insert(row);
        retotal(&mut shop, oid);
        let out = render_row(&app, &shop.orderrows.rows[&rid]);
        notify(&app, &shop, "orders.updated", oid, "orders");
        Ok(created(out))
    })
}

/// `PUT /orders/{id}/orderrows` `{"orderrows": [...]}` replaces every row → 204 [C].
pub(super) async fn replace_rows(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = parse_body(&body)?;
        let Some(Value::Array(rows)) = body.get("orderrows") else {
            return Err(bad("Property 'orderrows' is required: an array of rows"));
        };
        let mut shop = lock(&app.inner.shop);
        let oid = open_order(&shop, &id)?;
        let mut made = Vec::new();
        for (i, r) in rows.iter().enumerate() {
            let (pid, count, price, discount) = row_input(r, i)?;
            made.push(
                make_row(&shop, oid, pid, count, price, discount)
                    .map_err(|e| bad(format!("orderrows[{i}]: {e}")))?,
            );
        }
        shop.orderrows
            .rows
            .retain(|_, r| r["order_id"].as_u64() != Some(oid));
        for r in made {
            shop.orderrows.insert(r);
        }
        retotal(&mut shop, oid);
        notify(&app, &shop, "orders.updated", oid, "orders");
        Ok(no_content())
    })
}

pub(super) async fn row_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.orderrows.rows.get(&i)) {
        Some(r) => json(StatusCode::OK, render_row(&app, r)),
        None => missing("Orderrow", &id),
    }
}

/// `PATCH /orderrows/{id}` `{count?, price?, discount?}` → 204, on an open order only.
pub(super) async fn row_update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = parse_body(&body)?;
        let f = check_fields(
            &body,
            &[
                ("count", Kind::Num),
                ("price", Kind::Num),
                ("discount", Kind::Num),
            ],
        )?;
        let mut shop = lock(&app.inner.shop);
        let Some(rid) = id_of(&id).filter(|i| shop.orderrows.rows.contains_key(i)) else {
            return Err(missing("Orderrow", &id));
        };
        let r = shop.orderrows.rows[&rid].clone();
        let oid = r["order_id"].as_u64().unwrap_or(0);
        open_order(&shop, &oid.to_string())?;
        let num = |k: &str| f.get(k).and_then(Value::as_f64).or(r[k].as_f64());
        let mut row = make_row(
            &shop,
            oid,
            r["product_id"].as_u64().unwrap_or(0),
            num("count").unwrap_or(1.0),
            num("price"),
            num("discount").unwrap_or(0.0),
        )
        .map_err(bad)?;
        row.insert("id".into(), json!(rid));
        shop.orderrows.rows.insert(rid, row);
        retotal(&mut shop, oid);
        notify(&app, &shop, "orders.updated", oid, "orders");
        Ok(no_content())
    })
}

/// `DELETE /orderrows/{id}` → 204, on an open order only.
pub(super) async fn row_delete(State(app): State<App>, Path(id): Path<String>) -> Response {
    run(|| {
        let mut shop = lock(&app.inner.shop);
        let Some(rid) = id_of(&id).filter(|i| shop.orderrows.rows.contains_key(i)) else {
            return Err(missing("Orderrow", &id));
        };
        let oid = shop.orderrows.rows[&rid]["order_id"].as_u64().unwrap_or(0);
        open_order(&shop, &oid.to_string())?;
        shop.orderrows.rows.remove(&rid);
        retotal(&mut shop, oid);
        notify(&app, &shop, "orders.updated", oid, "orders");
        Ok(no_content())
    })
}
