//! WooCommerce (web shop), REST API v3. Facts from `spec/vendor-apis/shops-accounting.md`
//! §(d); every WooCommerce path and field name Puente relies on is in this folder.
//!
//! - Auth: consumer key and secret by HTTP Basic over HTTPS, or in the query string
//!   (`consumer_key`/`consumer_secret`) for servers that strip `Authorization`.
//! - Paging: `page`/`per_page` (≤ 100; more is a 400), `X-WP-TotalPages` says when to stop.
//! - Money is a string with two decimals (a line's `price` a number); dates are site-local
//!   plus `*_gmt`, which Puente reads. `modified_after`/`after` compare strictly (`>`) to the
//!   second, so Puente asks from one second earlier: records of the same second are kept.
//! - Orders: `status` includes `trash`; `number`; `billing`/`shipping` (the phone from
//!   shipping, else billing: ROA-8); `line_items` with `product_id`/`variation_id`.
//! - Categories: a `parent` tree (`products/categories`), read once and kept; ROA-7's rules
//!   pick one category per product ([`category_path`]).
//! - Webhooks: JSON deliveries signed `X-WC-Webhook-Signature` = base64 HMAC-SHA256 of the
//!   exact body with the webhook's secret (checked in constant time); on creation
//!   WooCommerce first sends an unsigned form ping `webhook_id=N` that must be answered 200
//!   (the handshake). `X-WC-Webhook-Delivery-ID` is a hash of the webhook and the second,
//!   so two deliveries can share it: a delivery's version is the hash of its body.
//! - Puente only reads a shop: it never writes WooCommerce, so it never sets an order
//!   `completed` (ROA-4).

mod mapping;
mod settings;

pub use mapping::{
    category_path, customer_record, order_customer, order_record, product_record, Tree,
};
pub use settings::VENDOR;

use crate::error::ConnectorError;
use crate::http::{Auth, CallStats, Http, RetryPolicy};
use crate::ids::{segment, IdSyntax};
use crate::kit::mapping::SideMapping;
use crate::{
    Connector, Delivery, ListQuery, Page, Read, WebhookError, WebhookRequest, WebhookSetup,
    Webhooks,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use mapping::s;
use puente_core::{Kind, Record};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

pub const SYSTEM: &str = "woocommerce";

/// How the keys travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WooAuth {
    Basic,
    Query,
}

/// Settings of a WooCommerce connection.
#[derive(Clone, Debug)]
pub struct WooConfig {
    /// `https://{site}/wp-json/wc/v3`.
    pub base_url: String,
    pub auth: WooAuth,
    pub consumer_key: String,
    pub consumer_secret: String,
    /// The secret of the webhooks Puente creates, which signs their deliveries.
    pub webhook_secret: String,
    pub page_size: u32,
    pub budget: Option<u64>,
    pub retry: RetryPolicy,
    pub mapping: Arc<SideMapping>,
}

