//! Alegra (invoicing), API v1. Facts from `spec/vendor-apis/clientify-alegra.md` §2.
//!
//! - Auth HTTP Basic `email:token` [D]; 150 requests/minute per user, `X-Rate-Limit-*`
//!   headers on every answer, 429 past it [D].
//! - `start`/`limit` paging, limit at most 30, bare JSON arrays; `metadata=true` adds the
//!   total [C]. Ids are strings [D].
//! - No modified-since filter exists [C], so Modified lists every contact and lets the link
//!   hashes tell what changed (see the README, "Modes").
//! - One `/contacts` resource holds persons (type `client`/`lead`) and providers (type
//!   `provider`, ALG-6 companies); a contact may be both, so writes keep the other types.
//! - `identification` reads as a string; writes send `{type, number}` (the Colombian shape
//!   "verified live" [C]; the Spanish shape is unknown) — one place to change: [`id_object`].
//! - Items `/items` (ALG-7) [C: A5, A3, A6]: `reference` is the Clientify SKU, `price` a list
//!   `[{idPriceList, name, price}]` (price possibly a string), `tax` a list of tax objects;
//!   writes send `price:[{idPriceList:"1", price}]` and `tax:[{id}]`. Tax ids come from
//!   `/taxes` (`id, name, percentage`), read once per connection and again when a rate is
//!   not found; canonical products carry rates, not ids ([`puente_core::tax_rates`]).
//! - Estimates `/estimates` (ALG-8) [C: A5]: `client{id,name}`, `date`, `dueDate`,
//!   `observations`, `total` (computed by Alegra), `items:[{id, name, reference, price,
//!   discount, quantity, tax:[{id}]}]`. The client's `identification` inside `client` is [I]
//!   (Alegra invoices embed it); the canonical code is `ALG-{id}` ([`budget_code`]).

mod identification;
mod mapping;
mod settings;
mod webhook;

pub use settings::VENDOR;

pub use mapping::{
    budget_code, estimate_record, id_object, is_kind, item_record, relationship_of, to_record,
    types_for, types_of, Tax,
};
pub use webhook::{parse_webhook, subscription_url, WebhookDelivery, WEBHOOK_EVENTS};

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::hooks::{header_u64, HttpHooks, Pace};
use crate::kit::mapping::SideMapping;
use crate::{
    Connector, Delivery, ListQuery, Page, Read, WebhookRequest, WebhookSetup, Webhooks, Write,
};
use async_trait::async_trait;
use reqwest::header::HeaderMap;
use std::time::Duration;

use mapping::*;
use puente_core::{
    canonical_decimal, parse_budget_lines, parse_tax_rates, ref_product, Fields, KeyKind, KeySpec,
    Kind, Record, Sku, REF_CUSTOMER,
};
use serde_json::{json, Value};

pub const SYSTEM: &str = "alegra";
/// Alegra ids are whole numbers (sent as strings by the REST API), for every entity.
pub const ID_SYNTAX: IdSyntax = IdSyntax::Integer;
/// The API's page cap.
pub const PAGE_LIMIT: u32 = 30;

#[derive(Clone, Debug)]
pub struct AlegraConfig {
    pub base_url: String,
    pub email: String,
    pub token: String,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    /// The flow's mapping adjustments.
    pub mapping: std::sync::Arc<SideMapping>,
}

pub struct Alegra {
    http: Http,
    mapping: std::sync::Arc<SideMapping>,
    /// `/taxes`, read on first need (ALG-7).
    taxes: tokio::sync::Mutex<Option<Vec<Tax>>>,
}

/// Alegra's rate-limit headers (spec §2: 150 requests a minute per user): when
/// `X-Rate-Limit-Remaining` reaches 0, the next call waits `X-Rate-Limit-Reset` seconds
/// instead of provoking a 429; a 429 waits the same.
struct RateHeaders;

impl HttpHooks for RateHeaders {
    fn pace(&self, headers: &HeaderMap) -> Pace {
        match (
            header_u64(headers, "x-rate-limit-remaining"),
            header_u64(headers, "x-rate-limit-reset"),
        ) {
            (Some(0), Some(secs)) => Pace::Wait(Duration::from_secs(secs)),
            (Some(_), _) => Pace::Clear,
            _ => Pace::Unknown,
        }
    }

    fn retry_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        header_u64(headers, "x-rate-limit-reset").map(|s| Duration::from_secs(s.max(1)))
    }
}

