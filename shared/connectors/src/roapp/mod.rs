//! RO App (ex-Remonline), the repair-shop and retail back office that web-shop orders go to
//! (seed 003, ROA-1..8). Facts from `spec/vendor-apis/shops-accounting.md` §(e): all [C]
//! from client code, no readable vendor docs, so every RO App path and field name Puente
//! relies on is in this folder.
//!
//! Both API generations, each for what its facts are surest about:
//! - legacy (`POST /token/new` with the api key → `?token=` on every call, renewed on a
//!   401; 50-item pages `{success, count, data}`; repeated `x[]` parameters; epoch-ms
//!   times): reading and finding clients (`/clients/` with `phones[]`, `emails[]`,
//!   `names[]`, `ids[]`, `modified_at[]`) and orders (`/order/` with `id_labels[]`,
//!   `ids[]`, `modified_at[]`, `sort_dir`);
//! - v2 (`Authorization: Bearer <api key>`, `{paging, data}`): everything legacy cannot do
//!   — creating clients, orders with items, changing items, comments, the catalogue
//!   (`/v2/catalog/products`, `skus[]`, `codes[]`, `titles[]`) and its categories, the
//!   account's currency (`/v2/company`), order types and statuses.
//!
//! Orders Puente makes carry the shop's order number as their `number` [I] (found again by
//! `id_labels[]`) and the shop's creation date [I]. The delivery (ROA-6) is posted as a
//! comment in the order's event feed and kept as a block in `manager_notes`, which is what
//! a read tells back; a changed delivery posts one new comment. An order whose products
//! are written off is frozen (ROA-3). A new order starts in its order type's initial
//! status (ROA-4); one without customer gets the "Not specified" client (ROA-8); products
//! are created with the unit "piece" and their category path made to exist (ROA-7).
//! RO App answers 429 above 3 to 8 calls a second: [`Pacer`] spaces calls.

mod mapping;
mod settings;

pub use mapping::{client_record, delivery_text, order_record, product_record};
pub use settings::VENDOR;

use crate::error::ConnectorError;
use crate::http::{Answer, Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::mapping::SideMapping;
use crate::{Connector, ListQuery, Page, Read, Write};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mapping::s;
use puente_core::{
    parse_order_items, ref_product, Fields, KeyKind, KeySpec, Kind, OrderItem, Record, REF_CUSTOMER,
};
use reqwest::Method;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SYSTEM: &str = "roapp";
/// Legacy list pages hold 50 items.
const LEGACY_PAGE: u64 = 50;
/// v2 pages: at most 50.
const V2_PAGE: u64 = 50;

/// Which order type new orders get (ROA-4: their initial status comes from it).
#[derive(Clone, Debug, PartialEq)]
pub enum OrderType {
    First,
    Id(u64),
    Name(String),
}

/// Settings of an RO App connection and the flow's options.
#[derive(Clone, Debug)]
pub struct RoAppConfig {
    pub base_url: String,
    pub api_key: String,
    /// At most this many calls a second (0: no pacing).
    pub requests_per_second: f64,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub order_type: OrderType,
    /// The client of orders without a customer (ROA-8).
    pub unspecified_customer: String,
    /// The unit of products Puente creates (ROA-7).
    pub unit: String,
    pub mapping: Arc<SideMapping>,
}

/// Spaces calls `interval` apart, over both generations (one limit per key).
struct Pacer {
    interval: Duration,
    next: tokio::sync::Mutex<Instant>,
}

impl Pacer {
    async fn wait(&self) {
        if self.interval.is_zero() {
            return;
        }
        let mut next = self.next.lock().await;
        let now = Instant::now();
        if *next > now {
            tokio::time::sleep(*next - now).await;
        }
        *next = Instant::now().max(*next) + self.interval;
    }
}

/// What RO App answers once and Puente keeps: the account's currency, order types,
/// statuses, categories, the "Not specified" client.
#[derive(Default)]
struct Cache {
    currency: Option<String>,
    order_type: Option<u64>,
    statuses: Option<Vec<(u64, String)>>,
    /// (id, title, parent).
    categories: Option<Vec<(u64, String, Option<u64>)>>,
    unspecified: Option<String>,
}

pub struct RoApp {
    legacy: Http,
    v2: Http,
    api_key: String,
    token: tokio::sync::Mutex<Option<String>>,
    pacer: Pacer,
    cache: Mutex<Cache>,
    order_type: OrderType,
    unspecified_customer: String,
    unit: String,
    mapping: Arc<SideMapping>,
}

fn ms(t: DateTime<Utc>) -> String {
    t.timestamp_millis().to_string()
}

fn data(a: &Answer) -> Value {
    a.body.get("data").cloned().unwrap_or(Value::Null)
}

fn num(x: &str) -> Value {
    x.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(0))
}

