//! eAccounting JSON ⇄ canonical records: customers, articles (and their stock), sales
//! documents, and the write bodies. Every eAccounting field name Puente relies on is here or
//! in [`super`].

use crate::kit::mapping::{lookup_opt, Tables};
use crate::time::parse_vendor_time;
use puente_core::{
    canonical_country, canonical_decimal, canonical_sku, decimal, parse_order_items, ref_product,
    Fields, Kind, Record, Sku, REF_CUSTOMER,
};
use serde_json::{json, Map, Value};

use super::{DocType, Options, StockFormula, SYSTEM};

pub(super) fn s(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn amount(x: &str) -> Result<f64, String> {
    if x.trim().is_empty() {
        return Ok(0.0);
    }
    x.trim()
        .parse::<f64>()
        .map(round2)
        .map_err(|_| format!("'{x}' is not an amount"))
}

fn base(kind: Kind, id: String, raw: &Value, changed: &str, fields: Fields) -> Record {
    Record {
        system: SYSTEM.into(),
        kind,
        id,
        modified: parse_vendor_time(&s(raw, changed)),
        fields,
        partner_ref: None,
        marked: true,
        created: parse_vendor_time(&s(raw, "CreatedUtc")),
        extra: json!({ "raw": raw }),
    }
}

fn split_name(name: &str) -> (String, String) {
    let mut it = name.trim().splitn(2, char::is_whitespace);
    (
        it.next().unwrap_or("").to_string(),
        it.next().unwrap_or("").trim().to_string(),
    )
}

/// A customer as a canonical contact: a company (`IsPrivatePerson` false) is
/// `company_name` with its contact person; a private person is the name.
pub fn customer_record(v: &Value) -> Record {
    let private = v.get("IsPrivatePerson").and_then(Value::as_bool) != Some(false);
    let (first, last, company) = if private {
        let (f, l) = split_name(&s(v, "Name"));
        (f, l, String::new())
    } else {
        let (f, l) = split_name(&s(v, "ContactPersonName"));
        (f, l, s(v, "Name"))
    };
    let phone = match s(v, "Telephone") {
        p if p.is_empty() => s(v, "MobilePhone"),
        p => p,
    };
    let fields = Fields::new()
        .with("email", s(v, "EmailAddress").trim().to_lowercase())
        .with("first_name", first)
        .with("last_name", last)
        .with("company_name", company)
        .with("phone", phone)
        .with("street", s(v, "InvoiceAddress1"))
        .with("postal_code", s(v, "InvoicePostalCode"))
        .with("city", s(v, "InvoiceCity"))
        .with("country", canonical_country(&s(v, "InvoiceCountryCode")))
        .with("tax_id", s(v, "VatNumber"));
    base(Kind::Contact, s(v, "Id"), v, "ChangedUtc", fields)
}

/// The customer document writing `fields` over `current` (`PUT` takes it whole). APC-1: a
/// company is a company customer with its contact person, else a private one. `terms`: the
/// terms of payment of a new customer.
pub fn customer_body(
    fields: &Fields,
    current: Option<&Value>,
    terms: &str,
    tables: &Tables,
    opts: &Options,
) -> Result<Value, String> {
    let mut b: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in ["Id", "ChangedUtc", "CreatedUtc"] {
        b.remove(k);
    }
    let person = [fields.get("first_name"), fields.get("last_name")]
        .iter()
        .map(|x| x.trim())
        .filter(|x| !x.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let company = fields.get("company_name");
    let private = company.is_empty();
    let name = if private {
        person.clone()
    } else {
        company.to_string()
    };
    let name = if name.is_empty() {
        fields.get("email").to_string()
    } else {
        name
    };
    b.insert("Name".into(), json!(name));
    b.insert("IsPrivatePerson".into(), json!(private));
    let put = |b: &mut Map<String, Value>, k: &str, v: &str| {
        if v.is_empty() {
            b.remove(k);
        } else {
            b.insert(k.into(), json!(v));
        }
    };
    put(&mut b, "EmailAddress", fields.get("email"));
    put(&mut b, "Telephone", fields.get("phone"));
    put(&mut b, "InvoiceAddress1", fields.get("street"));
    // Both are required by eAccounting; a shop customer always has them.
    put(&mut b, "InvoicePostalCode", fields.get("postal_code"));
    put(&mut b, "InvoiceCity", fields.get("city"));
    put(&mut b, "InvoiceCountryCode", fields.get("country"));
    put(&mut b, "VatNumber", fields.get("tax_id"));
    if private {
        for k in [
            "ContactPersonName",
            "ContactPersonEmail",
            "ContactPersonPhone",
        ] {
            b.remove(k);
        }
    } else {
        put(&mut b, "ContactPersonName", &person);
        put(&mut b, "ContactPersonEmail", fields.get("email"));
        put(&mut b, "ContactPersonPhone", fields.get("phone"));
    }
    if current.is_none() {
        let country = fields.get("country");
        let currency = match lookup_opt(tables, "currency_by_country", country) {
            Some(c) => c?,
            None => opts.customer_currency.clone(),
        };
        b.insert("CurrencyCode".into(), json!(currency));
        b.insert("TermsOfPaymentId".into(), json!(terms));
        b.insert("IsActive".into(), json!(true));
    }
    Ok(Value::Object(b))
}

/// APC-6: an article as canonical fields. eAccounting keeps a net and a gross price; the
/// VAT rate is the one between them.
pub fn article_record(v: &Value) -> Record {
    let net = v.get("NetPrice").and_then(Value::as_f64).unwrap_or(0.0);
    let gross = v.get("GrossPrice").and_then(Value::as_f64).unwrap_or(0.0);
    let rate = if net > 0.0 {
        decimal(((gross / net - 1.0) * 100.0).round())
    } else {
        String::new()
    };
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "Number")))
        .with("name", s(v, "Name"))
        .with("price", canonical_decimal(&s(v, "NetPrice")))
        .with("price_incl_tax", canonical_decimal(&s(v, "GrossPrice")))
        .with("taxes", rate);
    base(Kind::Product, s(v, "Id"), v, "ChangedUtc", fields)
}

