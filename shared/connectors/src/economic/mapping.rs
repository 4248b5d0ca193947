//! e-conomic JSON ⇄ canonical records: customers (and their contact person), products,
//! their inventory as stock, sales documents, and the write bodies. Every e-conomic field
//! name Puente relies on is here or in [`super`].

use crate::kit::mapping::{lookup, lookup_opt, reverse, Tables};
use crate::time::parse_vendor_time;
use puente_core::country::english_name;
use puente_core::{
    canonical_country, canonical_decimal, canonical_sku, decimal, parse_order_items, Fields, Kind,
    Record, REF_CUSTOMER,
};
use serde_json::{json, Map, Value};

use super::{Options, StockFormula, SYSTEM};

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

pub(super) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A canonical decimal as a money amount (e-conomic takes at most two decimals).
pub(super) fn money(x: &str) -> Result<f64, String> {
    if x.trim().is_empty() {
        return Ok(0.0);
    }
    x.trim()
        .parse::<f64>()
        .map(round2)
        .map_err(|_| format!("'{x}' is not an amount"))
}

fn base(kind: Kind, id: String, raw: &Value, fields: Fields) -> Record {
    Record {
        system: SYSTEM.into(),
        kind,
        id,
        modified: parse_vendor_time(&s(raw, "lastUpdated")),
        fields,
        partner_ref: None,
        marked: true,
        created: None,
        extra: json!({ "raw": raw }),
    }
}

/// Splits a person's name into first and last name (the first word, the rest).
pub(super) fn split_name(name: &str) -> (String, String) {
    let mut it = name.trim().splitn(2, char::is_whitespace);
    (
        it.next().unwrap_or("").to_string(),
        it.next().unwrap_or("").trim().to_string(),
    )
}

/// A customer (debtor) as a canonical contact. A company debtor (one whose `attention` is
/// a contact person) is `company_name`, and its person is `contact` (read by the caller);
/// a private debtor's name is the person's.
pub fn customer_record(v: &Value, contact: Option<&Value>) -> Record {
    let company = v.get("attention").is_some_and(Value::is_object);
    let (first, last, company_name) = if company {
        let (first, last) = split_name(&contact.map(|c| s(c, "name")).unwrap_or_default());
        (first, last, s(v, "name"))
    } else {
        let (first, last) = split_name(&s(v, "name"));
        (first, last, String::new())
    };
    let email = s(v, "email")
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    let phone = match s(v, "telephoneAndFaxNumber") {
        p if p.is_empty() => s(v, "mobilePhone"),
        p => p,
    };
    let fields = Fields::new()
        .with("email", email)
        .with("first_name", first)
        .with("last_name", last)
        .with("company_name", company_name)
        .with("phone", phone)
        .with("street", s(v, "address"))
        .with("postal_code", s(v, "zip"))
        .with("city", s(v, "city"))
        .with("country", canonical_country(&s(v, "country")))
        .with("tax_id", s(v, "vatNumber"));
    let mut r = base(Kind::Contact, s(v, "customerNumber"), v, fields);
    if let Some(c) = contact {
        r.extra["contact"] = c.clone();
    }
    r
}

/// The number a write takes from the flow's table, else the option's default.
fn number_from(tables: &Tables, table: &str, key: &str, default: u64) -> Result<u64, String> {
    match lookup_opt(tables, table, key) {
        None => Ok(default),
        Some(v) => {
            let v = v?;
            v.trim()
                .parse()
                .map_err(|_| format!("'{v}' in table '{table}' is not an e-conomic number"))
        }
    }
}

