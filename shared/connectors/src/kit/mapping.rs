//! Mappings as data (APC-7, platform.md §5): a flow adjusts how one of its connections maps
//! an entity, in its config, without code.
//!
//! - **read**: a canonical field takes the value of an expression over the vendor's record
//!   as the API sends it (`record`) and the canonical fields the connector mapped
//!   (`fields`): `first_name = "[record.first_name, record.last_name] | select | join(' ')"`.
//! - **write**: a vendor field (a dotted path into the request body, array indexes as
//!   numbers) takes the value of an expression over the canonical fields being written:
//!   `business_name = "fields.name"`, `paymentTerms.paymentTermsNumber = "fields.payment |
//!   lookup('payment_terms')"` — any field the API offers. On an update it is sent when a
//!   canonical field it reads changed (or always, when it reads none).
//!
//! Expressions are minijinja expressions (not templates), compiled when the config loads
//! so a typo is a config error naming its key; the transforms Puente adds are the filters
//! `phone(region)`, `email`, `sku`, `decimal`, `tax_id`, `country_iso`, `country_es` (each
//! gives the canonical form, or the text unchanged when it does not parse) and
//! `lookup(table)` over the flow's `[flows.tables.NAME]` (a value missing from its table
//! fails the record with a reason naming the table and the value: APC-3). A missing
//! attribute is empty, not an error (`(record.emails | first).email`). Structured
//! writes (many2one ids, tax ids, lines, address lists) stay in each connector's Rust.

use minijinja::value::{Serde, Value as MjValue};
use minijinja::{Environment, Error as MjError, ErrorKind, Expression, State, UndefinedBehavior};
use puente_core::{Fields, Kind, Record};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Lookup tables of a flow: name → (value → value).
pub type Tables = BTreeMap<String, BTreeMap<String, String>>;

/// The key of a table's entry for every value it does not list.
pub const ANY: &str = "*";

/// Why a value is missing from a table (APC-3): names the table and the value.
fn missing(table: &str, key: &str) -> String {
    if key.is_empty() {
        format!("an empty value is not in table '{table}'; add it to [flows.tables.{table}] or a \"*\" entry")
    } else {
        format!("'{key}' is not in table '{table}'; add it to [flows.tables.{table}]")
    }
}

/// `key` looked up in the flow's table `table` (its `*` entry for a value it does not list),
/// for connectors that map structured values in Rust (a document line's product, a
/// customer's VAT zone): the same rule and the same reason as the `lookup` filter.
pub fn lookup(tables: &Tables, table: &str, key: &str) -> Result<String, String> {
    let t = tables
        .get(table)
        .ok_or_else(|| format!("no table '{table}' in the flow's [flows.tables]"))?;
    t.get(key)
        .or_else(|| t.get(ANY))
        .cloned()
        .ok_or_else(|| missing(table, key))
}

/// [`lookup`] when the flow has the table, `None` when it has none (an optional mapping).
pub fn lookup_opt(tables: &Tables, table: &str, key: &str) -> Option<Result<String, String>> {
    tables
        .contains_key(table)
        .then(|| lookup(tables, table, key))
}

/// The keys of `table` whose value is `value` (a reverse lookup, e.g. a VAT class back to
/// a rate), `*` left out.
pub fn reverse(tables: &Tables, table: &str, value: &str) -> Option<String> {
    tables
        .get(table)?
        .iter()
        .find(|(k, v)| k.as_str() != ANY && v.as_str() == value)
        .map(|(k, _)| k.clone())
}

