//! `customers` (`customerNumber`; POST needs `currency, customerGroup, name, paymentTerms,
//! vatZone`; full-document PUT; DELETE) and their `contacts` [D `_customers.md`].
//! `lastUpdated` is set on each write; `balance` is read-only (the unpaid booked invoices).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    bad, collection, collection_at, created, missing, no_content, ok, render_at, run, write_body,
    Coll, Errs,
};
use super::facts::{E_EXISTS, E_RANGE};
use super::filter::FType;
use super::hooks::{notify, HookKind};
use super::validate::{boolean, currency, lookup_ref, number, text};
use super::{App, Books, Obj};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

pub(super) const CUSTOMERS: Coll = Coll {
    path: "customers",
    fields: &[
        ("customerNumber", FType::Num),
        ("name", FType::Text),
        ("email", FType::Text),
        ("currency", FType::Text),
        ("address", FType::Text),
        ("zip", FType::Text),
        ("city", FType::Text),
        ("country", FType::Text),
        ("telephoneAndFaxNumber", FType::Text),
        ("mobilePhone", FType::Text),
        ("corporateIdentificationNumber", FType::Text),
        ("vatNumber", FType::Text),
        ("ean", FType::Text),
        ("barred", FType::Bool),
        ("lastUpdated", FType::Date),
    ],
    create: Some("Create a new customer."),
};

/// A customer's contacts; the path is the customer's.
const CONTACTS: Coll = Coll {
    path: "customers/{n}/contacts",
    fields: &[
        ("customerContactNumber", FType::Num),
        ("name", FType::Text),
        ("email", FType::Text),
        ("phone", FType::Text),
    ],
    create: Some("Create a new customer contact."),
};

pub(super) fn render(app: &App, c: &Obj) -> Value {
    let n = c["customerNumber"].as_u64().unwrap_or(0);
    let mut v = render_at(app, c, &format!("customers/{n}"));
    if let Some(o) = v.as_object_mut() {
        o.insert(
            "contacts".into(),
            json!(app.url(&format!("customers/{n}/contacts"))),
        );
    }
    v
}

/// Checks a customer document; the stored form (known properties only).
fn check(books: &Books, body: &Obj) -> Result<Obj, Response> {
    let mut errs = Errs::default();
    let mut out = Obj::new();
    if let Some(n) = number(&mut errs, &[], body, "customerNumber", false, false) {
        if !(1.0..=999_999_999.0).contains(&n) || n.fract() != 0.0 {
            errs.at(
                "customerNumber",
                E_RANGE,
                "customerNumber must be between 1 and 999999999.",
                body.get("customerNumber"),
            );
        }
    }
    text(&mut errs, &[], body, "name", true, 255);
    currency(&mut errs, books, body, true);
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "customerGroup",
        "customerGroupNumber",
        "customer-groups",
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
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "vatZone",
        "vatZoneNumber",
        "vat-zones",
        true,
    );
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "layout",
        "layoutNumber",
        "layouts",
        false,
    );
    for (k, max) in [
        ("email", 255),
        ("address", 510),
        ("zip", 30),
        ("city", 50),
        ("country", 50),
        ("telephoneAndFaxNumber", 255),
        ("mobilePhone", 50),
        ("corporateIdentificationNumber", 40),
        ("vatNumber", 20),
        ("ean", 13),
        ("website", 255),
    ] {
        text(&mut errs, &[], body, k, false, max);
    }
    number(&mut errs, &[], body, "creditLimit", false, true);
    boolean(&mut errs, &[], body, "barred");
    // [I] `attention`: the customer's contact person, `{customerContactNumber}` of one of
    // its contacts (the schema's reference to a contact; how strictly it is checked is not
    // documented).
    if let Some(a) = body.get("attention") {
        match a.get("customerContactNumber").and_then(Value::as_u64) {
            Some(cn) if books.contacts.keys().any(|(_, c)| *c == cn) => {}
            _ => errs.at(
                "attention",
                super::facts::E_DOES_NOT_EXIST,
                "attention does not exist.",
                Some(a),
            ),
        }
    }
    errs.check()?;
    for k in [
        "customerNumber",
        "name",
        "currency",
        "customerGroup",
        "paymentTerms",
        "vatZone",
        "layout",
        "email",
        "address",
        "zip",
        "city",
        "country",
        "telephoneAndFaxNumber",
        "mobilePhone",
        "corporateIdentificationNumber",
        "vatNumber",
        "ean",
        "website",
        "creditLimit",
        "barred",
        "attention",
    ] {
        if let Some(v) = body.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Ok(out)
}

pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    let rows: Vec<Value> = lock(&app.inner.books)
        .customers
        .values()
        .map(|c| render(&app, c))
        .collect();
    collection(&app, &CUSTOMERS, &q, rows)
}

pub(super) async fn detail(State(app): State<App>, Path(n): Path<String>) -> Response {
    let books = lock(&app.inner.books);
    match n.parse::<u64>().ok().and_then(|n| books.customers.get(&n)) {
        Some(c) => ok(render(&app, c)),
        None => missing("Customer", &n),
    }
}

/// `POST /customers` → 201 with `Location`; the next free number when none is given.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let mut rec = check(&books, &body)?;
        let n = match rec.get("customerNumber").and_then(Value::as_u64) {
            Some(n) if books.customers.contains_key(&n) => {
                return Err(bad(E_EXISTS, format!("Customer {n} already exists.")));
            }
            Some(n) => n,
            None => books.customers.keys().last().map_or(1, |n| n + 1),
        };
        rec.insert("customerNumber".into(), json!(n));
        rec.insert("balance".into(), json!(0.0));
        rec.insert("lastUpdated".into(), json!(stamp(&app)));
        books.customers.insert(n, rec);
        notify(
            &app,
            &books,
            HookKind::CustomerUpdated,
            &n.to_string(),
            &n.to_string(),
        );
        Ok(created(render(&app, &books.customers[&n])))
    })
}

/// The sandbox time as `lastUpdated` shows it: whole seconds, `Z`.
pub(super) fn stamp(app: &App) -> String {
    app.common.stamp().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `PUT /customers/{n}`: the full document; a different `customerNumber` renumbers [I].
pub(super) async fn replace(
    State(app): State<App>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let Some(old) = n
            .parse::<u64>()
            .ok()
            .filter(|n| books.customers.contains_key(n))
        else {
            return Err(missing("Customer", &n));
        };
        let mut rec = check(&books, &body)?;
        let new = rec
            .get("customerNumber")
            .and_then(Value::as_u64)
            .unwrap_or(old);
        if new != old && books.customers.contains_key(&new) {
            return Err(bad(E_EXISTS, format!("Customer {new} already exists.")));
        }
        let prev = books.customers.remove(&old).unwrap_or_default();
        rec.insert("customerNumber".into(), json!(new));
        rec.insert(
            "balance".into(),
            prev.get("balance").cloned().unwrap_or(json!(0.0)),
        );
        rec.insert("lastUpdated".into(), json!(stamp(&app)));
        books.customers.insert(new, rec);
        if new != old {
            let moved: Vec<((u64, u64), Obj)> = books
                .contacts
                .iter()
                .filter(|((c, _), _)| *c == old)
                .map(|(k, v)| (*k, v.clone()))
                .collect();
            for ((_, cn), mut v) in moved {
                books.contacts.remove(&(old, cn));
                v.insert("customer".into(), json!({"customerNumber": new}));
                books.contacts.insert((new, cn), v);
            }
        }
        notify(
            &app,
            &books,
            HookKind::CustomerUpdated,
            &new.to_string(),
            &old.to_string(),
        );
        Ok(ok(render(&app, &books.customers[&new])))
    })
}

pub(super) async fn remove(State(app): State<App>, Path(n): Path<String>) -> Response {
    let mut books = lock(&app.inner.books);
    let Some(num) = n
        .parse::<u64>()
        .ok()
        .filter(|n| books.customers.contains_key(n))
    else {
        return missing("Customer", &n);
    };
    books.customers.remove(&num);
    books.contacts.retain(|(c, _), _| *c != num);
    notify(
        &app,
        &books,
        HookKind::CustomerUpdated,
        &num.to_string(),
        &num.to_string(),
    );
    no_content()
}

fn contact_path(c: u64, n: u64) -> String {
    format!("customers/{c}/contacts/{n}")
}

