//! Clientify v1 sandbox: a Django REST Framework style API under `/v1`.
//!
//! Facts modelled come from `shared/spec/vendor-apis/clientify-alegra.md`
//! §1 and §3; each handler cites its section and the page's confidence tag
//! ([D] vendor docs, [C] client code, [I] inferred).

// Responses as `Err` values are the axum idiom; they are built once per request.
#![allow(clippy::result_large_err)]

use std::collections::{HashMap, VecDeque};
use std::io;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Map, Value};

use crate::kit::clock::{fmt_micros, parse_iso};
use crate::kit::http::{icontains, json, qget, quote_plus, s};
use crate::kit::{lock, Common};
use crate::SandboxConfig;

type Obj = Map<String, Value>;
type Q = Query<Vec<(String, String)>>;

/// First id handed to a contact / company in an empty table.
pub(crate) const FIRST_CONTACT_ID: u64 = 1001;
pub(crate) const FIRST_COMPANY_ID: u64 = 101;
/// First id handed to a product / order in an empty table.
pub(crate) const FIRST_PRODUCT_ID: u64 = 501;
pub(crate) const FIRST_ORDER_ID: u64 = 9001;
pub(crate) const FIRST_BUDGET_ID: u64 = 7001;
/// Owner written on records created through the API.
pub(crate) const OWNER: &str = "comercial@puente.local";

/// Contact status slugs [C: C4].
pub(crate) const STATUSES: [&str; 10] = [
    "visitor",
    "not-qualified-lead",
    "cold-lead",
    "warm-lead",
    "hot-lead",
    "lost-lead",
    "in-deal",
    "client",
    "lost-client",
    "other",
];

const DEFAULT_PAGE_SIZE: usize = 50;
const MAX_PAGE_SIZE: usize = 250;
const THROTTLE_WINDOW_SECS: i64 = 60;
const FIELD_TYPES: [&str; 12] = [
    "text",
    "textarea",
    "number",
    "decimal",
    "date",
    "datetime",
    "boolean",
    "select",
    "multiselect",
    "url",
    "email",
    "phone",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Contact = 0,
    Company = 1,
    /// `/v1/products/` [C: C7]: `sku`, `name`, `description`, `price`.
    Product = 2,
    /// `/v1/orders/` [C: C1 GET/POST]; payload not documented, modelled on ODO-4/ODO-5 [I].
    Order = 3,
    /// `/v1/budgets/`: no endpoint was found (§1.3); modelled DRF-style for ALG-8 [I]:
    /// `code`, `contact` / `company` (id on write, nested `{id, name,
    /// taxpayer_identification_number}` on read), `date`, `due_date`, `observations`,
    /// `total`, `lines: [{product, sku, name, quantity, price, discount, taxes}]`.
    Budget = 4,
}

impl Kind {
    fn from_segment(s: &str) -> Option<Kind> {
        match s {
            "contacts" => Some(Kind::Contact),
            "companies" => Some(Kind::Company),
            "products" => Some(Kind::Product),
            "orders" => Some(Kind::Order),
            "budgets" => Some(Kind::Budget),
            _ => None,
        }
    }
    fn segment(self) -> &'static str {
        match self {
            Kind::Contact => "contacts",
            Kind::Company => "companies",
            Kind::Product => "products",
            Kind::Order => "orders",
            Kind::Budget => "budgets",
        }
    }
    fn object_type(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
            Kind::Product => "product",
            Kind::Order => "order",
            Kind::Budget => "budget",
        }
    }
    fn from_object_type(s: &str) -> Option<Kind> {
        match s {
            "contact" => Some(Kind::Contact),
            "company" => Some(Kind::Company),
            _ => None,
        }
    }
}

struct FieldDef {
    id: u64,
    name: String,
    kind: Kind,
    field_type: String,
}

impl FieldDef {
    fn to_json(&self) -> Value {
        json!({"id": self.id, "name": self.name, "object_type": self.kind.object_type(),
               "field_type": self.field_type})
    }
}

struct Table {
    rows: std::collections::BTreeMap<u64, Obj>,
    next_id: u64,
    /// Tag name → tag id (tags are per object type, `/contacts/tags/`).
    tags: std::collections::BTreeMap<String, u64>,
}

struct Data {
    tables: [Table; 5],
    /// Ids of emails, phones and addresses.
    next_sub: u64,
    next_tag: u64,
    defs: Vec<FieldDef>,
    next_def: u64,
}

impl Data {
    fn new() -> Data {
        let t = |next_id| Table {
            rows: Default::default(),
            next_id,
            tags: Default::default(),
        };
        Data {
            tables: [
                t(FIRST_CONTACT_ID),
                t(FIRST_COMPANY_ID),
                t(FIRST_PRODUCT_ID),
                t(FIRST_ORDER_ID),
                t(FIRST_BUDGET_ID),
            ],
            next_sub: 1,
            next_tag: 1,
            defs: Vec::new(),
            next_def: 1,
        }
    }
    fn table(&mut self, k: Kind) -> &mut Table {
        &mut self.tables[k as usize]
    }
    fn define(&mut self, name: &str, kind: Kind, field_type: &str) -> &FieldDef {
        let id = self.next_def;
        self.next_def += 1;
        self.defs.push(FieldDef {
            id,
            name: name.to_string(),
            kind,
            field_type: field_type.to_string(),
        });
        self.defs.last().expect("just pushed")
    }
    fn defined(&self, name: &str, kind: Kind) -> bool {
        self.defs.iter().any(|d| d.kind == kind && d.name == name)
    }
    fn tag_id(&mut self, kind: Kind, name: &str) -> u64 {
        if let Some(id) = self.tables[kind as usize].tags.get(name) {
            return *id;
        }
        let id = self.next_tag;
        self.next_tag += 1;
        self.table(kind).tags.insert(name.to_string(), id);
        id
    }
}

