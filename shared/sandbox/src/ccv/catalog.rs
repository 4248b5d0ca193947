//! `products`, `categories` (with `parentcategory`, `categories/{id}/categories` and
//! `categories/{id}/products`) and `producttocategories` [C].
//!
//! A product is read with `is_active` and written with `active` [C]; `PATCH /products/{id}
//! {"stock": 12}` sets its stock [I on the page, the way clients do it]. Product writes send
//! `products.created|updated|deleted`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    bad, bool_param, check_fields, created, id_of, missing, no_content, order_by, paged,
    parse_body, Kind,
};
use super::facts::{fmt_time, TARIFFS};
use super::orders::run;
use super::webhooks::notify;
use super::{App, Obj};
use crate::kit::http::{json, qget};
use crate::kit::lock;

type Q = Query<Vec<(String, String)>>;

const PRODUCT_FIELDS: [(&str, Kind); 13] = [
    ("productnumber", Kind::Str),
    ("eannumber", Kind::OptStr),
    ("name", Kind::Str),
    ("description", Kind::Str),
    ("shortdescription", Kind::Str),
    ("price", Kind::Num),
    ("discount", Kind::Num),
    ("purchaseprice", Kind::Num),
    ("taxtariff", Kind::Str),
    ("stockenabled", Kind::Bool),
    ("stock", Kind::Num),
    ("ordering_without_stock", Kind::Bool),
    ("active", Kind::Bool),
];

/// The product as served: its link, and its attribute combinations (the variants of a
/// product that has them [C `Products` child `attributecombinations`; I: listed inline]).
pub(super) fn render_product(app: &App, p: &Obj) -> Value {
    let mut v = p.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    let combos = v.remove("_combinations").unwrap_or_else(|| json!([]));
    v.insert("href".into(), json!(app.url(&format!("products/{id}"))));
    v.insert(
        "attributecombinations".into(),
        json!({"href": app.url(&format!("products/{id}/attributecombinations")), "items": combos}),
    );
    Value::Object(v)
}

fn render_category(app: &App, c: &Obj) -> Value {
    let mut v = c.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert("href".into(), json!(app.url(&format!("categories/{id}"))));
    v.insert(
        "categories".into(),
        json!({"href": app.url(&format!("categories/{id}/categories"))}),
    );
    v.insert(
        "producttocategories".into(),
        json!({"href": app.url(&format!("categories/{id}/products"))}),
    );
    Value::Object(v)
}

fn render_link(app: &App, l: &Obj) -> Value {
    let mut v = l.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert(
        "href".into(),
        json!(app.url(&format!("producttocategories/{id}"))),
    );
    Value::Object(v)
}

/// Applies checked product fields (`active` is stored as `is_active`).
fn apply_product(rec: &mut Obj, f: Obj) -> Result<(), Response> {
    if let Some(t) = f.get("taxtariff").and_then(Value::as_str) {
        if !TARIFFS.iter().any(|(x, _)| *x == t) {
            let all: Vec<&str> = TARIFFS.iter().map(|(x, _)| *x).collect();
            return Err(bad(format!(
                "Invalid taxtariff '{t}'; one of: {}",
                all.join(", ")
            )));
        }
    }
    for (k, v) in f {
        let key = if k == "active" { "is_active".into() } else { k };
        rec.insert(key, v);
    }
    Ok(())
}

/// `GET /products`: filters `productnumber`, `eannumber` (exact), `productname` (contains,
/// at least 3 characters), `active`; `orderby=id|name|createdate|modifydate[_desc]` [C].
pub(super) async fn product_list(State(app): State<App>, Query(q): Q) -> Response {
    run(|| {
        let name = match qget(&q, "productname") {
            Some(n) if n.chars().count() < 3 => {
                return Err(bad("productname needs at least 3 characters"))
            }
            n => n.map(str::to_lowercase),
        };
        let active = bool_param(&q, "active")?;
        let number = qget(&q, "productnumber");
        let ean = qget(&q, "eannumber");
        let shop = lock(&app.inner.shop);
        let mut rows: Vec<Value> = shop
            .products
            .rows
            .values()
            .filter(|p| number.is_none_or(|n| p["productnumber"].as_str() == Some(n)))
            .filter(|p| ean.is_none_or(|e| p["eannumber"].as_str() == Some(e)))
            .filter(|p| active.is_none_or(|a| p["is_active"].as_bool() == Some(a)))
            .filter(|p| {
                name.as_ref().is_none_or(|n| {
                    p["name"]
                        .as_str()
                        .is_some_and(|x| x.to_lowercase().contains(n.as_str()))
                })
            })
            .map(|p| render_product(&app, p))
            .collect();
        drop(shop);
        order_by(&mut rows, &q, &["id", "name", "createdate", "modifydate"])?;
        paged(&app, "products", &q, &rows)
    })
}

