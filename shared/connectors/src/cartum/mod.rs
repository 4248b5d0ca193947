//! Cartum (web shop, ROA-9): a connector ready for an API, configured like the others —
//! `[connections.NAME] type = "cartum"` with the shop's `domain`, a `login` and a
//! `password` (the Horoshop-style gateway `https://{domain}/api/{function}/` with a login →
//! token is the only lead: `spec/vendor-apis/shops-accounting.md` §(e)) — which answers at
//! activation (`check`) that Cartum has no public API Puente can use yet. Nothing is read
//! or written; the flow stays inactive with that reason. When an API is confirmed, the
//! reads go here and its sandbox in `shared/sandbox/src/cartum/`; the preset
//! (`presets/cartum-roapp.toml`) already says what the flow does (ROA-1: no `Delivered`
//! orders in the backfill; ROA-4: statuses sync).

use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::error::ConnectorError;
use crate::http::CallStats;
use crate::ids::IdSyntax;
use crate::registry::Vendor;
use crate::{Connector, ListQuery, Page, Read};
use async_trait::async_trait;
use puente_core::{Kind, Record};
use serde::Deserialize;
use std::sync::Arc;

pub const SYSTEM: &str = "cartum";

/// What activation answers (ROA-9).
pub const NO_API: &str = "Cartum has no public API yet: Puente cannot read its orders until one is confirmed (ROA-9). The connection is kept; the flow stays inactive.";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The shop's domain (`tienda.example.es`).
    domain: String,
    login: Option<String>,
    login_env: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
}

const KEYS: &[&str] = &["domain", "login", "login_env", "password", "password_env"];

pub struct CartumVendor;

/// The registry's Cartum entry.
pub static VENDOR: CartumVendor = CartumVendor;

impl Vendor for CartumVendor {
    fn name(&self) -> &'static str {
        SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Order]
    }

    fn writable(&self, _kind: Kind) -> bool {
        false
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["login", "password"]
    }

    fn validate(&self, spec: &ConnectionSpec<'_>) -> Result<(), ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if s.domain.trim().is_empty() || s.domain.contains('/') {
            return Err(spec.error(
                "domain",
                format!("'{}' is not a domain", s.domain),
                "the shop's domain, e.g. domain = \"tienda.example.es\"",
            ));
        }
        Ok(())
    }

    fn build(
        &self,
        spec: &ConnectionSpec<'_>,
        _side: &SideSettings,
    ) -> Result<Arc<dyn Connector>, ConfigError> {
        self.validate(spec)?;
        let s: Settings = spec.settings(KEYS)?;
        secret(
            &spec.key("login"),
            &s.login,
            &s.login_env,
            "Cartum API user login",
        )?;
        secret(
            &spec.key("password"),
            &s.password,
            &s.password_env,
            "Cartum API user password",
        )?;
        Ok(Arc::new(Cartum {
            base: format!("https://{}/api", s.domain.trim()),
        }))
    }
}

/// A Cartum connection: configured, not usable yet.
pub struct Cartum {
    /// Where the API would be (`https://{domain}/api`).
    pub base: String,
}

fn no_api() -> ConnectorError {
    ConnectorError::Unsupported {
        system: SYSTEM.into(),
        what: NO_API.into(),
    }
}

#[async_trait]
impl Connector for Cartum {
    fn system(&self) -> &str {
        SYSTEM
    }

    fn vendor(&self) -> &'static str {
        SYSTEM
    }

    /// ROA-9: activation says why the flow cannot start.
    async fn check(&self) -> Result<(), ConnectorError> {
        Err(ConnectorError::Mapping {
            system: SYSTEM.into(),
            detail: NO_API.into(),
        })
    }

    fn supports(&self, kind: Kind) -> bool {
        matches!(kind, Kind::Contact | Kind::Product | Kind::Order)
    }

    fn id_syntax(&self, _kind: Kind) -> IdSyntax {
        IdSyntax::Integer
    }

    fn calls(&self) -> CallStats {
        CallStats::default()
    }

    fn reset_budget(&self) {}

    fn read(&self) -> &dyn Read {
        self
    }
}

#[async_trait]
impl Read for Cartum {
    fn has_modified_filter(&self, _kind: Kind) -> bool {
        false
    }

    async fn list(
        &self,
        _kind: Kind,
        _q: &ListQuery,
        _page: Option<&str>,
    ) -> Result<Page, ConnectorError> {
        Err(no_api())
    }

    async fn get(&self, _kind: Kind, _id: &str) -> Result<Option<Record>, ConnectorError> {
        Err(no_api())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::RetryPolicy;

    #[tokio::test]
    async fn roa9_cartum_is_configured_like_the_others_and_says_it_has_no_api_yet() {
        let t: toml::Table =
            toml::from_str("domain = \"tienda.example.es\"\nlogin = \"api\"\npassword = \"x\"")
                .unwrap();
        let spec = ConnectionSpec {
            name: "cartum",
            table: &t,
            text: None,
            retry: RetryPolicy::default(),
        };
        VENDOR.validate(&spec).unwrap();
        let c = VENDOR
            .build(&spec, &SideSettings::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let e = c.check().await.unwrap_err();
        assert!(
            e.to_string().contains("Cartum has no public API yet"),
            "{e}"
        );
        assert!(!e.is_transient());
        assert!(c
            .read()
            .list(Kind::Order, &ListQuery::all(), None)
            .await
            .is_err());
        let bad: toml::Table = toml::from_str("domain = \"x\"\npasword = \"x\"").unwrap();
        let spec = ConnectionSpec {
            name: "cartum",
            table: &bad,
            text: None,
            retry: RetryPolicy::default(),
        };
        assert!(VENDOR
            .validate(&spec)
            .unwrap_err()
            .problem
            .contains("pasword"));
    }
}
