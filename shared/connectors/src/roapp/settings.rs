//! A `[connections.NAME]` section of `type = "roapp"`, and the flow options RO App takes
//! (`[flows.options.NAME]`): the order type new orders get (ROA-4), the "Not specified"
//! customer (ROA-8) and the unit of new products (ROA-7).

use super::{OrderType, RoApp, RoAppConfig};
use crate::config::{secret, ConfigError, ConnectionSpec, SideSettings};
use crate::registry::Vendor;
use crate::Connector;
use puente_core::Kind;
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    /// The API's root: legacy paths there, v2 under `/v2`.
    #[serde(default = "base_url")]
    base_url: String,
    api_key: Option<String>,
    api_key_env: Option<String>,
    /// Calls a second Puente makes at most (RO App answers 429 above 3 to 8).
    #[serde(default = "rate")]
    requests_per_second: f64,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "api_key",
    "api_key_env",
    "requests_per_second",
    "call_budget",
];

fn base_url() -> String {
    "https://api.roapp.io".into()
}

fn rate() -> f64 {
    3.0
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    /// The order type of new orders, by id or by name (default: the account's first).
    order_type: Option<toml::Value>,
    /// The client orders without a customer get (ROA-8, Shopify's Basic plan).
    unspecified_customer: Option<String>,
    /// The unit of products Puente creates (ROA-7: a piece, whatever the shop says).
    unit: Option<String>,
}

pub struct RoAppVendor;

/// The registry's RO App entry.
pub static VENDOR: RoAppVendor = RoAppVendor;

impl RoAppVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(0.0..=100.0).contains(&s.requests_per_second) {
            return Err(spec.error(
                "requests_per_second",
                format!("{} is out of range", s.requests_per_second),
                "RO App allows 3 to 8 calls a second: use e.g. 3 (0: no pacing)",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        Ok(s)
    }
}

impl Vendor for RoAppVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Order]
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
            "RO App API key",
        )?;
        let opt_err = |k: &str, problem: String, fix: &str| {
            ConfigError::new(format!("flows.options.{}.{k}", spec.name), problem, fix)
        };
        let o: Options = toml::Value::Table(side.options.clone())
            .try_into()
            .map_err(|e: toml::de::Error| {
                opt_err(
                    "",
                    e.message().to_string(),
                    "RO App takes the options order_type, unspecified_customer and unit",
                )
            })?;
        let order_type = match o.order_type {
            None => OrderType::First,
            Some(toml::Value::Integer(n)) if n > 0 => OrderType::Id(n as u64),
            Some(toml::Value::String(name)) if !name.trim().is_empty() => {
                OrderType::Name(name.trim().to_string())
            }
            Some(other) => {
                return Err(opt_err(
                    "order_type",
                    format!("{other} is not an order type id or name"),
                    "give the id (order_type = 1) or the name (order_type = \"Venta online\") of an RO App order type",
                ))
            }
        };
        Ok(Arc::new(RoApp::new(RoAppConfig {
            base_url: s.base_url,
            api_key: key,
            requests_per_second: s.requests_per_second,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            order_type,
            unspecified_customer: o
                .unspecified_customer
                .unwrap_or_else(|| "No especificado".into()),
            unit: o.unit.unwrap_or_else(|| "pcs".into()),
            mapping: side.mapping.clone(),
        })))
    }
}
