//! Visma e-conomic (Danish accounting), the legacy REST API at
//! `https://restapi.e-conomic.com`. Facts from `spec/vendor-apis/shops-accounting.md` §(b1)
//! and the vendor's docs (`e-conomic/slate`); every e-conomic path and field name Puente
//! relies on is in this folder.
//!
//! - Auth: the two token headers `X-AppSecretToken` and `X-AgreementGrantToken`.
//! - Collections: `skippages`/`pagesize` (at most 1000: calls are what an agreement pays,
//!   50,000 a day) with `pagination.nextPage` while more remain; `filter=` (`email$eq:`,
//!   `lastUpdated$gte:`) with its escapes; `sort=`.
//! - Writes: `null` is refused (empty values are left out), `PUT` takes the whole document,
//!   so an update sends the document with the change ([`Write::partial_updates`] says so).
//! - Customers (APC-1, APC-5): a private debtor is the person; a company debtor is the
//!   company with its person as a contact (`/customers/{n}/contacts`) named in `attention`.
//!   New ones take their VAT zone and customer group (its revenue account) from the flow's
//!   country tables. Products (APC-6) by `productNumber` (the SKU; custom key encoding in
//!   URLs), their product group by VAT rate (`tax_codes`); the read-only `inventory` is the
//!   stock (APC-4), by the flow's formula. Sales documents (APC-2) of the flow's type:
//!   quote, order, invoice (draft) or booked invoice; the shop's order key in
//!   `references.other`.
//! - Webhooks: legacy URL templates set up in the UI, one unsigned request per changed
//!   resource, its number in the URL ([`webhook`]).
//! - 429 with `Retry-After` (the daily calls, the token bucket) is waited out by the kit.

mod mapping;
mod settings;
mod webhook;

pub use mapping::{
    customer_record, document_body, document_record, order_key, product_record, stock_record,
    Recipient,
};
pub use settings::VENDOR;
pub use webhook::parse_webhook;

use crate::error::ConnectorError;
use crate::http::{Answer, Auth, CallStats, Http, RetryPolicy};
use crate::ids::IdSyntax;
use crate::kit::mapping::SideMapping;
use crate::{
    Connector, Delivery, ListQuery, Page, Read, WebhookRequest, WebhookSetup, Webhooks, Write,
};
use async_trait::async_trait;
use mapping::{s, Groups};
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record, REF_CUSTOMER};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const SYSTEM: &str = "economic";
/// The largest page e-conomic serves.
pub const MAX_PAGE: u32 = 1000;

/// APC-2: the sales document a flow's orders become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocType {
    Quote,
    Order,
    Invoice,
    BookedInvoice,
}

impl DocType {
    pub fn parse(s: &str) -> Option<DocType> {
        Some(match s.trim() {
            "quote" => DocType::Quote,
            "order" => DocType::Order,
            "invoice" => DocType::Invoice,
            "booked_invoice" => DocType::BookedInvoice,
            _ => return None,
        })
    }

    /// Where documents of the type are listed, in order (a sent order is still the flow's).
    fn collections(self) -> &'static [&'static str] {
        match self {
            DocType::Quote => &["quotes/drafts", "quotes/sent", "quotes/archived"],
            DocType::Order => &["orders/drafts", "orders/sent", "orders/archived"],
            DocType::Invoice => &["invoices/drafts"],
            DocType::BookedInvoice => &["invoices/booked"],
        }
    }

    /// The document's number property.
    fn number_key(self, collection: &str) -> &'static str {
        match (self, collection) {
            (DocType::Quote, _) => "quoteNumber",
            (DocType::Order, _) => "orderNumber",
            (_, "invoices/drafts") => "draftInvoiceNumber",
            _ => "bookedInvoiceNumber",
        }
    }

    /// Where a new one is posted.
    fn create_path(self) -> &'static str {
        match self {
            DocType::Quote => "quotes/drafts",
            DocType::Order => "orders/drafts",
            DocType::Invoice | DocType::BookedInvoice => "invoices/drafts",
        }
    }
}

/// APC-4: how a product's inventory becomes the shop's stock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockFormula {
    /// In stock minus what customers ordered (`inventory.available`): the default.
    Available,
    /// In stock, reservations ignored.
    InStock,
    /// Available plus what is ordered from suppliers.
    AvailablePlusIncoming,
}