/// A customer document that writes `fields` over `current` (the raw customer, for an
/// update: e-conomic's `PUT` takes the whole document). APC-5: a new customer's VAT zone
/// and customer group (which carries its revenue account) follow its country through the
/// tables `tax_code_by_country` and `revenue_account_by_country`.
pub fn customer_body(
    fields: &Fields,
    current: Option<&Value>,
    tables: &Tables,
    opts: &Options,
) -> Result<Value, String> {
    let mut b: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in [
        "self",
        "lastUpdated",
        "balance",
        "dueAmount",
        "contacts",
        "templates",
        "totals",
        "invoices",
    ] {
        b.remove(k);
    }
    let person = [fields.get("first_name"), fields.get("last_name")]
        .iter()
        .map(|x| x.trim())
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let name = match fields.get("company_name") {
        "" => person,
        c => c.to_string(),
    };
    let name = if name.is_empty() {
        fields.get("email").to_string()
    } else {
        name
    };
    b.insert("name".into(), json!(name));
    let country = fields.get("country");
    let text = [
        ("email", fields.get("email").to_string()),
        ("address", fields.get("street").to_string()),
        ("zip", fields.get("postal_code").to_string()),
        ("city", fields.get("city").to_string()),
        (
            "country",
            english_name(country).unwrap_or(country).to_string(),
        ),
        ("telephoneAndFaxNumber", fields.get("phone").to_string()),
        ("vatNumber", fields.get("tax_id").to_string()),
    ];
    for (k, v) in text {
        // e-conomic refuses `null` and keeps "" as a value: an empty field is left out.
        if v.is_empty() {
            b.remove(k);
        } else {
            b.insert(k.into(), json!(v));
        }
    }
    if current.is_none() {
        let currency = match lookup_opt(tables, "currency_by_country", country) {
            Some(c) => c?,
            None => opts.customer_currency.clone(),
        };
        b.insert("currency".into(), json!(currency));
        let zone = number_from(tables, "tax_code_by_country", country, opts.vat_zone)?;
        b.insert("vatZone".into(), json!({"vatZoneNumber": zone}));
        let group = number_from(
            tables,
            "revenue_account_by_country",
            country,
            opts.customer_group,
        )?;
        b.insert(
            "customerGroup".into(),
            json!({"customerGroupNumber": group}),
        );
        b.insert(
            "paymentTerms".into(),
            json!({"paymentTermsNumber": opts.payment_terms}),
        );
    }
    Ok(Value::Object(b))
}

/// The product group names by number (for `category`).
pub type Groups = std::collections::HashMap<u64, String>;

/// APC-6: a product as canonical fields: its VAT rate is the `tax_codes` rate of its
/// product group, its category the group's name (`/` in it read as `-`: groups are flat).
pub fn product_record(v: &Value, tables: &Tables, groups: &Groups) -> Record {
    let group = v
        .pointer("/productGroup/productGroupNumber")
        .and_then(Value::as_u64);
    let rate = group
        .and_then(|g| reverse(tables, "tax_codes", &g.to_string()))
        .unwrap_or_default();
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "productNumber")))
        .with("name", s(v, "name"))
        .with("description", s(v, "description"))
        .with("price", canonical_decimal(&s(v, "salesPrice")))
        .with("ean", s(v, "barCode"))
        .with("taxes", canonical_decimal(&rate))
        .with(
            "category",
            // A product group is one level: a `/` in its name is not a path separator.
            group
                .and_then(|g| groups.get(&g))
                .map(|n| n.replace('/', "-"))
                .unwrap_or_default(),
        );
    base(Kind::Product, s(v, "productNumber"), v, fields)
}

/// APC-4: a product's inventory as a stock record, the quantity by the flow's formula;
/// `None` when the product keeps no inventory.
pub fn stock_record(v: &Value, formula: StockFormula) -> Option<Record> {
    let inv = v.get("inventory").filter(|i| i.is_object())?;
    let num = |k: &str| inv.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let quantity = match formula {
        StockFormula::Available => num("inStock") - num("orderedByCustomers"),
        StockFormula::InStock => num("inStock"),
        StockFormula::AvailablePlusIncoming => {
            num("inStock") - num("orderedByCustomers") + num("orderedFromSuppliers")
        }
    };
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "productNumber")))
        .with("available", decimal(quantity))
        .with("reserved", decimal(num("orderedByCustomers")));
    Some(base(Kind::Stock, s(v, "productNumber"), v, fields))
}

