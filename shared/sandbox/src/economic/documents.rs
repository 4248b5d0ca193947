//! Sales documents [D `_orders.md`; C for quotes]: `orders` and `quotes` in `drafts` (CRUD),
//! `sent` (POST the full document of a draft to mark it sent; it is then read-only; POSTing it
//! back to `drafts` undoes that) and `archived`; invoices are in [`super::invoices`], which
//! shares [`check_doc`].
//!
//! A write needs `currency, customer, date, layout, paymentTerms, recipient, recipient.name,
//! recipient.vatZone`; lines are checked one by one (annotated errors with `arrayIndex`).
//! Amounts are computed: line `totalNetAmount`, `netAmount`, `vatAmount` (by the recipient's
//! vat zone), `grossAmount`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::{json, Value};

use super::api::{
    bad, collection, created, missing, no_content, ok, render_at, run, write_body, Coll, Errs, Seg,
};
use super::facts::{vat_rate, E_DOES_NOT_EXIST, E_EXISTS, E_QUANTITY, E_REQUIRED, E_STATE, E_TYPE};
use super::filter::FType;
use super::hooks::{notify, HookKind};
use super::validate::{currency, customer_ref, lookup_ref, number, text};
use super::{App, Books, Obj, Stage};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

/// Orders or quotes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Order,
    Quote,
}

impl Kind {
    pub(super) fn path(self) -> &'static str {
        match self {
            Kind::Order => "orders",
            Kind::Quote => "quotes",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Kind::Order => "orderNumber",
            Kind::Quote => "quoteNumber",
        }
    }

    fn hook(self) -> HookKind {
        match self {
            Kind::Order => HookKind::OrderUpdated,
            Kind::Quote => HookKind::QuotationUpdated,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Order => "Order",
            Kind::Quote => "Quote",
        }
    }

    fn map(self, books: &mut Books) -> &mut std::collections::BTreeMap<u64, (Stage, Obj)> {
        match self {
            Kind::Order => &mut books.orders,
            Kind::Quote => &mut books.quotes,
        }
    }

    fn map_ref(self, books: &Books) -> &std::collections::BTreeMap<u64, (Stage, Obj)> {
        match self {
            Kind::Order => &books.orders,
            Kind::Quote => &books.quotes,
        }
    }

    fn coll(self, stage: Stage) -> &'static Coll {
        const fn c(
            path: &'static str,
            fields: &'static [(&'static str, FType)],
            create: Option<&'static str>,
        ) -> Coll {
            Coll {
                path,
                fields,
                create,
            }
        }
        const OD: Coll = c(
            "orders/drafts",
            ORDER_FIELDS,
            Some("Create a new order draft."),
        );
        const OS: Coll = c("orders/sent", ORDER_FIELDS, Some("Mark an order as sent."));
        const OA: Coll = c("orders/archived", ORDER_FIELDS, None);
        const QD: Coll = c(
            "quotes/drafts",
            QUOTE_FIELDS,
            Some("Create a new quote draft."),
        );
        const QS: Coll = c("quotes/sent", QUOTE_FIELDS, Some("Mark a quote as sent."));
        const QA: Coll = c("quotes/archived", QUOTE_FIELDS, None);
        match (self, stage) {
            (Kind::Order, Stage::Drafts) => &OD,
            (Kind::Order, Stage::Sent) => &OS,
            (Kind::Order, Stage::Archived) => &OA,
            (Kind::Quote, Stage::Drafts) => &QD,
            (Kind::Quote, Stage::Sent) => &QS,
            (Kind::Quote, Stage::Archived) => &QA,
        }
    }
}

