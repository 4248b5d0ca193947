//! The `filter=` language [D `_introduction.md` "Filtering"]: predicates `property$op:value`
//! with `$eq $ne $gt $gte $lt $lte $like $in $nin`, the `$null:` value, chained with `$and:`
//! and `$or:` and grouped with parentheses; `$$ $( $) $* $, $[ $]` escape the special
//! characters; string matching is case-insensitive; `$like` without `*` means "contains";
//! `$in`/`$nin` only on numeric properties, at most 200 values.
//!
//! A recursive-descent parser builds an [`Expr`], checked against the collection's filterable
//! properties, then evaluated per record.

use std::cmp::Ordering;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use super::facts::{AND_BINDS_TIGHTER, LENIENT_FILTER_DATES, MAX_IN_VALUES};

/// A filterable property's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FType {
    Num,
    Text,
    Date,
    Bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Op {
    Eq,
    Ne,
    Gt,
    Gte,
    Lt,
    Lte,
    Like,
    In,
    Nin,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "gt" => Op::Gt,
            "gte" => Op::Gte,
            "lt" => Op::Lt,
            "lte" => Op::Lte,
            "like" => Op::Like,
            "in" => Op::In,
            "nin" => Op::Nin,
            _ => return None,
        })
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Op::Eq => "$eq:",
            Op::Ne => "$ne:",
            Op::Gt => "$gt:",
            Op::Gte => "$gte:",
            Op::Lt => "$lt:",
            Op::Lte => "$lte:",
            Op::Like => "$like:",
            Op::In => "$in:",
            Op::Nin => "$nin:",
        }
    }
}

/// The operators a property of type `t` allows.
pub(super) fn operators_for(t: FType) -> Vec<&'static str> {
    let mut ops = vec!["$eq:", "$ne:"];
    match t {
        FType::Bool => {}
        FType::Num => ops.extend(["$gt:", "$gte:", "$lt:", "$lte:", "$in:", "$nin:"]),
        FType::Date => ops.extend(["$gt:", "$gte:", "$lt:", "$lte:"]),
        FType::Text => ops.extend(["$gt:", "$gte:", "$lt:", "$lte:", "$like:"]),
    }
    ops
}

/// One piece of a `$like` pattern.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Piece {
    Lit(String),
    Star,
}

/// A predicate's value.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Val {
    Null,
    /// Unescaped text, and the `$like` pattern it makes (unescaped `*` are wildcards).
    Text(String, Vec<Piece>),
    List(Vec<Option<String>>),
}

#[derive(Clone, Debug, PartialEq)]
pub(super) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Pred { field: String, op: Op, val: Val },
}

