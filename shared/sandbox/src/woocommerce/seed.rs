//! The store a WooCommerce sandbox starts with: the shared cast ([`crate::shopworld`]) first,
//! then seeded customers, products and orders up to the configured sizes.
//!
//! Categories: a `parent` tree three levels deep (Accesorios › Fundas › iPhone, Repuestos ›
//! Baterías › Samsung and Repuestos › Pantallas › Samsung, …) plus "Uncategorized" (id 15).
//! Products pick categories so that every ROA-7 rule has a case: one nested category, several
//! on one level, several levels of one branch, none (→ Uncategorized). "Funda iPhone 15" and
//! "Camiseta logo" are variable products with a variation per SKU; two products have no SKU.
//! Customers: Lucía, Carmen (email only), Marta and Sergio registered, phones in other formats
//! than Shopify's. Orders: fourteen story orders (every status, guests with customer_id 0, a
//! guest order by a registered person, one without email or phone, one without line items, one
//! 70 days old), then generated ones over the last 90 days cycling through the statuses.

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::facts::UNCATEGORIZED;
use super::model::{Category, Contact, Customer, Line, Order, Product, ShipLine, Store, Variation};
use super::WooConfig;
use crate::kit::fake::{slug, CITIES};
use crate::shopworld::{
    format_phone, generated_person, Person, PhoneStyle, PEOPLE, PRODUCTS, VARIANT_GROUPS,
};

/// The order statuses of WooCommerce [D].
pub(crate) const STATUSES: [&str; 9] = [
    "pending",
    "processing",
    "on-hold",
    "completed",
    "cancelled",
    "refunded",
    "failed",
    "trash",
    "checkout-draft",
];

/// Shipping methods: title, method id, cost in cents.
const SHIPPING: [(&str, &str, u64); 3] = [
    ("Envío estándar", "flat_rate", 495),
    ("Envío gratuito", "free_shipping", 0),
    ("Recogida local", "local_pickup", 0),
];

/// The category tree: name, parent's index in this list (`None`: root).
const TREE: [(&str, Option<usize>); 14] = [
    ("Accesorios", None),
    ("Fundas", Some(0)),
    ("iPhone", Some(1)),
    ("Protectores", Some(0)),
    ("Cargadores", Some(0)),
    ("Cables", Some(0)),
    ("Repuestos", None),
    ("Baterías", Some(6)),
    ("Samsung", Some(7)),
    ("Pantallas", Some(6)),
    ("Samsung", Some(9)),
    ("Servicios", None),
    ("Ropa", None),
    ("Camisetas", Some(12)),
];

/// Categories of the cast's products (indexes into [`TREE`]), by the product's title: one
/// nested, several on one level, several levels, none.
fn cast_categories(title: &str) -> &'static [usize] {
    match title {
        "Funda iPhone 15" => &[0, 1, 2],
        "Protector de pantalla iPhone 15" => &[3],
        "Cargador USB-C 20W" => &[5, 4],
        "Cable USB-C 1 m" => &[5],
        "Batería Samsung Galaxy S21" => &[8],
        "Pantalla Samsung Galaxy S21" => &[9, 10],
        "Servicio de diagnóstico" => &[11],
        "Camiseta logo" => &[12, 13],
        _ => &[],
    }
}

fn contact(p: &Person, email: &str, phone: String) -> Contact {
    Contact {
        first_name: p.first_name.into(),
        last_name: p.last_name.into(),
        address_1: p.street.into(),
        city: p.city.into(),
        postcode: p.zip.into(),
        email: email.into(),
        phone,
    }
}

