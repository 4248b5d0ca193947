//! A `[connections.NAME]` section of `type = "alegra"`.

use super::{Alegra, AlegraConfig};
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
    email: Option<String>,
    token: Option<String>,
    token_env: Option<String>,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &["base_url", "email", "token", "token_env", "call_budget"];

fn base_url() -> String {
    "https://api.alegra.com/api/v1".into()
}

pub struct AlegraVendor;

/// The registry's Alegra entry.
pub static VENDOR: AlegraVendor = AlegraVendor;

impl AlegraVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        Ok(s)
    }
}

impl Vendor for AlegraVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Company, Kind::Product, Kind::Budget]
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Api)
    }

    fn default_mapping(&self) -> &'static str {
        include_str!("mapping.toml")
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["token"]
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
        let email = match s.email {
            Some(e) if e.contains('@') => e,
            _ => {
                return Err(spec.error(
                    "email",
                    "missing or not an email address",
                    "set it to the email of the Alegra user whose API token you use",
                ))
            }
        };
        let token = secret(
            &spec.key("token"),
            &s.token,
            &s.token_env,
            "Alegra API token",
        )?;
        Ok(Arc::new(Alegra::new(AlegraConfig {
            base_url: s.base_url,
            email,
            token,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            mapping: side.mapping.clone(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(t: &toml::Table) -> ConnectionSpec<'_> {
        ConnectionSpec {
            name: "alegra",
            table: t,
            text: None,
            retry: Default::default(),
        }
    }

    #[test]
    fn alg12_alegra_defaults_and_checks() {
        let t: toml::Table = "email = \"me@acme.es\"\ntoken_env = \"X\"".parse().unwrap();
        let s = VENDOR.parse(&spec(&t)).unwrap();
        assert_eq!(s.base_url, "https://api.alegra.com/api/v1");
        let t: toml::Table = "base_url = \"ftp://x\"".parse().unwrap();
        assert_eq!(
            VENDOR.parse(&spec(&t)).unwrap_err().key,
            "connections.alegra.base_url"
        );
    }
}
