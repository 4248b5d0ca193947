//! Clientify (CRM), API v1. Facts from `spec/vendor-apis/clientify-alegra.md` §1; most are
//! [C] (seen in client code), so every path and field name Puente relies on is here.
//!
//! - Auth `Authorization: Token <key>`; DRF paging `{count,next,previous,results}`, 404
//!   `Invalid page.` past the end; `page_size` up to 250 accepted.
//! - Filters: `taxpayer_identification_number=`, `modified[gte]=` (ISO 8601), `ordering=`.
//! - PUT is a partial update; `emails`/`phones`/`addresses`/`tags` replace their lists;
//!   `custom_fields` `[{field,value}]` merge by name.
//! - A flow may keep its counterpart's id in a custom field (ALG-2 step 1, ALG-13: `in_alegra`)
//!   and a tag on every synced record (ALG-5: `alegra`).
//! - Products `/products/` (`sku`, `name`, `price`, filter `sku=`) [C: C7] and orders
//!   `/orders/` (`order_id`, `ecommerce`, `status`, `order_date`, `currency`, `items`
//!   `[{name, sku, price, quantity}]`; filters `order_id=`, `ecommerce=`): the endpoint exists
//!   [C: C1] but its payload is not documented, so these names follow ODO-4/ODO-5 and live
//!   only in [`product_record`], [`order_record`] and [`body_for`].
//! - Towards Alegra, products also carry `description` and `taxes` (ALG-7). Clientify's
//!   product tax fields are **not confirmed** by any source (§4 "product tax fields"); Puente
//!   reads and writes `taxes: [{"name", "percentage"}]` (the rate is what links to Alegra's
//!   tax ids) — change [`product_taxes`] and [`taxes_json`] when the real shape is known.
//! - Budgets `/budgets/` (ALG-8): **no endpoint was found** (§1.3 "Budgets/quotes: no
//!   endpoint found"); the sandbox models one DRF-style: `code` (`ALG-{alegra id}`, filter
//!   `code=`), `contact` / `company` (id on write; nested `{id, name,
//!   taxpayer_identification_number}` on read), `date`, `due_date` (`YYYY-MM-DD`),
//!   `observations`, `total`, `lines: [{product, sku, name, quantity, price, discount,
//!   taxes}]`. Every name is in [`budget_record`] and [`budget_body`].
//!
//! The marks Puente keeps on Clientify records for a flow — the counterpart's id in a custom
//! field, a tag, a budget code prefix — are the flow's ([`BackRef`], from its preset: `in_alegra`,
//! `alegra` and `ALG-` towards Alegra, none towards Odoo); the contact type that agrees with
//! the status (ALG-4, ODO-2 "Cliente actual") is Clientify's own and always kept. Countries
//! are ISO codes in canonical form (Clientify keeps `España`). What a flow maps differently
//! (Odoo's one `name`, `business_name`) is its mapping, not this module's.

mod mapping;
mod settings;
mod webhook;

pub use settings::VENDOR;

pub use mapping::{
    budget_record, order_record, product_record, product_taxes, taxes_json, to_record_with,
};
pub use webhook::{parse_webhook, WebhookDelivery, WebhookError, WEBHOOK_EVENTS};

use crate::config::BackRef;
use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::mapping::SideMapping;
use crate::{
    BackReference, Connector, Delivery, ListQuery, Page, Read, WebhookRequest, WebhookSetup,
    Webhooks, Write,
};
use async_trait::async_trait;
use chrono::SecondsFormat;
use mapping::{body_for, s};
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record, Relationship, TaxId};
use serde_json::{json, Value};
use std::sync::Arc;

pub const SYSTEM: &str = "clientify";
/// Clientify ids are whole numbers, for every entity.
pub const ID_SYNTAX: IdSyntax = IdSyntax::Integer;
const PHONE_MOBILE: i64 = 2;
const PHONE_MAIN: i64 = 1;

/// Settings of a Clientify connection.
#[derive(Clone, Debug)]
pub struct ClientifyConfig {
    pub base_url: String,
    pub api_key: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    /// The marks the flow keeps on Clientify records.
    pub back_ref: BackRef,
    /// The flow's mapping adjustments.
    pub mapping: Arc<SideMapping>,
}

