//! Sales documents [C swagger; D changelog 2018]: `/v2/orders` (`Status` 1 Draft, 2 Ongoing,
//! 3 Shipped, 4 Invoiced; `{id}/convert`), `/v2/customerinvoicedrafts` (CRUD; `{id}/convert`
//! books it as a customer invoice), `/v2/customerinvoices` (GET, POST), and the lookups
//! `/v2/termsofpayment` and `/v2/units`. Rows carry `LineNumber, ArticleId, ArticleNumber,
//! Text, Quantity, UnitPrice, DiscountPercentage` (orders also `DeliveredQuantity`); amounts
//! are computed; `ModifiedUtc` is set on every write.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeDelta};
use serde_json::{json, Value};

use super::api::{
    self, body_obj, created, invalid, is_guid, missing, no_content, ok, opt_num, opt_str, req_str,
    run,
};
use super::articles::{move_stock, vat_of};
use super::facts::{fmt_time, MODIFIED, ORDER_CONVERTS_TO_DRAFT};
use super::{App, Company, Obj};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Which document a body is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Doc {
    Order,
    Draft,
    Invoice,
    /// [I] A quote: an order's fields with `QuoteDate` for `OrderDate` (the page names the
    /// endpoint from the 2018 changelog; its fields are not in the stored swagger).
    Quote,
}

/// Text properties every sales document keeps, at most 50 characters each [C swagger:
/// `YourReference`, `OurReference`, the delivery address and method].
const DOC_TEXT: [&str; 10] = [
    "YourReference",
    "OurReference",
    "DeliveryCustomerName",
    "DeliveryAddress1",
    "DeliveryAddress2",
    "DeliveryPostalCode",
    "DeliveryCity",
    "DeliveryCountryCode",
    "DeliveryMethodName",
    "DeliveryTermName",
];

/// Checks `Rows` [I: at least one; `Quantity` needed with an article, `Text` without one;
/// `DiscountPercentage` 0–100]; the rows with their numbers, net amount and VAT.
fn rows(co: &Company, body: &Obj, doc: Doc) -> Result<(Vec<Value>, f64, f64), Response> {
    let Some(Value::Array(input)) = body.get("Rows") else {
        return Err(invalid("Rows is required."));
    };
    if input.is_empty() {
        return Err(invalid("A document needs at least one row."));
    }
    let (mut out, mut net, mut vat) = (Vec::new(), 0.0, 0.0);
    for (i, r) in input.iter().enumerate() {
        let Value::Object(r) = r else {
            return Err(invalid(format!("Rows[{i}] must be an object.")));
        };
        let mut row = Obj::new();
        let article = match opt_str(r, "ArticleId")? {
            Some(id) => Some(
                co.articles
                    .iter()
                    .find(|a| a["Id"] == json!(id))
                    .ok_or_else(|| invalid(format!("Rows[{i}].ArticleId {id} does not exist.")))?,
            ),
            None => None,
        };
        let qty = opt_num(r, "Quantity")?;
        let text = opt_str(r, "Text")?;
        let price = opt_num(r, "UnitPrice")?;
        let disc = opt_num(r, "DiscountPercentage")?.unwrap_or(0.0);
        if !(0.0..=100.0).contains(&disc) {
            return Err(invalid(format!(
                "Rows[{i}].DiscountPercentage must be between 0 and 100."
            )));
        }
        let (qty, price, rate, text) = match article {
            Some(a) => (
                qty.ok_or_else(|| {
                    invalid(format!("Rows[{i}].Quantity is required with an article."))
                })?,
                price.unwrap_or_else(|| a["NetPrice"].as_f64().unwrap_or(0.0)),
                vat_of(a),
                text.unwrap_or_else(|| a["Name"].as_str().unwrap_or("").to_string()),
            ),
            None => (
                qty.unwrap_or(1.0),
                price.unwrap_or(0.0),
                super::facts::DEFAULT_VAT,
                text.ok_or_else(|| {
                    invalid(format!("Rows[{i}].Text is required without an article."))
                })?,
            ),
        };
        let total = round2(qty * price * (1.0 - disc / 100.0));
        net += total;
        vat += total * rate;
        row.insert("LineNumber".into(), json!(i + 1));
        row.insert(
            "ArticleId".into(),
            article.map_or(Value::Null, |a| a["Id"].clone()),
        );
        row.insert(
            "ArticleNumber".into(),
            article.map_or(Value::Null, |a| a["Number"].clone()),
        );
        row.insert("Text".into(), json!(text));
        row.insert("Quantity".into(), json!(qty));
        row.insert("UnitPrice".into(), json!(price));
        row.insert("DiscountPercentage".into(), json!(disc));
        if matches!(doc, Doc::Order | Doc::Quote) {
            let delivered = opt_num(r, "DeliveredQuantity")?.unwrap_or(0.0);
            row.insert("DeliveredQuantity".into(), json!(delivered));
        }
        out.push(Value::Object(row));
    }
    Ok((out, round2(net), round2(vat)))
}

