//! Connection settings as each vendor reads them from its `[connections.NAME]` section, and
//! the configuration error every layer reports: which key, what is wrong, how to fix it.
//!
//! The runtime knows a connection only as a name, a `type` (the vendor) and a table; the
//! vendor's module turns the table into its own settings (`#[serde(deny_unknown_fields)]`,
//! defaults, ranges) through [`ConnectionSpec::settings`], so a new vendor's keys never
//! touch the runtime.

use crate::http::RetryPolicy;
use serde::de::DeserializeOwned;
use std::fmt;

/// A configuration problem: which key, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config error at `{}`: {}", self.key, self.problem)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    pub fn new(
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

/// Reads a secret given inline or through an environment variable (`{key}_env`).
pub fn secret(
    key: &str,
    inline: &Option<String>,
    env: &Option<String>,
    what: &str,
) -> Result<String, ConfigError> {
    if let Some(var) = env {
        return match std::env::var(var) {
            Ok(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(ConfigError::new(
                format!("{key}_env"),
                format!("environment variable {var} is not set"),
                format!("export {var}=<{what}> before starting puente"),
            )),
        };
    }
    match inline {
        Some(v) if !v.trim().is_empty() => Ok(v.clone()),
        _ => Err(ConfigError::new(
            key,
            "missing",
            format!("set `{key}` to the {what}, or `{key}_env` to the name of an environment variable holding it"),
        )),
    }
}

/// The marks a flow keeps in one side's records for the other side (ALG-2 step 1, ALG-5):
/// Clientify's custom field `in_alegra` with the Alegra id, its tag `alegra`, and the
/// budget code prefix `ALG-` the estimate's id is written back under (ALG-8). Set by the
/// flow (its preset), not by the vendor: the same Clientify account keeps no marks at all
/// towards Odoo.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct BackRef {
    /// The custom field that holds the counterpart's id.
    pub field: Option<String>,
    /// The tag every synced record carries.
    pub tag: Option<String>,
    /// The prefix of codes the other side mints for this side's records (`ALG-{id}`).
    pub code_prefix: Option<String>,
}

impl BackRef {
    pub fn is_empty(&self) -> bool {
        self.field.is_none() && self.tag.is_none() && self.code_prefix.is_none()
    }
}

/// What a flow asks of one of its connections beyond the vendor's defaults: the marks it
/// keeps in this side's records, its mapping adjustments, and vendor options of the flow
/// (a document type, a stock formula; each vendor reads and checks its own).
#[derive(Clone, Debug, Default)]
pub struct SideSettings {
    pub back_ref: BackRef,
    pub mapping: std::sync::Arc<crate::kit::mapping::SideMapping>,
    pub options: toml::Table,
}

impl SideSettings {
    /// Whether the flow asks nothing special of this side (its connector can be shared).
    pub fn is_default(&self) -> bool {
        self.back_ref.is_empty() && self.mapping.is_empty() && self.options.is_empty()
    }
}

/// One `[connections.NAME]` section, as a vendor module receives it.
#[derive(Clone, Debug)]
pub struct ConnectionSpec<'a> {
    /// The connection's name (its identity in links, events and webhook URLs).
    pub name: &'a str,
    /// The section without its `type`.
    pub table: &'a toml::Table,
    /// The whole config text, when there is one, to say on which line a key is.
    pub text: Option<&'a str>,
    pub retry: RetryPolicy,
}

impl ConnectionSpec<'_> {
    /// `connections.NAME.key`: how messages name one of this connection's keys.
    pub fn key(&self, key: &str) -> String {
        format!("connections.{}.{key}", self.name)
    }

    /// The vendor's settings struct from the section. A key the vendor does not know or a
    /// value of the wrong type is an error at `connections.NAME` whose problem names the
    /// key and its line, and whose fix lists the keys the vendor takes.
    pub fn settings<T: DeserializeOwned>(&self, known: &[&str]) -> Result<T, ConfigError> {
        toml::Value::Table(self.table.clone())
            .try_into::<T>()
            .map_err(|e| {
                let msg = e.to_string();
                let msg = msg.trim();
                // Which key: the unknown one, else the one whose value is wrong (serde names
                // it after `in` or in backquotes), else none.
                let key = self
                    .table
                    .keys()
                    .find(|k| {
                        msg.contains(&format!("`{k}`"))
                            && (!known.contains(&k.as_str()) || msg.contains("invalid"))
                    })
                    .or_else(|| self.table.keys().find(|k| msg.contains(&format!("`{k}`"))))
                    .cloned();
                let line = key
                    .as_deref()
                    .and_then(|k| self.text.and_then(|t| line_of(t, self.name, k)));
                let at = match (&key, line) {
                    (Some(k), Some(l)) => format!("`{k}` (line {l}): "),
                    (Some(k), None) => format!("`{k}`: "),
                    _ => String::new(),
                };
                ConfigError::new(
                    format!("connections.{}", self.name),
                    format!("{at}{msg}"),
                    format!("the keys of this connection type are: {}", known.join(", ")),
                )
            })
    }

    /// A value error about one key, with its line.
    pub fn error(
        &self,
        key: &str,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> ConfigError {
        let problem = problem.into();
        let problem = match self.text.and_then(|t| line_of(t, self.name, key)) {
            Some(l) => format!("{problem} (line {l})"),
            None => problem,
        };
        ConfigError::new(self.key(key), problem, fix)
    }
}

/// The line (1-based) of `key = …` inside `[connections.NAME]` in a TOML text.
pub fn line_of(text: &str, connection: &str, key: &str) -> Option<usize> {
    let header = |l: &str| {
        let t = l.trim();
        t.starts_with('[') && {
            let inner = t.trim_matches(|c| c == '[' || c == ']').trim();
            inner == format!("connections.{connection}")
                || inner == format!("connections.\"{connection}\"")
        }
    };
    let mut inside = false;
    for (i, l) in text.lines().enumerate() {
        let t = l.trim_start();
        if t.starts_with('[') {
            inside = header(l);
            continue;
        }
        if inside {
            if let Some((k, _)) = t.split_once('=') {
                if k.trim().trim_matches('"') == key {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct S {
        email: Option<String>,
        token: Option<String>,
    }

    const TEXT: &str = "tenant = \"x\"\n[server]\nlisten = \"a\"\n[connections.alegra]\ntype = \"alegra\"\nemial = \"a@b.es\"\n[connections.other]\nemial = 1\n";

    #[test]
    fn config_errors_name_the_section_the_key_and_its_own_line() {
        let doc: toml::Table = TEXT.parse().unwrap();
        let mut t = doc["connections"]["alegra"].as_table().unwrap().clone();
        t.remove("type");
        let spec = ConnectionSpec {
            name: "alegra",
            table: &t,
            text: Some(TEXT),
            retry: RetryPolicy::default(),
        };
        let e = spec.settings::<S>(&["email", "token"]).unwrap_err();
        assert_eq!(e.key, "connections.alegra");
        assert!(e.problem.contains("`emial` (line 6)"), "{e}");
        assert!(e.fix.contains("email, token"), "{e}");
        let t = toml::Table::from_iter([("email".to_string(), toml::Value::Integer(5))]);
        let spec = ConnectionSpec { table: &t, ..spec };
        let e = spec.settings::<S>(&["email", "token"]).unwrap_err();
        assert!(e.problem.contains("expected a string"), "{e}");
        assert!(e.problem.contains("`email`"), "{e}");
        assert_eq!(line_of(TEXT, "other", "emial"), Some(8));
        assert_eq!(line_of(TEXT, "alegra", "listen"), None);
    }
}
