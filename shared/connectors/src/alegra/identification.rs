//! Spain identification types as Alegra documents them today (Verifactu, from 15 July;
//! `clientify-alegra.md` §2, source A12): which type each kind of Spanish tax id is written
//! as, what each type requires, and which types Puente cannot match. The one place to
//! change when Alegra's list or the write key turns out otherwise.
//!
//! | type | pattern | requires |
//! |---|---|---|
//! | `DNI` | 8 digits + letter | — |
//! | `NIF` | letter + 7 digits + check (company CIFs and NIEs) | city and province |
//! | `NIF-IVA` | 2 letters + up to 18 (EU VAT) | country and address |
//! | `PP`, `DPO`, `CR`, `ODP` | up to 20 letters and digits | country and address |
//! | `NC` | not registered, up to 50 characters | — |
//!
//! `NIE`, `CIF` and `EXT` are no longer types.

use puente_core::{Fields, TaxId, TaxIdKind};
use serde_json::{json, Value};

/// The key Puente writes the identification under. The page does not say whether Spain
/// wants `identification` or `identificationObject` on write (both are read).
pub const WRITE_KEY: &str = "identification";

/// The Alegra type of a Spanish tax id: a person's DNI is `DNI`; an NIE (X/Y/Z + 7 digits +
/// letter) and a company's CIF (letter + 7 digits + check) fit `NIF`'s pattern.
pub fn type_of(kind: TaxIdKind) -> &'static str {
    match kind {
        TaxIdKind::Dni => "DNI",
        TaxIdKind::Nie | TaxIdKind::Cif => "NIF",
    }
}

/// What a type requires, as (canonical field, how Alegra calls it).
pub fn required(alegra_type: &str) -> &'static [(&'static str, &'static str)] {
    match alegra_type {
        "NIF" => &[
            ("city", "city"),
            ("region", "province (address.department)"),
        ],
        "NIF-IVA" | "PP" | "DPO" | "CR" | "ODP" => &[("country", "country"), ("street", "address")],
        _ => &[],
    }
}

/// The documented types Puente cannot match (none is a Spanish DNI, NIE or CIF), with what
/// each is, for the reason a skipped contact is logged with.
const NOT_MATCHABLE: [(&str, &str); 6] = [
    ("NIF-IVA", "an EU VAT number"),
    ("PP", "a passport"),
    ("DPO", "an official document of the country of residence"),
    ("CR", "a certificate of residence"),
    ("ODP", "another supporting document"),
    ("NC", "not registered"),
];

/// The identification body of a tax id (`{"type", "number"}`), or the text as it is when it
/// does not parse (the engine skips such records before they are written).
pub fn body(tax: &str) -> Value {
    match TaxId::parse(tax) {
        Ok(t) => json!({"type": type_of(t.kind()), "number": t.as_str()}),
        Err(_) => json!(tax),
    }
}

/// Checks that `fields` hold what the type of `tax` requires; the error names the type and
/// the missing fields, for the record's failure.
pub fn check_required(tax: &str, fields: &Fields) -> Result<(), String> {
    let Ok(t) = TaxId::parse(tax) else {
        return Ok(());
    };
    let typ = type_of(t.kind());
    let missing: Vec<&str> = required(typ)
        .iter()
        .filter(|(canonical, _)| fields.get(canonical).trim().is_empty())
        .map(|(_, label)| *label)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(format!(
        "Alegra's identification type {typ} requires {}; the record has no {}",
        required(typ)
            .iter()
            .map(|(_, l)| *l)
            .collect::<Vec<_>>()
            .join(" and "),
        missing.join(" and ")
    ))
}

/// The identification of a contact as read: (number, type), from `identification` (a string
/// or an object) or `identificationObject`; the type empty when none is given.
pub fn read(v: &Value) -> (String, String) {
    let text = |x: Option<&Value>| match x {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let object = |o: &serde_json::Map<String, Value>| (text(o.get("number")), text(o.get("type")));
    let (mut number, mut typ) = match v.get("identification") {
        Some(Value::Object(o)) => object(o),
        other => (text(other), String::new()),
    };
    if let Some(Value::Object(o)) = v.get("identificationObject") {
        let (n, t) = object(o);
        if number.is_empty() {
            number = n;
        }
        if typ.is_empty() {
            typ = t;
        }
    }
    (number, typ)
}

/// Why a contact of this type cannot be matched (`None` for DNI, NIF or no type).
pub fn unmatchable(alegra_type: &str) -> Option<String> {
    let t = alegra_type.trim().to_uppercase();
    NOT_MATCHABLE
        .iter()
        .find(|(n, _)| *n == t)
        .map(|(n, what)| {
            format!(
            "identified in Alegra by type {n} ({what}), not by a Spanish DNI, NIE or CIF, so it \
             cannot be matched; not synced"
        )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg2_each_spanish_tax_id_kind_has_its_documented_type() {
        assert_eq!(
            body("12345678Z"),
            json!({"type": "DNI", "number": "12345678Z"})
        );
        assert_eq!(
            body("X1234567L"),
            json!({"type": "NIF", "number": "X1234567L"})
        );
        assert_eq!(
            body("B27123454"),
            json!({"type": "NIF", "number": "B27123454"})
        );
        assert_eq!(body("not an id"), json!("not an id"));
    }

    #[test]
    fn alg2_a_type_names_the_fields_it_requires() {
        let f = Fields::new().with("city", "Lugo");
        let e = check_required("B27123454", &f).unwrap_err();
        assert!(e.contains("type NIF"), "{e}");
        assert!(e.contains("no province"), "{e}");
        assert!(!e.contains("no city"), "{e}");
        assert!(
            check_required("12345678Z", &Fields::new()).is_ok(),
            "DNI needs nothing"
        );
        let f = f.with("region", "Lugo");
        assert!(check_required("X1234567L", &f).is_ok());
    }

    #[test]
    fn alg2_identification_is_read_under_either_key() {
        let plain = json!({"identification": "12345678Z"});
        assert_eq!(read(&plain), ("12345678Z".into(), String::new()));
        let obj = json!({"identification": {"type": "DNI", "number": "12345678Z"}});
        assert_eq!(read(&obj), ("12345678Z".into(), "DNI".into()));
        let both = json!({"identification": "FR123", "identificationObject": {"type": "NIF-IVA", "number": "FR123"}});
        assert_eq!(read(&both), ("FR123".into(), "NIF-IVA".into()));
        let only_obj =
            json!({"identification": "", "identificationObject": {"type": "PP", "number": "AB1"}});
        assert_eq!(read(&only_obj), ("AB1".into(), "PP".into()));
        assert!(unmatchable("NIF-IVA").unwrap().contains("EU VAT"));
        assert!(unmatchable("nif-iva").is_some());
        assert_eq!(unmatchable("DNI"), None);
        assert_eq!(unmatchable("NIF"), None);
        assert_eq!(unmatchable(""), None);
    }
}
