//! [`DynamoStore`]: links, checkpoints, leases, processed events and the activity log in
//! one DynamoDB table.
//!
//! # Table layout
//!
//! String keys `pk` and `sk`, one global secondary index `gsi1` (`gsi1pk`, `gsi1sk`,
//! projecting everything), on-demand billing, TTL on the attribute `ttl` (epoch seconds).
//! Key parts are joined with `#`; `%` and `#` inside a part are escaped (`%25`, `%23`).
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | link | `LINK#tenant#flow#kind` | link id | `flow`, `key`, `more_keys` (list), `ids`, `field_hashes`, `record_hashes` (maps), `version`, `updated_at` |
//! | external id → link | `XID#tenant#flow#kind#system#external_id` | `-` | `link_id` |
//! | natural key → link | `LKEY#tenant#flow#kind#key` (one per key) | `-` | `link_id` |
//! | checkpoint | `CP#tenant` | scope | `value`, `updated_at` |
//! | lease | `LEASE#tenant` | name | `owner`, `expires_ms`, `ttl` |
//! | processed event | `EVT#tenant#event_id` | `-` | `expires_ms`, `ttl` |
//! | activity log, its index copies and run summaries | `LOG#…`, `LOGX#…`, `RUN#…` | | see [`crate::activity`] |
//! | queue ledger ([`SqsQueue`](crate::SqsQueue)) | `QDEDUP#queue#dedup_id`, `QMSG#queue#message_id` | `-` | see `sqs.rs` |
//!
//! Links written before links were scoped by flow (the empty flow) keep their keys without
//! the flow part (`LINK#tenant#kind`, `XID#tenant#kind#system#external_id`,
//! `LKEY#tenant#kind#key`): a table of that version is read as it is, with no rewrite, and
//! the part counts keep the two layouts apart (parts escape `#`).
//!
//! Uniqueness of external ids and natural keys is enforced by the index items: a link
//! write is one `TransactWriteItems` that puts the link (conditioned on its version) and
//! puts or deletes the index items that changed, new ones conditioned on
//! `attribute_not_exists`, so two links can never claim the same id, even at once.
//! Expiring items carry the exact expiry in milliseconds (`expires_ms`), which every
//! read and condition checks, because TTL deletion is lazy (hours or days late).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::create_table::CreateTableError;
use aws_sdk_dynamodb::operation::delete_table::DeleteTableError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex,
    KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    ScalarAttributeType, TableStatus, TimeToLiveSpecification, TimeToLiveStatus, TransactWriteItem,
};
use aws_sdk_dynamodb::Client;
use chrono::Utc;
use puente_store::{
    CheckpointStore, DedupStore, LeaseGrant, LeaseStore, Link, LinkStore, OpCounter, OpCounts,
    Scope, StoreError, StoreResult, StoreStats,
};

use crate::common::{
    backend, deadline, get_list, get_map, get_n, get_s, key, map_attr, n, opt_s, parse_ts, s, ts,
    ttl_secs, Item,
};

/// The global secondary index: activity log by record.
pub const GSI: &str = "gsi1";
/// The sort key of items alone in their partition.
const ONE: &str = "-";
/// Items per `TransactWriteItems` (DynamoDB's limit).
const TRANSACT_MAX: usize = 100;
/// Keys per `BatchGetItem`.
const BATCH_GET_MAX: usize = 100;
/// How long `create_table` waits for the table to become ACTIVE.
const CREATE_WAIT: Duration = Duration::from_secs(120);

/// See the [module docs](self).
#[derive(Debug)]
pub struct DynamoStore {
    pub(crate) client: Client,
    pub(crate) table: String,
    pub(crate) stats: StoreStats,
}

