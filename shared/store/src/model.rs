//! The records the sync engine persists, independent of any backend.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What the engine knows about one business entity that exists in several systems.
///
/// A link is the memory of the sync: which external records are "the same" contact,
/// company or product, and what each field looked like the last time both sides agreed.
/// The per-field hashes let the merge tell which side changed a field; the per-system
/// record hashes let the worker recognise an echo of its own write and do nothing.
///
/// A link belongs to one flow ([`Scope`]): two flows that share a system (Clientify ⇄
/// Alegra and Clientify ⇄ Odoo) each keep their own links of the same Clientify record,
/// and its ids are keyed by *connection* name, so two connections of one vendor (two
/// shops) never share one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub tenant: String,
    /// The flow the link belongs to. Empty for links written before links were scoped by
    /// flow (they wait in the store until a flow adopts them; see the runtime).
    #[serde(default)]
    pub flow: String,
    /// `"contact"`, `"company"`, `"product"`, ...
    pub kind: String,
    /// Chosen by the caller and immutable (e.g. `"alegra:774"`).
    pub id: String,
    /// The first natural key, e.g. the normalised tax id `"B12345674"`; unique per scope.
    pub key: Option<String>,
    /// More natural keys the pair is known by (a customer's phone beside its email); each
    /// unique per scope, like `key`.
    #[serde(default)]
    pub more_keys: Vec<String>,
    /// connection -> external id, e.g. `{"alegra": "774", "clientify": "12"}`; each pair
    /// is unique per scope.
    pub ids: BTreeMap<String, String>,
    /// field -> hash of the last synced value.
    pub field_hashes: BTreeMap<String, String>,
    /// connection -> hash of that side's record as last written or read.
    pub record_hashes: BTreeMap<String, String>,
    /// 0 = never stored. The store sets it; callers send back the version they read so a
    /// concurrent writer is detected instead of silently overwritten.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// Which links a lookup is about: one tenant's links of one entity in one flow. The empty
/// flow is the scope of links stored before links were scoped by flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Scope<'a> {
    pub tenant: &'a str,
    pub flow: &'a str,
    pub kind: &'a str,
}

impl<'a> Scope<'a> {
    pub fn new(tenant: &'a str, flow: &'a str, kind: &'a str) -> Scope<'a> {
        Scope { tenant, flow, kind }
    }
}

impl Link {
    /// A link that has never been stored (version 0), with no ids, key or hashes yet.
    pub fn new(
        tenant: impl Into<String>,
        flow: impl Into<String>,
        kind: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        Link {
            tenant: tenant.into(),
            flow: flow.into(),
            kind: kind.into(),
            id: id.into(),
            key: None,
            more_keys: Vec::new(),
            ids: BTreeMap::new(),
            field_hashes: BTreeMap::new(),
            record_hashes: BTreeMap::new(),
            version: 0,
            updated_at: Utc::now(),
        }
    }

    /// The scope the link lives in.
    pub fn scope(&self) -> Scope<'_> {
        Scope::new(&self.tenant, &self.flow, &self.kind)
    }

    /// Every natural key of the link: `key` first, then `more_keys`, without repeats.
    pub fn keys(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::with_capacity(1 + self.more_keys.len());
        for k in self.key.iter().chain(self.more_keys.iter()) {
            if !out.contains(&k.as_str()) {
                out.push(k);
            }
        }
        out
    }
}

/// What the worker did with one record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Created,
    Updated,
    /// The default only so entries can be built with `..Default::default()`.
    #[default]
    Unchanged,
    Skipped,
    Failed,
    /// The other side holds two or more unlinked records with the record's key: nothing was
    /// written to any of them (issue 17); `puente link` pins the right pair.
    Ambiguous,
    /// Two records were linked for the first time holding different values of some fields:
    /// each side kept its own (issue 17); the entry names the fields and both values.
    Conflict,
}

impl Action {
    pub const ALL: [Action; 7] = [
        Action::Created,
        Action::Updated,
        Action::Unchanged,
        Action::Skipped,
        Action::Failed,
        Action::Ambiguous,
        Action::Conflict,
    ];