/// Why a filter is refused (each a 400).
#[derive(Debug, PartialEq)]
pub(super) enum FilterError {
    /// Not the language: the message says where.
    Syntax(String),
    /// The property is not filterable here.
    Field(String),
    /// The operator is not allowed on the property (its type's operators).
    Operator(String, Op, FType),
    /// The value does not fit the property.
    Value(String),
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.i..]
    }

    fn eat(&mut self, tok: &str) -> bool {
        if self.rest().starts_with(tok) {
            self.i += tok.len();
            true
        } else {
            false
        }
    }

    fn err(&self, what: &str) -> FilterError {
        FilterError::Syntax(format!("{what} at position {} of the filter", self.i))
    }

    /// `or := and ("$or:" and)*` (or both at one level, left to right, when `$and:` does not
    /// bind tighter).
    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        loop {
            if self.eat("$or:") {
                let right = self.and()?;
                left = Expr::Or(Box::new(left), Box::new(right));
            } else if !AND_BINDS_TIGHTER && self.eat("$and:") {
                let right = self.term()?;
                left = Expr::And(Box::new(left), Box::new(right));
            } else {
                return Ok(left);
            }
        }
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        while AND_BINDS_TIGHTER && self.eat("$and:") {
            let right = self.term()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        if self.eat("(") {
            let e = self.or()?;
            if !self.eat(")") {
                return Err(self.err("missing ')'"));
            }
            return Ok(e);
        }
        self.pred()
    }

    fn pred(&mut self) -> Result<Expr, FilterError> {
        let start = self.i;
        while self.i < self.s.len()
            && (self.s[self.i].is_ascii_alphanumeric() || matches!(self.s[self.i], b'.' | b'_'))
        {
            self.i += 1;
        }
        let field = self.src[start..self.i].to_string();
        if field.is_empty() {
            return Err(self.err("expected a property name"));
        }
        if !self.eat("$") {
            return Err(self.err(&format!("expected an operator after '{field}'")));
        }
        let op_start = self.i;
        while self.i < self.s.len() && self.s[self.i].is_ascii_alphabetic() {
            self.i += 1;
        }
        let op_name = &self.src[op_start..self.i];
        let op = Op::parse(op_name)
            .ok_or_else(|| self.err(&format!("unknown operator '${op_name}'")))?;
        if !self.eat(":") {
            return Err(self.err("expected ':' after the operator"));
        }
        let val = if matches!(op, Op::In | Op::Nin) {
            self.list()?
        } else if self.eat("$null:") {
            Val::Null
        } else {
            let (text, pieces) = self.text(false)?;
            Val::Text(text, pieces)
        };
        Ok(Expr::Pred { field, op, val })
    }

    /// `[a,b,…]` of numbers or `$null:`.
    fn list(&mut self) -> Result<Val, FilterError> {
        if !self.eat("[") {
            return Err(self.err("expected '[' after $in:/$nin:"));
        }
        let mut items = Vec::new();
        loop {
            if self.eat("$null:") {
                items.push(None);
            } else {
                let (t, _) = self.text(true)?;
                items.push(Some(t));
            }
            if self.eat(",") {
                continue;
            }
            if self.eat("]") {
                break;
            }
            return Err(self.err("expected ',' or ']' in the list"));
        }
        Ok(Val::List(items))
    }

    /// A value up to the next unescaped end: `$and:`, `$or:` or `)` (and `,` `]` in a list).
    fn text(&mut self, in_list: bool) -> Result<(String, Vec<Piece>), FilterError> {
        let mut text = String::new();
        let mut pieces: Vec<Piece> = Vec::new();
        let mut lit = String::new();
        loop {
            let rest = self.rest();
            let Some(c) = rest.chars().next() else { break };
            if rest.starts_with("$and:") || rest.starts_with("$or:") || c == ')' {
                break;
            }
            if in_list && (c == ',' || c == ']') {
                break;
            }
            if c == '$' {
                let Some(e) = rest[1..].chars().next() else {
                    return Err(self.err("a lone '$'"));
                };
                if !matches!(e, '$' | '(' | ')' | '*' | ',' | '[' | ']') {
                    return Err(self.err(&format!("unknown escape '${e}'")));
                }
                text.push(e);
                lit.push(e);
                self.i += 2;
                continue;
            }
            if c == '(' || (c == '[' && !in_list) || (c == ']' && !in_list) {
                return Err(self.err(&format!("'{c}' must be escaped as '${c}'")));
            }
            if c == '*' {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Star);
            } else {
                lit.push(c);
            }
            text.push(c);
            self.i += c.len_utf8();
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok((text, pieces))
    }
}

/// Parses `src` and checks every predicate against `fields` (property → type).
pub(super) fn parse(src: &str, fields: &[(&str, FType)]) -> Result<Expr, FilterError> {
    let mut p = Parser {
        s: src.as_bytes(),
        src,
        i: 0,
    };
    let e = p.or()?;
    if p.i != src.len() {
        return Err(p.err("unexpected text"));
    }
    check(&e, fields)?;
    Ok(e)
}

fn check(e: &Expr, fields: &[(&str, FType)]) -> Result<(), FilterError> {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            check(a, fields)?;
            check(b, fields)
        }
        Expr::Pred { field, op, val } => {
            let Some((_, t)) = fields.iter().find(|(f, _)| f == field) else {
                return Err(FilterError::Field(field.clone()));
            };
            let name = op.name();
            if !operators_for(*t).contains(&name) {
                return Err(FilterError::Operator(field.clone(), *op, *t));
            }
            match val {
                Val::List(items) => {
                    if items.len() > MAX_IN_VALUES {
                        return Err(FilterError::Value(format!(
                            "{name} takes at most {MAX_IN_VALUES} values"
                        )));
                    }
                    for x in items.iter().flatten() {
                        if x.trim().parse::<f64>().is_err() {
                            return Err(FilterError::Value(format!(
                                "'{x}' is not a number ({name} is numeric only)"
                            )));
                        }
                    }
                }
                Val::Text(x, _) => {
                    let ok = match t {
                        FType::Num => x.trim().parse::<f64>().is_ok(),
                        FType::Date => parse_date(x).is_some(),
                        FType::Bool => matches!(x.to_lowercase().as_str(), "true" | "false"),
                        FType::Text => true,
                    };
                    if !ok {
                        return Err(FilterError::Value(format!(
                            "'{x}' is not a valid value for {field}"
                        )));
                    }
                }
                Val::Null => {}
            }
            Ok(())
        }
    }
}

