//! Puente's domain: canonical records, key normalisers and the pure sync engine.
//!
//! Nothing here does I/O; connectors map vendor JSON to [`Record`]s, the runtime fetches,
//! writes and stores, and [`engine::decide`] tells it what to do with each pair.

pub mod country;
pub mod engine;
pub mod hash;
pub mod keys;
pub mod record;
pub mod rules;
pub mod sku;
pub mod taxid;

pub use country::{canonical_country, country_code};
pub use engine::{
    decide, eligibility, merge, synced_state, Decision, LinkState, Merge, Rules, Side, SkipReason,
};
pub use hash::{field_hashes, record_hash, value_hash};
pub use keys::{Email, KeyKind, KeySpec, Name, Phone};
pub use record::{
    budget_lines, canonical_tax_id, is_embedded_id, natural_key, order_items, parse_budget_lines,
    parse_order_items, parse_tax_rates, ref_product, tax_rates, BudgetLine, CustomerRef,
    DependencyRefs, Fields, KeyError, Kind, OrderItem, Record, Relationship, EMBEDDED_ID_PREFIX,
    HIDDEN_FIELDS, REF_CUSTOMER, REF_CUSTOMER_KIND, UNSUPPORTED,
};
pub use rules::{Direction, EntityRules, Filter, FirstMatch, Owner, WriteMode};
pub use sku::{canonical_decimal, canonical_sku, decimal, Sku, SkuError};
pub use taxid::{TaxId, TaxIdError, TaxIdKind};
