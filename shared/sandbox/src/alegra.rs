//! Alegra sandbox: the `/api/v1/contacts` resource of a PHP-style API.
//!
//! Facts modelled come from `shared/spec/vendor-apis/clientify-alegra.md`
//! §2 and §3; each handler cites its section and the page's confidence tag
//! ([D] vendor docs, [C] client code, [I] inferred).

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Map, Value};

use crate::kit::clock::{fmt_seconds, parse_iso};
use crate::kit::http::{json, qget, s, valid_email};
use crate::kit::{lock, taxid, Common};
use crate::SandboxConfig;

type Obj = Map<String, Value>;
type Q = Query<Vec<(String, String)>>;

/// Page size cap [C: A5, A6, A7, A9 `LIMIT=30`].
const MAX_LIMIT: usize = 30;
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

struct Data {
    rows: BTreeMap<u64, Obj>,
    next_id: u64,
    /// Webhook subscriptions (§2.4): id → `{id, event, url}`.
    subs: BTreeMap<u64, Obj>,
    next_sub: u64,
}

/// Subscribable events: `new-|edit-|delete-` × `invoice, bill, client, item` [C: A10].
const EVENTS: [&str; 12] = [
    "new-client",
    "edit-client",
    "delete-client",
    "new-item",
    "edit-item",
    "delete-item",
    "new-invoice",
    "edit-invoice",
    "delete-invoice",
    "new-bill",
    "edit-bill",
    "delete-bill",
];

/// Fixed rate-limit window of one user.
struct Window {
    start: DateTime<Utc>,
    count: u32,
}

struct Inner {
    email: String,
    token: String,
    limit: u32,
    window: TimeDelta,
    data: Mutex<Data>,
    /// Items, estimates and taxes (ALG-7, ALG-8). Locked after `data` when both are held.
    catalog: Mutex<Catalog>,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Builds the Alegra router seeded with `contacts` and `items`.
pub(crate) fn router(
    common: Arc<Common>,
    cfg: &SandboxConfig,
    contacts: Vec<Value>,
    items: Vec<Value>,
) -> io::Result<Router> {
    let mut catalog = Catalog::new();
    for v in items {
        seed_item(&mut catalog, v).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let mut data = Data {
        rows: BTreeMap::new(),
        next_id: 1,
        subs: BTreeMap::new(),
        next_sub: 1,
    };
    for v in contacts {
        seed(&mut data, &common, v).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    }
    let window = TimeDelta::from_std(cfg.alegra_rate_window.max(Duration::from_millis(1)))
        .unwrap_or(TimeDelta::seconds(60));
    let app = App {
        common,
        inner: Arc::new(Inner {
            email: cfg.alegra_email.clone(),
            token: cfg.alegra_token.clone(),
            limit: cfg.alegra_rate_limit,
            window,
            data: Mutex::new(data),
            catalog: Mutex::new(catalog),
            windows: Mutex::new(HashMap::new()),
        }),
    };
    let mut r = Router::new();
    let routes: Vec<(&str, MethodRouter<App>)> = vec![
        ("/api/v1/contacts", get(list).post(create)),
        (
            "/api/v1/contacts/{id}",
            get(detail).put(update).delete(destroy),
        ),
        (
            "/api/v1/webhooks/subscriptions",
            get(list_subs).post(create_sub),
        ),
        (
            "/api/v1/webhooks/subscriptions/{id}",
            axum::routing::delete(delete_sub),
        ),
        ("/api/v1/taxes", get(taxes)),
    ];
    let mut routes = routes;
    for (base, res) in [
        ("/api/v1/items", Res::Items),
        ("/api/v1/estimates", Res::Estimates),
    ] {
        routes.push((
            base,
            get(move |st: State<App>, q: Q| cat_list(res, st, q))
                .post(move |st: State<App>, b: Bytes| cat_create(res, st, b)),
        ));
        let one = if res == Res::Items {
            "/api/v1/items/{id}"
        } else {
            "/api/v1/estimates/{id}"
        };
        routes.push((
            one,
            get(move |st: State<App>, p: Path<String>| cat_detail(res, st, p))
                .put(move |st: State<App>, p: Path<String>, b: Bytes| cat_update(res, st, p, b)),
        ));
    }
    for (path, mr) in routes {
        // Canonical paths have no trailing slash [C: §2.1]; accept one [I].
        r = r.route(path, mr.clone()).route(&format!("{path}/"), mr);
    }
    // Other methods / unknown paths: the `{"message","code"}` error shape
    // [C: A5 errors.go], still behind auth and the rate limit, whose headers
    // are on every response [D: A1].
    Ok(r.method_not_allowed_fallback(method_not_allowed)
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app))
}

/// 405 in the vendor's error shape [C: A5] (status text [I]).
async fn method_not_allowed() -> Response {
    error(StatusCode::METHOD_NOT_ALLOWED, "Método no permitido")
}

/// 404 for paths outside the modelled resources [C: A5 shape; text I].
async fn unknown_route() -> Response {
    error(StatusCode::NOT_FOUND, "Recurso no encontrado")
}

fn seed(data: &mut Data, common: &Common, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err("alegra seed contact: not an object".into());
    };
    let mut rec = write_contact(None, &body).map_err(|e| format!("alegra seed contact: {e}"))?;
    let id = match body.get("id") {
        Some(Value::String(x)) => x.parse().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    }
    .unwrap_or(data.next_id);
    data.next_id = data.next_id.max(id + 1);
    let ts = |key: &str| body.get(key).and_then(Value::as_str).and_then(parse_iso);
    let created = ts("created_at").unwrap_or_else(|| common.now());
    let updated = ts("updated_at").unwrap_or(created);
    rec.insert("id".into(), json!(id.to_string()));
    rec.insert("created_at".into(), json!(fmt_seconds(created)));
    rec.insert("updated_at".into(), json!(fmt_seconds(updated)));
    data.rows.insert(id, rec);
    Ok(())
}

