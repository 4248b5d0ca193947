//! Clientify JSON ⇄ canonical records: every Clientify field name Puente reads or writes
//! for contacts, companies, products, orders and budgets (see the module doc of
//! [`super`] for what is confirmed and what is modelled).

use super::*;
use crate::error::ConnectorError;
use crate::time::parse_vendor_time;
use puente_core::country::{canonical_country, spanish_name};
use puente_core::{
    budget_lines, canonical_decimal, canonical_sku, canonical_tax_id, order_items,
    parse_budget_lines, parse_order_items, parse_tax_rates, ref_product, tax_rates, BudgetLine,
    Fields, Kind, OrderItem, Record, Relationship, REF_CUSTOMER, REF_CUSTOMER_KIND,
};
use serde_json::{json, Value};

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(super) fn id_of(v: &Value) -> String {
    s(v, "id")
}

/// Maps a Clientify record of `kind` to a canonical record, reading the marks `back` (the
/// flow's) says to look for.
pub fn to_record_with(back: &BackRef, kind: Kind, v: &Value) -> Record {
    match kind {
        Kind::Product => return product_record(v),
        Kind::Order => return order_record(v),
        Kind::Budget => return budget_record(v, back.code_prefix.as_deref()),
        Kind::Stock => return product_record(v),
        Kind::Contact | Kind::Company => {}
    }
    let mut f = Fields::new();
    f.set(
        "tax_id",
        canonical_tax_id(&s(v, "taxpayer_identification_number")),
    );
    match kind {
        Kind::Contact => {
            f.set("first_name", s(v, "first_name"));
            f.set("last_name", s(v, "last_name"));
            f.set("status", relationship_of(&s(v, "status")).as_str());
        }
        _ => f.set("name", s(v, "name")),
    }
    let empty = Vec::new();
    let emails = v.get("emails").and_then(Value::as_array).unwrap_or(&empty);
    if let Some(e) = emails.first() {
        f.set("email", s(e, "email"));
    }
    let phones = v.get("phones").and_then(Value::as_array).unwrap_or(&empty);
    let is_mobile = |p: &&Value| p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE);
    if let Some(p) = phones.iter().find(|p| !is_mobile(p)) {
        f.set("phone", s(p, "phone"));
    }
    if kind == Kind::Contact {
        if let Some(p) = phones.iter().find(is_mobile) {
            f.set("mobile", s(p, "phone"));
        }
    } else if let Some(p) = phones.iter().find(is_mobile) {
        if f.get("phone").is_empty() {
            f.set("phone", s(p, "phone"));
        }
    }
    let addresses = v
        .get("addresses")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    if let Some(a) = addresses.first() {
        f.set("street", s(a, "street"));
        f.set("city", s(a, "city"));
        f.set("region", s(a, "state"));
        f.set("postal_code", s(a, "postal_code"));
        // Canonical countries are ISO codes; Clientify keeps free text (`España`).
        f.set("country", canonical_country(&s(a, "country")));
    }
    let custom = v
        .get("custom_fields")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let partner = back.field.as_deref().and_then(|field| {
        custom
            .iter()
            .find(|c| s(c, "field") == field)
            .map(|c| s(c, "value"))
            .filter(|x| !x.is_empty() && x != "--")
    });
    let tags = v.get("tags").and_then(Value::as_array).unwrap_or(&empty);
    let tagged = back.tag.as_deref().is_none_or(|tag| {
        tags.iter()
            .any(|t| t.as_str() == Some(tag) || s(t, "name") == tag)
    });
    let marked = tagged && (kind != Kind::Contact || contact_type_fits(v));
    Record {
        system: SYSTEM.into(),
        kind,
        id: id_of(v),
        modified: parse_vendor_time(&s(v, "modified")),
        fields: f,
        partner_ref: partner,
        marked,
        created: None,
        extra: json!({
            "emails": v.get("emails").cloned().unwrap_or(json!([])),
            "phones": v.get("phones").cloned().unwrap_or(json!([])),
            "addresses": v.get("addresses").cloned().unwrap_or(json!([])),
            "tags": v.get("tags").cloned().unwrap_or(json!([])),
        }),
    }
}

