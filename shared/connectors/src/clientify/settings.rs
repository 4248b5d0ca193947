//! A `[connections.NAME]` section of `type = "clientify"`.

use super::{Clientify, ClientifyConfig};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default = "base_url")]
    base_url: String,
    api_key: Option<String>,
    api_key_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "api_key",
    "api_key_env",
    "page_size",
    "call_budget",
];

fn base_url() -> String {
    "https://api.clientify.net/v1".into()
}

fn page_size() -> u32 {
    100
}

pub struct ClientifyVendor;

/// The registry's Clientify entry.
pub static VENDOR: ClientifyVendor = ClientifyVendor;

impl ClientifyVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=250).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=250 (Clientify's largest page)",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        Ok(s)
    }
}

impl Vendor for ClientifyVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[
            Kind::Contact,
            Kind::Company,
            Kind::Product,
            Kind::Order,
            Kind::Budget,
        ]
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Manual)
    }

    fn default_mapping(&self) -> &'static str {
        include_str!("mapping.toml")
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["api_key"]
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
            &spec.key("api_key"),
            &s.api_key,
            &s.api_key_env,
            "Clientify API key",
        )?;
        Ok(Arc::new(Clientify::new(ClientifyConfig {
            base_url: s.base_url,
            api_key: key,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            back_ref: side.back_ref.clone(),
            mapping: side.mapping.clone(),
        })))
    }
}
