//! `search`: the domain filter with the implicit `active` leaf, `order` specs and sorting.

use std::cmp::Ordering;

use serde_json::{json, Value};

use super::domain::{is_null, Node};
use super::fault::{value_err, R};
use super::schema::{Model, Ty};
use super::tx::Tx;
use super::values::{num, str_of, truthy};
use crate::kit::paging::offset_limit;

impl<'a> Tx<'a> {
    pub(super) fn search(
        &self,
        m: &'a Model,
        domain: &Value,
        offset: usize,
        limit: Option<usize>,
        order: Option<&str>,
    ) -> R<Vec<i64>> {
        let mut node = self.parse_domain(m, domain)?;
        if self.active_test && m.has("active") {
            let mentions_active = domain
                .as_array()
                .map(|a| {
                    a.iter().any(|t| {
                        t.as_array().and_then(|l| l.first()).and_then(Value::as_str)
                            == Some("active")
                    })
                })
                .unwrap_or(false);
            if !mentions_active {
                node = Node::And(
                    Box::new(Node::Leaf {
                        model: m.name,
                        path: vec!["active".into()],
                        op: "=".into(),
                        value: json!(true),
                    }),
                    Box::new(node),
                );
            }
        }
        let terms = parse_order(m, order.filter(|o| !o.trim().is_empty()).unwrap_or(m.order))?;
        let mut ids: Vec<i64> = self
            .all_ids(m.name)
            .into_iter()
            .filter(|id| self.eval(*id, &node))
            .collect();
        self.sort(m, &mut ids, &terms);
        Ok(offset_limit(&ids, offset, limit).to_vec())
    }

    pub(super) fn sort(&self, m: &Model, ids: &mut [i64], terms: &[OrderTerm]) {
        ids.sort_by(|a, b| self.cmp_records(m, *a, *b, terms, 0).then(a.cmp(b)));
    }

    fn cmp_records(&self, m: &Model, a: i64, b: i64, terms: &[OrderTerm], depth: u8) -> Ordering {
        for t in terms {
            let Some(f) = m.field(&t.field) else { continue };
            let (x, y) = (self.raw(m, a, f), self.raw(m, b, f));
            let (nx, ny) = (is_null(f.ty, &x), is_null(f.ty, &y));
            let o = match (nx, ny) {
                (true, true) => Ordering::Equal,
                // PostgreSQL: NULLS LAST ascending, FIRST descending.
                (true, false) => {
                    if t.nulls_first.unwrap_or(t.desc) {
                        Ordering::Less
                    } else {
                        Ordering::Greater
                    }
                }
                (false, true) => {
                    if t.nulls_first.unwrap_or(t.desc) {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    }
                }
                (false, false) => {
                    let o = match f.ty {
                        Ty::Many2one if depth < 3 => {
                            let cm = &self.s.models[f.relation.unwrap_or_default()];
                            let ct = parse_order(cm, cm.order).unwrap_or_default();
                            let (ia, ib) = (x.as_i64().unwrap_or(0), y.as_i64().unwrap_or(0));
                            if ia == ib {
                                continue;
                            }
                            self.cmp_records(cm, ia, ib, &ct, depth + 1)
                                .then(ia.cmp(&ib))
                        }
                        Ty::Char | Ty::Text | Ty::Html | Ty::Selection => {
                            let (sa, sb) = (str_of(&x), str_of(&y));
                            sa.to_lowercase().cmp(&sb.to_lowercase()).then(sa.cmp(sb))
                        }
                        Ty::Boolean => truthy(&x).cmp(&truthy(&y)),
                        Ty::Integer | Ty::Float | Ty::Monetary | Ty::Many2one => {
                            num(&x).partial_cmp(&num(&y)).unwrap_or(Ordering::Equal)
                        }
                        _ => str_of(&x).cmp(str_of(&y)),
                    };
                    if t.desc {
                        o.reverse()
                    } else {
                        o
                    }
                }
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

#[derive(Clone, Debug)]
pub(super) struct OrderTerm {
    field: String,
    desc: bool,
    nulls_first: Option<bool>,
}

/// Parses an `order` spec; unknown fields raise, non-stored ones are skipped
/// with a warning ("cannot be sorted on field … (not a column)") [src].
pub(super) fn parse_order(m: &Model, spec: &str) -> R<Vec<OrderTerm>> {
    let invalid = || {
        value_err(format!(
            "Invalid \"order\" specified ({spec}). A valid \"order\" specification is a \
             comma-separated list of valid field names (optionally followed by asc/desc for the \
             direction)"
        ))
    };
    let mut out = Vec::new();
    for part in spec.split(',') {
        let words: Vec<&str> = part.split_whitespace().collect();
        let Some(first) = words.first() else {
            return Err(invalid());
        };
        let name = first.trim_matches('"');
        let name = name.strip_suffix(".id").unwrap_or(name);
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
        {
            return Err(invalid());
        }
        let rest: Vec<String> = words[1..].iter().map(|w| w.to_lowercase()).collect();
        let (desc, tail) = match rest.first().map(String::as_str) {
            Some("desc") => (true, &rest[1..]),
            Some("asc") => (false, &rest[1..]),
            _ => (false, &rest[..]),
        };
        let nulls_first = match tail {
            [] => None,
            [a, b] if a == "nulls" && b == "first" => Some(true),
            [a, b] if a == "nulls" && b == "last" => Some(false),
            _ => return Err(invalid()),
        };
        let Some(f) = m.field(name) else {
            return Err(value_err(format!(
                "Invalid field '{name}' on model '{}'",
                m.name
            )));
        };
        if !f.sortable {
            tracing::warn!(
                "Model '{}' cannot be sorted on field '{}' (not a column)",
                m.name,
                name
            );
            continue;
        }
        out.push(OrderTerm {
            field: name.to_string(),
            desc,
            nulls_first,
        });
    }
    Ok(out)
}
