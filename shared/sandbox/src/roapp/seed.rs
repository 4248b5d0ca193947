//! The account an RO App sandbox starts with: statuses, two order types, the catalogue with
//! categories, clients from the shared cast ([`crate::shopworld`]) with phones as RO App
//! shows them, then generated clients, products and repair orders up to the configured sizes.
//!
//! Clients: Lucía `+34 (600) 11-22-33`; Carmen with the email in other capitals
//! (`Carmen.Lopez@Example.es`) and no phone; Marta `+34 633 44 55 66`; Sergio with two phones
//! (`+34 (644) 55-66-77` and a landline); an organisation whose name contains "Lucía". Javier,
//! Pablo and Ana are not in RO App. Catalogue: the cast products marked `in_roapp` (SKUs
//! `CASE-IP15-BLK`, `SCR-IP15`, `CHG-USBC-20W`, `BAT-SGS21`, and "Servicio de diagnóstico"
//! without SKU), under Accesorios › Fundas, Accesorios, Repuestos, Servicios; generated
//! products with SKUs `RA-0000…`. Orders: repairs in every status, some written off, with
//! comments.

use chrono::{DateTime, TimeDelta, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::model::{Account, Category, Client, Item, Order, OrderType, Product, Status};
use super::RoAppConfig;
use crate::kit::fake::ean13;
use crate::shopworld::{format_phone, generated_person, PhoneStyle, PEOPLE, PRODUCTS};

pub(crate) fn statuses() -> Vec<Status> {
    let s = |id, name, color, group| Status {
        id,
        name,
        color,
        group,
    };
    vec![
        s(1, "Nuevo", "#2196f3", ("new", "Nuevos")),
        s(2, "En curso", "#ff9800", ("in_progress", "En curso")),
        s(3, "Diagnóstico", "#9c27b0", ("in_progress", "En curso")),
        s(4, "Listo para entregar", "#4caf50", ("ready", "Listos")),
        s(
            5,
            "Entregado",
            "#607d8b",
            ("closed_success", "Cerrados con éxito"),
        ),
        s(
            6,
            "Cancelado",
            "#f44336",
            ("closed_failure", "Cerrados sin éxito"),
        ),
    ]
}

pub(crate) fn order_types() -> Vec<OrderType> {
    vec![
        OrderType {
            id: 1,
            name: "Venta online",
            initial_status: 1,
        },
        OrderType {
            id: 2,
            name: "Reparación",
            initial_status: 3,
        },
    ]
}

fn category(a: &mut Account, title: &str, parent: Option<u64>) -> u64 {
    if let Some(c) = a
        .categories
        .values()
        .find(|c| c.title == title && c.parent_id == parent)
    {
        return c.id;
    }
    let id = a.next_category;
    a.next_category += 1;
    a.categories.insert(
        id,
        Category {
            id,
            title: title.into(),
            parent_id: parent,
        },
    );
    id
}

#[allow(clippy::too_many_arguments)]
fn client(
    a: &mut Account,
    first: &str,
    last: &str,
    org: Option<&str>,
    email: &str,
    phones: Vec<String>,
    address: &str,
    t: DateTime<Utc>,
) -> u64 {
    let id = a.next_client;
    a.next_client += 1;
    a.clients.insert(
        id,
        Client {
            id,
            first_name: first.into(),
            last_name: last.into(),
            org: org.map(str::to_string),
            email: email.into(),
            phones,
            address: address.into(),
            notes: String::new(),
            created: t,
            modified: t,
        },
    );
    id
}

/// Fills `a` for `cfg` as of `now`.
pub(crate) fn generate(a: &mut Account, cfg: &RoAppConfig, now: DateTime<Utc>) {
    *a = Account {
        statuses: statuses(),
        types: order_types(),
        next_client: 3_100_001,
        next_order: 7_200_001,
        next_label: 1001,
        next_item: 1,
        next_event: 1,
        next_product: 910_001,
        next_category: 501,
        ..Account::default()
    };
    let mut rng = StdRng::seed_from_u64(cfg.seed ^ 0x40a0);
    let t0 = now - TimeDelta::days(300);
    // The catalogue.
    let acc = category(a, "Accesorios", None);
    let fundas = category(a, "Fundas", Some(acc));
    let rep = category(a, "Repuestos", None);
    let serv = category(a, "Servicios", None);
    for p in PRODUCTS.iter().filter(|p| p.in_roapp) {
        let cat = match p.category.first().copied() {
            Some("Accesorios") if p.category.get(1) == Some(&"Fundas") => fundas,
            Some("Accesorios") => acc,
            Some("Repuestos") => rep,
            _ => serv,
        };
        add_product(a, p.title, p.sku, p.price, Some(cat), t0);
    }
    let mut k = 0;
    while a.products.len() < cfg.products {
        let title = format!("Repuesto genérico {}", k + 1);
        add_product(
            a,
            &title,
            &format!("RA-{k:04}"),
            800 + (k as u64 * 173) % 6000,
            Some(rep),
            t0,
        );
        k += 1;
    }
    // Clients.
    let p = |i: usize| PEOPLE[i];
    let addr = |i: usize| format!("{}, {} {}", p(i).street, p(i).zip, p(i).city);
    client(
        a,
        p(0).first_name,
        p(0).last_name,
        None,
        p(0).email,
        vec![format_phone(p(0).phone, PhoneStyle::RoApp)],
        &addr(0),
        t0,
    );
    client(
        a,
        p(2).first_name,
        p(2).last_name,
        None,
        "Carmen.Lopez@Example.es",
        vec![],
        &addr(2),
        t0,
    );
    client(
        a,
        p(5).first_name,
        p(5).last_name,
        None,
        p(5).email,
        vec![format_phone(p(5).phone, PhoneStyle::Spaced)],
        &addr(5),
        t0,
    );
    let sergio = vec![
        format_phone(p(6).phone, PhoneStyle::RoApp),
        "+34 952 123 456".to_string(),
    ];
    client(
        a,
        p(6).first_name,
        p(6).last_name,
        None,
        p(6).email,
        sergio,
        &addr(6),
        t0,
    );
    client(
        a,
        "",
        "",
        Some("Reparaciones Lucía SL"),
        "taller@reparacioneslucia.es",
        vec!["+34 (911) 22-33-44".into()],
        "Calle Toledo 40, 28005 Madrid",
        t0,
    );
    let cast = a.clients.len();
    for n in 0..cfg.clients.saturating_sub(cast) {
        let (first, last, email, phone) = generated_person(&mut rng, 300_000 + n);
        let style = [
            PhoneStyle::RoApp,
            PhoneStyle::Spaced,
            PhoneStyle::NationalSpaced,
        ][n % 3];
        client(
            a,
            &first,
            &last,
            None,
            &email,
            vec![format_phone(&phone, style)],
            "",
            t0 + TimeDelta::hours(n as i64),
        );
    }
    // Repair orders.
    let clients: Vec<u64> = a.clients.keys().copied().collect();
    let products: Vec<u64> = a.products.keys().copied().collect();
    let mut when: Vec<DateTime<Utc>> = (0..cfg.orders)
        .map(|_| now - TimeDelta::minutes(rng.gen_range(60..120 * 24 * 60)))
        .collect();
    when.sort();
    for (n, created) in when.into_iter().enumerate() {
        let status = a.statuses[n % a.statuses.len()].id;
        let id = a.next_order;
        a.next_order += 1;
        let label = format!("A-{}", a.next_label);
        a.next_label += 1;
        let mut items = Vec::new();
        for _ in 0..rng.gen_range(1..=2) {
            let p = &a.products[&products[rng.gen_range(0..products.len())]];
            items.push(Item {
                id: a.next_item,
                product_id: Some(p.id),
                title: p.title.clone(),
                code: p.code.clone(),
                sku: p.sku.clone(),
                quantity: rng.gen_range(1..=2),
                price: p.price,
            });
            a.next_item += 1;
        }
        let closed = matches!(status, 5 | 6).then(|| created + TimeDelta::hours(30));
        a.orders.insert(
            id,
            Order {
                id,
                label,
                client_id: clients[rng.gen_range(0..clients.len())],
                status_id: status,
                type_id: 2,
                branch_id: 1,
                items,
                written_off: (status >= 4 && status != 6).then(|| created + TimeDelta::hours(24)),
                events: Vec::new(),
                malfunction: "No enciende".into(),
                manager_notes: String::new(),
                created,
                modified: created,
                closed,
            },
        );
        a.event(
            id,
            "created",
            "Orden creada".into(),
            created,
            "Ana (recepción)",
        );
        if n % 3 == 0 {
            a.event(
                id,
                "comment",
                "Cliente avisado por teléfono".into(),
                created + TimeDelta::hours(2),
                "Ana (recepción)",
            );
        }
        if let Some(t) = a.orders[&id].written_off {
            a.event(
                id,
                "written_off",
                "Productos dados de baja".into(),
                t,
                "Luis (taller)",
            );
        }
    }
}

pub(crate) fn add_product(
    a: &mut Account,
    title: &str,
    sku: &str,
    price: u64,
    category: Option<u64>,
    t: DateTime<Utc>,
) -> u64 {
    let id = a.next_product;
    a.next_product += 1;
    a.products.insert(
        id,
        Product {
            id,
            title: title.into(),
            code: format!("P{:05}", id - 910_000),
            sku: sku.into(),
            barcodes: vec![ean13(id)],
            price,
            category_id: category,
            description: String::new(),
            unit: "pcs".into(),
            residue: 12,
            created: t,
        },
    );
    id
}