pub struct Clientify {
    http: Http,
    page_size: u32,
    back_ref: BackRef,
    mapping: Arc<SideMapping>,
}

fn path(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts/",
        Kind::Company => "companies/",
        Kind::Product => "products/",
        Kind::Order => "orders/",
        Kind::Budget => "budgets/",
        // Not synced with Clientify (`supports`); products hold no stock there.
        Kind::Stock => "products/",
    }
}

fn object_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contact",
        Kind::Company => "company",
        Kind::Product => "product",
        Kind::Order => "order",
        Kind::Budget => "budget",
        Kind::Stock => "product",
    }
}

/// ALG-4, Clientify side: status slug → canonical relationship. Every lead-like stage is a
/// lead, so a `hot-lead` is not rewritten to `cold-lead` when Alegra says `lead`.
pub fn relationship_of(status: &str) -> Relationship {
    match status {
        "client" => Relationship::Client,
        "visitor" | "not-qualified-lead" | "cold-lead" | "warm-lead" | "hot-lead" | "in-deal" => {
            Relationship::Lead
        }
        _ => Relationship::Other,
    }
}

/// ALG-4, towards Clientify: canonical relationship → (status slug, contact type).
pub fn status_of(rel: Relationship) -> (&'static str, &'static str) {
    match rel {
        Relationship::Client => ("client", "Cliente actual"),
        Relationship::Lead => ("cold-lead", "Cliente potencial"),
        Relationship::Other => ("other", ""),
    }
}

impl Clientify {
    pub fn new(cfg: ClientifyConfig) -> Clientify {
        let http = Http::new(SYSTEM, &cfg.base_url, Auth::Token(cfg.api_key), cfg.retry)
            .with_budget(cfg.budget);
        Clientify {
            http,
            page_size: cfg.page_size.clamp(1, 250),
            back_ref: cfg.back_ref,
            mapping: cfg.mapping,
        }
    }

    /// A Clientify record of `kind` as canonical fields, with the flow's marks and mapping.
    fn record(&self, kind: Kind, v: &Value) -> Result<Record, ConnectorError> {
        let mut r = to_record_with(&self.back_ref, kind, v);
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

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the API key (Clientify → Settings → API) in connections.clientify.api_key".into(),
            },
            other => other,
        }
    }

    /// Adds the marks to a write body when missing: the flow's ([`BackRef`]: the
    /// counterpart's id in its custom field, its tag, a budget's minted code) and the contact
    /// type that agrees with the status (ALG-4).
    fn add_marks(
        back: &BackRef,
        body: &mut Value,
        current: Option<&Record>,
        partner_id: Option<&str>,
    ) {
        let Some(pid) = partner_id else { return };
        if let Some(c) = current.filter(|c| c.kind == Kind::Budget) {
            if let Some(prefix) = &back.code_prefix {
                let code = format!("{prefix}{pid}");
                if c.fields.get("code") != code {
                    body["code"] = json!(code);
                }
            }
            return;
        }
        if let Some(c) = current.filter(|c| c.kind == Kind::Contact && !c.marked) {
            if body.get("contact_type").is_none() {
                let (_, want) = status_of(Relationship::from_canonical(c.fields.get("status")));
                if !want.is_empty() {
                    body["contact_type"] = json!(want);
                }
            }
        }
        if current.is_some_and(|c| matches!(c.kind, Kind::Product | Kind::Order)) {
            return;
        }
        if let Some(field) = &back.field {
            if current.and_then(|c| c.partner_ref.as_deref()) != Some(pid) {
                body["custom_fields"] = json!([{"field": field, "value": pid}]);
            }
        }
        if let Some(tag) = &back.tag {
            let has_tag = current
                .and_then(|c| c.extra.get("tags"))
                .and_then(Value::as_array)
                .is_some_and(|t| t.iter().any(|x| x.as_str() == Some(tag.as_str())));
            if !has_tag {
                let mut tags: Vec<Value> = current
                    .and_then(|c| c.extra.get("tags"))
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                tags.push(json!(tag));
                body["tags"] = Value::Array(tags);
            }
        }
    }
}