impl DynamoStore {
    /// A store on an existing table (see [`create_table`](Self::create_table)). Build the
    /// client once per process (per Lambda container), outside the handler.
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            stats: StoreStats::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Store operations so far (one per trait call).
    pub fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }

    /// Create the table with the layout above if it does not exist, wait until it is
    /// ACTIVE and make sure TTL is enabled on `ttl`. Idempotent: for tests and for
    /// `puente` setup (a SAM template creates the same table in production).
    pub async fn create_table(client: &Client, table: &str) -> StoreResult<()> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| backend("CreateTable", e))
        };
        let key_elem = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| backend("CreateTable", e))
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI)
            .key_schema(key_elem("gsi1pk", KeyType::Hash)?)
            .key_schema(key_elem("gsi1sk", KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| backend("CreateTable", e))?;
        let created = client
            .create_table()
            .table_name(table)
            .attribute_definitions(attr("pk")?)
            .attribute_definitions(attr("sk")?)
            .attribute_definitions(attr("gsi1pk")?)
            .attribute_definitions(attr("gsi1sk")?)
            .key_schema(key_elem("pk", KeyType::Hash)?)
            .key_schema(key_elem("sk", KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(CreateTableError::ResourceInUseException(_))
                ) => {}
            Err(e) => return Err(backend("CreateTable", e)),
        }

        let until = tokio::time::Instant::now() + CREATE_WAIT;
        loop {
            let out = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| backend("DescribeTable", e))?;
            let status = out.table.as_ref().and_then(|t| t.table_status.clone());
            if status == Some(TableStatus::Active) {
                break;
            }
            if tokio::time::Instant::now() >= until {
                return Err(StoreError::Backend(format!(
                    "table {table} not ACTIVE after {CREATE_WAIT:?} (status {status:?})"
                )));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }

        let ttl = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| backend("DescribeTimeToLive", e))?;
        let status = ttl
            .time_to_live_description
            .and_then(|d| d.time_to_live_status);
        if !matches!(
            status,
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
        ) {
            let spec = TimeToLiveSpecification::builder()
                .attribute_name("ttl")
                .enabled(true)
                .build()
                .map_err(|e| backend("UpdateTimeToLive", e))?;
            client
                .update_time_to_live()
                .table_name(table)
                .time_to_live_specification(spec)
                .send()
                .await
                .map_err(|e| backend("UpdateTimeToLive", e))?;
        }
        Ok(())
    }

    /// Delete the table (tests' teardown); a missing table is not an error.
    pub async fn delete_table(client: &Client, table: &str) -> StoreResult<()> {
        match client.delete_table().table_name(table).send().await {
            Ok(_) => Ok(()),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DeleteTableError::ResourceNotFoundException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(backend("DeleteTable", e)),
        }
    }

    /// One item by key, strongly consistent.
    async fn get(&self, pk: String, sk: &str) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .key("sk", s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend("GetItem", e))?;
        Ok(out.item)
    }

    /// The stored links among `refs` (distinct), strongly consistent.
    async fn get_links(&self, refs: &[LinkRef]) -> StoreResult<HashMap<LinkRef, Link>> {
        let keys = refs
            .iter()
            .map(|r| item_key(link_pk(&r.tenant, &r.flow, &r.kind), &r.id))
            .collect();
        let mut out = HashMap::new();
        for item in batch_get(&self.client, &self.table, keys).await? {
            let l = link_from_item(&item)?;
            out.insert(LinkRef::of(&l), l);
        }
        Ok(out)
    }

    /// The link an index item points to, if that link still holds the entry (`holds`);
    /// re-read a few times if a concurrent write moved things in between the two reads.
    async fn follow_index(
        &self,
        index_pk: String,
        scope: Scope<'_>,
        holds: impl Fn(&Link) -> bool,
    ) -> StoreResult<Option<Link>> {
        for _ in 0..3 {
            let Some(index) = self.get(index_pk.clone(), ONE).await? else {
                return Ok(None);
            };
            let link_id = get_s(&index, "link_id")?;
            let pk = link_pk(scope.tenant, scope.flow, scope.kind);
            if let Some(item) = self.get(pk, link_id).await? {
                let link = link_from_item(&item)?;
                if holds(&link) {
                    return Ok(Some(link));
                }
            }
        }
        Ok(None)
    }

    /// `save_link` / `save_links`: see [`LinkPlan`].
    async fn save(&self, links: &[Link]) -> StoreResult<Vec<Link>> {
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let mut refs: Vec<LinkRef> = Vec::new();
        let mut seen = HashSet::new();
        for l in links {
            let r = LinkRef::of(l);
            if seen.insert(r.clone()) {
                refs.push(r);
            }
        }
        let stored = self.get_links(&refs).await?;
        let plan = LinkPlan::new(&self.table, links, &refs, &stored)?;
        let chunks = plan.chunks()?;
        if chunks.len() > 1 {
            self.precheck_claims(&plan).await?;
        }
        for (i, chunk) in chunks.iter().enumerate() {
            if let Err(e) = self.transact(chunk).await {
                if i > 0 {
                    self.undo(&chunks[..i]).await.map_err(|undo| {
                        StoreError::Backend(format!(
                            "save_links failed ({e}) after {i} of {} transactions, and undoing \
                             them failed too: {undo}",
                            chunks.len()
                        ))
                    })?;
                }
                return Err(e);
            }
        }
        Ok(plan.saved)
    }

    /// For a batch split over several transactions: fail with `Duplicate` before writing
    /// anything if an external id or key the batch claims already belongs to a link
    /// outside it (a single transaction checks this itself, atomically).
    async fn precheck_claims(&self, plan: &LinkPlan) -> StoreResult<()> {
        let claims: Vec<&(Claim, Option<String>)> = plan.unknown_claims.iter().collect();
        let keys = claims.iter().map(|(c, _)| item_key(c.pk(), ONE)).collect();
        let owners: HashMap<String, String> = batch_get(&self.client, &self.table, keys)
            .await?
            .iter()
            .map(|i| {
                Ok((
                    get_s(i, "pk")?.to_string(),
                    get_s(i, "link_id")?.to_string(),
                ))
            })
            .collect::<StoreResult<_>>()?;
        for (claim, owner) in claims {
            if let Some(found) = owners.get(&claim.pk()) {
                if Some(found) != owner.as_ref() {
                    return Err(StoreError::Duplicate(claim.describe()));
                }
            }
        }
        Ok(())
    }

    async fn transact(&self, ops: &[Op]) -> StoreResult<()> {
        let items: Vec<TransactWriteItem> = ops.iter().map(|o| o.item.clone()).collect();
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| transaction_error(e, ops))
    }

    /// Revert committed chunks, newest first, each undo conditioned on our own write
    /// still being there.
    async fn undo(&self, done: &[Vec<Op>]) -> StoreResult<()> {
        for chunk in done.iter().rev() {
            let items: Vec<TransactWriteItem> =
                chunk.iter().filter_map(|o| o.undo.clone()).collect();
            if items.is_empty() {
                continue;
            }
            self.client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .map_err(|e| backend("TransactWriteItems (undo)", e))?;
        }
        Ok(())
    }
}

