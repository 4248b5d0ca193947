//! Alegra JSON ⇄ canonical records: contacts (persons and providers), items and estimates,
//! and the write bodies. Every Alegra field name Puente relies on is here.

use super::*;
use crate::time::parse_vendor_time;
use puente_core::country::{canonical_country, spanish_name};
use puente_core::{
    budget_lines, canonical_decimal, canonical_sku, canonical_tax_id, tax_rates, BudgetLine,
    Fields, Kind, Record, Relationship, Sku,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// One Alegra tax (`/taxes`): id and rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Tax {
    pub id: String,
    pub name: String,
    /// A canonical decimal (`21`).
    pub percentage: String,
}

/// The resource path of a kind.
pub(super) fn resource(kind: Kind) -> &'static str {
    match kind {
        Kind::Product => "items",
        Kind::Budget => "estimates",
        _ => "contacts",
    }
}

/// ALG-8: the Clientify code of the budget for Alegra estimate `id`.
pub fn budget_code(id: &str) -> String {
    format!("ALG-{id}")
}

/// A text that may come as a string or a number.
pub(super) fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// The item's price: the first price list entry (`[{price}]`), or a scalar.
pub(super) fn item_price(v: &Value) -> String {
    match v.get("price") {
        Some(Value::Array(a)) => a
            .first()
            .map(|p| canonical_decimal(&text_of(p.get("price"))))
            .unwrap_or_default(),
        other => canonical_decimal(&text_of(other)),
    }
}

/// The item's `reference`, a string or (some accounts) `{"reference": "..."}` [C: A5].
pub(super) fn item_reference(v: &Value) -> String {
    match v.get("reference") {
        Some(Value::Object(o)) => text_of(o.get("reference")),
        other => text_of(other),
    }
}

