//! Search domains: parsing prefix-notation domains into a tree and evaluating it on a record.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::NaiveDate;
use serde_json::{json, Value};

use super::fault::{fault, leaf_repr, py_repr, value_err, Exc, R};
use super::schema::{Field, Model, Ty};
use super::tx::Tx;
use super::values::{ids_of, num, parse_stored_dt, pg_timestamp, sql_like, truthy};

const TERM_OPERATORS: [&str; 19] = [
    "=",
    "!=",
    "<=",
    "<",
    ">",
    ">=",
    "=?",
    "=like",
    "=ilike",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "in",
    "not in",
    "child_of",
    "parent_of",
    "any",
    "not any",
];

#[derive(Clone, Debug)]
pub(super) enum Node {
    Const(bool),
    Leaf {
        model: &'static str,
        path: Vec<String>,
        op: String,
        value: Value,
    },
    /// `any` / `not any` on a relational field.
    Any {
        model: &'static str,
        field: String,
        sub: Box<Node>,
        negate: bool,
    },
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Not(Box<Node>),
}

pub(super) fn is_null(ty: Ty, x: &Value) -> bool {
    match ty {
        Ty::Boolean => false,
        Ty::One2many | Ty::Many2many => false,
        _ => matches!(x, Value::Null | Value::Bool(false)),
    }
}

pub(super) fn is_false(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false))
}

fn negate_op(op: &str) -> Option<&'static str> {
    Some(match op {
        "<" => ">=",
        ">=" => "<",
        ">" => "<=",
        "<=" => ">",
        _ => return None,
    })
}

pub(super) fn positive_op(op: &str) -> &str {
    match op {
        "!=" => "=",
        "not like" => "like",
        "not ilike" => "ilike",
        "not in" => "in",
        other => other,
    }
}