/// The article document writing `fields` over `current`. eAccounting names are at most 50
/// characters [C swagger]: a longer one is cut.
pub fn article_body(
    fields: &Fields,
    current: Option<&Value>,
    unit: &str,
    changed: Option<&[String]>,
) -> Result<Value, String> {
    let mut b: Map<String, Value> = current
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for k in [
        "Id",
        "ChangedUtc",
        "CreatedUtc",
        "StockBalance",
        "StockBalanceReserved",
        "StockBalanceAvailable",
    ] {
        b.remove(k);
    }
    b.insert("Number".into(), json!(fields.get("sku")));
    let name: String = fields.get("name").chars().take(50).collect();
    b.insert("Name".into(), json!(name));
    let touched = |f: &str| changed.is_none_or(|c| c.iter().any(|x| x == f));
    if touched("price") {
        b.insert("NetPrice".into(), json!(amount(fields.get("price"))?));
        // The gross price follows the net one at the article's rate.
        b.remove("GrossPrice");
    }
    if !b.contains_key("UnitId") {
        b.insert("UnitId".into(), json!(unit));
    }
    if current.is_none() {
        b.insert("IsActive".into(), json!(true));
    }
    Ok(Value::Object(b))
}

/// APC-4: an article's stock by the flow's formula (same id as the article).
pub fn stock_record(v: &Value, formula: StockFormula) -> Record {
    let n = |k: &str| v.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    let quantity = match formula {
        StockFormula::Available => n("StockBalanceAvailable"),
        StockFormula::InStock => n("StockBalance"),
    };
    let fields = Fields::new()
        .with("sku", canonical_sku(&s(v, "Number")))
        .with("available", decimal(quantity))
        .with("reserved", decimal(n("StockBalanceReserved")));
    base(Kind::Stock, s(v, "Id"), v, "ChangedUtc", fields)
}

/// The shop's order key, kept in `YourReference` (at most 50 characters).
pub fn order_key(fields: &Fields) -> String {
    format!("{}/{}", fields.get("ecommerce"), fields.get("order_id"))
}

/// A sales document as a canonical order (the shop's key from `YourReference`).
pub fn document_record(v: &Value, t: DocType) -> Record {
    let reference = s(v, "YourReference");
    let (source, number) = reference.rsplit_once('/').unwrap_or(("", ""));
    let date = s(v, t.date_field());
    let total = match t {
        DocType::Order | DocType::Quote => {
            let a = v.get("Amount").and_then(Value::as_f64).unwrap_or(0.0);
            let vat = v.get("VatAmount").and_then(Value::as_f64).unwrap_or(0.0);
            decimal(round2(a + vat))
        }
        _ => canonical_decimal(&s(v, "TotalAmountIncludingVat")),
    };
    let fields = Fields::new()
        .with("order_id", number)
        .with("ecommerce", source)
        .with(
            "order_date",
            date.get(..10)
                .map(|d| format!("{d}T00:00:00Z"))
                .unwrap_or_default(),
        )
        .with(
            "currency",
            match s(v, "CurrencyCode") {
                c if c.is_empty() => s(v, "InvoiceCurrencyCode"),
                c => c,
            },
        )
        .with("total", total);
    let mut r = base(Kind::Order, s(v, "Id"), v, "ModifiedUtc", fields);
    r.modified = None;
    r
}

/// An article id by number, for a document row the flow maps to an article (shipping,
/// discount): the caller resolves it.
pub type ArticleIds = std::collections::HashMap<String, String>;

