//! Rows a fresh database has (currencies, countries, Spanish provinces, taxes, the company and
//! its users) and loading an [`OdooSeed`] through the API code paths.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::fault::{value_err, R};
use super::tx::Tx;
use super::values::{fmt_dt_micro, parse_stored_dt, to_datetime};
use super::{
    OdooConfig, OdooSeed, ADMIN_UID, COMPANY_PARTNER_ID, EUR_ID, FIRST_PARTNER_ID, SALE_TAX_ID,
    SPAIN_ID, UNITS_ID,
};

/// Spanish provinces as in Odoo's `res.country.state` data (code, name).
const SPANISH_STATES: [(&str, &str); 52] = [
    ("VI", "Álava (Araba)"),
    ("AB", "Albacete"),
    ("A", "Alacant (Alicante)"),
    ("AL", "Almería"),
    ("O", "Asturias"),
    ("AV", "Ávila"),
    ("BA", "Badajoz"),
    ("PM", "Balears (Baleares)"),
    ("B", "Barcelona"),
    ("BU", "Burgos"),
    ("CC", "Cáceres"),
    ("CA", "Cádiz"),
    ("S", "Cantabria"),
    ("CS", "Castelló (Castellón)"),
    ("CE", "Ceuta"),
    ("CR", "Ciudad Real"),
    ("CO", "Córdoba"),
    ("CU", "Cuenca"),
    ("GI", "Girona (Gerona)"),
    ("GR", "Granada"),
    ("GU", "Guadalajara"),
    ("SS", "Gipuzkoa (Guipúzcoa)"),
    ("H", "Huelva"),
    ("HU", "Huesca"),
    ("J", "Jaén"),
    ("C", "A Coruña (La Coruña)"),
    ("LO", "La Rioja"),
    ("GC", "Las Palmas"),
    ("LE", "León"),
    ("L", "Lleida (Lérida)"),
    ("LU", "Lugo"),
    ("M", "Madrid"),
    ("MA", "Málaga"),
    ("ML", "Melilla"),
    ("MU", "Murcia"),
    ("NA", "Navarra (Nafarroa)"),
    ("OR", "Ourense (Orense)"),
    ("P", "Palencia"),
    ("PO", "Pontevedra"),
    ("SA", "Salamanca"),
    ("TF", "Santa Cruz de Tenerife"),
    ("SG", "Segovia"),
    ("SE", "Sevilla"),
    ("SO", "Soria"),
    ("T", "Tarragona"),
    ("TE", "Teruel"),
    ("TO", "Toledo"),
    ("V", "València (Valencia)"),
    ("VA", "Valladolid"),
    ("BI", "Bizkaia (Vizcaya)"),
    ("ZA", "Zamora"),
    ("Z", "Zaragoza"),
];
const FIRST_STATE_ID: i64 = 415;

/// `res.country.state` id of a Spanish province by its Odoo code (`M`,
/// `B`, `SE`, …).
pub fn spanish_state_id(code: &str) -> Option<i64> {
    SPANISH_STATES
        .iter()
        .position(|(c, _)| *c == code)
        .map(|i| FIRST_STATE_ID + i as i64)
}

/// (id, code, name, currency, phone code).
const COUNTRIES: [(i64, &str, &str, i64, i64); 10] = [
    (20, "BE", "Belgium", 1, 32),
    (48, "CO", "Colombia", 2, 57),
    (57, "DE", "Germany", 1, 49),
    (68, "ES", "Spain", 1, 34),
    (75, "FR", "France", 1, 33),
    (109, "IT", "Italy", 1, 39),
    (156, "MX", "Mexico", 2, 52),
    (183, "PT", "Portugal", 1, 351),
    (231, "GB", "United Kingdom", 3, 44),
    (233, "US", "United States", 2, 1),
];

fn put_row(tx: &mut Tx, model: &'static str, id: i64, vals: Value) {
    let now = json!(fmt_dt_micro(tx.now));
    let mut rec = vals.as_object().cloned().unwrap_or_default();
    rec.insert("create_date".into(), now.clone());
    rec.insert("write_date".into(), now);
    rec.insert("create_uid".into(), json!(1));
    rec.insert("write_uid".into(), json!(1));
    let t = tx.table_mut(model);
    t.rows.insert(id, rec);
    t.next_id = t.next_id.max(id + 1);
}