/// A product document writing `fields` over `current` (whole, for the `PUT`).
pub fn product_body(
    fields: &Fields,
    current: Option<&Value>,
    tables: &Tables,
    opts: &Options,
) -> Result<Value, String> {
    let mut b: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in ["self", "lastUpdated", "inventory", "invoices"] {
        b.remove(k);
    }
    b.insert("productNumber".into(), json!(fields.get("sku")));
    b.insert("name".into(), json!(fields.get("name")));
    for (canon, key) in [("description", "description"), ("ean", "barCode")] {
        match fields.get(canon) {
            "" => b.remove(key),
            v => b.insert(key.into(), json!(v)),
        };
    }
    b.insert("salesPrice".into(), json!(money(fields.get("price"))?));
    let rate = fields.get("taxes");
    if current.is_none() || !rate.is_empty() {
        let group = if rate.is_empty() || !tables.contains_key("tax_codes") {
            opts.product_group
        } else {
            let g = lookup(tables, "tax_codes", rate)?;
            g.trim()
                .parse()
                .map_err(|_| format!("'{g}' in table 'tax_codes' is not a product group number"))?
        };
        b.insert("productGroup".into(), json!({"productGroupNumber": group}));
    }
    Ok(Value::Object(b))
}

/// The order's key written into a document (`references.other`) and read back from it.
pub fn order_key(fields: &Fields) -> String {
    format!("{}/{}", fields.get("ecommerce"), fields.get("order_id"))
}

/// A sales document as a canonical order: the shop's order number and source from
/// `references.other` (documents not made by Puente have none), its date, currency and
/// total.
pub fn document_record(v: &Value, number_key: &str) -> Record {
    let reference = v
        .pointer("/references/other")
        .and_then(Value::as_str)
        .unwrap_or("");
    let (source, number) = reference.rsplit_once('/').unwrap_or(("", ""));
    let date = s(v, "date");
    let fields = Fields::new()
        .with("order_id", number)
        .with("ecommerce", source)
        .with(
            "order_date",
            if date.is_empty() {
                String::new()
            } else {
                format!("{date}T00:00:00Z")
            },
        )
        .with("currency", s(v, "currency"))
        .with("total", canonical_decimal(&s(v, "grossAmount")));
    let mut r = base(Kind::Order, s(v, number_key), v, fields);
    r.modified = None;
    r
}

/// What a document needs of its customer: the recipient.
pub struct Recipient {
    pub number: u64,
    pub customer: Value,
}

