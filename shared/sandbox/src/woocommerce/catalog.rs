//! Products (simple and variable, with their variations), product categories (a `parent`
//! tree) and customers (§(d) "Products, categories, customers").

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{answer, date_param, descending, id_list, invalid_param, paged, wp_error};
use super::model::secs;
use super::model::{Category, Customer, Product};
use super::App;
use crate::kit::http::qget;

type Q = Query<Vec<(String, String)>>;

fn invalid_id(kind: &str) -> Response {
    wp_error(
        StatusCode::NOT_FOUND,
        &format!("woocommerce_rest_{kind}_invalid_id"),
        "Invalid ID.",
    )
}

/// `GET /products`: `sku` (comma list), `category`, `type`, `modified_after`/`before`,
/// `after`/`before`, `search`, `include`, `order`/`orderby` (default date desc).
pub(super) async fn products(State(app): State<App>, Query(q): Q) -> Response {
    let parsed = (|| -> Result<_, Response> {
        Ok((
            (
                date_param(&q, "modified_after")?,
                date_param(&q, "modified_before")?,
            ),
            (date_param(&q, "after")?, date_param(&q, "before")?),
            id_list(&q, "include")?,
            descending(&q, true)?,
        ))
    })();
    let ((mafter, mbefore), (after, before), include, desc) = match parsed {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Some(t) = qget(&q, "type") {
        if !matches!(t, "simple" | "grouped" | "external" | "variable") {
            return invalid_param(
                "type",
                "type is not one of simple, grouped, external, and variable.",
            );
        }
    }
    let skus: Option<Vec<&str>> = qget(&q, "sku").map(|s| s.split(',').map(str::trim).collect());
    let category: Option<u64> = match qget(&q, "category").map(str::parse) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return invalid_param("category", "category is not of type string."),
    };
    let search = qget(&q, "search").map(str::to_lowercase);
    let store = app.store();
    let mut rows: Vec<&Product> = store
        .products
        .values()
        .filter(|p| skus.as_ref().is_none_or(|s| s.contains(&p.sku.as_str())))
        .filter(|p| category.is_none_or(|c| p.categories.contains(&c)))
        .filter(|p| qget(&q, "type").is_none_or(|t| p.kind == t))
        .filter(|p| {
            mafter.is_none_or(|t| secs(p.modified) > t)
                && mbefore.is_none_or(|t| secs(p.modified) < t)
        })
        .filter(|p| {
            after.is_none_or(|t| secs(p.created) > t) && before.is_none_or(|t| secs(p.created) < t)
        })
        .filter(|p| include.as_ref().is_none_or(|i| i.contains(&p.id)))
        .filter(|p| {
            search
                .as_ref()
                .is_none_or(|s| p.name.to_lowercase().contains(s.as_str()))
        })
        .collect();
    match qget(&q, "orderby").unwrap_or("date") {
        "id" | "include" => rows.sort_by_key(|p| p.id),
        "title" | "slug" => rows.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id))),
        "modified" => rows.sort_by_key(|p| (p.modified, p.id)),
        "date" => rows.sort_by_key(|p| (p.created, p.id)),
        _ => {
            return invalid_param(
                "orderby",
                "orderby is not one of date, id, include, title, slug, modified.",
            )
        }
    }
    if desc {
        rows.reverse();
    }
    paged(&app, "products", &q, &rows, |p| p.render(&store.categories))
}

/// `GET /products/{id}`.
pub(super) async fn product(State(app): State<App>, Path(id): Path<String>) -> Response {
    let store = app.store();
    match id.parse().ok().and_then(|id: u64| store.products.get(&id)) {
        Some(p) => answer(StatusCode::OK, &p.render(&store.categories)),
        None => invalid_id("product"),
    }
}

/// `GET /products/{id}/variations` (empty for a simple product).
pub(super) async fn variations(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Q,
) -> Response {
    let store = app.store();
    let Some(p) = id.parse().ok().and_then(|id: u64| store.products.get(&id)) else {
        return invalid_id("product");
    };
    let vars: Vec<_> = p.variations.iter().collect();
    paged(
        &app,
        &format!("products/{}/variations", p.id),
        &q,
        &vars,
        |v| p.render_variation(v),
    )
}

/// `GET /products/{id}/variations/{vid}`.
pub(super) async fn variation(
    State(app): State<App>,
    Path((id, vid)): Path<(String, String)>,
) -> Response {
    let store = app.store();
    let found = id
        .parse()
        .ok()
        .and_then(|id: u64| store.products.get(&id))
        .and_then(|p| {
            vid.parse()
                .ok()
                .and_then(|v: u64| p.variations.iter().find(|x| x.id == v))
                .map(|v| p.render_variation(v))
        });
    match found {
        Some(v) => answer(StatusCode::OK, &v),
        None => invalid_id("product_variation"),
    }
}

