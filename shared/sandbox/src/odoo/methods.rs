//! Model methods as `execute_kw` calls them: Python-style argument binding, `read`,
//! `fields_get`, `name_search`, the dispatch of every modelled method and the order actions.

use std::collections::HashSet;

use serde_json::{json, Value};

use super::domain::{is_false, positive_op};
use super::fault::{fault, missing_error, py_repr, type_err, user_err, value_err, Exc, R};
use super::schema::{Field, Model, Ty};
use super::tx::Tx;
use super::values::{fmt_dt, str_of, truthy};
use super::Obj;

/// Binds positional and keyword arguments to `params` like a Python call.
fn bind(method: &str, params: &[&str], args: &[Value], kwargs: &Obj) -> R<Vec<Option<Value>>> {
    if args.len() > params.len() {
        return Err(type_err(format!(
            "{method}() takes {} positional arguments but {} were given",
            params.len() + 1,
            args.len() + 1
        )));
    }
    let mut out: Vec<Option<Value>> = vec![None; params.len()];
    for (i, a) in args.iter().enumerate() {
        out[i] = Some(a.clone());
    }
    for (k, v) in kwargs {
        if k == "context" {
            continue;
        }
        match params.iter().position(|p| p == k) {
            Some(i) if out[i].is_some() => {
                return Err(type_err(format!(
                    "{method}() got multiple values for argument '{k}'"
                )))
            }
            Some(i) => out[i] = Some(v.clone()),
            None => {
                return Err(type_err(format!(
                    "{method}() got an unexpected keyword argument '{k}'"
                )))
            }
        }
    }
    Ok(out)
}

fn opt(v: &Option<Value>) -> Option<&Value> {
    v.as_ref().filter(|v| !is_false(v))
}

fn usize_arg(v: &Option<Value>) -> Option<usize> {
    opt(v).and_then(Value::as_u64).map(|n| n as usize)
}

/// The ids of a recordset call (`args[0]`) and the remaining arguments.
fn split_ids<'v>(method: &str, args: &'v [Value]) -> R<(Vec<i64>, &'v [Value])> {
    let Some(first) = args.first() else {
        return Err(type_err(format!(
            "{method}() missing 1 required positional argument: 'ids'"
        )));
    };
    let ids = match first {
        Value::Number(n) => vec![n.as_i64().ok_or_else(|| value_err("Invalid id"))?],
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_i64()
                    .ok_or_else(|| value_err(format!("Invalid id {}", py_repr(x))))
            })
            .collect::<R<Vec<i64>>>()?,
        Value::Bool(false) | Value::Null => Vec::new(),
        other => return Err(value_err(format!("Invalid ids {}", py_repr(other)))),
    };
    Ok((ids, &args[1..]))
}

impl<'a> Tx<'a> {
    fn read(&self, m: &'a Model, ids: &[i64], fields: Option<&Value>) -> R<Vec<Value>> {
        let list: Vec<&'a Field> = match fields.and_then(Value::as_array).filter(|a| !a.is_empty())
        {
            None => m.fields.iter().collect(),
            Some(names) => {
                let mut out = Vec::new();
                for n in names {
                    let name = str_of(n);
                    let f = m.field(name).ok_or_else(|| {
                        value_err(format!("Invalid field '{name}' on model '{}'", m.name))
                    })?;
                    out.push(f);
                }
                out
            }
        };
        let mut seen = HashSet::new();
        let mut rows = Vec::new();
        for &id in ids {
            if !self.exists(m.name, id) || !seen.insert(id) {
                continue;
            }
            let mut o = Obj::new();
            o.insert("id".into(), json!(id));
            for f in &list {
                o.insert(f.name.to_string(), self.render(m, id, f));
            }
            rows.push(Value::Object(o));
        }
        Ok(rows)
    }

