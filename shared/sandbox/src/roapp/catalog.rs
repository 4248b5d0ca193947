//! The catalogue (§(e) "v2 path set", "Warehouse"): v2 `/v2/catalog/products` (`ids[]`,
//! `skus[]`, `codes[]`, `titles[]`, `barcodes[]`, `category_ids[]` [I]) and their categories
//! (`parent_id`), and legacy `/warehouse/`, `/warehouse/goods/{warehouse_id}`
//! (`categories[]`, `exclude_zero_residue`) and `/warehouse/categories/`.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{arr, body_json, ids, legacy_page, v2_err, v2_page, Gen};
use super::model::{Category, Product};
use super::seed::add_product;
use super::App;
use crate::kit::http::{json, qget};

type Q = Query<Vec<(String, String)>>;

/// `GET /v2/catalog/products`.
pub(super) async fn products(State(app): State<App>, Query(q): Q) -> Response {
    let (pids, cats) = match (ids(Gen::V2, &q, "ids"), ids(Gen::V2, &q, "category_ids")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let (skus, codes, barcodes) = (arr(&q, "skus"), arr(&q, "codes"), arr(&q, "barcodes"));
    let titles: Vec<String> = arr(&q, "titles").iter().map(|t| t.to_lowercase()).collect();
    let rows: Vec<Value> = app
        .account()
        .products
        .values()
        .filter(|p| pids.is_empty() || pids.contains(&p.id))
        .filter(|p| cats.is_empty() || p.category_id.is_some_and(|c| cats.contains(&c)))
        .filter(|p| skus.is_empty() || skus.contains(&p.sku))
        .filter(|p| codes.is_empty() || codes.contains(&p.code))
        .filter(|p| barcodes.is_empty() || p.barcodes.iter().any(|b| barcodes.contains(b)))
        .filter(|p| {
            titles.is_empty()
                || titles
                    .iter()
                    .any(|t| p.title.to_lowercase().contains(t.as_str()))
        })
        .map(Product::v2)
        .collect();
    v2_page(&q, &rows)
}

/// `GET /v2/catalog/products/{id}`.
pub(super) async fn product(State(app): State<App>, Path(id): Path<String>) -> Response {
    match id
        .parse()
        .ok()
        .and_then(|id: u64| app.account().products.get(&id).map(Product::v2))
    {
        Some(v) => json(StatusCode::OK, json!({ "data": v })),
        None => v2_err(StatusCode::NOT_FOUND, "Product not found"),
    }
}

/// `POST /v2/catalog/products` `{title, sku?, code?, category_id?, price?, unit?,
/// description?, barcodes?}` → 201. No title, or an unknown category → 422.
pub(super) async fn create_product(State(app): State<App>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let s = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_string()
    };
    if s("title").is_empty() {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "title is required");
    }
    let now = app.common.stamp();
    let mut a = app.account();
    let category = v.get("category_id").and_then(Value::as_u64);
    if category.is_some_and(|c| !a.categories.contains_key(&c)) {
        return v2_err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "category_id does not exist",
        );
    }
    let price = v
        .get("price")
        .and_then(Value::as_f64)
        .map_or(0, |p| (p * 100.0).round() as u64);
    let id = add_product(&mut a, &s("title"), &s("sku"), price, category, now);
    let p = a.products.get_mut(&id).expect("just added");
    if !s("code").is_empty() {
        p.code = s("code");
    }
    if !s("unit").is_empty() {
        p.unit = s("unit");
    }
    p.description = s("description");
    p.residue = 0;
    if let Some(b) = v.get("barcodes").and_then(Value::as_array) {
        p.barcodes = b
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    json(StatusCode::CREATED, json!({ "data": p.v2() }))
}

/// `GET /v2/catalog/products/categories` (`parent_id` filter).
pub(super) async fn categories(State(app): State<App>, Query(q): Q) -> Response {
    let parent = qget(&q, "parent_id").and_then(|p| p.parse::<u64>().ok());
    let rows: Vec<Value> = app
        .account()
        .categories
        .values()
        .filter(|c| parent.is_none_or(|p| c.parent_id == Some(p)))
        .map(Category::render)
        .collect();
    v2_page(&q, &rows)
}

/// `POST /v2/catalog/products/categories` `{title, parent_id?}` → 201.
pub(super) async fn create_category(State(app): State<App>, body: Bytes) -> Response {
    let v = match body_json(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let title = v
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_string();
    if title.is_empty() {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "title is required");
    }
    let mut a = app.account();
    let parent_id = v.get("parent_id").and_then(Value::as_u64);
    if parent_id.is_some_and(|p| !a.categories.contains_key(&p)) {
        return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "parent_id does not exist");
    }
    let id = a.next_category;
    a.next_category += 1;
    let c = Category {
        id,
        title,
        parent_id,
    };
    a.categories.insert(id, c.clone());
    json(StatusCode::CREATED, json!({ "data": c.render() }))
}

/// `GET /warehouse/` (legacy): the one warehouse.
pub(super) async fn warehouses() -> Response {
    json(
        StatusCode::OK,
        json!({"success": true, "data": [{"id": 1, "title": "Almacén principal", "is_global": true, "branch_id": 1}]}),
    )
}

/// `GET /warehouse/goods/{warehouse_id}` (legacy, 50 a page).
pub(super) async fn goods(State(app): State<App>, Path(wh): Path<String>, Query(q): Q) -> Response {
    if wh != "1" {
        return super::api::legacy_err(StatusCode::NOT_FOUND, "Warehouse not found");
    }
    let cats = match ids(Gen::Legacy, &q, "categories") {
        Ok(c) => c,
        Err(r) => return r,
    };
    let nonzero = qget(&q, "exclude_zero_residue").is_some_and(|v| v == "true" || v == "1");
    let rows: Vec<Value> = app
        .account()
        .products
        .values()
        .filter(|p| cats.is_empty() || p.category_id.is_some_and(|c| cats.contains(&c)))
        .filter(|p| !nonzero || p.residue > 0)
        .map(Product::legacy)
        .collect();
    legacy_page(&q, &rows)
}

/// `GET /warehouse/categories/` (legacy).
pub(super) async fn legacy_categories(State(app): State<App>) -> Response {
    let rows: Vec<Value> = app
        .account()
        .categories
        .values()
        .map(Category::render)
        .collect();
    json(StatusCode::OK, json!({"success": true, "data": rows}))
}
