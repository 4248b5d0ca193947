//! A flow's settings as they take effect: its vendors' preset (the existing flows are
//! presets: `shared/connectors/presets/`) under the flow's own `[[flows]]` keys. Presets key
//! sides by vendor, a flow's config by connection; here everything is by connection.
//!
//! Checked when the config loads: every mapping expression compiles, every field and side
//! it names exists, every error names its key (in the flow, or in the preset file).

use crate::config::{Config, ConfigError, EntityConfig, FlowConfig};
use puente_connectors::kit::mapping::{Expr, SideMapping, Tables};
use puente_connectors::BackRef;
use puente_core::Kind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A preset file: the parts of a flow's config it may set, sides keyed by vendor.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetDoc {
    #[serde(default)]
    fields: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    mapping: BTreeMap<String, BTreeMap<String, toml::Table>>,
    #[serde(default)]
    tables: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    back_reference: BTreeMap<String, BackRef>,
    #[serde(default)]
    options: BTreeMap<String, toml::Table>,
    #[serde(default)]
    rules: BTreeMap<String, EntityConfig>,
    /// What the CLI's demo runs (see `puente_connectors::registry::Demo`); not a flow setting.
    #[serde(default)]
    #[allow(dead_code)]
    demo: Option<toml::Table>,
}

/// One mapping line: (target, expression text, where it was configured).
pub type Line = (String, String, String);

/// A flow's effective settings, sides keyed by connection name.
#[derive(Debug, Default, Clone)]
pub struct FlowSpec {
    /// Which preset it started from, if any.
    pub preset: Option<String>,
    /// Per entity, the fields synced (entities without a list sync every field).
    pub fields: BTreeMap<Kind, Vec<String>>,
    /// (connection, entity) → read adjustments: canonical field ← expression.
    pub read: BTreeMap<(String, Kind), Vec<Line>>,
    /// (connection, entity) → write adjustments: vendor path ← expression.
    pub write: BTreeMap<(String, Kind), Vec<Line>>,
    pub tables: Tables,
    pub back_refs: BTreeMap<String, BackRef>,
    pub options: BTreeMap<String, toml::Table>,
    /// Per entity, the rules' adjustments (preset under the flow's own).
    pub rules: BTreeMap<String, EntityConfig>,
    /// The preset's rules of entities the flow does not sync: how the records a document
    /// depends on (its customer, its products) are matched and written.
    pub dependency_rules: BTreeMap<String, EntityConfig>,
}

fn err(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::new(key, problem, fix)
}