pub struct WooCommerce {
    http: Http,
    /// Keys for the query string (`auth = "query"`), else empty.
    query_keys: Vec<(&'static str, String)>,
    page_size: u32,
    webhook_secret: String,
    tree: Mutex<Option<Tree>>,
    mapping: Arc<SideMapping>,
}

/// The webhook topics Puente subscribes to, and the entity each is about.
pub const WEBHOOK_TOPICS: &[(&str, Kind)] = &[
    ("order.created", Kind::Order),
    ("order.updated", Kind::Order),
    ("order.restored", Kind::Order),
    ("customer.created", Kind::Contact),
    ("customer.updated", Kind::Contact),
];

fn gmt_param(t: DateTime<Utc>) -> String {
    // The filters compare strictly, to the second: one second earlier keeps the ties.
    (t - chrono::Duration::seconds(1))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

impl WooCommerce {
    pub fn new(cfg: WooConfig) -> WooCommerce {
        let (auth, query_keys) = match cfg.auth {
            WooAuth::Basic => (
                Auth::Basic(cfg.consumer_key.clone(), cfg.consumer_secret.clone()),
                Vec::new(),
            ),
            WooAuth::Query => (
                Auth::None,
                vec![
                    ("consumer_key", cfg.consumer_key.clone()),
                    ("consumer_secret", cfg.consumer_secret.clone()),
                ],
            ),
        };
        WooCommerce {
            http: Http::new(SYSTEM, &cfg.base_url, auth, cfg.retry).with_budget(cfg.budget),
            query_keys,
            page_size: cfg.page_size.clamp(1, 100),
            webhook_secret: cfg.webhook_secret,
            tree: Mutex::new(None),
            mapping: cfg.mapping,
        }
    }

    fn auth_hint(e: ConnectorError) -> ConnectorError {
        match e {
            ConnectorError::Auth { system, status, message, .. } => ConnectorError::Auth {
                system,
                status,
                message,
                hint: "check the REST API keys (WooCommerce → Settings → Advanced → REST API) in consumer_key and consumer_secret".into(),
            },
            other => other,
        }
    }

    async fn get_json(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<crate::http::Answer, ConnectorError> {
        let mut q: Vec<(&str, String)> = query.to_vec();
        q.extend(self.query_keys.iter().cloned());
        self.http.get(path, &q).await.map_err(Self::auth_hint)
    }

    /// The category tree, read once (again when `need` is not in it).
    async fn tree(&self, need: &[u64]) -> Result<Tree, ConnectorError> {
        if let Some(t) = self.tree.lock().expect("tree lock").as_ref() {
            if need.iter().all(|id| t.contains_key(id)) {
                return Ok(t.clone());
            }
        }
        let mut t = Tree::new();
        let mut page = 1u32;
        loop {
            let a = self
                .get_json(
                    "products/categories",
                    &[("per_page", "100".into()), ("page", page.to_string())],
                )
                .await?;
            for c in a.body.as_array().into_iter().flatten() {
                if let Some(id) = c.get("id").and_then(Value::as_u64) {
                    let parent = c.get("parent").and_then(Value::as_u64).unwrap_or(0);
                    t.insert(id, (s(c, "name"), parent));
                }
            }
            if u32::try_from(total_pages(&a.headers)).unwrap_or(0) <= page {
                break;
            }
            page += 1;
        }
        *self.tree.lock().expect("tree lock") = Some(t.clone());
        Ok(t)
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

    /// The product records of a product: itself, or each of its variations.
    async fn products_of(
        &self,
        p: &Value,
        only: Option<&str>,
    ) -> Result<Vec<Record>, ConnectorError> {
        let cats: Vec<u64> = p
            .get("categories")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("id").and_then(Value::as_u64))
            .collect();
        let tree = self.tree(&cats).await?;
        if s(p, "type") != "variable" {
            return Ok(vec![self.mapped(p, product_record(p, None, &tree))?]);
        }
        let pid = s(p, "id");
        let mut out = Vec::new();
        match only {
            Some(vid) => {
                match self
                    .get_json(
                        &format!("products/{}/variations/{}", segment(&pid), segment(vid)),
                        &[],
                    )
                    .await
                {
                    Ok(a) => {
                        out.push(self.mapped(&a.body, product_record(p, Some(&a.body), &tree))?)
                    }
                    Err(ConnectorError::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            None => {
                let a = self
                    .get_json(
                        &format!("products/{}/variations", segment(&pid)),
                        &[("per_page", "100".into())],
                    )
                    .await?;
                for v in a.body.as_array().into_iter().flatten() {
                    out.push(self.mapped(v, product_record(p, Some(v), &tree))?);
                }
            }
        }
        Ok(out)
    }
}

fn total_pages(h: &reqwest::header::HeaderMap) -> u64 {
    h.get("x-wp-totalpages")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1)
}

fn total(h: &reqwest::header::HeaderMap) -> Option<u64> {
    h.get("x-wp-total")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

fn path(kind: Kind) -> Result<&'static str, ConnectorError> {
    match kind {
        Kind::Order => Ok("orders"),
        Kind::Contact => Ok("customers"),
        Kind::Product => Ok("products"),
        other => Err(ConnectorError::unsupported(SYSTEM, other)),
    }
}

#[async_trait]
impl Connector for WooCommerce {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    async fn check(&self) -> Result<(), ConnectorError> {
        self.get_json("orders", &[("per_page", "1".into())])
            .await
            .map(|_| ())
    }

    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Contact | Kind::Product | Kind::Order)
    }

    fn id_syntax(&self, kind: Kind) -> IdSyntax {
        match kind {
            // `{product}` or `{product}-{variation}`.
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
impl Read for WooCommerce {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        true
    }

    async fn list(
        &self,
        kind: Kind,
        q: &ListQuery,
        page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        let res = path(kind)?;
        let page_no: u64 = page.and_then(|p| p.parse().ok()).unwrap_or(1);
        let mut query = vec![
            ("per_page", self.page_size.to_string()),
            ("page", page_no.to_string()),
            ("orderby", "id".to_string()),
            ("order", "asc".to_string()),
        ];
        if kind == Kind::Order {
            // Every status but `trash` (which is `any`'s meaning); trashed orders are gone.
            query.push(("status", "any".into()));
        }
        if q.created_since.is_some() || q.modified_since.is_some() {
            query.push(("dates_are_gmt", "true".into()));
        }
        if let Some(t) = q.created_since {
            query.push(("after", gmt_param(t)));
        }
        if let Some(t) = q.modified_since {
            query.push(("modified_after", gmt_param(t)));
        }
        let a = self.get_json(res, &query).await?;
        let rows = a
            .body
            .as_array()
            .cloned()
            .ok_or_else(|| ConnectorError::Decode {
                system: SYSTEM.into(),
                detail: format!("`{res}` is not a list"),
            })?;
        let mut records = Vec::new();
        for v in &rows {
            match kind {
                Kind::Order => records.push(self.mapped(v, order_record(v))?),
                Kind::Contact => records.push(self.mapped(v, customer_record(v))?),
                _ => records.extend(self.products_of(v, None).await?),
            }
        }
        let pages = total_pages(&a.headers);
        Ok(Page {
            records,
            next: (page_no < pages).then(|| (page_no + 1).to_string()),
            total: total(&a.headers),
        })
    }

    async fn get(&self, kind: Kind, id: &str) -> Result<Option<Record>, ConnectorError> {
        let res = path(kind)?;
        let (own, variation) = match kind {
            Kind::Product => match id.split_once('-') {
                Some((p, v)) => (p, Some(v)),
                None => (id, None),
            },
            _ => (id, None),
        };
        let a = match self.get_json(&format!("{res}/{}", segment(own)), &[]).await {
            Ok(a) => a,
            Err(ConnectorError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        let v = a.body;
        Ok(match kind {
            Kind::Order => Some(self.mapped(&v, order_record(&v))?),
            Kind::Contact => Some(self.mapped(&v, customer_record(&v))?),
            _ => self
                .products_of(&v, variation)
                .await?
                .into_iter()
                .find(|r| r.id == id),
        })
    }
}

/// Whether a request is WooCommerce's ping: an unsigned form POST `webhook_id=N`.
fn is_ping(req: &WebhookRequest<'_>) -> bool {
    req.header("x-wc-webhook-signature").is_none()
        && std::str::from_utf8(req.body).is_ok_and(|b| {
            b.trim()
                .strip_prefix("webhook_id=")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
        })
}

#[async_trait]
impl Webhooks for WooCommerce {
    fn setup(&self) -> WebhookSetup {
        WebhookSetup::Api
    }

    /// `X-WC-Webhook-Signature`: base64 HMAC-SHA256 of the exact body with the webhook's
    /// secret, in constant time. The unsigned ping carries no record: it passes here and is
    /// answered as the handshake.
    fn verify(&self, req: &WebhookRequest<'_>) -> Result<(), String> {
        if is_ping(req) {
            return Ok(());
        }
        let sig = req
            .header("x-wc-webhook-signature")
            .ok_or("no X-WC-Webhook-Signature header: not a signed WooCommerce delivery")?;
        if crate::kit::sign::verify_hmac_sha256_base64(
            self.webhook_secret.as_bytes(),
            req.body,
            sig,
        ) {
            Ok(())
        } else {
            Err("X-WC-Webhook-Signature does not match the body".into())
        }
    }

    fn is_handshake(&self, req: &WebhookRequest<'_>) -> bool {
        is_ping(req)
    }

    fn parse(&self, req: &WebhookRequest<'_>) -> Result<Delivery, WebhookError> {
        let topic = req
            .header("x-wc-webhook-topic")
            .ok_or_else(|| WebhookError("no X-WC-Webhook-Topic header".into()))?
            .to_string();
        let v = crate::webhook_json(req.body)?;
        let kind = WEBHOOK_TOPICS
            .iter()
            .find(|(t, _)| *t == topic)
            .map(|(_, k)| *k);
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
            // `*.deleted` (to the trash) is not propagated.
            None => Vec::new(),
        };
        // The delivery id repeats within a second; the body names the change itself.
        let version = puente_core::value_hash(&String::from_utf8_lossy(req.body));
        Ok(Delivery {
            event: topic,
            targets,
            version,
        })
    }

    async fn subscribe(&self, url: &str, kinds: &[Kind]) -> Result<Vec<String>, ConnectorError> {
        let a = self
            .get_json("webhooks", &[("per_page", "100".into())])
            .await?;
        let existing: Vec<(String, String, String)> = a
            .body
            .as_array()
            .into_iter()
            .flatten()
            .map(|w| (s(w, "topic"), s(w, "delivery_url"), s(w, "status")))
            .collect();
        let mut made = Vec::new();
        for (topic, kind) in WEBHOOK_TOPICS {
            if !kinds.contains(kind)
                || existing
                    .iter()
                    .any(|(t, u, st)| t == topic && u == url && st == "active")
            {
                continue;
            }
            let mut q: Vec<(&str, String)> = Vec::new();
            q.extend(self.query_keys.iter().cloned());
            let body = json!({"name": format!("Puente {topic}"), "topic": topic, "delivery_url": url,
                              "secret": self.webhook_secret, "status": "active"});
            let path = if q.is_empty() {
                "webhooks".to_string()
            } else {
                format!(
                    "webhooks?{}",
                    q.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("&")
                )
            };
            self.http
                .post(&path, &body)
                .await
                .map_err(Self::auth_hint)?;
            made.push(format!("WooCommerce webhook {topic} → {url}"));
        }
        Ok(made)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> WooCommerce {
        WooCommerce::new(WooConfig {
            base_url: "http://127.0.0.1:1/wp-json/wc/v3".into(),
            auth: WooAuth::Basic,
            consumer_key: "ck".into(),
            consumer_secret: "cs".into(),
            webhook_secret: "puente-wc-secret".into(),
            page_size: 100,
            budget: None,
            retry: RetryPolicy::default(),
            mapping: Default::default(),
        })
    }

    /// A delivery signed outside Puente (`tests/vectors/README.md`), as PHP writes JSON.
    #[test]
    fn roa1_woocommerce_signature_against_an_independent_vector_and_the_ping() {
        let body = include_bytes!("../../tests/vectors/woocommerce_order.json");
        let sig = include_str!("../../tests/vectors/woocommerce_order.sig").trim();
        let c = conn();
        let headers = vec![
            ("x-wc-webhook-signature".to_string(), sig.to_string()),
            (
                "x-wc-webhook-topic".to_string(),
                "order.created".to_string(),
            ),
        ];
        let req = WebhookRequest {
            headers: &headers,
            body,
        };
        assert_eq!(c.verify(&req), Ok(()));
        assert!(!c.is_handshake(&req));
        assert_eq!(
            c.parse(&req).unwrap().targets,
            vec![(Kind::Order, "1042".to_string())]
        );
        let mut tampered = body.to_vec();
        let i = tampered.iter().position(|b| *b == b'9').unwrap();
        tampered[i] = b'8';
        assert!(c
            .verify(&WebhookRequest {
                headers: &headers,
                body: &tampered
            })
            .is_err());
        assert!(c
            .verify(&WebhookRequest {
                headers: &headers[1..],
                body
            })
            .is_err());
        let form = vec![(
            "content-type".to_string(),
            "application/x-www-form-urlencoded".to_string(),
        )];
        let ping = WebhookRequest {
            headers: &form,
            body: b"webhook_id=7",
        };
        assert!(c.is_handshake(&ping) && c.verify(&ping).is_ok());
        let not_ping = WebhookRequest {
            headers: &form,
            body: b"webhook_id=7&x=1",
        };
        assert!(!c.is_handshake(&not_ping) && c.verify(&not_ping).is_err());
    }
}
