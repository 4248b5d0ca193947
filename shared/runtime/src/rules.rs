//! A flow's per-entity rules from its config (platform.md §2): each entity starts from its
//! defaults ([`EntityRules::for_kind`]) and takes the flow's adjustments — direction,
//! match keys, write mode, create-only fields, pins, filters. Checked when the config loads
//! (every error names its key and the fix) and once more when the app is built, against
//! what each side's connector can do.

use crate::config::{Config, ConfigError, EntityConfig, FlowConfig};
use crate::flowspec::FlowSpec;
use puente_connectors::Connector;
use puente_core::{Direction, EntityRules, Filter, FirstMatch, KeySpec, Kind, Owner, WriteMode};
use std::sync::Arc;

fn err(key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) -> ConfigError {
    ConfigError::new(key, problem, fix)
}

/// The canonical field `field` of `kind`, or an error at `key` listing the kind's fields.
fn known_field(kind: Kind, field: &str, key: &str) -> Result<(), ConfigError> {
    if kind.fields().contains(&field) {
        Ok(())
    } else {
        Err(err(
            key,
            format!("{kind}s have no field '{field}'"),
            format!("use one of: {}", kind.fields().join(", ")),
        ))
    }
}

/// `name` must be one of the flow's two connections.
fn side(f: &FlowConfig, name: &str, key: &str) -> Result<(), ConfigError> {
    if name == f.a || name == f.b {
        Ok(())
    } else {
        Err(err(
            key,
            format!("'{name}' is not a side of this flow"),
            format!("use '{}' or '{}'", f.a, f.b),
        ))
    }
}

/// Checks the rules of flow `i` (its preset's under its own `[flows.rules.*]`; config load).
pub(crate) fn validate(i: usize, f: &FlowConfig, spec: &FlowSpec) -> Result<(), ConfigError> {
    for (entity, ec) in &spec.rules {
        let at = format!("flows[{i}].rules.{entity}");
        let kind: Kind = entity.parse().map_err(|e: String| {
            err(
                &at,
                e,
                "name one of the flow's entities: [flows.rules.contact]",
            )
        })?;
        if !f
            .entities
            .iter()
            .any(|e| e.parse::<Kind>().ok() == Some(kind))
        {
            if !f.rules.contains_key(entity) {
                // The preset's rules for an entity this flow leaves out: nothing to apply.
                continue;
            }
            return Err(err(
                &at,
                format!("the flow does not sync {kind}s"),
                format!("add \"{entity}\" to the flow's entities or remove this section"),
            ));
        }
        rules_for(kind, f, ec, &at)?;
    }
    Ok(())
}

