//! Spain identification types as Alegra documents them [D: A12] (Verifactu, from 15 July;
//! `NIE` and `EXT` removed): each type's pattern and the address fields it requires. A
//! write with another type, a number that does not fit its type's pattern, or a type
//! without what it requires is refused with a 400 in Alegra's error shape; the wording is
//! not documented [I].

use serde_json::Value;

use super::Obj;
use crate::kit::http::s;

/// The documented types.
pub(super) const TYPES: [&str; 8] = ["DNI", "NIF", "NIF-IVA", "PP", "DPO", "CR", "ODP", "NC"];

fn digits(x: &str) -> bool {
    x.bytes().all(|b| b.is_ascii_digit())
}

fn alnum(x: &str) -> bool {
    x.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Whether `number` fits the pattern of `typ` [D: A12].
fn fits(typ: &str, number: &str) -> bool {
    let n = number.as_bytes();
    match typ {
        // ^\d{8}[a-zA-Z0-9]$
        "DNI" => n.len() == 9 && digits(&number[..8]) && n[8].is_ascii_alphanumeric(),
        // ^[a-zA-Z]\d{7}[a-zA-Z0-9]$
        "NIF" => {
            n.len() == 9
                && n[0].is_ascii_alphabetic()
                && digits(&number[1..8])
                && n[8].is_ascii_alphanumeric()
        }
        // ^[A-Z]{2}[0-9a-zA-Z]{1,18}$
        "NIF-IVA" => {
            (3..=20).contains(&n.len())
                && n[..2].iter().all(u8::is_ascii_uppercase)
                && alnum(&number[2..])
        }
        // ^[a-zA-Z0-9]{1,20}$
        "PP" | "DPO" | "CR" | "ODP" => (1..=20).contains(&n.len()) && alnum(number),
        "NC" => (1..=50).contains(&number.chars().count()),
        _ => false,
    }
}

/// The type of a number given without one: the pattern it fits, DNI before NIF [I].
pub(crate) fn type_for(number: &str) -> Option<&'static str> {
    ["DNI", "NIF"].into_iter().find(|t| fits(t, number))
}

/// What `typ` requires: (address key, its Spanish name).
fn required(typ: &str) -> &'static [(&'static str, &'static str)] {
    match typ {
        "NIF" => &[("city", "la ciudad"), ("department", "la provincia")],
        "NIF-IVA" | "PP" | "DPO" | "CR" | "ODP" => {
            &[("country", "el país"), ("address", "la dirección")]
        }
        _ => &[],
    }
}

/// Checks a contact's identification after a write: its type, its pattern and the address
/// fields the type requires.
pub(super) fn check(rec: &Obj) -> Result<(), String> {
    let Some(Value::Object(o)) = rec.get("identificationObject") else {
        return Ok(());
    };
    let number = s(o.get("number"));
    let typ = s(o.get("type"));
    if number.is_empty() {
        return Ok(());
    }
    if !TYPES.contains(&typ) {
        return Err(format!(
            "El tipo de identificación '{typ}' no es válido. Tipos válidos: {}",
            TYPES.join(", ")
        ));
    }
    if !fits(typ, number) {
        return Err(format!(
            "El número de identificación no tiene el formato del tipo {typ}"
        ));
    }
    let addr = rec.get("address").and_then(Value::as_object);
    let missing: Vec<&str> = required(typ)
        .iter()
        .filter(|(k, _)| s(addr.and_then(|a| a.get(*k))).trim().is_empty())
        .map(|(_, name)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "Para el tipo de identificación {typ} es obligatorio indicar {}",
            missing.join(" y ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contact(v: Value) -> Obj {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn alg2_documented_types_patterns_and_requirements() {
        assert_eq!(type_for("12345678Z"), Some("DNI"));
        assert_eq!(type_for("X1234567L"), Some("NIF"));
        assert_eq!(type_for("B27123454"), Some("NIF"));
        assert_eq!(type_for("FR123"), None);
        let nie = |typ: &str, addr: Value| {
            contact(
                json!({"identificationObject": {"type": typ, "number": "X1234567L"}, "address": addr}),
            )
        };
        let e = check(&nie("NIE", json!({}))).unwrap_err();
        assert!(e.contains("'NIE' no es válido"), "{e}");
        let e = check(&nie("NIF", json!({"city": "Lugo", "department": ""}))).unwrap_err();
        assert!(
            e.contains("la provincia") && !e.contains("la ciudad"),
            "{e}"
        );
        assert!(check(&nie("NIF", json!({"city": "Lugo", "department": "Lugo"}))).is_ok());
        let e = check(&nie("DNI", json!({}))).unwrap_err();
        assert!(e.contains("formato del tipo DNI"), "{e}");
        let vat = contact(
            json!({"identificationObject": {"type": "NIF-IVA", "number": "FR12345678901"},
            "address": {"country": "Francia", "address": "1 rue X"}}),
        );
        assert!(check(&vat).is_ok());
        let dni = contact(json!({"identificationObject": {"type": "DNI", "number": "12345678Z"}}));
        assert!(check(&dni).is_ok(), "a DNI requires no address");
    }
}