fn customer_of(books: &Books, n: &str) -> Result<u64, Response> {
    n.parse::<u64>()
        .ok()
        .filter(|n| books.customers.contains_key(n))
        .ok_or_else(|| missing("Customer", n))
}

pub(super) async fn contacts(
    State(app): State<App>,
    Path(n): Path<String>,
    Query(q): Q,
) -> Response {
    run(|| {
        let books = lock(&app.inner.books);
        let c = customer_of(&books, &n)?;
        let rows: Vec<Value> = books
            .contacts
            .range((c, 0)..=(c, u64::MAX))
            .map(|((_, cn), v)| render_at(&app, v, &contact_path(c, *cn)))
            .collect();
        drop(books);
        Ok(collection_at(
            &app,
            &CONTACTS,
            &format!("customers/{c}/contacts"),
            &q,
            rows,
        ))
    })
}

fn check_contact(body: &Obj) -> Result<Obj, Response> {
    let mut errs = Errs::default();
    text(&mut errs, &[], body, "name", true, 255);
    for k in ["email", "phone", "notes"] {
        text(&mut errs, &[], body, k, false, 1000);
    }
    errs.check()?;
    let mut out = Obj::new();
    for k in ["name", "email", "phone", "notes"] {
        if let Some(v) = body.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Ok(out)
}

/// `POST /customers/{n}/contacts` `{name, email?, phone?, notes?}` → 201 [D shape; I rules].
pub(super) async fn contact_create(
    State(app): State<App>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut rec = check_contact(&body)?;
        let mut books = lock(&app.inner.books);
        let c = customer_of(&books, &n)?;
        let cn = books.next_contact;
        books.next_contact += 1;
        rec.insert("customerContactNumber".into(), json!(cn));
        rec.insert("customer".into(), json!({"customerNumber": c}));
        books.contacts.insert((c, cn), rec);
        touch_customer(&app, &mut books, c);
        Ok(created(render_at(
            &app,
            &books.contacts[&(c, cn)],
            &contact_path(c, cn),
        )))
    })
}

/// A contact change is a change of its customer: `lastUpdated` and the customer webhook [I].
fn touch_customer(app: &App, books: &mut Books, c: u64) {
    let now = stamp(app);
    if let Some(rec) = books.customers.get_mut(&c) {
        rec.insert("lastUpdated".into(), json!(now));
    }
    notify(
        app,
        books,
        HookKind::CustomerUpdated,
        &c.to_string(),
        &c.to_string(),
    );
}

fn contact_key(books: &Books, n: &str, c: &str) -> Result<(u64, u64), Response> {
    let cust = customer_of(books, n)?;
    c.parse::<u64>()
        .ok()
        .map(|cn| (cust, cn))
        .filter(|k| books.contacts.contains_key(k))
        .ok_or_else(|| missing("Customer contact", c))
}

pub(super) async fn contact_detail(
    State(app): State<App>,
    Path((n, c)): Path<(String, String)>,
) -> Response {
    run(|| {
        let books = lock(&app.inner.books);
        let k = contact_key(&books, &n, &c)?;
        Ok(ok(render_at(
            &app,
            &books.contacts[&k],
            &contact_path(k.0, k.1),
        )))
    })
}

pub(super) async fn contact_replace(
    State(app): State<App>,
    Path((n, c)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut rec = check_contact(&body)?;
        let mut books = lock(&app.inner.books);
        let k = contact_key(&books, &n, &c)?;
        rec.insert("customerContactNumber".into(), json!(k.1));
        rec.insert("customer".into(), json!({"customerNumber": k.0}));
        books.contacts.insert(k, rec);
        touch_customer(&app, &mut books, k.0);
        Ok(ok(render_at(
            &app,
            &books.contacts[&k],
            &contact_path(k.0, k.1),
        )))
    })
}

pub(super) async fn contact_remove(
    State(app): State<App>,
    Path((n, c)): Path<(String, String)>,
) -> Response {
    run(|| {
        let mut books = lock(&app.inner.books);
        let k = contact_key(&books, &n, &c)?;
        books.contacts.remove(&k);
        touch_customer(&app, &mut books, k.0);
        Ok(no_content())
    })
}