struct Inner {
    token: String,
    limit: u32,
    data: Mutex<Data>,
    /// DRF `SimpleRateThrottle` history per token.
    throttle: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

#[derive(Clone)]
struct App {
    common: Arc<Common>,
    inner: Arc<Inner>,
}

/// Builds the Clientify router seeded with `contacts` and `companies`.
/// Custom fields used by the seeds are defined (text) alongside the
/// standard `source_campaign` contact field.
pub(crate) fn router(
    common: Arc<Common>,
    cfg: &SandboxConfig,
    seed_data: crate::ClientifySeed,
) -> io::Result<Router> {
    let mut data = Data::new();
    data.define("source_campaign", Kind::Contact, "text");
    let crate::ClientifySeed {
        contacts,
        companies,
        products,
        orders,
    } = seed_data;
    for (kind, list) in [
        (Kind::Contact, contacts),
        (Kind::Company, companies),
        (Kind::Product, products),
        (Kind::Order, orders),
    ] {
        for v in list {
            seed(&mut data, &common, kind, v)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        }
    }
    let app = App {
        common,
        inner: Arc::new(Inner {
            token: cfg.clientify_token.clone(),
            limit: cfg.clientify_rate_limit,
            data: Mutex::new(data),
            throttle: Mutex::new(HashMap::new()),
        }),
    };

    let mut r = Router::new();
    let routes: Vec<(&str, MethodRouter<App>)> = vec![
        ("/v1/custom-fields", get(list_defs).post(create_def)),
        ("/v1/custom-fields/{id}", get(get_def)),
        ("/v1/{kind}", get(list).post(create)),
        ("/v1/{kind}/{id}", get(detail).put(update).delete(destroy)),
        ("/v1/{kind}/{id}/tags", get(list_tags).post(add_tag)),
        (
            "/v1/{kind}/{id}/tags/{tag}",
            axum::routing::delete(remove_tag),
        ),
    ];
    for (path, mr) in routes {
        // DRF paths end in '/'; some clients omit it [C: C6] → accept both [I].
        r = r.route(path, mr.clone()).route(&format!("{path}/"), mr);
    }
    Ok(r.method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn_with_state(app.clone(), guard))
        .fallback(django_not_found)
        .with_state(app))
}

/// Normalises one seed record into the store (ids and timestamps kept when
/// given, otherwise assigned).
fn seed(data: &mut Data, common: &Common, kind: Kind, v: Value) -> Result<(), String> {
    let Value::Object(body) = v else {
        return Err(format!("clientify seed {}: not an object", kind.segment()));
    };
    if let Some(Value::Array(cfs)) = body.get("custom_fields") {
        for cf in cfs {
            let name = s(cf.get("field"));
            if !name.is_empty() && !data.defined(name, kind) {
                data.define(name, kind, "text");
            }
        }
    }
    let mut rec = write_record(data, kind, None, &body, true)
        .map_err(|e| format!("clientify seed {}: {}", kind.segment(), Value::Object(e)))?;
    let table = data.table(kind);
    let id = body
        .get("id")
        .and_then(Value::as_u64)
        .unwrap_or(table.next_id);
    table.next_id = table.next_id.max(id + 1);
    let created = body
        .get("created")
        .and_then(Value::as_str)
        .and_then(parse_iso)
        .unwrap_or_else(|| common.stamp());
    let modified = body
        .get("modified")
        .and_then(Value::as_str)
        .and_then(parse_iso)
        .unwrap_or(created);
    common.observe(created.max(modified));
    rec.insert("id".into(), json!(id));
    rec.insert("created".into(), json!(fmt_micros(created)));
    rec.insert("modified".into(), json!(fmt_micros(modified)));
    table.rows.insert(id, rec);
    Ok(())
}

// ---------------------------------------------------------------- helpers

fn detail_resp(status: StatusCode, msg: &str) -> Response {
    json(status, json!({ "detail": msg }))
}

fn not_found() -> Response {
    detail_resp(StatusCode::NOT_FOUND, "Not found.")
}

fn bad_request(errs: Obj) -> Response {
    json(StatusCode::BAD_REQUEST, Value::Object(errs))
}

fn field_err(errs: &mut Obj, field: &str, msg: impl Into<String>) {
    let e = errs.entry(field.to_string()).or_insert_with(|| json!([]));
    if let Value::Array(a) = e {
        a.push(Value::String(msg.into()));
    }
}

/// Python type name, for DRF messages.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// DRF `CharField`: strings (whitespace trimmed) and numbers are accepted;
/// null is taken as blank (Clientify fields are optional) [I].
fn char_value(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Null => Ok(String::new()),
        _ => Err("Not a valid string.".into()),
    }
}

/// Django `EmailValidator`, simplified.
pub(crate) fn valid_email(e: &str) -> bool {
    let mut parts = e.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !local.is_empty()
        && !e.contains(char::is_whitespace)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

fn list_type_err(v: &Value) -> String {
    if v.is_null() {
        "This field may not be null.".into()
    } else {
        format!("Expected a list of items but got type \"{}\".", py_type(v))
    }
}

fn abs_base(headers: &HeaderMap, common: &Common) -> String {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| format!("http://{h}"))
        .unwrap_or_else(|| common.root_url.clone())
}

fn obj_id(o: &Obj) -> u64 {
    o.get("id").and_then(Value::as_u64).unwrap_or(0)
}

fn ts(o: &Obj, key: &str) -> DateTime<Utc> {
    parse_iso(s(o.get(key))).unwrap_or_default()
}

/// The record as served: with its absolute `url` [C: §1.3].
fn render(rec: &Obj, kind: Kind, base: &str) -> Obj {
    let mut o = rec.clone();
    o.insert(
        "url".into(),
        json!(format!("{base}/v1/{}/{}/", kind.segment(), obj_id(rec))),
    );
    o
}

/// `fields=a,b` sparse field selection [C: C3, C12].
fn sparse(o: Obj, q: &[(String, String)]) -> Value {
    match qget(q, "fields").filter(|f| !f.trim().is_empty()) {
        None => Value::Object(o),
        Some(f) => {
            let keep: Vec<&str> = f.split(',').map(str::trim).collect();
            Value::Object(
                o.into_iter()
                    .filter(|(k, _)| keep.contains(&k.as_str()))
                    .collect(),
            )
        }
    }
}

/// Reads a JSON object body the way DRF's `JSONParser` does.
fn parse_body(headers: &HeaderMap, body: &Bytes) -> Result<Obj, Response> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Obj::new());
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().contains("json") {
        return Err(detail_resp(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{ct}\" in request."),
        ));
    }
    match serde_json::from_slice::<Value>(body) {
        Err(e) => Err(detail_resp(
            StatusCode::BAD_REQUEST,
            &format!("JSON parse error - {e}"),
        )),
        Ok(Value::Object(o)) => Ok(o),
        Ok(other) => Err(json(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.", py_type(&other))]}),
        )),
    }
}

// ------------------------------------------------------------ middleware

