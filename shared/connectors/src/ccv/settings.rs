//! A `[connections.NAME]` section of `type = "ccv"`.

use super::{Ccv, CcvConfig, Shop};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// `https://{shop}/api/rest/v1`.
    base_url: String,
    public_key: Option<String>,
    public_key_env: Option<String>,
    secret: Option<String>,
    secret_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
    /// What the shop's orders are called in the other system (`ecommerce/number`).
    #[serde(default = "order_source")]
    order_source: String,
    #[serde(default = "currency")]
    currency: String,
    #[serde(default = "yes")]
    prices_include_tax: bool,
}

const KEYS: &[&str] = &[
    "base_url",
    "public_key",
    "public_key_env",
    "secret",
    "secret_env",
    "page_size",
    "call_budget",
    "order_source",
    "currency",
    "prices_include_tax",
];

fn page_size() -> u32 {
    100
}

fn order_source() -> String {
    "ccv".into()
}

fn currency() -> String {
    "EUR".into()
}

fn yes() -> bool {
    true
}

pub struct CcvVendor;

/// The registry's CCV Shop entry.
pub static VENDOR: CcvVendor = CcvVendor;

impl CcvVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=super::MAX_PAGE).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=250 (CCV Shop's largest page)",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        if s.order_source.trim().is_empty() || s.order_source.contains('/') {
            return Err(spec.error(
                "order_source",
                "must be a non-empty name without '/'",
                "e.g. order_source = \"ccv\" (it prefixes the shop's order numbers in the accounting system)",
            ));
        }
        if s.currency.len() != 3 {
            return Err(spec.error(
                "currency",
                format!("'{}' is not an ISO 4217 code", s.currency),
                "e.g. currency = \"EUR\"",
            ));
        }
        Ok(s)
    }
}

impl Vendor for CcvVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Product, Kind::Stock, Kind::Order, Kind::Contact]
    }

    /// Orders are read from the shop, never written to it (APC-1 flows one way).
    fn writable(&self, kind: Kind) -> bool {
        kind != Kind::Order
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["public_key", "secret"]
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
        if let Some(k) = side.options.keys().next() {
            return Err(ConfigError::new(
                format!("flows[…].options.{}.{k}", spec.name),
                "CCV Shop takes no flow options",
                "remove it; the shop's settings are in its [connections] section",
            ));
        }
        let public = secret(
            &spec.key("public_key"),
            &s.public_key,
            &s.public_key_env,
            "CCV Shop API public key",
        )?;
        let sec = secret(
            &spec.key("secret"),
            &s.secret,
            &s.secret_env,
            "CCV Shop API secret",
        )?;
        Ok(Arc::new(Ccv::new(CcvConfig {
            base_url: s.base_url,
            public_key: public,
            secret: sec,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            shop: Shop {
                prices_include_tax: s.prices_include_tax,
                currency: s.currency.to_uppercase(),
                label: s.order_source,
            },
            mapping: side.mapping.clone(),
        })))
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Api)
    }
}