/// Tax rates of a `tax` list: inline percentages, else looked up by id in `taxes`.
pub(super) fn rates_of(v: &Value, taxes: &[Tax]) -> Vec<String> {
    v.get("tax")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| {
                    let p = text_of(t.get("percentage"));
                    if !p.is_empty() {
                        return Some(p);
                    }
                    let id = text_of(t.get("id"));
                    taxes
                        .iter()
                        .find(|x| x.id == id)
                        .map(|x| x.percentage.clone())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// ALG-7: an Alegra item as a canonical product.
pub fn item_record(v: &Value, taxes: &[Tax]) -> Record {
    let f = Fields::new()
        .with("sku", canonical_sku(&item_reference(v)))
        .with("name", s(v, "name"))
        .with("description", s(v, "description"))
        .with("price", item_price(v))
        .with("taxes", tax_rates(&rates_of(v, taxes)));
    Record {
        system: SYSTEM.into(),
        kind: Kind::Product,
        id: s(v, "id"),
        modified: None,
        fields: f,
        partner_ref: None,
        marked: true,
        created: None,
        extra: Value::Null,
    }
}

/// ALG-8: an Alegra estimate as a canonical budget, with its client and items as refs.
pub fn estimate_record(v: &Value, taxes: &[Tax]) -> Record {
    let id = s(v, "id");
    let client = v.get("client").cloned().unwrap_or(Value::Null);
    let mut products = BTreeMap::new();
    let lines: Vec<BudgetLine> = v
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| {
                    let sku = item_reference(i);
                    if let Ok(k) = Sku::parse(&sku) {
                        products.insert(k.key(), s(i, "id"));
                    }
                    BudgetLine {
                        sku,
                        name: s(i, "name"),
                        price: text_of(i.get("price")),
                        quantity: text_of(i.get("quantity")),
                        discount: text_of(i.get("discount")),
                        taxes: tax_rates(&rates_of(i, taxes)),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let f = Fields::new()
        .with("code", budget_code(&id))
        .with("customer", canonical_tax_id(&s(&client, "identification")))
        .with("date", s(v, "date"))
        .with("due_date", s(v, "dueDate"))
        .with("observations", s(v, "observations"))
        .with("total", canonical_decimal(&text_of(v.get("total"))))
        .with("lines", budget_lines(&lines));
    let client_id = s(&client, "id");
    let refs = json!({
        "customer": (!client_id.is_empty()).then(|| json!({"id": client_id, "kind": null})),
        "products": products,
    });
    Record {
        system: SYSTEM.into(),
        kind: Kind::Budget,
        id,
        modified: None,
        fields: f,
        partner_ref: None,
        marked: true,
        created: None,
        extra: json!({ "refs": refs }),
    }
}

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(super) fn join(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `type` list, whether the API sent an array (advanced mode) or a string (simple mode).
pub fn types_of(v: &Value) -> Vec<String> {
    match v.get("type") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(x)) if !x.is_empty() => vec![x.clone()],
        _ => Vec::new(),
    }
}

/// ALG-4, Alegra side: contact type → relationship (`client` → client, `lead` → lead,
/// anything else → other).
pub fn relationship_of(types: &[String]) -> Relationship {
    if types.iter().any(|t| t == "client") {
        Relationship::Client
    } else if types.iter().any(|t| t == "lead") {
        Relationship::Lead
    } else {
        Relationship::Other
    }
}

/// ALG-4 towards Alegra: replaces the client/lead part of `types`, keeping `provider`.
pub fn types_for(rel: Relationship, current: &[String]) -> Vec<String> {
    let mut out: Vec<String> = current
        .iter()
        .filter(|t| *t != "client" && *t != "lead")
        .cloned()
        .collect();
    match rel {
        Relationship::Client => out.insert(0, "client".into()),
        Relationship::Lead => out.insert(0, "lead".into()),
        Relationship::Other => {}
    }
    out
}

/// Whether an Alegra contact belongs to `kind`'s flow: providers are companies (ALG-6); every
/// other contact (client, lead or untyped) is a person contact.
pub fn is_kind(v: &Value, kind: Kind) -> bool {
    let types = types_of(v);
    let provider = types.iter().any(|t| t == "provider");
    match kind {
        Kind::Company => provider,
        Kind::Contact => !provider || types.iter().any(|t| t == "client" || t == "lead"),
        // Items and estimates have their own resources: no contact is one.
        Kind::Product | Kind::Order | Kind::Budget | Kind::Stock => false,
    }
}

/// Maps an Alegra contact to a canonical record of `kind`.
pub fn to_record(kind: Kind, v: &Value) -> Record {
    let mut f = Fields::new();
    let (ident, id_type) = super::identification::read(v);
    if let Some(why) = super::identification::unmatchable(&id_type) {
        f.set(puente_core::UNSUPPORTED, why);
    }
    f.set("tax_id", canonical_tax_id(&ident));
    let types = types_of(v);
    match kind {
        Kind::Contact => {
            match v.get("nameObject").filter(|n| n.is_object()) {
                Some(n) => {
                    f.set("first_name", join(&[s(n, "firstName"), s(n, "secondName")]));
                    f.set(
                        "last_name",
                        join(&[s(n, "lastName"), s(n, "secondLastName")]),
                    );
                }
                None => {
                    let name = s(v, "name");
                    let mut it = name.trim().splitn(2, ' ');
                    f.set("first_name", it.next().unwrap_or(""));
                    f.set("last_name", it.next().unwrap_or(""));
                }
            }
            f.set("status", relationship_of(&types).as_str());
            f.set("mobile", s(v, "mobile"));
        }
        Kind::Company => f.set("name", s(v, "name")),
        Kind::Product | Kind::Order | Kind::Budget | Kind::Stock => {}
    }
    f.set("email", s(v, "email"));
    f.set("phone", s(v, "phonePrimary"));
    if kind == Kind::Company && f.get("phone").is_empty() {
        f.set("phone", s(v, "mobile"));
    }
    if let Some(a) = v.get("address").filter(|a| a.is_object()) {
        f.set("street", s(a, "address"));
        f.set("city", s(a, "city"));
        f.set("region", s(a, "department"));
        f.set("postal_code", s(a, "zipCode"));
        // Canonical countries are ISO codes; Alegra keeps the country's name.
        f.set("country", canonical_country(&s(a, "country")));
    }
    Record {
        system: SYSTEM.into(),
        kind,
        id: s(v, "id"),
        modified: parse_vendor_time(&s(v, "updated_at")),
        fields: f,
        partner_ref: None,
        marked: true,
        created: None,
        extra: json!({ "type": types }),
    }
}

/// The identification as Alegra takes it on writes (see [`super::identification`]).
pub fn id_object(tax: &str) -> Value {
    super::identification::body(tax)
}

/// The contact body writing `fields` (all of them when `current` is `None`, a create;
/// otherwise only the keys whose canonical fields are in `changed`). Fails, naming what is
/// missing, when the record lacks what its identification type requires (A12).
pub(super) fn body_for(
    kind: Kind,
    fields: &Fields,
    changed: &[String],
    current: Option<&Record>,
) -> Result<Value, ConnectorError> {
    let touched = |f: &str| current.is_none() || changed.iter().any(|c| c == f);
    super::identification::check_required(fields.get("tax_id"), fields).map_err(|detail| {
        ConnectorError::Mapping {
            system: SYSTEM.into(),
            detail,
        }
    })?;
    let mut b = serde_json::Map::new();
    if touched("tax_id") {
        b.insert(
            super::identification::WRITE_KEY.into(),
            id_object(fields.get("tax_id")),
        );
    }
    let current_types: Vec<String> = current
        .and_then(|c| c.extra.get("type"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    match kind {
        Kind::Contact => {
            if touched("first_name") || touched("last_name") {
                let (first, last) = (fields.get("first_name"), fields.get("last_name"));
                b.insert(
                    "nameObject".into(),
                    json!({"firstName": first, "secondName": "", "lastName": last, "secondLastName": ""}),
                );
                b.insert("name".into(), json!(join(&[first.into(), last.into()])));
            }
            if touched("status") {
                let rel = Relationship::from_canonical(fields.get("status"));
                b.insert("type".into(), json!(types_for(rel, &current_types)));
            }
            if touched("mobile") {
                b.insert("mobile".into(), json!(fields.get("mobile")));
            }
            if current.is_none() {
                b.insert("kindOfPerson".into(), json!("PERSON_ENTITY"));
            }
        }
        Kind::Company => {
            if touched("name") {
                b.insert("name".into(), json!(fields.get("name")));
            }
            if current.is_none() {
                b.insert("kindOfPerson".into(), json!("LEGAL_ENTITY"));
                b.insert("type".into(), json!(["provider"]));
            }
        }
        Kind::Product | Kind::Order | Kind::Budget | Kind::Stock => {}
    }
    if touched("email") {
        b.insert("email".into(), json!(fields.get("email")));
    }
    if touched("phone") {
        b.insert("phonePrimary".into(), json!(fields.get("phone")));
    }
    let mut addr = serde_json::Map::new();
    for (canon, key) in [
        ("street", "address"),
        ("city", "city"),
        ("region", "department"),
        ("postal_code", "zipCode"),
        ("country", "country"),
    ] {
        if touched(canon) {
            let v = fields.get(canon);
            let v = if canon == "country" {
                spanish_name(v).unwrap_or(v)
            } else {
                v
            };
            addr.insert(key.into(), json!(v));
        }
    }
    if !addr.is_empty() {
        b.insert("address".into(), Value::Object(addr));
    }
    Ok(Value::Object(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default mapping file beside this module says what the reader and the writer do,
    /// line by line, for contacts in both API modes, companies and items.
    #[test]
    fn platform_default_mapping_file_agrees_with_the_reader_and_writer() {
        let m = crate::kit::defaults::DefaultMapping::parse(include_str!("mapping.toml")).unwrap();
        // (Contacts identified as NIF carry the city and province that type requires.)
        let contacts = [
            (
                Kind::Contact,
                json!({"id": "1", "name": "Ana Pérez", "nameObject": {"firstName": "Ana", "secondName": "María",
                "lastName": "Pérez", "secondLastName": "Gil"}, "identification": {"type": "DNI", "number": "12345678Z"},
                "type": ["client"], "email": "ana@x.es", "phonePrimary": "981000000", "mobile": "600000000",
                "address": {"address": "C/ Mayor 1", "city": "Lugo", "department": "Lugo", "zipCode": "27001", "country": "España"}}),
            ),
            // Simple mode: the type a word, the identification a string, no nameObject.
            (
                Kind::Contact,
                json!({"id": 2, "name": "  Luis  de la Fuente ", "identification": "x-1234567-l",
                "type": "lead", "email": "", "phonePrimary": null,
                "address": {"city": "Vigo", "department": "Pontevedra"}}),
            ),
            (
                Kind::Contact,
                json!({"id": 3, "name": "Solo", "type": [], "address": {"city": "Vigo", "country": "Portugal"}}),
            ),
            (
                Kind::Company,
                json!({"id": 4, "name": "Talleres Lugo SL", "identification": {"type": "NIF", "number": "B27123454"},
                "type": ["provider"], "phonePrimary": "", "mobile": "600999888", "email": "info@t.es",
                "address": {"address": "Polígono", "city": "Lugo", "department": "Lugo", "zipCode": "27003", "country": "España"}}),
            ),
            (
                Kind::Company,
                json!({"id": 5, "name": "Otra SA", "type": ["provider", "client"], "phonePrimary": "981222333"}),
            ),
        ];
        for (kind, raw) in contacts {
            let rec = to_record(kind, &raw);
            assert_eq!(m.read_mismatches(&raw, &rec), Vec::<String>::new(), "{raw}");
            let body = body_for(kind, &rec.fields, &[], None).unwrap();
            assert_eq!(
                m.write_mismatches(kind, &rec.fields, &body),
                Vec::<String>::new(),
                "{body}"
            );
        }
        for raw in [
            json!({"id": "7", "name": "Bono", "reference": " bon-1001 ", "description": "Diez", "price": [{"idPriceList": 1, "price": 19.9}]}),
            json!({"id": "8", "name": "Otro", "reference": {"reference": "X2"}, "price": "12.5"}),
            json!({"id": "9", "name": "Sin precio", "price": []}),
        ] {
            let rec = item_record(&raw, &[]);
            assert_eq!(m.read_mismatches(&raw, &rec), Vec::<String>::new(), "{raw}");
        }
    }
}