impl Alegra {
    pub fn new(cfg: AlegraConfig) -> Alegra {
        let http = Http::new(
            SYSTEM,
            &cfg.base_url,
            Auth::Basic(cfg.email, cfg.token),
            cfg.retry,
        )
        .with_budget(cfg.budget)
        .with_hooks(std::sync::Arc::new(RateHeaders));
        Alegra {
            http,
            mapping: cfg.mapping,
            taxes: tokio::sync::Mutex::new(None),
        }
    }

    /// Alegra's taxes, read once (`fresh`: read again, e.g. a rate was not found).
    pub async fn taxes(&self, fresh: bool) -> Result<Vec<Tax>, ConnectorError> {
        let mut cache = self.taxes.lock().await;
        if let (Some(t), false) = (cache.as_ref(), fresh) {
            return Ok(t.clone());
        }
        let a = self
            .http
            .get(
                "taxes",
                &[("start", "0".into()), ("limit", PAGE_LIMIT.to_string())],
            )
            .await
            .map_err(Self::auth_hint)?;
        // A bare array, `{data}` with metadata, or `{total, results}` [C: A5].
        let rows = a
            .body
            .as_array()
            .or_else(|| a.body.get("data").and_then(Value::as_array))
            .or_else(|| a.body.get("results").and_then(Value::as_array))
            .cloned()
            .unwrap_or_default();
        let list: Vec<Tax> = rows
            .iter()
            .map(|t| Tax {
                id: s(t, "id"),
                name: s(t, "name"),
                percentage: canonical_decimal(&text_of(t.get("percentage"))),
            })
            .collect();
        *cache = Some(list.clone());
        Ok(list)
    }

    /// ALG-7: the Alegra tax ids for canonical rates; a rate without a tax fails the record.
    async fn tax_ids(&self, rates: &str) -> Result<Vec<Value>, ConnectorError> {
        let wanted = parse_tax_rates(rates);
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        let mut taxes = self.taxes(false).await?;
        if wanted
            .iter()
            .any(|r| !taxes.iter().any(|t| &t.percentage == r))
        {
            taxes = self.taxes(true).await?;
        }
        wanted
            .iter()
            .map(|r| {
                taxes
                    .iter()
                    .find(|t| &t.percentage == r)
                    .map(|t| json!({"id": t.id}))
                    .ok_or_else(|| ConnectorError::Mapping {
                        system: SYSTEM.into(),
                        detail: format!(
                            "no Alegra tax has the rate {r}% (known: {}); add it in Alegra or fix the product's tax",
                            taxes
                                .iter()
                                .map(|t| format!("{} {}%", t.name, t.percentage))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    })
            })
            .collect()
    }

    /// Maps a vendor row of `kind`.
    async fn record_of(&self, kind: Kind, v: &Value) -> Result<Record, ConnectorError> {
        let mut r = match kind {
            Kind::Product => item_record(v, &self.taxes(false).await?),
            Kind::Budget => estimate_record(v, &self.taxes(false).await?),
            _ => to_record(kind, v),
        };
        self.mapping
            .apply_read(v, &mut r)
            .map_err(|detail| ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail,
            })?;
        Ok(r)
    }

    /// The flow's write adjustments in `body` (see [`SideMapping::apply_write`]).
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

