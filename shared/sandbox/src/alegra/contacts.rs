//! `/api/v1/contacts`: clients, providers and leads.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::api::{bad, error, id_of, list_response, page_of, parse_json, text};
use super::webhooks::notify;
use super::{App, Obj, MAX_LIMIT, Q};
use crate::kit::clock::fmt_seconds;
use crate::kit::http::{json, qget, s, valid_email};
use crate::kit::{lock, taxid};

const TYPES: [&str; 3] = ["client", "provider", "lead"];
const ADDRESS_KEYS: [&str; 5] = ["address", "city", "department", "country", "zipCode"];
const NAME_KEYS: [&str; 4] = ["firstName", "secondName", "lastName", "secondLastName"];
/// Plain string fields a write may set.
const STRING_FIELDS: [&str; 8] = [
    "email",
    "emailSecondary",
    "phonePrimary",
    "phoneSecondary",
    "mobile",
    "fax",
    "observations",
    "regime",
];

fn contact_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "El contacto no existe")
}

fn join_name(no: &Obj) -> String {
    NAME_KEYS
        .iter()
        .map(|k| s(no.get(*k)).trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The documented identification type a number fits (A12: `DNI` for 8 digits + letter,
/// `NIF` for a letter + 7 digits + check, so NIEs and company CIFs), `NC` otherwise [I].
pub(crate) fn id_type(number: &str) -> &'static str {
    super::identification::type_for(&taxid::canonical(number)).unwrap_or("NC")
}

fn blank() -> Obj {
    match json!({
        "name": "", "nameObject": null, "identification": "", "identificationObject": null,
        "kindOfPerson": "PERSON_ENTITY", "email": "", "phonePrimary": "", "mobile": "",
        "observations": "", "status": "active", "type": [],
        "address": {"address": "", "city": "", "department": "", "country": "", "zipCode": ""},
    }) {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Applies a create/update body over `existing` (or a blank contact).
/// Unknown and read-only keys are ignored. Returns the Spanish message of
/// the first problem.
pub(super) fn write_contact(existing: Option<&Obj>, body: &Obj) -> Result<Obj, String> {
    let mut rec = existing.cloned().unwrap_or_else(blank);

    // `name` may come as the webhook-style object (§2.4) → nameObject.
    let mut name_obj = body.get("nameObject").cloned();
    match body.get("name") {
        Some(Value::Object(o)) if name_obj.is_none() => name_obj = Some(Value::Object(o.clone())),
        Some(Value::Object(_)) => {}
        Some(v) => {
            rec.insert("name".into(), json!(text(v, "name")?));
        }
        None => {}
    }
    match name_obj {
        Some(Value::Object(given)) => {
            let mut no = rec
                .get("nameObject")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            for k in NAME_KEYS {
                if let Some(v) = given.get(k) {
                    no.insert(k.into(), json!(text(v, "nameObject")?));
                } else {
                    no.entry(k.to_string()).or_insert_with(|| json!(""));
                }
            }
            rec.insert("name".into(), json!(join_name(&no)));
            rec.insert("nameObject".into(), Value::Object(no));
        }
        Some(Value::Null) => {
            rec.insert("nameObject".into(), Value::Null);
        }
        Some(_) => return Err("El campo nameObject no es válido".into()),
        None => {}
    }

    let ident = body
        .get("identification")
        .or_else(|| body.get("identificationObject"));
    if let Some(v) = ident {
        let (number, typ) = match v {
            Value::Object(o) => {
                let n = text(o.get("number").unwrap_or(&Value::Null), "identification")?;
                let t = text(o.get("type").unwrap_or(&Value::Null), "identification")?;
                (n, t)
            }
            other => (text(other, "identification")?, String::new()),
        };
        if number.is_empty() {
            rec.insert("identification".into(), json!(""));
            rec.insert("identificationObject".into(), Value::Null);
        } else {
            let typ = if typ.is_empty() {
                // A bare number: the type it fits; one that fits none needs its type
                // (Alegra's code 2035 "Missing identification type" [C: A15]).
                match super::identification::type_for(&taxid::canonical(&number)) {
                    Some(t) => t.to_string(),
                    None => return Err("Falta el tipo de identificación".into()),
                }
            } else {
                typ
            };
            rec.insert("identification".into(), json!(number));
            rec.insert(
                "identificationObject".into(),
                json!({"type": typ, "number": number}),
            );
        }
    }

    for f in STRING_FIELDS {
        if let Some(v) = body.get(f) {
            rec.insert(f.into(), json!(text(v, f)?));
        }
    }
    for f in ["email", "emailSecondary"] {
        let e = s(rec.get(f));
        if body.contains_key(f) && !e.is_empty() && !valid_email(e) {
            return Err(format!("El campo {f} no tiene un formato de correo válido"));
        }
    }
    if let Some(v) = body.get("kindOfPerson") {
        match v.as_str() {
            Some(k @ ("PERSON_ENTITY" | "LEGAL_ENTITY")) => {
                rec.insert("kindOfPerson".into(), json!(k));
            }
            _ => return Err("El campo kindOfPerson no es válido".into()),
        }
    }
    if let Some(v) = body.get("status") {
        match v.as_str() {
            Some(st @ ("active" | "inactive")) => {
                rec.insert("status".into(), json!(st));
            }
            _ => return Err("El campo status no es válido".into()),
        }
    }
    if let Some(v) = body.get("type") {
        let items: Vec<&Value> = match v {
            Value::Array(a) => a.iter().collect(),
            Value::Null => Vec::new(),
            single => vec![single],
        };
        let mut types: Vec<&str> = Vec::new();
        for it in items {
            match it.as_str().map(str::trim) {
                Some("") => {}
                Some(t) if TYPES.contains(&t) => {
                    if !types.contains(&t) {
                        types.push(t);
                    }
                }
                _ => return Err("El tipo de contacto no es válido".into()),
            }
        }
        rec.insert("type".into(), json!(types));
    }
    if let Some(v) = body.get("address") {
        match v {
            Value::Object(given) => {
                let mut addr = rec
                    .get("address")
                    .and_then(Value::as_object)
                    .cloned()
                    .unwrap_or_default();
                for k in ADDRESS_KEYS {
                    if let Some(x) = given.get(k) {
                        addr.insert(k.into(), json!(text(x, "address")?));
                    } else {
                        addr.entry(k.to_string()).or_insert_with(|| json!(""));
                    }
                }
                rec.insert("address".into(), Value::Object(addr));
            }
            Value::Null => {}
            _ => return Err("El campo address no es válido".into()),
        }
    }
    if s(rec.get("name")).trim().is_empty() {
        return Err("El nombre del contacto es obligatorio".into());
    }
    // A12: the type, its pattern and what it requires, once the write is applied.
    if ["identification", "identificationObject", "address"]
        .iter()
        .any(|k| body.contains_key(*k))
    {
        super::identification::check(&rec)?;
    }
    Ok(rec)
}

fn numeric_id(o: &Obj) -> u64 {
    s(o.get("id")).parse().unwrap_or(0)
}

/// `GET /api/v1/contacts`: `start`/`limit` (cap 30, capped not refused)
/// [C: A5, A6 §2.2; §3 "cap is safer"], bare JSON array or
/// `metadata=true` → `{"metadata":{"total"},"data"}` [C: A8, A5],
/// `order_field`/`order_direction` [C], filters `identification name email
/// type query` [C: A5]; no modified-since filter exists [C: §2.2].
pub(super) async fn list(State(app): State<App>, Query(q): Q) -> Response {
    let start = match qget(&q, "start").map(str::trim).filter(|v| !v.is_empty()) {
        None => 0,
        Some(v) => match v.parse::<usize>() {
            Ok(n) => n,
            Err(_) => return bad("El parámetro start debe ser un número entero mayor o igual a 0"),
        },
    };
    let limit = match qget(&q, "limit").map(str::trim).filter(|v| !v.is_empty()) {
        None => MAX_LIMIT,
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n >= 1 => (n as usize).min(MAX_LIMIT),
            _ => return bad("El parámetro limit debe ser un número entero mayor que 0"),
        },
    };
    let nonempty = |k: &str| qget(&q, k).map(str::trim).filter(|v| !v.is_empty());
    let ident = nonempty("identification").map(taxid::normalize);
    let name = nonempty("name").map(str::to_lowercase);
    let email = nonempty("email").map(str::to_lowercase);
    let typ = nonempty("type");
    let query = nonempty("query").map(str::to_lowercase);

    // Filter and sort references under the lock; only the page is copied.
    let data = lock(&app.inner.data);
    let mut rows: Vec<&Obj> = data
        .rows
        .values()
        .filter(|o| {
            let idn = s(o.get("identification"));
            ident
                .as_ref()
                .is_none_or(|x| !idn.is_empty() && taxid::normalize(idn) == *x)
                && name
                    .as_ref()
                    .is_none_or(|x| s(o.get("name")).to_lowercase().contains(x))
                && email
                    .as_ref()
                    .is_none_or(|x| s(o.get("email")).to_lowercase() == *x)
                && typ.is_none_or(|t| {
                    o.get("type")
                        .and_then(Value::as_array)
                        .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(t)))
                })
                && query.as_ref().is_none_or(|x| {
                    [s(o.get("name")), idn, s(o.get("email"))]
                        .iter()
                        .any(|f| f.to_lowercase().contains(x))
                })
        })
        .collect();

    let desc = qget(&q, "order_direction").is_some_and(|d| d.eq_ignore_ascii_case("desc"));
    let field = qget(&q, "order_field").unwrap_or("id");
    let sort_key = |o: &&Obj| -> String {
        match field {
            "name" => s(o.get("name")).to_lowercase(),
            "created_at" | "updated_at" => s(o.get(field)).to_string(),
            _ => String::new(),
        }
    };
    rows.sort_by_cached_key(|o| (sort_key(o), numeric_id(o)));
    if desc {
        rows.reverse();
    }
    let (page, total) = page_of(&rows, start, limit);
    drop(data);
    list_response(&q, page, total)
}

/// `GET /api/v1/contacts/{id}` → object; unknown → 404 `{"message","code"}`
/// [C: A5]; ids are strings [D: A4].
pub(super) async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
    let rec = id_of(&id).and_then(|id| lock(&app.inner.data).rows.get(&id).cloned());
    match rec {
        Some(o) => json(StatusCode::OK, Value::Object(o)),
        None => contact_not_found(),
    }
}

