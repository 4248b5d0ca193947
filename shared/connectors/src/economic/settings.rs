//! A `[connections.NAME]` section of `type = "economic"`, and the options a flow gives its
//! e-conomic side (`[flows.options.NAME]`).

use super::{DocType, Economic, EconomicConfig, Options, StockFormula};
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
    app_secret_token: Option<String>,
    app_secret_token_env: Option<String>,
    agreement_grant_token: Option<String>,
    agreement_grant_token_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "app_secret_token",
    "app_secret_token_env",
    "agreement_grant_token",
    "agreement_grant_token_env",
    "page_size",
    "call_budget",
];

/// The options a flow may give this side.
const OPTIONS: &[&str] = &[
    "document",
    "default_customer",
    "layout",
    "stock_formula",
    "customer_currency",
    "vat_zone",
    "customer_group",
    "payment_terms",
    "product_group",
];

fn base_url() -> String {
    "https://restapi.e-conomic.com".into()
}

fn page_size() -> u32 {
    super::MAX_PAGE
}

pub struct EconomicVendor;

/// The registry's e-conomic entry.
pub static VENDOR: EconomicVendor = EconomicVendor;

impl EconomicVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=super::MAX_PAGE).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=1000 (e-conomic's largest page; larger pages spend fewer of the 50,000 daily calls)",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        Ok(s)
    }

    /// The flow's options for this side, checked; errors name `flows[…].options.NAME.key`.
    fn options(&self, spec: &ConnectionSpec<'_>, t: &toml::Table) -> Result<Options, ConfigError> {
        let key = |k: &str| format!("flows[…].options.{}.{k}", spec.name);
        let mut o = Options::default();
        for (k, v) in t {
            let text = || {
                v.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| v.to_string())
            };
            let number = || -> Result<u64, ConfigError> {
                v.as_integer()
                    .filter(|n| *n > 0)
                    .map(|n| n as u64)
                    .or_else(|| v.as_str().and_then(|x| x.trim().parse().ok()))
                    .ok_or_else(|| {
                        ConfigError::new(
                            key(k),
                            format!("'{}' is not an e-conomic number", text()),
                            "give a whole number, e.g. 1",
                        )
                    })
            };
            match k.as_str() {
                "document" => {
                    o.document = DocType::parse(&text()).ok_or_else(|| {
                        ConfigError::new(
                            key(k),
                            format!("unknown document type '{}'", text()),
                            "use \"quote\", \"order\", \"invoice\" or \"booked_invoice\"",
                        )
                    })?
                }
                "default_customer" => o.default_customer = Some(number()?),
                "layout" => o.layout = Some(number()?),
                "stock_formula" => {
                    o.stock = StockFormula::parse(&text()).ok_or_else(|| {
                        ConfigError::new(
                            key(k),
                            format!("unknown stock formula '{}'", text()),
                            "use \"available\" (in stock − ordered by customers, the default), \"in_stock\" or \"available_plus_incoming\"",
                        )
                    })?
                }
                "customer_currency" => o.customer_currency = text().to_uppercase(),
                "vat_zone" => o.vat_zone = number()?,
                "customer_group" => o.customer_group = number()?,
                "payment_terms" => o.payment_terms = number()?,
                "product_group" => o.product_group = number()?,
                other => {
                    return Err(ConfigError::new(
                        key(other),
                        "e-conomic takes no such option",
                        format!("the options of an e-conomic side are: {}", OPTIONS.join(", ")),
                    ))
                }
            }
        }
        Ok(o)
    }
}

impl Vendor for EconomicVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Stock, Kind::Order]
    }

    /// The inventory is read-only [D]: stock flows from e-conomic only.
    fn writable(&self, kind: Kind) -> bool {
        kind != Kind::Stock
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["app_secret_token", "agreement_grant_token"]
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
        let options = self.options(spec, &side.options)?;
        let app = secret(
            &spec.key("app_secret_token"),
            &s.app_secret_token,
            &s.app_secret_token_env,
            "e-conomic app secret token",
        )?;
        let grant = secret(
            &spec.key("agreement_grant_token"),
            &s.agreement_grant_token,
            &s.agreement_grant_token_env,
            "e-conomic agreement grant token",
        )?;
        Ok(Arc::new(Economic::new(EconomicConfig {
            base_url: s.base_url,
            app_secret_token: app,
            agreement_grant_token: grant,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            options,
            mapping: side.mapping.clone(),
        })))
    }

    fn webhooks(&self) -> Option<crate::WebhookSetup> {
        Some(crate::WebhookSetup::Manual)
    }
}