fn render_category(c: &Category, count: usize) -> Value {
    json!({"id": c.id, "name": c.name, "slug": c.slug, "parent": c.parent, "description": "",
           "display": "default", "image": null, "menu_order": 0, "count": count})
}

/// `GET /products/categories`: `parent`, `hide_empty`, `search`, `include`, ordered by name.
pub(super) async fn categories(State(app): State<App>, Query(q): Q) -> Response {
    let parent: Option<u64> = match qget(&q, "parent").map(str::parse) {
        None => None,
        Some(Ok(p)) => Some(p),
        Some(Err(_)) => return invalid_param("parent", "parent is not of type integer."),
    };
    let include = match id_list(&q, "include") {
        Ok(i) => i,
        Err(r) => return r,
    };
    let hide_empty = qget(&q, "hide_empty").is_some_and(|v| v == "true" || v == "1");
    let search = qget(&q, "search").map(str::to_lowercase);
    let store = app.store();
    let count = |c: &Category| {
        store
            .products
            .values()
            .filter(|p| p.categories.contains(&c.id))
            .count()
    };
    let mut rows: Vec<(&Category, usize)> = store
        .categories
        .values()
        .map(|c| (c, count(c)))
        .filter(|(c, n)| parent.is_none_or(|p| c.parent == p) && (!hide_empty || *n > 0))
        .filter(|(c, _)| include.as_ref().is_none_or(|i| i.contains(&c.id)))
        .filter(|(c, _)| {
            search
                .as_ref()
                .is_none_or(|s| c.name.to_lowercase().contains(s.as_str()))
        })
        .collect();
    rows.sort_by(|a, b| a.0.name.cmp(&b.0.name).then(a.0.id.cmp(&b.0.id)));
    match descending(&q, false) {
        Ok(true) => rows.reverse(),
        Ok(false) => {}
        Err(r) => return r,
    }
    paged(&app, "products/categories", &q, &rows, |(c, n)| {
        render_category(c, *n)
    })
}

/// `GET /products/categories/{id}`.
pub(super) async fn category(State(app): State<App>, Path(id): Path<String>) -> Response {
    let store = app.store();
    match id
        .parse()
        .ok()
        .and_then(|id: u64| store.categories.get(&id))
    {
        Some(c) => {
            let n = store
                .products
                .values()
                .filter(|p| p.categories.contains(&c.id))
                .count();
            answer(StatusCode::OK, &render_category(c, n))
        }
        None => wp_error(
            StatusCode::NOT_FOUND,
            "woocommerce_rest_term_invalid",
            "Resource does not exist.",
        ),
    }
}

/// `GET /customers`: `email` (exact), `search`, `role` (`customer` or `all`), `include`,
/// ordered by name.
pub(super) async fn customers(State(app): State<App>, Query(q): Q) -> Response {
    let role = qget(&q, "role").unwrap_or("customer");
    if !matches!(
        role,
        "all" | "customer" | "administrator" | "shop_manager" | "subscriber"
    ) {
        return invalid_param(
            "role",
            "role is not one of all, administrator, customer, shop_manager, subscriber.",
        );
    }
    let include = match id_list(&q, "include") {
        Ok(i) => i,
        Err(r) => return r,
    };
    let email = qget(&q, "email").map(str::to_lowercase);
    let search = qget(&q, "search").map(str::to_lowercase);
    let store = app.store();
    let mut rows: Vec<&Customer> = store
        .customers
        .values()
        .filter(|_| matches!(role, "all" | "customer"))
        .filter(|c| email.as_ref().is_none_or(|e| c.email.to_lowercase() == *e))
        .filter(|c| include.as_ref().is_none_or(|i| i.contains(&c.id)))
        .filter(|c| {
            search.as_ref().is_none_or(|s| {
                [&c.first_name, &c.last_name, &c.email]
                    .iter()
                    .any(|f| f.to_lowercase().contains(s.as_str()))
            })
        })
        .collect();
    rows.sort_by(|a, b| {
        (&a.first_name, &a.last_name, a.id).cmp(&(&b.first_name, &b.last_name, b.id))
    });
    match descending(&q, false) {
        Ok(true) => rows.reverse(),
        Ok(false) => {}
        Err(r) => return r,
    }
    paged(&app, "customers", &q, &rows, |c| c.render())
}

/// `GET /customers/{id}`.
pub(super) async fn customer(State(app): State<App>, Path(id): Path<String>) -> Response {
    let store = app.store();
    match id.parse().ok().and_then(|id: u64| store.customers.get(&id)) {
        Some(c) => answer(StatusCode::OK, &c.render()),
        None => invalid_id("customer"),
    }
}
