//! The seeded lookup collections a customer, product or document refers to by number:
//! `payment-terms`, `vat-zones`, `customer-groups`, `product-groups`, `layouts`, `units` and
//! `currencies` (read-only here; a Danish agreement's usual set [I]).

use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{collection, missing, ok, render_at, Coll};
use super::filter::FType;
use super::{App, Obj};
use crate::kit::lock;

/// One lookup collection: its path and key property.
#[derive(Clone, Copy)]
pub(super) struct Lookup {
    pub(super) path: &'static str,
    pub(super) key: &'static str,
    coll: &'static Coll,
}

macro_rules! lookup {
    ($name:ident, $path:literal, $key:literal) => {
        const $name: Lookup = Lookup {
            path: $path,
            key: $key,
            coll: &Coll {
                path: $path,
                fields: &[($key, FType::Num), ("name", FType::Text)],
                create: None,
            },
        };
    };
}

lookup!(PAYMENT_TERMS, "payment-terms", "paymentTermsNumber");
lookup!(VAT_ZONES, "vat-zones", "vatZoneNumber");
lookup!(CUSTOMER_GROUPS, "customer-groups", "customerGroupNumber");
lookup!(PRODUCT_GROUPS, "product-groups", "productGroupNumber");
lookup!(LAYOUTS, "layouts", "layoutNumber");
lookup!(UNITS, "units", "unitNumber");

/// Currencies are keyed by their ISO `code`.
const CURRENCIES: Lookup = Lookup {
    path: "currencies",
    key: "code",
    coll: &Coll {
        path: "currencies",
        fields: &[("code", FType::Text), ("name", FType::Text)],
        create: None,
    },
};

pub(super) const LOOKUPS: [Lookup; 7] = [
    PAYMENT_TERMS,
    VAT_ZONES,
    CUSTOMER_GROUPS,
    PRODUCT_GROUPS,
    LAYOUTS,
    UNITS,
    CURRENCIES,
];

fn obj(v: Value) -> Obj {
    v.as_object().cloned().unwrap_or_default()
}

/// The seeded lookups, by path.
pub(super) fn seeded() -> Vec<(&'static str, Vec<Obj>)> {
    vec![
        (
            "payment-terms",
            vec![
                obj(
                    json!({"paymentTermsNumber": 1, "name": "Netto 8 dage", "daysOfCredit": 8, "paymentTermsType": "net"}),
                ),
                obj(
                    json!({"paymentTermsNumber": 2, "name": "Netto 14 dage", "daysOfCredit": 14, "paymentTermsType": "net"}),
                ),
                obj(
                    json!({"paymentTermsNumber": 3, "name": "Løbende måned + 30 dage", "daysOfCredit": 30, "paymentTermsType": "invoiceMonth"}),
                ),
                obj(
                    json!({"paymentTermsNumber": 4, "name": "Kontant", "daysOfCredit": 0, "paymentTermsType": "paidInCash"}),
                ),
            ],
        ),
        (
            "vat-zones",
            vec![
                obj(
                    json!({"vatZoneNumber": 1, "name": "Domestic", "enabledForCustomer": true, "enabledForSupplier": true}),
                ),
                obj(
                    json!({"vatZoneNumber": 2, "name": "EU", "enabledForCustomer": true, "enabledForSupplier": true}),
                ),
                obj(
                    json!({"vatZoneNumber": 3, "name": "Abroad", "enabledForCustomer": true, "enabledForSupplier": true}),
                ),
                obj(
                    json!({"vatZoneNumber": 4, "name": "Domestic exempt", "enabledForCustomer": true, "enabledForSupplier": false}),
                ),
            ],
        ),
        (
            "customer-groups",
            vec![
                obj(
                    json!({"customerGroupNumber": 1, "name": "Indenlandske kunder", "account": {"accountNumber": 5600}}),
                ),
                obj(
                    json!({"customerGroupNumber": 2, "name": "EU-kunder", "account": {"accountNumber": 5610}}),
                ),
                obj(
                    json!({"customerGroupNumber": 3, "name": "Udenlandske kunder", "account": {"accountNumber": 5620}}),
                ),
            ],
        ),
        (
            "product-groups",
            vec![
                obj(
                    json!({"productGroupNumber": 1, "name": "Varer m/moms", "accrual": false, "inventoryEnabled": true}),
                ),
                obj(
                    json!({"productGroupNumber": 2, "name": "Fødevarer", "inventoryEnabled": true}),
                ),
                obj(json!({"productGroupNumber": 3, "name": "Gavekort u/moms"})),
            ],
        ),
        (
            "layouts",
            vec![
                obj(json!({"layoutNumber": 19, "name": "Standard"})),
                obj(json!({"layoutNumber": 21, "name": "Standard engelsk"})),
            ],
        ),
        (
            "units",
            vec![
                obj(json!({"unitNumber": 1, "name": "stk."})),
                obj(json!({"unitNumber": 2, "name": "kg"})),
                obj(json!({"unitNumber": 3, "name": "pakke"})),
            ],
        ),
        (
            "currencies",
            ["DKK", "EUR", "SEK", "NOK", "USD", "GBP"]
                .iter()
                .zip([
                    "Danske kroner",
                    "Euro",
                    "Svenske kroner",
                    "Norske kroner",
                    "US dollar",
                    "Britiske pund",
                ])
                .map(|(c, n)| obj(json!({"code": c, "name": n})))
                .collect(),
        ),
    ]
}

/// The key of a lookup row as its path segment.
fn key_of(l: Lookup, o: &Obj) -> String {
    match &o[l.key] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) async fn list(
    l: Lookup,
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let rows: Vec<Value> = lock(&app.inner.books)
        .lookups
        .get(l.path)
        .map(|rows| {
            rows.iter()
                .map(|o| render_at(&app, o, &format!("{}/{}", l.path, key_of(l, o))))
                .collect()
        })
        .unwrap_or_default();
    collection(&app, l.coll, &q, rows)
}

pub(super) async fn detail(l: Lookup, State(app): State<App>, Path(n): Path<String>) -> Response {
    let books = lock(&app.inner.books);
    let found = books
        .lookups
        .get(l.path)
        .and_then(|rows| rows.iter().find(|o| key_of(l, o) == n));
    match found {
        Some(o) => ok(render_at(&app, o, &format!("{}/{n}", l.path))),
        None => missing(l.path, &n),
    }
}

/// Whether the lookup at `path` has a row with key `n`.
pub(super) fn exists(books: &super::Books, path: &str, n: &Value) -> bool {
    let Some(l) = LOOKUPS.iter().find(|l| l.path == path) else {
        return false;
    };
    books
        .lookups
        .get(path)
        .is_some_and(|rows| rows.iter().any(|o| o.get(l.key) == Some(n)))
}

/// A lookup row by key (e.g. payment terms for `daysOfCredit`).
pub(super) fn get<'a>(books: &'a super::Books, path: &str, n: u64) -> Option<&'a Obj> {
    let l = LOOKUPS.iter().find(|l| l.path == path)?;
    books
        .lookups
        .get(path)?
        .iter()
        .find(|o| o.get(l.key).and_then(Value::as_u64) == Some(n))
}
