//! Clients in both generations (§(e) "Clients"): legacy `GET/POST /clients/` and v2
//! `/v2/contacts/people` and `/v2/contacts/organizations`, with the `names[]`, `phones[]`
//! (matched by digits), `emails[]`, `ids[]`, `created_at[]`, `modified_at[]` filters.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{
    arr, body_json, body_pairs, ids, in_range, legacy_err, legacy_page, range, v2_err, v2_page,
    Gen, Range,
};
use super::model::Client;
use super::App;
use crate::kit::http::{json, qget};
use crate::shopworld::phone_digits;

type Q = Query<Vec<(String, String)>>;

/// The client filters of one request.
pub(super) struct ClientFilter {
    ids: Vec<u64>,
    names: Vec<String>,
    phones: Vec<String>,
    emails: Vec<String>,
    created: Range,
    modified: Range,
}

impl ClientFilter {
    pub(super) fn parse(gen: Gen, q: &[(String, String)]) -> Result<ClientFilter, Response> {
        Ok(ClientFilter {
            ids: ids(gen, q, "ids")?,
            names: arr(q, "names").iter().map(|n| n.to_lowercase()).collect(),
            phones: arr(q, "phones")
                .iter()
                .map(|p| phone_digits(p))
                .filter(|p| !p.is_empty())
                .collect(),
            emails: arr(q, "emails").iter().map(|e| e.to_lowercase()).collect(),
            created: range(gen, q, "created_at")?,
            modified: range(gen, q, "modified_at")?,
        })
    }

    pub(super) fn ok(&self, c: &Client) -> bool {
        (self.ids.is_empty() || self.ids.contains(&c.id))
            && (self.names.is_empty()
                || self
                    .names
                    .iter()
                    .any(|n| c.name().to_lowercase().contains(n.as_str())))
            && (self.phones.is_empty() || phones_match(&self.phones, &c.phones))
            && (self.emails.is_empty() || self.emails.contains(&c.email.to_lowercase()))
            && in_range(self.created, c.created)
            && in_range(self.modified, c.modified)
    }
}

/// Whether any of `digits` (normalised) is one of `phones` by digits.
pub(super) fn phones_match(digits: &[String], phones: &[String]) -> bool {
    phones.iter().any(|p| digits.contains(&phone_digits(p)))
}

/// `GET /clients/` (legacy).
pub(super) async fn legacy_list(State(app): State<App>, Query(q): Q) -> Response {
    let f = match ClientFilter::parse(Gen::Legacy, &q) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rows: Vec<Value> = app
        .account()
        .clients
        .values()
        .filter(|c| f.ok(c))
        .map(Client::legacy)
        .collect();
    legacy_page(&q, &rows)
}

#[allow(clippy::too_many_arguments)]
fn new_client(
    app: &App,
    first: String,
    last: String,
    org: Option<String>,
    email: String,
    phones: Vec<String>,
    address: String,
    notes: String,
) -> Client {
    let now = app.common.stamp();
    let mut a = app.account();
    let id = a.next_client;
    a.next_client += 1;
    let c = Client {
        id,
        first_name: first,
        last_name: last,
        org,
        email,
        phones,
        address,
        notes,
        created: now,
        modified: now,
    };
    a.clients.insert(id, c.clone());
    c
}

/// `POST /clients/` (legacy, form or JSON): `name` (or `first_name`/`last_name`), `phone[]`,
/// `email`, `address`, `notes`, `juridical` → `{"success": true, "data": {"id"}}`.
pub(super) async fn legacy_create(
    State(app): State<App>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let p = body_pairs(&headers, &body);
    let get = |k: &str| qget(&p, k).unwrap_or("").trim().to_string();
    let (mut first, mut last) = (get("first_name"), get("last_name"));
    let name = get("name");
    if first.is_empty() && last.is_empty() {
        // [I] a full `name` splits at its first space.
        let (f, l) = name.split_once(' ').unwrap_or((&name, ""));
        (first, last) = (f.to_string(), l.to_string());
    }
    if first.is_empty() && last.is_empty() {
        return legacy_err(StatusCode::UNPROCESSABLE_ENTITY, "name is required");
    }
    let juridical = get("juridical") == "true" || get("juridical") == "1";
    let org = juridical.then(|| format!("{first} {last}").trim().to_string());
    let (first, last) = if juridical {
        (String::new(), String::new())
    } else {
        (first, last)
    };
    let c = new_client(
        &app,
        first,
        last,
        org,
        get("email"),
        arr(&p, "phone"),
        get("address"),
        get("notes"),
    );
    json(
        StatusCode::OK,
        json!({"success": true, "data": {"id": c.id}}),
    )
}

/// `GET /v2/contacts/people` and `/v2/contacts/organizations`.
pub(super) async fn v2_list(app: App, q: Vec<(String, String)>, orgs: bool) -> Response {
    let f = match ClientFilter::parse(Gen::V2, &q) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rows: Vec<Value> = app
        .account()
        .clients
        .values()
        .filter(|c| c.org.is_some() == orgs && f.ok(c))
        .map(Client::v2)
        .collect();
    v2_page(&q, &rows)
}

pub(super) async fn people(State(app): State<App>, Query(q): Q) -> Response {
    v2_list(app, q, false).await
}

pub(super) async fn organizations(State(app): State<App>, Query(q): Q) -> Response {
    v2_list(app, q, true).await
}

/// `GET /v2/contacts/people/{id}` (organisations too).
pub(super) async fn person(State(app): State<App>, Path(id): Path<String>) -> Response {
    match id
        .parse()
        .ok()
        .and_then(|id: u64| app.account().clients.get(&id).map(Client::v2))
    {
        Some(v) => json(StatusCode::OK, json!({ "data": v })),
        None => v2_err(StatusCode::NOT_FOUND, "Not found"),
    }
}

/// `POST /v2/contacts/people` `{first_name, last_name, email, phones: [str | {phone, title}],
/// address, notes}` (organisations: `name`) → 201 `{"data": {…}}`; no name → 422.
pub(super) async fn create_v2(app: App, body: Bytes, org: bool) -> Response {
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
    let phones: Vec<String> = v
        .get("phones")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    p.as_str()
                        .or_else(|| p.get("phone").and_then(Value::as_str))
                })
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let c = if org {
        if s("name").is_empty() {
            return v2_err(StatusCode::UNPROCESSABLE_ENTITY, "name is required");
        }
        new_client(
            &app,
            String::new(),
            String::new(),
            Some(s("name")),
            s("email"),
            phones,
            s("address"),
            s("notes"),
        )
    } else {
        if s("first_name").is_empty() && s("last_name").is_empty() {
            return v2_err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "first_name or last_name is required",
            );
        }
        new_client(
            &app,
            s("first_name"),
            s("last_name"),
            None,
            s("email"),
            phones,
            s("address"),
            s("notes"),
        )
    };
    json(StatusCode::CREATED, json!({ "data": c.v2() }))
}

pub(super) async fn create_person(State(app): State<App>, body: Bytes) -> Response {
    create_v2(app, body, false).await
}

pub(super) async fn create_organization(State(app): State<App>, body: Bytes) -> Response {
    create_v2(app, body, true).await
}