fn pk(id: &str) -> Value {
    id.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(id))
}

impl RoApp {
    pub fn new(cfg: RoAppConfig) -> RoApp {
        let root = cfg.base_url.trim_end_matches('/').to_string();
        let legacy =
            Http::new(SYSTEM, &root, Auth::None, cfg.retry.clone()).with_budget(cfg.budget);
        let v2 = Http::new(
            SYSTEM,
            &format!("{root}/v2"),
            Auth::Headers(vec![(
                "Authorization".into(),
                format!("Bearer {}", cfg.api_key),
            )]),
            cfg.retry,
        )
        .with_budget(cfg.budget);
        let interval = if cfg.requests_per_second > 0.0 {
            Duration::from_secs_f64(1.0 / cfg.requests_per_second)
        } else {
            Duration::ZERO
        };
        RoApp {
            legacy,
            v2,
            api_key: cfg.api_key,
            token: tokio::sync::Mutex::new(None),
            pacer: Pacer {
                interval,
                next: tokio::sync::Mutex::new(Instant::now()),
            },
            cache: Mutex::new(Cache::default()),
            order_type: cfg.order_type,
            unspecified_customer: cfg.unspecified_customer,
            unit: cfg.unit,
            mapping: cfg.mapping,
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth {
                system,
                status,
                message,
                ..
            } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the API key (RO App → Settings → API) in the connection's api_key"
                    .into(),
            },
            other => other,
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().expect("cache lock")
    }