/// A date or datetime literal.
pub(super) fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        if LENIENT_FILTER_DATES || s.ends_with('Z') {
            return Some(t.with_timezone(&Utc));
        }
    }
    if !LENIENT_FILTER_DATES {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .or_else(|| crate::kit::clock::parse_iso(s))
}

/// The value at a dotted path.
fn at<'a>(rec: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.')
        .try_fold(rec, |v, k| v.get(k))
        .filter(|v| !v.is_null())
}

fn like(hay: &str, pieces: &[Piece]) -> bool {
    let hay = hay.to_lowercase();
    // The literal runs between the wildcards.
    let mut segs = vec![String::new()];
    for p in pieces {
        match p {
            Piece::Lit(l) => segs
                .last_mut()
                .expect("one run")
                .push_str(&l.to_lowercase()),
            Piece::Star => segs.push(String::new()),
        }
    }
    let (first, last) = (&segs[0], &segs[segs.len() - 1]);
    if segs.len() == 1 {
        // No wildcard: "contains".
        return hay.contains(first.as_str());
    }
    if hay.len() < first.len() + last.len()
        || !hay.starts_with(first.as_str())
        || !hay.ends_with(last.as_str())
    {
        return false;
    }
    let mut middle = &hay[first.len()..hay.len() - last.len()];
    for seg in &segs[1..segs.len() - 1] {
        match middle.find(seg.as_str()) {
            Some(j) => middle = &middle[j + seg.len()..],
            None => return false,
        }
    }
    true
}

/// Compares a record's value with a literal under the property's type.
fn compare(v: &Value, lit: &str, t: FType) -> Option<Ordering> {
    match t {
        FType::Num => v.as_f64()?.partial_cmp(&lit.trim().parse::<f64>().ok()?),
        FType::Text => {
            let s = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(s.to_lowercase().cmp(&lit.to_lowercase()))
        }
        FType::Date => Some(parse_date(v.as_str()?)?.cmp(&parse_date(lit)?)),
        FType::Bool => Some(v.as_bool()?.cmp(&(lit.eq_ignore_ascii_case("true")))),
    }
}