// ---------------------------------------------------------------- helpers

/// Error body `{"message","code"}` [C: A5 errors.go, A7].
fn error(status: StatusCode, msg: &str) -> Response {
    json(status, json!({"message": msg, "code": status.as_u16()}))
}

fn bad(msg: impl AsRef<str>) -> Response {
    error(StatusCode::BAD_REQUEST, msg.as_ref())
}

fn contact_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "El contacto no existe")
}

/// Email from `Authorization: Basic base64(email:token)`, and whether the
/// credentials are the configured ones.
fn basic_user(headers: &HeaderMap, inner: &Inner) -> (String, bool) {
    let Some(raw) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return (String::new(), false);
    };
    let mut it = raw.trim().splitn(2, ' ');
    let (Some(scheme), Some(b64)) = (it.next(), it.next()) else {
        return (String::new(), false);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return (String::new(), false);
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return (String::new(), false);
    };
    let text = String::from_utf8_lossy(&bytes);
    match text.split_once(':') {
        Some((email, token)) => (
            email.to_string(),
            email == inner.email && token == inner.token,
        ),
        None => (text.into_owned(), false),
    }
}

fn set_rate_headers(resp: &mut Response, limit: u32, remaining: u32, reset: i64) {
    let h = resp.headers_mut();
    h.insert("X-Rate-Limit-Limit", HeaderValue::from(limit));
    h.insert("X-Rate-Limit-Remaining", HeaderValue::from(remaining));
    h.insert("X-Rate-Limit-Reset", HeaderValue::from(reset));
}