/// Token auth then optional throttling, on every matched route.
///
/// Models §1.1: `Authorization: Token <key>` [C: all clients]; DRF 401
/// bodies `{"detail":…}` with `WWW-Authenticate: Token` [I: DRF defaults];
/// rate limit undocumented [C: C6, C9] → off by default, when on DRF's
/// `SimpleRateThrottle`: 429 `{"detail":"Request was throttled. Expected
/// available in N seconds."}` + `Retry-After: N` [I: §3 knob].
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let unauthorized = |msg: &str| {
        let mut r = detail_resp(StatusCode::UNAUTHORIZED, msg);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        r
    };
    let hdr = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .unwrap_or_default();
    let parts: Vec<&str> = hdr.split_whitespace().collect();
    if parts.is_empty() || !parts[0].eq_ignore_ascii_case("token") {
        return unauthorized("Authentication credentials were not provided.");
    }
    if parts.len() == 1 {
        return unauthorized("Invalid token header. No credentials provided.");
    }
    if parts.len() > 2 {
        return unauthorized("Invalid token header. Token string should not contain spaces.");
    }
    if parts[1] != app.inner.token {
        return unauthorized("Invalid token.");
    }
    if app.inner.limit > 0 {
        let now = app.common.now();
        let window = TimeDelta::seconds(THROTTLE_WINDOW_SECS);
        let mut t = lock(&app.inner.throttle);
        let hist = t.entry(parts[1].to_string()).or_default();
        while hist.front().is_some_and(|&x| x <= now - window) {
            hist.pop_front();
        }
        if hist.len() >= app.inner.limit as usize {
            let oldest = *hist.front().expect("non-empty when over the limit");
            let left = window - (now - oldest);
            let wait = ((left.num_microseconds().unwrap_or(0) + 999_999) / 1_000_000).max(1);
            drop(t);
            let unit = if wait == 1 { "second" } else { "seconds" };
            let mut r = detail_resp(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Request was throttled. Expected available in {wait} {unit}."),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            return r;
        }
        hist.push_back(now);
    }
    next.run(req).await
}

/// Unknown URL: Django's own HTML 404 page (not DRF JSON) [I: §1.1 "It is
/// DRF"; URL resolution happens before the API view].
async fn django_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Not Found</title>\n</head>\n<body>\n  <h1>Not Found</h1><p>The requested resource was not found on this server.</p>\n</body>\n</html>\n",
    )
        .into_response()
}

/// DRF 405 body; PATCH is not modelled since no client uses it (§1.5
/// "PATCH never used") [I].
async fn method_not_allowed(method: Method) -> Response {
    detail_resp(
        StatusCode::METHOD_NOT_ALLOWED,
        &format!("Method \"{method}\" not allowed."),
    )
}

// ------------------------------------------------------------- paging

struct PageInfo {
    count: usize,
    range: Range<usize>,
    next: Value,
    previous: Value,
}

/// DRF `PageNumberPagination` [C: §1.2 envelope, C6 404 "Invalid page."]:
/// `page` 1-based (or `last`), `page_size` default 50 / max 250 [I],
/// invalid `page_size` → default (DRF `_positive_int`); `next`/`previous`
/// are absolute and keep the other params (sorted, as DRF re-encodes them).
fn paginate(count: usize, q: &[(String, String)], page_url: &str) -> Result<PageInfo, Response> {
    let size = qget(q, "page_size")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map_or(DEFAULT_PAGE_SIZE, |n| n.min(MAX_PAGE_SIZE));
    let pages = count.div_ceil(size).max(1);
    let raw = qget(q, "page").unwrap_or("1");
    let page = if raw == "last" {
        pages
    } else {
        match raw.trim().parse::<i64>() {
            Ok(p) if p >= 1 && (p as usize) <= pages => p as usize,
            _ => return Err(detail_resp(StatusCode::NOT_FOUND, "Invalid page.")),
        }
    };
    // DRF `replace_query_param` / `remove_query_param`: parse_qs, set or
    // drop `page`, `urlencode(sorted(items), doseq=True)`.
    let link = |p: Option<usize>| -> String {
        let page_str = p.map(|p| p.to_string());
        let mut keys: Vec<&str> = q
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| *k != "page")
            .collect();
        if page_str.is_some() {
            keys.push("page");
        }
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for k in keys {
            if k == "page" {
                if let Some(ps) = &page_str {
                    out.push(format!("page={ps}"));
                }
                continue;
            }
            for (_, v) in q.iter().filter(|(kk, _)| kk == k) {
                out.push(format!("{}={}", quote_plus(k), quote_plus(v)));
            }
        }
        if out.is_empty() {
            page_url.to_string()
        } else {
            format!("{page_url}?{}", out.join("&"))
        }
    };
    let next = if page < pages {
        json!(link(Some(page + 1)))
    } else {
        Value::Null
    };
    let previous = match page {
        1 => Value::Null,
        2 => json!(link(None)),
        p => json!(link(Some(p - 1))),
    };
    let start = (page - 1) * size;
    Ok(PageInfo {
        count,
        range: start..(start + size).min(count),
        next,
        previous,
    })
}

fn envelope(p: &PageInfo, results: Vec<Value>) -> Response {
    json(
        StatusCode::OK,
        json!({"count": p.count, "next": p.next, "previous": p.previous, "results": results}),
    )
}

// ------------------------------------------------------------- filters

struct Filters {
    exact: Vec<(String, String)>,
    query: Option<String>,
    /// (field, lower bound?, instant)
    dates: Vec<(&'static str, bool, DateTime<Utc>)>,
}

fn parse_filters(kind: Kind, q: &[(String, String)]) -> Result<Filters, Obj> {
    let exact_keys: &[&str] = match kind {
        Kind::Contact => &[
            "email",
            "phone",
            "first_name",
            "taxpayer_identification_number",
        ],
        Kind::Company => &["name", "taxpayer_identification_number"],
        Kind::Product => &["sku", "name"],
        Kind::Order => &["order_id", "ecommerce", "status"],
        Kind::Budget => &["code"],
    };
    let mut f = Filters {
        exact: Vec::new(),
        query: None,
        dates: Vec::new(),
    };
    // django-filter ignores empty values and unknown params.
    for key in exact_keys {
        if let Some(v) = qget(q, key).filter(|v| !v.is_empty()) {
            f.exact.push((key.to_string(), v.to_string()));
        }
    }
    f.query = qget(q, "query")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_lowercase);
    let mut errs = Obj::new();
    for (param, field, lower) in [
        ("created[gte]", "created", true),
        ("created[lte]", "created", false),
        ("modified[gte]", "modified", true),
        ("modified[lte]", "modified", false),
    ] {
        if let Some(v) = qget(q, param).filter(|v| !v.is_empty()) {
            match parse_iso(v) {
                Some(t) => f.dates.push((field, lower, t)),
                None => field_err(&mut errs, param, "Enter a valid date/time."),
            }
        }
    }
    if errs.is_empty() {
        Ok(f)
    } else {
        Err(errs)
    }
}

fn sub_values<'a>(o: &'a Obj, list: &str, key: &'a str) -> impl Iterator<Item = &'a str> {
    o.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(move |x| s(x.get(key)))
}