    /// The write body of an item or estimate (all of it on create, `changed` on update).
    async fn catalog_body(
        &self,
        kind: Kind,
        fields: &Fields,
        changed: Option<&[String]>,
    ) -> Result<Value, ConnectorError> {
        let touched = |f: &str| changed.is_none_or(|c| c.iter().any(|x| x == f));
        let mut b = serde_json::Map::new();
        if kind == Kind::Product {
            if touched("sku") {
                b.insert("reference".into(), json!(fields.get("sku")));
            }
            for f in ["name", "description"] {
                if touched(f) {
                    b.insert(f.into(), json!(fields.get(f)));
                }
            }
            if touched("price") {
                let p = fields.get("price");
                let p = p.parse::<f64>().map(|x| json!(x)).unwrap_or(json!(p));
                b.insert("price".into(), json!([{"idPriceList": "1", "price": p}]));
            }
            if touched("taxes") {
                b.insert(
                    "tax".into(),
                    Value::Array(self.tax_ids(fields.get("taxes")).await?),
                );
            }
            if changed.is_none() {
                b.insert("type".into(), json!("product"));
            }
            return Ok(Value::Object(b));
        }
        if touched("customer") {
            let id = fields.get(REF_CUSTOMER);
            if id.is_empty() {
                return Err(ConnectorError::Mapping {
                    system: SYSTEM.into(),
                    detail: format!(
                        "the budget's customer {} has no Alegra contact",
                        fields.get("customer")
                    ),
                });
            }
            b.insert("client".into(), json!({"id": id}));
        }
        for (canon, key) in [
            ("date", "date"),
            ("due_date", "dueDate"),
            ("observations", "observations"),
        ] {
            if touched(canon) {
                b.insert(key.into(), json!(fields.get(canon)));
            }
        }
        if touched("lines") {
            let mut items = Vec::new();
            for l in parse_budget_lines(fields.get("lines")) {
                let key = Sku::parse(&l.sku).map(|k| k.key()).unwrap_or_default();
                let id = fields.get(&ref_product(&key));
                if id.is_empty() {
                    return Err(ConnectorError::Mapping {
                        system: SYSTEM.into(),
                        detail: format!(
                            "budget line '{}' (SKU '{}') has no Alegra item",
                            l.name, l.sku
                        ),
                    });
                }
                let n = |x: &str| x.parse::<f64>().map(|v| json!(v)).unwrap_or(json!(x));
                items.push(json!({
                    "id": id,
                    "name": l.name,
                    "reference": l.sku,
                    "price": n(&l.price),
                    "quantity": n(&l.quantity),
                    "discount": n(&l.discount),
                    "tax": self.tax_ids(&l.taxes).await?,
                }));
            }
            b.insert("items".into(), Value::Array(items));
        }
        Ok(Value::Object(b))
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check connections.alegra.email and the API token (Alegra → Configuración → API - Integraciones con otros sistemas)".into(),
            },
            other => other,
        }
    }

    fn array(body: &Value) -> Result<&Vec<Value>, ConnectorError> {
        body.as_array()
            .or_else(|| body.get("data").and_then(Value::as_array))
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: "expected a JSON array of contacts".into(),
            })
    }
}

impl Alegra {
    /// Contacts, companies (ALG-2..6), items (ALG-7) and estimates (ALG-8).
    fn supported(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Contact | Kind::Company | Kind::Product | Kind::Budget => Ok(()),
            k => Err(ConnectorError::unsupported(SYSTEM, k)),
        }
    }
}

#[async_trait]
impl Connector for Alegra {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.http
            .get("contacts", &[("start", "0".into()), ("limit", "1".into())])
            .await
            .map(|_| ())
            .map_err(Self::auth_hint)
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        // Alegra contacts have no custom fields; the Clientify id lives in Puente's links.
        Ok(Vec::new())
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
impl Read for Alegra {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        false
    }

