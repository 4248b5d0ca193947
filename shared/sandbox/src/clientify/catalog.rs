//! Writes of products, orders and budgets: flat records without sub-resources.

use serde_json::{json, Value};

use super::drf::{char_value, decimal_value, display_value, field_err, list_type_err, py_type};
use super::records::blank;
use super::{Data, Kind, Obj};
use crate::kit::clock::{fmt_micros, parse_iso};
use crate::kit::http::s;

/// Products and orders: flat records (no sub-resources) [C: C7 for products; orders [I]].
/// Product: `sku`, `name` (required on create), `description`, `price` (decimal). Order:
/// `order_id` (required on create), `ecommerce`, `status`, `currency`, `order_date` (ISO
/// datetime), `items` `[{name, sku, price, quantity}]` (replaced as a whole).
pub(super) fn write_catalog(
    kind: Kind,
    existing: Option<&Obj>,
    body: &Obj,
    seed: bool,
) -> Result<Obj, Obj> {
    let creating = existing.is_none();
    let mut rec = existing.cloned().unwrap_or_else(|| blank(kind));
    let mut errs = Obj::new();
    let (strs, required): (&[&str], &str) = match kind {
        Kind::Product => (&["sku", "name", "description", "owner"], "name"),
        _ => (&["order_id", "ecommerce", "status", "currency"], "order_id"),
    };
    for f in strs {
        if let Some(v) = body.get(*f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.to_string(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    if !seed {
        if creating && !body.contains_key(required) {
            field_err(&mut errs, required, "This field is required.");
        } else if body.contains_key(required)
            && s(rec.get(required)).is_empty()
            && !errs.contains_key(required)
        {
            field_err(&mut errs, required, "This field may not be blank.");
        }
    }
    if kind == Kind::Product {
        if let Some(v) = body.get("taxes") {
            match taxes_value(v) {
                Ok(t) => {
                    rec.insert("taxes".into(), t);
                }
                Err(m) => field_err(&mut errs, "taxes", m),
            }
        }
        if let Some(v) = body.get("price") {
            match decimal_value(v) {
                Ok(p) => {
                    rec.insert("price".into(), json!(p));
                }
                Err(m) => field_err(&mut errs, "price", m),
            }
        }
    } else {
        if let Some(v) = body.get("order_date") {
            match v {
                Value::Null => {
                    rec.insert("order_date".into(), Value::Null);
                }
                _ => match v.as_str().and_then(parse_iso) {
                    Some(t) => {
                        rec.insert("order_date".into(), json!(fmt_micros(t)));
                    }
                    None => field_err(
                        &mut errs,
                        "order_date",
                        "Datetime has wrong format. Use one of these formats instead: YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
                    ),
                },
            }
        }
        if let Some(v) = body.get("items") {
            match v {
                Value::Array(items) => {
                    let mut out = Vec::new();
                    let mut item_errs = Vec::new();
                    let mut bad = false;
                    for it in items {
                        let mut e = Obj::new();
                        let Some(o) = it.as_object() else {
                            bad = true;
                            item_errs.push(json!({"non_field_errors": [format!(
                                "Invalid data. Expected a dictionary, but got {}.", py_type(it))]}));
                            continue;
                        };
                        let mut item = Obj::new();
                        for k in ["name", "sku"] {
                            match o.get(k).map(char_value).unwrap_or(Ok(String::new())) {
                                Ok(x) => {
                                    item.insert(k.into(), json!(x));
                                }
                                Err(m) => field_err(&mut e, k, m),
                            }
                        }
                        for k in ["price", "quantity"] {
                            match o.get(k).map(decimal_value) {
                                None => field_err(&mut e, k, "This field is required."),
                                Some(Ok(x)) => {
                                    item.insert(k.into(), json!(x));
                                }
                                Some(Err(m)) => field_err(&mut e, k, m),
                            }
                        }
                        bad |= !e.is_empty();
                        item_errs.push(Value::Object(e));
                        out.push(Value::Object(item));
                    }
                    if bad {
                        errs.insert("items".into(), Value::Array(item_errs));
                    } else {
                        rec.insert("items".into(), Value::Array(out));
                    }
                }
                other => field_err(&mut errs, "items", list_type_err(other)),
            }
        }
    }
    if errs.is_empty() {
        Ok(rec)
    } else {
        Err(errs)
    }
}

/// `taxes: [{name, percentage}]` (product tax fields are unknown, §4; modelled [I]).
fn taxes_value(v: &Value) -> Result<Value, String> {
    let Value::Array(a) = v else {
        return Err(list_type_err(v));
    };
    let mut out = Vec::new();
    for t in a {
        let p = t
            .get("percentage")
            .ok_or("Each tax needs a percentage.")
            .and_then(|p| decimal_value(p).map_err(|_| "A valid number is required."))?;
        let name = t
            .get("name")
            .map(|n| s(Some(n)).to_string())
            .unwrap_or_default();
        out.push(json!({"name": name, "percentage": p}));
    }
    Ok(Value::Array(out))
}

/// ALG-8 budgets (modelled, see [`Kind::Budget`]): partial writes; `contact`/`company` must
/// exist and are served nested; `lines` replaced as a whole, `product` must exist.
pub(super) fn write_budget(
    data: &mut Data,
    existing: Option<&Obj>,
    body: &Obj,
) -> Result<Obj, Obj> {
    let mut rec = existing.cloned().unwrap_or_else(|| blank(Kind::Budget));
    let mut errs = Obj::new();
    for f in ["code", "observations"] {
        if let Some(v) = body.get(f) {
            match char_value(v) {
                Ok(x) => {
                    rec.insert(f.into(), json!(x));
                }
                Err(m) => field_err(&mut errs, f, m),
            }
        }
    }
    for f in ["date", "due_date"] {
        match body.get(f) {
            None => {}
            Some(Value::Null) => {
                rec.insert(f.into(), Value::Null);
            }
            Some(Value::String(x))
                if chrono::NaiveDate::parse_from_str(x, "%Y-%m-%d").is_ok() || x.is_empty() =>
            {
                let v = if x.is_empty() { Value::Null } else { json!(x) };
                rec.insert(f.into(), v);
            }
            Some(_) => field_err(
                &mut errs,
                f,
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
            ),
        }
    }
    if let Some(v) = body.get("total") {
        match decimal_value(v) {
            Ok(x) => {
                rec.insert("total".into(), json!(x));
            }
            Err(m) => field_err(&mut errs, "total", m),
        }
    }
    for (f, kind) in [("contact", Kind::Contact), ("company", Kind::Company)] {
        match body.get(f) {
            None => {}
            Some(Value::Null) => {
                rec.insert(f.into(), Value::Null);
            }
            Some(v) => {
                let id = match v {
                    Value::Object(o) => o.get("id").and_then(Value::as_u64),
                    Value::String(x) => x.parse().ok(),
                    other => other.as_u64(),
                };
                match id.and_then(|i| data.table(kind).rows.get(&i)) {
                    Some(o) => {
                        let name = if kind == Kind::Contact {
                            format!("{} {}", s(o.get("first_name")), s(o.get("last_name")))
                                .trim()
                                .to_string()
                        } else {
                            s(o.get("name")).to_string()
                        };
                        rec.insert(
                            f.into(),
                            json!({"id": id, "name": name,
                                "taxpayer_identification_number": s(o.get("taxpayer_identification_number"))}),
                        );
                    }
                    None => field_err(
                        &mut errs,
                        f,
                        format!(
                            "Invalid pk \"{}\" - object does not exist.",
                            display_value(Some(v))
                        ),
                    ),
                }
            }
        }
    }
    if let Some(v) = body.get("lines") {
        match v {
            Value::Array(lines) => {
                let mut out = Vec::new();
                let mut bad = false;
                let mut line_errs = Vec::new();
                for l in lines {
                    let mut e = Obj::new();
                    let pid = l.get("product").and_then(|p| match p {
                        Value::String(x) => x.parse().ok(),
                        other => other.as_u64(),
                    });
                    if pid.is_some_and(|p| !data.table(Kind::Product).rows.contains_key(&p)) {
                        field_err(&mut e, "product", "Invalid pk - object does not exist.");
                    }
                    let mut line = Obj::new();
                    line.insert("product".into(), json!(pid));
                    for k in ["sku", "name"] {
                        line.insert(k.into(), json!(l.get(k).map(|x| s(Some(x))).unwrap_or("")));
                    }
                    for k in ["quantity", "price", "discount"] {
                        match l.get(k).map(decimal_value) {
                            None if k == "discount" => {
                                line.insert(k.into(), json!("0.00"));
                            }
                            None => field_err(&mut e, k, "This field is required."),
                            Some(Ok(x)) => {
                                line.insert(k.into(), json!(x));
                            }
                            Some(Err(m)) => field_err(&mut e, k, m),
                        }
                    }
                    match l.get("taxes").map(taxes_value) {
                        None => {
                            line.insert("taxes".into(), json!([]));
                        }
                        Some(Ok(t)) => {
                            line.insert("taxes".into(), t);
                        }
                        Some(Err(m)) => field_err(&mut e, "taxes", m),
                    }
                    bad |= !e.is_empty();
                    line_errs.push(Value::Object(e));
                    out.push(Value::Object(line));
                }
                if bad {
                    errs.insert("lines".into(), Value::Array(line_errs));
                } else {
                    rec.insert("lines".into(), Value::Array(out));
                }
            }
            other => field_err(&mut errs, "lines", list_type_err(other)),
        }
    }
    if errs.is_empty() {
        Ok(rec)
    } else {
        Err(errs)
    }
}
