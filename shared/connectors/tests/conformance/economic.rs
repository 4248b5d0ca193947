//! Visma e-conomic against its sandbox: customers and products; legacy webhooks are URL
//! templates a user sets in the UI, unsigned, the numbers in the query.

use crate::suite::{fields, Case, Sample};
use puente_core::{Fields, Kind};
use puente_sandbox::HookKind;

fn customer(n: u32) -> Fields {
    fields(&[
        ("email", format!("mette.conf{n}@eksempel.dk")),
        ("first_name", format!("Mette{n}")),
        ("last_name", "Kristensen".into()),
        ("city", "Aarhus".into()),
    ])
}

fn product(n: u32) -> Fields {
    fields(&[
        ("sku", format!("ECC-{n:04}")),
        ("name", format!("Kaffekande konformitet {n}")),
        ("price", "149.95".into()),
    ])
}

fn case() -> Case {
    Case {
        vendor: "economic",
        settings: &[("page_size", 7)],
        samples: vec![
            Sample {
                kind: Kind::Product,
                fields: product,
                change: ("price", "159.5"),
            },
            Sample {
                kind: Kind::Contact,
                fields: customer,
                change: ("city", "Odense"),
            },
        ],
        point_webhooks: Some(|s, url| {
            let e = s.economic().expect("an e-conomic sandbox");
            e.set_webhook(
                HookKind::CustomerUpdated,
                Some(&format!(
                    "{url}?type=customer&new=[NEWNUMBER]&old=[OLDNUMBER]"
                )),
            );
            e.set_webhook(
                HookKind::ProductUpdated,
                Some(&format!(
                    "{url}?type=product&new=[NEWNUMBER]&old=[OLDNUMBER]"
                )),
            );
        }),
        signed_webhooks: false,
    }
}

connector_conformance!(case());
