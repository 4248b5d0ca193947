//! Invoices [D `_invoices.md`]: `invoices/drafts` (CRUD, the same document rules as orders),
//! booking with `POST /invoices/booked {"draftInvoice": {"draftInvoiceNumber": N},
//! "bookWithNumber"?: M}` (the draft goes; `dueDate` from the payment terms, `remainder` the
//! gross amount, the customer's `balance` grows, stock leaves), and the read views
//! `invoices/booked|paid|unpaid|overdue|not-due`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{NaiveDate, TimeDelta};
use serde_json::{json, Value};

use super::api::{
    collection, created, missing, no_content, ok, render_at, run, write_body, Coll, Errs,
};
use super::documents::check_doc;
use super::facts::{BOOKING_MOVES_STOCK, E_DOES_NOT_EXIST, E_EXISTS, E_REQUIRED};
use super::filter::FType;
use super::hooks::{notify, HookKind};
use super::products::set_stock;
use super::validate::number;
use super::{App, Books, Obj};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

const DRAFT_FIELDS: &[(&str, FType)] = &[
    ("draftInvoiceNumber", FType::Num),
    ("date", FType::Date),
    ("currency", FType::Text),
    ("netAmount", FType::Num),
    ("grossAmount", FType::Num),
    ("customer.customerNumber", FType::Num),
    ("recipient.name", FType::Text),
];
const BOOKED_FIELDS: &[(&str, FType)] = &[
    ("bookedInvoiceNumber", FType::Num),
    ("date", FType::Date),
    ("dueDate", FType::Date),
    ("currency", FType::Text),
    ("netAmount", FType::Num),
    ("grossAmount", FType::Num),
    ("remainder", FType::Num),
    ("customer.customerNumber", FType::Num),
];

const INVOICE_DRAFTS: Coll = Coll {
    path: "invoices/drafts",
    fields: DRAFT_FIELDS,
    create: Some("Create a new invoice draft."),
};

pub(super) async fn invoice_drafts(State(app): State<App>, Query(q): Q) -> Response {
    let books = lock(&app.inner.books);
    let rows: Vec<Value> = books
        .drafts
        .iter()
        .map(|(n, d)| render_at(&app, d, &format!("invoices/drafts/{n}")))
        .collect();
    drop(books);
    collection(&app, &INVOICE_DRAFTS, &q, rows)
}

pub(super) async fn invoice_draft_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let mut doc = check_doc(&books, &body)?;
        let n = books.drafts.keys().last().map_or(1, |n| n + 1);
        doc.insert("draftInvoiceNumber".into(), json!(n));
        books.drafts.insert(n, doc);
        Ok(created(render_at(
            &app,
            &books.drafts[&n],
            &format!("invoices/drafts/{n}"),
        )))
    })
}

fn invoice_draft(books: &Books, n: &str) -> Result<u64, Response> {
    n.parse::<u64>()
        .ok()
        .filter(|x| books.drafts.contains_key(x))
        .ok_or_else(|| missing("Invoice draft", n))
}

pub(super) async fn invoice_draft_detail(
    State(app): State<App>,
    Path(n): Path<String>,
) -> Response {
    run(|| {
        let books = lock(&app.inner.books);
        let x = invoice_draft(&books, &n)?;
        Ok(ok(render_at(
            &app,
            &books.drafts[&x],
            &format!("invoices/drafts/{x}"),
        )))
    })
}

pub(super) async fn invoice_draft_replace(
    State(app): State<App>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let x = invoice_draft(&books, &n)?;
        let mut doc = check_doc(&books, &body)?;
        doc.insert("draftInvoiceNumber".into(), json!(x));
        books.drafts.insert(x, doc);
        Ok(ok(render_at(
            &app,
            &books.drafts[&x],
            &format!("invoices/drafts/{x}"),
        )))
    })
}

pub(super) async fn invoice_draft_remove(
    State(app): State<App>,
    Path(n): Path<String>,
) -> Response {
    run(|| {
        let mut books = lock(&app.inner.books);
        let x = invoice_draft(&books, &n)?;
        books.drafts.remove(&x);
        Ok(no_content())
    })
}

