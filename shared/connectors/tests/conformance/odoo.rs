//! Odoo against its sandbox: partners (persons and companies) and products; no webhooks.

use crate::suite::{cif, dni, fields, Case, Sample};
use puente_core::{Fields, Kind};

fn contact(n: u32) -> Fields {
    fields(&[
        ("tax_id", dni(200 + n)),
        // Odoo keeps one name for a person: all of it is `first_name` (ODO-2).
        ("first_name", format!("Marta{n} Conformidad")),
        ("email", format!("marta.conf{n}@example.es")),
        ("city", "Sevilla".into()),
    ])
}

fn company(n: u32) -> Fields {
    fields(&[
        ("tax_id", cif(200 + n)),
        ("name", format!("Distribuciones Conformidad {n} SA")),
        ("email", format!("info{n}@distribuciones.es")),
    ])
}

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("ODC-{n:04}")),
        ("name", format!("Bisagra conformidad {n}")),
        ("price", "7.9".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "odoo",
        settings: &[("page_size", 7)],
        samples: vec![
            Sample {
                kind: Kind::Contact,
                fields: contact,
                change: ("city", "Córdoba"),
            },
            Sample {
                kind: Kind::Company,
                fields: company,
                change: ("name", "Distribuciones Renombradas SA"),
            },
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("price", "8.45"),
            },
        ],
        point_webhooks: None,
        signed_webhooks: false,
    }
}

connector_conformance!(case());
