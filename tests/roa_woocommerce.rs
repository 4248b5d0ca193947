//! WooCommerce → RO App end to end (issue 14, ROA-1..8).