    async fn list(
        &self,
        kind: Kind,
        _q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Self::supported(kind)?;
        let start: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(0);
        let mut q = vec![
            ("start", start.to_string()),
            ("limit", PAGE_LIMIT.to_string()),
            ("order_field", "id".to_string()),
            ("order_direction", "ASC".to_string()),
            ("metadata", "true".to_string()),
        ];
        if kind == Kind::Company {
            q.push(("type", "provider".into()));
        }
        let a = self
            .http
            .get(resource(kind), &q)
            .await
            .map_err(Self::auth_hint)?;
        let rows = Self::array(&a.body)?;
        let total = a.body.pointer("/metadata/total").and_then(|t| {
            t.as_u64()
                .or_else(|| t.as_str().and_then(|x| x.parse().ok()))
        });
        let next =
            (rows.len() as u32 >= PAGE_LIMIT).then(|| (start + rows.len() as u64).to_string());
        let mut records = Vec::with_capacity(rows.len());
        for v in rows {
            if matches!(kind, Kind::Product | Kind::Budget) || is_kind(v, kind) {
                records.push(self.record_of(kind, v).await?);
            }
        }
        Ok(Page {
            records,
            next,
            total,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        Self::supported(kind)?;
        match self
            .http
            .get(&format!("{}/{}", resource(kind), segment(id)), &[])
            .await
        {
            Ok(a) => Ok(Some(self.record_of(kind, &a.body).await?)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }
}

#[async_trait]
impl Write for Alegra {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (
                Kind::Contact | Kind::Company,
                KeyKind::TaxId | KeyKind::Email
            ) | (Kind::Product, KeyKind::Sku)
                | (Kind::Budget, KeyKind::Code)
        )
    }

    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        key: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        Self::supported(kind)?;
        if !self.searchable(kind, spec.kind) {
            return Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("looking {kind}s up by {}", spec.kind),
            });
        }
        if kind == Kind::Budget {
            // The code is `ALG-{id}`: the estimate is read by id.
            let id = key.strip_prefix("ALG-").unwrap_or("");
            if id.is_empty() {
                return Ok(Vec::new());
            }
            return Ok(self.get(kind, id).await?.into_iter().collect());
        }
        let q = match (kind, spec.kind) {
            (Kind::Product, _) => ("reference", key.to_string()),
            // Alegra's `email=` contact filter (spec §2.2).
            (_, KeyKind::Email) => ("email", key.to_string()),
            _ => ("identification", key.to_string()),
        };
        let a = self
            .http
            .get(resource(kind), &[q])
            .await
            .map_err(Self::auth_hint)?;
        let mut out = Vec::new();
        for v in Self::array(&a.body)? {
            let r = self.record_of(kind, v).await?;
            if kind != Kind::Product || spec.value(&r.fields).is_ok_and(|k| k == key) {
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
        Self::supported(kind)?;
        let mut body = match kind {
            Kind::Product | Kind::Budget => self.catalog_body(kind, fields, None).await?,
            _ => body_for(kind, fields, &[], None)?,
        };
        self.adjust(kind, &mut body, fields, None)?;
        let a = self
            .http
            .post(resource(kind), &body)
            .await
            .map_err(Self::auth_hint)?;
        self.record_of(kind, &a.body).await
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::supported(current.kind)?;
        let (target, changed) = current.fields.apply(set, clear);
        if matches!(current.kind, Kind::Product | Kind::Budget) {
            let mut body = self
                .catalog_body(current.kind, &target, Some(&changed))
                .await?;
            self.adjust(current.kind, &mut body, &target, Some(&changed))?;
            if body.as_object().is_some_and(|o| o.is_empty()) {
                return Ok(current.clone());
            }
            let a = self
                .http
                .put(
                    &format!("{}/{}", resource(current.kind), segment(&current.id)),
                    &body,
                )
                .await
                .map_err(Self::auth_hint)?;
            return self.record_of(current.kind, &a.body).await;
        }
        let mut body = body_for(current.kind, &target, &changed, Some(current))?;
        // A company written through the contact resource stays a provider (ALG-6).
        if current.kind == Kind::Company {
            let mut types: Vec<String> = current
                .extra
                .get("type")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            if !types.iter().any(|t| t == "provider") {
                types.push("provider".into());
                body["type"] = json!(types);
            }
        }
        self.adjust(current.kind, &mut body, &target, Some(&changed))?;
        if body.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(current.clone());
        }
        let a = self
            .http
            .put(&format!("contacts/{}", segment(&current.id)), &body)
            .await
            .map_err(Self::auth_hint)?;
        self.record_of(current.kind, &a.body).await
    }