/// Field text for `like` matching (`str()` of numbers).
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl<'a> Tx<'a> {
    /// Parses a domain for `m` (normalisation and checks of
    /// `odoo.osv.expression` [src]).
    pub(super) fn parse_domain(&self, m: &'a Model, domain: &Value) -> R<Node> {
        let tokens: Vec<Value> = match domain {
            Value::Null | Value::Bool(false) => Vec::new(),
            Value::Array(a) => a.clone(),
            other => {
                return Err(value_err(format!("Invalid domain: {}", py_repr(other))));
            }
        };
        if tokens.is_empty() {
            return Ok(Node::Const(true));
        }
        // normalize_domain: implicit '&' between terms.
        let mut norm: Vec<Value> = Vec::new();
        let mut expected: i64 = 1;
        for t in &tokens {
            if expected == 0 {
                norm.insert(0, json!("&"));
                expected = 1;
            }
            match t {
                Value::Array(_) => expected -= 1,
                Value::String(op) => {
                    expected += match op.as_str() {
                        "!" => 1,
                        "&" | "|" => 2,
                        _ => 0,
                    } - 1
                }
                _ => expected -= 1,
            }
            norm.push(t.clone());
        }
        if expected != 0 {
            return Err(value_err(format!(
                "Domain {} is syntactically not correct.",
                py_repr(domain)
            )));
        }
        let mut pos = 0;
        let node = self.parse_term(m, &norm, &mut pos)?;
        Ok(node)
    }

    fn parse_term(&self, m: &'a Model, toks: &[Value], pos: &mut usize) -> R<Node> {
        let Some(t) = toks.get(*pos) else {
            return Err(value_err("Invalid domain: unexpected end"));
        };
        *pos += 1;
        match t {
            Value::String(op) if op == "&" || op == "|" => {
                let a = self.parse_term(m, toks, pos)?;
                let b = self.parse_term(m, toks, pos)?;
                Ok(if op == "&" {
                    Node::And(Box::new(a), Box::new(b))
                } else {
                    Node::Or(Box::new(a), Box::new(b))
                })
            }
            Value::String(op) if op == "!" => {
                Ok(Node::Not(Box::new(self.parse_term(m, toks, pos)?)))
            }
            Value::Array(items) if items.len() == 3 => self.parse_leaf(m, items),
            Value::Array(items) => Err(value_err(format!("Invalid leaf {}", leaf_repr(items)))),
            other => Err(value_err(format!("Invalid leaf {}", py_repr(other)))),
        }
    }

    fn parse_leaf(&self, m: &'a Model, items: &[Value]) -> R<Node> {
        let repr = leaf_repr(items);
        let invalid = || value_err(format!("Invalid leaf {repr}"));
        // TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
        if let (Some(l), Some("="), Some(1)) =
            (items[0].as_i64(), items[1].as_str(), items[2].as_i64())
        {
            return Ok(Node::Const(l == 1));
        }
        let Some(name) = items[0].as_str() else {
            return Err(invalid());
        };
        let Some(op) = items[1].as_str() else {
            return Err(invalid());
        };
        let mut op = op.to_lowercase();
        if op == "<>" {
            op = "!=".into();
        }
        if !TERM_OPERATORS.contains(&op.as_str()) {
            return Err(invalid());
        }
        let mut value = items[2].clone();
        if value.is_boolean() && (op == "in" || op == "not in") {
            op = if op == "in" { "=" } else { "!=" }.into();
        }
        if value.is_array() && (op == "=" || op == "!=") {
            op = if op == "=" { "in" } else { "not in" }.into();
        }
        if op == "=?" {
            if is_false(&value) {
                return Ok(Node::Const(true));
            }
            op = "=".into();
        }
        let path: Vec<String> = name.split('.').map(str::to_string).collect();
        // Walk the path to check every field.
        let mut cur = m;
        for (i, part) in path.iter().enumerate() {
            let Some(f) = cur.field(part) else {
                let sub: Vec<Value> = std::iter::once(json!(path[i..].join(".")))
                    .chain(items[1..].iter().cloned())
                    .collect();
                return Err(value_err(format!(
                    "Invalid field {}.{} in leaf {}",
                    cur.name,
                    part,
                    if i == 0 {
                        repr.clone()
                    } else {
                        leaf_repr(&sub)
                    }
                )));
            };
            if !f.searchable {
                // 17: dropped with an ERROR log, the leaf matches everything
                // (observed on res.partner.display_name) [§5].
                tracing::error!(
                    "Non-stored field {}.{} cannot be searched.",
                    cur.name,
                    f.name
                );
                return Ok(Node::Const(true));
            }
            let last = i + 1 == path.len();
            if !last {
                if !f.ty.relational() {
                    return Err(value_err(format!(
                        "Invalid field {}.{} in leaf {repr}",
                        cur.name,
                        path[i + 1]
                    )));
                }
                cur = self.model(f.relation.unwrap_or_default())?;
                continue;
            }
            if op == "any" || op == "not any" {
                if !f.ty.relational() {
                    return Err(value_err(format!(
                        "Invalid operator {op:?} for non-relational field {}.{}",
                        cur.name, f.name
                    )));
                }
                let comodel = self.model(f.relation.unwrap_or_default())?;
                let sub = self.parse_domain(comodel, &value)?;
                let node = Node::Any {
                    model: cur.name,
                    field: f.name.to_string(),
                    sub: Box::new(sub),
                    negate: op == "not any",
                };
                return Ok(self.wrap_path(m, &path[..i], node));
            }
            if matches!(f.ty, Ty::Date | Ty::Datetime) {
                let check = |v: &Value| -> R<()> {
                    if let Some(s) = v.as_str() {
                        if pg_timestamp(s, self.now).is_none() {
                            let kind = if f.ty == Ty::Date {
                                "date"
                            } else {
                                "timestamp"
                            };
                            return Err(fault(
                                Exc::DatetimeFormat,
                                format!("invalid input syntax for type {kind}: \"{s}\""),
                            ));
                        }
                    }
                    Ok(())
                };
                match &value {
                    Value::Array(a) => a.iter().try_for_each(check)?,
                    v => check(v)?,
                }
            }
            if f.ty.relational() {
                let comodel = f.relation.unwrap_or_default();
                let pos = positive_op(&op).to_string();
                let name_ops = ["=", "like", "ilike", "=like", "=ilike"];
                if let Value::String(s) = &value {
                    if name_ops.contains(&pos.as_str()) {
                        let ids = self.name_match(comodel, &pos, s);
                        op = if pos == op { "in" } else { "not in" }.into();
                        value = json!(ids);
                    }
                } else if let Value::Array(a) = &value {
                    if (op == "in" || op == "not in") && a.iter().any(Value::is_string) {
                        let mut ids: Vec<Value> = Vec::new();
                        for x in a {
                            match x {
                                Value::String(s) => ids.extend(
                                    self.name_match(comodel, "=", s)
                                        .into_iter()
                                        .map(|i| json!(i)),
                                ),
                                other => ids.push(other.clone()),
                            }
                        }
                        value = Value::Array(ids);
                    }
                }
            }
        }
        Ok(Node::Leaf {
            model: m.name,
            path,
            op,
            value,
        })
    }

    /// Re-roots a node parsed on a comodel under the relational path that
    /// leads to it (for `a.b any [...]`).
    fn wrap_path(&self, m: &'a Model, prefix: &[String], node: Node) -> Node {
        if prefix.is_empty() {
            return node;
        }
        let mut cur = m;
        let mut models = Vec::new();
        for p in prefix {
            models.push(cur.name);
            let rel = cur.field(p).and_then(|f| f.relation).unwrap_or_default();
            cur = &self.s.models[rel];
        }
        let mut node = node;
        for (p, model) in prefix.iter().zip(models).rev() {
            node = Node::Any {
                model,
                field: p.clone(),
                sub: Box::new(node),
                negate: false,
            };
        }
        node
    }

    /// Ids of `model` whose name fields match `value` with `op`
    /// (`_name_search` / `_rec_names_search`), active only.
    pub(super) fn name_match(&self, model: &str, op: &str, value: &str) -> Vec<i64> {
        let Some(m) = self.s.models.get(model) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for id in self.all_ids(model) {
            if self.active_test && m.has("active") && !truthy(&self.get(model, id, "active")) {
                continue;
            }
            let hit = m.rec_names.iter().any(|n| {
                m.field(n)
                    .map(|f| self.cmp_scalar(f, &self.raw(m, id, f), op, &json!(value)))
                    .unwrap_or(false)
            });
            if hit {
                out.push(id);
            }
        }
        out
    }

    pub(super) fn eval(&self, id: i64, node: &Node) -> bool {
        match node {
            Node::Const(b) => *b,
            Node::And(a, b) => self.eval(id, a) && self.eval(id, b),
            Node::Or(a, b) => self.eval(id, a) || self.eval(id, b),
            Node::Not(inner) => match inner.as_ref() {
                // distribute_not: `!(a < 1)` is `a >= 1` (NULL stays out).
                Node::Leaf {
                    model,
                    path,
                    op,
                    value,
                } if negate_op(op).is_some() => {
                    self.eval_leaf(model, id, path, negate_op(op).unwrap_or("="), value)
                }
                other => !self.eval(id, other),
            },
            Node::Leaf {
                model,
                path,
                op,
                value,
            } => self.eval_leaf(model, id, path, op, value),
            Node::Any {
                model,
                field,
                sub,
                negate,
            } => {
                let m = &self.s.models[model];
                let Some(f) = m.field(field) else {
                    return false;
                };
                let targets = ids_of(&self.raw(m, id, f));
                let hit = targets.iter().any(|t| self.eval(*t, sub));
                hit != *negate
            }
        }
    }

    fn eval_leaf(&self, model: &str, id: i64, path: &[String], op: &str, v: &Value) -> bool {
        let m = &self.s.models[model];
        let Some(f) = m.field(&path[0]) else {
            return false;
        };
        let x = self.raw(m, id, f);
        if path.len() > 1 {
            let comodel = f.relation.unwrap_or_default();
            return ids_of(&x)
                .into_iter()
                .any(|t| self.eval_leaf(comodel, t, &path[1..], op, v));
        }
        if op == "child_of" || op == "parent_of" {
            let target_model = if f.name == "id" {
                model
            } else {
                f.relation.unwrap_or(model)
            };
            let wanted: HashSet<i64> = ids_of(v).into_iter().collect();
            return ids_of(&x).into_iter().any(|t| {
                if op == "child_of" {
                    self.ancestors(target_model, t)
                        .iter()
                        .any(|a| wanted.contains(a))
                } else {
                    wanted
                        .iter()
                        .any(|w| self.ancestors(target_model, *w).contains(&t))
                }
            });
        }
        if f.ty.x2many() {
            let xs: HashSet<i64> = ids_of(&x).into_iter().collect();
            let list: Vec<Value> = match v {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            let has_false = list.iter().any(is_false);
            let hit = list
                .iter()
                .filter_map(Value::as_i64)
                .any(|i| xs.contains(&i))
                || (has_false && xs.is_empty());
            return match op {
                "=" | "in" => hit,
                "!=" | "not in" => !hit,
                _ => false,
            };
        }
        self.cmp_scalar(f, &x, op, v)
    }

    /// The record and its parents (`parent_id` chain), self first.
    pub(super) fn ancestors(&self, model: &str, id: i64) -> Vec<i64> {
        let mut out = vec![id];
        let mut cur = id;
        for _ in 0..64 {
            match self.m2o(model, cur, "parent_id") {
                Some(p) if !out.contains(&p) => {
                    out.push(p);
                    cur = p;
                }
                _ => break,
            }
        }
        out
    }

    /// One comparison of a stored value `x` of field `f` with `v`
    /// (SQL semantics: NULL never equals, negative operators include NULL).
    fn cmp_scalar(&self, f: &Field, x: &Value, op: &str, v: &Value) -> bool {
        let null = is_null(f.ty, x);
        let eq = |a: &Value, b: &Value| -> bool { self.values_eq(f, a, b) };
        match op {
            "=" => {
                if is_false(v) {
                    if f.ty == Ty::Boolean {
                        !truthy(x)
                    } else {
                        null
                    }
                } else {
                    !null && eq(x, v)
                }
            }
            "!=" => {
                if is_false(v) {
                    if f.ty == Ty::Boolean {
                        truthy(x)
                    } else {
                        !null
                    }
                } else {
                    null || !eq(x, v)
                }
            }
            "<" | "<=" | ">" | ">=" => {
                if null || is_false(v) {
                    return false;
                }
                let Some(o) = self.values_cmp(f, x, v) else {
                    return false;
                };
                match op {
                    "<" => o == Ordering::Less,
                    "<=" => o != Ordering::Greater,
                    ">" => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                }
            }
            "in" | "not in" => {
                let list: Vec<Value> = match v {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if f.ty == Ty::Boolean {
                    let hit = list.iter().any(|e| truthy(e) == truthy(x));
                    return hit == (op == "in");
                }
                let has_false = list.iter().any(is_false);
                let hit = !null && list.iter().filter(|e| !is_false(e)).any(|e| eq(x, e));
                if op == "in" {
                    hit || (has_false && null)
                } else if has_false {
                    !null && !hit
                } else {
                    null || !hit
                }
            }
            "like" | "ilike" | "not like" | "not ilike" | "=like" | "=ilike" => {
                let negative = op.starts_with("not");
                let text = if f.ty == Ty::Boolean {
                    None
                } else {
                    as_text(x)
                };
                let Some(text) = text.filter(|_| !null) else {
                    return negative;
                };
                let pat = as_text(v).unwrap_or_default();
                let pattern = if op.starts_with('=') {
                    pat
                } else {
                    format!("%{pat}%")
                };
                let hit = sql_like(&pattern, &text, op.contains("ilike"));
                hit != negative
            }
            _ => false,
        }
    }

    fn values_eq(&self, f: &Field, a: &Value, b: &Value) -> bool {
        match f.ty {
            Ty::Boolean => truthy(a) == truthy(b),
            Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one => match (a, b) {
                (_, Value::String(s)) => s.trim().parse::<f64>().ok() == Some(num(a)),
                _ => num(a) == num(b),
            },
            _ => self.values_cmp(f, a, b) == Some(Ordering::Equal),
        }
    }

    fn values_cmp(&self, f: &Field, a: &Value, b: &Value) -> Option<Ordering> {
        match f.ty {
            Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one | Ty::Boolean => {
                let bn = match b {
                    Value::String(s) => s.trim().parse::<f64>().ok()?,
                    other => num(other),
                };
                num(a).partial_cmp(&bn)
            }
            Ty::Datetime => {
                let x = parse_stored_dt(a.as_str()?)?;
                let y = pg_timestamp(b.as_str()?, self.now)?;
                Some(x.cmp(&y))
            }
            Ty::Date => {
                let x = NaiveDate::parse_from_str(a.as_str()?, "%Y-%m-%d").ok()?;
                let y = pg_timestamp(b.as_str()?, self.now)?.date();
                Some(x.cmp(&y))
            }
            _ => Some(as_text(a)?.cmp(&as_text(b)?)),
        }
    }
}
