//! Visma eAccounting against its sandbox (OAuth2, refresh with Basic client auth):
//! customers and articles; no webhooks (polling only).

use crate::suite::{fields, Case, Sample};
use puente_core::{Fields, Kind};

fn customer(n: u32) -> Fields {
    fields(&[
        ("email", format!("karin.conf{n}@exempel.se")),
        ("first_name", format!("Karin{n}")),
        ("last_name", "Lindqvist".into()),
        ("street", format!("Storgatan {n}")),
        ("postal_code", "41101".into()),
        ("city", "Göteborg".into()),
    ])
}

fn article(n: u32) -> Fields {
    fields(&[
        ("sku", format!("EAC-{n:04}")),
        ("name", format!("Kaffebryggare konformitet {n}")),
        ("price", "499".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "eaccounting",
        settings: &[("page_size", 7)],
        samples: vec![
            Sample {
                kind: Kind::Product,
                fields: article,
                change: ("price", "549"),
            },
            Sample {
                kind: Kind::Contact,
                fields: customer,
                change: ("city", "Malmö"),
            },
        ],
        point_webhooks: None,
        signed_webhooks: false,
    }
}

connector_conformance!(case());
