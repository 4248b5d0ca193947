//! Configuration: one TOML file, secrets optionally from environment variables, every base URL
//! configurable. A bad config names the key and the fix.

use puente_connectors::{ConnectionSpec, RetryPolicy, Vendor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use puente_connectors::config::{secret, ConfigError};

fn err(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::new(key, problem, fix)
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default = "default_tenant")]
    pub tenant: String,
    #[serde(default)]
    pub store: StoreConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub server: ServerConfig,
    /// Where failures are notified (APC-8).
    #[serde(default)]
    pub notify: NotifyConfig,
    #[serde(default)]
    pub connections: BTreeMap<String, Connection>,
    #[serde(default)]
    pub flows: Vec<FlowConfig>,
    /// The text the config was parsed from, so errors found later (a vendor's settings, a
    /// missing secret) can say on which line a key is.
    #[serde(skip)]
    pub text: Option<String>,
}

fn default_tenant() -> String {
    "default".into()
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite file (created if missing).
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
}

fn default_store_path() -> PathBuf {
    PathBuf::from("puente.sqlite")
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            path: default_store_path(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// Activity-log retention (APC-8 / GDPR): entries older than this are deleted.
    #[serde(default = "default_retention")]
    pub retention_days: u32,
}

fn default_retention() -> u32 {
    30
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            retention_days: default_retention(),
        }
    }
}

/// `[notify]`: failures notified at once (APC-8) to an outgoing webhook (Slack, Teams).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// A Slack or Teams incoming-webhook URL (it is a secret: anyone holding it can post).
    pub webhook_url: Option<String>,
    /// The environment variable that holds the URL instead.
    pub webhook_url_env: Option<String>,
    /// More problems than this at once make one digest (default 5).
    pub digest_over: Option<usize>,
    /// Seconds problems are gathered before a message goes out (default 2).
    pub window_seconds: Option<u64>,
    /// The same problem is not repeated within this many minutes (default 60).
    pub repeat_after_minutes: Option<u64>,
}

impl NotifyConfig {
    /// The webhook URL, from the file or the environment; `None` when not configured.
    pub fn webhook_url(&self) -> Result<Option<String>, ConfigError> {
        match (&self.webhook_url, &self.webhook_url_env) {
            (Some(u), _) => Ok(Some(u.clone())),
            (None, Some(var)) => match std::env::var(var) {
                Ok(v) if !v.trim().is_empty() => Ok(Some(v)),
                _ => Err(err(
                    "notify.webhook_url_env",
                    format!("environment variable {var} is not set"),
                    format!("export {var}=https://hooks.slack.com/services/… or remove the key"),
                )),
            },
            (None, None) => Ok(None),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_listen")]
    pub listen: String,
    /// The secret in webhook URLs (`/webhooks/{tenant}/{system}/{secret}`).
    pub webhook_secret: Option<String>,
    pub webhook_secret_env: Option<String>,
    /// The address vendors reach this server at, e.g. `https://puente.acme.es` (ALG-11). With
    /// it (and a webhook secret) activation subscribes to the vendors' webhooks that have an
    /// API for it (Alegra) at `{public_url}/webhooks/{tenant}/{system}/{secret}`; without it
    /// no subscription is made and changes arrive by the schedule only.
    pub public_url: Option<String>,
}

fn default_listen() -> String {
    "127.0.0.1:8080".into()
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            webhook_secret: None,
            webhook_secret_env: None,
            public_url: None,
        }
    }
}

/// A vendor connection: its `type` (a vendor of [`puente_connectors::registry`]) and the
/// rest of its section, which only that vendor's module reads (its keys, defaults and
/// checks live there). Secrets may be given inline or, better, as the name of an
/// environment variable (`api_key_env`, `token_env`).
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The `type` key: the vendor.
    pub vendor: String,
    /// The section without `type`.
    pub settings: toml::Table,
}

impl<'de> Deserialize<'de> for Connection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut settings = toml::Table::deserialize(d)?;
        match settings.remove("type") {
            Some(toml::Value::String(vendor)) => Ok(Connection { vendor, settings }),
            Some(_) => Err(D::Error::custom(
                "`type` must be a string, the connection's vendor",
            )),
            None => Err(D::Error::missing_field("type")),
        }
    }
}

impl Connection {
    /// The connection's vendor (`clientify`, `alegra`, `odoo`, …).
    pub fn system(&self) -> &str {
        &self.vendor
    }

