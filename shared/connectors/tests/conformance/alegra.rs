//! Alegra against its sandbox: contacts, providers (companies) and items; webhooks
//! subscribed through the API after the empty-body handshake.

use crate::suite::{cif, dni, fields, Case, Sample};
use puente_core::{Fields, Kind};

fn contact(n: u32) -> Fields {
    fields(&[
        ("tax_id", dni(100 + n)),
        ("first_name", format!("Andrés{n}")),
        ("last_name", format!("Conformidad{n}")),
        ("email", format!("andres.conf{n}@example.es")),
        ("city", "Valencia".into()),
    ])
}

fn company(n: u32) -> Fields {
    fields(&[
        ("tax_id", cif(100 + n)),
        ("name", format!("Suministros Conformidad {n} SL")),
        ("email", format!("compras{n}@suministros.es")),
        // A company's CIF is Alegra's type NIF, which requires city and province (A12).
        ("city", "Valencia".into()),
        ("region", "Valencia".into()),
    ])
}

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("ALC-{n:04}")),
        ("name", format!("Arandela conformidad {n}")),
        ("price", "3.2".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "alegra",
        settings: &[],
        samples: vec![
            Sample {
                kind: Kind::Contact,
                fields: contact,
                change: ("city", "Alicante"),
            },
            Sample {
                kind: Kind::Company,
                fields: company,
                change: ("name", "Suministros Renombrados SL"),
            },
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("price", "4.15"),
            },
        ],
        point_webhooks: None,
        signed_webhooks: false,
    }
}

connector_conformance!(case());