/// Rate limit then Basic auth, on every request (unknown routes too).
///
/// Models §2.1 [D: A1]: 150 requests/minute per user, 429 "Too Many
/// request", headers `X-Rate-Limit-Limit/Remaining/Reset` (seconds left in
/// the window) on every response, no `Retry-After` (not documented); fixed
/// window keyed by the Basic email [I]; auth HTTP Basic `email:token`,
/// problems → 401 [D: A2] with `{"message","code"}` [C: A5].
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let (user, ok) = basic_user(req.headers(), &app.inner);
    let limit = app.inner.limit;
    let mut rate = None;
    if limit > 0 {
        let now = app.common.now();
        let window = app.inner.window;
        let mut ws = lock(&app.inner.windows);
        let w = ws.entry(user).or_insert(Window {
            start: now,
            count: 0,
        });
        if now >= w.start + window {
            w.start = now;
            w.count = 0;
        }
        w.count = w.count.saturating_add(1);
        let left = w.start + window - now;
        let reset = ((left.num_milliseconds() + 999) / 1000).max(1);
        rate = Some((w.count > limit, limit.saturating_sub(w.count), reset));
    }
    let mut resp = match rate {
        Some((true, _, _)) => error(StatusCode::TOO_MANY_REQUESTS, "Too Many request"),
        _ if !ok => error(
            StatusCode::UNAUTHORIZED,
            "Las credenciales de autenticación no son válidas",
        ),
        _ => next.run(req).await,
    };
    if let Some((_, remaining, reset)) = rate {
        set_rate_headers(&mut resp, limit, remaining, reset);
    }
    resp
}

fn parse_json(body: &Bytes) -> Result<Obj, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Obj::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(bad("El cuerpo de la petición debe ser un objeto JSON")),
        Err(_) => Err(bad("El cuerpo de la petición no es un JSON válido")),
    }
}

