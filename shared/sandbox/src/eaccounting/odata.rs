//! The OData `$filter` subset eAccounting clients use [C `pwitab/visma` `query.py`, a PHP
//! client's `FiltersDates`]: comparisons of the collection's change field (`ChangedUtc` or
//! `ModifiedUtc`) with a datetime literal, `eq gt ge lt le`, joined with `and`; and [I] `eq`
//! of a few text properties with a quoted string (`Number eq 'BON-1001'`, OData's own
//! syntax, compared case-insensitively as SQL Server's default collation does), which a
//! client needs to find one record. Anything else (another property, `or`, `ne`,
//! functions, a bad literal) is refused with a 400.

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

/// [I] The text properties `eq` may compare.
pub(super) const TEXT_FIELDS: [&str; 4] =
    ["EmailAddress", "Number", "YourReference", "CustomerNumber"];

/// A parsed filter: every comparison must hold.
#[derive(Debug, PartialEq)]
pub(super) struct Filter {
    field: String,
    terms: Vec<(Op, DateTime<Utc>)>,
    /// `(property, text)`: the property equals the text.
    texts: Vec<(String, String)>,
}

/// A quoted OData string (`'it''s'` → `it's`), taken from the front of `src`: the text and
/// the rest.
fn string_literal(src: &str) -> Option<(String, &str)> {
    let mut chars = src.strip_prefix('\'')?.char_indices().peekable();
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        if c == '\'' {
            if chars.peek().map(|(_, n)| *n) == Some('\'') {
                chars.next();
                out.push('\'');
                continue;
            }
            return Some((out, &src[i + 2..]));
        }
        out.push(c);
    }
    None
}

/// Parses `src` for a collection whose change field is `field`.
pub(super) fn parse(src: &str, field: &str) -> Result<Filter, String> {
    // Text comparisons first (their literals may hold spaces), then the date terms.
    let mut texts = Vec::new();
    let mut rest_src = String::new();
    let mut rest = src.trim();
    loop {
        let head = rest.split_whitespace().next().unwrap_or("");
        let is_text = TEXT_FIELDS.contains(&head) && {
            let after = rest[head.len()..].trim_start();
            after.starts_with("eq ") && after[3..].trim_start().starts_with('\'')
        };
        if is_text {
            let after = rest[head.len()..].trim_start()[3..].trim_start();
            let (text, tail) = string_literal(after)
                .ok_or_else(|| format!("unterminated string after {head} eq"))?;
            texts.push((head.to_string(), text));
            rest = tail.trim_start();
        } else {
            let end = rest.find(" and ").unwrap_or(rest.len());
            if !rest_src.is_empty() {
                rest_src.push_str(" and ");
            }
            rest_src.push_str(&rest[..end]);
            rest = rest[end..].trim_start();
        }
        match rest.strip_prefix("and ") {
            Some(r) => rest = r.trim_start(),
            None if rest.is_empty() => break,
            None => {
                return Err(format!(
                    "unsupported '{}' (only 'and' joins comparisons)",
                    rest.split_whitespace().next().unwrap_or("")
                ))
            }
        }
    }
    if rest_src.trim().is_empty() {
        if texts.is_empty() {
            return Err("empty filter".into());
        }
        return Ok(Filter {
            field: field.to_string(),
            terms: Vec::new(),
            texts,
        });
    }
    let mut f = parse_dates(&rest_src, field)?;
    f.texts = texts;
    Ok(f)
}

fn parse_dates(src: &str, field: &str) -> Result<Filter, String> {
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
        texts: Vec::new(),
    })
}

/// Whether `rec` passes `f`.
pub(super) fn matches(f: &Filter, rec: &Value) -> bool {
    let texts_hold = f.texts.iter().all(|(k, v)| {
        rec[k.as_str()]
            .as_str()
            .is_some_and(|x| x.to_lowercase() == v.to_lowercase())
    });
    if !texts_hold {
        return false;
    }
    if f.terms.is_empty() {
        return true;
    }
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
    fn text_properties_compare_with_eq() {
        let rec = json!({"Number": "BON-1001", "YourReference": "ccv/it's 1",
            "ChangedUtc": "2026-01-02T03:04:05.1234560Z"});
        let ok = |s: &str| matches(&parse(s, "ChangedUtc").unwrap(), &rec);
        assert!(ok("Number eq 'bon-1001'"));
        assert!(!ok("Number eq 'BON-1002'"));
        assert!(ok("YourReference eq 'ccv/it''s 1'"));
        assert!(ok("Number eq 'BON-1001' and ChangedUtc gt 2026-01-01"));
        assert!(!ok("Number eq 'BON-1001' and ChangedUtc gt 2026-02-01"));
        assert!(parse("Number eq 'open", "ChangedUtc").is_err());
        assert!(parse("Price eq '1'", "ChangedUtc").is_err());
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