#[async_trait]
impl Connector for Clientify {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.http
            .get("contacts/", &[("page_size", "1".into())])
            .await
            .map(|_| ())
            .map_err(Self::auth_hint)
    }

    async fn prepare(&self) -> Result<Vec<String>, ConnectorError> {
        let Some(link_field) = self.back_ref.field.clone() else {
            // The flow keeps no id in Clientify records: no custom field needed.
            return Ok(Vec::new());
        };
        let mut existing = Vec::new();
        let mut next: Option<String> = Some(self.http.url("custom-fields/"));
        let mut query = vec![("page_size", "250".to_string())];
        while let Some(url) = next {
            let a = match self.http.get(&url, &query).await {
                Ok(a) => a,
                Err(ConnectorError::NotFound { .. }) => break,
                Err(e) => return Err(Self::auth_hint(e)),
            };
            query.clear();
            if let Some(rs) = a.body.get("results").and_then(Value::as_array) {
                for r in rs {
                    existing.push((s(r, "name"), s(r, "object_type")));
                }
            }
            next = a
                .body
                .get("next")
                .and_then(Value::as_str)
                .map(str::to_string);
        }
        let mut created = Vec::new();
        for kind in [Kind::Contact, Kind::Company] {
            let ot = object_type(kind);
            if !existing.iter().any(|(n, o)| *n == link_field && o == ot) {
                self.http
                    .post(
                        "custom-fields/",
                        &json!({"name": link_field, "object_type": ot, "field_type": "text"}),
                    )
                    .await?;
                created.push(format!(
                    "custom field {link_field} on {}",
                    path(kind).trim_end_matches('/')
                ));
            }
        }
        Ok(created)
    }

    fn supports(&self, kind: Kind) -> bool {
        kind != Kind::Stock
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

    fn back_reference(&self) -> Option<&dyn BackReference> {
        Some(self)
    }
}

