//! `users`: the shop's customer accounts, `{id, username, status, approval_status, userinfo}`
//! with `userinfo` a Personalinfo (`email, btw, kvk, billingaddress, deliveryaddress`) [C].
//! The only list filter is `approval_status` [C].

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    bad, check_fields, created, id_of, missing, no_content, order_by, parse_body, Kind,
};
use super::facts::fmt_time;
use super::orders::run;
use super::{App, Obj};
use crate::kit::http::{json, qget};
use crate::kit::lock;

/// [I] The approval states.
const APPROVAL: [&str; 3] = ["approved", "pending", "declined"];

pub(super) fn render(app: &App, u: &Obj) -> Value {
    let mut v = u.clone();
    let id = v["id"].as_u64().unwrap_or(0);
    v.insert("href".into(), json!(app.url(&format!("users/{id}"))));
    Value::Object(v)
}

pub(super) async fn list(
    State(app): State<App>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    run(|| {
        let approval = qget(&q, "approval_status");
        if let Some(a) = approval {
            if !APPROVAL.contains(&a) {
                return Err(bad(format!("Invalid approval_status '{a}'")));
            }
        }
        let shop = lock(&app.inner.shop);
        let mut rows: Vec<Value> = shop
            .users
            .rows
            .values()
            .filter(|u| approval.is_none_or(|a| u["approval_status"].as_str() == Some(a)))
            .map(|u| render(&app, u))
            .collect();
        drop(shop);
        order_by(&mut rows, &q, &["id", "username", "createdate"])?;
        super::api::paged(&app, "users", &q, &rows)
    })
}

pub(super) async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.users.rows.get(&i)) {
        Some(u) => json(StatusCode::OK, render(&app, u)),
        None => missing("User", &id),
    }
}

const FIELDS: [(&str, Kind); 4] = [
    ("username", Kind::Str),
    ("status", Kind::Str),
    ("approval_status", Kind::Str),
    ("userinfo", Kind::Obj),
];

fn check(f: &Obj) -> Result<(), Response> {
    if let Some(a) = f.get("approval_status").and_then(Value::as_str) {
        if !APPROVAL.contains(&a) {
            return Err(bad(format!("Invalid approval_status '{a}'")));
        }
    }
    if let Some(u) = f.get("userinfo") {
        if u["email"].as_str().is_none_or(|e| !e.contains('@')) {
            return Err(bad("Property 'userinfo.email' is required"));
        }
    }
    Ok(())
}

fn taken(shop: &super::Shop, username: &str, except: Option<u64>) -> bool {
    shop.users.rows.values().any(|u| {
        u["username"]
            .as_str()
            .is_some_and(|x| x.eq_ignore_ascii_case(username))
            && u["id"].as_u64() != except
    })
}

/// `POST /users` `{userinfo, username?}` → 201; `username` defaults to the email; [I] a
/// taken username is refused.
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &FIELDS)?;
        if !f.contains_key("userinfo") {
            return Err(bad("Property 'userinfo' is required"));
        }
        check(&f)?;
        let username = f
            .get("username")
            .and_then(Value::as_str)
            .or(f["userinfo"]["email"].as_str())
            .unwrap_or("")
            .to_string();
        let now = fmt_time(app.common.stamp());
        let mut shop = lock(&app.inner.shop);
        if taken(&shop, &username, None) {
            return Err(bad(format!("Username '{username}' is taken")));
        }
        let mut rec = json!({"status": "active", "approval_status": "approved", "createdate": now})
            .as_object()
            .cloned()
            .unwrap_or_default();
        rec.extend(f);
        rec.insert("username".into(), json!(username));
        let id = shop.users.insert(rec);
        Ok(created(render(&app, &shop.users.rows[&id])))
    })
}

/// `PATCH /users/{id}` → 204.
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(|| {
        let f = check_fields(&parse_body(&body)?, &FIELDS)?;
        check(&f)?;
        let mut shop = lock(&app.inner.shop);
        let Some(uid) = id_of(&id).filter(|i| shop.users.rows.contains_key(i)) else {
            return Err(missing("User", &id));
        };
        if let Some(name) = f.get("username").and_then(Value::as_str) {
            if taken(&shop, name, Some(uid)) {
                return Err(bad(format!("Username '{name}' is taken")));
            }
        }
        if let Some(u) = shop.users.rows.get_mut(&uid) {
            u.extend(f);
        }
        Ok(no_content())
    })
}

pub(super) async fn remove(State(app): State<App>, Path(id): Path<String>) -> Response {
    let mut shop = lock(&app.inner.shop);
    match id_of(&id).and_then(|i| shop.users.rows.remove(&i)) {
        Some(_) => no_content(),
        None => missing("User", &id),
    }
}