/// Fills `store` for `cfg` as of `now`.
pub(crate) fn generate(store: &mut Store, cfg: &WooConfig, now: DateTime<Utc>) {
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x3c3c);
    let t0 = now - TimeDelta::days(200);
    store.categories.insert(
        UNCATEGORIZED,
        Category {
            id: UNCATEGORIZED,
            name: "Uncategorized".into(),
            slug: "uncategorized".into(),
            parent: 0,
        },
    );
    let mut tree_ids = Vec::new();
    for (name, parent) in TREE {
        store.next_category += 1;
        let id = store.next_category;
        let mut s = slug(name);
        if store.categories.values().any(|c| c.slug == s) {
            s = format!("{s}-2");
        }
        let parent = parent.map_or(0, |i| tree_ids[i]);
        store.categories.insert(
            id,
            Category {
                id,
                name: name.into(),
                slug: s,
                parent,
            },
        );
        tree_ids.push(id);
    }
    // Registered customers of the cast: Lucía, Carmen, Marta, Sergio.
    let cast = [
        (0, PhoneStyle::Spaced),
        (2, PhoneStyle::National),
        (5, PhoneStyle::NationalSpaced),
        (6, PhoneStyle::National),
    ];
    for (i, style) in cast {
        let p = PEOPLE[i];
        let mut shipping = contact(&p, "", String::new());
        if i == 5 {
            shipping.phone = format_phone(p.phone, PhoneStyle::E164);
        }
        add_customer(
            store,
            p.first_name,
            p.last_name,
            p.email,
            contact(&p, p.email, format_phone(p.phone, style)),
            shipping,
            t0,
        );
    }
    for n in 0..cfg.customers.saturating_sub(cast.len()) {
        let (first, last, email, phone) = generated_person(&mut rng, n + 100_000);
        let city = CITIES[n % CITIES.len()];
        let p = Person {
            first_name: "",
            last_name: "",
            email: "",
            phone: "",
            city: city.name,
            street: "Calle Real 7",
            zip: "28001",
        };
        let mut b = contact(&p, &email, format_phone(&phone, PhoneStyle::ALL[n % 5]));
        b.first_name = first.clone();
        b.last_name = last.clone();
        b.postcode = format!("{}{:03}", city.postal, n % 1000);
        let mut s = b.clone();
        s.phone = String::new();
        s.email = String::new();
        add_customer(
            store,
            &first,
            &last,
            &email,
            b,
            s,
            t0 + TimeDelta::minutes(n as i64),
        );
    }
    add_products(store, cfg.products, &tree_ids, t0);
    add_orders(store, cfg, &mut rng, now);
}

fn add_customer(
    store: &mut Store,
    first: &str,
    last: &str,
    email: &str,
    billing: Contact,
    shipping: Contact,
    t: DateTime<Utc>,
) {
    let id = store.next_customer;
    store.next_customer += 1;
    store.customers.insert(
        id,
        Customer {
            id,
            email: email.into(),
            first_name: first.into(),
            last_name: last.into(),
            billing,
            shipping,
            created: t,
            modified: t,
        },
    );
}

fn post(store: &mut Store) -> u64 {
    let id = store.next_post;
    store.next_post += 1;
    id
}

fn add_products(store: &mut Store, total: usize, tree: &[u64], t: DateTime<Utc>) {
    let grouped: Vec<usize> = VARIANT_GROUPS
        .iter()
        .flat_map(|g| g.2.iter().copied())
        .collect();
    let cats = |title: &str| -> Vec<u64> {
        let c: Vec<u64> = cast_categories(title).iter().map(|i| tree[*i]).collect();
        if c.is_empty() {
            vec![UNCATEGORIZED]
        } else {
            c
        }
    };
    for (title, attribute, members) in VARIANT_GROUPS {
        let id = post(store);
        let variations: Vec<Variation> = members
            .iter()
            .map(|&i| {
                let p = PRODUCTS[i];
                let option = p.title.rsplit(' ').next().unwrap_or("").to_string();
                Variation {
                    id: post(store),
                    sku: p.sku.into(),
                    option: capitalise(&option),
                    price: p.price,
                }
            })
            .collect();
        let parent_sku = PRODUCTS[members[0]]
            .sku
            .rsplit_once('-')
            .map_or("", |x| x.0)
            .to_string();
        let price = variations.iter().map(|v| v.price).min().unwrap_or(0);
        store.products.insert(
            id,
            Product {
                id,
                name: title.into(),
                kind: "variable",
                sku: parent_sku,
                price,
                categories: cats(title),
                attribute: attribute.into(),
                variations,
                created: t,
                modified: t,
            },
        );
    }
    for (i, p) in PRODUCTS.iter().enumerate() {
        if grouped.contains(&i) {
            continue;
        }
        let id = post(store);
        store.products.insert(
            id,
            Product {
                id,
                name: p.title.into(),
                kind: "simple",
                sku: p.sku.into(),
                price: p.price,
                categories: cats(p.title),
                attribute: String::new(),
                variations: Vec::new(),
                created: t,
                modified: t,
            },
        );
    }
    let mut k = 0;
    while store.products.len() < total {
        let id = post(store);
        let sku = if k % 5 == 4 {
            String::new()
        } else {
            format!("WC-{k:04}")
        };
        // Accessories under one or two second-level categories, a few also at the root.
        let mut categories = vec![tree[[1, 3, 4, 5][k % 4]]];
        if k % 3 == 0 {
            categories.push(tree[[3, 4, 5, 1][k % 4]]);
        }
        if k % 7 == 0 {
            categories.push(tree[0]);
        }
        categories.dedup();
        store.products.insert(
            id,
            Product {
                id,
                name: format!("Accesorio {}", k + 1),
                kind: "simple",
                sku,
                price: 300 + (k as u64 * 211) % 5000,
                categories,
                attribute: String::new(),
                variations: Vec::new(),
                created: t,
                modified: t,
            },
        );
        k += 1;
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// A story order: person (`None`: nobody), registered?, billing email and phone (style, or
/// none), lines by SKU or title, shipping, status, age in days.
type Story = (
    Option<usize>,
    bool,
    bool,
    Option<PhoneStyle>,
    &'static [(&'static str, u64)],
    usize,
    &'static str,
    i64,
);