/// The due date of a document dated `date` under payment terms `terms`.
fn due_date(books: &Books, date: &str, terms: u64) -> String {
    let days = super::lookups::get(books, "payment-terms", terms)
        .and_then(|t| t.get("daysOfCredit"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map(|d| (d + TimeDelta::days(days)).format("%Y-%m-%d").to_string())
        .unwrap_or_else(|_| date.to_string())
}

/// Books draft `n` as invoice `number` (no checks); the booked document. Lowers the stock of
/// its products and sends the webhooks: one per product, then the invoice's.
pub(super) fn book_draft(app: &App, books: &mut Books, n: u64, number: u64) -> Option<Obj> {
    let mut doc = books.drafts.remove(&n)?;
    doc.remove("draftInvoiceNumber");
    let terms = doc["paymentTerms"]["paymentTermsNumber"]
        .as_u64()
        .unwrap_or(0);
    let date = doc["date"].as_str().unwrap_or("").to_string();
    let gross = doc["grossAmount"].as_f64().unwrap_or(0.0);
    doc.insert("bookedInvoiceNumber".into(), json!(number));
    doc.insert("dueDate".into(), json!(due_date(books, &date, terms)));
    doc.insert("remainder".into(), json!(gross));
    doc.insert("remainderInBaseCurrency".into(), json!(gross));
    if let Some(c) = doc["customer"]["customerNumber"].as_u64() {
        if let Some(cust) = books.customers.get_mut(&c) {
            let b = cust.get("balance").and_then(Value::as_f64).unwrap_or(0.0);
            cust.insert("balance".into(), json!(round2(b + gross)));
        }
    }
    if BOOKING_MOVES_STOCK {
        let lines = doc
            .get("lines")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for l in lines {
            let (Some(pn), Some(q)) = (
                l["product"]["productNumber"].as_str(),
                l["quantity"].as_f64(),
            ) else {
                continue;
            };
            let stock = books
                .products
                .get(pn)
                .and_then(|p| p.get("inStock"))
                .and_then(Value::as_f64);
            if let Some(s) = stock {
                set_stock(app, books, pn, s - q);
            }
        }
    }
    books.booked.insert(number, doc.clone());
    notify(
        app,
        books,
        HookKind::InvoiceBooked,
        &number.to_string(),
        &number.to_string(),
    );
    Some(doc)
}

/// `POST /invoices/booked {"draftInvoice":{"draftInvoiceNumber":N}, "bookWithNumber"?: M}` → 201.
pub(super) async fn book(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let mut errs = Errs::default();
        let draft = match body
            .get("draftInvoice")
            .map(|d| d.get("draftInvoiceNumber"))
        {
            None => {
                errs.at(
                    "draftInvoice",
                    E_REQUIRED,
                    "Property draftInvoice is required.",
                    None,
                );
                None
            }
            Some(None) => {
                errs.at(
                    "draftInvoice",
                    super::facts::E_NO_IDENTIFIER,
                    "No identifiers present on draftInvoice. Please include either a self link or a draftInvoiceNumber.",
                    None,
                );
                None
            }
            Some(Some(n)) => match n.as_u64().filter(|n| books.drafts.contains_key(n)) {
                Some(n) => Some(n),
                None => {
                    errs.at(
                        "draftInvoice",
                        E_DOES_NOT_EXIST,
                        "draftInvoice does not exist.",
                        Some(n),
                    );
                    None
                }
            },
        };
        let with = number(&mut errs, &[], &body, "bookWithNumber", false, false);
        if let Some(w) = with {
            if w < 1.0 || w.fract() != 0.0 || books.booked.contains_key(&(w as u64)) {
                errs.at(
                    "bookWithNumber",
                    E_EXISTS,
                    "bookWithNumber is taken or not a valid invoice number.",
                    body.get("bookWithNumber"),
                );
            }
        }
        errs.check()?;
        let Some(draft) = draft else {
            return Err(missing("Invoice draft", ""));
        };
        let number = with
            .map(|w| w as u64)
            .unwrap_or_else(|| books.booked.keys().last().map_or(1, |n| n + 1));
        let doc = book_draft(&app, &mut books, draft, number)
            .ok_or_else(|| missing("Invoice draft", &draft.to_string()))?;
        Ok(created(render_at(
            &app,
            &doc,
            &format!("invoices/booked/{number}"),
        )))
    })
}

fn booked_rows(app: &App, books: &Books, keep: impl Fn(&Obj) -> bool) -> Vec<Value> {
    books
        .booked
        .iter()
        .filter(|(_, d)| keep(d))
        .map(|(n, d)| render_at(app, d, &format!("invoices/booked/{n}")))
        .collect()
}

pub(super) async fn booked_list(State(app): State<App>, Query(q): Q) -> Response {
    booked_view("booked", State(app), Query(q)).await
}

/// `invoices/booked|paid|unpaid|overdue|not-due`: booked invoices by `remainder` and
/// `dueDate` against the sandbox's date.
pub(super) async fn booked_view(
    view: &'static str,
    State(app): State<App>,
    Query(q): Q,
) -> Response {
    let today = app.common.now().format("%Y-%m-%d").to_string();
    let books = lock(&app.inner.books);
    let open = |d: &Obj| d["remainder"].as_f64().unwrap_or(0.0) > 0.0;
    let due = |d: &Obj| d["dueDate"].as_str().unwrap_or("").to_string();
    let rows = booked_rows(&app, &books, |d| match view {
        "paid" => !open(d),
        "unpaid" => open(d),
        "overdue" => open(d) && due(d) < today,
        "not-due" => open(d) && due(d) >= today,
        _ => true,
    });
    drop(books);
    let coll = Coll {
        path: match view {
            "paid" => "invoices/paid",
            "unpaid" => "invoices/unpaid",
            "overdue" => "invoices/overdue",
            "not-due" => "invoices/not-due",
            _ => "invoices/booked",
        },
        fields: BOOKED_FIELDS,
        create: (view == "booked").then_some("Book an invoice draft."),
    };
    collection(&app, &coll, &q, rows)
}

pub(super) async fn booked_detail(State(app): State<App>, Path(n): Path<String>) -> Response {
    let books = lock(&app.inner.books);
    match n.parse::<u64>().ok().and_then(|x| books.booked.get(&x)) {
        Some(d) => ok(render_at(&app, d, &format!("invoices/booked/{n}"))),
        None => missing("Booked invoice", &n),
    }
}