/// APC-1..3: a shop order as an eAccounting document of type `t`: rows for the products
/// (their articles made first), the shipping (`shipping_methods` names it and the delivery
/// method; `shipping_costs` gives its article) and the discount (`discounts`), the terms of
/// payment by payment method (`payment_terms`), the payment method's text
/// (`payment_methods`) and the order status (`order_status`, orders only).
pub fn document_body(
    fields: &Fields,
    t: DocType,
    extra_articles: &ArticleIds,
    tables: &Tables,
    opts: &Options,
) -> Result<Value, String> {
    let customer = match &opts.default_customer {
        Some(id) => id.clone(),
        None => match fields.get(REF_CUSTOMER) {
            "" => "(the order's customer, created first)".to_string(),
            id => id.to_string(),
        },
    };
    let mut rows = Vec::new();
    let article = |number: &str| -> Result<String, String> {
        extra_articles
            .get(number)
            .cloned()
            .ok_or_else(|| format!("eAccounting has no article '{number}'"))
    };
    for item in parse_order_items(fields.get("items")) {
        let qty: f64 = item.quantity.parse().unwrap_or(1.0);
        let mut row =
            json!({"Quantity": qty, "UnitPrice": amount(&item.price)?, "Text": item.name});
        match item.line_kind.as_str() {
            "shipping" => {
                let method = fields.get("shipping_method");
                if let Some(text) = lookup_opt(tables, "shipping_methods", method) {
                    row["Text"] = json!(text?);
                }
                if let Some(n) = lookup_opt(tables, "shipping_costs", method) {
                    row["ArticleId"] = json!(article(&n?)?);
                }
            }
            "discount" => {
                if let Some(n) = lookup_opt(tables, "discounts", &item.name) {
                    row["ArticleId"] = json!(article(&n?)?);
                }
            }
            _ => {
                let key = Sku::parse(&item.sku).map(|k| k.key()).unwrap_or_default();
                match fields.get(&ref_product(&key)) {
                    "" => row["ArticleNumber"] = json!(item.sku),
                    id => row["ArticleId"] = json!(id),
                }
                if let Ok(d) = item.discount.parse::<f64>() {
                    if d != 0.0 {
                        row["DiscountPercentage"] = json!(round2(d));
                    }
                }
            }
        }
        rows.push(row);
    }
    let date = fields.get("order_date").get(..10).unwrap_or("").to_string();
    let mut doc = json!({
        "CustomerId": customer,
        "YourReference": order_key(fields).chars().take(50).collect::<String>(),
        "Rows": rows,
    });
    if !date.is_empty() {
        doc[t.date_field()] = json!(date);
    }
    let currency = fields.get("currency");
    if !currency.is_empty() {
        doc[t.currency_field()] = json!(currency);
    }
    if let Some(text) = lookup_opt(tables, "payment_methods", fields.get("payment_method")) {
        doc["OurReference"] = json!(text?.chars().take(50).collect::<String>());
    }
    if let Some(m) = lookup_opt(tables, "shipping_methods", fields.get("shipping_method")) {
        doc["DeliveryMethodName"] = json!(m?);
    }
    let addr = fields.get("shipping_address");
    if !addr.is_empty() {
        doc["DeliveryAddress1"] = json!(addr.chars().take(50).collect::<String>());
    }
    if matches!(t, DocType::Invoice | DocType::BookedInvoice) {
        if let Some(terms) = lookup_opt(tables, "payment_terms", fields.get("payment_method")) {
            doc["TermsOfPaymentId"] = json!(terms?);
        }
    }
    if t == DocType::Order {
        let status = match lookup_opt(tables, "order_status", fields.get("status")) {
            Some(v) => {
                let v = v?;
                v.trim().parse::<u64>().map_err(|_| {
                    format!(
                        "'{v}' in table 'order_status' is not an eAccounting order status (1–4)"
                    )
                })?
            }
            None => 1,
        };
        doc["Status"] = json!(status);
    }
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apc1_private_and_company_customers_map_both_ways() {
        let f = Fields::new()
            .with("email", "an@bv.nl")
            .with("first_name", "An")
            .with("last_name", "de Vries")
            .with("company_name", "Koffie BV")
            .with("postal_code", "1234 AB")
            .with("city", "Utrecht")
            .with("country", "NL");
        let b = customer_body(&f, None, "t", &Tables::new(), &Options::default()).unwrap();
        assert_eq!(b["Name"], "Koffie BV");
        assert_eq!(b["IsPrivatePerson"], false);
        assert_eq!(b["ContactPersonName"], "An de Vries");
        let r = customer_record(&b);
        for k in [
            "email",
            "first_name",
            "last_name",
            "company_name",
            "city",
            "country",
        ] {
            assert_eq!(r.fields.get(k), f.get(k), "{k}");
        }
        let private = f.clone().with("company_name", "");
        let b = customer_body(&private, None, "t", &Tables::new(), &Options::default()).unwrap();
        assert_eq!(b["IsPrivatePerson"], true);
        assert_eq!(b["Name"], "An de Vries");
        assert_eq!(customer_record(&b).fields.get("last_name"), "de Vries");
    }
}