    /// A legacy token from `POST /token/new`, kept until a call says it expired.
    async fn token(&self, renew: bool) -> Result<String, ConnectorError> {
        let mut t = self.token.lock().await;
        if renew {
            *t = None;
        }
        if let Some(x) = t.as_ref() {
            return Ok(x.clone());
        }
        self.pacer.wait().await;
        // Asking for a token changes nothing: safe to repeat.
        let a = self
            .legacy
            .post_idempotent("token/new", &json!({"api_key": self.api_key}))
            .await
            .map_err(Self::auth_hint)?;
        let tok = s(&a.body, "token");
        if tok.is_empty() {
            return Err(ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: "`/token/new` answered without a token".into(),
            });
        }
        *t = Some(tok.clone());
        Ok(tok)
    }

    /// A legacy GET with the token (renewed once when RO App says it is no good).
    async fn legacy_get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Answer, ConnectorError> {
        let mut renew = false;
        loop {
            let token = self.token(renew).await?;
            let mut q = query.to_vec();
            q.push(("token", token));
            self.pacer.wait().await;
            match self.legacy.get(path, &q).await {
                Err(ConnectorError::Auth { status: 401, .. }) if !renew => renew = true,
                other => return other.map_err(Self::auth_hint),
            }
        }
    }

    async fn v2_send(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorError> {
        self.pacer.wait().await;
        self.v2
            .send(method, path, query, body)
            .await
            .map_err(Self::auth_hint)
    }

    async fn v2_get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, ConnectorError> {
        self.v2_send(Method::GET, path, query, None).await
    }

    async fn v2_post(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.v2_send(Method::POST, path, &[], Some(body)).await
    }

    /// ROA-2: the account's currency (`/v2/company`).
    pub async fn currency(&self) -> Result<String, ConnectorError> {
        let cached = self.cache().currency.clone();
        if let Some(c) = cached {
            return Ok(c);
        }
        let a = self.v2_get("company", &[]).await?;
        let c = s(&data(&a), "currency").to_uppercase();
        self.cache().currency = Some(c.clone());
        Ok(c)
    }

    /// The order type new orders get (ROA-4).
    async fn order_type(&self) -> Result<u64, ConnectorError> {
        let cached = self.cache().order_type;
        if let Some(t) = cached {
            return Ok(t);
        }
        let a = self.v2_get("orders/types", &[]).await?;
        let types: Vec<(u64, String)> = data(&a)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t.get("id")?.as_u64()?, s(t, "name"))))
            .collect();
        let found = match &self.order_type {
            OrderType::First => types.first().map(|t| t.0),
            OrderType::Id(id) => types.iter().find(|t| t.0 == *id).map(|t| t.0),
            OrderType::Name(n) => types
                .iter()
                .find(|t| t.1.eq_ignore_ascii_case(n))
                .map(|t| t.0),
        };
        let t =
            found.ok_or_else(|| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail: format!(
                "no order type {:?} in RO App (types: {}); set flows.options.<roapp>.order_type",
                self.order_type,
                types.iter().map(|t| format!("{} {}", t.0, t.1)).collect::<Vec<_>>().join(", ")
            ),
            })?;
        self.cache().order_type = Some(t);
        Ok(t)
    }

    /// The id of the status called `name` (case-blind), if RO App has one.
    async fn status_id(&self, name: &str) -> Result<Option<u64>, ConnectorError> {
        let missing = self.cache().statuses.is_none();
        if missing {
            let a = self.v2_get("orders/statuses", &[]).await?;
            let list = data(&a)
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| Some((t.get("id")?.as_u64()?, s(t, "name"))))
                .collect();
            self.cache().statuses = Some(list);
        }
        Ok(self.cache().statuses.as_ref().and_then(|l| {
            l.iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(name))
                .map(|x| x.0)
        }))
    }

    async fn load_categories(&self) -> Result<Vec<(u64, String, Option<u64>)>, ConnectorError> {
        let mut out = Vec::new();
        let mut page = 1u64;
        loop {
            let a = self
                .v2_get(
                    "catalog/products/categories",
                    &[
                        ("page", page.to_string()),
                        ("per_page", V2_PAGE.to_string()),
                    ],
                )
                .await?;
            for c in data(&a).as_array().into_iter().flatten() {
                if let Some(id) = c.get("id").and_then(Value::as_u64) {
                    out.push((
                        id,
                        s(c, "title"),
                        c.get("parent_id").and_then(Value::as_u64),
                    ));
                }
            }
            let pages = a
                .body
                .pointer("/paging/total_pages")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            if page >= pages {
                break;
            }
            page += 1;
        }
        self.cache().categories = Some(out.clone());
        Ok(out)
    }

    async fn categories(&self) -> Result<Vec<(u64, String, Option<u64>)>, ConnectorError> {
        let cached = self.cache().categories.clone();
        match cached {
            Some(c) => Ok(c),
            None => self.load_categories().await,
        }
    }

    /// The path (`Accesorios/Fundas`) of category `id`.
    async fn category_path(&self, id: Option<u64>) -> Result<String, ConnectorError> {
        let Some(mut at) = id else {
            return Ok(String::new());
        };
        let mut cats = self.categories().await?;
        if !cats.iter().any(|c| c.0 == at) {
            cats = self.load_categories().await?;
        }
        let mut names = Vec::new();
        while let Some(c) = cats.iter().find(|c| c.0 == at) {
            names.push(c.1.clone());
            match c.2 {
                Some(p) if names.len() < 32 => at = p,
                _ => break,
            }
        }
        names.reverse();
        Ok(names.join("/"))
    }

    /// ROA-7: the category at `path`, each level reused when it exists (same title, case-
    /// blind, under the same parent) and created when not.
    async fn ensure_category(&self, path: &str) -> Result<Option<u64>, ConnectorError> {
        let levels: Vec<&str> = path
            .split('/')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .collect();
        let mut parent: Option<u64> = None;
        let mut reloaded = false;
        for level in levels {
            let mut cats = self.categories().await?;
            let find = |cats: &[(u64, String, Option<u64>)]| {
                cats.iter()
                    .find(|c| c.2 == parent && c.1.eq_ignore_ascii_case(level))
                    .map(|c| c.0)
            };
            let mut found = find(&cats);
            if found.is_none() && !reloaded {
                // Someone may have made it since the list was read.
                cats = self.load_categories().await?;
                reloaded = true;
                found = find(&cats);
            }
            let id = match found {
                Some(id) => id,
                None => {
                    let mut body = json!({"title": level});
                    if let Some(p) = parent {
                        body["parent_id"] = json!(p);
                    }
                    let a = self.v2_post("catalog/products/categories", &body).await?;
                    let d = data(&a);
                    let id = d.get("id").and_then(Value::as_u64).ok_or_else(|| {
                        ConnectorError::Decode {
                            system: SYSTEM.into(),
                            detail: "category created without an id".into(),
                        }
                    })?;
                    if let Some(c) = self.cache().categories.as_mut() {
                        c.push((id, level.to_string(), parent));
                    }
                    id
                }
            };
            parent = Some(id);
        }
        Ok(parent)
    }

    /// ROA-8: the "Not specified" client, found by name or created once.
    async fn unspecified(&self) -> Result<String, ConnectorError> {
        let cached = self.cache().unspecified.clone();
        if let Some(id) = cached {
            return Ok(id);
        }
        let name = self.unspecified_customer.clone();
        let a = self
            .legacy_get("clients/", &[("names[]", name.clone())])
            .await?;
        let found = data(&a)
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| s(c, "name").trim().eq_ignore_ascii_case(name.trim()))
            .map(|c| s(c, "id"));
        let id = match found {
            Some(id) => id,
            None => {
                let a = self
                    .v2_post(
                        "contacts/people",
                        &json!({"first_name": name, "last_name": ""}),
                    )
                    .await?;
                s(&data(&a), "id")
            }
        };
        self.cache().unspecified = Some(id.clone());
        Ok(id)
    }

    fn mapped(&self, raw: &Value, mut r: Record) -> Result<Record, ConnectorError> {
        self.mapping
            .apply_read(raw, &mut r)
            .map_err(|detail| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail,
            })?;
        Ok(r)
    }

    async fn record(&self, kind: Kind, v: &Value) -> Result<Record, ConnectorError> {
        let r = match kind {
            Kind::Contact => client_record(v),
            Kind::Order => order_record(v, &self.currency().await?),
            Kind::Product => {
                let cat = self
                    .category_path(v.get("category_id").and_then(Value::as_u64))
                    .await?;
                product_record(v, cat)
            }
            other => return Err(ConnectorError::unsupported(SYSTEM, other)),
        };
        self.mapped(v, r)
    }

    async fn records(&self, kind: Kind, rows: &Value) -> Result<Vec<Record>, ConnectorError> {
        let mut out = Vec::new();
        for v in rows.as_array().into_iter().flatten() {
            out.push(self.record(kind, v).await?);
        }
        Ok(out)
    }

    /// The items body of `items` for an order: each line with its catalogue product when
    /// the runtime made it exist (`ref_product`).
    fn item_body(fields: &Fields, i: &OrderItem) -> Value {
        let mut b = json!({"title": i.name, "quantity": num(&i.quantity).as_f64().unwrap_or(1.0).round() as u64,
                           "price": num(&i.price), "sku": i.sku});
        let pid = fields.get(&ref_product(&i.ref_key()));
        if !pid.is_empty() {
            b["product_id"] = pk(pid);
        }
        b
    }

    async fn get_order(&self, id: &str) -> Result<Option<Record>, ConnectorError> {
        match self.v2_get(&format!("orders/{}", segment(id)), &[]).await {
            Ok(a) => Ok(Some(self.record(Kind::Order, &data(&a)).await?)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn comment(&self, id: &str, text: &str) -> Result<(), ConnectorError> {
        self.v2_post(
            &format!("orders/{}/comments", segment(id)),
            &json!({"text": text}),
        )
        .await
        .map(|_| ())
    }
}

#[async_trait]
impl Connector for RoApp {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        // Both generations: the legacy token, and the Bearer key on v2.
        self.token(true).await?;
        self.currency().await.map(|_| ())
    }

    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Contact | Kind::Product | Kind::Order)
    }

    fn id_syntax(&self, _kind: Kind) -> IdSyntax {
        IdSyntax::Integer
    }

    fn calls(&self) -> CallStats {
        let (a, b) = (self.legacy.stats(), self.v2.stats());
        let mut by_method = a.by_method.clone();
        for (m, n) in b.by_method {
            *by_method.entry(m).or_default() += n;
        }
        CallStats {
            total: a.total + b.total,
            by_method,
            retries: a.retries + b.retries,
            rate_limited: a.rate_limited + b.rate_limited,
        }
    }

    fn reset_budget(&self) {
        self.legacy.reset_budget();
        self.v2.reset_budget();
    }

    fn read(&self) -> &dyn Read {
        self
    }

    fn write(&self) -> Option<&dyn Write> {
        Some(self)
    }
}

