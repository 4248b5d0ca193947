//! The effective mapping of one entity of one flow (`puente mapping show FLOW ENTITY`):
//! each side's default mapping (the `mapping.toml` beside its connector) with the preset's
//! and the flow's own lines over it, and where every line comes from, so a user adjusting a
//! mapping sees what the vendor's records become before anything is written.

use crate::config::{Config, ConfigError};
use crate::flowspec;
use puente_connectors::kit::defaults::DefaultMapping;
use puente_core::Kind;
use std::fmt;

/// One line: target ← expression, and where it is set (`default`, `preset …`, `flows[i]…`).
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub target: String,
    pub expr: String,
    pub from: String,
}

/// One connection's side of the mapping.
#[derive(Debug)]
pub struct Side {
    pub connection: String,
    pub vendor: String,
    /// canonical field ← expression over the vendor's record.
    pub read: Vec<Line>,
    /// vendor field ← expression over the canonical fields.
    pub write: Vec<Line>,
    /// Whether the vendor describes its default mapping (a `mapping.toml`).
    pub described: bool,
}

/// The effective mapping of `kind` in a flow.
#[derive(Debug)]
pub struct Effective {
    pub flow: String,
    pub kind: Kind,
    pub preset: Option<String>,
    /// The fields the flow syncs (`None`: every field).
    pub fields: Option<Vec<String>>,
    pub sides: Vec<Side>,
    /// The lookup tables the flow's expressions may use.
    pub tables: Vec<String>,
}

/// Puts `line` over `lines`: a line for the same target is replaced where it stood.
fn over(lines: &mut Vec<Line>, line: Line) {
    match lines.iter_mut().find(|l| l.target == line.target) {
        Some(l) => *l = line,
        None => lines.push(line),
    }
}

/// The effective mapping of entity `entity` in flow `flow`; errors name what was asked and
/// what exists.
pub fn effective(config: &Config, flow: &str, entity: &str) -> Result<Effective, ConfigError> {
    let Some(i) = config.flows.iter().position(|f| f.name == flow) else {
        let names: Vec<&str> = config.flows.iter().map(|f| f.name.as_str()).collect();
        return Err(ConfigError::new(
            "FLOW",
            format!("no flow named '{flow}'"),
            format!("use one of: {}", names.join(", ")),
        ));
    };
    let kind: Kind = entity
        .parse()
        .map_err(|e: String| ConfigError::new("ENTITY", e, "name one entity, e.g. contact"))?;
    let f = &config.flows[i];
    if !f.entities.is_empty() && !f.entities.iter().any(|e| e.parse() == Ok(kind)) {
        return Err(ConfigError::new(
            format!("flows[{i}].entities"),
            format!("flow '{flow}' does not sync {kind}s"),
            format!("it syncs: {}", f.entities.join(", ")),
        ));
    }
    let spec = flowspec::resolve(config, i)?;
    let mut sides = Vec::new();
    for conn in [&f.a, &f.b] {
        let vendor = config
            .connections
            .get(conn)
            .map(|c| c.vendor.clone())
            .unwrap_or_default();
        let text = puente_connectors::registry::vendor(&vendor)
            .map(|v| v.default_mapping())
            .unwrap_or("");
        let defaults = DefaultMapping::parse(text).map_err(|e| {
            ConfigError::new(
                format!("{vendor}/mapping.toml"),
                e,
                "fix the vendor's default mapping file",
            )
        })?;
        let base = |m: &std::collections::BTreeMap<Kind, Vec<(String, String)>>| -> Vec<Line> {
            m.get(&kind)
                .into_iter()
                .flatten()
                .map(|(t, e)| Line {
                    target: t.clone(),
                    expr: e.clone(),
                    from: "default".into(),
                })
                .collect()
        };
        let mut read = base(&defaults.read);
        let mut write = base(&defaults.write);
        let key = (conn.clone(), kind);
        for (target, expr, from) in spec.read.get(&key).into_iter().flatten() {
            over(
                &mut read,
                Line {
                    target: target.clone(),
                    expr: expr.clone(),
                    from: from.clone(),
                },
            );
        }
        for (target, expr, from) in spec.write.get(&key).into_iter().flatten() {
            over(
                &mut write,
                Line {
                    target: target.clone(),
                    expr: expr.clone(),
                    from: from.clone(),
                },
            );
        }
        sides.push(Side {
            connection: conn.clone(),
            vendor,
            read,
            write,
            described: !text.trim().is_empty(),
        });
    }
    Ok(Effective {
        flow: flow.to_string(),
        kind,
        preset: spec.preset.clone(),
        fields: spec.fields.get(&kind).cloned(),
        sides,
        tables: spec.tables.keys().cloned().collect(),
    })
}

