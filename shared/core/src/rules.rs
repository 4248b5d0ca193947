//! A flow as data (platform.md §2): per entity, which way it flows, which keys match its
//! records, who owns each field, what may be written, which records take part, and who
//! mints the key. The engine decides every pair from these rules alone, so a new flow shape
//! (one-way orders, update-only stock, customers matched by email then phone) is a new set
//! of rules, not new engine code. [`EntityRules::for_kind`] gives today's defaults per
//! entity; a flow's preset and its config adjust them.

use crate::keys::{KeyError, KeyKind, KeySpec};
use crate::record::{Fields, Kind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Which way an entity flows (P1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    /// A change on either side reaches the other.
    TwoWay,
    /// Only changes of this system (a connection name) flow; the other side mirrors it,
    /// and nothing is created on or written to the source.
    From(String),
}

/// What a flow may write for an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WriteMode {
    /// Create missing records and update existing ones.
    CreateUpdate,
    /// Create missing records; never change one that exists (a document once sent).
    CreateOnly,
    /// Change records that exist; never create one (stock levels, APC-4).
    UpdateOnly,
}

impl FromStr for WriteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "create-update" => Ok(WriteMode::CreateUpdate),
            "create-only" => Ok(WriteMode::CreateOnly),
            "update-only" => Ok(WriteMode::UpdateOnly),
            o => Err(format!(
                "unknown write mode '{o}'; use create-update, create-only or update-only"
            )),
        }
    }
}

impl fmt::Display for WriteMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WriteMode::CreateUpdate => "create-update",
            WriteMode::CreateOnly => "create-only",
            WriteMode::UpdateOnly => "update-only",
        })
    }
}

/// Who decides a field's value when the two sides differ (P2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Owner {
    /// The side changed since the last sync; when both changed, the newer record (ALG-10).
    Newest,
    /// Always this system's value (a connection name).
    Pinned(String),
    /// Written when the record is created, never overwritten afterwards: data enriched on
    /// the target survives (APC-6).
    CreateOnly,
}

/// How the first match of two records settles fields both hold with different values
/// (issue 17: a first match must not overwrite data someone entered on purpose).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FirstMatch {
    /// Each side keeps its own value and the pair is logged as a `conflict` naming the
    /// fields; the next edit of such a field, on either side, flows across as usual. Pins
    /// and one-way directions still decide the fields they own.
    #[default]
    KeepBoth,
    /// The newer record's value wins, like a conflict after the first sync (opt-in:
    /// `first_match = "newest"`). A customer is still never demoted to a lead.
    Newest,
}

impl std::str::FromStr for FirstMatch {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "keep-both" => Ok(FirstMatch::KeepBoth),
            "newest" => Ok(FirstMatch::Newest),
            other => Err(format!(
                "unknown first_match '{other}' (expected \"keep-both\" or \"newest\")"
            )),
        }
    }
}

/// Only records whose `field` is one of `any_of` take part (ODO-4: confirmed orders only;
/// APC-1: paid orders only), and none whose `field` is one of `none_of` (ROA-1: no
/// fulfilled, cancelled or refunded orders). An empty list says nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub field: String,
    pub any_of: Vec<String>,
    #[serde(default)]
    pub none_of: Vec<String>,
}

