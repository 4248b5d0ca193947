//! Visma eAccounting (eEkonomi, Spiris), REST API v2 at
//! `https://eaccountingapi.vismaonline.com/v2`. Facts from
//! `spec/vendor-apis/shops-accounting.md` §(b2) and the v2 swagger in `pwitab/visma`; every
//! eAccounting path and field name Puente relies on is in this folder.
//!
//! - Auth: OAuth2 bearer tokens (about an hour) renewed with the refresh token and HTTP
//!   Basic client auth ([`crate::kit::oauth::RefreshToken`], one per grant in a process).
//! - Lists: `{Meta, Data}` with `$page` (from 1) and `$pagesize`; OData `$filter`:
//!   `ChangedUtc`/`ModifiedUtc ge …` for what changed, `Prop eq '…'` to find a record.
//! - 600 requests a minute per endpoint: 429 with `{"ErrorCode":4010,…}` and `Retry-After`,
//!   waited out by the kit.
//! - Customers (APC-1, APC-5): a company is a company customer with its contact person, a
//!   private person a private customer; `PUT` takes the whole document. Articles (APC-6)
//!   by `Number`; their stock (APC-4: `StockBalance`, `StockBalanceReserved`,
//!   `StockBalanceAvailable`) is read-only. Sales documents (APC-2) of the flow's type:
//!   quote, order, invoice draft, or customer invoice (booked); the shop's order key in
//!   `YourReference`.
//! - No webhooks (the beta is gone): eAccounting is polled.

mod mapping;
mod settings;

pub use mapping::{article_record, customer_record, document_body, document_record, stock_record};
pub use settings::VENDOR;

use crate::error::ConnectorError;
use crate::http::{Answer, Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::mapping::{lookup_opt, SideMapping};
use crate::kit::oauth::RefreshToken;
use crate::{Connector, ListQuery, Page, Read, Write};
use async_trait::async_trait;
use mapping::{s, ArticleIds};
use puente_core::{Fields, KeyKind, KeySpec, Kind, Record};
use serde_json::{json, Value};
use std::sync::Arc;

pub const SYSTEM: &str = "eaccounting";
/// [I] The largest page asked for (the real maximum is not published).
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

    fn path(self) -> &'static str {
        match self {
            DocType::Quote => "quotes",
            DocType::Order => "orders",
            DocType::Invoice => "customerinvoicedrafts",
            DocType::BookedInvoice => "customerinvoices",
        }
    }

    fn date_field(self) -> &'static str {
        match self {
            DocType::Quote => "QuoteDate",
            DocType::Order => "OrderDate",
            _ => "InvoiceDate",
        }
    }

    fn currency_field(self) -> &'static str {
        match self {
            DocType::Invoice => "InvoiceCurrencyCode",
            _ => "CurrencyCode",
        }
    }
}

/// APC-4: how an article's stock becomes the shop's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StockFormula {
    /// `StockBalanceAvailable`: the balance minus what orders reserve (the default).
    Available,
    /// `StockBalance`, reservations ignored.
    InStock,
}