const STORIES: [Story; 14] = [
    (
        Some(0),
        true,
        true,
        Some(PhoneStyle::Spaced),
        &[("CASE-IP15-BLK", 1), ("SCR-IP15", 1)],
        0,
        "processing",
        2,
    ),
    (
        Some(1),
        false,
        true,
        Some(PhoneStyle::National),
        &[("CHG-USBC-20W", 1)],
        0,
        "pending",
        4,
    ),
    (
        Some(2),
        true,
        true,
        None,
        &[("CBL-USBC-1M", 2), ("Servicio de diagnóstico", 1)],
        1,
        "on-hold",
        6,
    ),
    (
        Some(3),
        false,
        false,
        Some(PhoneStyle::Intl00),
        &[("BAT-SGS21", 1)],
        2,
        "processing",
        3,
    ),
    (
        Some(4),
        false,
        false,
        None,
        &[("SCRN-SGS21", 1)],
        0,
        "processing",
        1,
    ),
    (
        Some(0),
        false,
        true,
        Some(PhoneStyle::Intl00),
        &[("TSH-LOGO-S", 2)],
        0,
        "completed",
        20,
    ),
    (
        Some(5),
        true,
        true,
        Some(PhoneStyle::NationalSpaced),
        &[("TSH-LOGO-M", 1)],
        0,
        "cancelled",
        10,
    ),
    (
        Some(5),
        true,
        true,
        Some(PhoneStyle::NationalSpaced),
        &[("Tarjeta regalo", 1)],
        1,
        "refunded",
        12,
    ),
    (
        Some(6),
        false,
        true,
        Some(PhoneStyle::Spaced),
        &[("CASE-IP15-RED", 1)],
        0,
        "failed",
        5,
    ),
    (
        Some(0),
        true,
        true,
        Some(PhoneStyle::Spaced),
        &[("SCR-IP15", 3)],
        0,
        "trash",
        8,
    ),
    (
        Some(1),
        false,
        true,
        None,
        &[("CBL-USBC-1M", 1)],
        0,
        "checkout-draft",
        0,
    ),
    (
        Some(6),
        true,
        true,
        Some(PhoneStyle::National),
        &[],
        0,
        "processing",
        2,
    ),
    (
        Some(1),
        false,
        true,
        Some(PhoneStyle::E164),
        &[("CHG-USBC-20W", 2)],
        0,
        "completed",
        70,
    ),
    (
        Some(0),
        true,
        true,
        Some(PhoneStyle::Spaced),
        &[("TSH-LOGO-L", 1), ("CASE-IP15-BLK", 2)],
        0,
        "on-hold",
        1,
    ),
];

struct Spec {
    customer_id: u64,
    billing: Contact,
    shipping: Contact,
    lines: Vec<(u64, u64, String, String, u64, u64)>,
    ship: usize,
    status: &'static str,
    created: DateTime<Utc>,
}

/// `(product_id, variation_id, name, sku, price)` of the product or variation with `key` as
/// SKU (or, without SKU, as name).
fn item(store: &Store, key: &str) -> (u64, u64, String, String, u64) {
    for p in store.products.values() {
        if p.kind == "simple"
            && ((!key.is_empty() && p.sku == key) || (p.sku.is_empty() && p.name == key))
        {
            return (p.id, 0, p.name.clone(), p.sku.clone(), p.price);
        }
        if let Some(v) = p.variations.iter().find(|v| v.sku == key) {
            return (
                p.id,
                v.id,
                format!("{} - {}", p.name, v.option),
                v.sku.clone(),
                v.price,
            );
        }
    }
    panic!("woocommerce seed: no product {key}")
}