impl OpCounter for DynamoStore {
    fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }
}

/// `BatchGetItem` (strongly consistent) over any number of distinct keys, retrying
/// unprocessed keys with a short backoff.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
) -> StoreResult<Vec<Item>> {
    let mut out = Vec::new();
    for chunk in keys.chunks(BATCH_GET_MAX) {
        let mut pending = chunk.to_vec();
        let mut backoff = Duration::from_millis(20);
        while !pending.is_empty() {
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut pending)))
                .consistent_read(true)
                .build()
                .map_err(|e| backend("BatchGetItem", e))?;
            let res = client
                .batch_get_item()
                .request_items(table, ka)
                .send()
                .await
                .map_err(|e| backend("BatchGetItem", e))?;
            if let Some(mut responses) = res.responses {
                out.extend(responses.remove(table).unwrap_or_default());
            }
            if let Some(mut unprocessed) = res.unprocessed_keys {
                if let Some(ka) = unprocessed.remove(table) {
                    pending = ka.keys;
                }
            }
            if !pending.is_empty() {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
    Ok(out)
}

pub(crate) fn item_key(pk: String, sk: &str) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// The key parts of a link scope: `tenant, flow, kind`, or `tenant, kind` for the empty
/// (legacy) flow, which is how tables of the previous version spelled them.
fn scope_parts<'a>(tenant: &'a str, flow: &'a str, kind: &'a str) -> Vec<&'a str> {
    if flow.is_empty() {
        vec![tenant, kind]
    } else {
        vec![tenant, flow, kind]
    }
}

/// `prefix#scope#rest…` (see [`scope_parts`]).
fn scoped_key(prefix: &str, tenant: &str, flow: &str, kind: &str, rest: &[&str]) -> String {
    let mut parts = scope_parts(tenant, flow, kind);
    parts.extend_from_slice(rest);
    key(prefix, &parts)
}

fn link_pk(tenant: &str, flow: &str, kind: &str) -> String {
    scoped_key("LINK", tenant, flow, kind, &[])
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct LinkRef {
    tenant: String,
    flow: String,
    kind: String,
    id: String,
}

impl LinkRef {
    fn of(l: &Link) -> Self {
        LinkRef {
            tenant: l.tenant.clone(),
            flow: l.flow.clone(),
            kind: l.kind.clone(),
            id: l.id.clone(),
        }
    }
}

/// An index entry a link holds: an external id or one of its natural keys.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Claim {
    External {
        tenant: String,
        flow: String,
        kind: String,
        system: String,
        external_id: String,
    },
    Key {
        tenant: String,
        flow: String,
        kind: String,
        key: String,
    },
}

impl Claim {
    fn of(l: &Link) -> Vec<Claim> {
        let mut out: Vec<Claim> = l
            .ids
            .iter()
            .map(|(system, external_id)| Claim::External {
                tenant: l.tenant.clone(),
                flow: l.flow.clone(),
                kind: l.kind.clone(),
                system: system.clone(),
                external_id: external_id.clone(),
            })
            .collect();
        for k in l.keys() {
            out.push(Claim::Key {
                tenant: l.tenant.clone(),
                flow: l.flow.clone(),
                kind: l.kind.clone(),
                key: k.to_string(),
            });
        }
        out
    }

    fn pk(&self) -> String {
        match self {
            Claim::External {
                tenant,
                flow,
                kind,
                system,
                external_id,
            } => scoped_key("XID", tenant, flow, kind, &[system, external_id]),
            Claim::Key {
                tenant,
                flow,
                kind,
                key: k,
            } => scoped_key("LKEY", tenant, flow, kind, &[k]),
        }
    }

