//! The shop a CCV sandbox starts with: the shared and shop-only products and customers of
//! [`crate::commerce`], the catalogue's categories (two under "Koffie"), a customer account
//! for every shared customer and every other shop customer, and `orders` orders over the
//! last 60 days in several states (a tenth not completed, so without a number). The first
//! shop-only product has variants (attribute combinations).

use chrono::{TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use super::facts::{fmt_time, FIRST_ORDERNUMBER, PRICES_INCLUDE_VAT};
use super::orders::{complete, make_row, retotal};
use super::{CcvConfig, Obj, Shop, Table};
use crate::commerce::{Party, VatClass, CATEGORIES};

/// First ids of each resource (real shops have large ids; any will do).
const FIRST_ORDER: u64 = 100_001;
const FIRST_PRODUCT: u64 = 2001;
const FIRST_CATEGORY: u64 = 11;
const FIRST_USER: u64 = 501;

fn obj(v: Value) -> Obj {
    v.as_object().cloned().unwrap_or_default()
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A party as CCV's Personalinfo (`order.customer`, `user.userinfo`).
pub(super) fn personalinfo(p: &Party) -> Value {
    let company = p.company.as_ref().map_or("", |c| c.name.as_str());
    let address = json!({"first_name": p.first_name, "last_name": p.last_name,
        "company": company, "street": p.street, "housenumber": p.housenumber,
        "housenumber_suffix": p.housenumber_suffix, "zipcode": p.zipcode, "city": p.city,
        "country_code": p.country.code(), "telephone": p.phone, "mobile": ""});
    let kvk = match &p.company {
        Some(c) if p.country.code() == "NL" => c.registration.clone(),
        _ => String::new(),
    };
    json!({"email": p.email, "btw": p.company.as_ref().map_or("", |c| c.vat.as_str()),
        "kvk": kvk, "billingaddress": address, "deliveryaddress": address})
}

/// The shop's initial data.
pub(super) fn shop(cfg: &CcvConfig) -> Shop {
    let now = Utc::now();
    let mut shop = Shop {
        orders: Table::starting_at(FIRST_ORDER),
        orderrows: Table::starting_at(900_001),
        products: Table::starting_at(FIRST_PRODUCT),
        categories: Table::starting_at(FIRST_CATEGORY),
        links: Table::starting_at(70_001),
        users: Table::starting_at(FIRST_USER),
        webhooks: Table::starting_at(1),
        next_ordernumber: FIRST_ORDERNUMBER,
    };
    let mut rng = StdRng::seed_from_u64(cfg.sizes.seed ^ 0xCC5);
    let long_ago = fmt_time(now - TimeDelta::days(400));
    for (i, (name, parent)) in CATEGORIES.iter().enumerate() {
        shop.categories
            .insert(obj(json!({"name": name, "position": i + 1,
            "show_on_website": true,
            "parentcategory": parent.map(|p| FIRST_CATEGORY + p as u64)})));
    }
    let products = cfg.sizes.shop_products();
    for (i, p) in products.iter().enumerate() {
        let (tariff, pct) = match p.vat {
            VatClass::High => ("normal", 21.0),
            VatClass::Low => ("low a", 9.0),
            VatClass::Zero => ("zero", 0.0),
        };
        let price = if PRICES_INCLUDE_VAT {
            round2(p.price * (1.0 + pct / 100.0))
        } else {
            p.price
        };
        let modified = fmt_time(now - TimeDelta::days(90 - i as i64));
        let id = shop.products.insert(obj(json!({"productnumber": p.sku,
            "eannumber": if p.ean.is_empty() { Value::Null } else { json!(p.ean) },
            "name": p.name, "description": p.description,
            "shortdescription": p.short_description, "price": price, "discount": 0.0,
            "purchaseprice": round2(p.price * 0.55), "taxtariff": tariff,
            "stockenabled": p.vat != VatClass::Zero, "stocktype": "number",
            "stock": p.stock as f64, "ordering_without_stock": false, "is_active": true,
            "createdate": long_ago, "modifydate": modified})));
        shop.links.insert(obj(json!({"product_id": id,
            "category_id": FIRST_CATEGORY + p.category as u64, "position": i + 1})));
        // The first shop-only product has variants (two pack sizes): not a simple product.
        if i == cfg.sizes.shared_products {
            if let Some(rec) = shop.products.rows.get_mut(&id) {
                rec.insert(
                    "_combinations".into(),
                    json!([{"id": id * 10 + 1, "sku": format!("{}-S", p.sku), "stock": 4.0},
                           {"id": id * 10 + 2, "sku": format!("{}-L", p.sku), "stock": 2.0}]),
                );
            }
        }
    }
    let customers = cfg.sizes.shop_customers();
    let mut accounts: Vec<Option<u64>> = Vec::new();
    for (i, c) in customers.iter().enumerate() {
        let has_account = i < cfg.sizes.shared_customers || i % 2 == 0;
        accounts.push(has_account.then(|| {
            shop.users
                .insert(obj(json!({"username": c.email, "status": "active",
                "approval_status": "approved", "userinfo": personalinfo(c),
                "createdate": long_ago})))
        }));
    }
    let mut times: Vec<i64> = (0..cfg.orders)
        .map(|_| rng.gen_range(60..60 * 24 * 60))
        .collect();
    times.sort_unstable_by(|a, b| b.cmp(a));
    let product_ids: Vec<u64> = shop.products.rows.keys().copied().collect();
    for minutes_ago in times {
        if customers.is_empty() || product_ids.is_empty() {
            break;
        }
        let who = rng.gen_range(0..customers.len());
        let k = rng.gen_range(0..100);
        let (completed, status, paid, paymethod) = match k {
            0..=9 => (false, 1, false, "ideal"),
            10..=24 => (true, 1, true, "ideal"),
            25..=34 => (true, 4, false, "banktransfer"),
            35..=49 => (true, 2, true, "ideal"),
            50..=69 => (true, 5, true, "creditcard"),
            70..=79 => (true, 6, true, "paypal"),
            80..=89 => (true, 7, true, "ideal"),
            90..=94 => (true, 8, false, "banktransfer"),
            _ => (true, 13, true, "ideal"),
        };
        let created = fmt_time(now - TimeDelta::minutes(minutes_ago));
        let track = (status == 5 || status == 6)
            .then(|| format!("3SPOST{:09}", rng.gen_range(0..1_000_000_000u64)));
        let mut order = obj(json!({"ordernumber_prefix": null, "ordernumber": null,
            "ordernumber_full": null, "invoicenumber": null, "create_date": created,
            "status": status, "is_completed": false, "paid": paid,
            "deliver_method": if rng.gen_range(0..8) == 0 { "pickup" } else { "shipping" },
            "deliver_date": null, "paymethod": paymethod, "currency": "EUR",
            "total_price": 0.0, "total_tax": 0.0, "total_shipping": 0.0,
            "track_and_trace_code": track, "user_id": accounts[who],
            "customer": personalinfo(&customers[who])}));
        if completed {
            complete(&mut shop, &mut order);
        }
        let oid = shop.orders.next;
        let n = rng.gen_range(1..=4);
        let mut rows = Vec::new();
        for _ in 0..n {
            let pid = product_ids[rng.gen_range(0..product_ids.len())];
            let count = f64::from(rng.gen_range(1..=3u8));
            if let Ok(r) = make_row(&shop, oid, pid, count, None, 0.0) {
                rows.push(r);
            }
        }
        let subtotal: f64 = rows.iter().filter_map(|r| r["total_price"].as_f64()).sum();
        if order["deliver_method"] == json!("shipping") && subtotal < 50.0 {
            order.insert("total_shipping".into(), json!(4.95));
        }
        let id = shop.orders.insert(order);
        for r in rows {
            shop.orderrows.insert(r);
        }
        retotal(&mut shop, id);
    }
    shop
}