    /// The lowercase name used in serde, `Display` and storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
            Action::Skipped => "skipped",
            Action::Failed => "failed",
            Action::Ambiguous => "ambiguous",
            Action::Conflict => "conflict",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text did not name an [`Action`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown action {0:?} (expected created, updated, unchanged, skipped, failed, ambiguous or conflict)"
)]
pub struct ParseActionError(pub String);

impl FromStr for Action {
    type Err = ParseActionError;

    /// Case-insensitive, surrounding whitespace ignored (CLI input).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| ParseActionError(s.to_string()))
    }
}

/// One line of the activity log: what happened to one record.
///
/// Every entry carries `expires_at`, and whatever it holds of a record's content (the
/// `values` written) lives in the entry itself, so it is deleted with it: the log answers
/// "why did this contact change, and to what?" for the retention period only (APC-8, GDPR).
///
/// The fields after `expires_at` came later (the activity page, issue 15); they are optional
/// with serde defaults, so entries stored before them still read, and callers build entries
/// with `..Default::default()`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Assigned by the store on append (monotonic per store); 0 on input.
    pub seq: u64,
    pub tenant: String,
    pub at: DateTime<Utc>,
    pub run_id: Option<String>,
    pub flow: String,
    pub kind: String,
    pub action: Action,
    /// The record the entry is about (the source side).
    pub system: String,
    pub external_id: Option<String>,
    pub target_system: Option<String>,
    pub target_id: Option<String>,
    pub link_id: Option<String>,
    /// Names of the fields written.
    pub fields: Vec<String>,
    pub reason: Option<String>,
    /// Retention: expired entries are never returned and are purged.
    pub expires_at: DateTime<Utc>,
    /// The record's natural key (tax id, email, SKU, order number), so a person can find
    /// every entry of a record by the key they know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Field -> the value written (what was sent). Personal data: kept only inside the
    /// entry, so it expires and is purged with it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub values: BTreeMap<String, String>,
    /// How the pair was matched: `link`, a back-reference such as `in_alegra`, or the key
    /// that matched (`key:tax_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
    /// Field -> the rule that decided its value (`newest`, `pinned:alegra`, `only-side`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<String, String>,
    /// The vendor request that failed, as far as it is known (never a secret: no query
    /// string, no header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<FailedRequest>,
}

/// The request behind a failure: what a person needs to reproduce it with the vendor.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedRequest {
    pub method: Option<String>,
    /// The path only (no host, no query string: those may carry credentials).
    pub path: Option<String>,
    pub status: Option<u16>,
}

/// A record as `system` knows it: the activity log finds its entries on either side of a
/// sync (where the change came from, or where it was written).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordRef {
    pub system: String,
    pub id: String,
}

impl RecordRef {
    pub fn new(system: impl Into<String>, id: impl Into<String>) -> Self {
        RecordRef {
            system: system.into(),
            id: id.into(),
        }
    }
}

impl fmt::Display for RecordRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.id)
    }
}

/// The text is not `SYSTEM:ID`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not SYSTEM:ID (a connection name and that system's id, e.g. shop:774)")]
pub struct ParseRecordRefError(pub String);

impl FromStr for RecordRef {
    type Err = ParseRecordRefError;

    /// `SYSTEM:ID`, both parts non-empty after trimming; the id may itself contain `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().split_once(':') {
            Some((sys, id)) if !sys.trim().is_empty() && !id.trim().is_empty() => {
                Ok(RecordRef::new(sys.trim(), id.trim()))
            }
            _ => Err(ParseRecordRefError(s.to_string())),
        }
    }
}

/// A filter over the activity log; all set filters must match (AND). Results are newest
/// first (`seq` descending); `before_seq` pages backwards (pass the last `seq` seen).
/// `limit` 0 returns nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LogQuery {
    pub tenant: String,
    /// The source system (with `external_id`: the source record).
    pub system: Option<String>,
    pub external_id: Option<String>,
    pub link_id: Option<String>,
    pub run_id: Option<String>,
    pub action: Option<Action>,
    pub before_seq: Option<u64>,
    pub limit: usize,
    #[serde(default)]
    pub flow: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    /// Entries about this record on either side: it was the source (`system`/`external_id`)
    /// or the target (`target_system`/`target_id`).
    #[serde(default)]
    pub record: Option<RecordRef>,
    /// Entries whose natural key is exactly this.
    #[serde(default)]
    pub key: Option<String>,
    /// `at >= since`.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// `at < until`.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
}

