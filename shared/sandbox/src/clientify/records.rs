//! Writes of contacts and companies: DRF validation, sub-resource lists (emails, phones,
//! addresses) with their own ids, tags and custom fields.

use serde_json::{json, Value};

use super::catalog::{write_budget, write_catalog};
use super::drf::{char_value, display, display_value, field_err, list_type_err, py_type};
use super::{Data, Kind, Obj, OWNER, STATUSES};
use crate::kit::http::{s, valid_email};

#[derive(Clone, Copy)]
enum Sub {
    Email,
    Phone,
    Address,
}

fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Writes a replacement list of emails / phones / addresses. Items keep
/// their `id` when it names an existing item (seeds keep any id), others
/// get a fresh one [C: §3 "sub-resources with their own ids"].
fn write_sublist(
    sub: Sub,
    v: &Value,
    old: &[Value],
    next_sub: &mut u64,
    seed: bool,
) -> Result<Vec<Value>, Value> {
    let Value::Array(items) = v else {
        return Err(json!([list_type_err(v)]));
    };
    let mut out = Vec::new();
    let mut item_errs = Vec::new();
    let mut failed = false;
    for it in items {
        let Some(o) = it.as_object() else {
            failed = true;
            item_errs.push(json!({"non_field_errors": [format!(
                "Invalid data. Expected a dictionary, but got {}.", py_type(it))]}));
            continue;
        };
        let mut e = Obj::new();
        let mut item = Obj::new();
        let given = o.get("id").and_then(Value::as_u64);
        let id = match given {
            Some(i) if seed => {
                *next_sub = (*next_sub).max(i + 1);
                i
            }
            Some(i)
                if old
                    .iter()
                    .any(|x| x.get("id").and_then(Value::as_u64) == Some(i)) =>
            {
                i
            }
            _ => {
                let i = *next_sub;
                *next_sub += 1;
                i
            }
        };
        item.insert("id".into(), json!(id));
        // Phone types 1..6, address types 1..5 [C: C4]; email type meaning unknown.
        let max_type = match sub {
            Sub::Email => i64::MAX,
            Sub::Phone => 6,
            Sub::Address => 5,
        };
        match o.get("type") {
            None | Some(Value::Null) => {
                item.insert("type".into(), json!(1));
            }
            Some(t) => match int_value(t) {
                Some(n) if (1..=max_type).contains(&n) => {
                    item.insert("type".into(), json!(n));
                }
                Some(_) if max_type != i64::MAX => field_err(
                    &mut e,
                    "type",
                    format!("\"{}\" is not a valid choice.", display(t)),
                ),
                _ => field_err(&mut e, "type", "A valid integer is required."),
            },
        }
        let required = match sub {
            Sub::Email => Some("email"),
            Sub::Phone => Some("phone"),
            Sub::Address => None,
        };
        if let Some(key) = required {
            match o.get(key).map(char_value) {
                None => field_err(&mut e, key, "This field is required."),
                Some(Err(m)) => field_err(&mut e, key, m),
                Some(Ok(x)) if x.is_empty() => {
                    field_err(&mut e, key, "This field may not be blank.")
                }
                Some(Ok(x)) if key == "email" && !valid_email(&x) => {
                    field_err(&mut e, key, "Enter a valid email address.")
                }
                Some(Ok(x)) => {
                    item.insert(key.into(), json!(x));
                }
            }
        } else {
            for key in ["street", "city", "state", "country", "postal_code"] {
                match o.get(key).map(char_value).unwrap_or(Ok(String::new())) {
                    Ok(x) => {
                        item.insert(key.into(), json!(x));
                    }
                    Err(m) => field_err(&mut e, key, m),
                }
            }
        }
        failed |= !e.is_empty();
        item_errs.push(Value::Object(e));
        out.push(Value::Object(item));
    }
    if failed {
        Err(Value::Array(item_errs))
    } else {
        Ok(out)
    }
}

/// Flat `email` / `phone` on a write: becomes item 0 (type 1) unless the
/// list already has it [C: C1, C5, C8, C11].
fn prepend_unique(rec: &mut Obj, list: &str, key: &str, value: String, next_sub: &mut u64) {
    let arr = rec
        .entry(list.to_string())
        .or_insert_with(|| json!([]))
        .as_array_mut();
    if let Some(arr) = arr {
        if !arr.iter().any(|x| s(x.get(key)) == value) {
            arr.insert(0, json!({"id": *next_sub, "type": 1, key: value}));
            *next_sub += 1;
        }
    }
}

pub(super) fn blank(kind: Kind) -> Obj {
    let v = match kind {
        Kind::Contact => json!({
            "first_name": "", "last_name": "", "status": "cold-lead", "contact_type": "",
            "emails": [], "phones": [], "addresses": [], "tags": [], "custom_fields": [],
            "taxpayer_identification_number": "", "company_name": "", "owner": OWNER,
        }),
        Kind::Company => json!({
            "name": "", "business_name": "", "taxpayer_identification_number": "",
            "emails": [], "phones": [], "addresses": [], "tags": [], "custom_fields": [],
        }),
        Kind::Product => json!({
            "sku": "", "name": "", "description": "", "price": "0.00", "owner": OWNER,
            "taxes": [],
        }),
        Kind::Budget => json!({
            "code": "", "contact": null, "company": null, "date": null, "due_date": null,
            "observations": "", "total": "0.00", "lines": [],
        }),
        Kind::Order => json!({
            "order_id": "", "ecommerce": "", "status": "", "order_date": null,
            "currency": "", "items": [], "contact": null,
        }),
    };
    match v {
        Value::Object(o) => o,
        _ => Obj::new(),
    }
}

