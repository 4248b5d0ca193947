//! Checks of a write document's properties, each failure an annotated error at its path
//! [D "Annotated errors"]: required properties, types, lengths, references to lookups and
//! other resources (E06000 "… does not exist", E04500 "No identifiers present").

use serde_json::Value;

use super::api::{Errs, Seg};
use super::facts::*;
use super::{lookups, Books, Obj};

fn path(prefix: &[Seg], key: &str) -> Vec<Seg> {
    let mut p = prefix.to_vec();
    p.push(Seg::Key(key.into()));
    p
}

const HINT: &str = "Please check your request data.";

/// A text property: required or not, at most `max` characters.
pub(super) fn text(
    errs: &mut Errs,
    at: &[Seg],
    o: &Obj,
    key: &str,
    required: bool,
    max: usize,
) -> Option<String> {
    match o.get(key) {
        None if required => {
            errs.add(
                &path(at, key),
                E_REQUIRED,
                &format!("Property {key} is required."),
                None,
                HINT,
            );
            None
        }
        None => None,
        Some(Value::String(s)) if s.trim().is_empty() && required => {
            errs.add(
                &path(at, key),
                E_REQUIRED,
                &format!("Property {key} must have a value."),
                Some(&o[key]),
                HINT,
            );
            None
        }
        Some(Value::String(s)) if s.chars().count() > max => {
            errs.add(
                &path(at, key),
                E_LENGTH,
                &format!("{key} cannot be longer than {max} characters."),
                Some(&o[key]),
                HINT,
            );
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            errs.add(
                &path(at, key),
                E_TYPE,
                &format!("{key} must be a string."),
                Some(v),
                HINT,
            );
            None
        }
    }
}

/// A number property, with at most two decimals when `money`.
pub(super) fn number(
    errs: &mut Errs,
    at: &[Seg],
    o: &Obj,
    key: &str,
    required: bool,
    money: bool,
) -> Option<f64> {
    match o.get(key) {
        None if required => {
            errs.add(
                &path(at, key),
                E_REQUIRED,
                &format!("Property {key} is required."),
                None,
                HINT,
            );
            None
        }
        None => None,
        Some(v) => match v.as_f64() {
            None => {
                errs.add(
                    &path(at, key),
                    E_TYPE,
                    &format!("{key} must be a number."),
                    Some(v),
                    HINT,
                );
                None
            }
            Some(x) if money && ((x * 100.0).round() - x * 100.0).abs() > 1e-6 => {
                errs.add(
                    &path(at, key),
                    E_SCALE,
                    &format!("{key} scale cannot be greater then two decimal places."),
                    Some(v),
                    "Please check the format of your data.",
                );
                None
            }
            Some(x) => Some(x),
        },
    }
}

pub(super) fn boolean(errs: &mut Errs, at: &[Seg], o: &Obj, key: &str) -> Option<bool> {
    match o.get(key) {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(v) => {
            errs.add(
                &path(at, key),
                E_TYPE,
                &format!("{key} must be a boolean."),
                Some(v),
                HINT,
            );
            None
        }
    }
}

/// A reference `{numberKey: n}` to the lookup at `lookup_path`; the number.
#[allow(clippy::too_many_arguments)]
pub(super) fn lookup_ref(
    errs: &mut Errs,
    books: &Books,
    at: &[Seg],
    o: &Obj,
    key: &str,
    number_key: &str,
    lookup_path: &str,
    required: bool,
) -> Option<u64> {
    let Some(v) = o.get(key) else {
        if required {
            errs.add(
                &path(at, key),
                E_REQUIRED,
                &format!("Property {key} is required."),
                None,
                HINT,
            );
        }
        return None;
    };
    let Some(n) = v.get(number_key) else {
        errs.add(
            &path(at, key),
            E_NO_IDENTIFIER,
            &format!("No identifiers present on {key}. Please include either a self link or a {number_key}."),
            None,
            &format!("Find a list of resources at https://restapi.e-conomic.com/{lookup_path}."),
        );
        return None;
    };
    if !lookups::exists(books, lookup_path, n) {
        errs.add(
            &path(at, key),
            E_DOES_NOT_EXIST,
            &format!("{key} does not exist."),
            Some(n),
            &format!("Find a list of resources at https://restapi.e-conomic.com/{lookup_path}."),
        );
        return None;
    }
    n.as_u64()
}

/// `currency`: an ISO code of `/currencies`.
pub(super) fn currency(errs: &mut Errs, books: &Books, o: &Obj, required: bool) -> Option<String> {
    let c = text(errs, &[], o, "currency", required, 3)?;
    if !lookups::exists(books, "currencies", &Value::String(c.clone())) {
        errs.add(
            &[Seg::Key("currency".into())],
            E_DOES_NOT_EXIST,
            "currency does not exist.",
            Some(&Value::String(c)),
            "Find a list of currencies at https://restapi.e-conomic.com/currencies.",
        );
        return None;
    }
    Some(c)
}

/// `customer: {customerNumber}` of an existing customer.
pub(super) fn customer_ref(errs: &mut Errs, books: &Books, o: &Obj) -> Option<u64> {
    let Some(c) = o.get("customer") else {
        errs.at(
            "customer",
            E_REQUIRED,
            "Property customer is required.",
            None,
        );
        return None;
    };
    let Some(n) = c.get("customerNumber") else {
        errs.at(
            "customer",
            E_NO_IDENTIFIER,
            "No identifiers present on customer. Please include either a self link or a customerNumber.",
            None,
        );
        return None;
    };
    match n.as_u64().filter(|n| books.customers.contains_key(n)) {
        Some(n) => Some(n),
        None => {
            errs.add(
                &[Seg::Key("customer".into())],
                E_DOES_NOT_EXIST,
                "customer does not exist.",
                Some(n),
                "Find a list of resources at https://restapi.e-conomic.com/customers.",
            );
            None
        }
    }
}