impl LogQuery {
    /// The newest `limit` entries of a tenant, no other filter.
    pub fn new(tenant: impl Into<String>, limit: usize) -> Self {
        LogQuery {
            tenant: tenant.into(),
            limit,
            ..LogQuery::default()
        }
    }

    /// Whether `e` passes every filter but the tenant's, paging and expiry: the one
    /// definition adapters that filter in memory share (the memory store), and the
    /// reference the conformance suite checks the others against.
    pub fn matches(&self, e: &ActivityEntry) -> bool {
        fn eq(filter: &Option<String>, value: &Option<String>) -> bool {
            filter.is_none() || filter == value
        }
        fn is(filter: &Option<String>, value: &str) -> bool {
            filter.as_deref().is_none_or(|f| f == value)
        }
        is(&self.system, &e.system)
            && eq(&self.external_id, &e.external_id)
            && eq(&self.link_id, &e.link_id)
            && eq(&self.run_id, &e.run_id)
            && self.action.is_none_or(|a| a == e.action)
            && is(&self.flow, &e.flow)
            && is(&self.kind, &e.kind)
            && eq(&self.key, &e.key)
            && self.since.is_none_or(|t| e.at >= t)
            && self.until.is_none_or(|t| e.at < t)
            && self.record.as_ref().is_none_or(|r| {
                (e.system == r.system && e.external_id.as_deref() == Some(&r.id))
                    || (e.target_system.as_deref() == Some(&r.system)
                        && e.target_id.as_deref() == Some(&r.id))
            })
    }
}

/// What one Full/Modified run did, kept per run for the activity page's runs list: when it
/// started, how long it took, counts per entity and vendor calls per system.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub tenant: String,
    pub run_id: String,
    pub flow: String,
    /// `full`, `modified`, `backfill`, ...
    pub mode: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    /// Entity -> counts.
    pub counts: BTreeMap<String, RunCounts>,
    /// System -> vendor calls made.
    pub calls: BTreeMap<String, u64>,
    /// What stopped part of the run, if anything.
    pub errors: Vec<String>,
    /// Retention, as for log entries.
    pub expires_at: DateTime<Utc>,
}

/// Per-entity outcome counts of a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub skipped: u64,
    pub failed: u64,
}

/// Runs of a tenant, newest first (`started_at` descending); `before` pages backwards
/// (pass the last `started_at` seen). `limit` 0 returns nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunQuery {
    pub tenant: String,
    pub flow: Option<String>,
    pub before: Option<DateTime<Utc>>,
    pub limit: usize,
}

/// A message handed out by [`crate::Queue::receive`]; `receipt` is what acknowledges it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueMessage {
    pub id: String,
    pub group: String,
    pub body: String,
    /// How many times it has been received, this delivery included.
    pub receive_count: u32,
    /// Valid until the message is received again, retried or acknowledged.
    pub receipt: String,
    pub enqueued_at: DateTime<Utc>,
}

/// A message that was received too often without being acknowledged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub id: String,
    pub group: String,
    pub body: String,
    pub receive_count: u32,
    pub failed_at: DateTime<Utc>,
    /// The error given to the last `retry_later`, if any.
    pub last_error: Option<String>,
}

/// Every store operation fails with one of these.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Someone else wrote the item since it was read: re-read, re-merge, retry.
    #[error("version conflict on {0}")]
    Conflict(String),
    /// The external id or natural key already belongs to another link.
    #[error("{0} already linked")]
    Duplicate(String),
    #[error("not found: {0}")]
    NotFound(String),
    /// The database itself failed (I/O, corruption, a path that cannot be opened, ...).
    #[error("storage backend: {0}")]
    Backend(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_text_forms_agree() {
        for a in Action::ALL {
            assert_eq!(a.to_string(), a.as_str());
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        assert_eq!(" Failed ".parse::<Action>(), Ok(Action::Failed));
        assert!("deleted".parse::<Action>().is_err());
    }

    #[test]
    fn store_error_messages() {
        assert_eq!(
            StoreError::Duplicate("contact alegra:774".into()).to_string(),
            "contact alegra:774 already linked"
        );
        assert_eq!(
            StoreError::Conflict("x".into()).to_string(),
            "version conflict on x"
        );
    }
}
