//! CCV Shop ⇄ Visma e-conomic and CCV Shop ⇄ Visma eAccounting (issue 13), end to end: the
//! local runtime between the CCV sandbox and each accounting sandbox, on the flows' presets.
//! Every test runs once per accounting system (`…::economic`, `…::eaccounting`); names carry
//! the requirement ids they prove.

use puente_core::Kind;
use puente_e2e::apc::{ApcEnv, Books};
use puente_runtime::Mode;
use puente_store::Action;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// One `#[tokio::test]` per accounting system, in a module named after the property.
macro_rules! both {
    ($name:ident) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn economic() {
                super::$name(Books::Economic).await
            }
            #[tokio::test]
            async fn eaccounting() {
                super::$name(Books::EAccounting).await
            }
        }
    };
}

const ALL: &[&str] = &["contact", "product", "stock", "order"];

fn total_writes(s: &puente_runtime::Summary) -> u64 {
    s.entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum()
}

/// APC-1: only paid (not cancelled) orders reach the books, each once, for a customer
/// found by email (created once, however many orders it has) and with every product made
/// to exist first; a second run writes nothing.
async fn apc1_paid_orders_reach_the_books_once(books: Books) {
    let env = ApcEnv::start(books, ALL, "").await;
    let seeded: BTreeSet<String> = env
        .acc_customers()
        .iter()
        .map(|c| env.customer_id(c))
        .collect();
    let first = env.sync(Mode::Full).await;
    // Simple products only (APC-6): an order of a product with variants cannot be sent,
    // and fails saying so; everything else goes through.
    let variable: BTreeSet<u64> = env
        .shop()
        .records("products")
        .iter()
        .filter(|p| {
            p["attributecombinations"]["items"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .filter_map(|p| p["id"].as_u64())
        .collect();
    assert!(!variable.is_empty(), "the seed has a product with variants");
    let rows = env.shop().records("orderrows");
    let has_variable = |o: &Value| {
        rows.iter().any(|r| {
            r["order_id"] == o["id"]
                && r["product_id"]
                    .as_u64()
                    .is_some_and(|p| variable.contains(&p))
        })
    };
    let (stuck, paid): (Vec<Value>, Vec<Value>) = env
        .paid_shop_orders()
        .into_iter()
        .partition(|o| has_variable(o));
    assert!(paid.len() >= 5, "the seed has paid orders: {}", paid.len());
    let failed: u64 = first.entities.values().map(|c| c.failed).sum();
    assert_eq!(
        failed,
        stuck.len() as u64,
        "only orders of variable products fail: {first:?}"
    );
    if !stuck.is_empty() {
        let reasons = env.reasons(Kind::Order).await;
        let skus: Vec<String> = env
            .shop()
            .records("products")
            .iter()
            .filter(|p| p["id"].as_u64().is_some_and(|i| variable.contains(&i)))
            .map(|p| p["productnumber"].as_str().unwrap_or("").to_string())
            .collect();
        assert!(
            reasons
                .iter()
                .any(|r| skus.iter().any(|s| r.contains(&format!("product {s}")))),
            "the failure names the product: {reasons:?}"
        );
        let product_reasons = env.reasons(Kind::Product).await;
        assert!(
            product_reasons.iter().any(|r| r.contains("variable")),
            "the product's own entry says why: {product_reasons:?}"
        );
    }
    let unpaid: Vec<Value> = env
        .shop()
        .records("orders")
        .into_iter()
        .filter(|o| o["paid"] != json!(true) || o["status"] == json!(8))
        .collect();
    assert!(
        !unpaid.is_empty(),
        "the seed has unpaid or cancelled orders"
    );
    let docs = env.docs_from_shop("invoice");
    let numbers: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    let distinct: BTreeSet<&str> = numbers.iter().copied().collect();
    assert_eq!(
        numbers.len(),
        distinct.len(),
        "each order once: {numbers:?}"
    );
    let want: BTreeSet<String> = paid
        .iter()
        .map(|o| o["ordernumber_full"].as_str().unwrap_or("").to_string())
        .collect();
    let got: BTreeSet<String> = distinct.iter().map(|s| s.to_string()).collect();
    assert_eq!(got, want, "exactly the paid orders");
    // The customer of each document is the one with the order's email, and there is one.
    for o in &paid {
        let number = o["ordernumber_full"].as_str().unwrap();
        let email = o["customer"]["email"].as_str().unwrap().to_lowercase();
        let found = env.customers_by_email(&email);
        assert_eq!(found.len(), 1, "one customer {email}: {found:?}");
        let doc = &docs.iter().find(|(n, _)| n == number).unwrap().1;
        assert_eq!(
            env.doc_customer(doc),
            env.customer_id(&found[0]),
            "{number}"
        );
        // Every product of the order exists in the books and is on the document.
        let lines = env.doc_lines(doc);
        for r in rows.iter().filter(|r| r["order_id"] == o["id"]) {
            let sku = r["product_number"].as_str().unwrap();
            assert!(env.acc_product(sku).is_some(), "{sku} exists in the books");
            assert!(
                lines.iter().any(
                    |(s, _, q, _)| s == sku && (*q - r["count"].as_f64().unwrap()).abs() < 1e-9
                ),
                "{number}: a line of {sku}: {lines:?}"
            );
        }
        // A company's order makes a company customer; a person's a private one.
        let company = o["customer"]["billingaddress"]["company"]
            .as_str()
            .unwrap_or("");
        let c = &found[0];
        match books {
            Books::Economic => {
                if !seeded.contains(&env.customer_id(c)) && company.is_empty() {
                    assert!(c.get("attention").is_none(), "private debtor: {c}");
                } else if !seeded.contains(&env.customer_id(c)) {
                    assert_eq!(env.customer_name(c), company);
                    assert!(
                        c["attention"]["customerContactNumber"].is_u64(),
                        "a company debtor names its contact person: {c}"
                    );
                }
            }
            Books::EAccounting => {
                assert_eq!(c["IsPrivatePerson"], json!(company.is_empty()), "{c}");
                if !company.is_empty() {
                    assert_eq!(env.customer_name(c), company);
                    assert!(
                        !c["ContactPersonName"].as_str().unwrap_or("").is_empty(),
                        "a company customer names its contact person: {c}"
                    );
                }
            }
        }
    }
    let again = env.sync(Mode::Full).await;
    assert_eq!(
        total_writes(&again),
        0,
        "a second run writes nothing: {again:?}"
    );
    assert_eq!(env.docs_from_shop("invoice").len(), docs.len());
}
both!(apc1_paid_orders_reach_the_books_once);

/// The `[flows.options.<books>]` table with `pairs`.
fn options(books: Books, pairs: &str) -> String {
    format!("[flows.options.{}]\n{pairs}\n", books.name())
}

/// APC-2: the flow's document type decides what the paid orders become: quote, order,
/// invoice (draft) or booked invoice; the other types get none.
async fn apc2_document_type_per_flow(books: Books) {
    let types = ["quote", "order", "invoice", "booked_invoice"];
    for t in types {
        let env = ApcEnv::start(books, ALL, &options(books, &format!("document = \"{t}\""))).await;
        env.sync(Mode::Full).await;
        let made = env.docs_from_shop(t);
        assert!(
            made.len() >= 5,
            "{t}: paid orders became {t}s: {}",
            made.len()
        );
        let numbers: BTreeSet<&str> = made.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(numbers.len(), made.len(), "{t}: each order once");
        for other in types.iter().filter(|o| **o != t) {
            // A booked invoice is made from a draft that is then gone; a draft of an
            // order flow is not one of its invoices.
            assert!(
                env.docs_from_shop(other).is_empty(),
                "{t} flow: no {other} from the shop"
            );
        }
        // The documents reserve stock in the books (orders): the next run carries the new
        // levels to the shop and writes nothing else; the one after writes nothing at all.
        let again = env.sync(Mode::Full).await;
        for k in ["contact", "product", "order"] {
            let c = &again.entities[k];
            assert_eq!(
                c.created_total() + c.updated_total(),
                0,
                "{t}: {k}: {again:?}"
            );
        }
        let third = env.sync(Mode::Full).await;
        assert_eq!(total_writes(&third), 0, "{t}: {third:?}");
        assert_eq!(env.docs_from_shop(t).len(), made.len());
    }
}
both!(apc2_document_type_per_flow);

/// APC-3: the mapping tables: payment method → payment terms and text, shipping method →
/// the shipping line's text (and its product), discount coupon → its product, order
/// status (eAccounting orders); a value a table does not hold fails the order with a
/// reason naming the table and the value, and nothing is written for it.
async fn apc3_mapping_tables_and_unmapped_values(books: Books) {
    let mut env = ApcEnv::start(books, ALL, "").await;
    env.sync(Mode::Full).await;
    // Products that stand for shipping and discounts in the books (any product there).
    let ship_sku = env.product_sku(&env.acc_products()[0]);
    let disc_sku = env.product_sku(&env.acc_products()[1]);
    let extra = format!(
        "[flows.tables.shipping_costs]\nshipping = \"{ship_sku}\"\n[flows.tables.discounts]\n\"*\" = \"{disc_sku}\"\n"
    );
    env.reconfigure(ALL, &extra);
    let bank = env
        .place_paid_order(
            0,
            0,
            2.0,
            json!({"paymethod": "banktransfer", "deliver_method": "shipping", "total_shipping": 6.95,
                   "discountcoupon": {"code": "WELKOM5", "discount": 5.0}}),
        )
        .await;
    let klarna = env
        .place_paid_order(1, 1, 1.0, json!({"paymethod": "klarna"}))
        .await;
    let s = env.sync(Mode::Full).await;
    let docs = env.docs_from_shop("invoice");
    let number = |o: &Value| o["ordernumber_full"].as_str().unwrap().to_string();
    let doc = &docs
        .iter()
        .find(|(n, _)| *n == number(&bank))
        .expect("the bank-transfer order was sent")
        .1;
    let lines = env.doc_lines(doc);
    match books {
        Books::Economic => {
            assert_eq!(doc["paymentTerms"]["paymentTermsNumber"], json!(2), "{doc}");
            assert_eq!(doc["notes"]["textLine1"], json!("Bankoverførsel"));
            assert!(
                lines.iter().any(|(sku, d, _, p)| sku == &ship_sku
                    && d == "Forsendelse"
                    && (*p - 6.95 / 1.21).abs() < 0.011),
                "the shipping line: {lines:?}"
            );
        }
        Books::EAccounting => {
            assert_eq!(doc["OurReference"], json!("Banköverföring"), "{doc}");
            assert_eq!(doc["DeliveryMethodName"], json!("Frakt"));
            assert!(
                lines.iter().any(|(sku, d, _, p)| sku == &ship_sku
                    && d == "Frakt"
                    && (*p - 6.95 / 1.21).abs() < 0.011),
                "the shipping line: {lines:?}"
            );
        }
    }
    assert!(
        lines
            .iter()
            .any(|(sku, _, _, p)| sku == &disc_sku && (*p + 5.0 / 1.21).abs() < 0.011),
        "the discount line: {lines:?}"
    );
    // The unmapped payment method: no document, a failure naming the table and the value.
    assert!(
        !docs.iter().any(|(n, _)| *n == number(&klarna)),
        "an order with an unmapped value is not sent"
    );
    assert!(s.entities["order"].failed >= 1, "{s:?}");
    let table = match books {
        Books::Economic => "payment_terms",
        Books::EAccounting => "payment_methods",
    };
    let reasons = env.reasons(Kind::Order).await;
    assert!(
        reasons
            .iter()
            .any(|r| r.contains(&format!("'klarna' is not in table '{table}'"))),
        "the reason names the table and the value: {reasons:?}"
    );
    // Mapped, it goes through.
    env.reconfigure(
        ALL,
        &format!(
            "{extra}[flows.tables.{table}]\nklarna = \"{}\"\n{}",
            if books == Books::Economic {
                "1"
            } else {
                "Betald med Klarna"
            },
            // e-conomic also prints the method on the document.
            if books == Books::Economic {
                "[flows.tables.payment_methods]\nklarna = \"Betalt med Klarna\"\n"
            } else {
                ""
            }
        ),
    );
    let s = env.sync(Mode::Full).await;
    assert!(
        env.docs_from_shop("invoice")
            .iter()
            .any(|(n, _)| *n == number(&klarna)),
        "mapped, it goes through: {s:?} {:?}",
        env.reasons(Kind::Order)
            .await
            .iter()
            .take(3)
            .collect::<Vec<_>>()
    );
    if books == Books::EAccounting {
        // Order status (orders only): the shop's status through `order_status`.
        let env = ApcEnv::start(books, ALL, &options(books, "document = \"order\"")).await;
        env.sync(Mode::Full).await;
        let shop = env.shop().records("orders");
        let mut seen = BTreeSet::new();
        for (n, d) in env.docs_from_shop("order") {
            let o = shop
                .iter()
                .find(|o| o["ordernumber_full"] == json!(n))
                .unwrap();
            let want = match o["status"].as_u64().unwrap() {
                5 => 3,
                6 | 7 => 4,
                _ => 1,
            };
            assert_eq!(d["Status"], json!(want), "order {n} status {}", o["status"]);
            seen.insert(want);
        }
        assert!(seen.len() >= 2, "several statuses mapped: {seen:?}");
    }
}
both!(apc3_mapping_tables_and_unmapped_values);

/// The shop's stock of `sku`.
fn shop_stock(env: &ApcEnv, sku: &str) -> f64 {
    env.shop().product_by_sku(sku).expect("in the shop")["stock"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// The books' stock of `sku`: (in stock, reserved, available).
fn books_stock(env: &ApcEnv, sku: &str) -> (f64, f64, f64) {
    let p = env.acc_product(sku).expect("in the books");
    match env.books {
        Books::Economic => {
            let i = &p["inventory"];
            let n = |k: &str| i[k].as_f64().unwrap_or(0.0);
            (
                n("inStock"),
                n("orderedByCustomers"),
                n("inStock") - n("orderedByCustomers"),
            )
        }
        Books::EAccounting => {
            let n = |k: &str| p[k].as_f64().unwrap_or(0.0);
            (
                n("StockBalance"),
                n("StockBalanceReserved"),
                n("StockBalanceAvailable"),
            )
        }
    }
}

/// APC-4: stock from the books to the shop, available − reserved by default, another
/// formula when the flow says so; update-only (a product only the books have is not
/// made in the shop by its stock); an unchanged level costs no write; whether the shop
/// manages stock is the flow's to set.
async fn apc4_stock_to_the_shop(books: Books) {
    let mut env = ApcEnv::start(books, &["stock"], "").await;
    let shop_skus: BTreeSet<String> = env
        .shop()
        .records("products")
        .iter()
        .map(|p| p["productnumber"].as_str().unwrap().to_string())
        .collect();
    let shared: Vec<String> = env
        .acc_products()
        .iter()
        .map(|p| env.product_sku(p))
        .filter(|s| shop_skus.contains(s))
        .collect();
    assert!(shared.len() >= 3, "shared products: {shared:?}");
    let books_only = env
        .acc_products()
        .iter()
        .map(|p| env.product_sku(p))
        .find(|s| !shop_skus.contains(s))
        .expect("a product only the books have");
    let sku = shared[0].clone();
    env.set_acc_stock(&sku, 40.0);
    let s = env.sync(Mode::Full).await;
    assert!(s.entities["stock"].created.is_empty(), "update-only: {s:?}");
    for k in &shared {
        let (_, _, available) = books_stock(&env, k);
        assert_eq!(shop_stock(&env, k), available, "{k}: available − reserved");
    }
    let (in_stock, reserved, _) = books_stock(&env, &sku);
    assert_eq!(in_stock, 40.0);
    assert_eq!(shop_stock(&env, &sku), 40.0 - reserved);
    assert!(env.shop().product_by_sku(&books_only).is_none());
    // Unchanged: no write at all.
    env.ccv.reset_stats();
    let again = env.sync(Mode::Full).await;
    assert_eq!(total_writes(&again), 0, "{again:?}");
    assert!(
        env.ccv.writes().is_empty(),
        "no write to the shop: {:?}",
        env.ccv.writes()
    );
    // A new count reaches the shop on the next Modified run, and only it is written.
    env.set_acc_stock(&sku, 12.0);
    env.ccv.reset_stats();
    let m = env.sync(Mode::Modified).await;
    assert_eq!(m.entities["stock"].updated.get("ccv"), Some(&1), "{m:?}");
    let (_, reserved, _) = books_stock(&env, &sku);
    assert_eq!(shop_stock(&env, &sku), 12.0 - reserved);
    // Another formula: what is in stock, reserved or not.
    env.reconfigure(&["stock"], &options(books, "stock_formula = \"in_stock\""));
    env.sync(Mode::Full).await;
    for k in &shared {
        let (in_stock, _, _) = books_stock(&env, k);
        assert_eq!(shop_stock(&env, k), in_stock, "{k}: in stock");
    }
    // The shop manages stock or not, as the flow says.
    let managed =
        |env: &ApcEnv, k: &str| env.shop().product_by_sku(k).unwrap()["stockenabled"].clone();
    env.reconfigure(
        &["stock"],
        &format!(
            "[flows.mapping.stock.{}]\nmanaged = \"'false'\"\n",
            books.name()
        ),
    );
    env.sync(Mode::Full).await;
    for k in &shared {
        assert_eq!(managed(&env, k), json!(false), "{k}");
    }
    env.reconfigure(
        &["stock"],
        &format!(
            "[flows.mapping.stock.{}]\nmanaged = \"'true'\"\n",
            books.name()
        ),
    );
    env.sync(Mode::Full).await;
    for k in &shared {
        assert_eq!(managed(&env, k), json!(true), "{k}");
    }
}
both!(apc4_stock_to_the_shop);

/// APC-5: customers both ways by email; a new customer in the books takes its VAT zone
/// (tax code) and customer group (revenue account) by country, and its currency; a
/// customer made in the books reaches the shop; a later order with a new address updates
/// the customer.
async fn apc5_customers_both_ways(books: Books) {
    let env = ApcEnv::start(books, ALL, "").await;
    let seeded: BTreeSet<String> = env
        .acc_customers()
        .iter()
        .map(|c| env.customer_id(c))
        .collect();
    env.sync(Mode::Full).await;
    let users = env.shop().records("users");
    let mut made = 0;
    let mut countries = BTreeSet::new();
    for u in &users {
        let info = &u["userinfo"];
        let email = info["email"].as_str().unwrap().to_lowercase();
        let found = env.customers_by_email(&email);
        assert_eq!(found.len(), 1, "one customer {email}");
        let c = &found[0];
        if seeded.contains(&env.customer_id(c)) {
            continue;
        }
        made += 1;
        let country = info["billingaddress"]["country_code"].as_str().unwrap();
        countries.insert(country.to_string());
        let currency = match country {
            "DK" => "DKK",
            "SE" => "SEK",
            _ => "EUR",
        };
        match books {
            Books::Economic => {
                let zone = if country == "DK" { 1 } else { 2 };
                assert_eq!(
                    c["vatZone"]["vatZoneNumber"],
                    json!(zone),
                    "{email} {country}"
                );
                assert_eq!(
                    c["customerGroup"]["customerGroupNumber"],
                    json!(zone),
                    "{email}"
                );
                assert_eq!(c["currency"], json!(currency), "{email}");
            }
            Books::EAccounting => {
                assert_eq!(c["CurrencyCode"], json!(currency), "{email}");
                assert_eq!(c["InvoiceCountryCode"], json!(country), "{email}");
            }
        }
    }
    assert!(made >= 5, "shop customers were made in the books: {made}");
    assert!(!countries.is_empty());
    // Made in the books → an account in the shop.
    let body = match books {
        Books::Economic => json!({"name": "Mette Bogholder", "email": "mette.bog@eksempel.dk",
            "currency": "DKK", "customerGroup": {"customerGroupNumber": 1},
            "vatZone": {"vatZoneNumber": 1}, "paymentTerms": {"paymentTermsNumber": 1},
            "address": "Vestergade 4", "zip": "8000", "city": "Aarhus", "country": "Denmark"}),
        Books::EAccounting => {
            json!({"Name": "Karin Bokförare", "EmailAddress": "karin.bok@exempel.se",
            "IsPrivatePerson": true, "InvoiceAddress1": "Storgatan 4", "InvoicePostalCode": "41101",
            "InvoiceCity": "Göteborg", "InvoiceCountryCode": "SE", "CurrencyCode": "SEK",
            "TermsOfPaymentId": env.acc_records("customers")[0]["TermsOfPaymentId"]})
        }
    };
    let email = if books == Books::Economic {
        "mette.bog@eksempel.dk"
    } else {
        "karin.bok@exempel.se"
    };
    env.acc_create_customer(body).await;
    env.sync(Mode::Modified).await;
    let accounts: Vec<Value> = env
        .shop()
        .records("users")
        .into_iter()
        .filter(|u| u["userinfo"]["email"] == json!(email))
        .collect();
    assert_eq!(accounts.len(), 1, "one shop account for {email}");
    // A guest (no shop account) orders twice, the second time from a new address: one
    // customer, updated.
    let mut who = env.shop_customer(3);
    let email = "gast.bestelt@voorbeeld.nl".to_string();
    who["email"] = json!(email);
    env.place_paid_order(3, 0, 1.0, json!({"customer": who.clone()}))
        .await;
    env.sync(Mode::Full).await;
    assert_eq!(
        env.customers_by_email(&email).len(),
        1,
        "the guest is a customer"
    );
    who["billingaddress"]["city"] = json!("Zwolle");
    who["deliveryaddress"]["city"] = json!("Zwolle");
    env.place_paid_order(3, 1, 1.0, json!({"customer": who}))
        .await;
    env.sync(Mode::Full).await;
    let c = env.customers_by_email(&email);
    assert_eq!(c.len(), 1, "still one customer {email}");
    let city = match books {
        Books::Economic => &c[0]["city"],
        Books::EAccounting => &c[0]["InvoiceCity"],
    };
    assert_eq!(city, &json!("Zwolle"), "{}", c[0]);
    let again = env.sync(Mode::Full).await;
    assert_eq!(total_writes(&again), 0, "{again:?}");
}
both!(apc5_customers_both_ways);

/// APC-6: products both ways by SKU: name, price without tax (with tax in the shop), EAN;
/// categories made in the shop; products with variants skipped with a reason; a field
/// marked create-only (the description) keeps what the shop enriched when the books
/// change the product. A product both sides already held with different prices keeps
/// each side's price at the first match, reported once as `conflict` (issue 17), and the
/// next price change on either side flows.
async fn apc6_products_both_ways_by_sku(books: Books) {
    let env = ApcEnv::start(books, &["product"], "").await;
    let books_net = |b: &Value| match books {
        Books::Economic => b["salesPrice"].as_f64().unwrap(),
        Books::EAccounting => b["NetPrice"].as_f64().unwrap(),
    };
    let rate_of = |p: &Value| match p["taxtariff"].as_str().unwrap() {
        "low a" | "low b" | "low" => 9.0,
        "zero" => 0.0,
        _ => 21.0,
    };
    let agree =
        |net: f64, gross: f64, rate: f64| (net * (1.0 + rate / 100.0) - gross).abs() < 0.011;
    // Before the first match: the products both sides hold, with each side's price.
    let before: BTreeMap<String, (f64, f64, f64)> = env
        .shop()
        .records("products")
        .iter()
        .filter_map(|p| {
            let sku = p["productnumber"].as_str()?.to_string();
            let b = env.acc_product(&sku)?;
            Some((sku, (books_net(&b), p["price"].as_f64()?, rate_of(p))))
        })
        .collect();
    let shop_skus: BTreeSet<String> = env
        .shop()
        .records("products")
        .iter()
        .map(|p| p["productnumber"].as_str().unwrap().to_string())
        .collect();
    let books_only: Vec<String> = env
        .acc_products()
        .iter()
        .map(|p| env.product_sku(p))
        .filter(|s| !shop_skus.contains(s.as_str()))
        .collect();
    assert!(
        !books_only.is_empty(),
        "the books have products the shop lacks"
    );
    let s = env.sync(Mode::Full).await;
    assert_eq!(s.entities["product"].failed, 0, "{s:?}");
    let shop = env.shop().records("products");
    let variable: Vec<&Value> = shop
        .iter()
        .filter(|p| {
            p["attributecombinations"]["items"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .collect();
    assert!(!variable.is_empty());
    let mut conflicts: Vec<String> = Vec::new();
    for p in &shop {
        let sku = p["productnumber"].as_str().unwrap();
        let in_books = env.acc_product(sku);
        if variable.iter().any(|v| v["id"] == p["id"]) {
            assert!(in_books.is_none(), "{sku} has variants: not sent");
            continue;
        }
        let b = in_books.unwrap_or_else(|| panic!("{sku} in the books"));
        let rate = rate_of(p);
        let gross = p["price"].as_f64().unwrap();
        let net = books_net(&b);
        match before.get(sku) {
            // Both held a price and they differed: each keeps its own.
            Some(&(net0, gross0, _)) if !agree(net0, gross0, rate) => {
                assert_eq!(
                    (net, gross),
                    (net0, gross0),
                    "{sku}: each side keeps its price"
                );
                conflicts.push(sku.to_string());
            }
            _ => assert!(
                agree(net, gross, rate),
                "{sku}: {net} net in the books, {gross} with {rate}% in the shop"
            ),
        }
        let name = match books {
            Books::Economic => &b["name"],
            Books::EAccounting => &b["Name"],
        };
        assert_eq!(name, &p["name"], "{sku}");
        if books == Books::Economic && p["eannumber"].is_string() {
            assert_eq!(b["barCode"], p["eannumber"], "{sku}: EAN");
        }
    }
    let reasons = env.reasons(Kind::Product).await;
    assert!(
        reasons.iter().any(|r| r.contains("variable")),
        "the skip says why: {reasons:?}"
    );
    // Issue 17: each product whose prices differed at the first match is one `conflict`
    // entry naming the price; then a price changed in the shop reaches the books.
    assert!(
        !conflicts.is_empty(),
        "the sandboxes seed shared products with different prices"
    );
    let logged = env.entries(Kind::Product, Action::Conflict).await;
    for sku in &conflicts {
        let of_sku: Vec<_> = logged
            .iter()
            .filter(|e| e.key.as_deref() == Some(sku.as_str()))
            .collect();
        assert_eq!(of_sku.len(), 1, "{sku}: one conflict entry: {logged:?}");
        assert!(
            of_sku[0].fields.iter().any(|f| f == "price"),
            "{:?}",
            of_sku[0]
        );
    }
    let sku = &conflicts[0];
    let (_, gross0, rate) = before[sku];
    assert!(env.shop().edit_product(sku, "price", json!(gross0 + 10.0)));
    env.sync(Mode::Full).await;
    let net = books_net(&env.acc_product(sku).unwrap());
    assert!(
        agree(net, gross0 + 10.0, rate),
        "{sku}: the shop's new price reached the books: {net} net"
    );
    // Books → shop, with the category made in the shop (e-conomic: its product group).
    for sku in &books_only {
        assert!(
            env.shop().product_by_sku(sku).is_some(),
            "{sku} made in the shop"
        );
    }
    if books == Books::Economic {
        let cats: Vec<String> = env
            .shop()
            .records("categories")
            .iter()
            .map(|c| c["name"].as_str().unwrap_or("").to_string())
            .collect();
        let groups: BTreeSet<String> = books_only
            .iter()
            .filter_map(|s| env.acc_product(s))
            .filter_map(|p| p["productGroup"]["productGroupNumber"].as_u64())
            .map(|g| match g {
                1 => "Varer m-moms".to_string(),
                2 => "Fødevarer".to_string(),
                _ => "Gavekort u/moms".to_string(),
            })
            .collect();
        for g in &groups {
            assert!(cats.contains(g), "category {g} made in the shop: {cats:?}");
        }
    }
    // The shop enriches a description; the books change the price: the price reaches the
    // shop, the description stays.
    let sku = &books_only[0];
    assert!(env
        .shop()
        .edit_product(sku, "description", json!("<p>Verrijkt in de webshop</p>")));
    env.sync(Mode::Full).await;
    env.acc_set_price(sku, 77.0).await;
    env.sync(Mode::Full).await;
    let p = env.shop().product_by_sku(sku).unwrap();
    assert_eq!(
        p["description"],
        json!("<p>Verrijkt in de webshop</p>"),
        "{p}"
    );
    let rate = if p["taxtariff"] == json!("normal") {
        1.21
    } else {
        p["price"].as_f64().unwrap() / 77.0
    };
    assert!(
        (p["price"].as_f64().unwrap() - 77.0 * rate).abs() < 0.011,
        "the new price reached the shop: {p}"
    );
    let again = env.sync(Mode::Full).await;
    assert_eq!(total_writes(&again), 0, "{again:?}");
}
both!(apc6_products_both_ways_by_sku);

/// APC-7: the datamapper: the preset's mapping works as is (APC-1..6); a user's write
/// mapping adds a field the API offers and passes a value through a transform; a bad
/// expression is a config error naming its key; a dry run shows the mapped documents and
/// writes nothing.
async fn apc7_datamapper(books: Books) {
    let (path, expr, want_key) = match books {
        Books::Economic => (
            "\"notes.textLine2\"",
            "'Webshop ' ~ (fields.customer | upper)",
            "textLine2",
        ),
        Books::EAccounting => (
            "DeliveryCustomerName",
            "fields.customer | upper",
            "DeliveryCustomerName",
        ),
    };
    let extra = format!(
        "[flows.mapping.order.{}.write]\n{path} = \"{expr}\"\n",
        books.name()
    );
    let env = ApcEnv::start(books, ALL, &extra).await;
    // Dry run: the documents as they would be sent, nothing written.
    let before = env.docs_from_shop("invoice").len();
    let dry = env.dry_run(Mode::Full).await;
    assert!(dry.errors.is_empty(), "{:?}", dry.errors);
    assert_eq!(
        env.docs_from_shop("invoice").len(),
        before,
        "a dry run writes nothing"
    );
    let previews: Vec<&Value> = dry
        .plan
        .iter()
        .filter(|p| p.kind == "order" && p.action == "create")
        .filter_map(|p| p.document.as_ref())
        .collect();
    assert!(
        previews.len() >= 5,
        "the mapped orders are shown: {}",
        previews.len()
    );
    for d in &previews {
        let text = d.to_string();
        let lines_key = if books == Books::Economic {
            "lines"
        } else {
            "Rows"
        };
        assert!(
            d[lines_key].as_array().is_some_and(|l| !l.is_empty()),
            "{text}"
        );
        assert!(
            text.contains(want_key),
            "the user's field is in the preview: {text}"
        );
    }
    let rendered = dry.render();
    assert!(rendered.contains(want_key), "{rendered}");
    // The real run: the user's field, transformed.
    env.sync(Mode::Full).await;
    let docs = env.docs_from_shop("invoice");
    assert!(docs.len() >= 5);
    let shop = env.shop().records("orders");
    for (n, d) in &docs {
        let o = shop
            .iter()
            .find(|o| o["ordernumber_full"] == json!(n))
            .unwrap();
        let email = o["customer"]["email"].as_str().unwrap().to_uppercase();
        match books {
            Books::Economic => assert_eq!(
                d["notes"]["textLine2"],
                json!(format!("Webshop {email}")),
                "{d}"
            ),
            Books::EAccounting => assert_eq!(d["DeliveryCustomerName"], json!(email), "{d}"),
        }
    }
    // A bad expression is refused when the config loads, naming the key.
    let bad = env.toml.replace(expr, "fields.customer |");
    let e = puente_runtime::Config::parse(&bad)
        .err()
        .map(|e| e.to_string())
        .or_else(|| {
            let store: std::sync::Arc<dyn puente_store::Store> =
                std::sync::Arc::new(puente_store::MemoryStore::new());
            puente_runtime::App::build(
                puente_runtime::Config::parse(&bad).unwrap(),
                store,
                puente_e2e::test_retry(),
            )
            .err()
            .map(|e| e.to_string())
        })
        .expect("a bad expression is a config error");
    assert!(e.contains(want_key), "the error names the key: {e}");
}
both!(apc7_datamapper);