impl fmt::Display for Effective {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(out, "flow {}, entity {}", self.flow, self.kind)?;
        if let Some(p) = &self.preset {
            write!(out, " (preset {p})")?;
        }
        writeln!(out)?;
        match &self.fields {
            Some(f) => writeln!(out, "fields synced: {}", f.join(", "))?,
            None => writeln!(out, "fields synced: every field both sides map")?,
        }
        if !self.tables.is_empty() {
            writeln!(out, "lookup tables: {}", self.tables.join(", "))?;
        }
        for s in &self.sides {
            let width = s
                .read
                .iter()
                .chain(&s.write)
                .map(|l| l.target.chars().count())
                .max()
                .unwrap_or(0);
            let mut section = |title: String, lines: &[Line]| -> fmt::Result {
                writeln!(out, "\n{title}")?;
                if lines.is_empty() {
                    writeln!(out, "  (none)")?;
                }
                for l in lines {
                    writeln!(out, "  {:width$} ← {}", l.target, l.expr)?;
                    if l.from != "default" {
                        writeln!(out, "  {:width$}   (set by {})", "", l.from)?;
                    }
                }
                Ok(())
            };
            section(
                format!("{} ({}) → canonical fields: read", s.connection, s.vendor),
                &s.read,
            )?;
            section(
                format!("canonical fields → {} ({}): write", s.connection, s.vendor),
                &s.write,
            )?;
            if !s.described {
                writeln!(
                    out,
                    "  ({} does not describe its default mapping yet: only the flow's lines are shown)",
                    s.vendor
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        let text = format!(
            r#"
[connections.crm]
type = "clientify"
api_key = "k"
base_url = "http://127.0.0.1:1"

[connections.erp]
type = "odoo"
url = "http://127.0.0.1:2"
database = "db"
login = "u"
api_key = "k"

[[flows]]
name = "crm-erp"
a = "crm"
b = "erp"
{extra}
"#
        );
        Config::parse(&text).unwrap()
    }

    #[test]
    fn platform_mapping_show_puts_the_preset_and_the_flow_over_the_defaults() {
        let cfg = config(
            r#"
[flows.mapping.contact.erp]
email = "record.email | lower"
"#,
        );
        let m = effective(&cfg, "crm-erp", "contact").unwrap();
        assert_eq!(m.preset.as_deref(), Some("clientify-odoo"));
        let crm = &m.sides[0];
        let first = crm.read.iter().find(|l| l.target == "first_name").unwrap();
        assert!(first.from.starts_with("preset clientify-odoo"), "{first:?}");
        assert!(first.expr.contains("record.last_name"), "{first:?}");
        let tax = crm.read.iter().find(|l| l.target == "tax_id").unwrap();
        assert_eq!(tax.from, "default");
        let last = crm.write.iter().find(|l| l.target == "last_name").unwrap();
        assert_eq!(last.expr, "''", "the preset blanks last_name on writes");
        let erp = &m.sides[1];
        let email = erp.read.iter().find(|l| l.target == "email").unwrap();
        assert_eq!(email.expr, "record.email | lower");
        assert!(email.from.starts_with("flows[0]"), "{email:?}");
        // Replaced where it stood, not added twice.
        assert_eq!(erp.read.iter().filter(|l| l.target == "email").count(), 1);
        let text = m.to_string();
        assert!(
            text.contains("crm (clientify) → canonical fields: read"),
            "{text}"
        );
        assert!(text.contains("(set by flows[0]"), "{text}");
    }

    /// The flow keys `puente.example.toml` shows commented out load, uncommented, and
    /// reach the effective mapping.
    #[test]
    fn platform_the_examples_commented_flow_keys_load() {
        let text = include_str!("../../../puente.example.toml");
        let (before, rest) = text.split_once("# (begin: more flow keys").unwrap();
        let (block, after) = rest.split_once("# (end: more flow keys)").unwrap();
        let is_key = |l: &str| {
            let l = l.trim_start_matches("# ");
            l.starts_with('[')
                || l.split_once(" = ").is_some_and(|(k, _)| {
                    k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_\"".contains(c))
                })
        };
        let uncommented: Vec<&str> = block
            .lines()
            .filter(|l| l.starts_with("# ") && is_key(l))
            .map(|l| &l[2..])
            .collect();
        assert!(uncommented.len() > 15, "{uncommented:?}");
        let text = format!("{before}\n{}\n{after}", uncommented.join("\n"));
        let cfg = Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let m = effective(&cfg, "clientify-alegra", "contact").unwrap();
        assert_eq!(m.tables, vec!["payment_terms".to_string()]);
        assert!(m.sides[1].write.iter().any(|l| l.target == "observations"));
    }

    #[test]
    fn platform_mapping_show_names_what_is_wrong() {
        let cfg = config("entities = [\"contact\"]");
        let e = effective(&cfg, "nope", "contact").unwrap_err();
        assert!(e.fix.contains("crm-erp"), "{e}");
        let e = effective(&cfg, "crm-erp", "gadget").unwrap_err();
        assert!(e.problem.contains("gadget"), "{e}");
        let e = effective(&cfg, "crm-erp", "product").unwrap_err();
        assert_eq!(e.key, "flows[0].entities");
        assert!(e.fix.contains("contact"), "{e}");
    }
}
