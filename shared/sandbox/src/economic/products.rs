//! `products` [D `_products.md`]: keyed by the string `productNumber` (1–25 characters, the
//! custom encoding in self links); POST needs `name, productGroup, productNumber`; full-document
//! PUT; DELETE. `inventory{available, inStock, orderedByCustomers, orderedFromSuppliers}` is
//! read-only (and only on products whose group keeps inventory); `lastUpdated` is bumped on
//! every write.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    bad, collection, created, decode_key, encode_key, missing, no_content, ok, render_at, run,
    write_body, Coll, Errs,
};
use super::customers::stamp;
use super::facts::E_EXISTS;
use super::filter::FType;
use super::hooks::{notify, HookKind};
use super::validate::{boolean, lookup_ref, number, text};
use super::{lookups, App, Books, Obj, Stage};
use crate::kit::lock;

pub(super) const PRODUCTS: Coll = Coll {
    path: "products",
    fields: &[
        ("productNumber", FType::Text),
        ("name", FType::Text),
        ("description", FType::Text),
        ("salesPrice", FType::Num),
        ("costPrice", FType::Num),
        ("recommendedPrice", FType::Num),
        ("barCode", FType::Text),
        ("barred", FType::Bool),
        ("lastUpdated", FType::Date),
    ],
    create: Some("Create a new product."),
};

/// Quantity of product `n` on draft and sent orders.
fn ordered_by_customers(books: &Books, n: &str) -> f64 {
    books
        .orders
        .values()
        .filter(|(stage, _)| *stage != Stage::Archived)
        .flat_map(|(_, o)| {
            o.get("lines")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter(|l| l["product"]["productNumber"].as_str() == Some(n))
        .filter_map(|l| l["quantity"].as_f64())
        .sum()
}

/// Whether the product's group keeps inventory.
fn keeps_inventory(books: &Books, p: &Obj) -> bool {
    p["productGroup"]["productGroupNumber"]
        .as_u64()
        .and_then(|g| lookups::get(books, "product-groups", g))
        .is_some_and(|g| g.get("inventoryEnabled") == Some(&Value::Bool(true)))
}

pub(super) fn render(app: &App, books: &Books, p: &Obj) -> Value {
    let n = p["productNumber"].as_str().unwrap_or("");
    let mut rec = p.clone();
    let stock = rec
        .remove("inStock")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    let incoming = rec
        .remove("orderedFromSuppliers")
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if keeps_inventory(books, p) {
        let reserved = ordered_by_customers(books, n);
        rec.insert(
            "inventory".into(),
            json!({"available": stock - reserved, "inStock": stock,
                   "orderedByCustomers": reserved, "orderedFromSuppliers": incoming}),
        );
    }
    render_at(app, &rec, &format!("products/{}", encode_key(n)))
}

/// Checks a product document; the stored form. `inventory` and `lastUpdated` are read-only
/// and ignored [D].
fn check(books: &Books, body: &Obj) -> Result<Obj, Response> {
    let mut errs = Errs::default();
    text(&mut errs, &[], body, "productNumber", true, 25);
    text(&mut errs, &[], body, "name", true, 300);
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "productGroup",
        "productGroupNumber",
        "product-groups",
        true,
    );
    lookup_ref(
        &mut errs,
        books,
        &[],
        body,
        "unit",
        "unitNumber",
        "units",
        false,
    );
    for k in ["salesPrice", "costPrice", "recommendedPrice"] {
        number(&mut errs, &[], body, k, false, true);
    }
    text(&mut errs, &[], body, "barCode", false, 50);
    text(&mut errs, &[], body, "description", false, 500);
    boolean(&mut errs, &[], body, "barred");
    errs.check()?;
    let mut out = Obj::new();
    for k in [
        "productNumber",
        "name",
        "productGroup",
        "unit",
        "salesPrice",
        "costPrice",
        "recommendedPrice",
        "barCode",
        "description",
        "barred",
    ] {
        if let Some(v) = body.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Ok(out)
}

pub(super) async fn list(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let books = lock(&app.inner.books);
    let rows: Vec<Value> = books
        .products
        .values()
        .map(|p| render(&app, &books, p))
        .collect();
    drop(books);
    collection(&app, &PRODUCTS, &q, rows)
}

pub(super) async fn detail(State(app): State<App>, Path(n): Path<String>) -> Response {
    let n = decode_key(&n);
    let books = lock(&app.inner.books);
    match books.products.get(&n) {
        Some(p) => ok(render(&app, &books, p)),
        None => missing("Product", &n),
    }
}

pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        let mut rec = check(&books, &body)?;
        let n = rec["productNumber"].as_str().unwrap_or("").to_string();
        if books.products.contains_key(&n) {
            return Err(bad(E_EXISTS, format!("Product '{n}' already exists.")));
        }
        rec.insert("inStock".into(), json!(0.0));
        rec.insert("lastUpdated".into(), json!(stamp(&app)));
        books.products.insert(n.clone(), rec);
        notify(&app, &books, HookKind::ProductUpdated, &n, &n);
        Ok(created(render(&app, &books, &books.products[&n])))
    })
}

/// `PUT /products/{n}`: the full document; another `productNumber` renumbers [I]. Stock is
/// kept (read-only).
pub(super) async fn replace(
    State(app): State<App>,
    Path(n): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let old = decode_key(&n);
        let body = write_body(&body)?;
        let mut books = lock(&app.inner.books);
        if !books.products.contains_key(&old) {
            return Err(missing("Product", &old));
        }
        let mut rec = check(&books, &body)?;
        let new = rec["productNumber"].as_str().unwrap_or("").to_string();
        if new != old && books.products.contains_key(&new) {
            return Err(bad(E_EXISTS, format!("Product '{new}' already exists.")));
        }
        let prev = books.products.remove(&old).unwrap_or_default();
        for k in ["inStock", "orderedFromSuppliers"] {
            if let Some(v) = prev.get(k) {
                rec.insert(k.into(), v.clone());
            }
        }
        rec.insert("lastUpdated".into(), json!(stamp(&app)));
        books.products.insert(new.clone(), rec);
        notify(&app, &books, HookKind::ProductUpdated, &new, &old);
        Ok(ok(render(&app, &books, &books.products[&new])))
    })
}

pub(super) async fn remove(State(app): State<App>, Path(n): Path<String>) -> Response {
    let n = decode_key(&n);
    let mut books = lock(&app.inner.books);
    if books.products.remove(&n).is_none() {
        return missing("Product", &n);
    }
    notify(&app, &books, HookKind::ProductUpdated, &n, &n);
    no_content()
}

/// Sets a product's stock (booking, the UI); bumps `lastUpdated` and sends the product webhook.
pub(super) fn set_stock(app: &App, books: &mut Books, n: &str, in_stock: f64) -> bool {
    let now = stamp(app);
    let Some(p) = books.products.get_mut(n) else {
        return false;
    };
    p.insert("inStock".into(), json!(in_stock));
    p.insert("lastUpdated".into(), json!(now));
    notify(app, books, HookKind::ProductUpdated, n, n);
    true
}
