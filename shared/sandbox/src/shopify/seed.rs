//! The shop a Shopify sandbox starts with: the shared cast ([`crate::shopworld`]) first, then
//! seeded customers, products and orders up to the configured sizes.
//!
//! Customers: the cast (Lucía, Javier as a guest, Carmen with email only, Pablo as a guest
//! with phone only, Marta, Sergio), phones E.164 as Shopify stores them; the orders' billing
//! and shipping phones are written in other formats (`600 11 22 33`, `0034600112233`, …).
//! Products: "Funda iPhone 15" (Color: Negra, Roja) and "Camiseta logo" (Talla: S, M, L) with
//! a SKU per variant, the other cast products with one variant each, two without SKU. Orders:
//! twelve story orders (every financial and fulfilment status, open, closed and cancelled,
//! one 75 days old, one without customer), then generated ones cycling through the same
//! statuses over the last 90 days. Ids and order numbers follow creation time.

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{Address, Customer, LineItem, Order, Product, ShippingLine, Shop, Variant};
use super::ShopifyConfig;
use crate::kit::fake::CITIES;
use crate::shopworld::{
    format_phone, generated_person, Person, PhoneStyle, PEOPLE, PRODUCTS, VARIANT_GROUPS,
};

/// Open, closed (archived) or cancelled.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum State {
    Open,
    Closed,
    Cancelled,
}

/// The status combinations orders cycle through.
pub(crate) const COMBOS: [(&str, Option<&str>, State); 10] = [
    ("paid", None, State::Open),
    ("pending", None, State::Open),
    ("authorized", None, State::Open),
    ("paid", Some("partial"), State::Open),
    ("paid", Some("fulfilled"), State::Closed),
    ("refunded", None, State::Cancelled),
    ("voided", None, State::Cancelled),
    ("partially_refunded", Some("fulfilled"), State::Closed),
    ("partially_paid", None, State::Open),
    ("paid", None, State::Closed),
];

/// Shipping methods: title, code, price in cents.
pub(crate) const SHIPPING: [(&str, &str, u64); 3] = [
    ("Envío estándar", "standard", 495),
    ("Envío urgente 24h", "express", 995),
    ("Recogida en tienda", "pickup", 0),
];

/// Cast people in Shopify, in customer-id order: index into [`PEOPLE`], account state,
/// whether the customer record keeps the phone.
const CAST: [(usize, &str, bool); 6] = [
    (0, "enabled", true),
    (1, "disabled", false),
    (2, "enabled", true),
    (3, "disabled", true),
    (5, "enabled", true),
    (6, "enabled", true),
];

/// A story order: cast index (`None`: no customer; the address is Ana's), lines by SKU or
/// title, shipping method, statuses, age in days, billing phone style.
type Story = (
    Option<usize>,
    &'static [(&'static str, u64)],
    usize,
    usize,
    i64,
    PhoneStyle,
);

const STORIES: [Story; 12] = [
    (
        Some(0),
        &[("CASE-IP15-BLK", 1), ("SCR-IP15", 2)],
        0,
        0,
        3,
        PhoneStyle::NationalSpaced,
    ),
    (
        Some(1),
        &[("Servicio de diagnóstico", 1)],
        2,
        1,
        5,
        PhoneStyle::National,
    ),
    (
        Some(2),
        &[("CHG-USBC-20W", 1), ("CBL-USBC-1M", 2)],
        0,
        2,
        8,
        PhoneStyle::National,
    ),
    (
        Some(4),
        &[("BAT-SGS21", 1), ("SCRN-SGS21", 1)],
        1,
        3,
        10,
        PhoneStyle::Intl00,
    ),
    (Some(5), &[("TSH-LOGO-M", 2)], 0, 4, 20, PhoneStyle::Intl00),
    (Some(0), &[("SCR-IP15", 1)], 0, 5, 25, PhoneStyle::Spaced),
    (Some(3), &[("CASE-IP15-RED", 1)], 0, 6, 12, PhoneStyle::E164),
    (
        Some(4),
        &[("CBL-USBC-1M", 3)],
        0,
        7,
        15,
        PhoneStyle::NationalSpaced,
    ),
    (
        Some(0),
        &[("TSH-LOGO-S", 1), ("TSH-LOGO-L", 1), ("Tarjeta regalo", 1)],
        0,
        8,
        1,
        PhoneStyle::Intl00,
    ),
    (Some(5), &[("CHG-USBC-20W", 1)], 0, 0, 75, PhoneStyle::E164),
    (
        Some(2),
        &[("CBL-USBC-1M", 1)],
        2,
        9,
        30,
        PhoneStyle::National,
    ),
    (None, &[("SCRN-SGS21", 1)], 1, 0, 2, PhoneStyle::National),
];