    async fn party_kind(&self, id: &str) -> Result<Option<Kind>, ConnectorError> {
        match self
            .http
            .get(&format!("contacts/{}", segment(id)), &[])
            .await
        {
            // A provider that is not also a client/lead is a company (ALG-6).
            Ok(a) if !is_kind(&a.body, Kind::Contact) => Ok(Some(Kind::Company)),
            Ok(_) => Ok(Some(Kind::Contact)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }
}

#[async_trait]
impl Webhooks for Alegra {
    /// Subscribes `url` to each [`WEBHOOK_EVENTS`] subject of `kinds`, after listing the
    /// subscriptions so that an activation repeated (every `serve` start) adds none.
    async fn subscribe(&self, url: &str, kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        let url = subscription_url(url);
        let a = self
            .http
            .get("webhooks/subscriptions", &[])
            .await
            .map_err(Self::auth_hint)?;
        let existing: Vec<(String, String)> = a
            .body
            .get("subscriptions")
            .or(Some(&a.body))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|sub| (s(sub, "event"), s(sub, "url")))
            .collect();
        let mut created = Vec::new();
        for (event, _, ek) in WEBHOOK_EVENTS {
            if !ek.iter().any(|k| kinds.contains(k) && self.supports(*k)) {
                continue;
            }
            if existing
                .iter()
                .any(|(e, u)| e == event && subscription_url(u) == url)
            {
                continue;
            }
            self.http
                .post(
                    "webhooks/subscriptions",
                    &json!({"event": event, "url": url}),
                )
                .await
                .map_err(Self::auth_hint)?;
            created.push(format!("Alegra webhook subscription {event} → {url}"));
        }
        Ok(created)
    }

    fn setup(&self) -> WebhookSetup {
        WebhookSetup::Api
    }

    /// When a subscription is created, Alegra POSTs an empty body to its URL and creates the
    /// subscription only if that gets a 2XX within 5 s (spec §2.4, source A12).
    fn is_handshake(&self, req: &WebhookRequest<'_>) -> bool {
        req.body.iter().all(u8::is_ascii_whitespace)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, crate::WebhookError> {
        parse_webhook(req.body).map(|d| Delivery {
            event: d.event,
            targets: d.targets,
            version: d.version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use puente_core::Relationship;

    #[test]
    fn alg12_alegra_rate_headers_pace_the_next_call() {
        let h = |pairs: &[(&'static str, &'static str)]| {
            let mut m = HeaderMap::new();
            for (k, v) in pairs {
                m.insert(*k, v.parse().unwrap());
            }
            m
        };
        let spent = h(&[
            ("x-rate-limit-remaining", "0"),
            ("x-rate-limit-reset", "42"),
        ]);
        assert_eq!(
            RateHeaders.pace(&spent),
            Pace::Wait(Duration::from_secs(42))
        );
        assert_eq!(
            RateHeaders.pace(&h(&[("x-rate-limit-remaining", "7")])),
            Pace::Clear
        );
        assert_eq!(RateHeaders.pace(&h(&[])), Pace::Unknown);
        assert_eq!(
            RateHeaders.retry_wait(&spent),
            Some(Duration::from_secs(42))
        );
    }

    /// Issue 18: the docs' New-Client body [A11] has `name` as an object (or only
    /// `fullname`) and an integer `id`; the REST API a string name and string ids. Both parse
    /// to the same target, and the record read afterwards has its REST shape.
    #[test]
    fn alg11_documented_new_client_body_is_parsed() {
        let documented = json!({"subject": "new-client", "message": {"client": {
            "id": 774,
            "name": {"firstName": "Lina", "secondName": "María", "lastName": "Montoya", "secondLastName": "Ruiz"},
            "identification": "X1234567L", "phonePrimary": "981", "phoneSecondary": "", "mobile": "600",
            "type": ["client"]}}});
        let d = parse_webhook(documented.to_string().as_bytes()).unwrap();
        assert_eq!(d.event, "new-client");
        assert_eq!(d.targets, vec![(Kind::Contact, "774".to_string())]);
        let fullname = json!({"subject": "new-client", "message": {"client": {
            "id": 775, "name": {"fullname": "Talleres Miño SL"}, "type": ["provider"]}}});
        let d = parse_webhook(fullname.to_string().as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Company, "775".to_string())]);
        let rest = json!({"subject": "new-client", "message": {"client": {
            "id": "774", "name": "Lina María Montoya Ruiz", "type": ["client"]}}});
        let d = parse_webhook(rest.to_string().as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Contact, "774".to_string())]);
        // An integer beyond 2^53 or a negative one is not an Alegra id (nothing queued).
        for bad in [json!(1e23), json!(-3)] {
            let b = json!({"subject": "new-client", "message": {"client": {"id": bad, "type": ["client"]}}});
            assert!(parse_webhook(b.to_string().as_bytes()).is_err(), "{b}");
        }
    }

    #[test]
    fn alg11_alegra_webhook_kinds_come_from_the_types_and_deletions_are_not_synced() {
        let body = |subject: &str, client: Value| {
            json!({"subject": subject, "message": {"client": client}}).to_string()
        };
        let person = json!({"id": "3", "type": ["client"], "updated_at": "2026-11-22 10:00:00"});
        let d = parse_webhook(body("edit-client", person.clone()).as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Contact, "3".to_string())]);
        let provider = json!({"id": 4, "type": ["provider"]});
        let d = parse_webhook(body("new-client", provider).as_bytes()).unwrap();
        assert_eq!(d.targets, vec![(Kind::Company, "4".to_string())]);
        // Same second, other content: another version (no false duplicate).
        let mut edited = person.clone();
        edited["name"] = json!("Ana");
        assert_ne!(
            parse_webhook(body("edit-client", person).as_bytes())
                .unwrap()
                .version,
            parse_webhook(body("edit-client", edited).as_bytes())
                .unwrap()
                .version
        );
        let d = parse_webhook(body("delete-client", json!({"id": "3"})).as_bytes()).unwrap();
        assert!(d.targets.is_empty());
        assert!(parse_webhook(br#"{"event":"x","data":{}}"#).is_err());
        assert_eq!(
            subscription_url("https://h.es/webhooks/t/alegra/s"),
            "h.es/webhooks/t/alegra/s"
        );
    }

    #[test]
    fn alg11_alegra_item_webhooks_are_products_versioned_by_content() {
        let body = |subject: &str, item: Value| {
            json!({"subject": subject, "message": {"item": item}}).to_string()
        };
        let item = json!({"id": "5", "name": "Cable", "reference": "CAB-005",
            "price": [{"idPriceList": "1", "price": "9.95"}]});
        for subject in ["new-item", "edit-item"] {
            let d = parse_webhook(body(subject, item.clone()).as_bytes()).unwrap();
            assert_eq!(
                d.targets,
                vec![(Kind::Product, "5".to_string())],
                "{subject}"
            );
        }
        let mut repriced = item.clone();
        repriced["price"][0]["price"] = json!("11.00");
        assert_ne!(
            parse_webhook(body("edit-item", item.clone()).as_bytes())
                .unwrap()
                .version,
            parse_webhook(body("edit-item", repriced).as_bytes())
                .unwrap()
                .version
        );
        // An item subject reads `message.item`, not `message.client`.
        let e = parse_webhook(
            json!({"subject": "edit-item", "message": {"client": item}})
                .to_string()
                .as_bytes(),
        )
        .unwrap_err();
        assert!(e.0.contains("message.item"), "{e:?}");
        let d = parse_webhook(body("delete-item", json!({"id": "5"})).as_bytes()).unwrap();
        assert!(d.targets.is_empty());
    }

    #[test]
    fn alg4_alegra_types_map_to_relationship_and_back_keeping_provider() {
        assert_eq!(relationship_of(&["client".into()]), Relationship::Client);
        assert_eq!(relationship_of(&["lead".into()]), Relationship::Lead);
        assert_eq!(relationship_of(&[]), Relationship::Other);
        assert_eq!(relationship_of(&["provider".into()]), Relationship::Other);
        assert_eq!(
            types_for(Relationship::Lead, &["client".into(), "provider".into()]),
            vec!["lead", "provider"]
        );
        assert_eq!(
            types_for(Relationship::Other, &["client".into()]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn alg6_providers_are_companies_persons_are_contacts() {
        let p = json!({"type": ["provider"]});
        let c = json!({"type": ["client"]});
        let both = json!({"type": ["client", "provider"]});
        let none = json!({"type": []});
        assert!(is_kind(&p, Kind::Company) && !is_kind(&p, Kind::Contact));
        assert!(is_kind(&c, Kind::Contact) && !is_kind(&c, Kind::Company));
        assert!(is_kind(&both, Kind::Contact) && is_kind(&both, Kind::Company));
        assert!(is_kind(&none, Kind::Contact));
    }

    #[test]
    fn alg2_alegra_contact_maps_to_canonical() {
        let v = json!({"id": "774", "name": "Lina María Montoya Ruiz",
            "nameObject": {"firstName": "Lina", "secondName": "María", "lastName": "Montoya", "secondLastName": "Ruiz"},
            "identification": "x1234567l", "email": "lina@ex.com", "phonePrimary": "981", "mobile": "600",
            "type": ["client"], "address": {"address": "Calle 10", "city": "Lugo", "department": "Lugo", "zipCode": "27001"},
            "updated_at": "2026-11-22 10:00:00"});
        let r = to_record(Kind::Contact, &v);
        assert_eq!(r.fields.get("first_name"), "Lina María");
        assert_eq!(r.fields.get("last_name"), "Montoya Ruiz");
        assert_eq!(r.fields.get("tax_id"), "X1234567L");
        assert_eq!(r.fields.get("status"), "client");
        assert_eq!(r.fields.get("postal_code"), "27001");
        assert!(r.modified.is_some());
        // and the write side keeps the names whole, so they read back the same (no echo loop)
        let body = body_for(Kind::Contact, &r.fields, &[], None).unwrap();
        assert_eq!(body["nameObject"]["firstName"], "Lina María");
        // Issue 18: an NIE is written as Alegra's type NIF (NIE is no longer a type, A12).
        assert_eq!(
            body["identification"],
            json!({"type": "NIF", "number": "X1234567L"})
        );
    }
}