    /// What a `Duplicate` names (the same text as the SQLite adapter).
    fn describe(&self) -> String {
        match self {
            Claim::External {
                kind,
                system,
                external_id,
                ..
            } => format!("{kind} {system}:{external_id}"),
            Claim::Key { kind, key, .. } => format!("{kind} key {key}"),
        }
    }
}

/// What a failed condition of a transaction item means.
#[derive(Clone, Debug)]
enum Guard {
    /// The link's version moved: `Conflict`.
    Version(String),
    /// The id or key belongs to another link: `Duplicate`.
    Claim(String),
    /// Not conditioned.
    Plain,
}

/// One transaction item, what its condition failing means, and how to revert it.
#[derive(Clone, Debug)]
struct Op {
    item: TransactWriteItem,
    guard: Guard,
    undo: Option<TransactWriteItem>,
    /// The link (index into the batch's distinct links) it belongs with, so a link's
    /// writes are never split over two transactions.
    group: usize,
}

/// A `save_links` batch, checked and applied in memory against the stored state, then
/// turned into the net writes: the final state of each distinct link (conditioned on the
/// version read) and the index items that changed owner.
///
/// Versions and clashes between links of the batch are checked here, before any write,
/// in batch order (as SQLite does). Whether an id or key the batch newly claims belongs
/// to a link outside the batch is checked by the transaction's own conditions.
///
/// Up to 100 items (say 25 new links with two external ids and a key) go in one
/// `TransactWriteItems`, all-or-nothing. A larger batch is split into several
/// transactions, each link's writes kept together; its claims are checked by reading
/// before the first write, and if a later transaction still fails (a concurrent writer
/// got in between), the committed ones are reverted, each revert conditioned on our
/// write still being in place. So the batch is all-or-nothing unless that revert itself
/// fails (reported as `Backend`); readers may see part of a large batch while it runs.
struct LinkPlan {
    saved: Vec<Link>,
    /// `kind id` of each distinct link (group), for messages.
    names: Vec<String>,
    ops: Vec<Op>,
    /// Claims not held by any link of the batch before it (their owner unknown), with
    /// the link that holds each in the end (`None`: claimed, then released again).
    unknown_claims: Vec<(Claim, Option<String>)>,
}

impl LinkPlan {
    fn new(
        table: &str,
        links: &[Link],
        refs: &[LinkRef],
        stored: &HashMap<LinkRef, Link>,
    ) -> StoreResult<Self> {
        let group_of: HashMap<&LinkRef, usize> =
            refs.iter().enumerate().map(|(i, r)| (r, i)).collect();
        let mut current: HashMap<LinkRef, Option<Link>> = refs
            .iter()
            .map(|r| (r.clone(), stored.get(r).cloned()))
            .collect();
        // Who held each claim before the batch (only claims of the batch's stored links
        // are known), and who holds it as the batch is applied.
        let mut initial: HashMap<Claim, (String, usize)> = HashMap::new();
        for r in refs {
            if let Some(l) = stored.get(r) {
                for c in Claim::of(l) {
                    initial.insert(c, (l.id.clone(), group_of[r]));
                }
            }
        }
        let mut claims: HashMap<Claim, Option<(String, usize)>> = initial
            .iter()
            .map(|(c, o)| (c.clone(), Some(o.clone())))
            .collect();
        let mut claim_order: Vec<Claim> = Vec::new();
        let mut first_claimant: HashMap<Claim, usize> = HashMap::new();

        let mut saved = Vec::with_capacity(links.len());
        for l in links {
            let r = LinkRef::of(l);
            let group = group_of[&r];
            let cur_version = current[&r].as_ref().map_or(0, |c| c.version);
            if l.version != cur_version {
                return Err(StoreError::Conflict(format!("{} {}", l.kind, l.id)));
            }
            if let Some(cur) = current[&r].as_ref() {
                for c in Claim::of(cur) {
                    claims.insert(c, None);
                }
            }
            for c in Claim::of(l) {
                match claims.get(&c) {
                    Some(Some((owner, _))) if owner != &l.id => {
                        return Err(StoreError::Duplicate(c.describe()));
                    }
                    _ => {
                        if !first_claimant.contains_key(&c) {
                            first_claimant.insert(c.clone(), group);
                            claim_order.push(c.clone());
                        }
                        claims.insert(c, Some((l.id.clone(), group)));
                    }
                }
            }
            let mut new = l.clone();
            new.version = cur_version + 1;
            current.insert(r, Some(new.clone()));
            saved.push(new);
        }

        let mut ops = Vec::new();
        for (group, r) in refs.iter().enumerate() {
            let Some(fin) = current[r].as_ref() else {
                continue;
            };
            ops.push(link_op(table, stored.get(r), fin, group)?);
        }
        // Index items, in the order claims were first seen, then released ones.
        let mut unknown_claims = Vec::new();
        let mut order: Vec<&Claim> = claim_order.iter().collect();
        let mut released: Vec<&Claim> = initial
            .keys()
            .filter(|c| !first_claimant.contains_key(*c))
            .collect();
        released.sort_by_key(|c| (initial[*c].1, c.pk()));
        order.extend(released);
        for c in order {
            let now = claims.get(c).cloned().flatten();
            match (initial.get(c), now) {
                (None, Some((owner, group))) => {
                    unknown_claims.push((c.clone(), Some(owner.clone())));
                    ops.push(claim_new(table, c, &owner, group)?);
                }
                (None, None) => {
                    unknown_claims.push((c.clone(), None));
                    ops.push(claim_check_free(table, c, first_claimant[c])?);
                }
                (Some((before, _)), Some((owner, _))) if *before == owner => {}
                (Some((before, _)), Some((owner, group))) => {
                    ops.push(claim_move(table, c, before, &owner, group)?);
                }
                (Some((before, group)), None) => {
                    ops.push(claim_release(table, c, before, *group)?);
                }
            }
        }
        ops.sort_by_key(|o| o.group);
        Ok(LinkPlan {
            saved,
            names: refs
                .iter()
                .map(|r| format!("{} {}", r.kind, r.id))
                .collect(),
            ops,
            unknown_claims,
        })
    }