/// The environment every expression compiles in: the built-in filters and Puente's.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut e = Environment::new();
        // `(record.emails | first).email` on a record without emails is empty, not an error.
        e.set_undefined_behavior(UndefinedBehavior::Chainable);
        // Normalising filters give the canonical form, or the text as it was when it does
        // not parse (a mapping transforms; whether a key is valid is the engine's to say).
        // Each takes a value as the text `text_of` gives (none and undefined are empty, so
        // `record.x | tax_id` on a null is empty, not "None").
        e.add_filter("phone", |v: MjValue, region: Option<String>| {
            let v = text_of(&v);
            puente_core::Phone::parse(&v, region.as_deref().unwrap_or("ES"))
                .map(|p| format!("+{}", p.as_str()))
                .unwrap_or_else(|_| v.trim().to_string())
        });
        e.add_filter("email", |v: MjValue| {
            let v = text_of(&v);
            puente_core::Email::parse(&v)
                .map(|e| e.as_str().to_string())
                .unwrap_or_else(|_| v.trim().to_string())
        });
        e.add_filter("sku", |v: MjValue| puente_core::canonical_sku(&text_of(&v)));
        e.add_filter("tax_id", |v: MjValue| {
            puente_core::canonical_tax_id(&text_of(&v))
        });
        e.add_filter("decimal", |v: MjValue| {
            puente_core::canonical_decimal(&text_of(&v))
        });
        e.add_filter("country_iso", |v: MjValue| {
            puente_core::canonical_country(&text_of(&v))
        });
        e.add_filter("country_es", |v: MjValue| {
            let v = text_of(&v);
            puente_core::country::spanish_name(&v)
                .map(str::to_string)
                .unwrap_or(v)
        });
        e.add_filter("lookup", |state: &State, v: MjValue, table: String| {
            let key = v.to_string();
            let found = state
                .lookup("tables")
                .and_then(|t| t.get_attr(&table).ok())
                .filter(|t| !t.is_undefined());
            let Some(t) = found else {
                return Err(MjError::new(
                    ErrorKind::InvalidOperation,
                    format!("no table '{table}' in the flow's [flows.tables]"),
                ));
            };
            let found = |k: &str| {
                t.get_attr(k)
                    .ok()
                    .filter(|x| !x.is_undefined() && !x.is_none())
            };
            found(&key)
                .or_else(|| found(ANY))
                .ok_or_else(|| MjError::new(ErrorKind::InvalidOperation, missing(&table, &key)))
        });
        e
    })
}

/// One compiled expression and the canonical fields it reads (`fields.x`).
pub struct Expr {
    pub source: String,
    compiled: Expression<'static, 'static>,
    /// The canonical fields it reads; empty: a constant or one that reads only `record`.
    pub reads: Vec<String>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

impl Expr {
    /// Compiles `source`; the error is minijinja's, for the config error's problem.
    pub fn compile(source: &str) -> Result<Expr, String> {
        let compiled = env()
            .compile_expression_owned(source.to_string())
            .map_err(|e| e.to_string())?;
        let mut reads: Vec<String> = compiled
            .undeclared_variables(true)
            .into_iter()
            .filter_map(|v| v.strip_prefix("fields.").map(str::to_string))
            .collect();
        reads.sort();
        Ok(Expr {
            source: source.to_string(),
            compiled,
            reads,
        })
    }

    /// The value as text: none, undefined and false are empty; lists and maps are JSON.
    pub fn eval(&self, record: &Value, fields: &Fields, tables: &Tables) -> Result<String, String> {
        self.eval_value(record, fields, tables).map(|v| text_of(&v))
    }

    /// The value as JSON for a request body: a number stays a number (`… | int`, `… |
    /// float`), a boolean a boolean; none and undefined are an empty string, like [`eval`].
    ///
    /// [`eval`]: Expr::eval
    pub fn eval_json(
        &self,
        record: &Value,
        fields: &Fields,
        tables: &Tables,
    ) -> Result<Value, String> {
        let v = self.eval_value(record, fields, tables)?;
        use minijinja::value::ValueKind;
        Ok(match v.kind() {
            ValueKind::Number | ValueKind::Bool | ValueKind::Seq | ValueKind::Map => {
                serde_json::to_value(&v).unwrap_or(Value::String(text_of(&v)))
            }
            _ => Value::String(text_of(&v)),
        })
    }