pub(super) fn base_data(tx: &mut Tx, cfg: &OdooConfig) {
    for (id, name, symbol, pos, active) in [
        (1, "EUR", "€", "after", true),
        (2, "USD", "$", "before", true),
        (3, "GBP", "£", "before", false),
    ] {
        put_row(
            tx,
            "res.currency",
            id,
            json!({"name": name, "symbol": symbol, "rounding": 0.01,
            "position": pos, "active": active}),
        );
    }
    for (id, code, name, cur, phone) in COUNTRIES {
        put_row(
            tx,
            "res.country",
            id,
            json!({"name": name, "code": code, "currency_id": cur,
            "phone_code": phone}),
        );
    }
    for (i, (code, name)) in SPANISH_STATES.iter().enumerate() {
        put_row(
            tx,
            "res.country.state",
            FIRST_STATE_ID + i as i64,
            json!({"name": name, "code": code, "country_id": SPAIN_ID}),
        );
    }
    put_row(
        tx,
        "uom.uom",
        UNITS_ID,
        json!({"name": "Units", "factor": 1.0, "active": true}),
    );
    for (id, use_) in [(SALE_TAX_ID, "sale"), (2, "purchase")] {
        let mut t = json!({"name": "15%", "amount": 15.0, "amount_type": "percent",
            "type_tax_use": use_, "active": true, "company_id": 1});
        if tx.s.version < 18 {
            t["price_include"] = json!(false);
        }
        put_row(tx, "account.tax", id, t);
    }
    put_row(
        tx,
        "res.partner",
        COMPANY_PARTNER_ID,
        json!({"name": "My Company", "is_company": true,
        "type": "contact", "active": true, "company_id": 1, "country_id": SPAIN_ID, "lang": "en_US"}),
    );
    put_row(
        tx,
        "res.partner",
        2,
        json!({"name": "OdooBot", "type": "contact", "active": false,
        "email": "odoobot@example.com", "lang": "en_US", "is_company": false}),
    );
    put_row(
        tx,
        "res.partner",
        3,
        json!({"name": "Administrator", "type": "contact", "active": true,
        "email": "admin@example.com", "company_id": 1, "lang": "en_US", "is_company": false}),
    );
    tx.table_mut("res.partner").next_id = FIRST_PARTNER_ID;
    put_row(
        tx,
        "res.company",
        1,
        json!({"name": "My Company", "partner_id": COMPANY_PARTNER_ID,
        "currency_id": EUR_ID, "country_id": SPAIN_ID}),
    );
    put_row(
        tx,
        "res.users",
        1,
        json!({"name": "OdooBot", "login": "__system__", "partner_id": 2,
        "active": false, "company_id": 1}),
    );
    put_row(
        tx,
        "res.users",
        ADMIN_UID,
        json!({"name": "Administrator", "login": cfg.login,
        "partner_id": 3, "active": true, "company_id": 1}),
    );
    put_row(
        tx,
        "product.pricelist",
        1,
        json!({"name": "Public Pricelist", "currency_id": EUR_ID,
        "active": true}),
    );
}

/// Loads the seed through the API code paths; returns the latest explicit
/// timestamp seen.
pub(super) fn load_seed(tx: &mut Tx, seed: OdooSeed) -> R<Option<DateTime<Utc>>> {
    let mut latest: Option<DateTime<Utc>> = None;
    let lists: [(&'static str, Vec<Value>); 3] = [
        ("res.partner", seed.partners),
        ("product.product", seed.products),
        ("sale.order", seed.orders),
    ];
    for (model, list) in lists {
        let m = tx.model(model)?;
        for vals in list {
            let Value::Object(mut vals) = vals else {
                return Err(value_err(format!("{model} seed is not an object")));
            };
            let explicit = vals.remove("id").and_then(|v| v.as_i64());
            let created = vals.remove("create_date");
            let written = vals.remove("write_date");
            let state = if model == "sale.order" {
                vals.remove("state")
            } else {
                None
            };
            let prev_next = tx.table_mut(model).next_id;
            if let Some(id) = explicit {
                if tx.exists(model, id) {
                    return Err(value_err(format!("{model} seed: duplicate id {id}")));
                }
                tx.table_mut(model).next_id = id;
            }
            let id = tx.create(m, &vals)?;
            let t = tx.table_mut(model);
            t.next_id = t.next_id.max(prev_next);
            if let Some(state) = state.as_ref().and_then(Value::as_str) {
                match state {
                    "sale" => {
                        tx.confirm(id);
                        if let Some(d) = vals.get("date_order") {
                            let f = m.field("date_order").expect("sale.order.date_order");
                            let c = tx.convert(m, f, d)?;
                            tx.set(model, id, "date_order", c);
                        }
                    }
                    "draft" => {}
                    other => {
                        let f = m.field("state").expect("sale.order.state");
                        let c = tx.convert(m, f, &json!(other))?;
                        tx.set(model, id, "state", c);
                    }
                }
            }
            let stamp = |v: &Option<Value>| -> R<Option<DateTime<Utc>>> {
                match v.as_ref().and_then(Value::as_str) {
                    None => Ok(None),
                    Some(s) => parse_stored_dt(s)
                        .or_else(|| to_datetime(s).ok())
                        .map(|t| Some(t.and_utc()))
                        .ok_or_else(|| value_err(format!("bad seed timestamp {s:?}"))),
                }
            };
            let c = stamp(&created)?;
            let w = stamp(&written)?.or(c);
            let targets: Vec<(&'static str, i64)> = if model == "product.product" {
                let t = tx.m2o(model, id, "product_tmpl_id").unwrap_or(0);
                vec![(model, id), ("product.template", t)]
            } else {
                vec![(model, id)]
            };
            for (tm, tid) in targets {
                if let Some(c) = c {
                    tx.set(tm, tid, "create_date", json!(fmt_dt_micro(c)));
                }
                if let Some(w) = w {
                    tx.set(tm, tid, "write_date", json!(fmt_dt_micro(w)));
                }
            }
            for t in [c, w].into_iter().flatten() {
                if latest.is_none_or(|l| l < t) {
                    latest = Some(t);
                }
            }
        }
    }
    Ok(latest)
}
