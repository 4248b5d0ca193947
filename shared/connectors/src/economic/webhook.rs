//! e-conomic's legacy webhooks [D e-conomic.com/developer/working-with-web-hooks]: URL
//! templates a SuperUser sets in the UI (All settings → Extensions → Web hooks), one per
//! type; e-conomic fills in the merge fields and calls the URL, one request per changed
//! resource, never bundled, unsigned. Puente's template for each type is its receiver URL
//! with the type and the numbers in the query:
//!
//! ```text
//! https://…/webhooks/{tenant}/{connection}/{secret}?type=product&new=[NEWNUMBER]&old=[OLDNUMBER]
//! ```
//!
//! (`type` one of `customer`, `product`, `order`, `quotation`, `invoice`; invoices fill
//! `new=[INVOICENO]`). Consumers that POST a form body `old=…&new=…` are read the same way.

use crate::{Delivery, IdSyntax, WebhookError};
use puente_core::Kind;

/// The webhook types and the entities a change of one may touch: a product's change is
/// also its stock's (the inventory lives on the product).
pub const TYPES: [(&str, &[Kind]); 5] = [
    ("customer", &[Kind::Contact]),
    ("product", &[Kind::Product, Kind::Stock]),
    ("order", &[Kind::Order]),
    ("quotation", &[Kind::Order]),
    ("invoice", &[Kind::Order]),
];

/// A delivery from its query (and a form body, if any).
pub fn parse_webhook(query: &[(String, String)], body: &[u8]) -> Result<Delivery, WebhookError> {
    let mut params: Vec<(String, String)> = query.to_vec();
    if !body.iter().all(u8::is_ascii_whitespace) {
        params.extend(
            url::form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())),
        );
    }
    let get = |k: &str| {
        params
            .iter()
            .find(|(x, _)| x == k)
            .map(|(_, v)| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let kind = get("type").ok_or_else(|| {
        WebhookError("no `type` in the URL: set the template to …?type=product&new=[NEWNUMBER]&old=[OLDNUMBER]".into())
    })?;
    let Some((_, kinds)) = TYPES.iter().find(|(t, _)| *t == kind) else {
        return Err(WebhookError(format!(
            "unknown webhook type '{kind}'; use customer, product, order, quotation or invoice"
        )));
    };
    let number = get("new")
        .or_else(|| get("number"))
        .ok_or_else(|| WebhookError(format!("`{kind}` names no record (`new`)")))?;
    if number.starts_with('[') {
        return Err(WebhookError(format!(
            "`{kind}`: the merge field {number} was not filled in"
        )));
    }
    let mut targets = Vec::new();
    for k in kinds.iter() {
        let syntax = match k {
            Kind::Product | Kind::Stock => IdSyntax::Text { max: 25 },
            _ => IdSyntax::Integer,
        };
        let id = syntax
            .parse(&number)
            .map_err(|e| WebhookError(format!("`{kind}`: {e}")))?;
        targets.push((*k, id));
    }
    // The request says nothing of the change but its record: each delivery is its own
    // (a repeat costs the worker a read, never a write).
    let received = chrono::Utc::now()
        .timestamp_nanos_opt()
        .unwrap_or_default()
        .to_string();
    Ok(Delivery {
        event: format!("{kind}.updated"),
        targets,
        version: received,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn apc4_economic_product_change_names_the_product_and_its_stock() {
        let d = parse_webhook(
            &q(&[
                ("type", "product"),
                ("new", "BON 1001"),
                ("old", "BON 1001"),
            ]),
            b"",
        )
        .unwrap();
        assert_eq!(
            d.targets,
            vec![
                (Kind::Product, "BON 1001".to_string()),
                (Kind::Stock, "BON 1001".to_string())
            ]
        );
        let d = parse_webhook(&[], b"type=customer&old=7&new=8").unwrap();
        assert_eq!(d.targets, vec![(Kind::Contact, "8".to_string())]);
        assert!(parse_webhook(&q(&[("type", "customer"), ("new", "../x")]), b"").is_err());
        assert!(parse_webhook(&q(&[("type", "product"), ("new", "[NEWNUMBER]")]), b"").is_err());
        assert!(parse_webhook(&q(&[("new", "1")]), b"").is_err());
        assert!(parse_webhook(&q(&[("type", "daybook"), ("new", "1")]), b"").is_err());
    }
}
