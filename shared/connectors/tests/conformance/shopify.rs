//! Shopify against its sandbox: orders, products and customers, read only (ROA-4: a flow
//! never writes to the shop). Webhooks are subscribed through the API and signed with the
//! app secret; the orders they announce are placed by the sandbox's shopper.

use crate::suite::Case;

fn case() -> Case {
    Case {
        vendor: "shopify",
        settings: &[("page_size", 7)],
        samples: vec![],
        point_webhooks: None,
        signed_webhooks: true,
    }
}

connector_conformance!(case());
