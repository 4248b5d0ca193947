//! The agreement an e-conomic sandbox starts with: the lookups, the shared and e-conomic-only
//! customers (Danish company, DKK; foreign customers in EUR or SEK, EU vat zone for
//! companies) with a contact person on each company, the shared and e-conomic-only products
//! (prices in DKK excluding VAT, EANs as `barCode`), a few order and quote drafts, sent and
//! archived documents, two invoice drafts and `booked_invoices` booked invoices, paid, unpaid
//! and overdue.

use chrono::{TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::documents::check_doc;
use super::{lookups, Books, EconomicConfig, Obj, Stage};
use crate::commerce::{Country, Party, Side, VatClass};

/// [I] EUR → DKK for the shared catalogue's prices.
const DKK_PER_EUR: f64 = 7.46;

fn obj(v: Value) -> Obj {
    v.as_object().cloned().unwrap_or_default()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A party as an e-conomic customer.
fn customer(n: u64, p: &Party, last_updated: &str) -> Obj {
    let company = p.company.is_some();
    let (currency, group, zone) = match (p.country, company) {
        (Country::Dk, _) => ("DKK", 1, 1),
        (Country::Nl, true) => ("EUR", 2, 2),
        (Country::Se, true) => ("SEK", 2, 2),
        (Country::Nl, false) => ("EUR", 2, 1),
        (Country::Se, false) => ("SEK", 2, 1),
    };
    let mut c = obj(
        json!({"customerNumber": n, "name": p.display_name(), "currency": currency,
        "customerGroup": {"customerGroupNumber": group}, "vatZone": {"vatZoneNumber": zone},
        "paymentTerms": {"paymentTermsNumber": if company { 2 } else { 4 }},
        "email": p.email, "address": p.address_line(), "zip": p.zipcode, "city": p.city,
        "country": p.country.name(), "mobilePhone": p.phone, "balance": 0.0,
        "lastUpdated": last_updated}),
    );
    if let Some(co) = &p.company {
        c.insert("vatNumber".into(), json!(co.vat));
        if p.country == Country::Dk {
            c.insert(
                "corporateIdentificationNumber".into(),
                json!(co.registration),
            );
        }
    }
    c
}

pub(super) fn books(cfg: &EconomicConfig) -> Books {
    let now = Utc::now();
    let stamp = |days: i64| {
        (now - TimeDelta::days(days))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    let date = |days: i64| (now - TimeDelta::days(days)).format("%Y-%m-%d").to_string();
    let mut books = Books {
        customers: Default::default(),
        contacts: Default::default(),
        next_contact: 1,
        products: Default::default(),
        orders: Default::default(),
        quotes: Default::default(),
        drafts: Default::default(),
        booked: Default::default(),
        lookups: lookups::seeded().into_iter().collect(),
        hooks: cfg.webhooks.iter().cloned().collect(),
    };
    let mut rng = StdRng::seed_from_u64(cfg.sizes.seed ^ 0xEC0);
    let parties = cfg.sizes.accounting_customers(Side::Economic);
    for (i, p) in parties.iter().enumerate() {
        let n = i as u64 + 1;
        let mut c = customer(n, p, &stamp(200 - i as i64));
        if i % 11 == 10 {
            c.insert("barred".into(), json!(true));
        }
        books.customers.insert(n, c);
        if p.company.is_some() {
            let cn = books.next_contact;
            books.next_contact += 1;
            books.contacts.insert(
                (n, cn),
                obj(
                    json!({"customerContactNumber": cn, "name": p.full_name(), "email": p.email,
                    "phone": p.phone, "customer": {"customerNumber": n}}),
                ),
            );
        }
    }
    for (i, p) in cfg
        .sizes
        .accounting_products(Side::Economic)
        .iter()
        .enumerate()
    {
        let group = match p.vat {
            VatClass::High => 1,
            VatClass::Low => 2,
            VatClass::Zero => 3,
        };
        let mut rec = obj(json!({"productNumber": p.sku, "name": p.name,
            "description": p.short_description, "salesPrice": round2(p.price * DKK_PER_EUR),
            "costPrice": round2(p.price * DKK_PER_EUR * 0.55),
            "productGroup": {"productGroupNumber": group}, "unit": {"unitNumber": 1},
            "inStock": p.stock as f64, "orderedFromSuppliers": f64::from(rng.gen_range(0..3u8) * 10),
            "lastUpdated": stamp(120 - i as i64)}));
        if !p.ean.is_empty() {
            rec.insert("barCode".into(), json!(p.ean));
        }
        books.products.insert(p.sku.clone(), rec);
    }
    let numbers: Vec<u64> = books.customers.keys().copied().collect();
    let skus: Vec<String> = books.products.keys().cloned().collect();
    if numbers.is_empty() || skus.is_empty() {
        return books;
    }
    let make = |books: &Books, rng: &mut StdRng, days: i64| -> Option<Obj> {
        let n = numbers[rng.gen_range(0..numbers.len())];
        let c = &books.customers[&n];
        let lines: Vec<Value> = (0..rng.gen_range(1..=3))
            .map(|_| {
                let sku = &skus[rng.gen_range(0..skus.len())];
                json!({"product": {"productNumber": sku}, "quantity": rng.gen_range(1..=6),
                       "unit": {"unitNumber": 1}})
            })
            .collect();
        let body = obj(
            json!({"date": date(days), "currency": c["currency"], "customer": {"customerNumber": n},
            "recipient": {"name": c["name"], "address": c["address"], "zip": c["zip"], "city": c["city"],
                          "country": c["country"], "vatZone": c["vatZone"]},
            "paymentTerms": c["paymentTerms"], "layout": {"layoutNumber": 19},
            "references": {"other": format!("Ref {}", rng.gen_range(100..999))},
            "lines": lines}),
        );
        check_doc(books, &body).ok()
    };
    let mut number = 1;
    for (stage, count, age) in [
        (Stage::Archived, 2, 90),
        (Stage::Sent, 3, 10),
        (Stage::Drafts, 3, 2),
    ] {
        for _ in 0..count {
            if let Some(mut d) = make(&books, &mut rng, age) {
                d.insert("orderNumber".into(), json!(number));
                books.orders.insert(number, (stage, d));
                number += 1;
            }
        }
    }
    let mut number = 1;
    for (stage, count, age) in [
        (Stage::Archived, 1, 60),
        (Stage::Sent, 1, 8),
        (Stage::Drafts, 2, 1),
    ] {
        for _ in 0..count {
            if let Some(mut d) = make(&books, &mut rng, age) {
                d.insert("quoteNumber".into(), json!(number));
                books.quotes.insert(number, (stage, d));
                number += 1;
            }
        }
    }
    for n in 1..=2 {
        if let Some(mut d) = make(&books, &mut rng, 0) {
            d.insert("draftInvoiceNumber".into(), json!(n));
            books.drafts.insert(n, d);
        }
    }
    // Booked: the oldest paid, then unpaid (the oldest of those overdue).
    for i in 0..cfg.booked_invoices {
        let age = 120 - (i as i64 * 100 / cfg.booked_invoices.max(1) as i64);
        let Some(mut d) = make(&books, &mut rng, age) else {
            continue;
        };
        let n = 10_001 + i as u64;
        let gross = d["grossAmount"].as_f64().unwrap_or(0.0);
        let days = lookups::get(
            &books,
            "payment-terms",
            d["paymentTerms"]["paymentTermsNumber"]
                .as_u64()
                .unwrap_or(1),
        )
        .and_then(|t| t["daysOfCredit"].as_i64())
        .unwrap_or(8);
        let paid = i < cfg.booked_invoices / 2;
        let remainder = if paid { 0.0 } else { gross };
        d.insert("bookedInvoiceNumber".into(), json!(n));
        d.insert("dueDate".into(), json!(date(age - days)));
        d.insert("remainder".into(), json!(remainder));
        d.insert("remainderInBaseCurrency".into(), json!(remainder));
        if let Some(c) = d["customer"]["customerNumber"]
            .as_u64()
            .and_then(|c| books.customers.get_mut(&c))
        {
            let b = c["balance"].as_f64().unwrap_or(0.0);
            c.insert("balance".into(), json!(round2(b + remainder)));
        }
        books.booked.insert(n, d);
    }
    books
}