    /// The ops packed into transactions of at most 100 items, a link's ops together.
    fn chunks(&self) -> StoreResult<Vec<Vec<Op>>> {
        let mut chunks: Vec<Vec<Op>> = Vec::new();
        let mut cur: Vec<Op> = Vec::new();
        let mut i = 0;
        while i < self.ops.len() {
            let group = self.ops[i].group;
            let end = self.ops[i..]
                .iter()
                .position(|o| o.group != group)
                .map_or(self.ops.len(), |p| i + p);
            let size = end - i;
            if size > TRANSACT_MAX {
                return Err(StoreError::Backend(format!(
                    "link {} needs {size} writes, more than one DynamoDB transaction holds \
                     ({TRANSACT_MAX})",
                    self.names[group]
                )));
            }
            if cur.len() + size > TRANSACT_MAX {
                chunks.push(std::mem::take(&mut cur));
            }
            cur.extend_from_slice(&self.ops[i..end]);
            i = end;
        }
        if !cur.is_empty() {
            chunks.push(cur);
        }
        Ok(chunks)
    }
}

fn put(
    table: &str,
    item: Item,
    condition: Option<&str>,
    names: &[(&str, &str)],
    values: &[(&str, AttributeValue)],
) -> StoreResult<TransactWriteItem> {
    let mut b = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_string));
    for (k, v) in names {
        b = b.expression_attribute_names(*k, *v);
    }
    for (k, v) in values {
        b = b.expression_attribute_values(*k, v.clone());
    }
    let p = b.build().map_err(|e| backend("TransactWriteItems", e))?;
    Ok(TransactWriteItem::builder().put(p).build())
}

fn delete(
    table: &str,
    key: Item,
    condition: Option<&str>,
    names: &[(&str, &str)],
    values: &[(&str, AttributeValue)],
) -> StoreResult<TransactWriteItem> {
    let mut b = Delete::builder()
        .table_name(table)
        .set_key(Some(key))
        .set_condition_expression(condition.map(str::to_string));
    for (k, v) in names {
        b = b.expression_attribute_names(*k, *v);
    }
    for (k, v) in values {
        b = b.expression_attribute_values(*k, v.clone());
    }
    let d = b.build().map_err(|e| backend("TransactWriteItems", e))?;
    Ok(TransactWriteItem::builder().delete(d).build())
}

fn link_op(table: &str, before: Option<&Link>, after: &Link, group: usize) -> StoreResult<Op> {
    let guard = Guard::Version(format!("{} {}", after.kind, after.id));
    let v = [("#v", "version")];
    let (item, undo) = match before {
        None => (
            put(
                table,
                link_item(after),
                Some("attribute_not_exists(pk)"),
                &[],
                &[],
            )?,
            delete(
                table,
                item_key(link_pk(&after.tenant, &after.flow, &after.kind), &after.id),
                Some("#v = :v"),
                &v,
                &[(":v", n(after.version))],
            )?,
        ),
        Some(b) => (
            put(
                table,
                link_item(after),
                Some("#v = :v"),
                &v,
                &[(":v", n(b.version))],
            )?,
            put(
                table,
                link_item(b),
                Some("#v = :v"),
                &v,
                &[(":v", n(after.version))],
            )?,
        ),
    };
    Ok(Op {
        item,
        guard,
        undo: Some(undo),
        group,
    })
}

