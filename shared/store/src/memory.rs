//! An in-memory [`Store`](crate::Store) with the same semantics as the SQLite adapter,
//! for unit tests and benchmarks that must not touch the disk. Nothing survives a drop.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::model::{
    ActivityEntry, DeadLetter, Link, LogQuery, QueueMessage, RunQuery, RunRecord, Scope,
    StoreError, StoreResult,
};
use crate::ports::{
    ActivityLog, CheckpointStore, DedupStore, LeaseGrant, LeaseStore, LinkStore, Queue,
};
use crate::stats::{OpCounter, OpCounts, StoreStats};
use crate::util::{deadline, token, DEDUP_WINDOW, DEFAULT_MAX_RECEIVES};

/// All state behind one mutex: every operation is a short, synchronous critical section
/// (the guard is never held across an `.await`), which also makes batches atomic.
#[derive(Debug)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
    stats: StoreStats,
    max_receives: u32,
}

type TenantKind = (String, String);
/// (tenant, flow, kind): a link [`Scope`] as owned strings.
type ScopeKey = (String, String, String);

fn scope_key(s: Scope<'_>) -> ScopeKey {
    (s.tenant.to_string(), s.flow.to_string(), s.kind.to_string())
}

#[derive(Debug, Default)]
struct Inner {
    links: HashMap<ScopeKey, Partition>,
    checkpoints: HashMap<TenantKind, String>,
    leases: HashMap<TenantKind, Lease>,
    seen: Expiring,
    log: BTreeMap<u64, ActivityEntry>,
    last_seq: u64,
    runs: HashMap<TenantKind, RunRecord>,
    queue: MemQueue,
}

/// The links of one scope (tenant, flow, kind) and their secondary indexes.
#[derive(Debug, Default)]
struct Partition {
    by_id: BTreeMap<String, Link>,
    /// system -> external id -> link id
    by_ext: HashMap<String, HashMap<String, String>>,
    /// natural key (every key of every link) -> link id
    by_key: HashMap<String, String>,
}

#[derive(Debug)]
struct Lease {
    owner: String,
    expires_at: DateTime<Utc>,
}

/// Keys with an expiry, swept when the map has doubled since the last sweep, so memory
/// stays proportional to the live keys at amortised O(1) per insert.
#[derive(Debug, Default)]
struct Expiring {
    map: HashMap<TenantKind, DateTime<Utc>>,
    sweep_above: usize,
}

impl Expiring {
    /// Record `key` until `until` unless it is already live; returns whether it was new.
    fn insert_if_absent(
        &mut self,
        key: TenantKind,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> bool {
        if self.map.get(&key).is_some_and(|exp| *exp > now) {
            return false;
        }
        self.map.insert(key, until);
        if self.map.len() > self.sweep_above {
            self.map.retain(|_, exp| *exp > now);
            self.sweep_above = (self.map.len() * 2).max(1024);
        }
        true
    }
}

#[derive(Debug)]
struct Msg {
    id: String,
    group: String,
    body: String,
    receive_count: u32,
    receipt: Option<String>,
    visible_at: DateTime<Utc>,
    last_error: Option<String>,
    enqueued_at: DateTime<Utc>,
}

#[derive(Debug, Default)]
struct MemQueue {
    last_seq: u64,
    msgs: HashMap<u64, Msg>,
    /// group -> seqs in arrival order; the front is the only deliverable message.
    groups: HashMap<String, VecDeque<u64>>,
    receipts: HashMap<String, u64>,
    dedup: Expiring,
    dead: BTreeMap<u64, DeadLetter>,
    dead_ids: HashMap<String, u64>,
}

impl MemQueue {
    fn push(&mut self, id: String, group: &str, body: &str, now: DateTime<Utc>) {
        self.last_seq += 1;
        let seq = self.last_seq;
        self.msgs.insert(
            seq,
            Msg {
                id,
                group: group.to_string(),
                body: body.to_string(),
                receive_count: 0,
                receipt: None,
                visible_at: now,
                last_error: None,
                enqueued_at: now,
            },
        );
        self.groups
            .entry(group.to_string())
            .or_default()
            .push_back(seq);
    }

    fn remove(&mut self, seq: u64) -> Option<Msg> {
        let msg = self.msgs.remove(&seq)?;
        if let Some(receipt) = &msg.receipt {
            self.receipts.remove(receipt);
        }
        if let Some(q) = self.groups.get_mut(&msg.group) {
            if let Some(pos) = q.iter().position(|s| *s == seq) {
                q.remove(pos);
            }
            if q.is_empty() {
                self.groups.remove(&msg.group);
            }
        }
        Some(msg)
    }