/// APC-1..3: the document for a shop order. Lines: each product line (the product made to
/// exist first), the shipping line (`shipping_methods` names it; `shipping_costs` gives its
/// product when the flow maps one), the discount line (`discounts`); the payment terms by
/// payment method (`payment_terms`), its text (`payment_methods`). A value a table of the
/// flow does not hold fails the order, naming the table and the value.
pub fn document_body(
    fields: &Fields,
    who: Option<&Recipient>,
    layout: Option<u64>,
    tables: &Tables,
    opts: &Options,
) -> Result<Value, String> {
    let customer_number = match (opts.default_customer, who) {
        (Some(n), _) => json!(n),
        (None, Some(r)) => json!(r.number),
        (None, None) => match fields.get(REF_CUSTOMER) {
            "" => json!("(the order's customer, created first)"),
            id => json!(id
                .parse::<u64>()
                .map_err(|_| format!("customer '{id}' is not an e-conomic customer number"))?),
        },
    };
    let c = who.map(|r| r.customer.clone()).unwrap_or(Value::Null);
    let mut recipient = json!({
        "name": match s(&c, "name") { n if n.is_empty() => fields.get("customer").to_string(), n => n },
        "vatZone": c.get("vatZone").cloned().unwrap_or_else(|| json!({"vatZoneNumber": opts.vat_zone})),
    });
    for k in ["address", "zip", "city", "country"] {
        let v = s(&c, k);
        if !v.is_empty() {
            recipient[k] = json!(v);
        }
    }
    if let Some(o) = recipient["vatZone"].as_object_mut() {
        o.retain(|k, _| k == "vatZoneNumber");
    }
    let terms = number_from(
        tables,
        "payment_terms",
        fields.get("payment_method"),
        opts.payment_terms,
    )?;
    let mut lines = Vec::new();
    for item in parse_order_items(fields.get("items")) {
        let price = money(&item.price)?;
        let qty: f64 = item.quantity.parse().unwrap_or(1.0);
        let mut line = json!({"quantity": qty, "unitNetPrice": price});
        match item.line_kind.as_str() {
            "shipping" => {
                let method = fields.get("shipping_method");
                let text = match lookup_opt(tables, "shipping_methods", method) {
                    Some(t) => t?,
                    None => item.name.clone(),
                };
                line["description"] = json!(text);
                if let Some(p) = lookup_opt(tables, "shipping_costs", method) {
                    line["product"] = json!({"productNumber": p?});
                }
            }
            "discount" => {
                line["description"] = json!(item.name);
                if let Some(p) = lookup_opt(tables, "discounts", &item.name) {
                    line["product"] = json!({"productNumber": p?});
                }
            }
            _ => {
                line["product"] = json!({"productNumber": item.sku});
                line["description"] = json!(item.name);
                if let Ok(d) = item.discount.parse::<f64>() {
                    if d != 0.0 {
                        line["discountPercentage"] = json!(round2(d));
                    }
                }
            }
        }
        lines.push(line);
    }
    let mut doc = json!({
        "date": fields.get("order_date").get(..10).unwrap_or(""),
        "currency": fields.get("currency"),
        "customer": {"customerNumber": customer_number},
        "recipient": recipient,
        "paymentTerms": {"paymentTermsNumber": terms},
        "references": {"other": order_key(fields)},
        "notes": {"heading": format!("{} {}", fields.get("ecommerce"), fields.get("order_id"))},
        "lines": lines,
    });
    if let Some(l) = layout {
        doc["layout"] = json!({"layoutNumber": l});
    }
    if let Some(t) = lookup_opt(tables, "payment_methods", fields.get("payment_method")) {
        doc["notes"]["textLine1"] = json!(t?);
    }
    let addr = fields.get("shipping_address");
    if !addr.is_empty() {
        doc["delivery"] = json!({"address": addr});
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> Options {
        Options::default()
    }

    #[test]
    fn apc5_customer_body_takes_zone_and_group_from_the_country_tables() {
        let tables: Tables = [
            (
                "tax_code_by_country".to_string(),
                [
                    ("DK".to_string(), "1".to_string()),
                    ("*".to_string(), "2".to_string()),
                ]
                .into(),
            ),
            (
                "revenue_account_by_country".to_string(),
                [
                    ("DK".to_string(), "1".to_string()),
                    ("NL".to_string(), "2".to_string()),
                ]
                .into(),
            ),
        ]
        .into();
        let f = Fields::new()
            .with("email", "a@b.nl")
            .with("first_name", "An")
            .with("last_name", "Jansen")
            .with("country", "NL");
        let b = customer_body(&f, None, &tables, &opts()).unwrap();
        assert_eq!(b["vatZone"]["vatZoneNumber"], 2, "NL falls to the * entry");
        assert_eq!(b["customerGroup"]["customerGroupNumber"], 2);
        assert_eq!(b["name"], "An Jansen");
        assert_eq!(b["country"], "Netherlands");
        let e =
            customer_body(&f.clone().with("country", "SE"), None, &tables, &opts()).unwrap_err();
        assert!(
            e.contains("'SE' is not in table 'revenue_account_by_country'"),
            "{e}"
        );
    }

    #[test]
    fn apc3_document_lines_fail_on_an_unmapped_payment_method() {
        let tables: Tables = [(
            "payment_terms".to_string(),
            [("ideal".to_string(), "1".to_string())].into(),
        )]
        .into();
        let f = Fields::new()
            .with("order_id", "2026-1001")
            .with("ecommerce", "ccv")
            .with("payment_method", "bitcoin")
            .with(REF_CUSTOMER, "7");
        let e = document_body(&f, None, Some(19), &tables, &opts()).unwrap_err();
        assert!(
            e.contains("'bitcoin' is not in table 'payment_terms'"),
            "{e}"
        );
        let ok = document_body(
            &f.with("payment_method", "ideal"),
            None,
            None,
            &tables,
            &opts(),
        )
        .unwrap();
        assert_eq!(ok["references"]["other"], "ccv/2026-1001");
        assert_eq!(ok["customer"]["customerNumber"], 7);
    }
}
