//! The capabilities the sync engine needs from storage, one small trait each.
//!
//! Each trait is what one part of the engine depends on (the worker needs links and the
//! log, the scheduler checkpoints and leases, the webhook dedup and the queue), so a test
//! or a function can ask for exactly what it uses. [`Store`] bundles them for adapters
//! that provide everything (SQLite, memory, later DynamoDB + SQS).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{
    ActivityEntry, DeadLetter, Link, LogQuery, QueueMessage, RunQuery, RunRecord, Scope,
    StoreResult,
};

/// Links between records of different systems (see [`Link`]), each in its flow's
/// [`Scope`].
#[async_trait]
pub trait LinkStore: Send + Sync {
    /// The link of the scope that holds `external_id` for connection `system`, if any.
    async fn link_by_external(
        &self,
        scope: Scope<'_>,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Link>>;

    /// The link of the scope with this natural key (its `key` or one of its `more_keys`),
    /// so a match needs no API search when the key is known.
    async fn link_by_key(&self, scope: Scope<'_>, key: &str) -> StoreResult<Option<Link>>;

    /// All links of a scope, ordered by id (a Full sync loads them in one go).
    async fn links(&self, scope: Scope<'_>) -> StoreResult<Vec<Link>>;

    /// Store a link in its scope, guarded by its version.
    ///
    /// Optimistic concurrency: `link.version` must equal the stored version (0 = must not
    /// exist yet), else `Conflict`. A webhook worker and a Full sync may merge the same
    /// record at once; the loser must re-read and re-merge rather than overwrite the
    /// winner's field hashes, and a version check does that without holding locks across
    /// vendor API calls (it is also what a DynamoDB conditional write offers).
    ///
    /// Within a scope, each (system, external_id) pair and each natural key (`key` and
    /// `more_keys`) must belong to at most one link, else `Duplicate` naming which. On
    /// success returns the link with `version + 1`; the lookups by external id and key
    /// follow the new `ids` and keys (entries the link no longer has are freed). Links of
    /// different scopes never clash.
    async fn save_link(&self, link: &Link) -> StoreResult<Link>;

    /// [`save_link`](LinkStore::save_link) for many links, all-or-nothing: either every
    /// link is stored or none is (one transaction in SQLite). Links are applied in order,
    /// so the same id may appear twice if the second carries the first's new version.
    /// Used to batch a Full sync's link writes.
    async fn save_links(&self, links: &[Link]) -> StoreResult<Vec<Link>>;

    /// Removes a link and frees its external ids and keys, guarded by its version like a
    /// save (`Conflict` if it moved; `NotFound` if it is not stored). Used when links of
    /// an older version are moved into their flow's scope.
    async fn delete_link(&self, link: &Link) -> StoreResult<()>;
}

/// Where each poll left off, so the next Modified run continues from there.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// `scope` e.g. `"clientify-alegra/clientify/contact"`; the value is opaque (JSON).
    async fn checkpoint(&self, tenant: &str, scope: &str) -> StoreResult<Option<String>>;
    async fn put_checkpoint(&self, tenant: &str, scope: &str, value: &str) -> StoreResult<()>;
}

/// How [`LeaseStore::take_lease`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseGrant {
    /// Another owner holds it.
    Busy,
    /// It was free (never taken, or released).
    Free,
    /// `owner` already held it; renewed.
    Renewed,
    /// Another owner held it and let it expire without releasing it: that holder died (or
    /// was cancelled) while it held the lease, maybe half-way through what it guarded.
    TakenOver,
}

impl LeaseGrant {
    /// Whether the caller holds the lease now.
    pub fn held(self) -> bool {
        self != LeaseGrant::Busy
    }
}

/// Time-limited exclusive leases, so two polls of the same flow never overlap and two
/// workers never write the same pair at once.
///
/// A lease rather than a lock: if its holder dies (a Lambda timing out) the lease simply
/// expires and the next run takes over, with nothing to clean up.
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Acquire if free, expired, or already held by `owner` (then renew it for `ttl`), and
    /// say which of those it was. A `ttl` of zero leaves it held-but-expired (abandoned):
    /// the next taker gets [`LeaseGrant::TakenOver`].
    async fn take_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant>;

