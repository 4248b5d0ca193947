//! The OData `$filter` subset eAccounting clients use [C `pwitab/visma` `query.py`, a PHP
//! client's `FiltersDates`]: comparisons of the collection's change field (`ChangedUtc` or
//! `ModifiedUtc`) with a datetime literal, `eq gt ge lt le`, joined with `and`. Anything else
//! (another property, `or`, `ne`, functions, a bad literal) is refused with a 400.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::facts::parse_literal;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A parsed filter: every comparison must hold.
#[derive(Debug, PartialEq)]
pub(super) struct Filter {
    field: String,
    terms: Vec<(Op, DateTime<Utc>)>,
}

/// Parses `src` for a collection whose change field is `field`.
pub(super) fn parse(src: &str, field: &str) -> Result<Filter, String> {
    let toks: Vec<&str> = src.split_whitespace().collect();
    if toks.is_empty() {
        return Err("empty filter".into());
    }
    let mut terms = Vec::new();
    let mut i = 0;
    loop {
        let (Some(f), Some(op), Some(lit)) = (toks.get(i), toks.get(i + 1), toks.get(i + 2)) else {
            return Err(format!(
                "expected '{field} <op> <datetime>' at '{}'",
                toks[i..].join(" ")
            ));
        };
        if *f != field {
            return Err(format!("only {field} can be filtered on here, not '{f}'"));
        }
        let op = match *op {
            "eq" => Op::Eq,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(format!("unsupported operator '{other}'")),
        };
        let t = parse_literal(lit).ok_or_else(|| format!("'{lit}' is not a datetime"))?;
        terms.push((op, t));
        i += 3;
        match toks.get(i) {
            None => break,
            Some(&"and") => i += 1,
            Some(other) => {
                return Err(format!(
                    "unsupported '{other}' (only 'and' joins comparisons)"
                ))
            }
        }
    }
    Ok(Filter {
        field: field.to_string(),
        terms,
    })
}

/// Whether `rec` passes `f`.
pub(super) fn matches(f: &Filter, rec: &Value) -> bool {
    let Some(t) = rec[f.field.as_str()].as_str().and_then(parse_literal) else {
        return false;
    };
    f.terms.iter().all(|(op, x)| match op {
        Op::Eq => t == *x,
        Op::Gt => t > *x,
        Op::Ge => t >= *x,
        Op::Lt => t < *x,
        Op::Le => t <= *x,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn comparisons_joined_with_and() {
        let rec = json!({"ChangedUtc": "2026-01-02T03:04:05.1234560Z"});
        let ok = |s: &str| matches(&parse(s, "ChangedUtc").unwrap(), &rec);
        assert!(ok("ChangedUtc gt 2026-01-02T03:04:05Z"));
        assert!(ok(
            "ChangedUtc ge 2026-01-02T03:04:05Z and ChangedUtc lt 2026-01-03"
        ));
        assert!(ok("ChangedUtc gt datetime'2026-01-01T00:00:00'"));
        assert!(ok("ChangedUtc le 2026-01-02T05:04:06+02:00"));
        assert!(!ok("ChangedUtc le 2026-01-02T05:04:05+02:00"));
        assert!(!ok("ChangedUtc eq 2026-01-02T03:04:05Z"));
        assert!(ok("ChangedUtc eq 2026-01-02T03:04:05.123456Z"));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "Name eq 'x'",
            "ChangedUtc ne 2026-01-01",
            "ChangedUtc gt 2026-01-01 or ChangedUtc lt 2026-02-01",
            "ChangedUtc gt yesterday",
            "ChangedUtc gt",
            "ModifiedUtc gt 2026-01-01",
            "substringof('a', Name)",
        ] {
            assert!(parse(bad, "ChangedUtc").is_err(), "{bad}");
        }
    }
}