/// Filterable properties of every document collection (besides its own number).
const ORDER_FIELDS: &[(&str, FType)] = &[
    ("orderNumber", FType::Num),
    ("date", FType::Date),
    ("currency", FType::Text),
    ("netAmount", FType::Num),
    ("grossAmount", FType::Num),
    ("customer.customerNumber", FType::Num),
    ("recipient.name", FType::Text),
];
const QUOTE_FIELDS: &[(&str, FType)] = &[
    ("quoteNumber", FType::Num),
    ("date", FType::Date),
    ("currency", FType::Text),
    ("netAmount", FType::Num),
    ("grossAmount", FType::Num),
    ("customer.customerNumber", FType::Num),
    ("recipient.name", FType::Text),
];
fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Checks a document and computes its amounts; the stored form (without its number).
pub(super) fn check_doc(books: &Books, body: &Obj) -> Result<Obj, Response> {
    let mut errs = Errs::default();
    currency(&mut errs, books, body, true);
    customer_ref(&mut errs, books, body);
    match text(&mut errs, &[], body, "date", true, 10) {
        Some(d) if NaiveDate::parse_from_str(&d, "%Y-%m-%d").is_err() => {
            errs.at(
                "date",
                E_TYPE,
                "date must be a date (YYYY-MM-DD).",
                body.get("date"),
            );
        }
        _ => {}
    }
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "layout",
        "layoutNumber",
        "layouts",
        true,
    );
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "paymentTerms",
        "paymentTermsNumber",
        "payment-terms",
        true,
    );
    let mut rate = 0.0;
    match body.get("recipient") {
        None => errs.at(
            "recipient",
            E_REQUIRED,
            "Property recipient is required.",
            None,
        ),
        Some(Value::Object(r)) => {
            let at = [Seg::Key("recipient".into())];
            text(&mut errs, &at, r, "name", true, 250);
            if let Some(z) = lookup_ref(
                &mut errs,
                books,
                &at,
                r,
                "vatZone",
                "vatZoneNumber",
                "vat-zones",
                true,
            ) {
                rate = vat_rate(z);
            }
            for k in ["address", "zip", "city", "country", "ean"] {
                text(&mut errs, &at, r, k, false, 250);
            }
        }
        Some(v) => errs.at("recipient", E_TYPE, "recipient must be an object.", Some(v)),
    }
    let mut out = body.clone();
    let mut net = 0.0;
    match body.get("lines") {
        None => {}
        Some(Value::Array(lines)) => {
            let mut done = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                let at = [Seg::Key("lines".into()), Seg::Index(i)];
                let Value::Object(l) = l else {
                    errs.add(
                        &at[..1],
                        E_TYPE,
                        "Every line must be an object.",
                        Some(l),
                        "Please check your request data.",
                    );
                    continue;
                };
                let mut line = l.clone();
                let mut price = number(&mut errs, &at, l, "unitNetPrice", false, true);
                let qty = number(&mut errs, &at, l, "quantity", false, false);
                let disc =
                    number(&mut errs, &at, l, "discountPercentage", false, false).unwrap_or(0.0);
                lookup_ref(
                    &mut errs,
                    books,
                    &at,
                    l,
                    "unit",
                    "unitNumber",
                    "units",
                    false,
                );
                text(&mut errs, &at, l, "description", false, 2500);
                match l.get("product") {
                    Some(p) => {
                        match p.get("productNumber").and_then(Value::as_str) {
                            None => {
                                let mut path = at.to_vec();
                                path.push(Seg::Key("product".into()));
                                errs.add(
                                &path,
                                super::facts::E_NO_IDENTIFIER,
                                "No identifiers present on product. Please include either a self link or a productNumber.",
                                None,
                                "Find a list of resources at https://restapi.e-conomic.com/products.",
                            );
                            }
                            Some(pn) => match books.products.get(pn) {
                                None => {
                                    let mut path = at.to_vec();
                                    path.push(Seg::Key("product".into()));
                                    errs.add(
                                    &path,
                                    E_DOES_NOT_EXIST,
                                    "product does not exist.",
                                    Some(&json!(pn)),
                                    "Find a list of resources at https://restapi.e-conomic.com/products.",
                                );
                                }
                                Some(prod) => {
                                    if qty.is_none() && !l.contains_key("quantity") {
                                        let mut path = at.to_vec();
                                        path.push(Seg::Key("quantity".into()));
                                        errs.add(&path, E_QUANTITY, "Property quantity must have a value when product is set.", None, "Please check your request data.");
                                    }
                                    if price.is_none() && !l.contains_key("unitNetPrice") {
                                        price = prod.get("salesPrice").and_then(Value::as_f64);
                                        line.insert(
                                            "unitNetPrice".into(),
                                            json!(price.unwrap_or(0.0)),
                                        );
                                    }
                                    if !l.contains_key("description") {
                                        line.insert("description".into(), prod["name"].clone());
                                    }
                                }
                            },
                        }
                    }
                    None if !l.contains_key("description") => {
                        let mut path = at.to_vec();
                        path.push(Seg::Key("description".into()));
                        errs.add(
                            &path,
                            E_REQUIRED,
                            "A line needs a description or a product.",
                            None,
                            "Please check your request data.",
                        );
                    }
                    None => {}
                }
                let total =
                    round2(qty.unwrap_or(1.0) * price.unwrap_or(0.0) * (1.0 - disc / 100.0));
                net += total;
                line.insert("lineNumber".into(), json!(i + 1));
                line.insert("sortKey".into(), json!(i + 1));
                line.insert("totalNetAmount".into(), json!(total));
                done.push(Value::Object(line));
            }
            out.insert("lines".into(), Value::Array(done));
        }
        Some(v) => errs.at("lines", E_TYPE, "lines must be an array.", Some(v)),
    }
    errs.check()?;
    let net = round2(net);
    let vat = round2(net * rate);
    out.insert("netAmount".into(), json!(net));
    out.insert("vatAmount".into(), json!(vat));
    out.insert("grossAmount".into(), json!(round2(net + vat)));
    out.insert("netAmountInBaseCurrency".into(), json!(net));
    Ok(out)
}

