//! RO App against its sandbox: clients, catalogue products and orders (ROA-2..8). RO App
//! keeps its own clients and products (flows only create them), so their updates are
//! refused without a call; an order's delivery is what an update changes (ROA-6). No
//! webhooks.

use crate::suite::{fields, Case, Sample};
use puente_core::{order_items, Fields, KeyKind, Kind, OrderItem};

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("RCF-{n:04}")),
        ("name", format!("Funda conformidad {n}")),
        ("description", format!("Funda de silicona, lote {n}")),
        ("price", "19.9".into()),
        ("code", format!("77{n:04}")),
    ])
}

fn client(n: u32) -> Fields {
    fields(&[
        ("first_name", format!("Rosa{n}")),
        ("last_name", format!("Conformidad{n}")),
        ("email", format!("rosa.conf{n}@example.es")),
        ("phone", format!("+3466100{n:04}")),
    ])
}

fn order(n: u32) -> Fields {
    let items = order_items(&[OrderItem {
        name: format!("Cargador conformidad {n}"),
        sku: format!("RCO-{n:04}"),
        price: "24.5".into(),
        quantity: "2".into(),
        ..OrderItem::default()
    }]);
    fields(&[
        ("order_id", format!("#CONF-{n:04}")),
        ("order_date", format!("2026-11-{:02}T10:00:00Z", 1 + n % 28)),
        ("currency", "EUR".into()),
        ("items", items),
        ("shipping_method", format!("Recogida en tienda {n}")),
    ])
}

fn case() -> Case {
    Case {
        vendor: "roapp",
        settings: &[],
        samples: vec![
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("price", "21.5"),
            },
            Sample {
                kind: Kind::Contact,
                fields: client,
                change: ("last_name", "Cambiada"),
            },
            Sample {
                kind: Kind::Order,
                fields: order,
                change: ("shipping_method", "Mensajería urgente"),
            },
        ],
        point_webhooks: None,
        signed_webhooks: false,
    }
}

// A client's name is searched by its words (first name here); an order by its number, the
// way the presets say `code:order_id`.
connector_conformance!(
    case(),
    keys = &[
        (Kind::Contact, KeyKind::Name, "first_name"),
        (Kind::Order, KeyKind::Code, "order_id"),
    ]
);