fn text(v: &Value, field: &str) -> Result<String, String> {
    match v {
        Value::String(x) => Ok(x.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err(format!("El campo {field} no es válido")),
    }
}

fn join_name(no: &Obj) -> String {
    NAME_KEYS
        .iter()
        .map(|k| s(no.get(*k)).trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Identification type from the number's shape (NIF for a DNI) [I].
pub(crate) fn id_type(number: &str) -> &'static str {
    match taxid::classify(number) {
        Some(taxid::TaxIdKind::Nie) => "NIE",
        Some(taxid::TaxIdKind::Cif) => "CIF",
        _ => "NIF",
    }
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
fn write_contact(existing: Option<&Obj>, body: &Obj) -> Result<Obj, String> {
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
                id_type(&number).to_string()
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
    Ok(rec)
}

fn numeric_id(o: &Obj) -> u64 {
    s(o.get("id")).parse().unwrap_or(0)
}

fn id_of(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

// ------------------------------------------------------------- handlers

/// `GET /api/v1/contacts`: `start`/`limit` (cap 30, capped not refused)
/// [C: A5, A6 §2.2; §3 "cap is safer"], bare JSON array or
/// `metadata=true` → `{"metadata":{"total"},"data"}` [C: A8, A5],
/// `order_field`/`order_direction` [C], filters `identification name email
/// type query` [C: A5]; no modified-since filter exists [C: §2.2].
async fn list(State(app): State<App>, Query(q): Q) -> Response {
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
    let total = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|o| Value::Object(o.clone()))
        .collect();
    drop(data);
    let metadata = qget(&q, "metadata").is_some_and(|m| m.eq_ignore_ascii_case("true") || m == "1");
    if metadata {
        json(
            StatusCode::OK,
            json!({"metadata": {"total": total}, "data": page}),
        )
    } else {
        json(StatusCode::OK, Value::Array(page))
    }
}

/// `GET /api/v1/contacts/{id}` → object; unknown → 404 `{"message","code"}`
/// [C: A5]; ids are strings [D: A4].
async fn detail(State(app): State<App>, Path(id): Path<String>) -> Response {
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
async fn create(State(app): State<App>, body: Bytes) -> Response {
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
async fn update(State(app): State<App>, Path(id): Path<String>, body: Bytes) -> Response {
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
async fn destroy(State(app): State<App>, Path(id): Path<String>) -> Response {
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

/// §2.4: a `{"subject", "message": {"client": …}}` delivery to every URL subscribed to
/// `subject` (`{"item": …}` for `*-item` subjects). Subscriptions store URLs without a
/// scheme; see `webhooks::with_scheme`.
fn notify(app: &App, d: &Data, subject: &str, rec: &Obj) {
    let key = subject.rsplit('-').next().unwrap_or("client");
    for sub in d.subs.values() {
        if sub.get("event").and_then(Value::as_str) != Some(subject) {
            continue;
        }
        let url =
            crate::kit::outbox::with_scheme(sub.get("url").and_then(Value::as_str).unwrap_or(""));
        let body = json!({"subject": subject, "message": {key: rec}});
        app.common.outbox.send(url, subject, body);
    }
}

/// `GET /api/v1/webhooks/subscriptions` → `{"subscriptions": […]}` [C: A9, A10].
async fn list_subs(State(app): State<App>) -> Response {
    let subs: Vec<Value> = lock(&app.inner.data)
        .subs
        .values()
        .cloned()
        .map(Value::Object)
        .collect();
    json(StatusCode::OK, json!({"subscriptions": subs}))
}

/// `POST /api/v1/webhooks/subscriptions` `{"event","url"}` → 201
/// `{"subscription": {id, event, url}}` (A9's reading; A10 reads `result.id`, so the id is
/// also at the top level) [C]. Unknown event or missing url → 400 [I]. The URL is kept as
/// given (clients send it without a scheme [C: A9, A10]).
async fn create_sub(State(app): State<App>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let event = body.get("event").and_then(Value::as_str).unwrap_or("");
    if !EVENTS.contains(&event) {
        return bad(format!("El evento '{event}' no es válido"));
    }
    let url = body.get("url").and_then(Value::as_str).unwrap_or("").trim();
    if url.is_empty() {
        return bad("La url es obligatoria");
    }
    let mut d = lock(&app.inner.data);
    let id = d.next_sub;
    d.next_sub += 1;
    let mut sub = Obj::new();
    sub.insert("id".into(), json!(id.to_string()));
    sub.insert("event".into(), json!(event));
    sub.insert("url".into(), json!(url));
    d.subs.insert(id, sub.clone());
    json(
        StatusCode::CREATED,
        json!({"id": id.to_string(), "subscription": sub}),
    )
}

/// `DELETE /api/v1/webhooks/subscriptions/{id}` → 200 [C: A10]; unknown id → 404 [I].
async fn delete_sub(State(app): State<App>, Path(id): Path<String>) -> Response {
    let removed = id_of(&id).and_then(|id| lock(&app.inner.data).subs.remove(&id));
    match removed {
        Some(_) => json(
            StatusCode::OK,
            json!({"code": 200, "message": "Suscripción eliminada correctamente"}),
        ),
        None => error(StatusCode::NOT_FOUND, "La suscripción no existe"),
    }
}

// ------------------------------------------------- items, taxes, estimates

/// Taxes every account starts with (Spanish VAT rates) [I]; shape `id, name, percentage,
/// description, status, type` [C: A5].
fn default_taxes() -> Vec<Obj> {
    [
        ("1", "IVA", "21.00"),
        ("2", "IVA Reducido", "10.00"),
        ("3", "IVA Superreducido", "4.00"),
    ]
    .iter()
    .map(|(id, name, p)| {
        obj(
            json!({"id": id, "name": name, "percentage": p, "description": "",
                "status": "active", "type": "IVA"}),
        )
    })
    .collect()
}

fn obj(v: Value) -> Obj {
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Items and estimates share the contacts' paging and error shapes.
pub(crate) struct Catalog {
    items: BTreeMap<u64, Obj>,
    next_item: u64,
    estimates: BTreeMap<u64, Obj>,
    next_estimate: u64,
    taxes: Vec<Obj>,
}

impl Catalog {
    fn new() -> Catalog {
        Catalog {
            items: BTreeMap::new(),
            next_item: 1,
            estimates: BTreeMap::new(),
            next_estimate: 1,
            taxes: default_taxes(),
        }
    }

    /// `tax` as the API takes it: an id, `[id]`, `[{id}]` [C: A6] → full tax objects.
    fn taxes_of(&self, v: &Value) -> Result<Vec<Value>, String> {
        let ids: Vec<String> = match v {
            Value::Null => Vec::new(),
            Value::Array(a) => a
                .iter()
                .map(|t| match t {
                    Value::Object(o) => s(o.get("id")).to_string(),
                    other => text(other, "tax").unwrap_or_default(),
                })
                .collect(),
            other => vec![text(other, "tax")?],
        };
        ids.iter()
            .filter(|i| !i.is_empty())
            .map(|i| {
                self.taxes
                    .iter()
                    .find(|t| s(t.get("id")) == i)
                    .map(|t| Value::Object(t.clone()))
                    .ok_or_else(|| format!("El impuesto {i} no existe"))
            })
            .collect()
    }
}

fn num_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(x) => x.trim().parse().ok(),
        _ => None,
    }
}

/// Applies an item body (create or partial update) [C: A5, A3, A6]: `price` scalar or
/// `[{idPriceList, price}]`, served as `[{idPriceList, name, price}]` with the price as a
/// string; `tax` ids → tax objects; `name` required.
fn write_item(cat: &Catalog, existing: Option<&Obj>, body: &Obj) -> Result<Obj, String> {
    let mut rec = existing.cloned().unwrap_or_else(|| {
        obj(
            json!({"name": "", "description": "", "reference": "", "status": "active",
            "type": "product", "price": [], "tax": [], "customFields": []}),
        )
    });
    for f in ["name", "description", "reference"] {
        if let Some(v) = body.get(f) {
            rec.insert(f.into(), json!(text(v, f)?));
        }
    }
    if let Some(v) = body.get("type") {
        rec.insert("type".into(), json!(text(v, "type")?));
    }
    if let Some(v) = body.get("price") {
        let p = match v {
            Value::Array(a) => a.first().and_then(|p| p.get("price")).and_then(num_of),
            other => num_of(other),
        }
        .ok_or("El campo price no es válido")?;
        rec.insert(
            "price".into(),
            json!([{"idPriceList": "1", "name": "General", "price": format!("{p:.2}")}]),
        );
    }
    if let Some(v) = body.get("tax") {
        rec.insert("tax".into(), Value::Array(cat.taxes_of(v)?));
    }
    if s(rec.get("name")).trim().is_empty() {
        return Err("El nombre del ítem es obligatorio".into());
    }
    Ok(rec)
}

/// Applies an estimate body [C: A5]: `client` `{id}` or an id (must exist; served as `{id,
/// name, identification}` [I]), `items:[{id, price, quantity, discount, tax}]` (each item
/// must exist; name and reference default to the item's), `date`, `dueDate`,
/// `observations`; `total` computed by Alegra from the lines.
fn write_estimate(
    cat: &Catalog,
    contacts: &Data,
    existing: Option<&Obj>,
    body: &Obj,
) -> Result<Obj, String> {
    let mut rec = existing.cloned().unwrap_or_else(|| {
        obj(
            json!({"date": "", "dueDate": "", "observations": "", "status": "draft",
            "client": null, "items": [], "total": 0}),
        )
    });
    for f in ["date", "dueDate", "observations"] {
        if let Some(v) = body.get(f) {
            rec.insert(f.into(), json!(text(v, f)?));
        }
    }
    if let Some(v) = body.get("client") {
        let id = match v {
            Value::Object(o) => s(o.get("id")).to_string(),
            other => text(other, "client")?,
        };
        let c = id
            .parse::<u64>()
            .ok()
            .and_then(|i| contacts.rows.get(&i))
            .ok_or_else(|| format!("El cliente {id} no existe"))?;
        rec.insert(
            "client".into(),
            json!({"id": id, "name": s(c.get("name")), "identification": s(c.get("identification"))}),
        );
    }
    if let Some(v) = body.get("items") {
        let Value::Array(lines) = v else {
            return Err("El campo items no es válido".into());
        };
        let mut out = Vec::new();
        for l in lines {
            let id = s(l.get("id")).to_string();
            let id = if id.is_empty() {
                l.get("id").map(|x| x.to_string()).unwrap_or_default()
            } else {
                id
            };
            let item = id
                .parse::<u64>()
                .ok()
                .and_then(|i| cat.items.get(&i))
                .ok_or_else(|| format!("El ítem {id} no existe"))?;
            let price = l.get("price").and_then(num_of).unwrap_or_else(|| {
                item.get("price")
                    .and_then(|p| p.get(0))
                    .and_then(|p| p.get("price"))
                    .and_then(num_of)
                    .unwrap_or(0.0)
            });
            let quantity = l
                .get("quantity")
                .and_then(num_of)
                .ok_or("La cantidad es obligatoria")?;
            let discount = l.get("discount").and_then(num_of).unwrap_or(0.0);
            let tax = match l.get("tax") {
                Some(t) => Value::Array(cat.taxes_of(t)?),
                None => item.get("tax").cloned().unwrap_or(json!([])),
            };
            let rate: f64 = tax
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|t| t.get("percentage").and_then(num_of))
                        .sum()
                })
                .unwrap_or(0.0);
            let net = price * quantity * (1.0 - discount / 100.0);
            let name = l
                .get("name")
                .map(|n| s(Some(n)).to_string())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| s(item.get("name")).to_string());
            out.push(json!({
                "id": id, "name": name, "description": s(item.get("description")),
                "reference": s(item.get("reference")), "price": price, "discount": discount,
                "quantity": quantity, "tax": tax,
                "total": ((net * (1.0 + rate / 100.0)) * 100.0).round() / 100.0,
            }));
        }
        rec.insert("items".into(), Value::Array(out));
    }
    let total: f64 = rec
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|i| i.get("total").and_then(num_of))
                .sum()
        })
        .unwrap_or(0.0);
    rec.insert("total".into(), json!((total * 100.0).round() / 100.0));
    if rec.get("client").is_none_or(Value::is_null) {
        return Err("El cliente es obligatorio".into());
    }
    Ok(rec)
}

