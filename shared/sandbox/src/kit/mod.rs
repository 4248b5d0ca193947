//! The sandbox kit: everything a vendor sandbox needs that is not about the vendor.
//!
//! A vendor module builds an axum [`Router`](axum::Router) of its API over a [`Common`] (clock,
//! counters, faults, webhook outbox) and hands it to [`server::serve`], which wraps it in the
//! kit's middleware (request counting outermost, then fault injection) and the
//! `/_sandbox/*` control routes, and returns the [`Sandbox`] handle. A vendor answers the
//! kit's injected faults in its own shapes ([`faults::FaultReplies`]) and may hang state the
//! handle needs on [`Common::with_ext`]; the kit itself names no vendor.
//!
//! Also here for the vendor modules: [`paging`] (the vendors' paging styles), [`sign`] (HMAC
//! signatures of deliveries and responses), [`fake`] and [`taxid`] (seed data), [`clock`]
//! (timestamp formats) and [`http`] (small request and response helpers); [`vat`] makes and
//! checks the Dutch, Danish and Swedish VAT numbers of the shop and accounting sandboxes.

pub(crate) mod clock;
mod common;
mod control;
pub(crate) mod fake;
pub(crate) mod faults;
pub(crate) mod http;
pub(crate) mod outbox;
pub(crate) mod paging;
pub(crate) mod server;
pub(crate) mod sign;
pub(crate) mod stats;
pub mod taxid;
mod user;
pub mod vat;

pub(crate) use common::{lock, Common};
pub use faults::Faults;
pub use outbox::WebhookSent;
pub use server::Sandbox;
pub use stats::Stats;
pub use user::VendorUser;