fn claim_item(c: &Claim, owner: &str) -> Item {
    let mut item = item_key(c.pk(), ONE);
    item.insert("link_id".into(), s(owner));
    item
}

const OWNER: [(&str, &str); 1] = [("#l", "link_id")];

/// A claim nobody in the batch held before: it must be free (or, after an interrupted
/// write, already ours).
fn claim_new(table: &str, c: &Claim, owner: &str, group: usize) -> StoreResult<Op> {
    let me = [(":me", s(owner))];
    Ok(Op {
        item: put(
            table,
            claim_item(c, owner),
            Some("attribute_not_exists(pk) OR #l = :me"),
            &OWNER,
            &me,
        )?,
        guard: Guard::Claim(c.describe()),
        undo: Some(delete(
            table,
            item_key(c.pk(), ONE),
            Some("#l = :me"),
            &OWNER,
            &me,
        )?),
        group,
    })
}

/// Claimed and released again within the batch: nothing to write, but it must have been
/// free to claim.
fn claim_check_free(table: &str, c: &Claim, group: usize) -> StoreResult<Op> {
    let check = ConditionCheck::builder()
        .table_name(table)
        .set_key(Some(item_key(c.pk(), ONE)))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| backend("TransactWriteItems", e))?;
    Ok(Op {
        item: TransactWriteItem::builder().condition_check(check).build(),
        guard: Guard::Claim(c.describe()),
        undo: None,
        group,
    })
}

/// From one link of the batch to another: the old owner's version condition guards it.
fn claim_move(table: &str, c: &Claim, before: &str, owner: &str, group: usize) -> StoreResult<Op> {
    Ok(Op {
        item: put(table, claim_item(c, owner), None, &[], &[])?,
        guard: Guard::Plain,
        undo: Some(put(
            table,
            claim_item(c, before),
            Some("#l = :me"),
            &OWNER,
            &[(":me", s(owner))],
        )?),
        group,
    })
}

fn claim_release(table: &str, c: &Claim, before: &str, group: usize) -> StoreResult<Op> {
    Ok(Op {
        item: delete(table, item_key(c.pk(), ONE), None, &[], &[])?,
        guard: Guard::Plain,
        undo: Some(put(
            table,
            claim_item(c, before),
            Some("attribute_not_exists(pk)"),
            &[],
            &[],
        )?),
        group,
    })
}

/// `TransactionCanceledException` lists a reason per item, in order: the first failed
/// condition tells which error it is.
fn transaction_error(e: SdkError<TransactWriteItemsError>, ops: &[Op]) -> StoreError {
    if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = e.as_service_error() {
        let reasons = c.cancellation_reasons();
        for (reason, op) in reasons.iter().zip(ops) {
            if reason.code() == Some("ConditionalCheckFailed") {
                return match &op.guard {
                    Guard::Version(what) => StoreError::Conflict(what.clone()),
                    Guard::Claim(what) => StoreError::Duplicate(what.clone()),
                    Guard::Plain => StoreError::Conflict("link index".into()),
                };
            }
        }
        if let Some((_, op)) = reasons
            .iter()
            .zip(ops)
            .find(|(r, _)| r.code() == Some("TransactionConflict"))
        {
            // Another transaction was writing the same item: re-read and retry.
            return StoreError::Conflict(match &op.guard {
                Guard::Version(w) | Guard::Claim(w) => w.clone(),
                Guard::Plain => "link index".into(),
            });
        }
    }
    backend("TransactWriteItems", e)
}

fn link_item(l: &Link) -> Item {
    let mut item = item_key(link_pk(&l.tenant, &l.flow, &l.kind), &l.id);
    item.insert("tenant".into(), s(&l.tenant));
    if !l.flow.is_empty() {
        item.insert("flow".into(), s(&l.flow));
    }
    item.insert("kind".into(), s(&l.kind));
    item.insert("id".into(), s(&l.id));
    if let Some(k) = &l.key {
        item.insert("key".into(), s(k));
    }
    if !l.more_keys.is_empty() {
        item.insert(
            "more_keys".into(),
            AttributeValue::L(l.more_keys.iter().map(s).collect()),
        );
    }
    item.insert("ids".into(), map_attr(&l.ids));
    item.insert("field_hashes".into(), map_attr(&l.field_hashes));
    item.insert("record_hashes".into(), map_attr(&l.record_hashes));
    item.insert("version".into(), n(l.version));
    item.insert("updated_at".into(), s(ts(l.updated_at)));
    item
}