    fn eval_value(
        &self,
        record: &Value,
        fields: &Fields,
        tables: &Tables,
    ) -> Result<MjValue, String> {
        let fields: BTreeMap<&str, &str> = fields.iter().collect();
        let ctx = minijinja::context! {
            record => MjValue::from(Serde(record)),
            fields => MjValue::from(Serde(&fields)),
            tables => MjValue::from(Serde(tables)),
        };
        let v = self.compiled.eval(ctx).map_err(|e| {
            let mut s = e.to_string();
            // minijinja's own wording, without the expression dump.
            if let Some(detail) = e.detail() {
                s = detail.to_string();
            }
            s
        })?;
        Ok(v)
    }
}

fn text_of(v: &MjValue) -> String {
    if v.is_undefined()
        || v.is_none()
        || (v.kind() == minijinja::value::ValueKind::Bool && !v.is_true())
    {
        return String::new();
    }
    match v.kind() {
        minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map => {
            serde_json::to_string(v).unwrap_or_default()
        }
        _ => v.to_string(),
    }
}

/// A flow's adjustments of one connection's mapping, compiled.
#[derive(Default, Debug)]
pub struct SideMapping {
    /// Per entity: canonical field ← expression over `record` and `fields`.
    pub read: BTreeMap<Kind, Vec<(String, Expr)>>,
    /// Per entity: vendor body path ← expression over `fields`.
    pub write: BTreeMap<Kind, Vec<(String, Expr)>>,
    pub tables: Arc<Tables>,
}

impl SideMapping {
    pub fn is_empty(&self) -> bool {
        self.read.is_empty() && self.write.is_empty()
    }

    /// Applies the read adjustments of `rec`'s kind, `raw` being the vendor's JSON it was
    /// mapped from. The error names the field and says why (the record fails with it).
    pub fn apply_read(&self, raw: &Value, rec: &mut Record) -> Result<(), String> {
        let Some(list) = self.read.get(&rec.kind) else {
            return Ok(());
        };
        let before = rec.fields.clone();
        for (field, e) in list {
            let v = e.eval(raw, &before, &self.tables).map_err(|why| {
                format!("mapping of {} `{field}` ({}): {why}", rec.kind, e.source)
            })?;
            rec.fields.set(field, v);
        }
        Ok(())
    }