/// ALG-4: the contact type agrees with the status ("Cliente actual" for clients, "Cliente
/// potencial" for leads; anything for the rest). A status changed in Clientify itself leaves
/// the type behind, so Puente keeps it in step like the other marks it owns.
pub(super) fn contact_type_fits(v: &Value) -> bool {
    let (_, want) = status_of(relationship_of(&s(v, "status")));
    want.is_empty() || s(v, "contact_type") == want
}

pub(super) fn base_record(kind: Kind, v: &Value, fields: Fields) -> Record {
    Record {
        system: SYSTEM.into(),
        kind,
        id: id_of(v),
        modified: parse_vendor_time(&s(v, "modified")),
        fields,
        partner_ref: None,
        marked: true,
        created: None,
        extra: Value::Null,
    }
}

/// A Clientify product: ODO-3's fields (`sku`, `name`, `price` as number or decimal
/// string), `description` and `taxes` (ALG-7). A flow that syncs fewer fields drops the rest.
pub fn product_record(v: &Value) -> Record {
    let f = Fields::new()
        .with("sku", canonical_sku(&s(v, "sku")))
        .with("name", s(v, "name"))
        .with("price", canonical_decimal(&s(v, "price")))
        .with("description", s(v, "description"))
        .with("taxes", tax_rates(&product_taxes(v)));
    base_record(Kind::Product, v, f)
}

/// The tax rates of a product or budget line: `taxes: [{name, percentage}]` (unconfirmed,
/// module doc).
pub fn product_taxes(v: &Value) -> Vec<String> {
    v.get("taxes")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(|t| s(t, "percentage")).collect())
        .unwrap_or_default()
}

/// Canonical rates as Clientify `taxes` (named after the Spanish VAT, the only tax the
/// flow's users have; the name is informative, the rate is what is matched).
pub fn taxes_json(rates: &str) -> Value {
    Value::Array(
        parse_tax_rates(rates)
            .into_iter()
            .map(|p| json!({"name": format!("IVA {p}%"), "percentage": num(&p)}))
            .collect(),
    )
}