pub(super) async fn product_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.products.rows.get(&i)) {
        Some(p) => json(StatusCode::OK, render_product(&app, p)),
        None => missing("Product", &id),
    }
}

/// `POST /products` → 201: `name` and `price` required [I]; defaults: no stock management,
/// active, tariff `normal`.
pub(super) async fn product_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &PRODUCT_FIELDS)?;
        if f.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(bad("Property 'name' is required"));
        }
        if !f.contains_key("price") {
            return Err(bad("Property 'price' is required"));
        }
        let now = fmt_time(app.common.stamp());
        let mut rec = json!({"productnumber": "", "eannumber": null, "name": "",
            "description": "", "shortdescription": "", "price": 0.0, "discount": 0.0,
            "purchaseprice": 0.0, "taxtariff": "normal", "stockenabled": false,
            "stocktype": "number", "stock": 0.0, "ordering_without_stock": false,
            "is_active": true, "createdate": now, "modifydate": now})
        .as_object()
        .cloned()
        .unwrap_or_default();
        apply_product(&mut rec, f)?;
        let mut shop = lock(&app.inner.shop);
        let id = shop.products.insert(rec);
        let out = render_product(&app, &shop.products.rows[&id]);
        notify(&app, &shop, "products.created", id, "products");
        Ok(created(out))
    })
}

/// `PATCH /products/{id}` → 204 (e.g. `{"stock": 12}`); bumps `modifydate`.
pub(super) async fn product_update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &PRODUCT_FIELDS)?;
        let now = fmt_time(app.common.stamp());
        let mut shop = lock(&app.inner.shop);
        let Some(pid) = id_of(&id).filter(|i| shop.products.rows.contains_key(i)) else {
            return Err(missing("Product", &id));
        };
        let mut rec = shop.products.rows[&pid].clone();
        apply_product(&mut rec, f)?;
        rec.insert("modifydate".into(), json!(now));
        shop.products.rows.insert(pid, rec);
        notify(&app, &shop, "products.updated", pid, "products");
        Ok(no_content())
    })
}

/// `DELETE /products/{id}` → 204; its category links go too.
pub(super) async fn product_delete(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut shop = lock(&app.inner.shop);
    let Some(pid) = id_of(&id).filter(|i| shop.products.rows.contains_key(i)) else {
        return missing("Product", &id);
    };
    shop.products.rows.remove(&pid);
    shop.links
        .rows
        .retain(|_, l| l["product_id"].as_u64() != Some(pid));
    notify(&app, &shop, "products.deleted", pid, "products");
    no_content()
}

const CATEGORY_FIELDS: [(&str, Kind); 4] = [
    ("name", Kind::Str),
    ("parentcategory", Kind::OptInt),
    ("position", Kind::Int),
    ("show_on_website", Kind::Bool),
];

/// `GET /categories`, ordered by `position` then id [I]; `orderby=id|name|position`.
pub(super) async fn category_list(State(app): State<App>, Query(q): Q) -> Response {
    categories_where(app, q, "categories".into(), |_| true)
}

fn categories_where(
    app: App,
    q: Vec<(String, String)>,
    path: String,
    keep: impl Fn(&Obj) -> bool,
) -> Response {
    run(|| {
        let shop = lock(&app.inner.shop);
        let mut rows: Vec<Value> = shop
            .categories
            .rows
            .values()
            .filter(|c| keep(c))
            .map(|c| render_category(&app, c))
            .collect();
        drop(shop);
        order_by(&mut rows, &q, &["id", "name", "position"])?;
        paged(&app, &path, &q, &rows)
    })
}

pub(super) async fn category_children(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    let Some(cid) = id_of(&id).filter(|i| lock(&app.inner.shop).categories.rows.contains_key(i))
    else {
        return missing("Category", &id);
    };
    categories_where(app, q, format!("categories/{cid}/categories"), move |c| {
        c["parentcategory"].as_u64() == Some(cid)
    })
}

/// `GET /categories/{id}/products`: the products linked to the category.
pub(super) async fn category_products(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    run(|| {
        let shop = lock(&app.inner.shop);
        let Some(cid) = id_of(&id).filter(|i| shop.categories.rows.contains_key(i)) else {
            return Err(missing("Category", &id));
        };
        let ids: Vec<u64> = shop
            .links
            .rows
            .values()
            .filter(|l| l["category_id"].as_u64() == Some(cid))
            .filter_map(|l| l["product_id"].as_u64())
            .collect();
        let mut rows: Vec<Value> = shop
            .products
            .rows
            .values()
            .filter(|p| p["id"].as_u64().is_some_and(|i| ids.contains(&i)))
            .map(|p| render_product(&app, p))
            .collect();
        drop(shop);
        order_by(&mut rows, &q, &["id", "name", "createdate", "modifydate"])?;
        paged(&app, &format!("categories/{cid}/products"), &q, &rows)
    })
}

pub(super) async fn category_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.categories.rows.get(&i)) {
        Some(c) => json(StatusCode::OK, render_category(&app, c)),
        None => missing("Category", &id),
    }
}

