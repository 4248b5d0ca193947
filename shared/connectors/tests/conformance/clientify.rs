//! Clientify against its sandbox: contacts, companies and products; webhooks pasted by hand.

use crate::suite::{cif, dni, fields, Case, Sample};
use puente_core::{Fields, Kind};

fn contact(n: u32) -> Fields {
    fields(&[
        ("tax_id", dni(n)),
        ("first_name", format!("Lucía{n}")),
        ("last_name", format!("Conformidad{n}")),
        ("email", format!("lucia.conf{n}@example.es")),
        ("phone", format!("+3461200{n:04}")),
    ])
}

fn company(n: u32) -> Fields {
    fields(&[
        ("tax_id", cif(n)),
        ("name", format!("Talleres Conformidad {n} SL")),
        ("city", "Zaragoza".into()),
    ])
}

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("CONF-{n:04}")),
        ("name", format!("Tornillo conformidad {n}")),
        ("price", "12.5".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "clientify",
        settings: &[("page_size", 7)],
        samples: vec![
            Sample {
                kind: Kind::Contact,
                fields: contact,
                change: ("last_name", "Cambiada"),
            },
            Sample {
                kind: Kind::Company,
                fields: company,
                change: ("city", "Huesca"),
            },
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("price", "13.75"),
            },
        ],
        point_webhooks: Some(|s, url| s.set_webhook_target(Some(url.to_string()))),
        signed_webhooks: false,
    }
}

connector_conformance!(case());