/// ALG-8: a Clientify budget (shape modelled, module doc). Where the flow's other side
/// mints budget codes (`code_prefix`, `ALG-` for Alegra), a code without it was not given by
/// Puente: the budget is new there, and its code is replaced by the minted one once it
/// exists.
pub fn budget_record(v: &Value, code_prefix: Option<&str>) -> Record {
    let code = s(v, "code");
    let code = match code_prefix {
        Some(p) if !code.to_uppercase().starts_with(&p.to_uppercase()) => String::new(),
        _ => code,
    };
    let (party, party_kind) = match (v.get("contact"), v.get("company")) {
        (Some(c), _) if !c.is_null() => (c.clone(), Kind::Contact),
        (_, Some(c)) if !c.is_null() => (c.clone(), Kind::Company),
        _ => (Value::Null, Kind::Contact),
    };
    let party_id = if party.is_object() {
        id_of(&party)
    } else {
        match &party {
            Value::Number(n) => n.to_string(),
            Value::String(x) => x.clone(),
            _ => String::new(),
        }
    };
    let mut products = serde_json::Map::new();
    let lines: Vec<BudgetLine> = v
        .get("lines")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|l| {
                    let sku = s(l, "sku");
                    let pid = s(l, "product");
                    if let (Ok(k), false) = (puente_core::Sku::parse(&sku), pid.is_empty()) {
                        products.insert(k.key(), json!(pid));
                    }
                    BudgetLine {
                        sku,
                        name: s(l, "name"),
                        price: s(l, "price"),
                        quantity: s(l, "quantity"),
                        discount: s(l, "discount"),
                        taxes: tax_rates(&product_taxes(l)),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let f = Fields::new()
        .with("code", code)
        .with(
            "customer",
            canonical_tax_id(&s(&party, "taxpayer_identification_number")),
        )
        .with("date", s(v, "date"))
        .with("due_date", s(v, "due_date"))
        .with("observations", s(v, "observations"))
        .with("total", canonical_decimal(&s(v, "total")))
        .with("lines", budget_lines(&lines));
    let mut r = base_record(Kind::Budget, v, f);
    r.extra = json!({"refs": {
        "customer": (!party_id.is_empty()).then(|| json!({"id": party_id, "kind": party_kind})),
        "products": products,
    }});
    r
}

/// A Clientify primary key as JSON: a number when it is one (ids are integers).
pub(super) fn pk(id: &str) -> Value {
    id.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(id))
}

/// ALG-8 write body of a budget; the customer's and products' Clientify ids come from the
/// runtime's reference fields ([`puente_core::REF_CUSTOMER`]).
pub(super) fn budget_body(
    fields: &Fields,
    touched: &dyn Fn(&str) -> bool,
) -> Result<Value, ConnectorError> {
    let mut b = serde_json::Map::new();
    for f in ["code", "date", "due_date", "observations"] {
        if touched(f) {
            b.insert(f.into(), json!(fields.get(f)));
        }
    }
    if touched("total") {
        b.insert("total".into(), num(fields.get("total")));
    }
    if touched("customer") {
        let id = fields.get(REF_CUSTOMER);
        if id.is_empty() {
            return Err(ConnectorError::Mapping {
                system: SYSTEM.into(),
                detail: format!(
                    "the budget's customer {} has no Clientify contact or company",
                    fields.get("customer")
                ),
            });
        }
        let (set, unset) = if fields.get(REF_CUSTOMER_KIND) == "company" {
            ("company", "contact")
        } else {
            ("contact", "company")
        };
        b.insert(set.into(), pk(id));
        b.insert(unset.into(), Value::Null);
    }
    if touched("lines") {
        let mut out = Vec::new();
        for l in parse_budget_lines(fields.get("lines")) {
            let key = puente_core::Sku::parse(&l.sku)
                .map(|k| k.key())
                .unwrap_or_default();
            let pid = fields.get(&ref_product(&key));
            if pid.is_empty() {
                return Err(ConnectorError::Mapping {
                    system: SYSTEM.into(),
                    detail: format!(
                        "budget line '{}' (SKU '{}') has no Clientify product",
                        l.name, l.sku
                    ),
                });
            }
            out.push(json!({
                "product": pk(pid),
                "sku": l.sku,
                "name": l.name,
                "quantity": num(&l.quantity),
                "price": num(&l.price),
                "discount": num(&l.discount),
                "taxes": taxes_json(&l.taxes),
            }));
        }
        b.insert("lines".into(), Value::Array(out));
    }
    Ok(Value::Object(b))
}

/// ODO-4/ODO-5: a Clientify order.
pub fn order_record(v: &Value) -> Record {
    let items: Vec<OrderItem> = v
        .get("items")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|i| OrderItem {
                    name: s(i, "name"),
                    sku: s(i, "sku"),
                    price: s(i, "price"),
                    quantity: s(i, "quantity"),
                    ..OrderItem::default()
                })
                .collect()
        })
        .unwrap_or_default();
    let date = parse_vendor_time(&s(v, "order_date"))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| s(v, "order_date"));
    let f = Fields::new()
        .with("order_id", s(v, "order_id"))
        .with("ecommerce", s(v, "ecommerce"))
        .with("status", s(v, "status"))
        .with("order_date", date)
        .with("currency", s(v, "currency"))
        .with("items", order_items(&items));
    base_record(Kind::Order, v, f)
}

/// A canonical decimal as a JSON number (Clientify takes numbers or decimal strings).
pub(super) fn num(x: &str) -> Value {
    x.parse::<f64>().map(|n| json!(n)).unwrap_or(json!(x))
}

