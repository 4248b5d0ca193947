//! Tenants on AWS (RUN-4): each tenant's configuration lives in the DynamoDB table and its
//! secrets in AWS Secrets Manager, written by `puente tenant put --file tenant.toml` and read
//! by the functions, which look a tenant up by the `{tenant}` of the webhook path or the
//! tenant of a queued event.
//!
//! `tenant.toml` is the same TOML as `puente serve`'s config. On `put`, every secret in it
//! (`api_key`, `token`, `password`, `webhook_secret`, literal or named by its `*_env`
//! variable in the operator's shell) is moved out of the TOML into one Secrets Manager
//! secret, `{prefix}{tenant}` (a JSON object keyed by the dotted TOML path), so the table
//! never holds a secret. A function joins the two back before parsing. The secret is
//! written before the configuration, so a stored configuration never points at a secret
//! that does not exist yet.

use anyhow::{anyhow, bail, Context as _, Result};
use aws_sdk_dynamodb::types::AttributeValue;
use puente_connectors::RetryPolicy;
use puente_runtime::{App, Config};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The TOML keys that hold a secret (every vendor's, from the registry, the server's webhook
/// secret and the notification URL); each may instead be given as `{key}_env`.
pub fn secret_keys() -> Vec<&'static str> {
    let mut keys = puente_connectors::registry::secret_keys();
    for k in ["password", "webhook_url"] {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys
}

/// Default name prefix of the tenants' secrets (`SECRETS_PREFIX` overrides it).
pub const DEFAULT_SECRETS_PREFIX: &str = "puente/";

/// The partition of the tenant items in the table (sort key: the tenant).
const TENANT_PK: &str = "TENANT";

/// A tenant configuration split into what the table stores and what Secrets Manager does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub tenant: String,
    /// The configuration with every secret removed.
    pub config_toml: String,
    /// Dotted TOML path (`connections.alegra.token`) → value.
    pub secrets: BTreeMap<String, String>,
}

