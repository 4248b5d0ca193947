//! The connector conformance suite (`shared/spec/platform.md` §8) against each vendor's
//! sandbox: the properties are in `conformance/suite.rs`, each vendor's case in its own file.

#[macro_use]
#[path = "conformance/suite.rs"]
mod suite;

#[path = "conformance/clientify.rs"]
mod clientify;

#[path = "conformance/alegra.rs"]
mod alegra;

#[path = "conformance/odoo.rs"]
mod odoo;

#[path = "conformance/ccv.rs"]
mod ccv;

#[path = "conformance/economic.rs"]
mod economic;

#[path = "conformance/eaccounting.rs"]
mod eaccounting;

#[path = "conformance/roapp.rs"]
mod roapp;

#[path = "conformance/shopify.rs"]
mod shopify;

#[path = "conformance/woocommerce.rs"]
mod woocommerce;