/// The body writing a product or order (all fields on create, the changed ones on update).
pub(super) fn catalog_body(
    kind: Kind,
    fields: &Fields,
    touched: &dyn Fn(&str) -> bool,
    creating: bool,
) -> Value {
    let mut b = serde_json::Map::new();
    if kind == Kind::Product {
        for f in ["sku", "name"] {
            if touched(f) {
                b.insert(f.into(), json!(fields.get(f)));
            }
        }
        if touched("price") {
            b.insert("price".into(), num(fields.get("price")));
        }
        // Only the Alegra flow maps these (ODO-3 has no description nor taxes): an Odoo
        // product never reports them, so they are never "touched" there on update.
        if touched("description") && (!creating || !fields.get("description").is_empty()) {
            b.insert("description".into(), json!(fields.get("description")));
        }
        if touched("taxes") && (!creating || !fields.get("taxes").is_empty()) {
            b.insert("taxes".into(), taxes_json(fields.get("taxes")));
        }
        return Value::Object(b);
    }
    for f in ["order_id", "ecommerce", "status", "order_date", "currency"] {
        if touched(f) {
            b.insert(f.into(), json!(fields.get(f)));
        }
    }
    if touched("items") {
        let items: Vec<Value> = parse_order_items(fields.get("items"))
            .into_iter()
            .map(|i| json!({"name": i.name, "sku": i.sku, "price": num(&i.price), "quantity": num(&i.quantity)}))
            .collect();
        b.insert("items".into(), Value::Array(items));
    }
    Value::Object(b)
}

/// Writes `new` into the first Clientify address (adding one of type 1 if there is none,
/// removing it when every address field is now empty), and puts the list in the body when
/// the record exists or has an address. Shared by the Alegra and the Odoo mappings.
pub(super) fn merge_address(
    b: &mut serde_json::Map<String, Value>,
    mut addresses: Vec<Value>,
    new: Value,
    all_empty: bool,
    existing: bool,
) {
    if addresses.is_empty() {
        if !all_empty {
            let mut a = new;
            a["type"] = json!(1);
            addresses.push(a);
        }
    } else if all_empty {
        addresses.remove(0);
    } else {
        for (k, v) in new.as_object().expect("object") {
            addresses[0][k] = v.clone();
        }
    }
    if existing || !addresses.is_empty() {
        b.insert("addresses".into(), Value::Array(addresses));
    }
}

pub(super) const ADDRESS_FIELDS: [&str; 5] = ["street", "city", "region", "postal_code", "country"];