    /// The vendor's registry entry (`None` for an unknown `type`, which `validate` refuses).
    pub fn vendor(&self) -> Option<&'static dyn Vendor> {
        puente_connectors::registry::vendor(&self.vendor)
    }

    /// The entities this connection's connector syncs.
    pub fn entities(&self) -> Vec<&'static str> {
        self.vendor()
            .map(|v| v.entities().iter().map(|k| k.as_str()).collect())
            .unwrap_or_default()
    }

    /// The section as its vendor module reads it.
    pub fn spec<'a>(
        &'a self,
        name: &'a str,
        text: Option<&'a str>,
        retry: RetryPolicy,
    ) -> ConnectionSpec<'a> {
        ConnectionSpec {
            name,
            table: &self.settings,
            text,
            retry,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FlowConfig {
    pub name: String,
    /// Connection names (keys of `[connections]`).
    pub a: String,
    pub b: String,
    /// The entities the flow syncs; omitted: every entity both connections sync.
    #[serde(default)]
    pub entities: Vec<String>,
    /// System that wins a same-instant conflict (default: `a`).
    pub prefer_on_tie: Option<String>,
    /// What a first match does with fields both records hold with different values:
    /// `keep-both` (default: each keeps its own, logged as a conflict) or `newest`.
    pub first_match: Option<String>,
    /// field → connection name that always wins it (P2).
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    #[serde(default = "default_modified_every")]
    pub modified_every_minutes: u64,
    #[serde(default = "default_full_every")]
    pub full_every_hours: u64,
    /// How far back a backfill run reaches (ROA-1: two months).
    #[serde(default = "default_backfill_days")]
    pub backfill_days: u32,
    /// Per-entity rules (`[flows.rules.contact]`): how the flow syncs each entity, where
    /// it differs from the entity's defaults.
    #[serde(default)]
    pub rules: BTreeMap<String, EntityConfig>,
    /// `"none"` to start from the vendors' defaults only; by default a flow starts from the
    /// preset of its two vendors, when there is one (`shared/connectors/presets/`).
    pub preset: Option<String>,
    /// Per entity, the canonical fields the flow syncs (`[flows.fields] contact = [...]`);
    /// default: every field of the entity.
    #[serde(default)]
    pub fields: BTreeMap<String, Vec<String>>,
    /// Mapping adjustments (APC-7): `[flows.mapping.ENTITY.CONNECTION]` sets canonical
    /// fields from expressions over the vendor's record; its `write` table sets vendor
    /// fields (dotted paths) from expressions over the canonical fields.
    #[serde(default)]
    pub mapping: BTreeMap<String, BTreeMap<String, toml::Table>>,
    /// Lookup tables the mapping's `lookup('NAME')` reads (APC-3): `[flows.tables.NAME]`.
    #[serde(default)]
    pub tables: BTreeMap<String, BTreeMap<String, String>>,
    /// The marks the flow keeps in a connection's records: `[flows.back_reference.NAME]`
    /// with `field`, `tag`, `code_prefix`.
    #[serde(default)]
    pub back_reference: BTreeMap<String, puente_connectors::BackRef>,
    /// Vendor options of the flow per connection (`[flows.options.NAME]`), checked by the
    /// connection's vendor.
    #[serde(default)]
    pub options: BTreeMap<String, toml::Table>,
}

/// How one entity of a flow is synced where it differs from the entity's defaults (a flow
/// as data, platform.md §2): every key optional.
#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct EntityConfig {
    /// `two-way`, or `from:CONNECTION` for an entity that flows one way (P1).
    pub direction: Option<String>,
    /// Match keys, in order: `tax_id`, `sku`, `email`, `phone`, `name`, `code`, `order`,
    /// each as `kind` or `kind:field` (a key of that kind read from another canonical field).
    #[serde(rename = "match")]
    pub match_keys: Option<Vec<String>>,
    /// Country (ISO code) of phone numbers written without a country code; default `ES`.
    pub phone_region: Option<String>,
    /// `create-update` (default), `create-only` or `update-only`.
    pub write: Option<String>,
    /// `keep-both` or `newest`, for this entity (see [`FlowConfig::first_match`]).
    pub first_match: Option<String>,
    /// Fields written when a record is created and never overwritten afterwards (APC-6).
    #[serde(default)]
    pub create_only: Vec<String>,
    /// field → connection whose value always wins it (P2), for this entity only.
    #[serde(default)]
    pub pins: BTreeMap<String, String>,
    /// field → the values a record must have to take part (APC-1: paid orders only).
    #[serde(default)]
    pub only: BTreeMap<String, Vec<String>>,
    /// field → values that keep a record out (ROA-1: no completed or cancelled orders).
    #[serde(default)]
    pub except: BTreeMap<String, Vec<String>>,
    /// field → what it means when the field is empty: records without it are skipped with
    /// that reason (ROA-5: `items = "it has no products"`).
    #[serde(default)]
    pub require: BTreeMap<String, String>,
    /// `false`: the entity is synced only as a dependency of the flow's documents (an
    /// order's customer and products), never listed, polled or subscribed on its own.
    pub standalone: Option<bool>,
    /// `true`: a record none of whose match keys is set is created (and then followed by
    /// its link) instead of skipped (ROA-7: a product without SKU when products match by
    /// SKU).
    pub create_without_key: Option<bool>,
}