/// Validates `body` and applies it over `existing` (PUT, partial) or a blank
/// record (POST). Read-only (`id`, `url`, `created`, `modified`) and unknown
/// keys are ignored, as DRF serializers do. Returns DRF field errors.
pub(super) fn write_record(
    data: &mut Data,
    kind: Kind,
    existing: Option<&Obj>,
    body: &Obj,
    seed: bool,
) -> Result<Obj, Obj> {
    let creating = existing.is_none();
    if matches!(kind, Kind::Product | Kind::Order) {
        return write_catalog(kind, existing, body, seed);
    }
    if kind == Kind::Budget {
        return write_budget(data, existing, body);
    }
    let mut rec = existing.cloned().unwrap_or_else(|| blank(kind));
    let mut errs = Obj::new();

    let str_fields: &[&str] = match kind {
        Kind::Contact => &[
            "first_name",
            "last_name",
            "contact_type",
            "taxpayer_identification_number",
            "company_name",
            "owner",
        ],
        _ => &["name", "business_name", "taxpayer_identification_number"],
    };
    for f in str_fields {
        if let Some(v) = body.get(*f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.to_string(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    if kind == Kind::Contact {
        if let Some(v) = body.get("status") {
            match v.as_str() {
                Some(st) if STATUSES.contains(&st) => {
                    rec.insert("status".into(), json!(st));
                }
                _ => field_err(
                    &mut errs,
                    "status",
                    format!("\"{}\" is not a valid choice.", display(v)),
                ),
            }
        }
    } else if !seed {
        let name_blank = s(rec.get("name")).is_empty();
        if creating && !body.contains_key("name") {
            field_err(&mut errs, "name", "This field is required.");
        } else if body.contains_key("name") && name_blank && !errs.contains_key("name") {
            field_err(&mut errs, "name", "This field may not be blank.");
        }
    }

    for (key, sub) in [
        ("emails", Sub::Email),
        ("phones", Sub::Phone),
        ("addresses", Sub::Address),
    ] {
        if let Some(v) = body.get(key) {
            let old = rec
                .get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            match write_sublist(sub, v, &old, &mut data.next_sub, seed) {
                Ok(list) => {
                    rec.insert(key.into(), Value::Array(list));
                }
                Err(e) => {
                    errs.insert(key.into(), e);
                }
            }
        }
    }
    for (flat, list) in [("email", "emails"), ("phone", "phones")] {
        if let Some(v) = body.get(flat) {
            match char_value(v) {
                Ok(x) if x.is_empty() => {}
                Ok(x) if flat == "email" && !valid_email(&x) => {
                    field_err(&mut errs, flat, "Enter a valid email address.")
                }
                Ok(x) => prepend_unique(&mut rec, list, flat, x, &mut data.next_sub),
                Err(m) => field_err(&mut errs, flat, m),
            }
        }
    }

    if let Some(v) = body.get("tags") {
        match v {
            Value::Array(items) => {
                let mut tags: Vec<String> = Vec::new();
                for it in items {
                    match char_value(it) {
                        Ok(t) if t.is_empty() => {
                            field_err(&mut errs, "tags", "This field may not be blank.")
                        }
                        Ok(t) => {
                            if !tags.contains(&t) {
                                tags.push(t);
                            }
                        }
                        Err(m) => field_err(&mut errs, "tags", m),
                    }
                }
                rec.insert("tags".into(), json!(tags));
            }
            other => field_err(&mut errs, "tags", list_type_err(other)),
        }
    }

    // Custom fields by name, merged: entries not mentioned are kept; an
    // empty value removes the entry (a client writes "--" because empty
    // values are rejected or dropped [C: C5 b17b052]) [I].
    if let Some(v) = body.get("custom_fields") {
        match v {
            Value::Array(items) => {
                let mut cur: Vec<(String, String)> = rec
                    .get("custom_fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|x| (s(x.get("field")).to_string(), display_value(x.get("value"))))
                    .collect();
                let mut bad = false;
                for it in items {
                    let Some(o) = it.as_object() else {
                        bad = true;
                        field_err(
                            &mut errs,
                            "custom_fields",
                            format!(
                                "Invalid data. Expected a dictionary, but got {}.",
                                py_type(it)
                            ),
                        );
                        continue;
                    };
                    let name = s(o.get("field")).trim().to_string();
                    if !data.defined(&name, kind) {
                        bad = true;
                        field_err(
                            &mut errs,
                            "custom_fields",
                            format!("Custom field \"{name}\" does not exist."),
                        );
                        continue;
                    }
                    let value = display_value(o.get("value"));
                    cur.retain(|(n, _)| *n != name);
                    if !value.trim().is_empty() {
                        cur.push((name, value));
                    }
                }
                if !bad {
                    let list: Vec<Value> = cur
                        .into_iter()
                        .map(|(f, v)| json!({"field": f, "value": v}))
                        .collect();
                    rec.insert("custom_fields".into(), Value::Array(list));
                }
            }
            other => field_err(&mut errs, "custom_fields", list_type_err(other)),
        }
    }

    if kind == Kind::Contact && creating && !seed && !errs.contains_key("first_name") {
        let has_email = rec
            .get("emails")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        if s(rec.get("first_name")).is_empty() && s(rec.get("last_name")).is_empty() && !has_email {
            field_err(&mut errs, "first_name", "This field is required.");
        }
    }

    if !errs.is_empty() {
        return Err(errs);
    }
    let tags: Vec<String> = rec
        .get("tags")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    for t in tags {
        data.tag_id(kind, &t);
    }
    Ok(rec)
}