/// The JSON body that writes `fields` (all of them when `current` is `None`, a create;
/// otherwise only the keys whose canonical fields are in `changed`).
pub(super) fn body_for(
    kind: Kind,
    fields: &Fields,
    changed: &[String],
    current: Option<&Record>,
) -> Result<Value, ConnectorError> {
    let touched = |f: &str| current.is_none() || changed.iter().any(|c| c == f);
    if matches!(kind, Kind::Product | Kind::Order) {
        return Ok(catalog_body(kind, fields, &touched, current.is_none()));
    }
    if kind == Kind::Budget {
        return budget_body(fields, &touched);
    }
    let mut b = serde_json::Map::new();
    if touched("tax_id") {
        b.insert(
            "taxpayer_identification_number".into(),
            json!(fields.get("tax_id")),
        );
    }
    match kind {
        Kind::Contact => {
            for f in ["first_name", "last_name"] {
                if touched(f) {
                    b.insert(f.into(), json!(fields.get(f)));
                }
            }
            if touched("status") {
                let (status, ctype) = status_of(Relationship::from_canonical(fields.get("status")));
                b.insert("status".into(), json!(status));
                if !ctype.is_empty() || current.is_some() {
                    b.insert("contact_type".into(), json!(ctype));
                }
            }
        }
        _ => {
            if touched("name") {
                b.insert("name".into(), json!(fields.get("name")));
            }
        }
    }
    let extra = current.map(|c| &c.extra);
    let list = |key: &str| -> Vec<Value> {
        extra
            .and_then(|e| e.get(key))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    if touched("email") {
        let mut emails = list("emails");
        let email = fields.get("email");
        if emails.is_empty() {
            if !email.is_empty() {
                emails.push(json!({"type": 1, "email": email}));
            }
        } else if email.is_empty() {
            emails.remove(0);
        } else {
            emails[0]["email"] = json!(email);
        }
        if current.is_some() || !emails.is_empty() {
            b.insert("emails".into(), Value::Array(emails));
        }
    }
    if touched("phone") || touched("mobile") {
        let mut phones = list("phones");
        // A company's one phone is its main phone, or its mobile when it has only that.
        let company_on_mobile = kind == Kind::Company
            && !phones.is_empty()
            && phones
                .iter()
                .all(|p| p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE));
        let mut put = |value: &str, mobile: bool| {
            let pos = phones.iter().position(|p| {
                (p.get("type").and_then(Value::as_i64) == Some(PHONE_MOBILE)) == mobile
            });
            match (pos, value.is_empty()) {
                (Some(i), true) => {
                    phones.remove(i);
                }
                (Some(i), false) => phones[i]["phone"] = json!(value),
                (None, false) => phones.push(json!({
                    "type": if mobile { PHONE_MOBILE } else { PHONE_MAIN },
                    "phone": value
                })),
                (None, true) => {}
            }
        };
        if kind == Kind::Contact {
            put(fields.get("phone"), false);
            put(fields.get("mobile"), true);
        } else {
            put(fields.get("phone"), company_on_mobile);
        }
        if current.is_some() || !phones.is_empty() {
            b.insert("phones".into(), Value::Array(phones));
        }
    }
    if ADDRESS_FIELDS.iter().any(|f| touched(f)) {
        let addresses = list("addresses");
        let all_empty = ADDRESS_FIELDS.iter().all(|f| fields.get(f).is_empty());
        // Canonical countries are ISO codes; Clientify shows the Spanish name.
        let country = fields.get("country");
        let new = json!({
            "street": fields.get("street"),
            "city": fields.get("city"),
            "state": fields.get("region"),
            "postal_code": fields.get("postal_code"),
            "country": spanish_name(country).unwrap_or(country),
        });
        merge_address(&mut b, addresses, new, all_empty, current.is_some());
    }
    Ok(Value::Object(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The marks the Clientify ⇄ Alegra flow keeps (its preset).
    fn alegra_marks() -> BackRef {
        BackRef {
            field: Some("in_alegra".into()),
            tag: Some("alegra".into()),
            code_prefix: Some("ALG-".into()),
        }
    }

    fn sample() -> Value {
        json!({"id": 12, "first_name": "Ana", "last_name": "Pérez", "status": "hot-lead",
            "emails": [{"id": 1, "type": 1, "email": "ana@ex.com"}],
            "phones": [{"id": 2, "type": 2, "phone": "+34600000000"}, {"id": 3, "type": 1, "phone": "981000000"}],
            "addresses": [{"id": 3, "type": 1, "street": "C/ Mayor 1", "city": "Lugo", "state": "Galicia", "country": "España", "postal_code": "27001"}],
            "tags": ["vip"], "custom_fields": [{"field": "in_alegra", "value": "774"}],
            "taxpayer_identification_number": "12.345.678-z", "modified": "2026-11-22T10:00:00.000001+00:00"})
    }

    #[test]
    fn alg4_clientify_contact_maps_to_canonical() {
        let r = to_record_with(&alegra_marks(), Kind::Contact, &sample());
        assert_eq!(r.id, "12");
        assert_eq!(r.fields.get("tax_id"), "12345678Z");
        assert_eq!(r.fields.get("status"), "lead");
        assert_eq!(r.fields.get("mobile"), "+34600000000");
        assert_eq!(r.fields.get("phone"), "981000000");
        assert_eq!(r.fields.get("region"), "Galicia");
        assert_eq!(r.partner_ref.as_deref(), Some("774"));
        assert!(!r.marked);
    }

    #[test]
    fn alg4_status_maps_both_ways_consistently() {
        for rel in [
            Relationship::Client,
            Relationship::Lead,
            Relationship::Other,
        ] {
            assert_eq!(relationship_of(status_of(rel).0), rel);
        }
        assert_eq!(
            status_of(Relationship::Client),
            ("client", "Cliente actual")
        );
        assert_eq!(
            status_of(Relationship::Lead),
            ("cold-lead", "Cliente potencial")
        );
    }

    #[test]
    fn alg5_update_body_writes_only_changed_fields_and_adds_marks() {
        let cur = to_record_with(&alegra_marks(), Kind::Contact, &sample());
        let mut target = cur.fields.clone();
        target.set("city", "Ourense");
        let mut body = body_for(Kind::Contact, &target, &["city".into()], Some(&cur)).unwrap();
        Clientify::add_marks(&alegra_marks(), &mut body, Some(&cur), Some("774"));
        let o = body.as_object().unwrap();
        // Only the address changed; the marks add the tag and, this lead having no contact
        // type, "Cliente potencial" (ALG-4).
        assert_eq!(
            o.keys().cloned().collect::<Vec<_>>(),
            vec!["addresses", "contact_type", "tags"]
        );
        assert_eq!(body["contact_type"], "Cliente potencial");
        assert_eq!(body["addresses"][0]["city"], "Ourense");
        assert_eq!(body["addresses"][0]["id"], 3, "keeps the sub-resource id");
        assert_eq!(body["tags"], json!(["vip", "alegra"]));
    }

    /// The default mapping file beside this module says what the reader and the writer do,
    /// line by line, for records with everything, with gaps and with odd shapes.
    #[test]
    fn platform_default_mapping_file_agrees_with_the_reader_and_writer() {
        let m = crate::kit::defaults::DefaultMapping::parse(include_str!("mapping.toml")).unwrap();
        let samples = [
            (Kind::Contact, sample()),
            (
                Kind::Contact,
                json!({"id": 13, "first_name": "Luis", "status": "client",
                "phones": [{"type": 2, "phone": "600111222"}], "emails": [],
                "addresses": [{"street": "Rúa Nova 2", "city": "Vigo", "country": "Portugal"}]}),
            ),
            (
                Kind::Contact,
                json!({"id": 14, "status": "in-deal", "taxpayer_identification_number": null}),
            ),
            (
                Kind::Contact,
                json!({"id": 15, "first_name": "Eva", "status": "weird-new-status",
                "emails": [{"email": "eva@x.es"}, {"email": "eva2@x.es"}]}),
            ),
            (
                Kind::Company,
                json!({"id": 101, "name": "Talleres Lugo SL",
                "taxpayer_identification_number": "b-27.123.456",
                "phones": [{"type": 2, "phone": "+34 600 999 888"}],
                "emails": [{"type": 1, "email": "info@talleres.es"}],
                "addresses": [{"street": "Polígono O Ceao", "city": "Lugo", "state": "Lugo", "postal_code": "27003", "country": "España"}]}),
            ),
            (
                Kind::Company,
                json!({"id": 102, "name": "Sin Datos SA",
                "phones": [{"type": 2, "phone": "600"}, {"type": 1, "phone": "981"}]}),
            ),
            (
                Kind::Product,
                json!({"id": 7, "sku": " bon-1001 ", "name": "Bono", "price": 19.9, "description": "Diez sesiones"}),
            ),
            (
                Kind::Product,
                json!({"id": 8, "sku": "X2", "name": "Sin precio", "price": "12.50"}),
            ),
        ];
        for (kind, raw) in samples {
            let rec = to_record_with(&BackRef::default(), kind, &raw);
            assert_eq!(m.read_mismatches(&raw, &rec), Vec::<String>::new(), "{raw}");
            let body = body_for(kind, &rec.fields, &[], None).unwrap();
            assert_eq!(
                m.write_mismatches(kind, &rec.fields, &body),
                Vec::<String>::new(),
                "{body}"
            );
        }
    }
}
