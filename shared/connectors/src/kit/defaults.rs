//! A connector's default mapping as data (platform.md §5): the file `mapping.toml` beside
//! its Rust reader and writer says, per entity, which canonical field is read from which
//! vendor field (`[contact.read]`, expressions over `record`, the vendor's JSON) and which
//! vendor field is written from which canonical field (`[contact.write]`, expressions over
//! `fields`), in the same expression language a flow's `[flows.mapping…]` overrides use.
//!
//! Why a file and Rust both: the structured parts of a vendor's records (lists of emails,
//! many2one ids, tax objects, document lines) stay in Rust, where they are typed; the file
//! is what a user reads (`puente mapping show FLOW ENTITY`) and overrides line by line.
//! Each connector's tests evaluate its file over sample records and compare every line
//! with what the Rust code produced ([`DefaultMapping::read_mismatches`],
//! [`DefaultMapping::write_mismatches`]), so the two cannot drift apart unnoticed.

use super::mapping::{Expr, Tables};
use puente_core::{Fields, Kind, Record};
use serde_json::Value;
use std::collections::BTreeMap;

/// A vendor's default mapping, parsed: per entity, (target, expression) lines.
#[derive(Debug, Default)]
pub struct DefaultMapping {
    /// canonical field ← expression over `record`.
    pub read: BTreeMap<Kind, Vec<(String, String)>>,
    /// vendor body path ← expression over `fields`.
    pub write: BTreeMap<Kind, Vec<(String, String)>>,
}

impl DefaultMapping {
    /// Parses a `mapping.toml` (empty text: no lines). Every expression must compile;
    /// the error names the key.
    pub fn parse(text: &str) -> Result<DefaultMapping, String> {
        let doc: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut out = DefaultMapping::default();
        for (entity, sides) in &doc {
            let kind: Kind = entity
                .parse()
                .map_err(|_| format!("`{entity}` is not an entity"))?;
            let Some(sides) = sides.as_table() else {
                return Err(format!("`{entity}` is not a table"));
            };
            for (side, lines) in sides {
                let target = match side.as_str() {
                    "read" => out.read.entry(kind).or_default(),
                    "write" => out.write.entry(kind).or_default(),
                    other => return Err(format!("`{entity}.{other}`: only read and write")),
                };
                let Some(lines) = lines.as_table() else {
                    return Err(format!("`{entity}.{side}` is not a table"));
                };
                for (field, src) in lines {
                    let Some(src) = src.as_str() else {
                        return Err(format!("`{entity}.{side}.{field}` is not a string"));
                    };
                    Expr::compile(src).map_err(|e| format!("`{entity}.{side}.{field}`: {e}"))?;
                    target.push((field.clone(), src.to_string()));
                }
            }
        }
        Ok(out)
    }

    /// The read lines of `kind` whose value over `raw` differs from what the Rust reader
    /// put in `rec`, as "field: file gives X, reader gives Y" (empty: they agree).
    pub fn read_mismatches(&self, raw: &Value, rec: &Record) -> Vec<String> {
        let tables = Tables::new();
        let mut out = Vec::new();
        for (field, src) in self.read.get(&rec.kind).into_iter().flatten() {
            let e = Expr::compile(src).expect("checked by parse");
            let got = e.eval(raw, &Fields::new(), &tables).unwrap_or_else(|e| e);
            let want = rec.fields.get(field);
            if got != want {
                out.push(format!(
                    "{} {field}: file gives {got:?}, reader gives {want:?}",
                    rec.kind
                ));
            }
        }
        out
    }

    /// The write lines of `kind` whose value over `fields` differs from the value at that
    /// path in `body`, the Rust writer's request for the same fields (empty: they agree).
    /// A line whose fields are all empty is skipped: writers leave empty values out.
    pub fn write_mismatches(&self, kind: Kind, fields: &Fields, body: &Value) -> Vec<String> {
        let tables = Tables::new();
        let mut out = Vec::new();
        for (path, src) in self.write.get(&kind).into_iter().flatten() {
            let e = Expr::compile(src).expect("checked by parse");
            if !e.reads.is_empty() && e.reads.iter().all(|f| fields.get(f).is_empty()) {
                continue;
            }
            let got = e.eval(&Value::Null, fields, &tables).unwrap_or_else(|e| e);
            let at = path
                .split('.')
                .try_fold(body, |v, p| match p.parse::<usize>() {
                    Ok(i) => v.get(i),
                    Err(_) => v.get(p),
                });
            let want = match at {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(other) => other.to_string(),
                // Writers leave empty values out.
                None => String::new(),
            };
            if got != want {
                out.push(format!(
                    "{kind} {path}: file gives {got:?}, writer sends {want:?}"
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_vendors_default_mapping_parses() {
        for v in crate::registry::VENDORS {
            let m = DefaultMapping::parse(v.default_mapping())
                .unwrap_or_else(|e| panic!("{}/mapping.toml: {e}", v.name()));
            if !v.default_mapping().is_empty() {
                assert!(!m.read.is_empty(), "{} describes no read", v.name());
            }
        }
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = DefaultMapping::parse("[contact.read]\nemail = \"record.emails |\"\n").unwrap_err();
        assert!(e.contains("contact.read.email"), "{e}");
        let e = DefaultMapping::parse("[gadget.read]\nx = \"1\"\n").unwrap_err();
        assert!(e.contains("gadget"), "{e}");
        let e = DefaultMapping::parse("[contact.sideways]\nx = \"1\"\n").unwrap_err();
        assert!(e.contains("only read and write"), "{e}");
    }

    #[test]
    fn mismatches_are_reported_and_agreement_is_silent() {
        let m = DefaultMapping::parse(
            "[contact.read]\nfirst_name = \"record.first_name\"\nemail = \"(record.emails | first).email\"\n\
             [contact.write]\n\"name.first\" = \"fields.first_name\"\n",
        )
        .unwrap();
        let raw = json!({"first_name": "Ana", "emails": [{"email": "a@x.es"}]});
        let mut rec = Record::new("crm", Kind::Contact, "1", Fields::new());
        rec.fields.set("first_name", "Ana");
        rec.fields.set("email", "a@x.es");
        assert!(m.read_mismatches(&raw, &rec).is_empty());
        rec.fields.set("email", "b@x.es");
        assert_eq!(m.read_mismatches(&raw, &rec).len(), 1);

        let f = Fields::new().with("first_name", "Ana");
        assert!(m
            .write_mismatches(Kind::Contact, &f, &json!({"name": {"first": "Ana"}}))
            .is_empty());
        let bad = m.write_mismatches(Kind::Contact, &f, &json!({"name": {"first": "Eva"}}));
        assert_eq!(bad.len(), 1, "{bad:?}");
        let absent = m.write_mismatches(Kind::Contact, &f, &json!({}));
        assert_eq!(absent.len(), 1, "a value the writer leaves out: {absent:?}");
    }
}
