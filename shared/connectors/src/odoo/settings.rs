//! A `[connections.NAME]` section of `type = "odoo"` (ODO-8).

use super::{Odoo, OdooConfig, OdooSettings};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The server root, e.g. `https://acme.odoo.com` (a pasted browser URL is cut back).
    url: String,
    /// The database name (Odoo → Settings → Database, or the `db` in the login URL).
    database: String,
    /// The user's login (usually an email).
    #[serde(alias = "user")]
    login: String,
    /// An API key of that user (Preferences → Account Security → New API Key), or its
    /// password when it has no 2FA.
    api_key: Option<String>,
    api_key_env: Option<String>,
    call_budget: Option<u64>,
    /// Search/read page size (Odoo has no cap; 200 keeps answers small).
    #[serde(default = "page_size")]
    page_size: u32,
}

const KEYS: &[&str] = &[
    "url",
    "database",
    "login (or user)",
    "api_key",
    "api_key_env",
    "call_budget",
    "page_size",
];

fn page_size() -> u32 {
    200
}

pub struct OdooVendor;

/// The registry's Odoo entry.
pub static VENDOR: OdooVendor = OdooVendor;

impl OdooVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        for (k, v, what) in [
            ("database", &s.database, "the database name, e.g. \"acme\""),
            (
                "login",
                &s.login,
                "the Odoo user's login, e.g. \"sync@acme.es\"",
            ),
        ] {
            if v.trim().is_empty() {
                return Err(spec.error(k, "empty", format!("set it to {what}")));
            }
        }
        if !(1..=1000).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=1000 (200 is a good size)",
            ));
        }
        let full = if s.url.contains("://") {
            s.url.clone()
        } else {
            format!("https://{}", s.url)
        };
        if url::Url::parse(&full).is_err() || s.url.trim().is_empty() {
            return Err(spec.error(
                "url",
                format!("'{}' is not a URL", s.url),
                "give the Odoo server's address, e.g. https://acme.odoo.com",
            ));
        }
        Ok(s)
    }
}

impl Vendor for OdooVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Company, Kind::Product, Kind::Order]
    }

    /// ODO-4: sales orders are read from Odoo, never written to it.
    fn writable(&self, kind: Kind) -> bool {
        kind != Kind::Order
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
            "Odoo API key",
        )?;
        Ok(Arc::new(Odoo::new(OdooConfig {
            settings: OdooSettings {
                url: s.url,
                database: s.database,
                login: s.login,
                api_key: key,
                retry: spec.retry.clone(),
            },
            budget: s.call_budget,
            page_size: s.page_size,
            mapping: side.mapping.clone(),
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odo8_odoo_settings_take_user_as_login_and_default_the_page_size() {
        let t: toml::Table = "url = \"https://acme.odoo.com/odoo/contacts\"\ndatabase = \"acme\"\nuser = \"sync@acme.es\"\napi_key_env = \"K\""
            .parse()
            .unwrap();
        let spec = ConnectionSpec {
            name: "odoo",
            table: &t,
            text: None,
            retry: Default::default(),
        };
        let s = VENDOR.parse(&spec).unwrap();
        assert_eq!(s.login, "sync@acme.es");
        assert_eq!(s.page_size, 200);
    }
}
