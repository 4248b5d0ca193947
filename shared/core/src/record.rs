//! Canonical records: what every connector maps its vendor's JSON to and from.
//!
//! Fields are a sorted map of canonical field name → value, with the empty string meaning
//! "absent" (vendors disagree on `null`, `""` and a missing key; the engine must not). Keeping
//! them as a map rather than a struct per entity lets one merge, one hash and one diff serve
//! every entity and every flow.

use crate::taxid::TaxId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The entity kinds Puente syncs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Contact,
    Company,
}

/// Canonical contact fields (persons). `tax_id` is also the natural key (ALG-2).
pub const CONTACT_FIELDS: &[&str] = &[
    "tax_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "status",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
];

/// Canonical company fields (ALG-6: Alegra providers ⇄ Clientify companies).
pub const COMPANY_FIELDS: &[&str] = &[
    "tax_id",
    "name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
];

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Contact, Kind::Company];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Contact => "contact",
            Kind::Company => "company",
        }
    }

    /// The canonical fields of this kind, in a fixed order (hashes depend on it).
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            Kind::Contact => CONTACT_FIELDS,
            Kind::Company => COMPANY_FIELDS,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "contact" | "contacts" => Ok(Kind::Contact),
            "company" | "companies" => Ok(Kind::Company),
            other => Err(format!(
                "unknown entity '{other}'; expected 'contact' or 'company'"
            )),
        }
    }
}

/// Canonical field values. Empty means absent, so `set(f, "")` removes `f`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    pub fn new() -> Fields {
        Fields::default()
    }

    /// The value of `field`, or `""` when absent.
    pub fn get(&self, field: &str) -> &str {
        self.0.get(field).map(String::as_str).unwrap_or("")
    }

    /// Sets `field` to the trimmed `value`; an empty value removes the field.
    pub fn set(&mut self, field: &str, value: impl AsRef<str>) {
        let v = value.as_ref().trim();
        if v.is_empty() {
            self.0.remove(field);
        } else {
            self.0.insert(field.to_string(), v.to_string());
        }
    }

    /// Builder form of [`Fields::set`].
    pub fn with(mut self, field: &str, value: impl AsRef<str>) -> Fields {
        self.set(field, value);
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// These fields with `set` applied and `clear` removed, and the names of every field
    /// touched (what a connector's partial update must write).
    pub fn apply(&self, set: &Fields, clear: &[String]) -> (Fields, Vec<String>) {
        let mut out = self.clone();
        for (k, v) in set.iter() {
            out.set(k, v);
        }
        for k in clear {
            out.set(k, "");
        }
        let mut touched = set.names();
        touched.extend(clear.iter().cloned());
        (out, touched)
    }

    /// Field names present (non-empty).
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// Canonical value of a raw identification: the normalised [`TaxId`] when it parses, otherwise
/// the trimmed raw text (kept so eligibility can say why it is invalid).
pub fn canonical_tax_id(raw: &str) -> String {
    match TaxId::parse(raw) {
        Ok(t) => t.to_string(),
        Err(_) => raw.trim().to_string(),
    }
}

/// Canonical relationship of a contact with the business (ALG-4), the value of the `status`
/// field: both vendors map their own vocabulary onto these three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relationship {
    Client,
    Lead,
    Other,
}

impl Relationship {
    pub fn as_str(self) -> &'static str {
        match self {
            Relationship::Client => "client",
            Relationship::Lead => "lead",
            Relationship::Other => "other",
        }
    }

    /// Reads the canonical `status` value; anything unknown or empty is `Other`.
    pub fn from_canonical(s: &str) -> Relationship {
        match s {
            "client" => Relationship::Client,
            "lead" => Relationship::Lead,
            _ => Relationship::Other,
        }
    }
}

/// One vendor record, mapped to canonical fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The system it came from, e.g. `clientify`.
    pub system: String,
    pub kind: Kind,
    /// The vendor's id, as a string (Alegra sends strings, Clientify numbers).
    pub id: String,
    /// Last modification time as the vendor reports it (ALG-10 compares these).
    pub modified: Option<DateTime<Utc>>,
    pub fields: Fields,
    /// The counterpart's id as stored in this record itself (Clientify's `in_alegra` custom
    /// field, ALG-2 step 1), when the vendor keeps one.
    pub partner_ref: Option<String>,
    /// Whether the record carries the link marks the flow puts on it (e.g. tag `alegra`,
    /// ALG-5). Vendors without marks report `true`.
    pub marked: bool,
    /// Vendor data a connector needs to write the record back (e.g. Alegra's `type` list, so
    /// a provider stays a provider). Never hashed, never merged.
    #[serde(default)]
    pub extra: serde_json::Value,
}

impl Record {
    pub fn new(system: &str, kind: Kind, id: impl Into<String>, fields: Fields) -> Record {
        Record {
            system: system.to_string(),
            kind,
            id: id.into(),
            modified: None,
            fields,
            partner_ref: None,
            marked: true,
            extra: serde_json::Value::Null,
        }
    }

    /// The record's tax id when present and valid.
    pub fn tax_id(&self) -> Result<TaxId, crate::taxid::TaxIdError> {
        TaxId::parse(self.fields.get("tax_id"))
    }
}