    fn fields_get(
        &self,
        m: &Model,
        allfields: Option<&Value>,
        attributes: Option<&Value>,
    ) -> Value {
        let only: Option<Vec<&str>> = allfields
            .and_then(Value::as_array)
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().map(str_of).collect());
        let attrs: Option<Vec<&str>> = attributes
            .and_then(Value::as_array)
            .map(|a| a.iter().map(str_of).collect());
        let mut out = Obj::new();
        for f in &m.fields {
            if only.as_ref().is_some_and(|o| !o.contains(&f.name)) {
                continue;
            }
            let mut d = Obj::new();
            d.insert("type".into(), json!(f.ty.name()));
            d.insert("string".into(), json!(f.string));
            d.insert("name".into(), json!(f.name));
            d.insert("required".into(), json!(f.required));
            d.insert("readonly".into(), json!(f.readonly));
            d.insert("store".into(), json!(f.store));
            d.insert("searchable".into(), json!(f.searchable));
            d.insert("sortable".into(), json!(f.sortable));
            d.insert("groupable".into(), json!(f.store && !f.ty.x2many()));
            d.insert("manual".into(), json!(false));
            d.insert("company_dependent".into(), json!(false));
            d.insert("change_default".into(), json!(false));
            d.insert("exportable".into(), json!(true));
            d.insert("depends".into(), json!([]));
            if f.ty.stringy() && f.ty != Ty::Selection {
                d.insert("translate".into(), json!(false));
            }
            if let Some(r) = f.relation {
                d.insert("relation".into(), json!(r));
                d.insert("context".into(), json!({}));
                d.insert("domain".into(), json!([]));
            }
            if let Some(inv) = f.inverse {
                d.insert("relation_field".into(), json!(inv));
            }
            if f.ty == Ty::Selection {
                let sel: Vec<Value> = f.selection.iter().map(|(k, l)| json!([k, l])).collect();
                d.insert("selection".into(), Value::Array(sel));
            }
            if let Some(keep) = &attrs {
                d.retain(|k, _| keep.contains(&k.as_str()));
            }
            out.insert(f.name.to_string(), Value::Object(d));
        }
        Value::Object(out)
    }

    fn name_search(
        &self,
        m: &'a Model,
        name: &str,
        domain: Option<&Value>,
        op: &str,
        limit: Option<usize>,
    ) -> R<Value> {
        let all = self.search(m, domain.unwrap_or(&json!([])), 0, None, None)?;
        let keep: Option<HashSet<i64>> =
            if name.is_empty() && matches!(op, "ilike" | "like" | "=ilike" | "=like") {
                None
            } else {
                let pos = positive_op(op);
                let hits: HashSet<i64> = self.name_match(m.name, pos, name).into_iter().collect();
                if pos != op {
                    let every: HashSet<i64> = all.iter().copied().collect();
                    Some(every.difference(&hits).copied().collect())
                } else {
                    Some(hits)
                }
            };
        let out: Vec<Value> = all
            .into_iter()
            .filter(|id| keep.as_ref().is_none_or(|k| k.contains(id)))
            .take(limit.unwrap_or(usize::MAX))
            .map(|id| json!([id, self.display_name(m.name, id)]))
            .collect();
        Ok(Value::Array(out))
    }

    /// One `execute_kw` call on model `m`.
    pub(super) fn call(
        &mut self,
        m: &'a Model,
        method: &str,
        args: &[Value],
        kwargs: &Obj,
    ) -> R<Option<Value>> {
        let v = self.s.version;
        let exists_method = |name: &str| -> bool {
            match name {
                "search"
                | "search_read"
                | "search_count"
                | "read"
                | "create"
                | "write"
                | "unlink"
                | "fields_get"
                | "name_search"
                | "default_get"
                | "check_access_rights"
                | "read_group" => true,
                "name_get" => v <= 17,
                "has_access" => v >= 18,
                "action_confirm" | "action_cancel" | "action_draft" | "action_unlock" => {
                    m.name == "sale.order"
                }
                "action_lock" => m.name == "sale.order" && v >= 17,
                "action_done" => m.name == "sale.order" && v == 16,
                _ => false,
            }
        };
        if method.starts_with('_') {
            return Err(fault(
                Exc::AccessError,
                format!(
                    "Private methods (such as '{}.{method}') cannot be called remotely.",
                    m.name
                ),
            ));
        }
        if !exists_method(method) {
            return Err(fault(
                Exc::Attribute,
                format!("The method '{}.{method}' does not exist", m.name),
            ));
        }
        let some = |v: Value| Ok(Some(v));
        match method {
            "search" => {
                let params: &[&str] = if v == 16 {
                    &["domain", "offset", "limit", "order", "count"]
                } else {
                    &["domain", "offset", "limit", "order"]
                };
                let p = bind(method, params, args, kwargs)?;
                let domain = p[0].clone().ok_or_else(|| {
                    type_err("search() missing 1 required positional argument: 'domain'")
                })?;
                let ids = self.search(
                    m,
                    &domain,
                    usize_arg(&p[1]).unwrap_or(0),
                    usize_arg(&p[2]),
                    opt(&p[3]).and_then(Value::as_str),
                )?;
                if p.get(4).is_some_and(|c| opt(c).is_some()) {
                    return some(json!(ids.len()));
                }
                some(json!(ids))
            }
            "search_read" => {
                let p = bind(
                    method,
                    &["domain", "fields", "offset", "limit", "order"],
                    args,
                    kwargs,
                )?;
                let domain = p[0].clone().unwrap_or(json!([]));
                let ids = self.search(
                    m,
                    &domain,
                    usize_arg(&p[2]).unwrap_or(0),
                    usize_arg(&p[3]),
                    opt(&p[4]).and_then(Value::as_str),
                )?;
                some(Value::Array(self.read(m, &ids, opt(&p[1]))?))
            }
            "search_count" => {
                let p = bind(method, &["domain", "limit"], args, kwargs)?;
                let domain = p[0].clone().unwrap_or(json!([]));
                let ids = self.search(m, &domain, 0, usize_arg(&p[1]), Some("id"))?;
                some(json!(ids.len()))
            }
            "read" => {
                let (ids, rest) = split_ids(method, args)?;
                let p = bind(method, &["fields", "load"], rest, kwargs)?;
                some(Value::Array(self.read(m, &ids, opt(&p[0]))?))
            }
            "create" => {
                let p = bind(method, &["vals_list"], args, kwargs)?;
                match p[0].clone() {
                    Some(Value::Object(vals)) => some(json!(self.create(m, &vals)?)),
                    Some(Value::Array(list)) => {
                        let mut ids = Vec::new();
                        for vals in list {
                            let Value::Object(vals) = vals else {
                                return Err(value_err(format!(
                                    "dictionary update sequence element #0 has length 1; 2 is required ({})",
                                    py_repr(&vals)
                                )));
                            };
                            ids.push(self.create(m, &vals)?);
                        }
                        some(json!(ids))
                    }
                    other => Err(type_err(format!(
                        "create() argument must be a dict or a list of dicts, not {}",
                        py_repr(&other.unwrap_or(Value::Null))
                    ))),
                }
            }
            "write" => {
                let (ids, rest) = split_ids(method, args)?;
                let p = bind(method, &["vals"], rest, kwargs)?;
                let Some(Value::Object(vals)) = p[0].clone() else {
                    return Err(type_err(
                        "write() missing 1 required positional argument: 'vals'",
                    ));
                };
                self.write(m, &ids, &vals)?;
                some(json!(true))
            }
            "unlink" => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                self.unlink(m, &ids)?;
                some(json!(true))
            }
            "fields_get" => {
                let p = bind(method, &["allfields", "attributes"], args, kwargs)?;
                some(self.fields_get(m, opt(&p[0]), opt(&p[1])))
            }
            "name_search" => {
                let dom = if v == 16 { "args" } else { "domain" };
                let p = bind(method, &["name", dom, "operator", "limit"], args, kwargs)?;
                let name = opt(&p[0]).map(str_of).unwrap_or("").to_string();
                let op = opt(&p[2])
                    .and_then(Value::as_str)
                    .unwrap_or("ilike")
                    .to_string();
                let limit = match &p[3] {
                    None => Some(100),
                    Some(l) => opt(&Some(l.clone()))
                        .and_then(Value::as_u64)
                        .map(|n| n as usize),
                };
                some(self.name_search(m, &name, opt(&p[1]), &op, limit)?)
            }
            "name_get" => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                let out: Vec<Value> = ids
                    .into_iter()
                    .filter(|i| self.exists(m.name, *i))
                    .map(|i| json!([i, self.display_name(m.name, i)]))
                    .collect();
                some(Value::Array(out))
            }
            "default_get" => {
                let p = bind(method, &["fields_list"], args, kwargs)?;
                let wanted: Vec<String> = opt(&p[0])
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|x| str_of(x).to_string()).collect())
                    .unwrap_or_default();
                let mut d = self.defaults(m.name);
                if m.name == "sale.order" && v == 16 {
                    d.insert("pricelist_id".into(), json!(1));
                }
                d.retain(|k, _| wanted.contains(k));
                some(Value::Object(d))
            }
            "check_access_rights" => {
                bind(method, &["operation", "raise_exception"], args, kwargs)?;
                some(json!(true))
            }
            "has_access" => {
                let (_, rest) = split_ids(method, args)?;
                bind(method, &["operation"], rest, kwargs)?;
                some(json!(true))
            }
            "read_group" => Err(fault(
                Exc::NotImplemented,
                "read_group is not modelled by the Puente Odoo sandbox",
            )),
            _ => {
                let (ids, rest) = split_ids(method, args)?;
                bind(method, &[], rest, kwargs)?;
                self.order_action(m, method, &ids)
            }
        }
    }

    fn order_action(&mut self, m: &'a Model, method: &str, ids: &[i64]) -> R<Option<Value>> {
        const O: &str = "sale.order";
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|i| !self.exists(O, *i))
            .collect();
        if !missing.is_empty() {
            return Err(missing_error(O, &missing, self.uid));
        }
        let state = |tx: &Self, id: i64| str_of(&tx.get(O, id, "state")).to_string();
        let v17 = self.s.version >= 17;
        match method {
            "action_confirm" => {
                if ids
                    .iter()
                    .any(|i| !["draft", "sent"].contains(&state(self, *i).as_str()))
                {
                    let names: Vec<String> = ids.iter().map(|i| self.display_name(O, *i)).collect();
                    return Err(user_err(format!(
                        "The following orders are not in a state requiring confirmation: {}",
                        names.join(", ")
                    )));
                }
                for &id in ids {
                    self.confirm(id);
                }
                Ok(Some(json!(true)))
            }
            "action_cancel" => {
                let locked = ids.iter().any(|i| {
                    if v17 {
                        truthy(&self.get(O, *i, "locked"))
                    } else {
                        state(self, *i) == "done"
                    }
                });
                if locked {
                    return Err(user_err(
                        "You cannot cancel a locked order. Please unlock it first.",
                    ));
                }
                for &id in ids {
                    self.touch(O, id);
                    self.set(O, id, "state", json!("cancel"));
                }
                Ok(Some(json!(true)))
            }
            "action_draft" => {
                for &id in ids {
                    if ["cancel", "sent"].contains(&state(self, id).as_str()) {
                        self.touch(O, id);
                        self.set(O, id, "state", json!("draft"));
                    }
                }
                Ok(Some(json!(true)))
            }
            "action_lock" | "action_done" => {
                for &id in ids {
                    self.touch(O, id);
                    if v17 {
                        self.set(O, id, "locked", json!(true));
                    } else {
                        self.set(O, id, "state", json!("done"));
                    }
                }
                // 17+: `action_lock` returns None [§5].
                Ok(if v17 { None } else { Some(json!(true)) })
            }
            "action_unlock" => {
                for &id in ids {
                    self.touch(O, id);
                    if v17 {
                        self.set(O, id, "locked", json!(false));
                    } else {
                        self.set(O, id, "state", json!("sale"));
                    }
                }
                Ok(None)
            }
            _ => Err(fault(
                Exc::Attribute,
                format!("The method '{}.{method}' does not exist", m.name),
            )),
        }
    }

    /// `action_confirm` on one order: state `sale`, `date_order` = now.
    pub(super) fn confirm(&mut self, id: i64) {
        const O: &str = "sale.order";
        self.touch(O, id);
        self.set(O, id, "state", json!("sale"));
        self.set(O, id, "date_order", json!(fmt_dt(self.now.naive_utc())));
    }
}