/// The rules of `kind` in flow `f` (`ec`: its `[flows.rules.KIND]`, maybe empty).
pub(crate) fn rules_for(
    kind: Kind,
    f: &FlowConfig,
    ec: &EntityConfig,
    at: &str,
) -> Result<EntityRules, ConfigError> {
    let mut r = EntityRules::for_kind(kind);
    r.prefer_on_tie = f.prefer_on_tie.clone().unwrap_or_else(|| f.a.clone());
    // Flow-wide pins apply to every entity with that field.
    for (field, conn) in &f.pins {
        if kind.fields().contains(&field.as_str()) {
            r.owners.insert(field.clone(), Owner::Pinned(conn.clone()));
        }
    }
    if let Some(d) = &ec.direction {
        let key = format!("{at}.direction");
        r.direction = match d.trim() {
            "two-way" => Direction::TwoWay,
            other => match other.strip_prefix("from:") {
                Some(conn) => {
                    side(f, conn.trim(), &key)?;
                    Direction::From(conn.trim().to_string())
                }
                None => {
                    return Err(err(
                        key,
                        format!("unknown direction '{d}'"),
                        format!("use \"two-way\", \"from:{}\" or \"from:{}\"", f.a, f.b),
                    ))
                }
            },
        };
    }
    if let Some(keys) = &ec.match_keys {
        if keys.is_empty() {
            return Err(err(
                format!("{at}.match"),
                "no match key",
                "give at least one, e.g. match = [\"email\"]",
            ));
        }
        let mut specs = Vec::new();
        for (j, k) in keys.iter().enumerate() {
            let key = format!("{at}.match[{j}]");
            let mut spec: KeySpec = k
                .parse()
                .map_err(|e: String| err(&key, e, "e.g. match = [\"email\", \"phone\"]"))?;
            known_field(kind, &spec.field, &key)?;
            if let Some(region) = &ec.phone_region {
                spec.region = region.trim().to_uppercase();
            }
            specs.push(spec);
        }
        r.keys = specs;
    }
    // The flow's `first_match` (checked when the config loads), then the entity's own.
    if let Some(fm) = f.first_match.as_deref().and_then(|s| s.parse().ok()) {
        r.first_match = fm;
    }
    if let Some(fm) = &ec.first_match {
        r.first_match = fm.parse::<FirstMatch>().map_err(|e| {
            err(
                format!("{at}.first_match"),
                e,
                "first_match = \"keep-both\" or \"newest\"",
            )
        })?;
    }
    if let Some(w) = &ec.write {
        r.write = w
            .parse::<WriteMode>()
            .map_err(|e| err(format!("{at}.write"), e, "e.g. write = \"update-only\""))?;
    }
    for (field, why) in &ec.require {
        known_field(kind, field, &format!("{at}.require.{field}"))?;
        r.required.insert(field.clone(), why.clone());
    }
    if let Some(standalone) = ec.standalone {
        r.standalone = standalone;
    }
    if let Some(c) = ec.create_without_key {
        r.key_minted_on_create = c;
    }
    for field in &ec.create_only {
        known_field(kind, field, &format!("{at}.create_only"))?;
        r.owners.insert(field.clone(), Owner::CreateOnly);
    }
    for (field, conn) in &ec.pins {
        let key = format!("{at}.pins.{field}");
        known_field(kind, field, &key)?;
        side(f, conn, &key)?;
        r.owners.insert(field.clone(), Owner::Pinned(conn.clone()));
    }
    for (list, field, values) in ec
        .only
        .iter()
        .map(|(f, v)| ("only", f, v))
        .chain(ec.except.iter().map(|(f, v)| ("except", f, v)))
    {
        let key = format!("{at}.{list}.{field}");
        known_field(kind, field, &key)?;
        if values.is_empty() {
            return Err(err(key, "no value listed", "list the values"));
        }
        let pos = match r.filters.iter().position(|x| &x.field == field) {
            Some(p) => p,
            None => {
                r.filters.push(Filter {
                    field: field.clone(),
                    any_of: Vec::new(),
                    none_of: Vec::new(),
                });
                r.filters.len() - 1
            }
        };
        if list == "only" {
            r.filters[pos].any_of = values.clone();
        } else {
            r.filters[pos].none_of = values.clone();
        }
    }
    Ok(r)
}

/// Every entity's rules in flow `fi`, checked against its two connectors: an entity one
/// side cannot be written flows one way from that side (ODO-4, without naming a vendor),
/// and every match key must be one the side that is written can search by (else a change
/// that arrives by webhook could not find its counterpart and would create it twice).
pub(crate) fn build(
    config: &Config,
    fi: usize,
    spec: &FlowSpec,
    kinds: &[Kind],
    a: &Arc<dyn Connector>,
    b: &Arc<dyn Connector>,
) -> Result<std::collections::BTreeMap<Kind, EntityRules>, ConfigError> {
    let f = &config.flows[fi];
    let mut out = std::collections::BTreeMap::new();
    for &kind in kinds {
        let at = format!("flows[{fi}].rules.{kind}");
        let ec = spec.rules.get(kind.as_str()).cloned().unwrap_or_default();
        let mut r = rules_for(kind, f, &ec, &at)?;
        for (name, conn) in [
            (&f.a, &config.connections[&f.a]),
            (&f.b, &config.connections[&f.b]),
        ] {
            if conn.vendor().is_some_and(|v| !v.writable(kind)) {
                if ec.direction.is_some() && r.source() != Some(name.as_str()) {
                    return Err(err(
                        format!("{at}.direction"),
                        format!("{kind}s cannot be written to '{name}' ({})", conn.system()),
                        format!("use direction = \"from:{name}\""),
                    ));
                }
                r.direction = Direction::From(name.clone());
            }
        }
        for (name, c) in [(&f.a, a), (&f.b, b)] {
            if r.source() == Some(name.as_str()) {
                continue; // never written: never searched for a counterpart to create
            }
            for spec in &r.keys {
                let ok = c.write().is_some_and(|w| w.searchable(kind, spec.kind));
                if !ok {
                    return Err(err(
                        format!("{at}.match"),
                        format!(
                            "'{name}' ({}) cannot look {kind}s up by {}",
                            c.vendor(),
                            spec.kind
                        ),
                        "match by keys both sides can search, or make the entity one-way from that side",
                    ));
                }
            }
        }
        out.insert(kind, r);
    }
    Ok(out)
}
