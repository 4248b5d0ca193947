//! Puente's domain: canonical records, key normalisers and the pure sync engine.
//!
//! Nothing here does I/O; connectors map vendor JSON to [`Record`]s, the runtime fetches,
//! writes and stores, and [`engine::decide`] tells it what to do with each pair.

pub mod engine;
pub mod hash;
pub mod record;
pub mod taxid;

pub use engine::{
    decide, eligibility, merge, synced_state, Decision, LinkState, Merge, Rules, Side, SkipReason,
};
pub use hash::{field_hashes, record_hash, value_hash};
pub use record::{canonical_tax_id, Fields, Kind, Record, Relationship};
pub use taxid::{TaxId, TaxIdError, TaxIdKind};
