//! A `[connections.NAME]` section of `type = "shopify"`.

use super::{Shopify, ShopifyConfig};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// `https://{shop}.myshopify.com` by default (from `shop_domain`).
    base_url: Option<String>,
    shop_domain: String,
    access_token: Option<String>,
    access_token_env: Option<String>,
    #[serde(default = "api_version")]
    api_version: String,
    /// The app's client secret: the key of `X-Shopify-Hmac-Sha256`.
    webhook_secret: Option<String>,
    webhook_secret_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "shop_domain",
    "access_token",
    "access_token_env",
    "api_version",
    "webhook_secret",
    "webhook_secret_env",
    "page_size",
    "call_budget",
];

fn api_version() -> String {
    "2025-01".into()
}

fn page_size() -> u32 {
    250
}

pub struct ShopifyVendor;

/// The registry's Shopify entry.
pub static VENDOR: ShopifyVendor = ShopifyVendor;

impl ShopifyVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=250).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=250 (Shopify's largest page, `limit`)",
            ));
        }
        let v = s.api_version.as_bytes();
        let ok = v.len() == 7
            && v[4] == b'-'
            && v.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || c.is_ascii_digit());
        if !ok {
            return Err(spec.error(
                "api_version",
                format!("'{}' is not a Shopify API version", s.api_version),
                "use a YYYY-MM version, e.g. api_version = \"2025-01\"",
            ));
        }
        if s.shop_domain.trim().is_empty() || s.shop_domain.contains('/') {
            return Err(spec.error(
                "shop_domain",
                format!("'{}' is not a shop domain", s.shop_domain),
                "the shop's *.myshopify.com domain, e.g. shop_domain = \"acme.myshopify.com\"",
            ));
        }
        if let Some(u) = &s.base_url {
            crate::config_checks::http_url(spec, "base_url", u)?;
        }
        Ok(s)
    }
}

impl Vendor for ShopifyVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Order]
    }

    /// Puente only reads a shop (ROA-1..8 flow from it).
    fn writable(&self, _kind: Kind) -> bool {
        false
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Api)
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["access_token", "webhook_secret"]
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
        let token = secret(
            &spec.key("access_token"),
            &s.access_token,
            &s.access_token_env,
            "Shopify Admin API access token",
        )?;
        let webhook_secret = match (&s.webhook_secret, &s.webhook_secret_env) {
            (None, None) => None,
            _ => Some(secret(
                &spec.key("webhook_secret"),
                &s.webhook_secret,
                &s.webhook_secret_env,
                "Shopify app client secret",
            )?),
        };
        let root = s
            .base_url
            .unwrap_or_else(|| format!("https://{}", s.shop_domain.trim()));
        Ok(Arc::new(Shopify::new(ShopifyConfig {
            base_url: format!("{}/admin/api/{}", root.trim_end_matches('/'), s.api_version),
            access_token: token,
            webhook_secret,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            mapping: side.mapping.clone(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RetryPolicy;

    fn spec(t: &toml::Table) -> ConnectionSpec<'_> {
        ConnectionSpec {
            name: "shop",
            table: t,
            text: None,
            retry: RetryPolicy::default(),
        }
    }

    #[test]
    fn roa1_settings_check_version_domain_and_page_size() {
        let good: toml::Table =
            toml::from_str("shop_domain = \"acme.myshopify.com\"\naccess_token = \"t\"").unwrap();
        assert!(VENDOR.validate(&spec(&good)).is_ok());
        let mut t = good.clone();
        t.insert("api_version".into(), "2025-1".into());
        assert_eq!(
            VENDOR.validate(&spec(&t)).unwrap_err().key,
            "connections.shop.api_version"
        );
        let mut t = good.clone();
        t.insert("page_size".into(), toml::Value::Integer(251));
        assert_eq!(
            VENDOR.validate(&spec(&t)).unwrap_err().key,
            "connections.shop.page_size"
        );
        let mut t = good;
        t.remove("access_token");
        let e = match VENDOR.build(&spec(&t), &SideSettings::default()) {
            Err(e) => e,
            Ok(_) => panic!("built without a token"),
        };
        assert_eq!(e.key, "connections.shop.access_token");
    }
}