/// Moves the secrets out of a tenant TOML. `env` resolves `*_env` references (the
/// operator's environment); an unset variable is an error naming it. The result is
/// validated as a whole (flows, connections, secrets) before anything is stored.
pub fn split_secrets(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Split> {
    let mut doc: toml::Table = text.parse().context("tenant file is not valid TOML")?;
    let mut secrets = BTreeMap::new();
    strip(&mut doc, "", &env, &mut secrets)?;
    let config_toml = toml::to_string(&doc)?;
    let joined = join_secrets(&config_toml, &secrets)?;
    let config = Config::parse(&joined).map_err(|e| anyhow!("{e}"))?;
    // Builds every connector and flow without touching the network or a real store.
    App::build(
        config.clone(),
        Arc::new(puente_store::memory::MemoryStore::new()),
        RetryPolicy::default(),
    )
    .map_err(|e| anyhow!("{e}"))?;
    Ok(Split {
        tenant: config.tenant,
        config_toml,
        secrets,
    })
}

fn strip(
    table: &mut toml::Table,
    path: &str,
    env: &impl Fn(&str) -> Option<String>,
    out: &mut BTreeMap<String, String>,
) -> Result<()> {
    let keys: Vec<String> = table.keys().cloned().collect();
    let secret_keys = secret_keys();
    for k in keys {
        let here = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        if let Some(toml::Value::Table(t)) = table.get_mut(&k) {
            strip(t, &here, env, out)?;
            continue;
        }
        if secret_keys.contains(&k.as_str()) {
            match table.remove(&k) {
                Some(toml::Value::String(v)) => {
                    out.insert(here, v);
                }
                _ => bail!("`{here}` must be a string"),
            }
        } else if let Some(base) = k.strip_suffix("_env").filter(|b| secret_keys.contains(b)) {
            let var = match table.remove(&k) {
                Some(toml::Value::String(v)) => v,
                _ => bail!("`{here}` must be the name of an environment variable"),
            };
            let value = env(&var).filter(|v| !v.is_empty()).ok_or_else(|| {
                anyhow!("`{here}` names the environment variable {var}, which is not set here; export it before `puente tenant put`")
            })?;
            let secret_path = format!("{}{base}", here.strip_suffix(&k).unwrap_or(""));
            out.insert(secret_path, value);
        }
    }
    Ok(())
}

/// Puts the secrets back at their paths (what a function parses).
pub fn join_secrets(config_toml: &str, secrets: &BTreeMap<String, String>) -> Result<String> {
    let mut doc: toml::Table = config_toml
        .parse()
        .context("stored tenant configuration is not valid TOML")?;
    for (path, value) in secrets {
        let parts: Vec<&str> = path.split('.').collect();
        let (last, parents) = parts.split_last().expect("split yields one part");
        let mut t = &mut doc;
        for p in parents {
            t = t
                .entry(p.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                .as_table_mut()
                .ok_or_else(|| anyhow!("secret path `{path}`: `{p}` is not a table"))?;
        }
        t.insert(last.to_string(), toml::Value::String(value.clone()));
    }
    Ok(toml::to_string(&doc)?)
}

/// The tenants' configurations (DynamoDB) and secrets (Secrets Manager).
#[derive(Clone, Debug)]
pub struct Tenants {
    dynamo: aws_sdk_dynamodb::Client,
    table: String,
    secrets: aws_sdk_secretsmanager::Client,
    prefix: String,
}

impl Tenants {
    pub fn new(sdk: &aws_config::SdkConfig, table: &str, prefix: &str) -> Tenants {
        Tenants {
            dynamo: aws_sdk_dynamodb::Client::new(sdk),
            table: table.to_string(),
            secrets: aws_sdk_secretsmanager::Client::new(sdk),
            prefix: prefix.to_string(),
        }
    }

    /// The name of a tenant's secret in Secrets Manager.
    pub fn secret_name(&self, tenant: &str) -> String {
        format!("{}{tenant}", self.prefix)
    }

    /// Stores a tenant: its secrets first, then its configuration.
    pub async fn put(&self, split: &Split) -> Result<()> {
        let name = self.secret_name(&split.tenant);
        let value = serde_json::to_string(&split.secrets)?;
        let created = self
            .secrets
            .create_secret()
            .name(&name)
            .description(format!(
                "Puente tenant '{}': connection secrets",
                split.tenant
            ))
            .secret_string(&value)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_exists_exception()) =>
            {
                self.secrets
                    .put_secret_value()
                    .secret_id(&name)
                    .secret_string(&value)
                    .send()
                    .await
                    .map_err(|e| {
                        anyhow!("Secrets Manager put_secret_value {name}: {}", aws_error(&e))
                    })?;
            }
            Err(e) => bail!("Secrets Manager create_secret {name}: {}", aws_error(&e)),
        }
        self.dynamo
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(TENANT_PK.into()))
            .item("sk", AttributeValue::S(split.tenant.clone()))
            .item("config", AttributeValue::S(split.config_toml.clone()))
            .item("secret", AttributeValue::S(name))
            .item(
                "updated_at",
                AttributeValue::S(chrono::Utc::now().to_rfc3339()),
            )
            .send()
            .await
            .map_err(|e| anyhow!("DynamoDB put tenant {}: {}", split.tenant, aws_error(&e)))?;
        Ok(())
    }

    /// A tenant's configuration with its secrets joined back, or `None` if unknown.
    pub async fn get(&self, tenant: &str) -> Result<Option<Config>> {
        let item = self
            .dynamo
            .get_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(TENANT_PK.into()))
            .key("sk", AttributeValue::S(tenant.to_string()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| anyhow!("DynamoDB get tenant {tenant}: {}", aws_error(&e)))?
            .item;
        let Some(item) = item else { return Ok(None) };
        let text = string_attr(&item, "config")?;
        let name = string_attr(&item, "secret")?;
        let secret = self
            .secrets
            .get_secret_value()
            .secret_id(&name)
            .send()
            .await
            .map_err(|e| anyhow!("Secrets Manager get_secret_value {name}: {}", aws_error(&e)))?;
        let secrets: BTreeMap<String, String> =
            serde_json::from_str(secret.secret_string().unwrap_or("{}"))
                .with_context(|| format!("secret {name} is not a JSON object of strings"))?;
        let joined = join_secrets(&text, &secrets)?;
        let config = Config::parse(&joined).map_err(|e| anyhow!("tenant {tenant}: {e}"))?;
        Ok(Some(config))
    }

    /// Every stored tenant's name.
    pub async fn list(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let r = self
                .dynamo
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", AttributeValue::S(TENANT_PK.into()))
                .projection_expression("sk")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| anyhow!("DynamoDB list tenants: {}", aws_error(&e)))?;
            for item in r.items.unwrap_or_default() {
                out.push(string_attr(&item, "sk")?);
            }
            match r.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }
}

