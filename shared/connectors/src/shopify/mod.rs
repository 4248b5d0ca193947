//! Shopify (web shop), REST Admin API. Facts from `spec/vendor-apis/shops-accounting.md`
//! §(c); every Shopify path and field name Puente relies on is in this folder.
//!
//! - Auth: `X-Shopify-Access-Token`; versioned paths `/admin/api/{YYYY-MM}/{res}.json`.
//! - Paging: `Link` cursors (`page_info`), which refuse every filter but `limit` and
//!   `fields`: the first page carries the filters, the next ones only the cursor.
//! - Orders: `status=any` (the default is `open`), `created_at_min` (ROA-1's backfill),
//!   `updated_at_min` (Modified runs), `limit` ≤ 250. Only 60 days are visible without
//!   `read_all_orders`: the backfill's two months.
//! - Rate limit: a leaky bucket per app and shop, told in `X-Shopify-Shop-Api-Call-Limit:
//!   used/size` (the bucket leaks `size / 20` calls a second); a full bucket is a 429 with
//!   `Retry-After` in (fractional) seconds. [`Bucket`] paces calls before the bucket is full.
//! - Webhooks: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256 of the raw body with the app's
//!   client secret, checked in constant time; `X-Shopify-Webhook-Id` is shared by the
//!   retries and duplicates of one delivery, so it is the delivery's version (dedup).
//!   Subscribed through the API (`webhooks.json`) on activation.
//! - Puente only reads a shop: orders (ROA-2), their customers (ROA-8, inside the order;
//!   a Basic-plan shop sends none) and products as variants (ROA-7).

mod mapping;
mod settings;

pub use mapping::{customer_record, order_customer, order_record, order_status, product_records};
pub use settings::VENDOR;

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::hooks::{HttpHooks, Pace};
use crate::kit::mapping::SideMapping;
use crate::{
    Connector, Delivery, ListQuery, Page, Read, WebhookError, WebhookRequest, WebhookSetup,
    Webhooks,
};
use async_trait::async_trait;
use chrono::SecondsFormat;
use mapping::s;
use puente_core::{Kind, Record};
use reqwest::header::HeaderMap;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

pub const SYSTEM: &str = "shopify";

/// Settings of a Shopify connection.
#[derive(Clone, Debug)]
pub struct ShopifyConfig {
    /// `https://{shop}.myshopify.com/admin/api/{version}`.
    pub base_url: String,
    pub access_token: String,
    /// The app's client secret (webhook signatures); without it no delivery verifies.
    pub webhook_secret: Option<String>,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub mapping: Arc<SideMapping>,
}

pub struct Shopify {
    http: Http,
    page_size: u32,
    webhook_secret: Option<String>,
    mapping: Arc<SideMapping>,
}

/// The leaky bucket as `X-Shopify-Shop-Api-Call-Limit` tells it: when fewer than two calls
/// fit, the next waits for one to leak (a bucket holds 20 s of leak).
struct Bucket;

impl HttpHooks for Bucket {
    fn pace(&self, headers: &HeaderMap) -> Pace {
        let Some((used, size)) = headers
            .get("x-shopify-shop-api-call-limit")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once('/'))
            .and_then(|(u, s)| {
                Some((u.trim().parse::<f64>().ok()?, s.trim().parse::<f64>().ok()?))
            })
        else {
            return Pace::Unknown;
        };
        if size <= 0.0 || used + 2.0 <= size {
            return Pace::Clear;
        }
        let leak = (size / 20.0).max(1.0);
        Pace::Wait(Duration::from_secs_f64((used + 2.0 - size) / leak))
    }

    /// `Retry-After: 2.0`: Shopify writes seconds as a float, which the kit's integer
    /// reading does not take.
    fn retry_wait(&self, headers: &HeaderMap) -> Option<Duration> {
        let secs: f64 = headers
            .get("retry-after")?
            .to_str()
            .ok()?
            .trim()
            .parse()
            .ok()?;
        Some(Duration::from_secs_f64(secs.clamp(0.0, 3600.0)).max(Duration::from_millis(500)))
    }
}

/// The webhook topics Puente subscribes to, and the entity each is about.
pub const WEBHOOK_TOPICS: &[(&str, Kind)] = &[
    ("orders/create", Kind::Order),
    ("orders/updated", Kind::Order),
    ("customers/create", Kind::Contact),
    ("customers/update", Kind::Contact),
];

/// Topics whose body is an order (a merchant action can fire several).
const ORDER_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "orders/edited",
];

/// The `rel="next"` URL of a `Link` header.
pub(crate) fn next_link(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}