fn default_modified_every() -> u64 {
    60
}
fn default_backfill_days() -> u32 {
    60
}
fn default_full_every() -> u64 {
    168
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            err(
                path.display().to_string(),
                format!("cannot read the config file: {e}"),
                "pass an existing file with --config, or run without one to use the sandboxes",
            )
        })?;
        Config::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let cfg: Config = toml::from_str(text).map_err(|e| {
            let start = e.span().map(|s| s.start.min(text.len())).unwrap_or(0);
            let line = text[..start].lines().count().max(1);
            // Name the table the error is in ([connections.alegra], [[flows]], …).
            let table = text[..start]
                .lines()
                .rev()
                .chain(text[start..].lines().take(1))
                .map(str::trim)
                .find(|l| l.starts_with('['))
                .map(|l| l.trim_matches(|c| c == '[' || c == ']').to_string());
            err(
                table.unwrap_or_else(|| "config file".into()),
                format!("{} (line {line})", e.message().trim()),
                "see puente.example.toml for every key and its meaning",
            )
        })?;
        let mut cfg = cfg;
        cfg.text = Some(text.to_string());
        cfg.fill_defaults();
        cfg.validate()?;
        Ok(cfg)
    }

    /// Flows without `entities` sync every entity both of their connections sync.
    fn fill_defaults(&mut self) {
        for f in &mut self.flows {
            if !f.entities.is_empty() {
                continue;
            }
            let (Some(a), Some(b)) = (self.connections.get(&f.a), self.connections.get(&f.b))
            else {
                continue; // validate() names the missing connection
            };
            f.entities = a
                .entities()
                .iter()
                .filter(|e| b.entities().contains(e))
                .map(|e| e.to_string())
                .collect();
        }
    }

    /// Checks what serde cannot: references between sections and value ranges.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(u) = &self.notify.webhook_url {
            let ok = url::Url::parse(u)
                .ok()
                .filter(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
            if ok.is_none() {
                // Not quoted: the URL is a secret.
                return Err(err(
                    "notify.webhook_url",
                    "is not an http(s) URL",
                    "paste the incoming-webhook URL Slack or Teams gave you",
                ));
            }
        }
        if let Some(u) = &self.server.public_url {
            let ok = url::Url::parse(u)
                .ok()
                .filter(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
            if ok.is_none() {
                return Err(err(
                    "server.public_url",
                    format!("'{u}' is not an http(s) URL"),
                    "e.g. public_url = \"https://puente.example.com\" (where vendors reach this server)",
                ));
            }
        }
        if self.tenant.trim().is_empty()
            || !self
                .tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(err(
                "tenant",
                format!("'{}' is not a valid tenant name", self.tenant),
                "use letters, digits, '-' or '_' (it appears in webhook URLs)",
            ));
        }
        for (name, c) in &self.connections {
            let Some(vendor) = c.vendor() else {
                return Err(err(
                    format!("connections.{name}.type"),
                    format!("unknown connection type '{}'", c.vendor),
                    format!(
                        "use one of: {}",
                        puente_connectors::registry::names().join(", ")
                    ),
                ));
            };
            vendor.validate(&c.spec(name, self.text.as_deref(), RetryPolicy::default()))?;
        }
        let mut names = std::collections::BTreeSet::new();
        let mut back_ref_fields: Vec<(usize, (String, String))> = Vec::new();
        for (i, f) in self.flows.iter().enumerate() {
            let at = format!("flows[{i}]");
            if !names.insert(f.name.clone()) {
                return Err(err(
                    format!("{at}.name"),
                    format!("flow '{}' is defined twice", f.name),
                    "give each flow its own name",
                ));
            }
            for (k, conn) in [("a", &f.a), ("b", &f.b)] {
                if !self.connections.contains_key(conn) {
                    return Err(err(
                        format!("{at}.{k}"),
                        format!("no connection named '{conn}'"),
                        format!(
                            "add a [connections.{conn}] section or use one of: {}",
                            self.connections
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            if f.a == f.b {
                return Err(err(
                    format!("{at}.b"),
                    "a flow needs two different connections",
                    "set `a` and `b` to two connections",
                ));
            }
            for e in &f.entities {
                let kind = match e.parse::<puente_core::Kind>() {
                    Ok(k) => k,
                    Err(_) => return Err(err(
                        format!("{at}.entities"),
                        format!("unknown entity '{e}'"),
                        "use \"contact\", \"company\", \"product\", \"order\" and/or \"budget\"",
                    )),
                };
                for conn in [&f.a, &f.b] {
                    let c = &self.connections[conn];
                    if !c.entities().contains(&kind.as_str()) {
                        return Err(err(
                            format!("{at}.entities"),
                            format!("connection '{conn}' ({}) does not sync {kind}s", c.system()),
                            format!(
                                "remove \"{e}\"; {} syncs: {}",
                                c.system(),
                                c.entities().join(", ")
                            ),
                        ));
                    }
                }
            }
            for e in &f.entities {
                let Ok(kind) = e.parse::<puente_core::Kind>() else {
                    continue;
                };
                // An entity one side can only be read from flows one way, from that side; one
                // that neither side can be written is no flow at all.
                let writable = |conn: &String| {
                    self.connections[conn]
                        .vendor()
                        .is_some_and(|v| v.writable(kind))
                };
                if !writable(&f.a) && !writable(&f.b) {
                    return Err(err(
                        format!("{at}.entities"),
                        format!(
                            "neither '{}' ({}) nor '{}' ({}) can be written {kind}s",
                            f.a,
                            self.connections[&f.a].system(),
                            f.b,
                            self.connections[&f.b].system()
                        ),
                        format!("remove \"{e}\" from the flow's entities"),
                    ));
                }
            }
            for (field, conn) in &f.pins {
                if conn != &f.a && conn != &f.b {
                    return Err(err(
                        format!("{at}.pins.{field}"),
                        format!("'{conn}' is not a side of this flow"),
                        format!("use '{}' or '{}'", f.a, f.b),
                    ));
                }
            }
            if let Some(p) = &f.prefer_on_tie {
                if p != &f.a && p != &f.b {
                    return Err(err(
                        format!("{at}.prefer_on_tie"),
                        format!("'{p}' is not a side of this flow"),
                        format!("use '{}' or '{}'", f.a, f.b),
                    ));
                }
            }
            if let Some(fm) = &f.first_match {
                fm.parse::<puente_core::FirstMatch>().map_err(|e| {
                    err(
                        format!("{at}.first_match"),
                        e,
                        "first_match = \"keep-both\" (default) or \"newest\"",
                    )
                })?;
            }
            let spec = crate::flowspec::resolve(self, i)?;
            crate::rules::validate(i, f, &spec)?;
            // Two flows writing their counterpart's id into one custom field of the same
            // connection would overwrite each other's (two accounts of one vendor, each
            // with a flow from one CRM): each needs a field of its own.
            for (conn, b) in &spec.back_refs {
                let Some(field) = b.field.as_deref() else {
                    continue;
                };
                if let Some((j, _)) = back_ref_fields
                    .iter()
                    .find(|(_, (c, fl))| c == conn && fl == field)
                {
                    let j = *j;
                    return Err(err(
                        format!("{at}.back_reference.{conn}.field"),
                        format!(
                            "flow '{}' already keeps its ids in {conn}'s field '{field}'",
                            self.flows[j].name
                        ),
                        format!("give this flow a field of its own, e.g. [flows.back_reference.{conn}] field = \"{field}_{}\"", f.name.replace('-', "_")),
                    ));
                }
                back_ref_fields.push((i, (conn.clone(), field.to_string())));
            }
            if f.modified_every_minutes == 0 {
                return Err(err(
                    format!("{at}.modified_every_minutes"),
                    "must be at least 1",
                    "e.g. 60 for hourly",
                ));
            }
        }
        if self.log.retention_days == 0 {
            return Err(err("log.retention_days", "must be at least 1", "e.g. 30"));
        }
        Ok(())
    }

    pub fn webhook_secret(&self) -> Result<Option<String>, ConfigError> {
        if self.server.webhook_secret.is_none() && self.server.webhook_secret_env.is_none() {
            return Ok(None);
        }
        secret(
            "server.webhook_secret",
            &self.server.webhook_secret,
            &self.server.webhook_secret_env,
            "webhook secret",
        )
        .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
tenant = "acme"
[connections.clientify]
type = "clientify"
api_key = "k"
[connections.alegra]
type = "alegra"
email = "me@acme.es"
token_env = "PUENTE_TEST_ALEGRA_TOKEN_UNSET"
[[flows]]
name = "clientify-alegra"
a = "clientify"
b = "alegra"
"#;

    #[test]
    fn alg11_public_url_must_be_an_http_url() {
        let with = |u: &str| Config::parse(&format!("{GOOD}\n[server]\npublic_url = \"{u}\"\n"));
        assert_eq!(
            with("https://puente.acme.es")
                .unwrap()
                .server
                .public_url
                .as_deref(),
            Some("https://puente.acme.es")
        );
        for bad in ["puente.acme.es", "ftp://puente.acme.es", ""] {
            let e = with(bad).unwrap_err();
            assert_eq!(e.key, "server.public_url", "{bad}: {e}");
        }
        assert_eq!(Config::parse(GOOD).unwrap().server.public_url, None);
    }

    #[test]
    fn alg12_good_config_parses_with_defaults() {
        let c = Config::parse(GOOD).unwrap();
        assert_eq!(c.tenant, "acme");
        // ALG-1: the Alegra flow syncs contacts, companies, products and budgets by default.
        assert_eq!(
            c.flows[0].entities,
            vec!["contact", "company", "product", "budget"]
        );
        assert_eq!(c.flows[0].modified_every_minutes, 60);
        // The vendor's own defaults (base_url) are its module's: alegra/settings.rs tests.
        assert_eq!(c.connections["alegra"].vendor, "alegra");
    }

    #[test]
    fn alg12_bad_config_names_the_key_and_the_fix() {
        let e = Config::parse(&GOOD.replace("b = \"alegra\"", "b = \"alegro\"")).unwrap_err();
        assert_eq!(e.key, "flows[0].b");
        assert!(
            e.to_string().contains("fix: add a [connections.alegro]"),
            "{e}"
        );

        let e = Config::parse(&GOOD.replace("api_key = \"k\"", "api_kee = \"k\"")).unwrap_err();
        assert!(e.problem.contains("api_kee"), "{e}");
        assert!(e.problem.contains("line"), "{e}");

        let e = Config::parse(&GOOD.replace(
            "type = \"clientify\"",
            "type = \"clientify\"\nbase_url = \"ftp://x\"",
        ))
        .unwrap_err();
        assert_eq!(e.key, "connections.clientify.base_url");

        let e = Config::parse("tenant = \"a b\"").unwrap_err();
        assert_eq!(e.key, "tenant");
        assert!(Config::parse("this is not toml").is_err());
    }

    const ODOO: &str = r#"
[connections.clientify]
type = "clientify"
api_key = "k"
[connections.odoo]
type = "odoo"
url = "https://acme.odoo.com/odoo/contacts"
database = "acme"
user = "sync@acme.es"
api_key_env = "PUENTE_TEST_ODOO_KEY_UNSET"
[[flows]]
name = "clientify-odoo"
a = "clientify"
b = "odoo"
"#;

    #[test]
    fn odo8_odoo_connection_parses_and_flows_default_to_every_shared_entity() {
        let c = Config::parse(ODOO).unwrap();
        assert_eq!(
            c.flows[0].entities,
            vec!["contact", "company", "product", "order"]
        );
        // `user` as an alias of `login` and the page size default: odoo/settings.rs tests.
        assert_eq!(c.connections["odoo"].vendor, "odoo");
        // An entity Alegra does not sync is named with the fix.
        let e = Config::parse(&GOOD.replace(
            "b = \"alegra\"",
            "b = \"alegra\"\nentities = [\"contact\", \"order\"]",
        ))
        .unwrap_err();
        assert_eq!(e.key, "flows[0].entities");
        assert!(e.to_string().contains("does not sync orders"), "{e}");
        let e =
            Config::parse(&ODOO.replace("database = \"acme\"", "database = \" \"")).unwrap_err();
        assert_eq!(e.key, "connections.odoo.database");
        let e = Config::parse(&ODOO.replace("database = \"acme\"\n", "")).unwrap_err();
        assert!(e.problem.contains("database"), "{e}");
        let e = Config::parse(&ODOO.replace("user = ", "usr = ")).unwrap_err();
        assert!(e.problem.contains("usr"), "{e}");
    }

    #[test]
    fn alg12_secret_from_env_names_the_variable() {
        let e = secret(
            "connections.alegra.token",
            &None,
            &Some("PUENTE_TEST_ALEGRA_TOKEN_UNSET".into()),
            "API token",
        )
        .unwrap_err();
        assert_eq!(e.key, "connections.alegra.token_env");
        assert!(e
            .to_string()
            .contains("export PUENTE_TEST_ALEGRA_TOKEN_UNSET="));
        let e = secret("connections.alegra.token", &None, &None, "API token").unwrap_err();
        assert_eq!(e.problem, "missing");
    }
}