/// Which catalog table a path names.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum Res {
    Items,
    Estimates,
}

fn res_not_found(r: Res) -> Response {
    match r {
        Res::Items => error(StatusCode::NOT_FOUND, "El ítem no existe"),
        Res::Estimates => error(StatusCode::NOT_FOUND, "La cotización no existe"),
    }
}

/// `GET /items`, `/estimates`: `start`/`limit` (cap 30), bare array or `metadata=true`
/// [C], filters `name`, `reference`, `query` (items) and `client_id` (estimates) [C: A5].
async fn cat_list(r: Res, State(app): State<App>, Query(q): Q) -> Response {
    let start: usize = qget(&q, "start")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let limit = qget(&q, "limit")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or(MAX_LIMIT)
        .clamp(1, MAX_LIMIT);
    let nonempty = |k: &str| qget(&q, k).map(str::trim).filter(|v| !v.is_empty());
    let name = nonempty("name").map(str::to_lowercase);
    let reference = nonempty("reference").map(str::to_lowercase);
    let query = nonempty("query").map(str::to_lowercase);
    let client = nonempty("client_id");
    let cat = lock(&app.inner.catalog);
    let table = match r {
        Res::Items => &cat.items,
        Res::Estimates => &cat.estimates,
    };
    let rows: Vec<&Obj> = table
        .values()
        .filter(|o| {
            name.as_ref()
                .is_none_or(|x| s(o.get("name")).to_lowercase().contains(x))
                && reference
                    .as_ref()
                    .is_none_or(|x| s(o.get("reference")).to_lowercase() == *x)
                && query.as_ref().is_none_or(|x| {
                    [s(o.get("name")), s(o.get("reference"))]
                        .iter()
                        .any(|f| f.to_lowercase().contains(x))
                })
                && client.is_none_or(|c| {
                    o.get("client")
                        .and_then(|cl| cl.get("id"))
                        .and_then(Value::as_str)
                        == Some(c)
                })
        })
        .collect();
    let total = rows.len();
    let page: Vec<Value> = rows
        .into_iter()
        .skip(start)
        .take(limit)
        .map(|o| Value::Object(o.clone()))
        .collect();
    drop(cat);
    if qget(&q, "metadata").is_some_and(|m| m.eq_ignore_ascii_case("true") || m == "1") {
        json(
            StatusCode::OK,
            json!({"metadata": {"total": total}, "data": page}),
        )
    } else {
        json(StatusCode::OK, Value::Array(page))
    }
}