fn add_orders(store: &mut Store, cfg: &WooConfig, rng: &mut StdRng, now: DateTime<Utc>) {
    let mut specs = Vec::new();
    for (i, (who, registered, with_email, phone, lines, ship, status, age)) in
        STORIES.iter().enumerate()
    {
        let p = who.map_or(PEOPLE[4], |w| PEOPLE[w]);
        let customer_id = if *registered {
            store
                .customers
                .values()
                .find(|c| c.email == p.email)
                .map_or(0, |c| c.id)
        } else {
            0
        };
        let email = if *with_email { p.email } else { "" };
        let phone = phone.map_or(String::new(), |s| format_phone(p.phone, s));
        let billing = contact(&p, email, phone.clone());
        let mut shipping = contact(&p, "", String::new());
        if *who == Some(1) {
            // Javier, a guest, leaves a shipping phone in another format [C: since WC 5.6].
            shipping.phone = format_phone(p.phone, PhoneStyle::Spaced);
        }
        let lines = lines
            .iter()
            .map(|(k, q)| {
                let (a, b, c, d, e) = item(store, k);
                (a, b, c, d, e, *q)
            })
            .collect();
        specs.push(Spec {
            customer_id,
            billing,
            shipping,
            lines,
            ship: *ship,
            status,
            created: now - TimeDelta::days(*age) - TimeDelta::minutes(11 * i as i64 + 5),
        });
    }
    let items: Vec<(u64, u64, String, String, u64)> = store
        .products
        .values()
        .flat_map(|p| {
            if p.kind == "variable" {
                p.variations
                    .iter()
                    .map(|v| {
                        (
                            p.id,
                            v.id,
                            format!("{} - {}", p.name, v.option),
                            v.sku.clone(),
                            v.price,
                        )
                    })
                    .collect::<Vec<_>>()
            } else {
                vec![(p.id, 0, p.name.clone(), p.sku.clone(), p.price)]
            }
        })
        .collect();
    let customers: Vec<u64> = store.customers.keys().copied().collect();
    for n in specs.len()..cfg.orders {
        let status = STATUSES[n % STATUSES.len()];
        let (customer_id, billing, shipping) = if n % 4 == 3 {
            let (first, last, email, phone) = generated_person(rng, 200_000 + n);
            let p = Person {
                first_name: "",
                last_name: "",
                email: "",
                phone: "",
                city: "Madrid",
                street: "Calle Toledo 9",
                zip: "28005",
            };
            let mut b = contact(&p, &email, format_phone(&phone, PhoneStyle::ALL[n % 6]));
            b.first_name = first;
            b.last_name = last;
            let mut s = b.clone();
            s.email = String::new();
            s.phone = String::new();
            (0, b, s)
        } else {
            let c = &store.customers[&customers[rng.gen_range(0..customers.len())]];
            (c.id, c.billing.clone(), c.shipping.clone())
        };
        let nlines = rng.gen_range(1..=3);
        let mut lines: Vec<_> = (0..nlines)
            .map(|_| {
                let (a, b, c, d, e) = items[rng.gen_range(0..items.len())].clone();
                (a, b, c, d, e, rng.gen_range(1..=3))
            })
            .collect();
        lines.sort_by_key(|l| (l.0, l.1));
        lines.dedup_by_key(|l| (l.0, l.1));
        let minutes = rng.gen_range(60..90 * 24 * 60);
        specs.push(Spec {
            customer_id,
            billing,
            shipping,
            lines,
            ship: n % SHIPPING.len(),
            status,
            created: now - TimeDelta::minutes(minutes),
        });
    }
    specs.sort_by_key(|s| s.created);
    for s in specs {
        let id = store.next_order;
        store.next_order += 1;
        let lines = s
            .lines
            .into_iter()
            .map(|(product_id, variation_id, name, sku, price, quantity)| {
                let lid = store.next_line;
                store.next_line += 1;
                Line {
                    id: lid,
                    product_id,
                    variation_id,
                    name,
                    sku,
                    quantity,
                    price,
                }
            })
            .collect();
        let (title, method, total) = SHIPPING[s.ship];
        let lid = store.next_line;
        store.next_line += 1;
        let later = |h: i64| (s.created + TimeDelta::hours(h)).min(now - TimeDelta::minutes(1));
        let paid = matches!(s.status, "processing" | "completed" | "refunded").then(|| later(0));
        let modified = match s.status {
            "completed" | "refunded" | "cancelled" | "trash" => later(30),
            "checkout-draft" | "pending" => s.created,
            _ => later(1),
        };
        store.orders.insert(
            id,
            Order {
                id,
                status: s.status,
                currency: cfg.currency.clone(),
                customer_id: s.customer_id,
                billing: s.billing,
                shipping: s.shipping,
                lines,
                shipping_lines: vec![ShipLine {
                    id: lid,
                    method_title: title.into(),
                    method_id: method.into(),
                    total,
                }],
                created: s.created,
                modified,
                paid,
                completed: (s.status == "completed").then_some(modified),
                note: String::new(),
            },
        );
    }
}
