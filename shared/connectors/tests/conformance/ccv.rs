//! CCV Shop against its sandbox: customer accounts and products; webhooks subscribed through
//! the API, each delivery signed with its subscription's key (HMAC-SHA512).

use crate::suite::{fields, Case, Sample};
use puente_core::{Fields, Kind};

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("CCVC-{n:04}")),
        ("name", format!("Koffiefilter conformiteit {n}")),
        ("price", "12.5".into()),
    ])
}

fn contact(n: u32) -> Fields {
    fields(&[
        ("email", format!("sanne.conf{n}@voorbeeld.nl")),
        ("first_name", format!("Sanne{n}")),
        ("last_name", "de Vries".into()),
        ("city", "Utrecht".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "ccv",
        settings: &[("page_size", 7)],
        samples: vec![
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("name", "Koffiefilter hernoemd"),
            },
            Sample {
                kind: Kind::Contact,
                fields: contact,
                change: ("city", "Amersfoort"),
            },
        ],
        point_webhooks: None,
        signed_webhooks: true,
    }
}

connector_conformance!(case());