impl Shopify {
    pub fn new(cfg: ShopifyConfig) -> Shopify {
        let http = Http::new(
            SYSTEM,
            &cfg.base_url,
            Auth::Headers(vec![(
                "X-Shopify-Access-Token".into(),
                cfg.access_token.clone(),
            )]),
            cfg.retry,
        )
        .with_hooks(Arc::new(Bucket))
        .with_budget(cfg.budget);
        Shopify {
            http,
            page_size: cfg.page_size.clamp(1, 250),
            webhook_secret: cfg.webhook_secret,
            mapping: cfg.mapping,
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the Admin API access token (the app's `shpat_…` token) in the connection's access_token".into(),
            },
            other => other,
        }
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

    fn records(&self, kind: Kind, raw: &Value) -> Result<Vec<Record>, ConnectorError> {
        match kind {
            Kind::Order => Ok(vec![self.mapped(raw, order_record(raw))?]),
            Kind::Contact => Ok(vec![self.mapped(raw, customer_record(raw))?]),
            Kind::Product => product_records(raw)
                .into_iter()
                .map(|r| self.mapped(raw, r))
                .collect(),
            other => Err(ConnectorError::unsupported(SYSTEM, other)),
        }
    }
}

fn resource(kind: Kind) -> Result<(&'static str, &'static str), ConnectorError> {
    match kind {
        Kind::Order => Ok(("orders", "order")),
        Kind::Contact => Ok(("customers", "customer")),
        Kind::Product => Ok(("products", "product")),
        other => Err(ConnectorError::unsupported(SYSTEM, other)),
    }
}

fn iso(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[async_trait]
impl Connector for Shopify {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.http
            .get("shop.json", &[])
            .await
            .map(|_| ())
            .map_err(Self::auth_hint)
    }

    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Contact | Kind::Product | Kind::Order)
    }

    fn id_syntax(&self, kind: Kind) -> IdSyntax {
        match kind {
            // `{product id}` or `{product id}-{variant id}` (see `product_records`).
            Kind::Product => IdSyntax::Text { max: 40 },
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

    fn webhooks(&self) -> Option<&dyn Webhooks> {
        Some(self)
    }
}

#[async_trait]
impl Read for Shopify {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let (plural, _) = resource(kind)?;
        let limit = ("limit", self.page_size.to_string());
        let a = match page {
            // A cursor page: the URL Shopify gave, which carries `page_info` and `limit` only.
            Some(next) => self.http.get(next, &[]).await,
            None => {
                let mut query = vec![limit];
                if kind == Kind::Order {
                    // The default is `open`: a backfill and a poll want every status.
                    query.push(("status", "any".into()));
                }
                if let Some(t) = q.created_since {
                    query.push(("created_at_min", iso(t)));
                }
                if let Some(t) = q.modified_since {
                    query.push(("updated_at_min", iso(t)));
                }
                self.http.get(&format!("{plural}.json"), &query).await
            }
        }
        .map_err(Self::auth_hint)?;
        let mut records = Vec::new();
        for v in a
            .body
            .get(plural)
            .and_then(Value::as_array)
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("list answer without `{plural}`"),
            })?
        {
            records.extend(self.records(kind, v)?);
        }
        Ok(Page {
            records,
            next: next_link(&a.headers),
            total: None,
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        let (plural, one) = resource(kind)?;
        let own = match kind {
            Kind::Product => id.split('-').next().unwrap_or(id),
            _ => id,
        };
        match self
            .http
            .get(&format!("{plural}/{}.json", segment(own)), &[])
            .await
        {
            Ok(a) => {
                let v = a.body.get(one).cloned().unwrap_or(Value::Null);
                Ok(self.records(kind, &v)?.into_iter().find(|r| r.id == id))
            }
            Err(ConnectorError::NotFound { .. }) => Ok(None),
            Err(e) => Err(Self::auth_hint(e)),
        }
    }
}

#[async_trait]
impl Webhooks for Shopify {
    fn setup(&self) -> WebhookSetup {
        WebhookSetup::Api
    }

