//! The company an eAccounting sandbox starts with: terms of payment and units, the shared and
//! eAccounting-only customers (Swedish; foreign ones in their currency) with a contact person
//! on each company, the shared and eAccounting-only articles (prices in SEK, Swedish VAT
//! rates), `orders` orders in every `Status`, `invoices` customer invoices (half paid) and
//! one invoice draft.

use chrono::{TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::facts::fmt_time;
use super::sales::{check, Doc};
use super::{Company, EAccountingConfig, Obj};
use crate::commerce::{Country, Side, VatClass};

/// [I] EUR → SEK for the shared catalogue's prices.
const SEK_PER_EUR: f64 = 11.2;

fn obj(v: Value) -> Obj {
    v.as_object().cloned().unwrap_or_default()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub(super) fn company(cfg: &EAccountingConfig) -> Company {
    let now = Utc::now();
    let mut co = Company {
        customers: Vec::new(),
        articles: Vec::new(),
        orders: Vec::new(),
        quotes: Vec::new(),
        drafts: Vec::new(),
        invoices: Vec::new(),
        terms: Vec::new(),
        units: Vec::new(),
        next_customer: 1001,
        next_order: 1,
        next_quote: 1,
        next_invoice: 1,
        rng: StdRng::seed_from_u64(cfg.sizes.seed ^ 0xEA),
    };
    let at = |days: i64| fmt_time(now - TimeDelta::days(days));
    for (name, en, days) in [
        ("30 dagar netto", "30 days net", 30),
        ("10 dagar netto", "10 days net", 10),
        ("Kontant", "Cash", 0),
    ] {
        let id = co.guid();
        co.terms.push(obj(
            json!({"Id": id, "Name": name, "NameEnglish": en, "NumberOfDays": days,
            "TermsOfPaymentTypeId": if days == 0 { 2 } else { 0 }}),
        ));
    }
    for (name, code) in [("Styck", "st"), ("Kilogram", "kg"), ("Förpackning", "förp")] {
        let id = co.guid();
        co.units
            .push(obj(json!({"Id": id, "Name": name, "Code": code})));
    }
    let (net30, net10) = (co.terms[0]["Id"].clone(), co.terms[1]["Id"].clone());
    for (i, p) in cfg
        .sizes
        .accounting_customers(Side::EAccounting)
        .iter()
        .enumerate()
    {
        let id = co.guid();
        let n = co.next_customer;
        co.next_customer += 1;
        let currency = match p.country {
            Country::Se => "SEK",
            Country::Dk => "DKK",
            Country::Nl => "EUR",
        };
        let stamp = at(200 - i as i64);
        let mut c = obj(
            json!({"Id": id, "CustomerNumber": n.to_string(), "Name": p.display_name(),
            "EmailAddress": p.email, "MobilePhone": p.phone, "InvoiceAddress1": p.address_line(),
            "InvoicePostalCode": p.zipcode, "InvoiceCity": p.city,
            "InvoiceCountryCode": p.country.code(), "CurrencyCode": currency,
            "TermsOfPaymentId": if p.company.is_some() { net30.clone() } else { net10.clone() },
            "IsPrivatePerson": p.company.is_none(), "IsActive": true,
            "CreatedUtc": stamp, "ChangedUtc": stamp}),
        );
        if let Some(company) = &p.company {
            c.insert("VatNumber".into(), json!(company.vat));
            if p.country == Country::Se {
                c.insert(
                    "CorporateIdentityNumber".into(),
                    json!(company.registration),
                );
            }
            c.insert("ContactPersonName".into(), json!(p.full_name()));
            c.insert("ContactPersonEmail".into(), json!(p.email));
            c.insert("ContactPersonMobile".into(), json!(p.phone));
        }
        co.customers.push(c);
    }
    let unit = co.units[0]["Id"].clone();
    for (i, p) in cfg
        .sizes
        .accounting_products(Side::EAccounting)
        .iter()
        .enumerate()
    {
        let id = co.guid();
        let vat = match p.vat {
            VatClass::High => 0.25,
            VatClass::Low => 0.12,
            VatClass::Zero => 0.0,
        };
        let net = round2(p.price * SEK_PER_EUR);
        let stamp = at(120 - i as i64);
        co.articles
            .push(obj(json!({"Id": id, "Number": p.sku, "Name": p.name,
            "NetPrice": net, "GrossPrice": round2(net * (1.0 + vat)), "UnitId": unit,
            "IsActive": true, "StockBalance": p.stock as f64, "_vat": vat,
            "CreatedUtc": stamp, "ChangedUtc": stamp})));
    }
    if co.customers.is_empty() || co.articles.is_empty() {
        return co;
    }
    let mut rng = StdRng::seed_from_u64(cfg.sizes.seed ^ 0xEA5);
    let doc_body = |co: &Company, rng: &mut StdRng| -> Obj {
        let c = &co.customers[rng.gen_range(0..co.customers.len())];
        let rows: Vec<Value> = (0..rng.gen_range(1..=3))
            .map(|_| {
                let a = &co.articles[rng.gen_range(0..co.articles.len())];
                json!({"ArticleId": a["Id"], "Quantity": rng.gen_range(1..=5)})
            })
            .collect();
        obj(json!({"CustomerId": c["Id"], "Rows": rows}))
    };
    for i in 0..cfg.orders {
        let days = 40 - (i as i64 * 40 / cfg.orders.max(1) as i64);
        let day = (now - TimeDelta::days(days)).format("%Y-%m-%d").to_string();
        let mut body = doc_body(&co, &mut rng);
        body.insert("Status".into(), json!(i % 4 + 1));
        body.insert("OrderDate".into(), json!(day));
        if let Ok(mut o) = check(&co, &body, Doc::Order, &day) {
            let stamp = at(days);
            o.insert("Id".into(), json!(co.guid()));
            o.insert("Number".into(), json!(co.next_order));
            o.insert("CreatedUtc".into(), json!(stamp));
            o.insert("ModifiedUtc".into(), json!(stamp));
            co.next_order += 1;
            co.orders.push(o);
        }
    }
    for i in 0..cfg.invoices + 1 {
        let days = 90 - (i as i64 * 80 / (cfg.invoices + 1) as i64);
        let day = (now - TimeDelta::days(days)).format("%Y-%m-%d").to_string();
        let body = doc_body(&co, &mut rng);
        let Ok(mut d) = check(&co, &body, Doc::Draft, &day) else {
            continue;
        };
        let stamp = at(days);
        d.insert("Id".into(), json!(co.guid()));
        d.insert("CreatedUtc".into(), json!(stamp));
        d.insert("ModifiedUtc".into(), json!(stamp));
        if i == cfg.invoices {
            co.drafts.push(d);
            continue;
        }
        let total = d["TotalAmountIncludingVat"].as_f64().unwrap_or(0.0);
        d.insert("InvoiceNumber".into(), json!(co.next_invoice));
        d.insert(
            "RemainingAmount".into(),
            json!(if i < cfg.invoices / 2 { 0.0 } else { total }),
        );
        co.next_invoice += 1;
        co.invoices.push(d);
    }
    co
}