/// `flows[i]`'s effective settings.
pub fn resolve(config: &Config, i: usize) -> Result<FlowSpec, ConfigError> {
    let f = &config.flows[i];
    let at = format!("flows[{i}]");
    let vendor_of = |conn: &str| {
        config
            .connections
            .get(conn)
            .map(|c| c.vendor.clone())
            .unwrap_or_default()
    };
    let (va, vb) = (vendor_of(&f.a), vendor_of(&f.b));
    let mut spec = FlowSpec::default();
    // The preset, its sides renamed from vendor to connection.
    let preset = match f.preset.as_deref() {
        Some("none") => None,
        Some(name) => {
            let p = puente_connectors::registry::preset(&va, &vb)
                .filter(|p| format!("{}-{}", p.vendors[0], p.vendors[1]) == name)
                .ok_or_else(|| {
                    err(
                        format!("{at}.preset"),
                        format!("no preset '{name}' for a flow between {va} and {vb}"),
                        match puente_connectors::registry::preset(&va, &vb) {
                            Some(p) => {
                                format!("use \"{}-{}\" or \"none\"", p.vendors[0], p.vendors[1])
                            }
                            None => "use \"none\" (these vendors have no preset)".into(),
                        },
                    )
                })?;
            Some(p)
        }
        None => puente_connectors::registry::preset(&va, &vb),
    };
    if let Some(p) = preset {
        let name = format!("{}-{}", p.vendors[0], p.vendors[1]);
        let where_ = format!("preset {name}");
        let doc: PresetDoc = toml::from_str(p.toml)
            .map_err(|e| err(&where_, e.message().to_string(), "fix the preset file"))?;
        let conn_of = |vendor: &str| -> Option<&str> {
            if vendor == va {
                Some(&f.a)
            } else if vendor == vb {
                Some(&f.b)
            } else {
                None
            }
        };
        let side_doc = |m: &BTreeMap<String, BTreeMap<String, toml::Table>>| {
            m.iter()
                .map(|(e, sides)| {
                    let renamed = sides
                        .iter()
                        .filter_map(|(v, t)| conn_of(v).map(|c| (c.to_string(), t.clone())))
                        .collect();
                    (e.clone(), renamed)
                })
                .collect::<BTreeMap<String, BTreeMap<String, toml::Table>>>()
        };
        merge(
            &mut spec,
            f,
            &where_,
            &doc.fields,
            &side_doc(&doc.mapping),
            &doc.tables,
            &doc.back_reference
                .iter()
                .filter_map(|(v, b)| conn_of(v).map(|c| (c.to_string(), b.clone())))
                .collect(),
            &doc.options
                .iter()
                .filter_map(|(v, o)| conn_of(v).map(|c| (c.to_string(), o.clone())))
                .collect(),
        )?;
        // A preset names sides by vendor in its rules too (`from:ccv`, a pin to `economic`).
        let side_name = |v: &str| {
            conn_of(v)
                .map(str::to_string)
                .unwrap_or_else(|| v.to_string())
        };
        // A preset speaks for every entity its vendors sync; a flow of fewer entities takes
        // the rules of its own.
        let synced = |entity: &str| {
            f.entities.is_empty()
                || f.entities
                    .iter()
                    .any(|e| e.parse::<Kind>().ok() == entity.parse::<Kind>().ok())
        };
        let renamed: BTreeMap<String, EntityConfig> = doc
            .rules
            .into_iter()
            .map(|(entity, mut ec)| {
                ec.direction = ec.direction.map(|d| match d.trim().strip_prefix("from:") {
                    Some(v) => format!("from:{}", side_name(v.trim())),
                    None => d,
                });
                for conn in ec.pins.values_mut() {
                    *conn = side_name(conn);
                }
                (entity, ec)
            })
            .collect();
        for (entity, ec) in renamed {
            if synced(&entity) {
                spec.rules.insert(entity, ec);
            } else {
                spec.dependency_rules.insert(entity, ec);
            }
        }
        spec.preset = Some(name);
    }
    merge(
        &mut spec,
        f,
        &at,
        &f.fields,
        &f.mapping,
        &f.tables,
        &f.back_reference,
        &f.options,
    )?;
    for (entity, user) in &f.rules {
        let merged = match spec.rules.remove(entity) {
            Some(base) => over(base, user.clone()),
            None => user.clone(),
        };
        spec.rules.insert(entity.clone(), merged);
    }
    Ok(spec)
}

/// `user` over `base`: set keys win, lists and maps are joined (the user's entries win).
fn over(base: EntityConfig, user: EntityConfig) -> EntityConfig {
    let mut pins = base.pins;
    pins.extend(user.pins);
    let mut only = base.only;
    only.extend(user.only);
    let mut except = base.except;
    except.extend(user.except);
    let mut create_only = base.create_only;
    for f in user.create_only {
        if !create_only.contains(&f) {
            create_only.push(f);
        }
    }
    let mut require = base.require;
    require.extend(user.require);
    EntityConfig {
        require,
        standalone: user.standalone.or(base.standalone),
        create_without_key: user.create_without_key.or(base.create_without_key),
        direction: user.direction.or(base.direction),
        match_keys: user.match_keys.or(base.match_keys),
        phone_region: user.phone_region.or(base.phone_region),
        write: user.write.or(base.write),
        first_match: user.first_match.or(base.first_match),
        create_only,
        pins,
        only,
        except,
    }
}