fn string_attr(item: &HashMap<String, AttributeValue>, name: &str) -> Result<String> {
    match item.get(name) {
        Some(AttributeValue::S(s)) => Ok(s.clone()),
        _ => bail!("tenant item has no string attribute `{name}`"),
    }
}

fn aws_error<E: std::error::Error>(e: &E) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        s.push_str(": ");
        s.push_str(&c.to_string());
        src = c.source();
    }
    s
}

/// The webhook paths a person must register in a vendor's UI, per connection whose vendor
/// is set up by hand (append each to the stack's `WebhookBaseUrl` output, or to
/// `http://HOST:PORT/` for `puente serve`). They contain the webhook secret: show them to
/// the operator who registers them, and nowhere else. Empty without a webhook secret.
pub fn webhook_paths(config: &Config) -> Result<Vec<(String, String)>> {
    let Some(secret) = config.webhook_secret().map_err(|e| anyhow!("{e}"))? else {
        return Ok(Vec::new());
    };
    Ok(config
        .connections
        .iter()
        .filter(|(_, c)| {
            c.vendor().and_then(|v| v.webhooks()) == Some(puente_connectors::WebhookSetup::Manual)
        })
        .map(|(name, _)| {
            (
                name.clone(),
                format!("webhooks/{}/{name}/{secret}", config.tenant),
            )
        })
        .collect())
}

/// The first of [`webhook_paths`], if any.
pub fn webhook_path(config: &Config) -> Result<Option<String>> {
    Ok(webhook_paths(config)?.into_iter().next().map(|(_, p)| p))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = r#"
tenant = "acme"

[server]
webhook_secret = "hook-secret-1"

[connections.clientify]
type = "clientify"
base_url = "http://127.0.0.1:1/v1"
api_key = "clientify-key-1"

[connections.alegra]
type = "alegra"
base_url = "http://127.0.0.1:2/api/v1"
email = "ops@acme.test"
token_env = "ACME_ALEGRA_TOKEN"

[[flows]]
name = "clientify-alegra"
a = "clientify"
b = "alegra"
"#;

    fn env(k: &str) -> Option<String> {
        (k == "ACME_ALEGRA_TOKEN").then(|| "alegra-token-1".to_string())
    }

    #[test]
    fn run4_tenant_put_moves_every_secret_out_of_the_stored_config() {
        let s = split_secrets(TENANT, env).expect("valid tenant");
        assert_eq!(s.tenant, "acme");
        for secret in ["hook-secret-1", "clientify-key-1", "alegra-token-1"] {
            assert!(!s.config_toml.contains(secret), "{}", s.config_toml);
        }
        assert!(!s.config_toml.contains("ACME_ALEGRA_TOKEN"));
        assert_eq!(
            s.secrets,
            BTreeMap::from([
                (
                    "connections.alegra.token".to_string(),
                    "alegra-token-1".to_string()
                ),
                (
                    "connections.clientify.api_key".to_string(),
                    "clientify-key-1".to_string()
                ),
                (
                    "server.webhook_secret".to_string(),
                    "hook-secret-1".to_string()
                ),
            ])
        );
        // Joined back, it is the same configuration as the file with its env resolved.
        let joined = Config::parse(&join_secrets(&s.config_toml, &s.secrets).unwrap()).unwrap();
        assert_eq!(
            joined.webhook_secret().unwrap().as_deref(),
            Some("hook-secret-1")
        );
        assert_eq!(
            webhook_path(&joined).unwrap().as_deref(),
            Some("webhooks/acme/clientify/hook-secret-1")
        );
    }

    #[test]
    fn run4_tenant_put_names_an_unset_secret_variable_and_a_bad_config() {
        let err = split_secrets(TENANT, |_| None).unwrap_err().to_string();
        assert!(err.contains("connections.alegra.token_env"), "{err}");
        assert!(err.contains("ACME_ALEGRA_TOKEN"), "{err}");
        let bad = TENANT.replace("b = \"alegra\"", "b = \"nowhere\"");
        let err = split_secrets(&bad, env).unwrap_err().to_string();
        assert!(err.contains("nowhere"), "{err}");
        let err = split_secrets("tenant = ", env).unwrap_err().to_string();
        assert!(err.contains("not valid TOML"), "{err}");
    }
}