    /// The oldest message of every group whose head is visible, oldest first.
    fn visible_heads(&self, now: DateTime<Utc>) -> Vec<u64> {
        let mut heads: Vec<u64> = self
            .groups
            .values()
            .filter_map(|q| q.front().copied())
            .filter(|seq| self.msgs.get(seq).is_some_and(|m| m.visible_at <= now))
            .collect();
        heads.sort_unstable();
        heads
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        MemoryStore {
            inner: Mutex::new(Inner::default()),
            stats: StoreStats::default(),
            max_receives: DEFAULT_MAX_RECEIVES,
        }
    }

    /// Receives after which a message goes to the dead-letter list (at least 1).
    pub fn with_max_receives(mut self, n: u32) -> Self {
        self.max_receives = n.max(1);
        self
    }

    /// Store operations so far (one per trait call).
    pub fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }

    /// A panic inside a critical section is a bug in this module; the state it left is
    /// still better than poisoning every later call of a long-running process.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl OpCounter for MemoryStore {
    fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }
}

fn tk(a: &str, b: &str) -> TenantKind {
    (a.to_string(), b.to_string())
}

/// Check one link against the stored state and write it; returns what it replaced.
fn put_link(inner: &mut Inner, link: &Link) -> StoreResult<(Option<Link>, Link)> {
    let part = inner.links.entry(scope_key(link.scope())).or_default();
    let stored_version = part.by_id.get(&link.id).map_or(0, |l| l.version);
    if stored_version != link.version {
        return Err(StoreError::Conflict(format!("{} {}", link.kind, link.id)));
    }
    for (system, external_id) in &link.ids {
        if let Some(owner) = part.by_ext.get(system).and_then(|m| m.get(external_id)) {
            if *owner != link.id {
                return Err(StoreError::Duplicate(format!(
                    "{} {system}:{external_id}",
                    link.kind
                )));
            }
        }
    }
    for key in link.keys() {
        if let Some(owner) = part.by_key.get(key) {
            if *owner != link.id {
                return Err(StoreError::Duplicate(format!("{} key {key}", link.kind)));
            }
        }
    }
    let mut stored = link.clone();
    stored.version = stored_version + 1;
    let previous = replace_link(part, &link.id, Some(stored.clone()));
    Ok((previous, stored))
}

/// Replace (or remove, with `None`) the link `id`, keeping the indexes in step.
fn replace_link(part: &mut Partition, id: &str, new: Option<Link>) -> Option<Link> {
    let previous = part.by_id.remove(id);
    if let Some(old) = &previous {
        for (system, external_id) in &old.ids {
            if let Some(m) = part.by_ext.get_mut(system) {
                m.remove(external_id);
                if m.is_empty() {
                    part.by_ext.remove(system);
                }
            }
        }
        for key in old.keys() {
            part.by_key.remove(key);
        }
    }
    if let Some(link) = new {
        for (system, external_id) in &link.ids {
            part.by_ext
                .entry(system.clone())
                .or_default()
                .insert(external_id.clone(), link.id.clone());
        }
        for key in link.keys() {
            part.by_key.insert(key.to_string(), link.id.clone());
        }
        part.by_id.insert(link.id.clone(), link);
    }
    previous
}

#[async_trait]
impl LinkStore for MemoryStore {
    async fn link_by_external(
        &self,
        scope: Scope<'_>,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Link>> {
        self.stats.read();
        let inner = self.lock();
        Ok(inner.links.get(&scope_key(scope)).and_then(|p| {
            p.by_ext
                .get(system)
                .and_then(|m| m.get(external_id))
                .and_then(|id| p.by_id.get(id))
                .cloned()
        }))
    }

    async fn link_by_key(&self, scope: Scope<'_>, key: &str) -> StoreResult<Option<Link>> {
        self.stats.read();
        let inner = self.lock();
        Ok(inner
            .links
            .get(&scope_key(scope))
            .and_then(|p| p.by_key.get(key).and_then(|id| p.by_id.get(id)).cloned()))
    }

