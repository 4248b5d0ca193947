//! WooCommerce against its sandbox: orders, products and customers, read only (ROA-4: a
//! flow never sets a status on the shop). Webhooks are created through the API (the store
//! pings the URL first, unsigned) and deliveries are signed with the webhook's secret; the
//! orders they announce are placed by the sandbox's shopper.

use crate::suite::Case;

fn case() -> Case {
    Case {
        vendor: "woocommerce",
        settings: &[("page_size", 7)],
        samples: vec![],
        point_webhooks: None,
        signed_webhooks: true,
    }
}

connector_conformance!(case());
