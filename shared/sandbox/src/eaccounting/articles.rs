//! `/v2/articles` (GET, POST, PUT) [C swagger]: `Id`, `Number` (the SKU, at most 40),
//! `Name`, `NetPrice`, `GrossPrice`, `UnitId`, `IsActive` and the read-only stock fields
//! `StockBalance`, `StockBalanceReserved`, `StockBalanceAvailable`; `ChangedUtc` on every
//! write (and, [I], on every stock change).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    self, body_obj, created, invalid, is_guid, missing, ok, opt_bool, opt_num, opt_str, req_str,
    run,
};
use super::facts::{fmt_time, CHANGED, DEFAULT_VAT, RESERVING_STATUSES};
use super::{App, Company, Obj};
use crate::kit::lock;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The quantity of article `id` on orders that reserve stock.
fn reserved(co: &Company, id: &Value) -> f64 {
    co.orders
        .iter()
        .filter(|o| {
            o["Status"]
                .as_i64()
                .is_some_and(|s| RESERVING_STATUSES.contains(&s))
        })
        .flat_map(|o| o["Rows"].as_array().cloned().unwrap_or_default())
        .filter(|r| r["ArticleId"] == *id)
        .filter_map(|r| r["Quantity"].as_f64())
        .sum()
}

/// The article as served: the stock fields computed, the internal VAT rate left out.
pub(super) fn render(co: &Company, a: &Obj) -> Value {
    let mut v = a.clone();
    v.remove("_vat");
    let balance = v["StockBalance"].as_f64().unwrap_or(0.0);
    let held = reserved(co, &v["Id"]);
    v.insert("StockBalanceReserved".into(), json!(held));
    v.insert("StockBalanceAvailable".into(), json!(balance - held));
    Value::Object(v)
}

/// The VAT rate an article is sold at.
pub(super) fn vat_of(a: &Obj) -> f64 {
    a.get("_vat").and_then(Value::as_f64).unwrap_or(DEFAULT_VAT)
}

/// Checks an article document; the stored fields. Stock fields are read-only and ignored.
fn check(co: &Company, body: &Obj, own: Option<&str>) -> Result<Obj, Response> {
    let mut out = Obj::new();
    let number = req_str(body, "Number")?;
    if number.chars().count() > 40 {
        return Err(invalid("Number can be at most 40 characters."));
    }
    if co
        .articles
        .iter()
        .any(|a| a["Number"] == json!(number) && a["Id"].as_str() != own)
    {
        return Err(invalid(format!(
            "Article number {number} is already in use."
        )));
    }
    out.insert("Number".into(), json!(number));
    let name = req_str(body, "Name")?;
    if name.chars().count() > 50 {
        return Err(invalid("Name can be at most 50 characters."));
    }
    out.insert("Name".into(), json!(name));
    if let Some(n) = opt_str(body, "NameEnglish")? {
        out.insert("NameEnglish".into(), json!(n));
    }
    let unit = req_str(body, "UnitId")?;
    if !is_guid(&unit) || !co.units.iter().any(|u| u["Id"] == json!(unit)) {
        return Err(invalid(format!("UnitId {unit} does not exist.")));
    }
    out.insert("UnitId".into(), json!(unit));
    let (net, gross) = match (opt_num(body, "NetPrice")?, opt_num(body, "GrossPrice")?) {
        (Some(n), Some(g)) => (n, g),
        (Some(n), None) => (n, round2(n * (1.0 + DEFAULT_VAT))),
        (None, Some(g)) => (round2(g / (1.0 + DEFAULT_VAT)), g),
        (None, None) => (0.0, 0.0),
    };
    if net < 0.0 || gross < 0.0 {
        return Err(invalid("Prices cannot be negative."));
    }
    out.insert("NetPrice".into(), json!(net));
    out.insert("GrossPrice".into(), json!(gross));
    out.insert(
        "IsActive".into(),
        json!(opt_bool(body, "IsActive")?.unwrap_or(true)),
    );
    Ok(out)
}

pub(super) async fn list(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let co = lock(&app.inner.company);
    let rows: Vec<Value> = co.articles.iter().map(|a| render(&co, a)).collect();
    drop(co);
    api::list(&app, &q, rows, CHANGED, &["ChangedUtc", "Number", "Name"])
}

pub(super) async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match co.articles.iter().find(|a| a["Id"] == json!(id)) {
        Some(a) => ok(render(&co, a)),
        None => missing("Article", &id),
    }
}

pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let now = fmt_time(app.common.stamp());
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, None)?;
        let id = co.guid();
        rec.insert("Id".into(), json!(id));
        rec.insert("StockBalance".into(), json!(0.0));
        rec.insert("CreatedUtc".into(), json!(now));
        rec.insert("ChangedUtc".into(), json!(now));
        co.articles.push(rec.clone());
        Ok(created(render(&co, &rec)))
    })
}

/// `PUT /v2/articles/{id}` → 200; stock is kept.
pub(super) async fn replace(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let now = fmt_time(app.common.stamp());
        let mut co = lock(&app.inner.company);
        let Some(i) = co.articles.iter().position(|a| a["Id"] == json!(id)) else {
            return Err(missing("Article", &id));
        };
        let mut rec = check(&co, &body, Some(&id))?;
        for k in ["Id", "CreatedUtc", "StockBalance", "_vat"] {
            if let Some(v) = co.articles[i].get(k) {
                rec.insert(k.into(), v.clone());
            }
        }
        rec.insert("ChangedUtc".into(), json!(now));
        co.articles[i] = rec.clone();
        Ok(ok(render(&co, &rec)))
    })
}

/// Moves an article's `StockBalance` by `delta` (an invoice, the UI) and its `ChangedUtc`.
pub(super) fn move_stock(co: &mut Company, id: &Value, delta: f64, now: &str) {
    if let Some(a) = co.articles.iter_mut().find(|a| a["Id"] == *id) {
        let s = a["StockBalance"].as_f64().unwrap_or(0.0) + delta;
        a.insert("StockBalance".into(), json!(s));
        a.insert("ChangedUtc".into(), json!(now));
    }
}
