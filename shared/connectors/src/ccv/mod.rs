//! CCV Shop (Dutch web shop), REST API v1 at `https://{shop}/api/rest/v1`. Facts from
//! `spec/vendor-apis/shops-accounting.md` §(a); every CCV path and field name Puente relies
//! on is in this folder.
//!
//! - Auth: each request signed with HMAC-SHA512 (`x-public`, `x-date`, `x-hash` over
//!   `public|METHOD|uri|body|x-date`) and each answer's signature checked ([`sign`]).
//! - `start`/`size` paging (at most 250) in `{items, next}`; `orderby=field[_desc]`;
//!   `expand=orderrows` embeds an order's rows [C "Embedding"].
//! - Entities: `products` (APC-6; `PATCH` with only what changed), their stock (APC-4:
//!   `stock`, `stockenabled`), `orders` with their rows (APC-1, read only: orders flow
//!   shop → accounting), `users` (APC-5, the shop's customer accounts), `categories` and
//!   `producttocategories` (a product's category path, created towards the shop).
//! - No modified-since filter exists: products are read newest first (`orderby=
//!   modifydate_desc`) down to the instant asked; orders and users are listed whole (orders
//!   by `min_create_date` for a backfill), and webhooks bring changes at once.
//! - Webhooks through the API (`POST /webhooks` per event), each subscription with its own
//!   `key`; deliveries signed with it ([`webhook`]). The keys are read from the API when a
//!   delivery arrives that no known key signs (a Lambda that did not subscribe).
//! - 429 `429.10`/`429.11` per minute: `Retry-After` when sent, else the next minute.
//! - Prices include VAT (`taxtariff` `normal` 21 %, `low a`/`low b` 9 %, `extra low`/`zero`
//!   0 %): canonical prices are net, the gross one is `price_incl_tax`.

mod mapping;
mod settings;
mod sign;
mod webhook;

pub use mapping::{
    order_record, personal_fields, product_record, rate_of, stock_record, tariff_of, user_record,
    Shop, STATUSES,
};
pub use settings::VENDOR;
pub use sign::{hash as hmac_sha512_hex, verify as verify_hmac_sha512_hex};

use crate::error::ConnectorError;
use crate::http::{Answer, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::mapping::SideMapping;
use crate::{
    Connector, Delivery, ListQuery, Page, Read, WebhookRequest, WebhookSetup, Webhooks, Write,
};
use async_trait::async_trait;
use mapping::s;
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const SYSTEM: &str = "ccv";
/// CCV ids are whole numbers, for every resource.
pub const ID_SYNTAX: IdSyntax = IdSyntax::Integer;
/// The API's largest page.
pub const MAX_PAGE: u32 = 250;
/// How long the shop's categories and product-category links are kept between reads.
const CATEGORY_TTL: Duration = Duration::from_secs(60);

/// Settings of a CCV Shop connection.
#[derive(Clone, Debug)]
pub struct CcvConfig {
    pub base_url: String,
    pub public_key: String,
    pub secret: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub shop: Shop,
    pub mapping: Arc<SideMapping>,
}

/// The shop's categories (`id → (name, parent)`) and the first category of each product.
#[derive(Default)]
struct Catalogue {
    read_at: Option<Instant>,
    categories: HashMap<u64, (String, Option<u64>)>,
    /// product id → (link id, category id)
    links: HashMap<u64, (u64, u64)>,
}

pub struct Ccv {
    http: Http,
    page_size: u32,
    shop: Shop,
    mapping: Arc<SideMapping>,
    catalogue: tokio::sync::Mutex<Catalogue>,
    keys: Mutex<webhook::Keys>,
}

fn path(kind: Kind) -> &'static str {
    match kind {
        Kind::Product | Kind::Stock => "products",
        Kind::Order => "orders",
        Kind::Contact => "users",
        Kind::Company | Kind::Budget => "",
    }
}