    /// `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body with the app's client
    /// secret, compared in constant time.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        let Some(secret) = &self.webhook_secret else {
            return Err("no webhook_secret (the app's client secret) is configured for this Shopify connection; deliveries cannot be verified".into());
        };
        let sig = req
            .header("x-shopify-hmac-sha256")
            .ok_or("no X-Shopify-Hmac-Sha256 header: not a signed Shopify delivery")?;
        if crate::kit::sign::verify_hmac_sha256_base64(secret.as_bytes(), req.body, sig) {
            Ok(())
        } else {
            Err("X-Shopify-Hmac-Sha256 does not match the body".into())
        }
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, WebhookError> {
        let topic = req
            .header("x-shopify-topic")
            .ok_or_else(|| WebhookError("no X-Shopify-Topic header".into()))?
            .to_string();
        let v = crate::webhook_json(req.body)?;
        let kind = if ORDER_TOPICS.contains(&topic.as_str()) {
            Some(Kind::Order)
        } else if topic == "customers/create" || topic == "customers/update" {
            Some(Kind::Contact)
        } else {
            // Deletions are not propagated; products come with their orders.
            None
        };
        let targets = match kind {
            Some(k) => {
                let raw = v
                    .get("id")
                    .and_then(IdSyntax::from_json)
                    .ok_or_else(|| WebhookError(format!("`{topic}` without an id")))?
                    .map_err(|e| WebhookError(format!("`{topic}`: {e}")))?;
                let id = IdSyntax::Integer
                    .parse(&raw)
                    .map_err(|e| WebhookError(format!("`{topic}`: {e}")))?;
                vec![(k, id)]
            }
            None => Vec::new(),
        };
        // One delivery's retries and duplicates share its webhook id.
        let version = req
            .header("x-shopify-webhook-id")
            .map(str::to_string)
            .unwrap_or_else(|| s(&v, "updated_at"));
        Ok(Delivery {
            event: topic,
            targets,
            version,
        })
    }

    async fn subscribe(&self, url: &str, kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        let a = self
            .http
            .get("webhooks.json", &[("limit", "250".into())])
            .await
            .map_err(Self::auth_hint)?;
        let existing: Vec<(String, String)> = a
            .body
            .get("webhooks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|w| (s(w, "topic"), s(w, "address")))
            .collect();
        let mut made = Vec::new();
        for (topic, kind) in WEBHOOK_TOPICS {
            if !kinds.contains(kind) || existing.iter().any(|(t, u)| t == topic && u == url) {
                continue;
            }
            self.http
                .post(
                    "webhooks.json",
                    &json!({"webhook": {"topic": topic, "address": url, "format": "json"}}),
                )
                .await
                .map_err(Self::auth_hint)?;
            made.push(format!("Shopify webhook {topic} → {url}"));
        }
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn conn(secret: Option<&str>) -> Shopify {
        Shopify::new(ShopifyConfig {
            base_url: "http://127.0.0.1:1/admin/api/2025-01".into(),
            access_token: "t".into(),
            webhook_secret: secret.map(str::to_string),
            page_size: 50,
            budget: None,
            retry: RetryPolicy::default(),
            mapping: Default::default(),
        })
    }

    /// A delivery signed outside Puente (`tests/vectors/README.md`): it verifies, a body
    /// changed by one byte does not, nor one without the header.
    #[test]
    fn roa1_webhook_signature_checks_against_an_independent_vector() {
        let body = include_bytes!("../../tests/vectors/shopify_order.json");
        let sig = include_str!("../../tests/vectors/shopify_order.sig").trim();
        let c = conn(Some("shpss_sandbox_app_secret"));
        let headers = vec![
            ("x-shopify-hmac-sha256".to_string(), sig.to_string()),
            ("x-shopify-topic".to_string(), "orders/create".to_string()),
            (
                "x-shopify-webhook-id".to_string(),
                "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043".to_string(),
            ),
        ];
        let req = WebhookRequest {
            headers: &headers,
            body,
        };
        assert_eq!(c.verify(&req), Ok(()));
        let d = c.parse(&req).unwrap();
        assert_eq!(d.targets, vec![(Kind::Order, "5500000000001".to_string())]);
        assert_eq!(d.version, "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        let mut tampered = body.to_vec();
        let i = tampered.iter().position(|b| *b == b'2').unwrap();
        tampered[i] = b'3';
        let bad = WebhookRequest {
            headers: &headers,
            body: &tampered,
        };
        assert!(c.verify(&bad).is_err());
        let none = WebhookRequest {
            headers: &headers[1..],
            body,
        };
        assert!(c.verify(&none).is_err());
        assert!(
            conn(None).verify(&req).is_err(),
            "no secret, nothing verifies"
        );
    }

    #[test]
    fn roa1_link_header_and_call_limit_pace() {
        let mut h = HeaderMap::new();
        h.insert("link", HeaderValue::from_static("<https://x/admin/api/2025-01/orders.json?limit=2&page_info=abc>; rel=\"previous\", <https://x/admin/api/2025-01/orders.json?limit=2&page_info=def>; rel=\"next\""));
        assert_eq!(
            next_link(&h).unwrap(),
            "https://x/admin/api/2025-01/orders.json?limit=2&page_info=def"
        );
        h.insert(
            "x-shopify-shop-api-call-limit",
            HeaderValue::from_static("10/40"),
        );
        assert_eq!(Bucket.pace(&h), Pace::Clear);
        h.insert(
            "x-shopify-shop-api-call-limit",
            HeaderValue::from_static("40/40"),
        );
        assert_eq!(Bucket.pace(&h), Pace::Wait(Duration::from_secs(1)));
        h.insert("retry-after", HeaderValue::from_static("2.0"));
        assert_eq!(Bucket.retry_wait(&h), Some(Duration::from_secs(2)));
    }
}