/// A flow's options for its eAccounting side, with their defaults.
#[derive(Clone, Debug)]
pub struct Options {
    pub document: DocType,
    /// APC-1: one customer (its GUID) for every document.
    pub default_customer: Option<String>,
    pub stock: StockFormula,
    pub customer_currency: String,
    /// New customers' terms of payment (GUID); the company's first when not given.
    pub payment_terms: Option<String>,
    /// New articles' unit (GUID); the company's first when not given.
    pub unit: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            document: DocType::Order,
            default_customer: None,
            stock: StockFormula::Available,
            customer_currency: "SEK".into(),
            payment_terms: None,
            unit: None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EAccountingConfig {
    pub base_url: String,
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub options: Options,
    pub mapping: Arc<SideMapping>,
}

pub struct EAccounting {
    http: Http,
    page_size: u32,
    opts: Options,
    mapping: Arc<SideMapping>,
    /// The first terms of payment and unit, read once when the options give none.
    defaults: tokio::sync::Mutex<Option<(String, String)>>,
}

fn data(a: &Answer) -> Vec<Value> {
    a.body
        .get("Data")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// An OData string literal (`'` doubled).
fn literal(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

impl EAccounting {
    pub fn new(cfg: EAccountingConfig) -> EAccounting {
        let tokens = RefreshToken::shared(
            SYSTEM,
            &cfg.token_url,
            &cfg.client_id,
            &cfg.client_secret,
            &cfg.refresh_token,
        );
        EAccounting {
            http: Http::new(SYSTEM, &cfg.base_url, Auth::Bearer(tokens), cfg.retry)
                .with_budget(cfg.budget),
            page_size: cfg.page_size.clamp(1, MAX_PAGE),
            opts: cfg.options,
            mapping: cfg.mapping,
            defaults: tokio::sync::Mutex::new(None),
        }
    }

    fn supported(kind: Kind) -> Result<(), ConnectorError> {
        match kind {
            Kind::Contact | Kind::Product | Kind::Stock | Kind::Order => Ok(()),
            k => Err(ConnectorError::unsupported(SYSTEM, k)),
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth {
                system,
                status,
                message,
                hint,
            } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: if hint.is_empty() {
                    "check the client id and secret and that the grant has the scopes ea:api, ea:sales and offline_access".into()
                } else {
                    hint
                },
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

    fn path(&self, kind: Kind) -> &'static str {
        match kind {
            Kind::Contact => "customers",
            Kind::Product | Kind::Stock => "articles",
            _ => self.opts.document.path(),
        }
    }

    async fn get(&self, path: &str, q: &[(&str, String)]) -> Result<Answer, ConnectorError> {
        self.http.get(path, q).await.map_err(Self::auth_hint)
    }

    /// Every row of `path` matching `q`.
    async fn all(&self, path: &str, q: &[(&str, String)]) -> Result<Vec<Value>, ConnectorError> {
        let mut out = Vec::new();
        for page in 1u64.. {
            let mut query = q.to_vec();
            query.push(("$page", page.to_string()));
            query.push(("$pagesize", MAX_PAGE.to_string()));
            let a = self.get(path, &query).await?;
            let pages = a
                .body
                .pointer("/Meta/TotalNumberOfPages")
                .and_then(Value::as_u64)
                .unwrap_or(1);
            out.extend(data(&a));
            if page >= pages {
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

    fn record(&self, kind: Kind, raw: &Value) -> Result<Record, ConnectorError> {
        let r = match kind {
            Kind::Contact => customer_record(raw),
            Kind::Product => article_record(raw),
            Kind::Stock => stock_record(raw, self.opts.stock),
            _ => document_record(raw, self.opts.document),
        };
        self.mapped(raw, r)
    }

    /// The terms of payment and unit of new customers and articles: the options, else the
    /// company's first (read once).
    async fn defaults(&self) -> Result<(String, String), ConnectorError> {
        let mut d = self.defaults.lock().await;
        if let Some(x) = d.as_ref() {
            return Ok(x.clone());
        }
        let terms = match &self.opts.payment_terms {
            Some(t) => t.clone(),
            None => self
                .all("termsofpayments", &[])
                .await?
                .first()
                .map(|t| s(t, "Id"))
                .unwrap_or_default(),
        };
        let unit = match &self.opts.unit {
            Some(u) => u.clone(),
            None => self
                .all("units", &[])
                .await?
                .first()
                .map(|u| s(u, "Id"))
                .unwrap_or_default(),
        };
        *d = Some((terms, unit));
        Ok(d.clone().expect("just set"))
    }

    /// The articles a document's mapped rows name by number (shipping, discount).
    async fn mapped_articles(&self, fields: &Fields) -> Result<ArticleIds, ConnectorError> {
        let tables = &self.mapping.tables;
        let mut wanted = Vec::new();
        for item in puente_core::parse_order_items(fields.get("items")) {
            let n = match item.line_kind.as_str() {
                "shipping" => lookup_opt(tables, "shipping_costs", fields.get("shipping_method")),
                "discount" => lookup_opt(tables, "discounts", &item.name),
                _ => None,
            };
            if let Some(n) = n {
                wanted.push(n.map_err(Self::mapping_err)?);
            }
        }
        let mut out = ArticleIds::new();
        for n in wanted {
            if out.contains_key(&n) {
                continue;
            }
            let found = self
                .all(
                    "articles",
                    &[("$filter", format!("Number eq {}", literal(&n)))],
                )
                .await?;
            if let Some(a) = found.first() {
                out.insert(n, s(a, "Id"));
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Connector for EAccounting {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.get("customers", &[("$pagesize", "1".into())])
            .await
            .map(|_| ())
    }

    fn supports(&self, kind: Kind) -> bool {
        Self::supported(kind).is_ok()
    }

    fn id_syntax(&self, _kind: Kind) -> IdSyntax {
        IdSyntax::Uuid
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
}

#[async_trait]
impl Read for EAccounting {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Self::supported(kind)?;
        let page_no: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(1);
        let mut query = vec![
            ("$page", page_no.to_string()),
            ("$pagesize", self.page_size.to_string()),
        ];
        if let Some(t) = q.modified_since {
            let field = if matches!(kind, Kind::Contact | Kind::Product | Kind::Stock) {
                "ChangedUtc"
            } else {
                "ModifiedUtc"
            };
            query.push((
                "$filter",
                format!("{field} ge {}", t.format("%Y-%m-%dT%H:%M:%SZ")),
            ));
        }
        let a = self.get(self.path(kind), &query).await?;
        let pages = a
            .body
            .pointer("/Meta/TotalNumberOfPages")
            .and_then(Value::as_u64)
            .unwrap_or(1);
        let records = data(&a)
            .iter()
            .map(|raw| self.record(kind, raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            records,
            next: (page_no < pages).then(|| (page_no + 1).to_string()),
            total: a
                .body
                .pointer("/Meta/TotalNumberOfResults")
                .and_then(Value::as_u64),
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        Self::supported(kind)?;
        match self
            .get(&format!("{}/{}", self.path(kind), segment(id)), &[])
            .await
        {
            Ok(a) => self.record(kind, &a.body).map(Some),
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

#[async_trait]
impl Write for EAccounting {
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
        let filter = match kind {
            Kind::Contact => format!("EmailAddress eq {}", literal(value)),
            Kind::Product | Kind::Stock => format!("Number eq {}", literal(value)),
            _ => format!("YourReference eq {}", literal(value)),
        };
        let mut rows = self.all(self.path(kind), &[("$filter", filter)]).await?;
        if rows.is_empty() && matches!(kind, Kind::Product | Kind::Stock) {
            // SKUs compare case-folded; the filter is exact: try the key as written.
            rows = self
                .all(
                    self.path(kind),
                    &[(
                        "$filter",
                        format!("Number eq {}", literal(&value.to_uppercase())),
                    )],
                )
                .await?;
        }
        let mut out = Vec::new();
        for raw in &rows {
            let r = self.record(kind, raw)?;
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
        Self::supported(kind)?;
        let tables = &self.mapping.tables;
        let mut body = match kind {
            Kind::Contact => {
                let (terms, _) = self.defaults().await?;
                mapping::customer_body(fields, None, &terms, tables, &self.opts)
            }
            Kind::Product => {
                let (_, unit) = self.defaults().await?;
                mapping::article_body(fields, None, &unit, None)
            }
            Kind::Order => {
                if self.opts.default_customer.is_none()
                    && fields.get(puente_core::REF_CUSTOMER).is_empty()
                {
                    return Err(Self::mapping_err(format!(
                        "order {} has no eAccounting customer (it was not made first)",
                        fields.get("order_id")
                    )));
                }
                let extra = self.mapped_articles(fields).await?;
                document_body(fields, self.opts.document, &extra, tables, &self.opts)
            }
            k => {
                return Err(ConnectorError::Unsupported {
                    system: SYSTEM.into(),
                    what: format!("creating {k}s (stock is read-only)"),
                })
            }
        }
        .map_err(Self::mapping_err)?;
        self.adjust(kind, &mut body, fields, None)?;
        let a = self
            .http
            .post(self.path(kind), &body)
            .await
            .map_err(Self::auth_hint)?;
        self.record(kind, &a.body)
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
        let mut body = match kind {
            Kind::Contact => {
                mapping::customer_body(&target, raw, "", &self.mapping.tables, &self.opts)
            }
            Kind::Product => {
                let (_, unit) = self.defaults().await?;
                mapping::article_body(&target, raw, &unit, Some(&changed))
            }
            k => {
                return Err(ConnectorError::Unsupported {
                    system: SYSTEM.into(),
                    what: format!(
                        "updating {k}s ({})",
                        if k == Kind::Stock {
                            "stock is read-only"
                        } else {
                            "documents are created once"
                        }
                    ),
                })
            }
        }
        .map_err(Self::mapping_err)?;
        self.adjust(kind, &mut body, &target, Some(&changed))?;
        let a = self
            .http
            .put(
                &format!("{}/{}", self.path(kind), segment(&current.id)),
                &body,
            )
            .await
            .map_err(Self::auth_hint)?;
        self.record(kind, &a.body)
    }

    fn preview(&self, kind: Kind, fields: &Fields) -> Option<Value> {
        let tables = &self.mapping.tables;
        let mut b = match kind {
            Kind::Contact => {
                mapping::customer_body(fields, None, "(the company's terms)", tables, &self.opts)
                    .ok()?
            }
            Kind::Product => {
                mapping::article_body(fields, None, "(the company's unit)", None).ok()?
            }
            Kind::Order => document_body(
                fields,
                self.opts.document,
                &ArticleIds::new(),
                tables,
                &self.opts,
            )
            .unwrap_or_else(|e| json!({"error": e})),
            _ => return None,
        };
        self.adjust(kind, &mut b, fields, None).ok()?;
        Some(b)
    }
}