#[async_trait]
impl Read for RoApp {
    fn has_modified_filter(&self, kind: Kind) -> bool {
        // Legacy `modified_at[]` on clients and orders; the catalogue has none.
        matches!(kind, Kind::Contact | Kind::Order)
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let page_no: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(1);
        let mut query: Vec<(&str, String)> = vec![("page", page_no.to_string())];
        let (a, per_page) = match kind {
            Kind::Contact | Kind::Order => {
                if let Some(t) = q.modified_since {
                    query.push(("modified_at[]", ms(t)));
                    query.push(("modified_at[]", ms(Utc::now() + chrono::Duration::days(1))));
                }
                if let Some(t) = q.created_since {
                    query.push(("created_at[]", ms(t)));
                    query.push(("created_at[]", ms(Utc::now() + chrono::Duration::days(1))));
                }
                let path = if kind == Kind::Contact {
                    "clients/"
                } else {
                    query.push(("sort_dir", "asc".into()));
                    "order/"
                };
                (self.legacy_get(path, &query).await?, LEGACY_PAGE)
            }
            Kind::Product => {
                query.push(("per_page", V2_PAGE.to_string()));
                (self.v2_get("catalog/products", &query).await?, V2_PAGE)
            }
            other => return Err(ConnectorError::unsupported(SYSTEM, other)),
        };
        let rows = data(&a);
        let records = self.records(kind, &rows).await?;
        let total = a
            .body
            .get("count")
            .and_then(Value::as_u64)
            .or_else(|| a.body.pointer("/paging/count").and_then(Value::as_u64));
        let next = match total {
            Some(t) => page_no * per_page < t,
            None => rows.as_array().is_some_and(|r| r.len() as u64 == per_page),
        };
        Ok(Page {
            records,
            next: next.then(|| (page_no + 1).to_string()),
            total,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        match kind {
            Kind::Contact => {
                let a = self
                    .legacy_get("clients/", &[("ids[]", id.to_string())])
                    .await?;
                let rows = self.records(kind, &data(&a)).await?;
                Ok(rows.into_iter().find(|r| r.id == id))
            }
            Kind::Order => self.get_order(id).await,
            Kind::Product => match self
                .v2_get(&format!("catalog/products/{}", segment(id)), &[])
                .await
            {
                Ok(a) => Ok(Some(self.record(kind, &data(&a)).await?)),
                Err(ConnectorError::NotFound { .. }) => Ok(None),
                Err(e) => Err(e),
            },
            other => Err(ConnectorError::unsupported(SYSTEM, other)),
        }
    }
}

#[async_trait]
impl Write for RoApp {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (
                Kind::Contact,
                KeyKind::Phone | KeyKind::Email | KeyKind::Name
            ) | (Kind::Product, KeyKind::Sku | KeyKind::Name | KeyKind::Code)
                | (Kind::Order, KeyKind::Code)
        )
    }

    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        value: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        if !self.searchable(kind, spec.kind) {
            return Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("looking {kind}s up by {}", spec.kind),
            });
        }
        if spec.kind == KeyKind::Name {
            // A name key is folded (`servicio de diagnostico`) and RO App's filters match
            // substrings of the text as written (`Servicio de diagnóstico`): its words are
            // tried, longest first, until one finds candidates with that very key.
            let mut words: Vec<&str> = value.split_whitespace().collect();
            words.sort_by_key(|w| std::cmp::Reverse(w.len()));
            let param = if kind == Kind::Contact {
                "names[]"
            } else {
                "titles[]"
            };
            for w in words.into_iter().take(3) {
                let rows = if kind == Kind::Contact {
                    data(
                        &self
                            .legacy_get("clients/", &[(param, w.to_string())])
                            .await?,
                    )
                } else {
                    data(
                        &self
                            .v2_get(
                                "catalog/products",
                                &[(param, w.to_string()), ("per_page", V2_PAGE.to_string())],
                            )
                            .await?,
                    )
                };
                let found: Vec<Record> = self
                    .records(kind, &rows)
                    .await?
                    .into_iter()
                    .filter(|r| spec.value(&r.fields).is_ok_and(|v| v == value))
                    .collect();
                if !found.is_empty() {
                    return Ok(found);
                }
            }
            return Ok(Vec::new());
        }
        // The filters are loose (digits, substrings); the runtime keeps exact matches.
        let rows = match (kind, spec.kind) {
            (Kind::Contact, k) => {
                let p = match k {
                    KeyKind::Phone => "phones[]",
                    KeyKind::Email => "emails[]",
                    _ => "names[]",
                };
                data(
                    &self
                        .legacy_get("clients/", &[(p, value.to_string())])
                        .await?,
                )
            }
            (Kind::Order, _) => {
                // The key is the number upper-cased; the number itself is as the shop wrote it.
                data(
                    &self
                        .legacy_get("order/", &[("id_labels[]", value.to_string())])
                        .await?,
                )
            }
            (_, k) => {
                let p = match k {
                    KeyKind::Sku => "skus[]",
                    KeyKind::Code => "codes[]",
                    _ => "titles[]",
                };
                data(
                    &self
                        .v2_get(
                            "catalog/products",
                            &[(p, value.to_string()), ("per_page", V2_PAGE.to_string())],
                        )
                        .await?,
                )
            }
        };
        let mut out = Vec::new();
        let listed: Vec<Value> = rows.as_array().cloned().unwrap_or_default();
        for (i, mut r) in self.records(kind, &rows).await?.into_iter().enumerate() {
            if kind == Kind::Contact && spec.kind == KeyKind::Phone {
                // A client with several phones is found by any of them (ROA-8): the one that
                // matched is the record's phone for this lookup.
                let all = listed.get(i).map(mapping::phones).unwrap_or_default();
                let mut probe = r.fields.clone();
                if let Some(p) = all.into_iter().find(|p| {
                    probe.set(&spec.field, p);
                    spec.value(&probe).is_ok_and(|v| v == value)
                }) {
                    r.fields.set(&spec.field, p);
                }
            }
            if spec.value(&r.fields).is_ok_and(|v| v == value) {
                out.push(r);
            }
        }
        Ok(out)
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        _partner: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        match kind {
            Kind::Contact => {
                let phone = fields.get("phone");
                let address = ["street", "postal_code", "city", "country"]
                    .iter()
                    .map(|f| fields.get(f))
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut body = json!({"first_name": fields.get("first_name"), "last_name": fields.get("last_name"),
                                      "email": fields.get("email"), "address": address});
                body["phones"] = if phone.is_empty() {
                    json!([])
                } else {
                    json!([phone])
                };
                if fields.get("first_name").is_empty() && fields.get("last_name").is_empty() {
                    // RO App needs a name: the email's or the phone's, rather than none.
                    body["first_name"] = json!(match fields.get("email") {
                        "" => phone,
                        e => e,
                    });
                }
                let a = self.v2_post("contacts/people", &body).await?;
                self.record(kind, &data(&a)).await
            }
            Kind::Product => {
                let category = self.ensure_category(fields.get("category")).await?;
                let mut body = json!({"title": fields.get("name"), "sku": fields.get("sku"),
                                      "code": fields.get("code"), "description": fields.get("description"),
                                      "unit": self.unit});
                if !fields.get("price").is_empty() {
                    body["price"] = num(fields.get("price"));
                }
                if let Some(c) = category {
                    body["category_id"] = json!(c);
                }
                let a = self.v2_post("catalog/products", &body).await?;
                self.record(kind, &data(&a)).await
            }
            Kind::Order => {
                let client = match fields.get(REF_CUSTOMER) {
                    "" => self.unspecified().await?,
                    id => id.to_string(),
                };
                let mut body = json!({
                    "client_id": pk(&client),
                    "order_type_id": self.order_type().await?,
                    "number": fields.get("order_id"),
                    "items": parse_order_items(fields.get("items")).iter().map(|i| Self::item_body(fields, i)).collect::<Vec<_>>(),
                });
                if !fields.get("order_date").is_empty() {
                    body["created_at"] = json!(fields.get("order_date"));
                }
                let status = fields.get("status");
                if !status.is_empty() {
                    if let Some(id) = self.status_id(status).await? {
                        body["status_id"] = json!(id);
                    }
                }
                let delivery = delivery_text(fields, &self.currency().await?);
                if !delivery.is_empty() {
                    body["manager_notes"] = json!(delivery);
                }
                let a = self.v2_post("orders", &body).await?;
                let made = self.record(kind, &data(&a)).await?;
                if !delivery.is_empty() {
                    // ROA-6: the delivery in the event feed. The order exists: a lost answer
                    // here is retried by the next sync (the block says it was not posted).
                    self.comment(&made.id, &delivery).await?;
                }
                Ok(made)
            }
            other => Err(ConnectorError::unsupported(SYSTEM, other)),
        }
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        _partner: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        if current.kind != Kind::Order {
            return Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!(
                    "changing {}s (RO App keeps its own; flows create them only)",
                    current.kind
                ),
            });
        }
        let (target, changed) = current.fields.apply(set, clear);
        let id = current.id.clone();
        let touched = |f: &str| changed.iter().any(|c| c == f);
        if touched("items") {
            let have: Vec<Value> = current
                .extra
                .get("items")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut used = vec![false; have.len()];
            for line in parse_order_items(target.get("items")) {
                let pos = have.iter().enumerate().position(|(i, h)| {
                    !used[i]
                        && if line.sku.is_empty() {
                            s(h, "sku").is_empty() && s(h, "title") == line.name
                        } else {
                            s(h, "sku").eq_ignore_ascii_case(&line.sku)
                        }
                });
                match pos {
                    Some(i) => {
                        used[i] = true;
                        let h = &have[i];
                        let item = s(h, "id");
                        if s(h, "price") != line.price {
                            self.v2_send(
                                Method::DELETE,
                                &format!("orders/{}/items/{}", segment(&id), segment(&item)),
                                &[],
                                None,
                            )
                            .await?;
                            self.v2_post(
                                &format!("orders/{}/items", segment(&id)),
                                &Self::item_body(set, &line),
                            )
                            .await?;
                        } else if s(h, "quantity") != line.quantity {
                            let q = num(&line.quantity).as_f64().unwrap_or(0.0).round() as u64;
                            self.v2_send(
                                Method::PATCH,
                                &format!("orders/{}/items/{}", segment(&id), segment(&item)),
                                &[],
                                Some(&json!({"quantity": q})),
                            )
                            .await?;
                        }
                    }
                    None => {
                        self.v2_post(
                            &format!("orders/{}/items", segment(&id)),
                            &Self::item_body(set, &line),
                        )
                        .await?;
                    }
                }
            }
            for (i, h) in have.iter().enumerate() {
                if !used[i] {
                    self.v2_send(
                        Method::DELETE,
                        &format!("orders/{}/items/{}", segment(&id), segment(&s(h, "id"))),
                        &[],
                        None,
                    )
                    .await?;
                }
            }
        }
        let mut patch = serde_json::Map::new();
        if touched("status") && !target.get("status").is_empty() {
            if let Some(sid) = self.status_id(target.get("status")).await? {
                patch.insert("status_id".into(), json!(sid));
            }
        }
        let delivery_changed = ["shipping_method", "shipping_cost", "shipping_address"]
            .iter()
            .any(|f| touched(f));
        let delivery = delivery_text(&target, &self.currency().await?);
        if delivery_changed {
            patch.insert("manager_notes".into(), json!(delivery));
        }
        if !patch.is_empty() {
            self.v2_send(
                Method::PATCH,
                &format!("orders/{}", segment(&id)),
                &[],
                Some(&Value::Object(patch)),
            )
            .await?;
        }
        if delivery_changed && !delivery.is_empty() {
            // ROA-6: a changed delivery is one new comment in the event feed.
            self.comment(&id, &delivery).await?;
        }
        self.get_order(&id)
            .await?
            .ok_or_else(|| ConnectorError::NotFound {
                system: SYSTEM.into(),
                what: format!("order {id}"),
            })
    }

    fn frozen(&self, current: &Record) -> Option<String> {
        (current.kind == Kind::Order
            && current.extra.get("written_off").and_then(Value::as_bool) == Some(true))
        .then(|| "its products are written off in RO App, so changes from the shop no longer reach it (ROA-3)".to_string())
    }

    async fn refuse(&self, kind: Kind, fields: &Fields) -> Result<Option<String>, ConnectorError> {
        if kind != Kind::Order || fields.get("currency").is_empty() {
            return Ok(None);
        }
        let ours = self.currency().await?;
        let theirs = fields.get("currency").to_uppercase();
        Ok((!ours.is_empty() && theirs != ours).then(|| {
            format!("the order is in {theirs} but RO App keeps its accounts in {ours}; the shop's currency must be RO App's (ROA-2)")
        }))
    }
}