async fn cat_detail(r: Res, State(app): State<App>, Path(id): Path<String>) -> Response {
    let cat = lock(&app.inner.catalog);
    let table = if r == Res::Items {
        &cat.items
    } else {
        &cat.estimates
    };
    match id_of(&id).and_then(|i| table.get(&i)) {
        Some(o) => json(StatusCode::OK, Value::Object(o.clone())),
        None => res_not_found(r),
    }
}

/// POST → 201 + object [C: A5 test]; ids are sequential strings [D: A4].
async fn cat_create(r: Res, State(app): State<App>, body: Bytes) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let contacts = lock(&app.inner.data);
    let mut cat = lock(&app.inner.catalog);
    let made = match r {
        Res::Items => write_item(&cat, None, &body),
        Res::Estimates => write_estimate(&cat, &contacts, None, &body),
    };
    let mut rec = match made {
        Ok(x) => x,
        Err(m) => return bad(m),
    };
    let id = match r {
        Res::Items => {
            cat.next_item += 1;
            cat.next_item - 1
        }
        Res::Estimates => {
            cat.next_estimate += 1;
            cat.next_estimate - 1
        }
    };
    rec.insert("id".into(), json!(id.to_string()));
    if r == Res::Estimates {
        rec.insert("number".into(), json!(id.to_string()));
        cat.estimates.insert(id, rec.clone());
    } else {
        cat.items.insert(id, rec.clone());
        // ALG-11: items are subscribable (§2.4); estimates have no event.
        notify(&app, &contacts, "new-item", &rec);
    }
    json(StatusCode::CREATED, Value::Object(rec))
}