fn matches(o: &Obj, kind: Kind, f: &Filters) -> bool {
    for (k, v) in &f.exact {
        let ok = match k.as_str() {
            "email" => sub_values(o, "emails", "email").any(|e| e == v),
            "phone" => sub_values(o, "phones", "phone").any(|p| p == v),
            other => s(o.get(other)) == v,
        };
        if !ok {
            return false;
        }
    }
    if let Some(qs) = &f.query {
        let hit = |x: &str| icontains(x, qs);
        let tax = s(o.get("taxpayer_identification_number"));
        let ok = match kind {
            Kind::Contact => {
                let (fnm, lnm) = (s(o.get("first_name")), s(o.get("last_name")));
                hit(fnm) || hit(lnm) || hit(&format!("{fnm} {lnm}")) || hit(tax)
            }
            Kind::Company => hit(s(o.get("name"))) || hit(s(o.get("business_name"))) || hit(tax),
            Kind::Product => hit(s(o.get("name"))) || hit(s(o.get("sku"))),
            Kind::Order => hit(s(o.get("order_id"))),
            Kind::Budget => hit(s(o.get("code"))),
        } || sub_values(o, "emails", "email").any(hit);
        if !ok {
            return false;
        }
    }
    for (field, lower, t) in &f.dates {
        let v = ts(o, field);
        if (*lower && v < *t) || (!*lower && v > *t) {
            return false;
        }
    }
    true
}

/// DRF `OrderingFilter` on `id`, `created`, `modified` (optionally `-`),
/// comma lists; invalid terms are dropped; default `id` [C/I: §1.2].
fn order(rows: &mut [&Obj], q: &[(String, String)]) {
    let terms: Vec<(&str, bool)> = qget(q, "ordering")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter_map(|t| {
            let (desc, f) = t.strip_prefix('-').map_or((false, t), |f| (true, f));
            ["id", "created", "modified"]
                .contains(&f)
                .then_some((f, desc))
        })
        .collect();
    // One key per row (timestamps parsed once), then the id as the final tie-breaker.
    rows.sort_by_cached_key(|o| {
        let id = obj_id(o) as i128;
        let mut key: Vec<i128> = terms
            .iter()
            .map(|(f, desc)| {
                let v = match *f {
                    "created" => ts(o, "created").timestamp_micros() as i128,
                    "modified" => ts(o, "modified").timestamp_micros() as i128,
                    _ => id,
                };
                if *desc {
                    -v
                } else {
                    v
                }
            })
            .collect();
        key.push(id);
        key
    });
}

// ------------------------------------------------------------- writes

#[derive(Clone, Copy)]
enum Sub {
    Email,
    Phone,
    Address,
}

fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Writes a replacement list of emails / phones / addresses. Items keep
/// their `id` when it names an existing item (seeds keep any id), others
/// get a fresh one [C: §3 "sub-resources with their own ids"].
fn write_sublist(
    sub: Sub,
    v: &Value,
    old: &[Value],
    next_sub: &mut u64,
    seed: bool,
) -> Result<Vec<Value>, Value> {
    let Value::Array(items) = v else {
        return Err(json!([list_type_err(v)]));
    };
    let mut out = Vec::new();
    let mut item_errs = Vec::new();
    let mut failed = false;
    for it in items {
        let Some(o) = it.as_object() else {
            failed = true;
            item_errs.push(json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.", py_type(it))]}));
            continue;
        };
        let mut e = Obj::new();
        let mut item = Obj::new();
        let given = o.get("id").and_then(Value::as_u64);
        let id = match given {
            Some(i) if seed => {
                *next_sub = (*next_sub).max(i + 1);
                i
            }
            Some(i)
                if old
                    .iter()
                    .any(|x| x.get("id").and_then(Value::as_u64) == Some(i)) =>
            {
                i
            }
            _ => {
                let i = *next_sub;
                *next_sub += 1;
                i
            }
        };
        item.insert("id".into(), json!(id));
        // Phone types 1..6, address types 1..5 [C: C4]; email type meaning unknown.
        let max_type = match sub {
            Sub::Email => i64::MAX,
            Sub::Phone => 6,
            Sub::Address => 5,
        };
        match o.get("type") {
            None | Some(Value::Null) => {
                item.insert("type".into(), json!(1));
            }
            Some(t) => match int_value(t) {
                Some(n) if (1..=max_type).contains(&n) => {
                    item.insert("type".into(), json!(n));
                }
                Some(_) if max_type != i64::MAX => field_err(
                    &mut e,
                    "type",
                    format!("\"{}\" is not a valid choice.", display(t)),
                ),
                _ => field_err(&mut e, "type", "A valid integer is required."),
            },
        }
        let required = match sub {
            Sub::Email => Some("email"),
            Sub::Phone => Some("phone"),
            Sub::Address => None,
        };
        if let Some(key) = required {
            match o.get(key).map(char_value) {
                None => field_err(&mut e, key, "This field is required."),
                Some(Err(m)) => field_err(&mut e, key, m),
                Some(Ok(x)) if x.is_empty() => {
                    field_err(&mut e, key, "This field may not be blank.")
                }
                Some(Ok(x)) if key == "email" && !valid_email(&x) => {
                    field_err(&mut e, key, "Enter a valid email address.")
                }
                Some(Ok(x)) => {
                    item.insert(key.into(), json!(x));
                }
            }
        } else {
            for key in ["street", "city", "state", "country", "postal_code"] {
                match o.get(key).map(char_value).unwrap_or(Ok(String::new())) {
                    Ok(x) => {
                        item.insert(key.into(), json!(x));
                    }
                    Err(m) => field_err(&mut e, key, m),
                }
            }
        }
        failed |= !e.is_empty();
        item_errs.push(Value::Object(e));
        out.push(Value::Object(item));
    }
    if failed {
        Err(Value::Array(item_errs))
    } else {
        Ok(out)
    }
}

/// Flat `email` / `phone` on a write: becomes item 0 (type 1) unless the
/// list already has it [C: C1, C5, C8, C11].
fn prepend_unique(rec: &mut Obj, list: &str, key: &str, value: String, next_sub: &mut u64) {
    let arr = rec
        .entry(list.to_string())
        .or_insert_with(|| json!([]))
        .as_array_mut();
    if let Some(arr) = arr {
        if !arr.iter().any(|x| s(x.get(key)) == value) {
            arr.insert(0, json!({"id": *next_sub, "type": 1, key: value}));
            *next_sub += 1;
        }
    }
}

fn blank(kind: Kind) -> Obj {
    let v = match kind {
        Kind::Contact => json!({
            "first_name": "", "last_name": "", "status": "cold-lead", "contact_type": "",
            "emails": [], "phones": [], "addresses": [], "tags": [], "custom_fields": [],
            "taxpayer_identification_number": "", "company_name": "", "owner": OWNER,
        }),
        Kind::Company => json!({
            "name": "", "business_name": "", "taxpayer_identification_number": "",
            "emails": [], "phones": [], "addresses": [], "tags": [], "custom_fields": [],
        }),
        Kind::Product => json!({
            "sku": "", "name": "", "description": "", "price": "0.00", "owner": OWNER,
            "taxes": [],
        }),
        Kind::Budget => json!({
            "code": "", "contact": null, "company": null, "date": null, "due_date": null,
            "observations": "", "total": "0.00", "lines": [],
        }),
        Kind::Order => json!({
            "order_id": "", "ecommerce": "", "status": "", "order_date": null,
            "currency": "", "items": [], "contact": null,
        }),
    };
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Validates `body` and applies it over `existing` (PUT, partial) or a blank
/// record (POST). Read-only (`id`, `url`, `created`, `modified`) and unknown
/// keys are ignored, as DRF serializers do. Returns DRF field errors.
fn write_record(
    data: &mut Data,
    kind: Kind,
    existing: Option<&Obj>,
    body: &Obj,
    seed: bool,
) -> Result<Obj, Obj> {
    let creating = existing.is_none();
    if matches!(kind, Kind::Product | Kind::Order) {
        return write_catalog(kind, existing, body, seed);
    }
    if kind == Kind::Budget {
        return write_budget(data, existing, body);
    }
    let mut rec = existing.cloned().unwrap_or_else(|| blank(kind));
    let mut errs = Obj::new();

    let str_fields: &[&str] = match kind {
        Kind::Contact => &[
            "first_name",
            "last_name",
            "contact_type",
            "taxpayer_identification_number",
            "company_name",
            "owner",
        ],
        _ => &["name", "business_name", "taxpayer_identification_number"],
    };
    for f in str_fields {
        if let Some(v) = body.get(*f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.to_string(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    if kind == Kind::Contact {
        if let Some(v) = body.get("status") {
            match v.as_str() {
                Some(st) if STATUSES.contains(&st) => {
                    rec.insert("status".into(), json!(st));
                }
                _ => field_err(
                    &mut errs,
                    "status",
                    format!("\"{}\" is not a valid choice.", display(v)),
                ),
            }
        }
    } else if !seed {
        let name_blank = s(rec.get("name")).is_empty();
        if creating && !body.contains_key("name") {
            field_err(&mut errs, "name", "This field is required.");
        } else if body.contains_key("name") && name_blank && !errs.contains_key("name") {
            field_err(&mut errs, "name", "This field may not be blank.");
        }
    }

    for (key, sub) in [
        ("emails", Sub::Email),
        ("phones", Sub::Phone),
        ("addresses", Sub::Address),
    ] {
        if let Some(v) = body.get(key) {
            let old = rec
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match write_sublist(sub, v, &old, &mut data.next_sub, seed) {
                Ok(list) => {
                    rec.insert(key.into(), Value::Array(list));
                }
                Err(e) => {
                    errs.insert(key.into(), e);
                }
            }
        }
    }
    for (flat, list) in [("email", "emails"), ("phone", "phones")] {
        if let Some(v) = body.get(flat) {
            match char_value(v) {
                Ok(x) if x.is_empty() => {}
                Ok(x) if flat == "email" && !valid_email(&x) => {
                    field_err(&mut errs, flat, "Enter a valid email address.")
                }
                Ok(x) => prepend_unique(&mut rec, list, flat, x, &mut data.next_sub),
                Err(m) => field_err(&mut errs, flat, m),
            }
        }
    }

    if let Some(v) = body.get("tags") {
        match v {
            Value::Array(items) => {
                let mut tags: Vec<String> = Vec::new();
                for it in items {
                    match char_value(it) {
                        Ok(t) if t.is_empty() => {
                            field_err(&mut errs, "tags", "This field may not be blank.")
                        }
                        Ok(t) => {
                            if !tags.contains(&t) {
                                tags.push(t);
                            }
                        }
                        Err(m) => field_err(&mut errs, "tags", m),
                    }
                }
                rec.insert("tags".into(), json!(tags));
            }
            other => field_err(&mut errs, "tags", list_type_err(other)),
        }
    }

    // Custom fields by name, merged: entries not mentioned are kept; an
    // empty value removes the entry (a client writes "--" because empty
    // values are rejected or dropped [C: C5 b17b052]) [I].
    if let Some(v) = body.get("custom_fields") {
        match v {
            Value::Array(items) => {
                let mut cur: Vec<(String, String)> = rec
                    .get("custom_fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|x| (s(x.get("field")).to_string(), display_value(x.get("value"))))
                    .collect();
                let mut bad = false;
                for it in items {
                    let Some(o) = it.as_object() else {
                        bad = true;
                        field_err(
                            &mut errs,
                            "custom_fields",
                            format!(
                                "Invalid data. Expected a dictionary, but got {}.",
                                py_type(it)
                            ),
                        );
                        continue;
                    };
                    let name = s(o.get("field")).trim().to_string();
                    if !data.defined(&name, kind) {
                        bad = true;
                        field_err(
                            &mut errs,
                            "custom_fields",
                            format!("Custom field \"{name}\" does not exist."),
                        );
                        continue;
                    }
                    let value = display_value(o.get("value"));
                    cur.retain(|(n, _)| *n != name);
                    if !value.trim().is_empty() {
                        cur.push((name, value));
                    }
                }
                if !bad {
                    let list: Vec<Value> = cur
                        .into_iter()
                        .map(|(f, v)| json!({"field": f, "value": v}))
                        .collect();
                    rec.insert("custom_fields".into(), Value::Array(list));
                }
            }
            other => field_err(&mut errs, "custom_fields", list_type_err(other)),
        }
    }

    if kind == Kind::Contact && creating && !seed && !errs.contains_key("first_name") {
        let has_email = rec
            .get("emails")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if s(rec.get("first_name")).is_empty() && s(rec.get("last_name")).is_empty() && !has_email {
            field_err(&mut errs, "first_name", "This field is required.");
        }
    }

    if !errs.is_empty() {
        return Err(errs);
    }
    let tags: Vec<String> = rec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    for t in tags {
        data.tag_id(kind, &t);
    }
    Ok(rec)
}

/// DRF `DecimalField(decimal_places=2)`: a number or numeric string, rendered as a string
/// with two decimals [I: DRF default `COERCE_DECIMAL_TO_STRING`].
fn decimal_value(v: &Value) -> Result<String, String> {
    let x = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(t) => t.trim().parse::<f64>().ok(),
        _ => None,
    };
    match x {
        Some(x) if x.is_finite() => Ok(format!("{x:.2}")),
        _ => Err("A valid number is required.".into()),
    }
}

/// Products and orders: flat records (no sub-resources) [C: C7 for products; orders [I]].
/// Product: `sku`, `name` (required on create), `description`, `price` (decimal). Order:
/// `order_id` (required on create), `ecommerce`, `status`, `currency`, `order_date` (ISO
/// datetime), `items` `[{name, sku, price, quantity}]` (replaced as a whole).
fn write_catalog(kind: Kind, existing: Option<&Obj>, body: &Obj, seed: bool) -> Result<Obj, Obj> {
    let creating = existing.is_none();
    let mut rec = existing.cloned().unwrap_or_else(|| blank(kind));
    let mut errs = Obj::new();
    let (strs, required): (&[&str], &str) = match kind {
        Kind::Product => (&["sku", "name", "description", "owner"], "name"),
        _ => (&["order_id", "ecommerce", "status", "currency"], "order_id"),
    };
    for f in strs {
        if let Some(v) = body.get(*f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.to_string(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    if !seed {
        if creating && !body.contains_key(required) {
            field_err(&mut errs, required, "This field is required.");
        } else if body.contains_key(required)
            && s(rec.get(required)).is_empty()
            && !errs.contains_key(required)
        {
            field_err(&mut errs, required, "This field may not be blank.");
        }
    }
    if kind == Kind::Product {
        if let Some(v) = body.get("taxes") {
            match taxes_value(v) {
                Ok(t) => {
                    rec.insert("taxes".into(), t);
                }
                Err(m) => field_err(&mut errs, "taxes", m),
            }
        }
        if let Some(v) = body.get("price") {
            match decimal_value(v) {
                Ok(p) => {
                    rec.insert("price".into(), json!(p));
                }
                Err(m) => field_err(&mut errs, "price", m),
            }
        }
    } else {
        if let Some(v) = body.get("order_date") {
            match v {
                Value::Null => {
                    rec.insert("order_date".into(), Value::Null);
                }
                _ => match v.as_str().and_then(parse_iso) {
                    Some(t) => {
                        rec.insert("order_date".into(), json!(fmt_micros(t)));
                    }
                    None => field_err(
                        &mut errs,
                        "order_date",
                        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                    ),
                },
            }
        }
        if let Some(v) = body.get("items") {
            match v {
                Value::Array(items) => {
                    let mut out = Vec::new();
                    let mut item_errs = Vec::new();
                    let mut bad = false;
                    for it in items {
                        let mut e = Obj::new();
                        let Some(o) = it.as_object() else {
                            bad = true;
                            item_errs.push(json!({"non_field_errors": [format!(
                                "Invalid data. Expected a dictionary, but got {}.", py_type(it))]}));
                            continue;
                        };
                        let mut item = Obj::new();
                        for k in ["name", "sku"] {
                            match o.get(k).map(char_value).unwrap_or(Ok(String::new())) {
                                Ok(x) => {
                                    item.insert(k.into(), json!(x));
                                }
                                Err(m) => field_err(&mut e, k, m),
                            }
                        }
                        for k in ["price", "quantity"] {
                            match o.get(k).map(decimal_value) {
                                None => field_err(&mut e, k, "This field is required."),
                                Some(Ok(x)) => {
                                    item.insert(k.into(), json!(x));
                                }
                                Some(Err(m)) => field_err(&mut e, k, m),
                            }
                        }
                        bad |= !e.is_empty();
                        item_errs.push(Value::Object(e));
                        out.push(Value::Object(item));
                    }
                    if bad {
                        errs.insert("items".into(), Value::Array(item_errs));
                    } else {
                        rec.insert("items".into(), Value::Array(out));
                    }
                }
                other => field_err(&mut errs, "items", list_type_err(other)),
            }
        }
    }
    if errs.is_empty() {
        Ok(rec)
    } else {
        Err(errs)
    }
}

/// `taxes: [{name, percentage}]` (product tax fields are unknown, §4; modelled [I]).
fn taxes_value(v: &Value) -> Result<Value, String> {
    let Value::Array(a) = v else {
        return Err(list_type_err(v));
    };
    let mut out = Vec::new();
    for t in a {
        let p = t
            .get("percentage")
            .ok_or("Each tax needs a percentage.")
            .and_then(|p| decimal_value(p).map_err(|_| "A valid number is required."))?;
        let name = t
            .get("name")
            .map(|n| s(Some(n)).to_string())
            .unwrap_or_default();
        out.push(json!({"name": name, "percentage": p}));
    }
    Ok(Value::Array(out))
}

/// ALG-8 budgets (modelled, see [`Kind::Budget`]): partial writes; `contact`/`company` must
/// exist and are served nested; `lines` replaced as a whole, `product` must exist.
fn write_budget(data: &mut Data, existing: Option<&Obj>, body: &Obj) -> Result<Obj, Obj> {
    let mut rec = existing.cloned().unwrap_or_else(|| blank(Kind::Budget));
    let mut errs = Obj::new();
    for f in ["code", "observations"] {
        if let Some(v) = body.get(f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.into(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    for f in ["date", "due_date"] {
        match body.get(f) {
            None => {}
            Some(Value::Null) => {
                rec.insert(f.into(), Value::Null);
            }
            Some(Value::String(x))
                if chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d").is_ok() || x.is_empty() =>
            {
                let v = if x.is_empty() { Value::Null } else { json!(x) };
                rec.insert(f.into(), v);
            }
            Some(_) => field_err(
                &mut errs,
                f,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            ),
        }
    }
    if let Some(v) = body.get("total") {
        match decimal_value(v) {
            Ok(x) => {
                rec.insert("total".into(), json!(x));
            }
            Err(m) => field_err(&mut errs, "total", m),
        }
    }
    for (f, kind) in [("contact", Kind::Contact), ("company", Kind::Company)] {
        match body.get(f) {
            None => {}
            Some(Value::Null) => {
                rec.insert(f.into(), Value::Null);
            }
            Some(v) => {
                let id = match v {
                    Value::Object(o) => o.get("id").and_then(Value::as_u64),
                    Value::String(x) => x.parse().ok(),
                    other => other.as_u64(),
                };
                match id.and_then(|i| data.table(kind).rows.get(&i)) {
                    Some(o) => {
                        let name = if kind == Kind::Contact {
                            format!("{} {}", s(o.get("first_name")), s(o.get("last_name")))
                                .trim()
                                .to_string()
                        } else {
                            s(o.get("name")).to_string()
                        };
                        rec.insert(
                            f.into(),
                            json!({"id": id, "name": name,
                                "taxpayer_identification_number": s(o.get("taxpayer_identification_number"))}),
                        );
                    }
                    None => field_err(
                        &mut errs,
                        f,
                        format!(
                            "Invalid pk \"{}\" - object does not exist.",
                            display_value(Some(v))
                        ),
                    ),
                }
            }
        }
    }
    if let Some(v) = body.get("lines") {
        match v {
            Value::Array(lines) => {
                let mut out = Vec::new();
                let mut bad = false;
                let mut line_errs = Vec::new();
                for l in lines {
                    let mut e = Obj::new();
                    let pid = l.get("product").and_then(|p| match p {
                        Value::String(x) => x.parse().ok(),
                        other => other.as_u64(),
                    });
                    if pid.is_some_and(|p| !data.table(Kind::Product).rows.contains_key(&p)) {
                        field_err(&mut e, "product", "Invalid pk - object does not exist.");
                    }
                    let mut line = Obj::new();
                    line.insert("product".into(), json!(pid));
                    for k in ["sku", "name"] {
                        line.insert(k.into(), json!(l.get(k).map(|x| s(Some(x))).unwrap_or("")));
                    }
                    for k in ["quantity", "price", "discount"] {
                        match l.get(k).map(decimal_value) {
                            None if k == "discount" => {
                                line.insert(k.into(), json!("0.00"));
                            }
                            None => field_err(&mut e, k, "This field is required."),
                            Some(Ok(x)) => {
                                line.insert(k.into(), json!(x));
                            }
                            Some(Err(m)) => field_err(&mut e, k, m),
                        }
                    }
                    match l.get("taxes").map(taxes_value) {
                        None => {
                            line.insert("taxes".into(), json!([]));
                        }
                        Some(Ok(t)) => {
                            line.insert("taxes".into(), t);
                        }
                        Some(Err(m)) => field_err(&mut e, "taxes", m),
                    }
                    bad |= !e.is_empty();
                    line_errs.push(Value::Object(e));
                    out.push(Value::Object(line));
                }
                if bad {
                    errs.insert("lines".into(), Value::Array(line_errs));
                } else {
                    rec.insert("lines".into(), Value::Array(out));
                }
            }
            other => field_err(&mut errs, "lines", list_type_err(other)),
        }
    }
    if errs.is_empty() {
        Ok(rec)
    } else {
        Err(errs)
    }
}

fn display_value(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

// ------------------------------------------------------------- handlers

fn kind_of(seg: &str) -> Result<Kind, Response> {
    Kind::from_segment(seg).ok_or_else(not_found)
}

fn id_of(raw: &str) -> Result<u64, Response> {
    raw.parse().map_err(|_| not_found())
}

/// `GET /v1/contacts/`, `/v1/companies/`: DRF page envelope with absolute
/// `next` [C: §1.2], 404 "Invalid page." past the end [C: C6 log], filters
/// `email phone first_name taxpayer_identification_number query` (contacts)
/// / `name taxpayer_identification_number query` (companies) [C: C5, C7,
/// C8], `created[gte]` / `modified[gte]` bracket syntax [C: C4, C6, C9],
/// `ordering` [C/I], `fields` [C: C3, C12].
async fn list(
    State(app): State<App>,
    Path(seg): Path<String>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let kind = match kind_of(&seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let filters = match parse_filters(kind, &q) {
        Ok(f) => f,
        Err(e) => return bad_request(e),
    };
    let base = abs_base(&headers, &app.common);
    // Filter and sort references under the lock; only the page is copied and rendered.
    let (p, results) = {
        let mut d = lock(&app.inner.data);
        let mut rows: Vec<&Obj> = d
            .table(kind)
            .rows
            .values()
            .filter(|o| matches(o, kind, &filters))
            .collect();
        order(&mut rows, &q);
        let p = match paginate(rows.len(), &q, &format!("{base}{}", uri.path())) {
            Ok(p) => p,
            Err(r) => return r,
        };
        let results: Vec<Value> = rows[p.range.clone()]
            .iter()
            .map(|o| sparse(render(o, kind, &base), &q))
            .collect();
        (p, results)
    };
    envelope(&p, results)
}

/// ALG-11: after a write through the API, the `{entity}.{what}` webhook (`contact.saved`,
/// `company.saved`, `product.saved`, `budget.saved`, `company.deleted`) to the configured
/// target, in the configured shape, unsigned (§1.4, §3), whoever made the write. Orders have
/// no event. A "saved" is any write that bumps `modified`, sub-resource writes (tags)
/// included.
fn notify(app: &App, kind: Kind, what: &str, rec: &Obj, base: &str) {
    let (target, shape) = lock(&app.common.hook).clone();
    let Some(url) = target else {
        return;
    };
    if kind == Kind::Order {
        return;
    }
    let entity = kind.object_type();
    let event = format!("{entity}.{what}");
    let record = Value::Object(render(rec, kind, base));
    // One django-rest-hooks subscription per event type; its id is only decoration.
    let hook_id = 9820 + kind as u64;
    let body = shape.clientify_body(&event, entity, &record, hook_id);
    app.common.outbox.send(url, &event, body);
}

/// `GET /v1/{contacts|companies}/{id}/` → object or 404 `{"detail":"Not
/// found."}` [I: DRF default, §1.1].
async fn detail(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let rec = lock(&app.inner.data).table(kind).rows.get(&id).cloned();
    match rec {
        None => not_found(),
        Some(o) => json(
            StatusCode::OK,
            sparse(render(&o, kind, &abs_base(&headers, &app.common)), &q),
        ),
    }
}

/// `POST /v1/contacts/` (and companies) → 201 + full object [C: C8];
/// flat `email`/`phone` and arrays accepted [C: C1, C5, C8, C11];
/// validation → 400 `{"field":["…"]}` [I: DRF]; `created`/`modified` set by
/// the server [C/I: §1.2, §3].
async fn create(
    State(app): State<App>,
    Path(seg): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = match kind_of(&seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let rec = {
        let mut d = lock(&app.inner.data);
        match write_record(&mut d, kind, None, &body, false) {
            Err(e) => return bad_request(e),
            Ok(mut rec) => {
                let t = d.table(kind);
                let id = t.next_id;
                t.next_id += 1;
                let now = fmt_micros(app.common.stamp());
                rec.insert("id".into(), json!(id));
                rec.insert("created".into(), json!(now));
                rec.insert("modified".into(), json!(now));
                t.rows.insert(id, rec.clone());
                notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
                rec
            }
        }
    };
    json(
        StatusCode::CREATED,
        Value::Object(render(&rec, kind, &abs_base(&headers, &app.common))),
    )
}

/// `PUT /v1/{contacts|companies}/{id}/`: partial merge, as clients send
/// partial bodies and it works [C: C1, C4, C5 §1.5]; lists replaced,
/// `custom_fields` merged by name [I]; `modified` bumped [I: §3].
async fn update(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let rec = {
        let mut d = lock(&app.inner.data);
        let Some(old) = d.table(kind).rows.get(&id).cloned() else {
            return not_found();
        };
        match write_record(&mut d, kind, Some(&old), &body, false) {
            Err(e) => return bad_request(e),
            Ok(mut rec) => {
                rec.insert("modified".into(), json!(fmt_micros(app.common.stamp())));
                d.table(kind).rows.insert(id, rec.clone());
                notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
                rec
            }
        }
    };
    json(
        StatusCode::OK,
        Value::Object(render(&rec, kind, &abs_base(&headers, &app.common))),
    )
}

/// `DELETE /v1/{contacts|companies}/{id}/` → 204 [I: DRF default §1.1].
async fn destroy(State(app): State<App>, Path((seg, id)): Path<(String, String)>) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    match lock(&app.inner.data).table(kind).rows.remove(&id) {
        Some(rec) => {
            // The vendor lists `company.deleted` only (§1.4).
            if kind == Kind::Company {
                notify(&app, kind, "deleted", &rec, &app.common.root_url);
            }
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found(),
    }
}

/// `GET /v1/{contacts|companies}/{id}/tags/` → envelope of `{id,name}`
/// [C: C3, C5 §1.3].
async fn list_tags(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let tags: Vec<Value> = {
        let mut d = lock(&app.inner.data);
        let Some(rec) = d.table(kind).rows.get(&id).cloned() else {
            return not_found();
        };
        rec.get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(|t| json!({"id": d.tag_id(kind, t), "name": t}))
            .collect()
    };
    let base = abs_base(&headers, &app.common);
    match paginate(tags.len(), &q, &format!("{base}{}", uri.path())) {
        Ok(p) => envelope(&p, tags[p.range.clone()].to_vec()),
        Err(r) => r,
    }
}

/// `POST /v1/{contacts|companies}/{id}/tags/` `{"name"}` → 201 `{id,name}`,
/// "creates the tag if needed" [C: C3, C5]; bumps `modified` [I: §3].
async fn add_tag(
    State(app): State<App>,
    Path((seg, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (kind, id) = match (kind_of(&seg), id_of(&id)) {
        (Ok(k), Ok(i)) => (k, i),
        _ => return not_found(),
    };
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut d = lock(&app.inner.data);
    if !d.table(kind).rows.contains_key(&id) {
        return not_found();
    }
    let name = match body.get("name").map(char_value) {
        None => Err("This field is required.".to_string()),
        Some(Ok(n)) if n.is_empty() => Err("This field may not be blank.".to_string()),
        Some(r) => r,
    };
    let name = match name {
        Ok(n) => n,
        Err(m) => {
            let mut e = Obj::new();
            field_err(&mut e, "name", m);
            return bad_request(e);
        }
    };
    let tag_id = d.tag_id(kind, &name);
    let stamp = fmt_micros(app.common.stamp());
    if let Some(rec) = d.table(kind).rows.get_mut(&id) {
        let tags = rec.entry("tags").or_insert_with(|| json!([]));
        if let Value::Array(a) = tags {
            if !a.iter().any(|t| t.as_str() == Some(name.as_str())) {
                a.push(json!(name));
            }
        }
        rec.insert("modified".into(), json!(stamp));
        let rec = rec.clone();
        notify(&app, kind, "saved", &rec, &abs_base(&headers, &app.common));
    }
    json(StatusCode::CREATED, json!({"id": tag_id, "name": name}))
}

/// `DELETE /v1/{contacts|companies}/{id}/tags/{tagId}/` → 204 [C: C3, C5];
/// bumps `modified` [I].
async fn remove_tag(
    State(app): State<App>,
    Path((seg, id, tag)): Path<(String, String, String)>,
) -> Response {
    let (kind, id, tag) = match (kind_of(&seg), id_of(&id), id_of(&tag)) {
        (Ok(k), Ok(i), Ok(t)) => (k, i, t),
        _ => return not_found(),
    };
    let mut d = lock(&app.inner.data);
    let Some(name) = d
        .table(kind)
        .tags
        .iter()
        .find(|(_, v)| **v == tag)
        .map(|(k, _)| k.clone())
    else {
        return not_found();
    };
    let stamp = fmt_micros(app.common.stamp());
    let Some(rec) = d.table(kind).rows.get_mut(&id) else {
        return not_found();
    };
    let Some(Value::Array(tags)) = rec.get_mut("tags") else {
        return not_found();
    };
    let before = tags.len();
    tags.retain(|t| t.as_str() != Some(name.as_str()));
    if tags.len() == before {
        return not_found();
    }
    rec.insert("modified".into(), json!(stamp));
    let rec = rec.clone();
    notify(&app, kind, "saved", &rec, &app.common.root_url);
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /v1/custom-fields/` (`?object_type=contact|company`): DRF envelope
/// of definitions [C: C3 §1.3].
async fn list_defs(
    State(app): State<App>,
    Query(q): Q,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let filter = match qget(&q, "object_type").filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => match Kind::from_object_type(v) {
            Some(k) => Some(k),
            None => {
                let mut e = Obj::new();
                field_err(
                    &mut e,
                    "object_type",
                    format!("Select a valid choice. {v} is not one of the available choices."),
                );
                return bad_request(e);
            }
        },
    };
    let defs: Vec<Value> = lock(&app.inner.data)
        .defs
        .iter()
        .filter(|d| filter.is_none_or(|k| d.kind == k))
        .map(FieldDef::to_json)
        .collect();
    let base = abs_base(&headers, &app.common);
    match paginate(defs.len(), &q, &format!("{base}{}", uri.path())) {
        Ok(p) => envelope(&p, defs[p.range.clone()].to_vec()),
        Err(r) => r,
    }
}

/// `GET /v1/custom-fields/{id}/` [C: C3].
async fn get_def(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<u64>() else {
        return not_found();
    };
    let d = lock(&app.inner.data);
    match d.defs.iter().find(|x| x.id == id) {
        Some(def) => json(StatusCode::OK, def.to_json()),
        None => not_found(),
    }
}

/// `POST /v1/custom-fields/` `{name, object_type, field_type}` → 201.
/// No client creates definitions by API (§1.3: "assume created in the UI")
/// [I]; modelled so the product can create `in_alegra`; duplicate name per
/// object type → 400 [I].
async fn create_def(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let body = match parse_body(&headers, &body) {
        Ok(b) => b,
        Err(r) => return r,
    };
    let mut e = Obj::new();
    let name = match body.get("name").map(char_value) {
        None => {
            field_err(&mut e, "name", "This field is required.");
            String::new()
        }
        Some(Ok(n)) if n.is_empty() => {
            field_err(&mut e, "name", "This field may not be blank.");
            n
        }
        Some(Ok(n)) => n,
        Some(Err(m)) => {
            field_err(&mut e, "name", m);
            String::new()
        }
    };
    let kind = match body.get("object_type") {
        None => {
            field_err(&mut e, "object_type", "This field is required.");
            None
        }
        Some(v) => {
            let k = v.as_str().and_then(Kind::from_object_type);
            if k.is_none() {
                field_err(
                    &mut e,
                    "object_type",
                    format!("\"{}\" is not a valid choice.", display(v)),
                );
            }
            k
        }
    };
    let field_type = match body.get("field_type") {
        None | Some(Value::Null) => "text".to_string(),
        Some(v) => match v.as_str() {
            Some(t) if FIELD_TYPES.contains(&t) => t.to_string(),
            _ => {
                field_err(
                    &mut e,
                    "field_type",
                    format!("\"{}\" is not a valid choice.", display(v)),
                );
                String::new()
            }
        },
    };
    let mut d = lock(&app.inner.data);
    if let Some(k) = kind {
        if !name.is_empty() && d.defined(&name, k) {
            field_err(
                &mut e,
                "name",
                "A custom field with this name already exists.",
            );
        }
    }
    match kind {
        Some(k) if e.is_empty() => {
            let def = d.define(&name, k, &field_type).to_json();
            json(StatusCode::CREATED, def)
        }
        _ => bad_request(e),
    }
}