fn date_or_today(body: &Obj, key: &str, today: &str) -> Result<String, Response> {
    let d = opt_str(body, key)?.unwrap_or_else(|| today.to_string());
    let day = d.get(..10).unwrap_or(&d);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map_err(|_| invalid(format!("{key} must be a date (YYYY-MM-DD).")))?;
    Ok(day.to_string())
}

/// Checks a document body; its stored fields (number, ids and timestamps are the caller's).
pub(super) fn check(co: &Company, body: &Obj, doc: Doc, today: &str) -> Result<Obj, Response> {
    let cid = req_str(body, "CustomerId")?;
    let cust = co
        .customers
        .iter()
        .find(|c| c["Id"] == json!(cid) && is_guid(&cid))
        .ok_or_else(|| invalid(format!("CustomerId {cid} does not exist.")))?;
    let (rows, net, vat) = rows(co, body, doc)?;
    let mut out = Obj::new();
    out.insert("CustomerId".into(), json!(cid));
    // A draft names its currency `InvoiceCurrencyCode` [C swagger]; the others `CurrencyCode`.
    let currency = match opt_str(body, "InvoiceCurrencyCode")? {
        Some(c) if doc == Doc::Draft => Some(c),
        _ => opt_str(body, "CurrencyCode")?,
    }
    .unwrap_or_else(|| cust["CurrencyCode"].as_str().unwrap_or("SEK").to_string());
    out.insert("CurrencyCode".into(), json!(currency));
    for k in DOC_TEXT {
        if let Some(v) = opt_str(body, k)? {
            if v.chars().count() > 50 {
                return Err(invalid(format!("{k} can be at most 50 characters.")));
            }
            out.insert(k.into(), json!(v));
        }
    }
    for (to, from) in [
        ("InvoiceAddress1", "InvoiceAddress1"),
        ("InvoicePostalCode", "InvoicePostalCode"),
        ("InvoiceCity", "InvoiceCity"),
        ("InvoiceCountryCode", "InvoiceCountryCode"),
    ] {
        let v = opt_str(body, to)?
            .map(Value::from)
            .unwrap_or_else(|| cust.get(from).cloned().unwrap_or(Value::Null));
        out.insert(to.into(), v);
    }
    out.insert("Rows".into(), Value::Array(rows));
    if doc == Doc::Quote {
        out.insert(
            "QuoteDate".into(),
            json!(date_or_today(body, "QuoteDate", today)?),
        );
        out.insert("Status".into(), json!(1));
        out.insert("Amount".into(), json!(net));
        out.insert("VatAmount".into(), json!(vat));
    } else if doc == Doc::Order {
        out.insert(
            "OrderDate".into(),
            json!(date_or_today(body, "OrderDate", today)?),
        );
        let status = opt_num(body, "Status")?.unwrap_or(1.0);
        if !(1.0..=4.0).contains(&status) || status.fract() != 0.0 {
            return Err(invalid(
                "Status must be 1 (Draft), 2 (Ongoing), 3 (Shipped) or 4 (Invoiced).",
            ));
        }
        out.insert("Status".into(), json!(status as i64));
        out.insert("Amount".into(), json!(net));
        out.insert("VatAmount".into(), json!(vat));
    } else {
        let date = date_or_today(body, "InvoiceDate", today)?;
        // [C swagger] A document may name its own terms of payment; else the customer's.
        let terms = match opt_str(body, "TermsOfPaymentId")? {
            Some(t) => {
                if !co.terms.iter().any(|x| x["Id"] == json!(t)) {
                    return Err(invalid(format!("TermsOfPaymentId {t} does not exist.")));
                }
                json!(t)
            }
            None => cust["TermsOfPaymentId"].clone(),
        };
        out.insert("TermsOfPaymentId".into(), terms.clone());
        let days = co
            .terms
            .iter()
            .find(|t| t["Id"] == terms)
            .and_then(|t| t["NumberOfDays"].as_i64())
            .unwrap_or(30);
        let due = NaiveDate::parse_from_str(&date, "%Y-%m-%d")
            .map(|d| (d + TimeDelta::days(days)).format("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| date.clone());
        out.insert("InvoiceDate".into(), json!(date));
        out.insert(
            "DueDate".into(),
            json!(date_or_today(body, "DueDate", &due)?),
        );
        out.insert("InvoiceCustomerName".into(), cust["Name"].clone());
        out.insert("TotalAmount".into(), json!(net));
        out.insert("TotalVatAmount".into(), json!(vat));
        out.insert("TotalAmountIncludingVat".into(), json!(round2(net + vat)));
    }
    Ok(out)
}

fn today(app: &App) -> String {
    app.common.now().format("%Y-%m-%d").to_string()
}

/// Gives a new document its id and timestamps.
fn stamp_new(app: &App, co: &mut Company, rec: &mut Obj) {
    let now = fmt_time(app.common.stamp());
    rec.insert("Id".into(), json!(co.guid()));
    rec.insert("CreatedUtc".into(), json!(now));
    rec.insert("ModifiedUtc".into(), json!(now));
}

fn find(docs: &[Obj], id: &str) -> Option<usize> {
    docs.iter().position(|d| d["Id"] == json!(id))
}

fn values(docs: &[Obj]) -> Vec<Value> {
    docs.iter().cloned().map(Value::Object).collect()
}

const SORTABLE: [&str; 2] = ["ModifiedUtc", "Number"];

pub(super) async fn orders(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).orders);
    api::list(&app, &q, rows, MODIFIED, &SORTABLE)
}