fn items(a: &Answer) -> Vec<Value> {
    a.body
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn num(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

impl Ccv {
    pub fn new(cfg: CcvConfig) -> Ccv {
        let hooks = Arc::new(sign::Signer {
            public: cfg.public_key.clone(),
            secret: cfg.secret.clone(),
        });
        let http = Http::new(SYSTEM, &cfg.base_url, crate::http::Auth::None, cfg.retry)
            .with_budget(cfg.budget)
            .with_hooks(hooks);
        Ccv {
            http,
            page_size: cfg.page_size.clamp(1, MAX_PAGE),
            shop: cfg.shop,
            mapping: cfg.mapping,
            catalogue: tokio::sync::Mutex::new(Catalogue::default()),
            keys: Mutex::new(webhook::Keys::default()),
        }
    }

    fn supported(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Product | Kind::Stock | Kind::Order | Kind::Contact => Ok(()),
            k => Err(ConnectorError::unsupported(SYSTEM, k)),
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the API public key and secret (CCV Shop → Settings → API) in the connection's public_key and secret".into(),
            },
            other => other,
        }
    }

    async fn get(&self, path: &str, q: &[(&str, String)]) -> Result<Answer, ConnectorError> {
        self.http.get(path, q).await.map_err(Self::auth_hint)
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

    /// The shop's categories and product links, read again when older than a minute (or
    /// `fresh`).
    async fn catalogue(
        &self,
        fresh: bool,
    ) -> Result<tokio::sync::MutexGuard<'_, Catalogue>, ConnectorError> {
        let mut c = self.catalogue.lock().await;
        if !fresh && c.read_at.is_some_and(|t| t.elapsed() < CATEGORY_TTL) {
            return Ok(c);
        }
        let mut categories = HashMap::new();
        for v in self.all("categories", &[]).await? {
            if let Some(id) = num(&v, "id") {
                categories.insert(id, (s(&v, "name"), num(&v, "parentcategory")));
            }
        }
        let mut links = HashMap::new();
        for v in self.all("producttocategories", &[]).await? {
            if let (Some(id), Some(p), Some(cat)) =
                (num(&v, "id"), num(&v, "product_id"), num(&v, "category_id"))
            {
                links.entry(p).or_insert((id, cat));
            }
        }
        *c = Catalogue {
            read_at: Some(Instant::now()),
            categories,
            links,
        };
        Ok(c)
    }

    /// Every item of a collection, page by page.
    async fn all(&self, path: &str, q: &[(&str, String)]) -> Result<Vec<Value>, ConnectorError> {
        let mut out = Vec::new();
        let mut start = 0u64;
        loop {
            let mut query = q.to_vec();
            query.push(("start", start.to_string()));
            query.push(("size", MAX_PAGE.to_string()));
            let a = self.get(path, &query).await?;
            let got = items(&a);
            start += got.len() as u64;
            let more = a.body.get("next").is_some_and(|n| !n.is_null()) && !got.is_empty();
            out.extend(got);
            if !more {
                return Ok(out);
            }
        }
    }

    /// A product record with its category path.
    fn product(&self, raw: &Value, cat: &Catalogue) -> Result<Record, ConnectorError> {
        let mut r = product_record(&self.shop, raw);
        if let Some((_, c)) = num(raw, "id").and_then(|id| cat.links.get(&id)) {
            r.fields
                .set("category", mapping::category_path(&cat.categories, *c));
        }
        r.extra = json!({ "raw": raw });
        self.mapped(raw, r)
    }

    /// An order's rows: embedded with `expand=orderrows`, else read.
    async fn rows(&self, order: &Value) -> Result<Vec<Value>, ConnectorError> {
        if let Some(rows) = order.pointer("/orderrows/items").and_then(Value::as_array) {
            return Ok(rows.clone());
        }
        let id = s(order, "id");
        self.all(&format!("orders/{}/orderrows", segment(&id)), &[])
            .await
    }

    async fn order(&self, raw: &Value) -> Result<Record, ConnectorError> {
        let rows = self.rows(raw).await?;
        let r = order_record(&self.shop, raw, &rows);
        self.mapped(raw, r)
    }

    async fn record(&self, kind: Kind, raw: &Value) -> Result<Record, ConnectorError> {
        match kind {
            Kind::Product => {
                let cat = self.catalogue(false).await?;
                self.product(raw, &cat)
            }
            Kind::Stock => self.mapped(raw, stock_record(raw)),
            Kind::Order => self.order(raw).await,
            _ => self.mapped(raw, user_record(raw)),
        }
    }

    /// Makes the category path `path` exist (each level under the one before) and puts the
    /// product `pid` in it, out of any other category (APC-6: categories created and
    /// updated towards the shop).
    async fn place(&self, pid: u64, path: &str) -> Result<(), ConnectorError> {
        let names: Vec<&str> = path
            .split('/')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let mut cat = self.catalogue(false).await?;
        let mut parent: Option<u64> = None;
        for name in names {
            let found = cat
                .categories
                .iter()
                .filter(|(_, (n, p))| n.eq_ignore_ascii_case(name) && *p == parent)
                .map(|(id, _)| *id)
                .min();
            let id = match found {
                Some(id) => id,
                None => {
                    let a = self
                        .http
                        .post(
                            "categories",
                            &json!({"name": name, "parentcategory": parent}),
                        )
                        .await
                        .map_err(Self::auth_hint)?;
                    let id = num(&a.body, "id").ok_or_else(|| ConnectorError::Decode {
                        system: SYSTEM.into(),
                        detail: "a created category without its id".into(),
                    })?;
                    cat.categories.insert(id, (name.to_string(), parent));
                    id
                }
            };
            parent = Some(id);
        }
        let target = parent.expect("a path has a level");
        if cat.links.get(&pid).is_some_and(|(_, c)| *c == target) {
            return Ok(());
        }
        // The product's other links go: it moves.
        let old = self
            .all("producttocategories", &[("product_id", pid.to_string())])
            .await?;
        for l in &old {
            if num(l, "category_id") == Some(target) {
                continue;
            }
            if let Some(id) = num(l, "id") {
                match self
                    .http
                    .send(
                        Method::DELETE,
                        &format!("producttocategories/{id}"),
                        &[],
                        None,
                    )
                    .await
                {
                    Ok(_) | Err(ConnectorError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        let link = match old.iter().find(|l| num(l, "category_id") == Some(target)) {
            Some(l) => num(l, "id").unwrap_or(0),
            None => {
                let a = self
                    .http
                    .post(
                        "producttocategories",
                        &json!({"product_id": pid, "category_id": target}),
                    )
                    .await
                    .map_err(Self::auth_hint)?;
                num(&a.body, "id").unwrap_or(0)
            }
        };
        cat.links.insert(pid, (link, target));
        Ok(())
    }

    fn adjust(
        &self,
        kind: Kind,
        body: &mut Value,
        fields: &Fields,
        changed: Option<&[String]>,
    ) -> Result<(), ConnectorError> {
        self.mapping
            .apply_write(kind, body, fields, changed)
            .map_err(|detail| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail,
            })
    }

    fn mapping_err(detail: String) -> ConnectorError {
        ConnectorError::Mapping {
            system: SYSTEM.into(),
            detail,
        }
    }

    /// A product's record after a `PATCH` (answered 204): what it held with the body
    /// written over it.
    fn patched(&self, current: &Record, body: &Value) -> Value {
        let mut raw = current
            .extra
            .get("raw")
            .cloned()
            .unwrap_or_else(|| json!({"id": current.id.parse::<u64>().unwrap_or(0)}));
        if let (Some(o), Some(b)) = (raw.as_object_mut(), body.as_object()) {
            for (k, v) in b {
                let key = if k == "active" { "is_active" } else { k };
                o.insert(key.to_string(), v.clone());
            }
        }
        raw
    }
}

#[async_trait]
impl Connector for Ccv {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.get("products", &[("size", "1".into())])
            .await
            .map(|_| ())
    }

    fn supports(&self, kind: Kind) -> bool {
        Self::supported(kind).is_ok()
    }

    fn id_syntax(&self, _kind: Kind) -> IdSyntax {
        ID_SYNTAX
    }

    fn calls(&self) -> CallStats {
        self.http.stats()
    }

    fn reset_budget(&self) {
        self.http.reset_budget()
    }

    fn read(&self) -> &dyn Read {
        self
    }

    fn write(&self) -> Option<&dyn Write> {
        Some(self)
    }

    fn webhooks(&self) -> Option<&dyn Webhooks> {
        Some(self)
    }
}

#[async_trait]
impl Read for Ccv {
    fn has_modified_filter(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Product | Kind::Stock)
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Self::supported(kind)?;
        let start: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(0);
        let since = q.modified_since.filter(|_| self.has_modified_filter(kind));
        let mut query = vec![
            ("start", start.to_string()),
            ("size", self.page_size.to_string()),
            (
                "orderby",
                if since.is_some() {
                    "modifydate_desc"
                } else {
                    "id"
                }
                .into(),
            ),
        ];
        if kind == Kind::Order {
            query.push(("expand", "orderrows".into()));
            if let Some(t) = q.created_since {
                query.push(("min_create_date", sign::x_date(t)));
            }
        }
        let a = self.get(path(kind), &query).await?;
        let rows = items(&a);
        let mut next = a
            .body
            .get("next")
            .is_some_and(|n| !n.is_null())
            .then(|| (start + rows.len() as u64).to_string())
            .filter(|_| !rows.is_empty());
        let cat = if kind == Kind::Product {
            // A listing from its start reads the categories again.
            Some(self.catalogue(page.is_none()).await?)
        } else {
            None
        };
        let mut records = Vec::with_capacity(rows.len());
        for raw in &rows {
            if let Some(t) = since {
                // Newest first: past the instant, the rest is older.
                let m = crate::time::parse_vendor_time(&s(raw, "modifydate"));
                if m.is_some_and(|m| m < t) {
                    next = None;
                    break;
                }
            }
            let r = match (&cat, kind) {
                (Some(c), Kind::Product) => self.product(raw, c)?,
                (_, Kind::Order) => self.order(raw).await?,
                (_, k) => self.record(k, raw).await?,
            };
            records.push(r);
        }
        Ok(Page {
            records,
            next,
            total: a.body.get("total").and_then(Value::as_u64),
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        Self::supported(kind)?;
        let q: Vec<(&str, String)> = if kind == Kind::Order {
            vec![("expand", "orderrows".into())]
        } else {
            Vec::new()
        };
        let raw = match self
            .get(&format!("{}/{}", path(kind), segment(id)), &q)
            .await
        {
            Ok(a) => a.body,
            Err(ConnectorError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if kind == Kind::Product {
            // This product's links as they are now; the category names from the cache.
            let links = self
                .all("producttocategories", &[("product_id", id.to_string())])
                .await?;
            let mut cat = self.catalogue(false).await?;
            let pid: u64 = id.parse().unwrap_or(0);
            cat.links.remove(&pid);
            if let Some(l) = links.first() {
                if let (Some(lid), Some(c)) = (num(l, "id"), num(l, "category_id")) {
                    if !cat.categories.contains_key(&c) {
                        drop(cat);
                        cat = self.catalogue(true).await?;
                    }
                    cat.links.insert(pid, (lid, c));
                }
            }
            return self.product(&raw, &cat).map(Some);
        }
        self.record(kind, &raw).await.map(Some)
    }
}

#[async_trait]
impl Write for Ccv {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (Kind::Product | Kind::Stock, KeyKind::Sku) | (Kind::Contact, KeyKind::Email)
        )
    }

    fn partial_updates(&self, kind: Kind) -> bool {
        // Products and stock are PATCHed with only what changed; a user's `userinfo` is
        // one object, written whole.
        kind != Kind::Contact
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
        let raws = match kind {
            // `productnumber` is an exact filter; the key is compared case-folded below, so
            // a second search with the key as written catches another case.
            Kind::Product | Kind::Stock => {
                let mut v = self
                    .all("products", &[("productnumber", value.to_string())])
                    .await?;
                if v.is_empty() && value != value.to_uppercase() {
                    v = self
                        .all("products", &[("productnumber", value.to_uppercase())])
                        .await?;
                }
                v
            }
            // Users have no email filter [C: `approval_status` only]: every user is read.
            _ => self.all("users", &[]).await?,
        };
        let mut out = Vec::new();
        for raw in &raws {
            let r = self.record(kind, raw).await?;
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
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        match kind {
            Kind::Product => {
                let all = |_: &str| true;
                let body = mapping::product_body(&self.shop, fields, &all, true, "normal")
                    .map_err(Self::mapping_err)?;
                let mut body = Value::Object(body);
                self.adjust(kind, &mut body, fields, None)?;
                let a = self
                    .http
                    .post("products", &body)
                    .await
                    .map_err(Self::auth_hint)?;
                let pid = num(&a.body, "id").ok_or_else(|| ConnectorError::Decode {
                    system: SYSTEM.into(),
                    detail: "a created product without its id".into(),
                })?;
                let path = fields.get("category");
                if !path.is_empty() {
                    self.place(pid, path).await?;
                }
                let cat = self.catalogue(false).await?;
                self.product(&a.body, &cat)
            }
            Kind::Contact => {
                let mut body = json!({
                    "username": fields.get("email"),
                    "userinfo": mapping::userinfo_body(fields, None),
                });
                self.adjust(kind, &mut body, fields, None)?;
                let a = self
                    .http
                    .post("users", &body)
                    .await
                    .map_err(Self::auth_hint)?;
                self.mapped(&a.body, user_record(&a.body))
            }
            // Stock is update-only (APC-4); orders flow from the shop, never to it.
            k => Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("creating {k}s"),
            }),
        }
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let kind = current.kind;
        let (target, changed) = current.fields.apply(set, clear);
        let touched = |f: &str| changed.iter().any(|c| c == f);
        let path = format!("{}/{}", path(kind), segment(&current.id));
        match kind {
            Kind::Product => {
                let tariff = current
                    .extra
                    .pointer("/raw/taxtariff")
                    .and_then(Value::as_str)
                    .unwrap_or("normal")
                    .to_string();
                let body = mapping::product_body(&self.shop, &target, &touched, false, &tariff)
                    .map_err(Self::mapping_err)?;
                let mut body = Value::Object(body);
                self.adjust(kind, &mut body, &target, Some(&changed))?;
                if body.as_object().is_some_and(|o| !o.is_empty()) {
                    self.http
                        .send(Method::PATCH, &path, &[], Some(&body))
                        .await
                        .map_err(Self::auth_hint)?;
                }
                let pid: u64 = current.id.parse().unwrap_or(0);
                if touched("category") && !target.get("category").is_empty() {
                    self.place(pid, target.get("category")).await?;
                }
                let raw = self.patched(current, &body);
                let cat = self.catalogue(false).await?;
                let mut r = self.product(&raw, &cat)?;
                if !touched("category") {
                    r.fields.set("category", current.fields.get("category"));
                }
                Ok(r)
            }
            Kind::Stock => {
                let mut body = mapping::stock_body(&target, &touched).map_err(Self::mapping_err)?;
                self.adjust(kind, &mut body, &target, Some(&changed))?;
                if body.as_object().is_some_and(|o| !o.is_empty()) {
                    self.http
                        .send(Method::PATCH, &path, &[], Some(&body))
                        .await
                        .map_err(Self::auth_hint)?;
                }
                let raw = json!({
                    "id": current.id.parse::<u64>().unwrap_or(0),
                    "productnumber": current.fields.get("sku"),
                    "stock": body.get("stock").cloned().unwrap_or_else(|| json!(current.fields.get("available"))),
                    "stockenabled": body.get("stockenabled").cloned()
                        .unwrap_or_else(|| json!(current.fields.get("managed") == "true")),
                });
                self.mapped(&raw, stock_record(&raw))
            }
            Kind::Contact => {
                let info = mapping::userinfo_body(&target, current.extra.get("userinfo"));
                let mut body = json!({ "userinfo": info });
                self.adjust(kind, &mut body, &target, Some(&changed))?;
                self.http
                    .send(Method::PATCH, &path, &[], Some(&body))
                    .await
                    .map_err(Self::auth_hint)?;
                let raw = json!({"id": current.id.parse::<u64>().unwrap_or(0), "userinfo": body["userinfo"]});
                self.mapped(&raw, user_record(&raw))
            }
            k => Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("updating {k}s"),
            }),
        }
    }

    fn preview(&self, kind: Kind, fields: &Fields) -> Option<Value> {
        let all = |_: &str| true;
        match kind {
            Kind::Product => {
                let mut b = Value::Object(
                    mapping::product_body(&self.shop, fields, &all, true, "normal").ok()?,
                );
                self.adjust(kind, &mut b, fields, None).ok()?;
                Some(b)
            }
            Kind::Contact => Some(json!({
                "username": fields.get("email"),
                "userinfo": mapping::userinfo_body(fields, None),
            })),
            _ => None,
        }
    }
}