/// `POST /api/v1/contacts` → 201 + object [C: A5 test]; `name` required
/// [C: Pipedream]; identification as string or `{type,number}` object
/// [C: A5, A6], served as a plain string [C]; `type` array or string [C];
/// duplicate identification accepted (behaviour unknown, §4) [I]; string
/// id sequential [D: A4]; `created_at`/`updated_at` server-set [C: A5].
pub(super) async fn create(State(app): State<App>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut rec = match write_contact(None, &body) {
        Ok(r) => r,
        Err(m) => return bad(m),
    };
    let now = fmt_seconds(app.common.now());
    {
        let mut d = lock(&app.inner.data);
        let id = d.next_id;
        d.next_id += 1;
        rec.insert("id".into(), json!(id.to_string()));
        rec.insert("created_at".into(), json!(now));
        rec.insert("updated_at".into(), json!(now));
        d.rows.insert(id, rec.clone());
        notify(&app, &d, "new-client", &rec);
    }
    json(StatusCode::CREATED, Value::Object(rec))
}

/// `PUT /api/v1/contacts/{id}`: partial merge (clients send partial
/// bodies [C: A5, A7]; merge vs replace unknown, §4) [I]; nested `address`
/// merged key by key, `nameObject` → `name` recomputed; bumps
/// `updated_at` [C].
pub(super) async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let Some(id) = id_of(&id) else {
        return contact_not_found();
    };
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut d = lock(&app.inner.data);
    let Some(old) = d.rows.get(&id) else {
        return contact_not_found();
    };
    let mut rec = match write_contact(Some(old), &body) {
        Ok(r) => r,
        Err(m) => return bad(m),
    };
    rec.insert("updated_at".into(), json!(fmt_seconds(app.common.now())));
    d.rows.insert(id, rec.clone());
    notify(&app, &d, "edit-client", &rec);
    json(StatusCode::OK, Value::Object(rec))
}

/// `DELETE /api/v1/contacts/{id}` → 200 `{"code":200,"message":…}` [C: §2.1
/// "DELETE 200"].
pub(super) async fn destroy(State(app): State<App>, Path(id): Path<String>) -> Response {
    let removed = id_of(&id).and_then(|id| {
        let mut d = lock(&app.inner.data);
        let rec = d.rows.remove(&id)?;
        notify(&app, &d, "delete-client", &rec);
        Some(rec)
    });
    match removed {
        Some(_) => json(
            StatusCode::OK,
            json!({"code": 200, "message": "Contacto eliminado correctamente"}),
        ),
        None => contact_not_found(),
    }
}