pub(super) async fn order_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match find(&co.orders, &id) {
        Some(i) => ok(Value::Object(co.orders[i].clone())),
        None => missing("Order", &id),
    }
}

pub(super) async fn order_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, Doc::Order, &today(&app))?;
        let n = co.next_order;
        co.next_order += 1;
        rec.insert("Number".into(), json!(n));
        stamp_new(&app, &mut co, &mut rec);
        co.orders.push(rec.clone());
        Ok(created(Value::Object(rec)))
    })
}

/// `PUT /v2/orders/{id}` → 200; [I] an invoiced order (Status 4) cannot change.
pub(super) async fn order_replace(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let i = find(&co.orders, &id).ok_or_else(|| missing("Order", &id))?;
        if co.orders[i]["Status"] == 4 {
            return Err(invalid("An invoiced order cannot be changed."));
        }
        let mut rec = check(&co, &body, Doc::Order, &today(&app))?;
        for k in ["Id", "Number", "CreatedUtc"] {
            rec.insert(k.into(), co.orders[i][k].clone());
        }
        rec.insert("ModifiedUtc".into(), json!(fmt_time(app.common.stamp())));
        co.orders[i] = rec.clone();
        Ok(ok(Value::Object(rec)))
    })
}

/// `DELETE /v2/orders/{id}` → 204; [I] only a draft order (Status 1).
pub(super) async fn order_remove(State(app): State<App>, Path(id): Path<String>) -> Response {
    run(|| {
        let mut co = lock(&app.inner.company);
        let i = find(&co.orders, &id).ok_or_else(|| missing("Order", &id))?;
        if co.orders[i]["Status"] != 1 {
            return Err(invalid("Only a draft order (Status 1) can be deleted."));
        }
        co.orders.remove(i);
        Ok(no_content())
    })
}

/// `POST /v2/orders/{id}/convert`: a customer invoice draft from the order, which becomes
/// Invoiced (4) [I]; 200 with the draft.
pub(super) async fn order_convert(State(app): State<App>, Path(id): Path<String>) -> Response {
    run(|| {
        let mut co = lock(&app.inner.company);
        let i = find(&co.orders, &id).ok_or_else(|| missing("Order", &id))?;
        let order = co.orders[i].clone();
        if order["Status"] == 4 {
            return Err(invalid("The order is already invoiced."));
        }
        let mut body = Obj::new();
        body.insert("CustomerId".into(), order["CustomerId"].clone());
        body.insert("CurrencyCode".into(), order["CurrencyCode"].clone());
        body.insert("Rows".into(), order["Rows"].clone());
        let mut draft = check(&co, &body, Doc::Draft, &today(&app))?;
        stamp_new(&app, &mut co, &mut draft);
        if ORDER_CONVERTS_TO_DRAFT {
            co.drafts.push(draft.clone());
        }
        let now = fmt_time(app.common.stamp());
        co.orders[i].insert("Status".into(), json!(4));
        co.orders[i].insert("ModifiedUtc".into(), json!(now));
        Ok(ok(Value::Object(draft)))
    })
}

pub(super) async fn quotes(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).quotes);
    api::list(&app, &q, rows, MODIFIED, &SORTABLE)
}

pub(super) async fn quote_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match find(&co.quotes, &id) {
        Some(i) => ok(Value::Object(co.quotes[i].clone())),
        None => missing("Quote", &id),
    }
}

