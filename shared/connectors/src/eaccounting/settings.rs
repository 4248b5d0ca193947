//! A `[connections.NAME]` section of `type = "eaccounting"`, and the options a flow gives
//! its eAccounting side (`[flows.options.NAME]`).

use super::{DocType, EAccounting, EAccountingConfig, Options, StockFormula};
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
    #[serde(default = "token_url")]
    token_url: String,
    client_id: String,
    client_secret: Option<String>,
    client_secret_env: Option<String>,
    refresh_token: Option<String>,
    refresh_token_env: Option<String>,
    #[serde(default = "page_size")]
    page_size: u32,
    call_budget: Option<u64>,
}

const KEYS: &[&str] = &[
    "base_url",
    "token_url",
    "client_id",
    "client_secret",
    "client_secret_env",
    "refresh_token",
    "refresh_token_env",
    "page_size",
    "call_budget",
];

const OPTIONS: &[&str] = &[
    "document",
    "default_customer",
    "stock_formula",
    "customer_currency",
    "payment_terms",
    "unit",
];

fn base_url() -> String {
    "https://eaccountingapi.vismaonline.com/v2".into()
}

fn token_url() -> String {
    "https://identity.vismaonline.com/connect/token".into()
}

fn page_size() -> u32 {
    super::MAX_PAGE
}

pub struct EAccountingVendor;

/// The registry's eAccounting entry.
pub static VENDOR: EAccountingVendor = EAccountingVendor;

impl EAccountingVendor {
    fn parse(&self, spec: &ConnectionSpec<'_>) -> Result<Settings, ConfigError> {
        let s: Settings = spec.settings(KEYS)?;
        if !(1..=super::MAX_PAGE).contains(&s.page_size) {
            return Err(spec.error(
                "page_size",
                format!("{} is out of range", s.page_size),
                "use 1..=1000",
            ));
        }
        crate::config_checks::http_url(spec, "base_url", &s.base_url)?;
        crate::config_checks::http_url(spec, "token_url", &s.token_url)?;
        Ok(s)
    }

    fn options(&self, spec: &ConnectionSpec<'_>, t: &toml::Table) -> Result<Options, ConfigError> {
        let key = |k: &str| format!("flows[…].options.{}.{k}", spec.name);
        let mut o = Options::default();
        for (k, v) in t {
            let text = v
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string());
            let guid = || -> Result<String, ConfigError> {
                crate::ids::IdSyntax::Uuid.parse(&text).map_err(|e| {
                    ConfigError::new(
                        key(k),
                        e.to_string(),
                        "give the record's Id (a GUID) as eAccounting shows it in the API",
                    )
                })
            };
            match k.as_str() {
                "document" => {
                    o.document = DocType::parse(&text).ok_or_else(|| {
                        ConfigError::new(
                            key(k),
                            format!("unknown document type '{text}'"),
                            "use \"quote\", \"order\", \"invoice\" or \"booked_invoice\"",
                        )
                    })?
                }
                "default_customer" => o.default_customer = Some(guid()?),
                "payment_terms" => o.payment_terms = Some(guid()?),
                "unit" => o.unit = Some(guid()?),
                "stock_formula" => {
                    o.stock = match text.trim() {
                        "available" => StockFormula::Available,
                        "in_stock" => StockFormula::InStock,
                        other => {
                            return Err(ConfigError::new(
                                key(k),
                                format!("unknown stock formula '{other}'"),
                                "use \"available\" (StockBalanceAvailable: balance − reserved, the default) or \"in_stock\" (StockBalance)",
                            ))
                        }
                    }
                }
                "customer_currency" => o.customer_currency = text.to_uppercase(),
                other => {
                    return Err(ConfigError::new(
                        key(other),
                        "eAccounting takes no such option",
                        format!("the options of an eAccounting side are: {}", OPTIONS.join(", ")),
                    ))
                }
            }
        }
        Ok(o)
    }
}

impl Vendor for EAccountingVendor {
    fn name(&self) -> &'static str {
        super::SYSTEM
    }

    fn entities(&self) -> &'static [Kind] {
        &[Kind::Contact, Kind::Product, Kind::Stock, Kind::Order]
    }

    /// Stock balances move with documents and the UI, not the API: stock flows from here.
    fn writable(&self, kind: Kind) -> bool {
        kind != Kind::Stock
    }

    fn secret_keys(&self) -> &'static [&'static str] {
        &["client_secret", "refresh_token"]
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
        let client_secret = secret(
            &spec.key("client_secret"),
            &s.client_secret,
            &s.client_secret_env,
            "eAccounting client secret",
        )?;
        let refresh = secret(
            &spec.key("refresh_token"),
            &s.refresh_token,
            &s.refresh_token_env,
            "eAccounting refresh token (from the OAuth2 consent)",
        )?;
        Ok(Arc::new(EAccounting::new(EAccountingConfig {
            base_url: s.base_url,
            token_url: s.token_url,
            client_id: s.client_id,
            client_secret,
            refresh_token: refresh,
            page_size: s.page_size,
            budget: s.call_budget,
            retry: spec.retry.clone(),
            options,
            mapping: side.mapping.clone(),
        })))
    }
}