/// The parent named in `f` must exist and must not be the category itself.
fn check_parent(shop: &super::Shop, f: &Obj, own: Option<u64>) -> Result<(), Response> {
    if let Some(p) = f.get("parentcategory").and_then(Value::as_u64) {
        if !shop.categories.rows.contains_key(&p) || Some(p) == own {
            return Err(bad(format!("parentcategory {p} is not a valid category")));
        }
    }
    Ok(())
}

/// `POST /categories` `{name, parentcategory?, position?, show_on_website?}` → 201.
pub(super) async fn category_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &CATEGORY_FIELDS)?;
        if f.get("name")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            return Err(bad("Property 'name' is required"));
        }
        let mut shop = lock(&app.inner.shop);
        check_parent(&shop, &f, None)?;
        let mut rec = json!({"name": "", "position": 0, "show_on_website": true,
            "parentcategory": null})
        .as_object()
        .cloned()
        .unwrap_or_default();
        rec.extend(f);
        let id = shop.categories.insert(rec);
        Ok(created(render_category(&app, &shop.categories.rows[&id])))
    })
}

pub(super) async fn category_update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &CATEGORY_FIELDS)?;
        let mut shop = lock(&app.inner.shop);
        let Some(cid) = id_of(&id).filter(|i| shop.categories.rows.contains_key(i)) else {
            return Err(missing("Category", &id));
        };
        check_parent(&shop, &f, Some(cid))?;
        if let Some(c) = shop.categories.rows.get_mut(&cid) {
            c.extend(f);
        }
        Ok(no_content())
    })
}

/// `DELETE /categories/{id}` → 204; [I] refused (400) while it has subcategories.
pub(super) async fn category_delete(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut shop = lock(&app.inner.shop);
    let Some(cid) = id_of(&id).filter(|i| shop.categories.rows.contains_key(i)) else {
        return missing("Category", &id);
    };
    if shop
        .categories
        .rows
        .values()
        .any(|c| c["parentcategory"].as_u64() == Some(cid))
    {
        return bad("Category has subcategories");
    }
    shop.categories.rows.remove(&cid);
    shop.links
        .rows
        .retain(|_, l| l["category_id"].as_u64() != Some(cid));
    no_content()
}

/// `GET /producttocategories`, filters `product_id`, `category_id` [I].
pub(super) async fn link_list(State(app): State<App>, Query(q): Q) -> Response {
    run(|| {
        let num = |k: &str| match qget(&q, k) {
            None => Ok(None),
            Some(v) => v
                .parse::<u64>()
                .map(Some)
                .map_err(|_| bad(format!("Invalid {k}"))),
        };
        let (pid, cid) = (num("product_id")?, num("category_id")?);
        let shop = lock(&app.inner.shop);
        let rows: Vec<Value> = shop
            .links
            .rows
            .values()
            .filter(|l| pid.is_none_or(|p| l["product_id"].as_u64() == Some(p)))
            .filter(|l| cid.is_none_or(|c| l["category_id"].as_u64() == Some(c)))
            .map(|l| render_link(&app, l))
            .collect();
        drop(shop);
        paged(&app, "producttocategories", &q, &rows)
    })
}

pub(super) async fn link_detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.links.rows.get(&i)) {
        Some(l) => json(StatusCode::OK, render_link(&app, l)),
        None => missing("Producttocategory", &id),
    }
}

/// `POST /producttocategories` `{product_id, category_id, position?}` → 201; [I] a second
/// link of the same pair is refused.
pub(super) async fn link_create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let f = check_fields(
            &parse_body(&body)?,
            &[
                ("product_id", Kind::Int),
                ("category_id", Kind::Int),
                ("position", Kind::Int),
            ],
        )?;
        let (Some(pid), Some(cid)) = (
            f.get("product_id").and_then(Value::as_u64),
            f.get("category_id").and_then(Value::as_u64),
        ) else {
            return Err(bad("product_id and category_id are required"));
        };
        let mut shop = lock(&app.inner.shop);
        if !shop.products.rows.contains_key(&pid) {
            return Err(bad(format!("Product {pid} does not exist")));
        }
        if !shop.categories.rows.contains_key(&cid) {
            return Err(bad(format!("Category {cid} does not exist")));
        }
        if shop.links.rows.values().any(|l| {
            l["product_id"].as_u64() == Some(pid) && l["category_id"].as_u64() == Some(cid)
        }) {
            return Err(bad("The product is already in this category"));
        }
        let pos = f.get("position").cloned().unwrap_or(json!(0));
        let id = shop.links.insert(
            json!({"product_id": pid, "category_id": cid, "position": pos})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        );
        Ok(created(render_link(&app, &shop.links.rows[&id])))
    })
}

pub(super) async fn link_delete(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.links.rows.remove(&i)) {
        Some(_) => no_content(),
        None => missing("Producttocategory", &id),
    }
}