/// PUT: partial merge, like contacts [I].
async fn cat_update(
    r: Res,
    State(app): State<App>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match parse_json(&body) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let contacts = lock(&app.inner.data);
    let mut cat = lock(&app.inner.catalog);
    let Some(id) = id_of(&id) else {
        return res_not_found(r);
    };
    let old = match r {
        Res::Items => cat.items.get(&id),
        Res::Estimates => cat.estimates.get(&id),
    };
    let Some(old) = old.cloned() else {
        return res_not_found(r);
    };
    let made = match r {
        Res::Items => write_item(&cat, Some(&old), &body),
        Res::Estimates => write_estimate(&cat, &contacts, Some(&old), &body),
    };
    match made {
        Ok(rec) => {
            match r {
                Res::Items => {
                    cat.items.insert(id, rec.clone());
                    notify(&app, &contacts, "edit-item", &rec);
                }
                Res::Estimates => {
                    cat.estimates.insert(id, rec.clone());
                }
            }
            json(StatusCode::OK, Value::Object(rec))
        }
        Err(m) => bad(m),
    }
}

/// `GET /taxes`: bare array (the `{total, results}` form seen in A5 is not modelled).
async fn taxes(State(app): State<App>) -> Response {
    let cat = lock(&app.inner.catalog);
    json(
        StatusCode::OK,
        Value::Array(cat.taxes.iter().cloned().map(Value::Object).collect()),
    )
}

/// Seeds one item (ids kept when given).
fn seed_item(cat: &mut Catalog, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err("alegra seed item: not an object".into());
    };
    let mut rec = write_item(cat, None, &body).map_err(|e| format!("alegra seed item: {e}"))?;
    let id = s(body.get("id")).parse().unwrap_or(cat.next_item);
    cat.next_item = cat.next_item.max(id + 1);
    rec.insert("id".into(), json!(id.to_string()));
    cat.items.insert(id, rec);
    Ok(())
}
