//! Hashes of canonical values. Links keep per-field hashes of the last synced state (not the
//! values: the store never holds personal data it does not need) and a whole-record hash per
//! side, which is how an echo of our own write is recognised without a vendor call.

use crate::record::{Fields, Kind};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A short (64-bit, hex) hash of one canonical value. Collisions only cost a missed change
/// detection between two specific values of one field of one record, so 64 bits is ample.
pub fn value_hash(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    hex::encode(&digest[..8])
}

/// Hash of all canonical fields of `kind`, in the kind's fixed order: its base fields
/// always, later fields only when set (see [`Kind::base_fields`]: new canonical fields do
/// not change the hash of a record that has none of them).
pub fn record_hash(kind: Kind, fields: &Fields) -> String {
    let mut h = Sha256::new();
    let base = kind.base_fields().len();
    for (i, f) in kind.fields().iter().enumerate() {
        let v = fields.get(f);
        if i >= base && v.is_empty() {
            continue;
        }
        h.update(f.as_bytes());
        h.update([0u8]);
        h.update(v.as_bytes());
        h.update([0u8]);
    }
    hex::encode(&h.finalize()[..8])
}

/// Per-field hashes of a record's canonical fields (every field of the kind, empty included).
pub fn field_hashes(kind: Kind, fields: &Fields) -> BTreeMap<String, String> {
    kind.fields()
        .iter()
        .map(|f| (f.to_string(), value_hash(fields.get(f))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alg10_hashes_ignore_absent_vs_empty_and_see_every_field() {
        let a = Fields::new().with("first_name", "Ana").with("email", "");
        let b = Fields::new().with("first_name", " Ana ");
        assert_eq!(
            record_hash(Kind::Contact, &a),
            record_hash(Kind::Contact, &b)
        );
        let c = b.clone().with("city", "Lugo");
        assert_ne!(
            record_hash(Kind::Contact, &b),
            record_hash(Kind::Contact, &c)
        );
        assert_eq!(
            field_hashes(Kind::Contact, &a).len(),
            Kind::Contact.fields().len()
        );
        assert_eq!(value_hash("x").len(), 16);
    }
}