#[async_trait]
impl Webhooks for Ccv {
    fn setup(&self) -> WebhookSetup {
        WebhookSetup::Api
    }

    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        webhook::verify(&keys.keys, req)
    }

    async fn verify_with_vendor(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        let first = self.verify(req);
        if first.is_ok() || req.header("x-hash").is_none() {
            return first;
        }
        // A key this process has not seen (another process subscribed): read them, at most
        // every so often, so unsigned floods cost no calls.
        let due = {
            let mut k = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            let due = k.refresh_due();
            if due {
                k.read_at = Some(Instant::now());
            }
            due
        };
        if !due {
            return first;
        }
        match self.all("webhooks", &[]).await {
            Ok(list) => {
                let mut k = self.keys.lock().unwrap_or_else(|e| e.into_inner());
                for h in list {
                    k.add(&s(&h, "key"));
                }
            }
            Err(e) => return Err(format!("the shop's webhook keys could not be read: {e}")),
        }
        self.verify(req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, crate::WebhookError> {
        webhook::parse(req.body)
    }

    async fn subscribe(&self, url: &str, kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        let existing = self.all("webhooks", &[]).await?;
        let mut made = Vec::new();
        for (event, ks) in webhook::EVENTS {
            if !ks.iter().any(|k| kinds.contains(k)) {
                continue;
            }
            let mine = existing
                .iter()
                .find(|h| s(h, "event") == *event && s(h, "address") == url);
            let key = match mine {
                Some(h) if h.get("is_active").and_then(Value::as_bool) == Some(true) => s(h, "key"),
                Some(h) => {
                    let id = s(h, "id");
                    self.http
                        .send(
                            Method::PATCH,
                            &format!("webhooks/{}", segment(&id)),
                            &[],
                            Some(&json!({"is_active": true})),
                        )
                        .await
                        .map_err(Self::auth_hint)?;
                    made.push(format!("CCV Shop webhook {event} → {url} switched on"));
                    s(h, "key")
                }
                None => {
                    let a = self
                        .http
                        .post(
                            "webhooks",
                            &json!({"event": event, "address": url, "is_active": true}),
                        )
                        .await
                        .map_err(Self::auth_hint)?;
                    made.push(format!("CCV Shop webhook {event} → {url}"));
                    s(&a.body, "key")
                }
            };
            self.keys
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .add(&key);
        }
        Ok(made)
    }
}