#[async_trait]
impl Read for Clientify {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let since = q.modified_since;
        let page_no = page.unwrap_or("1").to_string();
        let mut q = vec![
            ("page", page_no.clone()),
            ("page_size", self.page_size.to_string()),
        ];
        match since {
            Some(t) => {
                // Tie-safe order for the Modified cursor: modification time, then id.
                q.push(("ordering", "modified,id".into()));
                q.push((
                    "modified[gte]",
                    t.to_rfc3339_opts(SecondsFormat::Micros, true),
                ));
            }
            // Full: by id, which edits during the run do not reorder.
            None => q.push(("ordering", "id".into())),
        }
        let a = match self.http.get(path(kind), &q).await {
            Ok(a) => a,
            // DRF: a page past the end is 404 "Invalid page." (records vanished mid-run).
            Err(ConnectorError::NotFound { .. }) if page_no != "1" => return Ok(Page::default()),
            Err(e) => return Err(Self::auth_hint(e)),
        };
        let records = a
            .body
            .get("results")
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: "list answer without `results`".into(),
            })?
            .iter()
            .map(|v| self.record(kind, v))
            .collect::<Result<Vec<_>, _>>()?;
        let next = a
            .body
            .get("next")
            .and_then(Value::as_str)
            .map(|_| (page_no.parse::<u64>().unwrap_or(1) + 1).to_string());
        Ok(Page {
            records,
            next,
            total: a.body.get("count").and_then(Value::as_u64),
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        match self
            .http
            .get(&format!("{}{}/", path(kind), segment(id)), &[])
            .await
        {
            Ok(a) => Ok(Some(self.record(kind, &a.body)?)),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }
}

#[async_trait]
impl Write for Clientify {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (Kind::Contact | Kind::Company, KeyKind::TaxId)
                | (Kind::Contact, KeyKind::Email)
                | (Kind::Product, KeyKind::Sku)
                | (Kind::Order, KeyKind::Order)
                | (Kind::Budget, KeyKind::Code)
        )
    }

    async fn find_by_key(
        &self,
        kind: Kind,
        spec: &KeySpec,
        key: &str,
    ) -> Result<Vec<Record>, ConnectorError> {
        if !self.searchable(kind, spec.kind) {
            return Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("looking {kind}s up by {}", spec.kind),
            });
        }
        let q: Vec<(&str, String)> = match kind {
            // Clientify's `email=` filter (spec §1.2); the match on the key is made below.
            Kind::Contact if spec.kind == KeyKind::Email => vec![("email", key.to_string())],
            Kind::Contact | Kind::Company => {
                vec![("taxpayer_identification_number", key.to_string())]
            }
            // The exact filter is case-sensitive: the match on the key is made below.
            Kind::Product | Kind::Stock => vec![("sku", key.to_string())],
            Kind::Order => {
                let (shop, number) = key.split_once('/').unwrap_or(("", key));
                vec![
                    ("order_id", number.to_string()),
                    ("ecommerce", shop.to_string()),
                ]
            }
            Kind::Budget => vec![("code", key.to_string())],
        };
        let search = |q: Vec<(&'static str, String)>| async move {
            let a = self
                .http
                .get(path(kind), &q)
                .await
                .map_err(Self::auth_hint)?;
            let mut out = Vec::new();
            for v in a
                .body
                .get("results")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let r = self.record(kind, v)?;
                if spec.value(&r.fields).is_ok_and(|k| k == key) {
                    out.push(r);
                }
            }
            Ok::<Vec<Record>, ConnectorError>(out)
        };
        let found = search(q).await?;
        if !found.is_empty() || spec.kind != KeyKind::TaxId {
            return Ok(found);
        }
        // The identification filter is exact on the text people typed (`12.345.678-z`,
        // `es B-1234567-4`): before anyone concludes the record is missing (and creates it
        // twice), a text search on its digits, kept only where the identification parses to
        // the same key.
        let fragments = TaxId::parse(key)
            .map(|t| t.search_fragments())
            .unwrap_or_default();
        for fragment in fragments {
            let found = search(vec![("query", fragment)]).await?;
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(Vec::new())
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let mut body = body_for(kind, fields, &[], None)?;
        if matches!(kind, Kind::Contact | Kind::Company) {
            Self::add_marks(&self.back_ref, &mut body, None, partner_id);
        }
        self.adjust(kind, &mut body, fields, None)?;
        let a = self
            .http
            .post(path(kind), &body)
            .await
            .map_err(Self::auth_hint)?;
        self.record(kind, &a.body)
    }

    async fn update(
        &self,
        current: &Record,
        set: &Fields,
        clear: &[String],
        partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        let (target, changed) = current.fields.apply(set, clear);
        let mut body = body_for(current.kind, &target, &changed, Some(current))?;
        Self::add_marks(&self.back_ref, &mut body, Some(current), partner_id);
        self.adjust(current.kind, &mut body, &target, Some(&changed))?;
        if body.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(current.clone());
        }
        let a = self
            .http
            .put(
                &format!("{}{}/", path(current.kind), segment(&current.id)),
                &body,
            )
            .await
            .map_err(Self::auth_hint)?;
        self.record(current.kind, &a.body)
    }
}

impl BackReference for Clientify {
    fn needs_marks(&self, record: &Record, partner_id: &str) -> bool {
        let back = &self.back_ref;
        match record.kind {
            // ALG-8: a budget made in Clientify takes its estimate's code once it exists.
            Kind::Budget => back.code_prefix.as_ref().is_some_and(|p| {
                !partner_id.is_empty() && record.fields.get("code") != format!("{p}{partner_id}")
            }),
            Kind::Product | Kind::Order => false,
            _ => {
                !record.marked
                    || (back.field.is_some() && record.partner_ref.as_deref() != Some(partner_id))
            }
        }
    }
}

impl Webhooks for Clientify {
    fn setup(&self) -> WebhookSetup {
        // Clientify registers webhooks in its UI only (spec §1.4): the URL is given to the
        // user instead.
        WebhookSetup::Manual
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, crate::WebhookError> {
        parse_webhook(req.body).map(|d| Delivery {
            event: d.event,
            targets: d.kind.zip(d.id).into_iter().collect(),
            version: d.version,
        })
    }
}