pub(super) async fn quote_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, Doc::Quote, &today(&app))?;
        let n = co.next_quote;
        co.next_quote += 1;
        rec.insert("Number".into(), json!(n));
        stamp_new(&app, &mut co, &mut rec);
        co.quotes.push(rec.clone());
        Ok(created(Value::Object(rec)))
    })
}

pub(super) async fn drafts(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).drafts);
    api::list(&app, &q, rows, MODIFIED, &["ModifiedUtc", "InvoiceDate"])
}

pub(super) async fn draft_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match find(&co.drafts, &id) {
        Some(i) => ok(Value::Object(co.drafts[i].clone())),
        None => missing("Customer invoice draft", &id),
    }
}

pub(super) async fn draft_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, Doc::Draft, &today(&app))?;
        stamp_new(&app, &mut co, &mut rec);
        co.drafts.push(rec.clone());
        Ok(created(Value::Object(rec)))
    })
}

pub(super) async fn draft_replace(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let i = find(&co.drafts, &id).ok_or_else(|| missing("Customer invoice draft", &id))?;
        let mut rec = check(&co, &body, Doc::Draft, &today(&app))?;
        for k in ["Id", "CreatedUtc"] {
            rec.insert(k.into(), co.drafts[i][k].clone());
        }
        rec.insert("ModifiedUtc".into(), json!(fmt_time(app.common.stamp())));
        co.drafts[i] = rec.clone();
        Ok(ok(Value::Object(rec)))
    })
}

pub(super) async fn draft_remove(State(app): State<App>, Path(id): Path<String>) -> Response {
    run(|| {
        let mut co = lock(&app.inner.company);
        let i = find(&co.drafts, &id).ok_or_else(|| missing("Customer invoice draft", &id))?;
        co.drafts.remove(i);
        Ok(no_content())
    })
}

/// Books `doc` (a draft's fields) as the next customer invoice: number, remaining amount,
/// stock moved out. The invoice.
fn book(app: &App, co: &mut Company, mut doc: Obj) -> Obj {
    let n = co.next_invoice;
    co.next_invoice += 1;
    let total = doc["TotalAmountIncludingVat"].as_f64().unwrap_or(0.0);
    doc.insert("InvoiceNumber".into(), json!(n));
    doc.insert("RemainingAmount".into(), json!(total));
    let now = fmt_time(app.common.stamp());
    doc.insert("ModifiedUtc".into(), json!(now));
    let rows = doc["Rows"].as_array().cloned().unwrap_or_default();
    for r in rows {
        if let (false, Some(q)) = (r["ArticleId"].is_null(), r["Quantity"].as_f64()) {
            move_stock(co, &r["ArticleId"], -q, &now);
        }
    }
    co.invoices.push(doc.clone());
    doc
}

/// `POST /v2/customerinvoicedrafts/{id}/convert`: the draft becomes a customer invoice (the
/// draft is gone); 200 with the invoice [I].
pub(super) async fn draft_convert(State(app): State<App>, Path(id): Path<String>) -> Response {
    run(|| {
        let mut co = lock(&app.inner.company);
        let i = find(&co.drafts, &id).ok_or_else(|| missing("Customer invoice draft", &id))?;
        let mut draft = co.drafts.remove(i);
        let new_id = co.guid();
        draft.insert("Id".into(), json!(new_id));
        Ok(ok(Value::Object(book(&app, &mut co, draft))))
    })
}

pub(super) async fn invoices(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).invoices);
    api::list(
        &app,
        &q,
        rows,
        MODIFIED,
        &["ModifiedUtc", "InvoiceNumber", "InvoiceDate"],
    )
}

pub(super) async fn invoice_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let co = lock(&app.inner.company);
    match find(&co.invoices, &id) {
        Some(i) => ok(Value::Object(co.invoices[i].clone())),
        None => missing("Customer invoice", &id),
    }
}

/// `POST /v2/customerinvoices`: an invoice at once → 201.
pub(super) async fn invoice_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = body_obj(&body)?;
        let mut co = lock(&app.inner.company);
        let mut rec = check(&co, &body, Doc::Invoice, &today(&app))?;
        stamp_new(&app, &mut co, &mut rec);
        Ok(created(Value::Object(book(&app, &mut co, rec))))
    })
}

pub(super) async fn terms(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).terms);
    api::list(&app, &q, rows, MODIFIED, &[])
}

pub(super) async fn units(State(app): State<App>, Query(q): Q) -> Response {
    let rows = values(&lock(&app.inner.company).units);
    api::list(&app, &q, rows, MODIFIED, &[])
}