impl StockFormula {
    pub fn parse(s: &str) -> Option<StockFormula> {
        Some(match s.trim() {
            "available" => StockFormula::Available,
            "in_stock" => StockFormula::InStock,
            "available_plus_incoming" => StockFormula::AvailablePlusIncoming,
            _ => return None,
        })
    }
}

/// A flow's options for its e-conomic side (`[flows.options.NAME]`), with their defaults
/// (what the connector does without a preset).
#[derive(Clone, Debug)]
pub struct Options {
    pub document: DocType,
    /// APC-1: one customer number for every document.
    pub default_customer: Option<u64>,
    /// The document layout; the agreement's first when not given.
    pub layout: Option<u64>,
    pub stock: StockFormula,
    /// New customers' currency, VAT zone, group and payment terms when the flow's tables
    /// do not say.
    pub customer_currency: String,
    pub vat_zone: u64,
    pub customer_group: u64,
    pub payment_terms: u64,
    /// New products' group when the flow's `tax_codes` does not say.
    pub product_group: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            document: DocType::Order,
            default_customer: None,
            layout: None,
            stock: StockFormula::Available,
            customer_currency: "DKK".into(),
            vat_zone: 1,
            customer_group: 1,
            payment_terms: 1,
            product_group: 1,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EconomicConfig {
    pub base_url: String,
    pub app_secret_token: String,
    pub agreement_grant_token: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub options: Options,
    pub mapping: Arc<SideMapping>,
}

pub struct Economic {
    http: Http,
    page_size: u32,
    opts: Options,
    mapping: Arc<SideMapping>,
    groups: tokio::sync::Mutex<Option<Groups>>,
    layout: tokio::sync::Mutex<Option<u64>>,
    /// Customers read or written by this connection: a document's recipient.
    customers: Mutex<HashMap<u64, Value>>,
}

/// The custom encoding of a key in a URL segment [D "Custom resource self-link encoding"].
pub fn encode_key(key: &str) -> String {
    let mut out = String::new();
    for c in key.chars() {
        let rep = match c {
            '<' => "_0_",
            '>' => "_1_",
            '*' => "_2_",
            '%' => "_3_",
            ':' => "_4_",
            '&' => "_5_",
            '/' => "_6_",
            '\\' => "_7_",
            '_' => "_8_",
            ' ' => "_9_",
            '?' => "_10_",
            '.' => "_11_",
            '#' => "_12_",
            '+' => "_13_",
            c if c.is_ascii_alphanumeric() || c == '-' || c == '~' => {
                out.push(c);
                continue;
            }
            c => {
                let mut b = [0; 4];
                for byte in c.encode_utf8(&mut b).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
                continue;
            }
        };
        out.push_str(rep);
    }
    out
}

/// A value in a `filter=` predicate, its special characters escaped [D].
fn filter_value(v: &str) -> String {
    let mut out = String::new();
    for c in v.chars() {
        if matches!(c, '$' | '(' | ')' | '*' | ',' | '[' | ']') {
            out.push('$');
        }
        out.push(c);
    }
    out
}

fn collection(a: &Answer) -> Vec<Value> {
    a.body
        .get("collection")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn has_next(a: &Answer) -> bool {
    a.body
        .pointer("/pagination/nextPage")
        .is_some_and(|n| !n.is_null())
}

impl Economic {
    pub fn new(cfg: EconomicConfig) -> Economic {
        let auth = Auth::Headers(vec![
            ("X-AppSecretToken".into(), cfg.app_secret_token),
            ("X-AgreementGrantToken".into(), cfg.agreement_grant_token),
        ]);
        Economic {
            http: Http::new(SYSTEM, &cfg.base_url, auth, cfg.retry).with_budget(cfg.budget),
            page_size: cfg.page_size.clamp(1, MAX_PAGE),
            opts: cfg.options,
            mapping: cfg.mapping,
            groups: tokio::sync::Mutex::new(None),
            layout: tokio::sync::Mutex::new(None),
            customers: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    fn supported(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Contact | Kind::Product | Kind::Stock | Kind::Order => Ok(()),
            k => Err(ConnectorError::unsupported(SYSTEM, k)),
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the app secret token and the agreement grant token (the app's approval link) in the connection's app_secret_token and agreement_grant_token".into(),
            },
            other => other,
        }
    }

    fn mapping_err(detail: String) -> ConnectorError {
        ConnectorError::Mapping {
            system: SYSTEM.into(),
            detail,
        }
    }

    async fn get(&self, path: &str, q: &[(&str, String)]) -> Result<Answer, ConnectorError> {
        self.http.get(path, q).await.map_err(Self::auth_hint)
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.http.post(path, body).await.map_err(Self::auth_hint)
    }

    async fn put(&self, path: &str, body: &Value) -> Result<Answer, ConnectorError> {
        self.http.put(path, body).await.map_err(Self::auth_hint)
    }

    /// Every row of a collection matching `q`, page by page.
    async fn all(&self, path: &str, q: &[(&str, String)]) -> Result<Vec<Value>, ConnectorError> {
        let mut out = Vec::new();
        for skip in 0u64.. {
            let mut query = q.to_vec();
            query.push(("skippages", skip.to_string()));
            query.push(("pagesize", MAX_PAGE.to_string()));
            let a = self.get(path, &query).await?;
            out.extend(collection(&a));
            if !has_next(&a) {
                break;
            }
        }
        Ok(out)
    }

    fn mapped(&self, raw: &Value, mut r: Record) -> Result<Record, ConnectorError> {
        self.mapping
            .apply_read(raw, &mut r)
            .map_err(Self::mapping_err)?;
        Ok(r)
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
            .map_err(Self::mapping_err)
    }

    /// The product groups' names (read once).
    async fn groups(&self) -> Result<Groups, ConnectorError> {
        let mut g = self.groups.lock().await;
        if let Some(x) = g.as_ref() {
            return Ok(x.clone());
        }
        let mut out = Groups::new();
        for v in self.all("product-groups", &[]).await? {
            if let Some(n) = v.get("productGroupNumber").and_then(Value::as_u64) {
                out.insert(n, s(&v, "name"));
            }
        }
        *g = Some(out.clone());
        Ok(out)
    }

    /// The layout of new documents: the option, else the agreement's first (read once).
    async fn layout(&self) -> Result<Option<u64>, ConnectorError> {
        if let Some(l) = self.opts.layout {
            return Ok(Some(l));
        }
        let mut l = self.layout.lock().await;
        if l.is_none() {
            let a = self
                .get(
                    "layouts",
                    &[("pagesize", "1".into()), ("sort", "layoutNumber".into())],
                )
                .await?;
            *l = collection(&a)
                .first()
                .and_then(|v| v.get("layoutNumber"))
                .and_then(Value::as_u64);
        }
        Ok(*l)
    }

    /// A customer with its contact person (a company debtor's `attention`).
    async fn customer(&self, raw: &Value) -> Result<Record, ConnectorError> {
        let n = s(raw, "customerNumber");
        let contact = match raw
            .pointer("/attention/customerContactNumber")
            .and_then(Value::as_u64)
        {
            Some(c) => match self.get(&format!("customers/{n}/contacts/{c}"), &[]).await {
                Ok(a) => Some(a.body),
                Err(ConnectorError::NotFound { .. }) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        if let Ok(num) = n.parse::<u64>() {
            self.remember(num, raw);
        }
        self.mapped(raw, customer_record(raw, contact.as_ref()))
    }

    fn remember(&self, number: u64, raw: &Value) {
        let mut c = self.customers.lock().unwrap_or_else(|e| e.into_inner());
        if c.len() > 10_000 {
            c.clear();
        }
        c.insert(number, raw.clone());
    }

    async fn record(
        &self,
        kind: Kind,
        raw: &Value,
        coll: &str,
    ) -> Result<Option<Record>, ConnectorError> {
        Ok(Some(match kind {
            Kind::Contact => self.customer(raw).await?,
            Kind::Product => {
                let groups = self.groups().await?;
                self.mapped(raw, product_record(raw, &self.mapping.tables, &groups))?
            }
            Kind::Stock => match stock_record(raw, self.opts.stock) {
                Some(r) => self.mapped(raw, r)?,
                None => return Ok(None),
            },
            _ => {
                let r = document_record(raw, self.opts.document.number_key(coll));
                self.mapped(raw, r)?
            }
        }))
    }

    fn path(kind: Kind) -> &'static str {
        match kind {
            Kind::Contact => "customers",
            _ => "products",
        }
    }

    /// The recipient of a document: the customer as this connection last read or wrote it,
    /// else read now.
    async fn recipient(&self, fields: &Fields) -> Result<Option<Recipient>, ConnectorError> {
        let number = match self.opts.default_customer {
            Some(n) => n,
            None => match fields.get(REF_CUSTOMER).parse::<u64>() {
                Ok(n) => n,
                Err(_) => return Ok(None),
            },
        };
        let known = self
            .customers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&number)
            .cloned();
        let customer = match known {
            Some(c) => c,
            None => {
                let c = self.get(&format!("customers/{number}"), &[]).await?.body;
                self.remember(number, &c);
                c
            }
        };
        Ok(Some(Recipient { number, customer }))
    }

    /// A document of the flow's type found by number, with the collection it is in.
    async fn document(
        &self,
        number: &str,
    ) -> Result<Option<(Value, &'static str)>, ConnectorError> {
        for coll in self.opts.document.collections() {
            match self.get(&format!("{coll}/{number}"), &[]).await {
                Ok(a) => return Ok(Some((a.body, coll))),
                Err(ConnectorError::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    async fn create_document(&self, fields: &Fields) -> Result<Record, ConnectorError> {
        let who = self.recipient(fields).await?;
        if who.is_none() {
            return Err(Self::mapping_err(format!(
                "order {} has no e-conomic customer (it was not made first)",
                fields.get("order_id")
            )));
        }
        let layout = self.layout().await?;
        let mut doc = document_body(
            fields,
            who.as_ref(),
            layout,
            &self.mapping.tables,
            &self.opts,
        )
        .map_err(Self::mapping_err)?;
        self.adjust(Kind::Order, &mut doc, fields, None)?;
        let t = self.opts.document;
        let a = self.post(t.create_path(), &doc).await?;
        let created = a.body;
        let key = t.number_key(t.create_path());
        match t {
            DocType::BookedInvoice => {
                let n = created.get(key).cloned().unwrap_or(Value::Null);
                let booked = self
                    .post(
                        "invoices/booked",
                        &json!({"draftInvoice": {"draftInvoiceNumber": n}}),
                    )
                    .await?;
                self.record(Kind::Order, &booked.body, "invoices/booked")
                    .await
                    .map(|r| r.expect("documents always map"))
            }
            DocType::Quote | DocType::Order => {
                // The flow's status table may say the document is sent already.
                let status = fields.get("status");
                let sent = match crate::kit::mapping::lookup_opt(
                    &self.mapping.tables,
                    "order_status",
                    status,
                ) {
                    Some(v) => v.map_err(Self::mapping_err)? == "sent",
                    None => false,
                };
                if sent {
                    let coll = if t == DocType::Quote {
                        "quotes/sent"
                    } else {
                        "orders/sent"
                    };
                    let mut full = created.clone();
                    if let Some(o) = full.as_object_mut() {
                        o.remove("self");
                    }
                    let a = self.post(coll, &full).await?;
                    return self
                        .record(Kind::Order, &a.body, coll)
                        .await
                        .map(|r| r.expect("documents always map"));
                }
                self.record(Kind::Order, &created, t.create_path())
                    .await
                    .map(|r| r.expect("documents always map"))
            }
            DocType::Invoice => self
                .record(Kind::Order, &created, t.create_path())
                .await
                .map(|r| r.expect("documents always map")),
        }
    }
}

#[async_trait]
impl Connector for Economic {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.get("customers", &[("pagesize", "1".into())])
            .await
            .map(|_| ())
    }

    fn supports(&self, kind: Kind) -> bool {
        Self::supported(kind).is_ok()
    }

    fn id_syntax(&self, kind: Kind) -> IdSyntax {
        match kind {
            // `productNumber`: 1–25 characters [D].
            Kind::Product | Kind::Stock => IdSyntax::Text { max: 25 },
            _ => IdSyntax::Integer,
        }
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
impl Read for Economic {
    fn has_modified_filter(&self, kind: Kind) -> bool {
        kind != Kind::Order
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Self::supported(kind)?;
        // The token: which collection (documents may live in several) and which page.
        let (ci, skip) = page
            .and_then(|p| p.split_once(':'))
            .and_then(|(c, s)| Some((c.parse::<usize>().ok()?, s.parse::<u64>().ok()?)))
            .unwrap_or((0, 0));
        let colls: Vec<&str> = match kind {
            Kind::Order => self.opts.document.collections().to_vec(),
            k => vec![Self::path(k)],
        };
        let coll = colls[ci.min(colls.len() - 1)];
        let mut query = vec![
            ("skippages", skip.to_string()),
            ("pagesize", self.page_size.to_string()),
        ];
        match (kind, q.modified_since) {
            (Kind::Order, _) => {}
            (k, Some(t)) => {
                query.push((
                    "filter",
                    format!("lastUpdated$gte:{}", t.format("%Y-%m-%dT%H:%M:%SZ")),
                ));
                let key = if k == Kind::Contact {
                    "customerNumber"
                } else {
                    "productNumber"
                };
                query.push(("sort", format!("lastUpdated,{key}")));
            }
            (Kind::Contact, None) => query.push(("sort", "customerNumber".into())),
            (_, None) => query.push(("sort", "productNumber".into())),
        }
        let a = match self.get(coll, &query).await {
            Ok(a) => a,
            // An agreement without the module (e.g. no archived quotes) has nothing there.
            Err(ConnectorError::NotFound { .. }) if kind == Kind::Order => Answer {
                status: reqwest::StatusCode::OK,
                headers: Default::default(),
                body: json!({"collection": []}),
            },
            Err(e) => return Err(e),
        };
        let rows = collection(&a);
        let next = if has_next(&a) {
            Some(format!("{ci}:{}", skip + 1))
        } else if ci + 1 < colls.len() {
            Some(format!("{}:0", ci + 1))
        } else {
            None
        };
        let mut records = Vec::with_capacity(rows.len());
        for raw in &rows {
            if let Some(r) = self.record(kind, raw, coll).await? {
                records.push(r);
            }
        }
        Ok(Page {
            records,
            next,
            total: None,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        Self::supported(kind)?;
        if kind == Kind::Order {
            return match self.document(&crate::ids::segment(id)).await? {
                Some((raw, coll)) => self.record(kind, &raw, coll).await,
                None => Ok(None),
            };
        }
        let seg = match kind {
            Kind::Contact => crate::ids::segment(id),
            _ => encode_key(id),
        };
        match self.get(&format!("{}/{seg}", Self::path(kind)), &[]).await {
            Ok(a) => self.record(kind, &a.body, "").await,
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Write for Economic {
    fn searchable(&self, kind: Kind, key: KeyKind) -> bool {
        matches!(
            (kind, key),
            (Kind::Contact, KeyKind::Email)
                | (Kind::Product | Kind::Stock, KeyKind::Sku)
                | (Kind::Order, KeyKind::Order)
        )
    }

    fn partial_updates(&self, _kind: Kind) -> bool {
        false
    }

    fn takes_customer(&self, kind: Kind) -> bool {
        !(kind == Kind::Order && self.opts.default_customer.is_some())
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
        let mut out = Vec::new();
        match kind {
            Kind::Contact => {
                // `$like` finds the address among several (the field holds a list).
                let q = [("filter", format!("email$like:{}", filter_value(value)))];
                for raw in self.all("customers", &q).await? {
                    out.push(self.customer(&raw).await?);
                }
            }
            Kind::Product | Kind::Stock => {
                let found = match self
                    .get(&format!("products/{}", encode_key(value)), &[])
                    .await
                {
                    Ok(a) => vec![a.body],
                    Err(ConnectorError::NotFound { .. }) => {
                        self.all(
                            "products",
                            &[(
                                "filter",
                                format!("productNumber$eq:{}", filter_value(value)),
                            )],
                        )
                        .await?
                    }
                    Err(e) => return Err(e),
                };
                for raw in found {
                    if let Some(r) = self.record(kind, &raw, "").await? {
                        out.push(r);
                    }
                }
            }
            _ => {
                // `references.other` is not filterable: the type's documents are read.
                for coll in self.opts.document.collections() {
                    let rows = match self.all(coll, &[]).await {
                        Ok(r) => r,
                        Err(ConnectorError::NotFound { .. }) => continue,
                        Err(e) => return Err(e),
                    };
                    for raw in rows {
                        if raw.pointer("/references/other").and_then(Value::as_str) == Some(value) {
                            if let Some(r) = self.record(kind, &raw, coll).await? {
                                out.push(r);
                            }
                        }
                    }
                }
            }
        }
        out.retain(|r| spec.value(&r.fields).is_ok_and(|v| v == value));
        Ok(out)
    }

    async fn create(
        &self,
        kind: Kind,
        fields: &Fields,
        _partner_id: Option<&str>,
    ) -> Result<Record, ConnectorError> {
        Self::supported(kind)?;
        let tables = &self.mapping.tables;
        match kind {
            Kind::Contact => {
                let mut body = mapping::customer_body(fields, None, tables, &self.opts)
                    .map_err(Self::mapping_err)?;
                self.adjust(kind, &mut body, fields, None)?;
                let a = self.post("customers", &body).await?;
                let mut raw = a.body;
                let n = s(&raw, "customerNumber");
                let person = [fields.get("first_name"), fields.get("last_name")].join(" ");
                let mut contact = None;
                if !fields.get("company_name").is_empty() && !person.trim().is_empty() {
                    // APC-1: a company debtor with its person as the contact.
                    let mut c = json!({"name": person.trim(), "email": fields.get("email")});
                    if !fields.get("phone").is_empty() {
                        c["phone"] = json!(fields.get("phone"));
                    }
                    let made = self
                        .post(&format!("customers/{n}/contacts"), &c)
                        .await?
                        .body;
                    let mut doc = raw.clone();
                    if let Some(o) = doc.as_object_mut() {
                        for k in ["self", "lastUpdated", "balance", "contacts"] {
                            o.remove(k);
                        }
                    }
                    doc["attention"] =
                        json!({"customerContactNumber": made["customerContactNumber"]});
                    raw = self.put(&format!("customers/{n}"), &doc).await?.body;
                    contact = Some(made);
                }
                if let Ok(num) = n.parse::<u64>() {
                    self.remember(num, &raw);
                }
                self.mapped(&raw, customer_record(&raw, contact.as_ref()))
            }
            Kind::Product => {
                let mut body = mapping::product_body(fields, None, tables, &self.opts)
                    .map_err(Self::mapping_err)?;
                self.adjust(kind, &mut body, fields, None)?;
                let a = self.post("products", &body).await?;
                Ok(self.record(kind, &a.body, "").await?.expect("products map"))
            }
            Kind::Order => self.create_document(fields).await,
            k => Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!("creating {k}s (the inventory is read-only)"),
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
        let raw = current.extra.get("raw");
        let tables = &self.mapping.tables;
        match kind {
            Kind::Contact => {
                let mut body = mapping::customer_body(&target, raw, tables, &self.opts)
                    .map_err(Self::mapping_err)?;
                self.adjust(kind, &mut body, &target, Some(&changed))?;
                let n = crate::ids::segment(&current.id);
                let written = self.put(&format!("customers/{n}"), &body).await?.body;
                let mut contact = current.extra.get("contact").cloned();
                let names = ["first_name", "last_name", "email", "phone"];
                if let Some(c) = contact
                    .as_mut()
                    .filter(|_| changed.iter().any(|f| names.contains(&f.as_str())))
                {
                    let cn = s(c, "customerContactNumber");
                    let name = [target.get("first_name"), target.get("last_name")].join(" ");
                    let mut doc = json!({"name": name.trim(), "email": target.get("email")});
                    if !target.get("phone").is_empty() {
                        doc["phone"] = json!(target.get("phone"));
                    }
                    *c = self
                        .put(&format!("customers/{n}/contacts/{cn}"), &doc)
                        .await?
                        .body;
                }
                if let Ok(num) = current.id.parse::<u64>() {
                    self.remember(num, &written);
                }
                self.mapped(&written, customer_record(&written, contact.as_ref()))
            }
            Kind::Product => {
                let mut body = mapping::product_body(&target, raw, tables, &self.opts)
                    .map_err(Self::mapping_err)?;
                self.adjust(kind, &mut body, &target, Some(&changed))?;
                let a = self
                    .put(&format!("products/{}", encode_key(&current.id)), &body)
                    .await?;
                Ok(self.record(kind, &a.body, "").await?.expect("products map"))
            }
            k => Err(ConnectorError::Unsupported {
                system: SYSTEM.into(),
                what: format!(
                    "updating {k}s ({})",
                    if k == Kind::Stock {
                        "the inventory is read-only"
                    } else {
                        "documents are created once"
                    }
                ),
            }),
        }
    }

    fn preview(&self, kind: Kind, fields: &Fields) -> Option<Value> {
        let tables = &self.mapping.tables;
        let mut b = match kind {
            Kind::Contact => mapping::customer_body(fields, None, tables, &self.opts).ok()?,
            Kind::Product => mapping::product_body(fields, None, tables, &self.opts).ok()?,
            Kind::Order => document_body(fields, None, self.opts.layout, tables, &self.opts)
                .unwrap_or_else(|e| json!({"error": e})),
            _ => return None,
        };
        self.adjust(kind, &mut b, fields, None).ok()?;
        Some(b)
    }
}

#[async_trait]
impl Webhooks for Economic {
    fn setup(&self) -> WebhookSetup {
        // Legacy webhooks are URL templates a SuperUser sets in the UI.
        WebhookSetup::Manual
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, crate::WebhookError> {
        parse_webhook(&req.query(), req.body)
    }
}