fn link_from_item(item: &Item) -> StoreResult<Link> {
    Ok(Link {
        tenant: get_s(item, "tenant")?.to_string(),
        flow: opt_s(item, "flow").unwrap_or_default(),
        kind: get_s(item, "kind")?.to_string(),
        id: get_s(item, "id")?.to_string(),
        key: opt_s(item, "key"),
        more_keys: if item.contains_key("more_keys") {
            get_list(item, "more_keys")?
        } else {
            Vec::new()
        },
        ids: get_map(item, "ids")?,
        field_hashes: get_map(item, "field_hashes")?,
        record_hashes: get_map(item, "record_hashes")?,
        version: get_n(item, "version")?,
        updated_at: parse_ts(get_s(item, "updated_at")?)?,
    })
}

#[async_trait]
impl LinkStore for DynamoStore {
    async fn link_by_external(
        &self,
        scope: Scope<'_>,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Link>> {
        self.stats.read();
        let pk = scoped_key(
            "XID",
            scope.tenant,
            scope.flow,
            scope.kind,
            &[system, external_id],
        );
        self.follow_index(pk, scope, |l| {
            l.ids.get(system).map(String::as_str) == Some(external_id)
        })
        .await
    }

    async fn link_by_key(&self, scope: Scope<'_>, k: &str) -> StoreResult<Option<Link>> {
        self.stats.read();
        let pk = scoped_key("LKEY", scope.tenant, scope.flow, scope.kind, &[k]);
        self.follow_index(pk, scope, |l| l.keys().contains(&k))
            .await
    }