    /// [`take_lease`](LeaseStore::take_lease), only saying whether `owner` holds it now.
    async fn acquire_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<bool> {
        Ok(self.take_lease(tenant, name, owner, ttl).await?.held())
    }

    /// Give the lease up early; does nothing unless `owner` holds it.
    async fn release_lease(&self, tenant: &str, name: &str, owner: &str) -> StoreResult<()>;
}

/// Webhook deduplication: vendors deliver at least once and retry on slow answers.
#[async_trait]
pub trait DedupStore: Send + Sync {
    /// `true` the first time (tenant, event_id) is seen within `ttl`; `false` for a repeat.
    /// The ids are forgotten after `ttl`, so the table stays small: vendors retry for
    /// minutes or hours, not forever.
    async fn first_seen(&self, tenant: &str, event_id: &str, ttl: Duration) -> StoreResult<bool>;
}

/// The per-tenant audit trail of what the sync did.
#[async_trait]
pub trait ActivityLog: Send + Sync {
    /// Append a batch in one transaction; the store assigns each entry's `seq`
    /// (monotonic per store, never reused), ignoring the input value.
    async fn append(&self, entries: &[ActivityEntry]) -> StoreResult<()>;

    /// Newest first (`seq` descending), filters ANDed, expired entries excluded.
    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>>;

    /// Delete entries (with the values they hold) and run records whose `expires_at <=
    /// now`; returns how many entries were deleted.
    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Store what one run did (replacing an earlier record of the same tenant and run id:
    /// a run cut into slices keeps its last summary).
    async fn put_run(&self, run: &RunRecord) -> StoreResult<()>;

    /// Runs of a tenant, newest first; expired ones excluded.
    async fn runs(&self, q: &RunQuery) -> StoreResult<Vec<RunRecord>>;
}

/// A durable FIFO-per-group queue with visibility timeouts, like SQS FIFO, so a crash
/// loses no event: a message is only deleted when acknowledged, and a worker that dies
/// holding it just lets its visibility timeout run out.
///
/// Groups give ordering where it matters (changes to one record, in order) and
/// parallelism where it does not (different records at once).
#[async_trait]
pub trait Queue: Send + Sync {
    /// Returns `false` (and enqueues nothing) when `dedup_id` was already sent within the
    /// last 5 minutes (the SQS FIFO deduplication window), so a webhook retried by the
    /// vendor or a poll page enqueued twice produces one message. Dedup ids are
    /// queue-wide: include the tenant in them.
    async fn send(&self, group: &str, dedup_id: &str, body: &str) -> StoreResult<bool>;

    /// Up to `max` visible messages, oldest first; never two from the same group in
    /// flight at once, and not a message while an older message of its group is in
    /// flight. Each received message becomes invisible for `visibility`, its
    /// `receive_count` is incremented and it gets a fresh receipt. A message whose
    /// `receive_count` already reached `max_receives` (set at construction; default 5) is
    /// moved to the dead-letter list instead of being delivered (a poison message must
    /// not block its group forever).
    async fn receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<QueueMessage>>;

    /// Delete the message; an unknown or stale receipt gives `NotFound`.
    async fn ack(&self, receipt: &str) -> StoreResult<()>;

    /// Hand the message back: visible again after `delay` (its group stays blocked until
    /// then, keeping order), remembering `error` for the dead-letter list. The receipt
    /// is spent. Unknown or stale receipt: `NotFound`.
    async fn retry_later(&self, receipt: &str, delay: Duration, error: &str) -> StoreResult<()>;

    /// Dead letters, oldest first.
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>>;

    /// Put a dead letter back at the end of its group with `receive_count` 0 (after the
    /// cause was fixed). Unknown id: `NotFound`.
    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()>;

    /// (messages visible or in flight, dead letters).
    async fn queue_depth(&self) -> StoreResult<(u64, u64)>;
}

/// Everything the engine persists, in one adapter.
pub trait Store:
    LinkStore + CheckpointStore + LeaseStore + DedupStore + ActivityLog + Queue
{
}

impl<T: LinkStore + CheckpointStore + LeaseStore + DedupStore + ActivityLog + Queue> Store for T {}
