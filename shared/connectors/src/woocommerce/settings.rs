//! A `[connections.NAME]` section of `type = "woocommerce"`.

use super::{WooAuth, WooCommerce, WooConfig};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// `https://{site}/wp-json/wc/v3`.
    base_url: String,
    consumer_key: Option<String>,
    consumer_key_env: Option<String>,
    consumer_secret: Option<String>,
    consumer_secret_env: Option<String>,
    /// `basic` (HTTP Basic over HTTPS) or `query` (`consumer_key`/`consumer_secret` in the
    /// query string, for servers that strip `Authorization`).
    #[serde(default = "auth")]
    auth: String,
    /// The secret Puente gives its webhooks (`X-WC-Webhook-Signature`); default: the
    /// consumer secret.
    webhook_secret: Option<String>,
    webhook_secret_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "consumer_key",
    "consumer_key_env",
    "consumer_secret",
    "consumer_secret_env",
    "auth",
    "webhook_secret",
    "webhook_secret_env",
    "page_size",
    "call_budget",
];

fn auth() -> String {
    "basic".into()
}

fn page_size() -> u32 {
    100
}

pub struct WooVendor;

/// The registry's WooCommerce entry.
pub static VENDOR: WooVendor = WooVendor;

impl WooVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=100).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=100 (WordPress refuses a per_page over 100 with a 400)",
            ));
        }
        if !matches!(s.auth.as_str(), "basic" | "query") {
            return Err(spec.error(
                "auth",
                format!("unknown auth '{}'", s.auth),
                "use \"basic\" (HTTP Basic over HTTPS) or \"query\" (keys in the query string)",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        Ok(s)
    }
}

impl Vendor for WooVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Order]
    }

    /// Puente only reads a shop (ROA-4: it never sets an order `completed`).
    fn writable(&self, _kind: Kind) -> bool {
        false
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Api)
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["consumer_key", "consumer_secret", "webhook_secret"]
    }

    fn validate(&self, spec: &ConnectionSpec<'_>) -> Result<(), ConfigError> {
        self.parse(spec).map(|_| ())
    }

    fn build(
        &self,
        spec: &ConnectionSpec<'_>,
        side: &SideSettings,
    ) -> Result<Arc<dyn Connector>, ConfigError> {
        let s = self.parse(spec)?;
        let key = secret(
            &spec.key("consumer_key"),
            &s.consumer_key,
            &s.consumer_key_env,
            "WooCommerce consumer key (ck_…)",
        )?;
        let sec = secret(
            &spec.key("consumer_secret"),
            &s.consumer_secret,
            &s.consumer_secret_env,
            "WooCommerce consumer secret (cs_…)",
        )?;
        let webhook_secret = match (&s.webhook_secret, &s.webhook_secret_env) {
            (None, None) => sec.clone(),
            _ => secret(
                &spec.key("webhook_secret"),
                &s.webhook_secret,
                &s.webhook_secret_env,
                "webhook secret",
            )?,
        };
        Ok(Arc::new(WooCommerce::new(WooConfig {
            base_url: s.base_url,
            auth: if s.auth == "query" {
                WooAuth::Query
            } else {
                WooAuth::Basic
            },
            consumer_key: key,
            consumer_secret: sec,
            webhook_secret,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            mapping: side.mapping.clone(),
        })))
    }
}