/// The rules of one entity in one flow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityRules {
    pub kind: Kind,
    pub direction: Direction,
    /// Match keys in order, after the link and a back-reference kept in the record. The
    /// first is the link's key; a record needs at least one to take part (ALG-3).
    pub keys: Vec<KeySpec>,
    /// The key is minted by the system a record is created in (ALG-8: a budget made in
    /// Clientify has no `ALG-{id}` until Alegra gives the estimate an id), so a record
    /// without one is new rather than ineligible.
    pub key_minted_on_create: bool,
    /// Field owners other than [`Owner::Newest`].
    pub owners: BTreeMap<String, Owner>,
    pub write: WriteMode,
    pub filters: Vec<Filter>,
    /// The system that wins when both records changed at the same instant (or neither
    /// says when). Empty: the first side of the pair.
    pub prefer_on_tie: String,
    pub first_match: FirstMatch,
    /// Fields a record must have to take part, each with what its absence means (ROA-5: a
    /// shop order without products, or whose customer has neither email nor phone, is
    /// skipped with that reason). Read like filters, hidden fields included.
    #[serde(default)]
    pub required: BTreeMap<String, String>,
    /// Whether runs list and sync the entity on its own. `false`: its records are synced
    /// only as dependencies of the flow's documents (ROA-7, ROA-8: an order's customer and
    /// products come with the order, never the whole customer list), so Full, Modified and
    /// backfill runs skip it, its webhooks are not subscribed and its events are ignored.
    #[serde(default = "yes")]
    pub standalone: bool,
}

fn yes() -> bool {
    true
}

impl EntityRules {
    /// Today's rules of `kind`: two-way, matched by its natural key (tax id for parties,
    /// SKU for products, `ecommerce/order_id` for orders, the minted code for budgets),
    /// newest wins.
    pub fn for_kind(kind: Kind) -> EntityRules {
        let (keys, minted, filters) = match kind {
            Kind::Contact | Kind::Company => (vec![KeySpec::of(KeyKind::TaxId)], false, vec![]),
            Kind::Product => (vec![KeySpec::of(KeyKind::Sku)], false, vec![]),
            Kind::Stock => (vec![KeySpec::of(KeyKind::Sku)], false, vec![]),
            // Which statuses an order flow sends is the flow's (ODO-4's confirmed orders
            // are in the Clientify ⇄ Odoo preset, ROA-1's exclusions in the shop presets).
            Kind::Order => (vec![KeySpec::of(KeyKind::Order)], false, vec![]),
            Kind::Budget => (
                vec![KeySpec::of(KeyKind::Code)
                    .with_field("code")
                    .labelled("budget code")],
                true,
                vec![],
            ),
        };
        EntityRules {
            kind,
            direction: Direction::TwoWay,
            keys,
            key_minted_on_create: minted,
            owners: BTreeMap::new(),
            // Stock levels are written to products that exist, never created (APC-4).
            write: if kind == Kind::Stock {
                WriteMode::UpdateOnly
            } else {
                WriteMode::CreateUpdate
            },
            filters,
            prefer_on_tie: String::new(),
            first_match: FirstMatch::KeepBoth,
            required: BTreeMap::new(),
            standalone: true,
        }
    }

    /// The source system when the entity flows one way.
    pub fn source(&self) -> Option<&str> {
        match &self.direction {
            Direction::TwoWay => None,
            Direction::From(s) => Some(s),
        }
    }

    /// The owner of `field`.
    pub fn owner(&self, field: &str) -> &Owner {
        self.owners.get(field).unwrap_or(&Owner::Newest)
    }

    /// The record's first key that parses (the link's key), or why none does: the error of
    /// the first key when every key is missing or invalid.
    pub fn key_of(&self, fields: &Fields) -> Result<String, KeyError> {
        let mut first_err = None;
        for k in &self.keys {
            match k.value(fields) {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or(KeyError::Missing))
    }

    /// Every key of the record that parses, in order, without repeats.
    pub fn keys_of(&self, fields: &Fields) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in &self.keys {
            if let Ok(v) = k.value(fields) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The match key whose value is `key` in `fields`, if any.
    pub fn spec_of(&self, fields: &Fields, key: &str) -> Option<&KeySpec> {
        self.keys
            .iter()
            .find(|k| k.value(fields).is_ok_and(|v| v == key))
    }

    /// What the keys are called in messages: `identification` or `email or phone`.
    pub fn key_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.label.as_str())
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl KeySpec {
    /// The same key reading another canonical field.
    pub fn with_field(mut self, field: &str) -> KeySpec {
        self.field = field.to_string();
        self
    }
}

impl Default for EntityRules {
    fn default() -> Self {
        EntityRules::for_kind(Kind::Contact)
    }
}