fn doc_path(kind: Kind, stage: Stage, n: u64) -> String {
    format!("{}/{}/{n}", kind.path(), stage.path())
}

pub(super) async fn list(
    kind: Kind,
    stage: Stage,
    State(app): State<App>,
    Query(q): Q,
) -> Response {
    let books = lock(&app.inner.books);
    let rows: Vec<Value> = kind
        .map_ref(&books)
        .iter()
        .filter(|(_, (s, _))| *s == stage)
        .map(|(n, (_, d))| render_at(&app, d, &doc_path(kind, stage, *n)))
        .collect();
    drop(books);
    collection(&app, kind.coll(stage), &q, rows)
}

pub(super) async fn detail(
    kind: Kind,
    stage: Stage,
    State(app): State<App>,
    Path(n): Path<String>,
) -> Response {
    let books = lock(&app.inner.books);
    match n
        .parse::<u64>()
        .ok()
        .and_then(|x| kind.map_ref(&books).get(&x).map(|d| (x, d)))
    {
        Some((x, (s, d))) if *s == stage => ok(render_at(&app, d, &doc_path(kind, stage, x))),
        _ => missing(kind.name(), &n),
    }
}

/// `POST /{orders|quotes}/drafts` → 201; a document carrying the number of a sent one moves it
/// back to drafts [D].
pub(super) async fn draft_create(kind: Kind, State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let mut doc = check_doc(&books, &body)?;
        let map = kind.map(&mut books);
        let n = match body.get(kind.key()).and_then(Value::as_u64) {
            Some(n) => match map.get(&n) {
                Some((Stage::Sent, _)) | None => n,
                Some(_) => {
                    return Err(bad(
                        E_EXISTS,
                        format!("{} {n} already exists.", kind.name()),
                    ))
                }
            },
            None => map.keys().last().map_or(1, |n| n + 1),
        };
        doc.insert(kind.key().into(), json!(n));
        map.insert(n, (Stage::Drafts, doc));
        notify(&app, &books, kind.hook(), &n.to_string(), &n.to_string());
        let d = &kind.map_ref(&books)[&n].1;
        Ok(created(render_at(
            &app,
            d,
            &doc_path(kind, Stage::Drafts, n),
        )))
    })
}

fn draft_number(kind: Kind, books: &Books, n: &str) -> Result<u64, Response> {
    n.parse::<u64>()
        .ok()
        .filter(|x| matches!(kind.map_ref(books).get(x), Some((Stage::Drafts, _))))
        .ok_or_else(|| missing(kind.name(), n))
}

pub(super) async fn draft_replace(
    kind: Kind,
    State(app): State<App>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let x = draft_number(kind, &books, &n)?;
        let mut doc = check_doc(&books, &body)?;
        doc.insert(kind.key().into(), json!(x));
        kind.map(&mut books).insert(x, (Stage::Drafts, doc));
        notify(&app, &books, kind.hook(), &n, &n);
        let d = &kind.map_ref(&books)[&x].1;
        Ok(ok(render_at(&app, d, &doc_path(kind, Stage::Drafts, x))))
    })
}

pub(super) async fn draft_remove(
    kind: Kind,
    State(app): State<App>,
    Path(n): Path<String>,
) -> Response {
    run(|| {
        let mut books = lock(&app.inner.books);
        let x = draft_number(kind, &books, &n)?;
        kind.map(&mut books).remove(&x);
        notify(&app, &books, kind.hook(), &n, &n);
        Ok(no_content())
    })
}

/// `POST /{orders|quotes}/sent` with the full document of a draft → 201; it is now sent.
pub(super) async fn mark_sent(kind: Kind, State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let Some(n) = body.get(kind.key()).and_then(Value::as_u64) else {
            let mut errs = Errs::default();
            errs.at(
                kind.key(),
                E_REQUIRED,
                &format!("Property {} is required.", kind.key()),
                None,
            );
            errs.check()?;
            return Err(missing(kind.name(), ""));
        };
        match kind.map_ref(&books).get(&n) {
            Some((Stage::Drafts, _)) => {}
            Some(_) => return Err(bad(E_STATE, format!("{} {n} is not a draft.", kind.name()))),
            None => return Err(missing(kind.name(), &n.to_string())),
        }
        let mut doc = check_doc(&books, &body)?;
        doc.insert(kind.key().into(), json!(n));
        kind.map(&mut books).insert(n, (Stage::Sent, doc));
        notify(&app, &books, kind.hook(), &n.to_string(), &n.to_string());
        let d = &kind.map_ref(&books)[&n].1;
        Ok(created(render_at(&app, d, &doc_path(kind, Stage::Sent, n))))
    })
}