/// Whether `rec` matches `e`.
pub(super) fn matches(e: &Expr, rec: &Value, fields: &[(&str, FType)]) -> bool {
    match e {
        Expr::And(a, b) => matches(a, rec, fields) && matches(b, rec, fields),
        Expr::Or(a, b) => matches(a, rec, fields) || matches(b, rec, fields),
        Expr::Pred { field, op, val } => {
            let t = fields
                .iter()
                .find(|(f, _)| f == field)
                .map_or(FType::Text, |(_, t)| *t);
            // `false` booleans are omitted: a missing boolean is false.
            let owned;
            let v = match at(rec, field) {
                Some(v) => Some(v),
                None if t == FType::Bool => {
                    owned = Value::Bool(false);
                    Some(&owned)
                }
                None => None,
            };
            match val {
                Val::Null => match op {
                    Op::Ne => v.is_some(),
                    _ => v.is_none(),
                },
                Val::List(items) => {
                    let hit = items.iter().any(|x| match (x, v) {
                        (None, None) => true,
                        (Some(x), Some(v)) => compare(v, x, FType::Num) == Some(Ordering::Equal),
                        _ => false,
                    });
                    if *op == Op::In {
                        hit
                    } else {
                        !hit
                    }
                }
                Val::Text(lit, pieces) => {
                    let Some(v) = v else {
                        return *op == Op::Ne;
                    };
                    if *op == Op::Like {
                        return v.as_str().is_some_and(|s| like(s, pieces));
                    }
                    let Some(o) = compare(v, lit, t) else {
                        return *op == Op::Ne;
                    };
                    match op {
                        Op::Eq => o == Ordering::Equal,
                        Op::Ne => o != Ordering::Equal,
                        Op::Gt => o == Ordering::Greater,
                        Op::Gte => o != Ordering::Less,
                        Op::Lt => o == Ordering::Less,
                        Op::Lte => o != Ordering::Greater,
                        Op::Like | Op::In | Op::Nin => false,
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FIELDS: [(&str, FType); 5] = [
        ("name", FType::Text),
        ("customerNumber", FType::Num),
        ("lastUpdated", FType::Date),
        ("barred", FType::Bool),
        ("email", FType::Text),
    ];

    fn keep(f: &str, rec: Value) -> bool {
        matches(&parse(f, &FIELDS).unwrap(), &rec, &FIELDS)
    }

    #[test]
    fn and_binds_tighter_than_or_and_parentheses_group() {
        let e = parse("name$eq:a$or:name$eq:b$and:customerNumber$gt:5", &FIELDS).unwrap();
        assert!(matches!(e, Expr::Or(_, _)));
        let g = parse("(name$eq:a$or:name$eq:b)$and:customerNumber$gt:5", &FIELDS).unwrap();
        assert!(matches!(g, Expr::And(_, _)));
        let rec = json!({"name": "A", "customerNumber": 1});
        assert!(matches(&e, &rec, &FIELDS));
        assert!(!matches(&g, &rec, &FIELDS));
    }

    #[test]
    fn escapes_wildcards_and_case() {
        let rec = json!({"name": "Smit & Zn. (Holding) $1*2, [x]"});
        assert!(keep("name$like:holding", rec.clone()));
        assert!(keep("name$like:smit*", rec.clone()));
        assert!(!keep("name$like:*smit", rec.clone()));
        assert!(keep("name$like:*$[x$]", rec.clone()));
        assert!(keep("name$like:$(HOLDING$) $$1$*2$,", rec.clone()));
        assert!(keep("name$like:s*h*g*", rec.clone()));
        assert!(keep(
            "name$eq:SMIT & ZN. $(HOLDING$) $$1$*2$, $[X$]",
            rec.clone()
        ));
        // With a wildcard the pattern is anchored at both ends.
        assert!(!keep("name$like:1*2", json!({"name": "1-2x"})));
        assert!(!keep("name$like:1*2", json!({"name": "a12b"})));
        assert!(keep("name$like:1*2", json!({"name": "1-2"})));
    }

    #[test]
    fn nulls_lists_numbers_dates_and_booleans() {
        let rec = json!({"name": "A", "customerNumber": 7, "lastUpdated": "2026-01-02T03:04:05Z"});
        assert!(keep("email$eq:$null:", rec.clone()));
        assert!(!keep("email$ne:$null:", rec.clone()));
        assert!(keep("customerNumber$in:[1,7,9]", rec.clone()));
        assert!(keep("customerNumber$nin:[1,9]", rec.clone()));
        assert!(keep(
            "customerNumber$gte:7$and:customerNumber$lt:8",
            rec.clone()
        ));
        assert!(keep("lastUpdated$gt:2026-01-02T03:04:04Z", rec.clone()));
        assert!(!keep("lastUpdated$gt:2026-01-02T03:04:05Z", rec.clone()));
        assert!(keep("lastUpdated$gte:2026-01-02", rec.clone()));
        assert!(keep("barred$eq:false", rec.clone()));
        assert!(keep("barred$eq:true", json!({"barred": true})));
    }

    #[test]
    fn refusals() {
        let e = |f: &str| parse(f, &FIELDS).unwrap_err();
        assert_eq!(e("balance$gt:5"), FilterError::Field("balance".into()));
        assert!(matches!(e("name$in:[1]"), FilterError::Operator(..)));
        assert!(matches!(
            e("customerNumber$like:1"),
            FilterError::Operator(..)
        ));
        assert!(matches!(e("customerNumber$in:[a]"), FilterError::Value(_)));
        assert!(matches!(e("customerNumber$eq:x"), FilterError::Value(_)));
        let many = format!("customerNumber$in:[{}]", vec!["1"; 201].join(","));
        assert!(matches!(e(&many), FilterError::Value(_)));
        for bad in [
            "name",
            "name$eq",
            "name$is:x",
            "(name$eq:a",
            "name$eq:a)",
            "name$eq:(a",
            "name$eq:a$x",
        ] {
            assert!(matches!(e(bad), FilterError::Syntax(_)), "{bad}");
        }
    }
}