    async fn links(&self, scope: Scope<'_>) -> StoreResult<Vec<Link>> {
        self.stats.read();
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(
                    ":pk",
                    s(link_pk(scope.tenant, scope.flow, scope.kind)),
                )
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("Query (links)", e))?;
            for item in &page.items.unwrap_or_default() {
                out.push(link_from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        // DynamoDB orders sort keys by UTF-8 bytes, as `str` does; sort anyway so the
        // order never depends on the backend.
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn save_link(&self, link: &Link) -> StoreResult<Link> {
        self.stats.write();
        let mut saved = self.save(std::slice::from_ref(link)).await?;
        saved
            .pop()
            .ok_or_else(|| StoreError::Backend("save_link stored nothing".into()))
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<Vec<Link>> {
        self.stats.batch_write();
        self.save(links).await
    }

    /// One transaction: the link item, conditioned on the version given, and the index
    /// items of its ids and keys, each conditioned on still pointing at it.
    async fn delete_link(&self, link: &Link) -> StoreResult<()> {
        self.stats.write();
        let what = format!("{} {}", link.kind, link.id);
        let pk = link_pk(&link.tenant, &link.flow, &link.kind);
        let mut ops = vec![Op {
            item: delete(
                &self.table,
                item_key(pk.clone(), &link.id),
                Some("#v = :v"),
                &[("#v", "version")],
                &[(":v", n(link.version))],
            )?,
            guard: Guard::Version(what.clone()),
            undo: None,
            group: 0,
        }];
        for c in Claim::of(link) {
            ops.push(Op {
                item: delete(
                    &self.table,
                    item_key(c.pk(), ONE),
                    Some("#l = :me"),
                    &OWNER,
                    &[(":me", s(&link.id))],
                )?,
                guard: Guard::Claim(c.describe()),
                undo: None,
                group: 0,
            });
        }
        if ops.len() > TRANSACT_MAX {
            return Err(StoreError::Backend(format!(
                "link {what} has more ids and keys than one DynamoDB transaction holds"
            )));
        }
        match self.transact(&ops).await {
            Err(StoreError::Conflict(_)) if self.get(pk, &link.id).await?.is_none() => {
                Err(StoreError::NotFound(what))
            }
            other => other,
        }
    }
}

#[async_trait]
impl CheckpointStore for DynamoStore {
    async fn checkpoint(&self, tenant: &str, scope: &str) -> StoreResult<Option<String>> {
        self.stats.read();
        self.get(key("CP", &[tenant]), scope)
            .await?
            .map(|item| get_s(&item, "value").map(str::to_string))
            .transpose()
    }

    async fn put_checkpoint(&self, tenant: &str, scope: &str, value: &str) -> StoreResult<()> {
        self.stats.write();
        let mut item = item_key(key("CP", &[tenant]), scope);
        item.insert("value".into(), s(value));
        item.insert("updated_at".into(), s(ts(Utc::now())));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| backend("PutItem (checkpoint)", e))?;
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for DynamoStore {
    async fn take_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.stats.write();
        let now = Utc::now();
        let until = deadline(now, ttl);
        let mut item = item_key(key("LEASE", &[tenant]), name);
        item.insert("owner".into(), s(owner));
        item.insert("expires_ms".into(), n(until.timestamp_millis()));
        item.insert("ttl".into(), n(ttl_secs(until)));
        // One conditional put: take it if absent, ours, or expired.
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #o = :o OR #e <= :now")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_names("#e", "expires_ms")
            .expression_attribute_values(":o", s(owner))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            // The item it replaced says whether the lease was free, ours or taken over.
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        match res {
            Ok(out) => {
                let before = out
                    .attributes()
                    .and_then(|a| a.get("owner"))
                    .and_then(|v| v.as_s().ok());
                Ok(match before {
                    None => LeaseGrant::Free,
                    Some(o) if o == owner => LeaseGrant::Renewed,
                    Some(_) => LeaseGrant::TakenOver,
                })
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(LeaseGrant::Busy)
            }
            Err(e) => Err(backend("PutItem (lease)", e)),
        }
    }

    async fn release_lease(&self, tenant: &str, name: &str, owner: &str) -> StoreResult<()> {
        self.stats.write();
        let res = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(item_key(key("LEASE", &[tenant]), name)))
            .condition_expression("#o = :o")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_values(":o", s(owner))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(backend("DeleteItem (lease)", e)),
        }
    }
}

#[async_trait]
impl DedupStore for DynamoStore {
    async fn first_seen(&self, tenant: &str, event_id: &str, ttl: Duration) -> StoreResult<bool> {
        self.stats.write();
        let now = Utc::now();
        let until = deadline(now, ttl);
        let mut item = item_key(key("EVT", &[tenant, event_id]), ONE);
        item.insert("expires_ms".into(), n(until.timestamp_millis()));
        item.insert("ttl".into(), n(ttl_secs(until)));
        let res = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #e <= :now")
            .expression_attribute_names("#e", "expires_ms")
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(backend("PutItem (processed event)", e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn link(id: &str, ids: &[(&str, &str)], key: Option<&str>, version: u64) -> Link {
        let mut l = Link::new("t", "f", "contact", id);
        l.ids = ids
            .iter()
            .map(|(s, e)| (s.to_string(), e.to_string()))
            .collect::<BTreeMap<_, _>>();
        l.key = key.map(str::to_string);
        l.version = version;
        l
    }

    fn plan(links: &[Link], stored: &[Link]) -> StoreResult<LinkPlan> {
        let mut refs = Vec::new();
        for l in links {
            let r = LinkRef::of(l);
            if !refs.contains(&r) {
                refs.push(r);
            }
        }
        let stored = stored.iter().map(|l| (LinkRef::of(l), l.clone())).collect();
        LinkPlan::new("tbl", links, &refs, &stored)
    }

    #[test]
    fn plan_writes_only_what_changed() {
        let before = link("A", &[("alegra", "1"), ("clientify", "1")], Some("K"), 3);
        let mut after = before.clone();
        after.ids.remove("clientify");
        after.ids.insert("odoo".into(), "9".into());
        let p = plan(&[after], &[before]).unwrap();
        // The link, odoo:9 claimed, clientify:1 released; alegra and the key untouched.
        assert_eq!(p.ops.len(), 3);
        assert_eq!(p.saved[0].version, 4);
        assert_eq!(p.unknown_claims.len(), 1);
        assert!(matches!(p.ops[0].guard, Guard::Version(_)));
    }

    #[test]
    fn plan_moves_an_id_between_links_of_the_batch() {
        let a = link("A", &[("alegra", "1")], None, 1);
        let b = link("B", &[], None, 1);
        let a2 = Link {
            ids: BTreeMap::new(),
            ..a.clone()
        };
        let b2 = Link {
            ids: a.ids.clone(),
            ..b.clone()
        };
        let p = plan(&[a2, b2], &[a, b]).unwrap();
        // Two link puts and one unconditional move of the index item.
        assert_eq!(p.ops.len(), 3);
        assert!(p.unknown_claims.is_empty());
        // The wrong order is a duplicate: B claims it while A still holds it.
        let a = link("A", &[("alegra", "1")], None, 1);
        let b = link("B", &[], None, 1);
        let b2 = Link {
            ids: a.ids.clone(),
            ..b.clone()
        };
        let a2 = Link {
            ids: BTreeMap::new(),
            ..a.clone()
        };
        assert!(matches!(
            plan(&[b2, a2], &[a, b]),
            Err(StoreError::Duplicate(_))
        ));
    }

    #[test]
    fn plan_chunks_keep_a_link_together() {
        let links: Vec<Link> = (0..40)
            .map(|i| {
                link(
                    &format!("L{i:02}"),
                    &[("alegra", &format!("{i}")), ("clientify", &format!("{i}"))],
                    Some(&format!("K{i}")),
                    0,
                )
            })
            .collect();
        let p = plan(&links, &[]).unwrap();
        assert_eq!(p.ops.len(), 160);
        let chunks = p.chunks().unwrap();
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0].len(), 100);
        for c in &chunks {
            assert_eq!(c.len() % 4, 0, "a link's four writes stay together");
        }
    }
}
