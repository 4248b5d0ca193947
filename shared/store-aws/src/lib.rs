//! The Puente store ports on AWS: [`DynamoStore`] (links, checkpoints, leases, processed
//! webhook events and the activity log in one DynamoDB table) and [`SqsQueue`] (the
//! queue on SQS FIFO with a dead-letter queue). [`AwsStore`] combines them into a
//! [`puente_store::Store`], and passes the same conformance suite as the SQLite and memory
//! adapters (against moto: see `tests/conformance_moto.rs` and `infra/moto.sh`).
//!
//! Build the SDK clients once per process (per Lambda container) from
//! `aws_config::load_defaults`, which honours `AWS_ENDPOINT_URL` for local emulators.

pub mod activity;
mod common;
pub mod dynamo;
pub mod seq;
pub mod sqs;
pub mod testkit;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use puente_store::{
    ActivityEntry, ActivityLog, CheckpointStore, DeadLetter, DedupStore, LeaseGrant, LeaseStore,
    Link, LinkStore, LogQuery, OpCounter, OpCounts, Queue, QueueMessage, RunQuery, RunRecord,
    Scope, StoreResult,
};

pub use dynamo::DynamoStore;
pub use sqs::SqsQueue;

/// Everything the engine persists, on AWS: the table and the queue, with the queue's
/// ledger (exact duplicate answers, stale receipts, last errors: see [`sqs`]) kept in
/// the table.
#[derive(Debug)]
pub struct AwsStore {
    dynamo: DynamoStore,
    sqs: SqsQueue,
}

impl AwsStore {
    /// Combine the two; the queue keeps its ledger in `dynamo`'s table.
    pub fn new(dynamo: DynamoStore, sqs: SqsQueue) -> Self {
        let sqs = sqs.with_ledger(&dynamo);
        AwsStore { dynamo, sqs }
    }

    pub fn dynamo(&self) -> &DynamoStore {
        &self.dynamo
    }

    pub fn sqs(&self) -> &SqsQueue {
        &self.sqs
    }

    pub fn into_parts(self) -> (DynamoStore, SqsQueue) {
        (self.dynamo, self.sqs)
    }

    /// Store operations so far (one per trait call), table and queue together.
    pub fn op_counts(&self) -> OpCounts {
        let (a, b) = (self.dynamo.op_counts(), self.sqs.op_counts());
        OpCounts {
            reads: a.reads + b.reads,
            writes: a.writes + b.writes,
            batched_writes: a.batched_writes + b.batched_writes,
        }
    }
}

impl OpCounter for AwsStore {
    fn op_counts(&self) -> OpCounts {
        AwsStore::op_counts(self)
    }
}

#[async_trait]
impl LinkStore for AwsStore {
    async fn link_by_external(
        &self,
        scope: Scope<'_>,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Link>> {
        self.dynamo
            .link_by_external(scope, system, external_id)
            .await
    }

    async fn link_by_key(&self, scope: Scope<'_>, key: &str) -> StoreResult<Option<Link>> {
        self.dynamo.link_by_key(scope, key).await
    }

    async fn links(&self, scope: Scope<'_>) -> StoreResult<Vec<Link>> {
        self.dynamo.links(scope).await
    }

    async fn save_link(&self, link: &Link) -> StoreResult<Link> {
        self.dynamo.save_link(link).await
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<Vec<Link>> {
        self.dynamo.save_links(links).await
    }

    async fn delete_link(&self, link: &Link) -> StoreResult<()> {
        self.dynamo.delete_link(link).await
    }
}

#[async_trait]
impl CheckpointStore for AwsStore {
    async fn checkpoint(&self, tenant: &str, scope: &str) -> StoreResult<Option<String>> {
        self.dynamo.checkpoint(tenant, scope).await
    }

    async fn put_checkpoint(&self, tenant: &str, scope: &str, value: &str) -> StoreResult<()> {
        self.dynamo.put_checkpoint(tenant, scope, value).await
    }
}

#[async_trait]
impl LeaseStore for AwsStore {
    async fn take_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.dynamo.take_lease(tenant, name, owner, ttl).await
    }

    async fn release_lease(&self, tenant: &str, name: &str, owner: &str) -> StoreResult<()> {
        self.dynamo.release_lease(tenant, name, owner).await
    }
}

#[async_trait]
impl DedupStore for AwsStore {
    async fn first_seen(&self, tenant: &str, event_id: &str, ttl: Duration) -> StoreResult<bool> {
        self.dynamo.first_seen(tenant, event_id, ttl).await
    }
}

#[async_trait]
impl ActivityLog for AwsStore {
    async fn append(&self, entries: &[ActivityEntry]) -> StoreResult<()> {
        self.dynamo.append(entries).await
    }

    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>> {
        self.dynamo.query(q).await
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.dynamo.purge_expired(now).await
    }

    async fn put_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.dynamo.put_run(run).await
    }

    async fn runs(&self, q: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        self.dynamo.runs(q).await
    }
}

#[async_trait]
impl Queue for AwsStore {
    async fn send(&self, group: &str, dedup_id: &str, body: &str) -> StoreResult<bool> {
        self.sqs.send(group, dedup_id, body).await
    }

    async fn receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<QueueMessage>> {
        self.sqs.receive(max, visibility).await
    }

    async fn ack(&self, receipt: &str) -> StoreResult<()> {
        self.sqs.ack(receipt).await
    }

    async fn retry_later(&self, receipt: &str, delay: Duration, error: &str) -> StoreResult<()> {
        self.sqs.retry_later(receipt, delay, error).await
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.sqs.dead_letters(limit).await
    }

    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()> {
        self.sqs.replay_dead_letter(id).await
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        self.sqs.queue_depth().await
    }
}