fn address(p: &Person, phone: Option<String>) -> Address {
    Address {
        first_name: p.first_name.into(),
        last_name: p.last_name.into(),
        address1: p.street.into(),
        city: p.city.into(),
        zip: p.zip.into(),
        phone,
    }
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Fills `shop` for `cfg` as of `now`.
pub(crate) fn generate(shop: &mut Shop, cfg: &ShopifyConfig, now: DateTime<Utc>) {
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let since = now - TimeDelta::days(120);
    // Customers: the cast, then generated ones.
    let mut people: Vec<Person> = Vec::new();
    for (i, (p, state, keep_phone)) in CAST.iter().enumerate() {
        let p = PEOPLE[*p];
        let phone = if *keep_phone { some(p.phone) } else { None };
        add_customer(
            shop,
            &p,
            state,
            phone.map(|d| format_phone(&d, PhoneStyle::E164)),
            since + TimeDelta::minutes(i as i64),
        );
        people.push(p);
    }
    let extra = cfg.customers.saturating_sub(CAST.len());
    let mut names = Vec::with_capacity(extra);
    for n in 0..extra {
        names.push(generated_person(&mut rng, n));
    }
    for (n, (first, last, email, phone)) in names.iter().enumerate() {
        let city = CITIES[n % CITIES.len()];
        let p = Person {
            first_name: "",
            last_name: "",
            email: "",
            phone: "",
            city: city.name,
            street: "Calle Mayor 1",
            zip: "28001",
        };
        let mut a = address(&p, some(phone));
        a.first_name = first.clone();
        a.last_name = last.clone();
        a.zip = format!("{}{:03}", city.postal, n % 1000);
        let id = shop.next_customer;
        shop.next_customer += 1;
        let t = since + TimeDelta::minutes(10 + n as i64);
        shop.customers.insert(
            id,
            Customer {
                id,
                first_name: first.clone(),
                last_name: last.clone(),
                email: some(email),
                phone: (n % 5 != 4).then(|| format_phone(phone, PhoneStyle::E164)),
                state: if n % 3 == 2 { "disabled" } else { "enabled" },
                address: Some(a),
                created_at: t,
                updated_at: t,
            },
        );
    }
    add_products(shop, cfg.products, now - TimeDelta::days(200));
    add_orders(shop, cfg, &mut rng, &people, now);
}

fn add_customer(
    shop: &mut Shop,
    p: &Person,
    state: &'static str,
    phone: Option<String>,
    t: DateTime<Utc>,
) {
    let id = shop.next_customer;
    shop.next_customer += 1;
    shop.customers.insert(
        id,
        Customer {
            id,
            first_name: p.first_name.into(),
            last_name: p.last_name.into(),
            email: some(p.email),
            phone,
            state,
            address: Some(address(p, None)),
            created_at: t,
            updated_at: t,
        },
    );
}

fn add_product(
    shop: &mut Shop,
    title: &str,
    category: &[&str],
    option: Option<&str>,
    variants: Vec<(String, String, u64)>,
    t: DateTime<Utc>,
) {
    let id = shop.next_product;
    shop.next_product += 1;
    let variants = variants
        .into_iter()
        .map(|(sku, vtitle, price)| {
            let vid = shop.next_variant;
            shop.next_variant += 1;
            Variant {
                id: vid,
                sku,
                title: vtitle,
                price,
                inventory: 25,
            }
        })
        .collect();
    shop.products.insert(
        id,
        Product {
            id,
            title: title.into(),
            product_type: category.last().copied().unwrap_or("").into(),
            tags: category.join(", "),
            option: option.map(str::to_string),
            variants,
            created_at: t,
            updated_at: t,
        },
    );
}

const KINDS: [&str; 6] = [
    "Funda",
    "Protector de pantalla",
    "Cable",
    "Cargador",
    "Soporte",
    "Auriculares",
];
const MODELS: [&str; 6] = [
    "iPhone 14",
    "Galaxy S23",
    "Pixel 8",
    "Xiaomi 13",
    "Moto G84",
    "iPhone 13",
];

fn add_products(shop: &mut Shop, total: usize, t: DateTime<Utc>) {
    let grouped: Vec<usize> = VARIANT_GROUPS
        .iter()
        .flat_map(|g| g.2.iter().copied())
        .collect();
    for (title, option, members) in VARIANT_GROUPS {
        let first = PRODUCTS[members[0]];
        let variants = members
            .iter()
            .map(|&i| {
                let p = PRODUCTS[i];
                let vt = p.title.rsplit(' ').next().unwrap_or(p.title);
                let vt = match vt {
                    "negra" => "Negra",
                    "roja" => "Roja",
                    other => other,
                };
                (p.sku.to_string(), vt.to_string(), p.price)
            })
            .collect();
        add_product(shop, title, first.category, Some(option), variants, t);
    }
    for (i, p) in PRODUCTS.iter().enumerate() {
        if !grouped.contains(&i) {
            add_product(
                shop,
                p.title,
                p.category,
                None,
                vec![(p.sku.into(), "Default Title".into(), p.price)],
                t,
            );
        }
    }
    let mut k = 0;
    while shop.products.len() < total {
        let title = format!(
            "{} {}",
            KINDS[k % KINDS.len()],
            MODELS[(k / KINDS.len()) % MODELS.len()]
        );
        let title = if k >= KINDS.len() * MODELS.len() {
            format!("{title} v{}", k / 36 + 1)
        } else {
            title
        };
        let sku = if k % 6 == 5 {
            String::new()
        } else {
            format!("GEN-{k:04}")
        };
        let price = 500 + (k as u64 * 137) % 4000;
        let cat = ["Accesorios", KINDS[k % KINDS.len()]];
        if k % 4 == 3 && !sku.is_empty() {
            let v = vec![
                (format!("{sku}-NEG"), "Negro".into(), price),
                (format!("{sku}-BLA"), "Blanco".into(), price),
            ];
            add_product(shop, &title, &cat, Some("Color"), v, t);
        } else {
            add_product(
                shop,
                &title,
                &cat,
                None,
                vec![(sku, "Default Title".into(), price)],
                t,
            );
        }
        k += 1;
    }
}

/// A line before it gets its id: product, variant, SKU, title, variant title, price, quantity.
type LineSpec = (u64, u64, String, String, Option<String>, u64, u64);

/// What an order is made of before it gets its id.
struct Spec {
    customer: Option<u64>,
    person: Person,
    lines: Vec<LineSpec>,
    ship: usize,
    combo: usize,
    created: DateTime<Utc>,
    phone: PhoneStyle,
}

fn line_for(shop: &Shop, key: &str) -> (u64, u64, String, String, Option<String>, u64) {
    for p in shop.products.values() {
        for v in &p.variants {
            if (!key.is_empty() && v.sku == key) || (v.sku.is_empty() && p.title == key) {
                let vt = p.option.as_ref().map(|_| v.title.clone());
                return (p.id, v.id, v.sku.clone(), p.title.clone(), vt, v.price);
            }
        }
    }
    panic!("shopify seed: no product {key}")
}

fn add_orders(
    shop: &mut Shop,
    cfg: &ShopifyConfig,
    rng: &mut StdRng,
    cast: &[Person],
    now: DateTime<Utc>,
) {
    let mut specs = Vec::new();
    let ana = PEOPLE[4];
    for (i, (who, lines, ship, combo, age, phone)) in STORIES.iter().enumerate() {
        let lines = lines
            .iter()
            .map(|(k, q)| {
                let (p, v, sku, t, vt, price) = line_for(shop, k);
                (p, v, sku, t, vt, price, *q)
            })
            .collect();
        specs.push(Spec {
            customer: who.map(|c| super::model::FIRST_CUSTOMER + c as u64),
            person: who.map_or(ana, |c| cast[c]),
            lines,
            ship: *ship,
            combo: *combo,
            created: now - TimeDelta::days(*age) - TimeDelta::minutes(7 * i as i64),
            phone: *phone,
        });
    }
    let variants: Vec<(u64, u64, String, String, Option<String>, u64)> = shop
        .products
        .values()
        .flat_map(|p| {
            p.variants.iter().map(|v| {
                (
                    p.id,
                    v.id,
                    v.sku.clone(),
                    p.title.clone(),
                    p.option.as_ref().map(|_| v.title.clone()),
                    v.price,
                )
            })
        })
        .collect();
    let customers: Vec<u64> = shop.customers.keys().copied().collect();
    for n in specs.len()..cfg.orders {
        let customer = (n % 25 != 24).then(|| customers[rng.gen_range(0..customers.len())]);
        let person = Person {
            first_name: "",
            last_name: "",
            email: "",
            phone: "",
            city: "Madrid",
            street: "Calle Mayor 1",
            zip: "28001",
        };
        let nlines = rng.gen_range(1..=3);
        let mut lines: Vec<_> = (0..nlines)
            .map(|_| {
                let (p, v, sku, t, vt, price) = variants[rng.gen_range(0..variants.len())].clone();
                (p, v, sku, t, vt, price, rng.gen_range(1..=3))
            })
            .collect();
        lines.dedup_by_key(|l| l.1);
        let minutes = rng.gen_range(0..90 * 24 * 60);
        specs.push(Spec {
            customer,
            person,
            lines,
            ship: n % SHIPPING.len(),
            combo: n % COMBOS.len(),
            created: now - TimeDelta::minutes(minutes) - TimeDelta::hours(1),
            phone: PhoneStyle::ALL[n % PhoneStyle::ALL.len()],
        });
    }
    specs.sort_by_key(|s| s.created);
    for s in specs {
        let (fin, ful, state) = COMBOS[s.combo];
        let (billing, email, phone) = match s.customer.and_then(|id| shop.customers.get(&id)) {
            Some(c) => {
                let mut a = c.address.clone().unwrap_or_default();
                let digits =
                    crate::shopworld::phone_digits(c.phone.as_deref().unwrap_or(s.person.phone));
                let digits = if digits.is_empty() {
                    s.person.phone.to_string()
                } else {
                    digits
                };
                a.phone = some(&format_phone(&digits, s.phone));
                (
                    a,
                    c.email.clone(),
                    some(&digits).map(|d| format_phone(&d, PhoneStyle::E164)),
                )
            }
            None => (address(&s.person, None), None, None),
        };
        let mut shipping = billing.clone();
        shipping.phone = billing
            .phone
            .as_deref()
            .map(|p| format_phone(&crate::shopworld::phone_digits(p), PhoneStyle::Spaced));
        let later = |h: i64| (s.created + TimeDelta::hours(h)).min(now - TimeDelta::minutes(1));
        let updated = match (state, ful) {
            (State::Open, None) => later(1),
            (State::Open, Some(_)) => later(20),
            (State::Closed, _) => later(48),
            (State::Cancelled, _) => later(24),
        };
        let id = shop.next_order;
        shop.next_order += 1;
        let number = shop.next_number;
        shop.next_number += 1;
        let (title, code, price) = SHIPPING[s.ship];
        let ship_id = id + 3_000_000_000_000;
        let line_items = s
            .lines
            .into_iter()
            .map(|(p, v, sku, t, vt, price, q)| {
                let lid = shop.next_line;
                shop.next_line += 1;
                LineItem {
                    id: lid,
                    product_id: Some(p),
                    variant_id: Some(v),
                    sku,
                    title: t,
                    variant_title: vt,
                    quantity: q,
                    price,
                }
            })
            .collect();
        shop.orders.insert(
            id,
            Order {
                id,
                number,
                customer_id: s.customer,
                email,
                phone,
                created_at: s.created,
                updated_at: updated,
                closed_at: (state != State::Open).then_some(updated),
                cancelled_at: (state == State::Cancelled).then_some(updated),
                cancel_reason: (state == State::Cancelled).then(|| "customer".to_string()),
                currency: cfg.currency.clone(),
                financial_status: fin,
                fulfillment_status: ful,
                billing: Some(billing),
                shipping: (code != "pickup").then_some(shipping),
                shipping_lines: vec![ShippingLine {
                    id: ship_id,
                    title: title.into(),
                    code: code.into(),
                    price,
                }],
                line_items,
                note: None,
            },
        );
    }
}