    async fn links(&self, scope: Scope<'_>) -> StoreResult<Vec<Link>> {
        self.stats.read();
        let inner = self.lock();
        Ok(inner
            .links
            .get(&scope_key(scope))
            .map(|p| p.by_id.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn save_link(&self, link: &Link) -> StoreResult<Link> {
        self.stats.write();
        let mut inner = self.lock();
        put_link(&mut inner, link).map(|(_, stored)| stored)
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<Vec<Link>> {
        self.stats.batch_write();
        let mut inner = self.lock();
        // Apply in order, remembering what each write replaced; on the first error undo
        // in reverse order, so the batch is all-or-nothing without copying the store.
        let mut undo: Vec<(ScopeKey, String, Option<Link>)> = Vec::with_capacity(links.len());
        let mut saved = Vec::with_capacity(links.len());
        for link in links {
            match put_link(&mut inner, link) {
                Ok((previous, stored)) => {
                    undo.push((scope_key(link.scope()), link.id.clone(), previous));
                    saved.push(stored);
                }
                Err(e) => {
                    for (key, id, previous) in undo.into_iter().rev() {
                        if let Some(part) = inner.links.get_mut(&key) {
                            replace_link(part, &id, previous);
                        }
                    }
                    return Err(e);
                }
            }
        }
        Ok(saved)
    }

    async fn delete_link(&self, link: &Link) -> StoreResult<()> {
        self.stats.write();
        let mut inner = self.lock();
        let what = format!("{} {}", link.kind, link.id);
        let part = inner
            .links
            .get_mut(&scope_key(link.scope()))
            .ok_or_else(|| StoreError::NotFound(what.clone()))?;
        match part.by_id.get(&link.id) {
            None => Err(StoreError::NotFound(what)),
            Some(stored) if stored.version != link.version => Err(StoreError::Conflict(what)),
            Some(_) => {
                replace_link(part, &link.id, None);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl CheckpointStore for MemoryStore {
    async fn checkpoint(&self, tenant: &str, scope: &str) -> StoreResult<Option<String>> {
        self.stats.read();
        Ok(self.lock().checkpoints.get(&tk(tenant, scope)).cloned())
    }

    async fn put_checkpoint(&self, tenant: &str, scope: &str, value: &str) -> StoreResult<()> {
        self.stats.write();
        self.lock()
            .checkpoints
            .insert(tk(tenant, scope), value.to_string());
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for MemoryStore {
    async fn take_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.stats.write();
        let now = Utc::now();
        let mut inner = self.lock();
        let key = tk(tenant, name);
        let grant = match inner.leases.get(&key) {
            None => LeaseGrant::Free,
            Some(l) if l.owner == owner => LeaseGrant::Renewed,
            Some(l) if l.expires_at <= now => LeaseGrant::TakenOver,
            Some(_) => LeaseGrant::Busy,
        };
        if grant.held() {
            inner.leases.insert(
                key,
                Lease {
                    owner: owner.to_string(),
                    expires_at: deadline(now, ttl),
                },
            );
        }
        Ok(grant)
    }

    async fn release_lease(&self, tenant: &str, name: &str, owner: &str) -> StoreResult<()> {
        self.stats.write();
        let mut inner = self.lock();
        let key = tk(tenant, name);
        if inner.leases.get(&key).is_some_and(|l| l.owner == owner) {
            inner.leases.remove(&key);
        }
        Ok(())
    }
}

#[async_trait]
impl DedupStore for MemoryStore {
    async fn first_seen(&self, tenant: &str, event_id: &str, ttl: Duration) -> StoreResult<bool> {
        self.stats.write();
        let now = Utc::now();
        Ok(self
            .lock()
            .seen
            .insert_if_absent(tk(tenant, event_id), now, deadline(now, ttl)))
    }
}

fn matches(e: &ActivityEntry, q: &LogQuery, now: DateTime<Utc>) -> bool {
    e.tenant == q.tenant && e.expires_at > now && q.matches(e)
}

#[async_trait]
impl ActivityLog for MemoryStore {
    async fn append(&self, entries: &[ActivityEntry]) -> StoreResult<()> {
        self.stats.batch_write();
        let mut inner = self.lock();
        for entry in entries {
            inner.last_seq += 1;
            let seq = inner.last_seq;
            let mut e = entry.clone();
            e.seq = seq;
            inner.log.insert(seq, e);
        }
        Ok(())
    }

    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>> {
        self.stats.read();
        let now = Utc::now();
        let inner = self.lock();
        let upper = q.before_seq.unwrap_or(u64::MAX);
        Ok(inner
            .log
            .range(..upper)
            .rev()
            .map(|(_, e)| e)
            .filter(|e| matches(e, q, now))
            .take(q.limit)
            .cloned()
            .collect())
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.stats.write();
        let mut inner = self.lock();
        let before = inner.log.len();
        inner.log.retain(|_, e| e.expires_at > now);
        inner.runs.retain(|_, r| r.expires_at > now);
        Ok((before - inner.log.len()) as u64)
    }

    async fn put_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.stats.write();
        self.lock()
            .runs
            .insert(tk(&run.tenant, &run.run_id), run.clone());
        Ok(())
    }

    async fn runs(&self, q: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        self.stats.read();
        let now = Utc::now();
        let inner = self.lock();
        let mut out: Vec<RunRecord> = inner
            .runs
            .values()
            .filter(|r| {
                r.tenant == q.tenant
                    && r.expires_at > now
                    && q.flow.as_ref().is_none_or(|f| *f == r.flow)
                    && q.before.is_none_or(|b| r.started_at < b)
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| (b.started_at, &b.run_id).cmp(&(a.started_at, &a.run_id)));
        out.truncate(q.limit);
        Ok(out)
    }
}

#[async_trait]
impl Queue for MemoryStore {
    async fn send(&self, group: &str, dedup_id: &str, body: &str) -> StoreResult<bool> {
        self.stats.write();
        let now = Utc::now();
        let mut inner = self.lock();
        let q = &mut inner.queue;
        if !q.dedup.insert_if_absent(
            (String::new(), dedup_id.to_string()),
            now,
            deadline(now, DEDUP_WINDOW),
        ) {
            return Ok(false);
        }
        q.push(token("m"), group, body, now);
        Ok(true)
    }

    async fn receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<QueueMessage>> {
        self.stats.write();
        let now = Utc::now();
        let invisible_until = deadline(now, visibility);
        let mut inner = self.lock();
        let q = &mut inner.queue;
        let mut out = Vec::new();
        // Dead-lettering a head exposes the next message of its group, so look again
        // until a round moves nothing.
        while out.len() < max {
            let heads = q.visible_heads(now);
            let mut moved = false;
            for seq in heads {
                if out.len() >= max {
                    break;
                }
                let Some(msg) = q.msgs.get_mut(&seq) else {
                    continue;
                };
                if msg.receive_count >= self.max_receives {
                    if let Some(msg) = q.remove(seq) {
                        q.dead_ids.insert(msg.id.clone(), seq);
                        q.dead.insert(
                            seq,
                            DeadLetter {
                                id: msg.id,
                                group: msg.group,
                                body: msg.body,
                                receive_count: msg.receive_count,
                                failed_at: now,
                                last_error: msg.last_error,
                            },
                        );
                    }
                    moved = true;
                    continue;
                }
                let receipt = token("r");
                msg.receive_count += 1;
                msg.visible_at = invisible_until;
                let old = msg.receipt.replace(receipt.clone());
                out.push(QueueMessage {
                    id: msg.id.clone(),
                    group: msg.group.clone(),
                    body: msg.body.clone(),
                    receive_count: msg.receive_count,
                    receipt: receipt.clone(),
                    enqueued_at: msg.enqueued_at,
                });
                if let Some(old) = old {
                    q.receipts.remove(&old);
                }
                q.receipts.insert(receipt, seq);
            }
            if !moved {
                break;
            }
        }
        Ok(out)
    }

    async fn ack(&self, receipt: &str) -> StoreResult<()> {
        self.stats.write();
        let mut inner = self.lock();
        let q = &mut inner.queue;
        let seq = q
            .receipts
            .get(receipt)
            .copied()
            .ok_or_else(|| StoreError::NotFound(format!("receipt {receipt}")))?;
        q.remove(seq);
        Ok(())
    }

    async fn retry_later(&self, receipt: &str, delay: Duration, error: &str) -> StoreResult<()> {
        self.stats.write();
        let now = Utc::now();
        let mut inner = self.lock();
        let q = &mut inner.queue;
        let seq = q
            .receipts
            .remove(receipt)
            .ok_or_else(|| StoreError::NotFound(format!("receipt {receipt}")))?;
        if let Some(msg) = q.msgs.get_mut(&seq) {
            msg.receipt = None;
            msg.visible_at = deadline(now, delay);
            msg.last_error = Some(error.to_string());
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.stats.read();
        let inner = self.lock();
        Ok(inner.queue.dead.values().take(limit).cloned().collect())
    }

    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()> {
        self.stats.write();
        let now = Utc::now();
        let mut inner = self.lock();
        let q = &mut inner.queue;
        let seq = q
            .dead_ids
            .remove(id)
            .ok_or_else(|| StoreError::NotFound(format!("dead letter {id}")))?;
        if let Some(dead) = q.dead.remove(&seq) {
            q.push(dead.id, &dead.group, &dead.body, now);
        }
        Ok(())
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        self.stats.read();
        let inner = self.lock();
        Ok((inner.queue.msgs.len() as u64, inner.queue.dead.len() as u64))
    }
}