/// Adds one layer (the preset, then the flow's own keys) to `spec`, checking it; `at` is
/// where the layer comes from, for errors.
#[allow(clippy::too_many_arguments)]
fn merge(
    spec: &mut FlowSpec,
    f: &FlowConfig,
    at: &str,
    fields: &BTreeMap<String, Vec<String>>,
    mapping: &BTreeMap<String, BTreeMap<String, toml::Table>>,
    tables: &BTreeMap<String, BTreeMap<String, String>>,
    back_refs: &BTreeMap<String, BackRef>,
    options: &BTreeMap<String, toml::Table>,
) -> Result<(), ConfigError> {
    let kind_of = |entity: &str, key: &str| -> Result<Kind, ConfigError> {
        let kind: Kind = entity
            .parse()
            .map_err(|e: String| err(key, e, "name one of the flow's entities"))?;
        // A preset speaks for every entity of its vendors (a flow's documents depend on
        // customers and products it may not sync); a flow's own keys name its entities.
        if !at.starts_with("preset ")
            && !f
                .entities
                .iter()
                .any(|e| e.parse::<Kind>().ok() == Some(kind))
        {
            return Err(err(
                key,
                format!("the flow does not sync {kind}s"),
                format!("add \"{entity}\" to the flow's entities or remove this"),
            ));
        }
        Ok(kind)
    };
    let side = |conn: &str, key: &str| -> Result<(), ConfigError> {
        if conn == f.a || conn == f.b {
            Ok(())
        } else {
            Err(err(
                key,
                format!("'{conn}' is not a side of this flow"),
                format!("use '{}' or '{}'", f.a, f.b),
            ))
        }
    };
    let known = |kind: Kind, field: &str, key: &str| -> Result<(), ConfigError> {
        if kind.fields().contains(&field) {
            Ok(())
        } else {
            Err(err(
                key,
                format!("{kind}s have no field '{field}'"),
                format!("use one of: {}", kind.fields().join(", ")),
            ))
        }
    };
    for (entity, list) in fields {
        let key = format!("{at}.fields.{entity}");
        if f.entities.iter().all(|e| e != entity) && at.starts_with("preset") {
            continue; // a preset lists fields of entities this flow may not sync
        }
        let kind = kind_of(entity, &key)?;
        for field in list {
            known(kind, field, &key)?;
        }
        spec.fields.insert(kind, list.clone());
    }
    for (entity, sides) in mapping {
        if f.entities.iter().all(|e| e != entity) && at.starts_with("preset") {
            continue;
        }
        let kind = kind_of(entity, &format!("{at}.mapping.{entity}"))?;
        for (conn, table) in sides {
            let base = format!("{at}.mapping.{entity}.{conn}");
            side(conn, &base)?;
            let compile = |key: &str, src: &toml::Value| -> Result<String, ConfigError> {
                let Some(src) = src.as_str() else {
                    return Err(err(
                        key,
                        "not an expression (a string)",
                        "write the expression in quotes, e.g. \"record.name | upper\"",
                    ));
                };
                Expr::compile(src).map_err(|e| {
                    err(
                        key,
                        format!("the expression does not compile: {e}"),
                        "see the mapping section of the README (minijinja expressions, filters phone, email, sku, decimal, tax_id, country_iso, country_es, lookup)",
                    )
                })?;
                Ok(src.to_string())
            };
            for (target, value) in table {
                if target == "write" {
                    let Some(w) = value.as_table() else {
                        return Err(err(
                            format!("{base}.write"),
                            "not a table",
                            "[flows.mapping.ENTITY.CONNECTION.write] with vendor.path = \"expression\"",
                        ));
                    };
                    for (path, src) in w {
                        let key = format!("{base}.write.{path}");
                        let src = compile(&key, src)?;
                        let list = spec.write.entry((conn.clone(), kind)).or_default();
                        list.retain(|(p, _, _)| p != path);
                        list.push((path.clone(), src, key));
                    }
                    continue;
                }
                let key = format!("{base}.{target}");
                known(kind, target, &key)?;
                let src = compile(&key, value)?;
                let list = spec.read.entry((conn.clone(), kind)).or_default();
                list.retain(|(t, _, _)| t != target);
                list.push((target.clone(), src, key));
            }
        }
    }
    for (name, t) in tables {
        spec.tables
            .entry(name.clone())
            .or_default()
            .extend(t.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    for (conn, b) in back_refs {
        side(conn, &format!("{at}.back_reference.{conn}"))?;
        // Key by key over the preset's: a flow that renames the field keeps the tag.
        let entry = spec.back_refs.entry(conn.clone()).or_default();
        entry.field = b.field.clone().or(entry.field.take());
        entry.tag = b.tag.clone().or(entry.tag.take());
        entry.code_prefix = b.code_prefix.clone().or(entry.code_prefix.take());
    }
    for (conn, o) in options {
        side(conn, &format!("{at}.options.{conn}"))?;
        let entry = spec.options.entry(conn.clone()).or_default();
        entry.extend(o.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(())
}

impl FlowSpec {
    /// The compiled mapping adjustments of connection `conn` (empty when it has none).
    pub fn side_mapping(&self, conn: &str) -> SideMapping {
        let compile = |m: &BTreeMap<(String, Kind), Vec<Line>>| {
            m.iter()
                .filter(|((c, _), _)| c == conn)
                .map(|((_, k), lines)| {
                    let list = lines
                        .iter()
                        .map(|(t, src, _)| {
                            (t.clone(), Expr::compile(src).expect("checked when loaded"))
                        })
                        .collect();
                    (*k, list)
                })
                .collect()
        };
        SideMapping {
            read: compile(&self.read),
            write: compile(&self.write),
            tables: Arc::new(self.tables.clone()),
        }
    }
}