    /// Sets the write adjustments of `kind` in `body`: all of them on a create
    /// (`changed: None`), on an update those reading a changed field or no field at all.
    pub fn apply_write(
        &self,
        kind: Kind,
        body: &mut Value,
        fields: &Fields,
        changed: Option<&[String]>,
    ) -> Result<(), String> {
        let Some(list) = self.write.get(&kind) else {
            return Ok(());
        };
        // An update with nothing to write stays nothing: no call for adjustments alone.
        if changed.is_some() && body.as_object().is_some_and(|o| o.is_empty()) {
            return Ok(());
        }
        for (path, e) in list {
            let due = match changed {
                None => true,
                Some(c) => e.reads.is_empty() || e.reads.iter().any(|r| c.contains(r)),
            };
            if !due {
                continue;
            }
            let v = e
                .eval_json(&Value::Null, fields, &self.tables)
                .map_err(|why| format!("mapping of {kind} `{path}` ({}): {why}", e.source))?;
            set_path(body, path, v);
        }
        Ok(())
    }
}

/// Sets `value` at a dotted `path` in `body` (numbers index arrays), creating objects on
/// the way.
pub fn set_path(body: &mut Value, path: &str, value: Value) {
    let mut cur = body;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, p) in parts.iter().enumerate() {
        let last = i + 1 == parts.len();
        if let Ok(n) = p.parse::<usize>() {
            if !cur.is_array() {
                *cur = Value::Array(Vec::new());
            }
            let arr = cur.as_array_mut().expect("array");
            while arr.len() <= n {
                arr.push(Value::Object(Default::default()));
            }
            if last {
                arr[n] = value;
                return;
            }
            cur = &mut arr[n];
        } else {
            if !cur.is_object() {
                *cur = Value::Object(Default::default());
            }
            let obj = cur.as_object_mut().expect("object");
            if last {
                obj.insert(p.to_string(), value);
                return;
            }
            cur = obj
                .entry(p.to_string())
                .or_insert_with(|| Value::Object(Default::default()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(src: &str, record: Value, fields: Fields) -> Result<String, String> {
        let tables: Tables = [(
            "pay".to_string(),
            [("ideal".to_string(), "14".to_string())].into(),
        )]
        .into();
        Expr::compile(src)?.eval(&record, &fields, &tables)
    }

    #[test]
    fn apc7_expressions_read_the_record_and_transform() {
        let rec = json!({"first_name": "Ana", "last_name": "Pérez", "phones": [{"phone": "600 11 22 33"}]});
        assert_eq!(
            eval(
                "[record.first_name, record.last_name] | select | join(' ')",
                rec.clone(),
                Fields::new()
            )
            .unwrap(),
            "Ana Pérez"
        );
        assert_eq!(
            eval(
                "(record.phones | first).phone | phone",
                rec.clone(),
                Fields::new()
            )
            .unwrap(),
            "+34600112233"
        );
        assert_eq!(
            eval(
                "fields.email | email",
                Value::Null,
                Fields::new().with("email", " A@X.NL")
            )
            .unwrap(),
            "a@x.nl"
        );
        assert_eq!(
            eval(
                "fields.country | country_es",
                Value::Null,
                Fields::new().with("country", "ES")
            )
            .unwrap(),
            "España"
        );
        assert_eq!(eval("record.missing", rec, Fields::new()).unwrap(), "");
    }

    #[test]
    fn apc3_lookup_tables_name_the_table_and_value_that_is_missing() {
        let f = |v: &str| Fields::new().with("payment", v);
        assert_eq!(
            eval("fields.payment | lookup('pay')", Value::Null, f("ideal")).unwrap(),
            "14"
        );
        let e = eval("fields.payment | lookup('pay')", Value::Null, f("bitcoin")).unwrap_err();
        assert!(e.contains("'bitcoin' is not in table 'pay'"), "{e}");
        let e = eval("fields.payment | lookup('terms')", Value::Null, f("x")).unwrap_err();
        assert!(e.contains("no table 'terms'"), "{e}");
    }

    #[test]
    fn apc7_bad_expressions_fail_to_compile_and_reads_are_known() {
        assert!(Expr::compile("fields.name |").is_err());
        assert!(Expr::compile("record.x ) (").is_err());
        let e = Expr::compile("fields.name ~ ' ' ~ fields.city").unwrap();
        assert_eq!(e.reads, vec!["city", "name"]);
        assert!(Expr::compile("''").unwrap().reads.is_empty());
    }

    #[test]
    fn apc7_write_paths_set_nested_values_and_only_what_changed() {
        let mut m = SideMapping::default();
        m.write.insert(
            Kind::Company,
            vec![
                (
                    "business_name".into(),
                    Expr::compile("fields.name").unwrap(),
                ),
                (
                    "addresses.0.country".into(),
                    Expr::compile("fields.country | country_es").unwrap(),
                ),
                ("note".into(), Expr::compile("'synced'").unwrap()),
            ],
        );
        let fields = Fields::new().with("name", "Acme").with("country", "ES");
        let mut body = json!({"addresses": [{"city": "Vigo"}]});
        m.apply_write(Kind::Company, &mut body, &fields, None)
            .unwrap();
        assert_eq!(
            body,
            json!({"business_name": "Acme", "addresses": [{"city": "Vigo", "country": "España"}], "note": "synced"})
        );
        let mut body = json!({"city": "Lugo"});
        m.apply_write(
            Kind::Company,
            &mut body,
            &fields,
            Some(&["city".to_string()]),
        )
        .unwrap();
        assert_eq!(
            body,
            json!({"city": "Lugo", "note": "synced"}),
            "only the constant: name and country did not change"
        );
        // An update with nothing else to write stays empty: no call for adjustments alone.
        let mut body = json!({});
        m.apply_write(
            Kind::Company,
            &mut body,
            &fields,
            Some(&["city".to_string()]),
        )
        .unwrap();
        assert_eq!(body, json!({}));
    }
}
