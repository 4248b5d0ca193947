//! The activity log and the run summaries of [`DynamoStore`] (APC-8).
//!
//! # Items
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | log entry | `LOG#tenant` | seq, 20 digits | the entry, `expires_ms`, `ttl`; `gsi1pk` = `LOGREC#tenant#system#external_id`, `gsi1sk` = seq |
//! | log index copy | `LOGX#tenant#rec#system#id`, `LOGX#tenant#key#key`, `LOGX#tenant#act#action` | seq | the same entry (no `gsi1*`) |
//! | run summary | `RUN#tenant` | started_at (RFC 3339, fixed width) `#` run id | `run` (JSON), `flow`, `expires_ms`, `ttl` |
//!
//! # Why index copies, not more GSIs
//!
//! The activity page filters by record (either side of a sync), by natural key and by
//! action (the failures page), over a log of hundreds of thousands of entries. Each of those
//! is one partition of copies, sorted by seq, so a filtered page is one `Query` that reads
//! only matching items, newest first. Copies in the table, rather than a GSI each: a record
//! needs two index values per entry (source and target), which one GSI cannot hold; and a
//! CloudFormation stack update can add only one GSI at a time, while new item types need no
//! table change at all. The copies carry the same `ttl`, so DynamoDB expires them with the
//! entry, values included. Entries written before the copies existed are found by record
//! only through `gsi1` (their source side) and not by key or action index: they expire
//! within the retention anyway.
//!
//! Filters without a partition of their own (flow, kind, system, link, run, time range) are
//! filter expressions on the most selective partition the query has.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, TransactWriteItem, WriteRequest,
};
use chrono::{DateTime, Utc};
use puente_store::{
    Action, ActivityEntry, ActivityLog, FailedRequest, LogQuery, RunQuery, RunRecord, StoreError,
    StoreResult,
};

use crate::common::{
    backend, get_list, get_n, get_s, key, n, opt_s, parse_ts, s, ts, ttl_secs, Item,
};
use crate::dynamo::{item_key, DynamoStore, GSI};
use crate::seq::SeqClock;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

/// Items per `TransactWriteItems` (DynamoDB's limit).
const TRANSACT_MAX: usize = 100;
/// Requests per `BatchWriteItem`.
const BATCH_WRITE_MAX: usize = 25;

fn seq_key(seq: u64) -> String {
    format!("{seq:020}")
}

fn map_attr(m: &BTreeMap<String, String>) -> AttributeValue {
    AttributeValue::M(m.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

fn opt_map(item: &Item, name: &str) -> StoreResult<BTreeMap<String, String>> {
    match item.get(name) {
        None => Ok(BTreeMap::new()),
        Some(_) => crate::common::get_map(item, name),
    }
}

fn entry_item(e: &ActivityEntry, seq: u64) -> Item {
    let mut item = item_key(key("LOG", &[&e.tenant]), &seq_key(seq));
    let mut opt = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            item.insert(name.into(), s(v));
        }
    };
    opt("run_id", &e.run_id);
    opt("external_id", &e.external_id);
    opt("target_system", &e.target_system);
    opt("target_id", &e.target_id);
    opt("link_id", &e.link_id);
    opt("reason", &e.reason);
    opt("key", &e.key);
    opt("matched_by", &e.matched_by);
    if let Some(x) = &e.external_id {
        item.insert(
            "gsi1pk".into(),
            s(key("LOGREC", &[&e.tenant, &e.system, x])),
        );
        item.insert("gsi1sk".into(), s(seq_key(seq)));
    }
    if !e.values.is_empty() {
        item.insert("values".into(), map_attr(&e.values));
    }
    if !e.rules.is_empty() {
        item.insert("rules".into(), map_attr(&e.rules));
    }
    if let Some(r) = &e.request {
        let mut m = std::collections::HashMap::new();
        if let Some(v) = &r.method {
            m.insert("method".to_string(), s(v));
        }
        if let Some(v) = &r.path {
            m.insert("path".to_string(), s(v));
        }
        if let Some(v) = r.status {
            m.insert("status".to_string(), n(v));
        }
        item.insert("request".into(), AttributeValue::M(m));
    }
    item.insert("seq".into(), n(seq));
    item.insert("tenant".into(), s(&e.tenant));
    item.insert("at".into(), s(ts(e.at)));
    item.insert("flow".into(), s(&e.flow));
    item.insert("kind".into(), s(&e.kind));
    item.insert("action".into(), s(e.action.as_str()));
    item.insert("system".into(), s(&e.system));
    item.insert(
        "fields".into(),
        AttributeValue::L(e.fields.iter().map(s).collect()),
    );
    item.insert("expires_at".into(), s(ts(e.expires_at)));
    item.insert("expires_ms".into(), n(e.expires_at.timestamp_millis()));
    item.insert("ttl".into(), n(ttl_secs(e.expires_at)));
    item
}

/// The index partitions an entry is copied to (see the module docs).
fn index_pks(e: &ActivityEntry) -> Vec<String> {
    let t = e.tenant.as_str();
    let mut out = Vec::new();
    if let Some(x) = &e.external_id {
        out.push(key("LOGX", &[t, "rec", &e.system, x]));
    }
    if let (Some(ts), Some(ti)) = (&e.target_system, &e.target_id) {
        let pk = key("LOGX", &[t, "rec", ts, ti]);
        if !out.contains(&pk) {
            out.push(pk);
        }
    }
    if let Some(k) = &e.key {
        out.push(key("LOGX", &[t, "key", k]));
    }
    out.push(key("LOGX", &[t, "act", e.action.as_str()]));
    out
}

/// The main item and its index copies: written in one transaction.
fn entry_items(e: &ActivityEntry, seq: u64) -> Vec<Item> {
    let main = entry_item(e, seq);
    let mut copy = main.clone();
    copy.remove("gsi1pk");
    copy.remove("gsi1sk");
    let mut out = vec![main];
    for pk in index_pks(e) {
        let mut c = copy.clone();
        c.insert("pk".into(), s(pk));
        out.push(c);
    }
    out
}

fn entry_from_item(item: &Item) -> StoreResult<ActivityEntry> {
    let action = get_s(item, "action")?;
    let request = item
        .get("request")
        .and_then(|v| v.as_m().ok())
        .map(|m| FailedRequest {
            method: m.get("method").and_then(|v| v.as_s().ok()).cloned(),
            path: m.get("path").and_then(|v| v.as_s().ok()).cloned(),
            status: m
                .get("status")
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse().ok()),
        });
    Ok(ActivityEntry {
        seq: get_n(item, "seq")?,
        tenant: get_s(item, "tenant")?.to_string(),
        at: parse_ts(get_s(item, "at")?)?,
        run_id: opt_s(item, "run_id"),
        flow: get_s(item, "flow")?.to_string(),
        kind: get_s(item, "kind")?.to_string(),
        action: action
            .parse::<Action>()
            .map_err(|e| StoreError::Backend(e.to_string()))?,
        system: get_s(item, "system")?.to_string(),
        external_id: opt_s(item, "external_id"),
        target_system: opt_s(item, "target_system"),
        target_id: opt_s(item, "target_id"),
        link_id: opt_s(item, "link_id"),
        fields: get_list(item, "fields")?,
        reason: opt_s(item, "reason"),
        expires_at: parse_ts(get_s(item, "expires_at")?)?,
        key: opt_s(item, "key"),
        values: opt_map(item, "values")?,
        matched_by: opt_s(item, "matched_by"),
        rules: opt_map(item, "rules")?,
        request,
    })
}

/// Where a log query reads from: a partition of the table or of `gsi1`.
#[derive(Debug, PartialEq)]
enum Source {
    Table(String),
    Gsi1(String),
}

/// The most selective partition for `q` (module docs), and which filters it already applies.
fn plan(q: &LogQuery) -> (Source, Applied) {
    let t = q.tenant.as_str();
    let mut applied = Applied::default();
    let source = if let Some(r) = &q.record {
        applied.record = true;
        Source::Table(key("LOGX", &[t, "rec", &r.system, &r.id]))
    } else if let Some(k) = &q.key {
        applied.key = true;
        Source::Table(key("LOGX", &[t, "key", k]))
    } else if let (Some(sys), Some(x)) = (&q.system, &q.external_id) {
        applied.source = true;
        Source::Gsi1(key("LOGREC", &[t, sys, x]))
    } else if let Some(a) = q.action {
        applied.action = true;
        Source::Table(key("LOGX", &[t, "act", a.as_str()]))
    } else {
        Source::Table(key("LOG", &[t]))
    };
    (source, applied)
}

#[derive(Debug, Default, PartialEq)]
struct Applied {
    record: bool,
    key: bool,
    source: bool,
    action: bool,
}

/// A filter expression under construction, with its names and values.
#[derive(Default)]
struct Filter {
    expr: Vec<String>,
    names: Vec<(String, String)>,
    values: Vec<(String, AttributeValue)>,
}

impl Filter {
    fn name(&mut self, attr: &str) -> String {
        let n = format!("#{attr}");
        if !self.names.iter().any(|(k, _)| *k == n) {
            self.names.push((n.clone(), attr.to_string()));
        }
        n
    }

    fn value(&mut self, v: AttributeValue) -> String {
        let n = format!(":v{}", self.values.len());
        self.values.push((n.clone(), v));
        n
    }

    fn cmp(&mut self, attr: &str, op: &str, v: AttributeValue) {
        let (n, v) = (self.name(attr), self.value(v));
        self.expr.push(format!("{n} {op} {v}"));
    }
}

#[async_trait]
impl ActivityLog for DynamoStore {
    /// Seqs are made in the process, ordered by time ([`crate::seq`]: no counter item, so no
    /// key every tenant shares and no extra write); each entry is written with its index
    /// copies in transactions of up to 100 items (an entry's items always in the same one;
    /// a batch larger than a transaction is several), each put conditional on its item not
    /// existing. A seq another process made at the same millisecond (a node collision)
    /// cancels the transaction: the clock draws another node and the batch is written
    /// again with new seqs, so no entry ever overwrites another.
    async fn append(&self, entries: &[ActivityEntry]) -> StoreResult<()> {
        self.stats.batch_write();
        self.append_with(SeqClock::global(), entries).await
    }

    /// Newest first from the most selective partition (module docs), strongly consistent
    /// except through `gsi1` (eventually consistent on AWS). The other filters and the
    /// expiry are filter expressions, so pages are read until `limit` entries matched.
    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>> {
        self.stats.read();
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let (source, applied) = plan(q);
        let (pk_name, sk_name, pk) = match &source {
            Source::Table(pk) => ("pk", "sk", pk.clone()),
            Source::Gsi1(pk) => ("gsi1pk", "gsi1sk", pk.clone()),
        };
        let mut f = Filter::default();
        let pkn = f.name(pk_name);
        let pkv = f.value(s(pk));
        let mut key_cond = format!("{pkn} = {pkv}");
        if let Some(before) = q.before_seq {
            let (skn, skv) = (f.name(sk_name), f.value(s(seq_key(before))));
            key_cond.push_str(&format!(" AND {skn} < {skv}"));
        }
        // Key-condition names and values are shared with the filter; the filter starts here.
        f.cmp("expires_ms", ">", n(Utc::now().timestamp_millis()));
        if !applied.source {
            if let Some(v) = &q.system {
                f.cmp("system", "=", s(v));
            }
            if let Some(v) = &q.external_id {
                f.cmp("external_id", "=", s(v));
            }
        }
        for (attr, v) in [
            ("link_id", &q.link_id),
            ("run_id", &q.run_id),
            ("flow", &q.flow),
            ("kind", &q.kind),
        ] {
            if let Some(v) = v {
                f.cmp(attr, "=", s(v));
            }
        }
        if !applied.key {
            if let Some(v) = &q.key {
                f.cmp("key", "=", s(v));
            }
        }
        if !applied.action {
            if let Some(a) = q.action {
                f.cmp("action", "=", s(a.as_str()));
            }
        }
        if let Some(t) = q.since {
            f.cmp("at", ">=", s(ts(t)));
        }
        if let Some(t) = q.until {
            f.cmp("at", "<", s(ts(t)));
        }
        if !applied.record {
            if let Some(r) = &q.record {
                let (sy, ex, ts_, ti) = (
                    f.name("system"),
                    f.name("external_id"),
                    f.name("target_system"),
                    f.name("target_id"),
                );
                let (rs, ri) = (f.value(s(&r.system)), f.value(s(&r.id)));
                f.expr.push(format!(
                    "(({sy} = {rs} AND {ex} = {ri}) OR ({ts_} = {rs} AND {ti} = {ri}))"
                ));
            }
        }
        // Beyond the expiry, filters the partition does not apply make DynamoDB read items it
        // does not return: then read big pages (up to 1 MB each), not many small ones.
        let filtered = f.expr.len() > 1;
        let filter = f.expr.join(" AND ");
        let page_size = if filtered {
            1000
        } else {
            i32::try_from(q.limit.saturating_mul(2))
                .unwrap_or(i32::MAX)
                .clamp(20, 1000)
        };

        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        while out.len() < q.limit {
            let mut req = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&key_cond)
                .filter_expression(&filter)
                .scan_index_forward(false)
                .limit(page_size)
                .set_exclusive_start_key(start.take())
                .set_expression_attribute_names(Some(f.names.iter().cloned().collect()))
                .set_expression_attribute_values(Some(f.values.iter().cloned().collect()));
            req = match source {
                Source::Gsi1(_) => req.index_name(GSI),
                Source::Table(_) => req.consistent_read(true),
            };
            let page = req.send().await.map_err(|e| backend("Query (log)", e))?;
            for item in &page.items.unwrap_or_default() {
                out.push(entry_from_item(item)?);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.truncate(q.limit);
        Ok(out)
    }

    /// Scans the table for log entries, their index copies and run summaries expired by
    /// `now` and deletes them; counts the entries. On AWS the table's TTL does this
    /// continuously; this is for maintenance and tests, and costs a full scan.
    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.stats.write();
        let mut expired: Vec<Item> = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression(
                    "(begins_with(#pk, :log) OR begins_with(#pk, :run)) AND #e <= :now",
                )
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#pk", "pk")
                .expression_attribute_names("#sk", "sk")
                .expression_attribute_names("#e", "expires_ms")
                .expression_attribute_values(":log", s("LOG"))
                .expression_attribute_values(":run", s("RUN#"))
                .expression_attribute_values(":now", n(now.timestamp_millis()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend("Scan (expired log)", e))?;
            expired.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        let count = expired
            .iter()
            .filter(|k| get_s(k, "pk").is_ok_and(|pk| pk.starts_with("LOG#")))
            .count() as u64;
        for chunk in expired.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk
                .iter()
                .map(|k| {
                    DeleteRequest::builder()
                        .set_key(Some(k.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(|e| backend("BatchWriteItem", e))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut backoff = Duration::from_millis(20);
            while !pending.is_empty() {
                let res = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| backend("BatchWriteItem (expired log)", e))?;
                if let Some(mut left) = res.unprocessed_items {
                    pending = left.remove(&self.table).unwrap_or_default();
                }
                if !pending.is_empty() {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
        Ok(count)
    }

    /// One item per run in the tenant's run partition, sorted by start then run id: the
    /// same run (id and start) written again replaces its summary.
    async fn put_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.stats.write();
        let json = serde_json::to_string(run).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut item = item_key(
            key("RUN", &[&run.tenant]),
            &format!("{}#{}", ts(run.started_at), run.run_id),
        );
        item.insert("run".into(), s(json));
        item.insert("flow".into(), s(&run.flow));
        item.insert("expires_ms".into(), n(run.expires_at.timestamp_millis()));
        item.insert("ttl".into(), n(ttl_secs(run.expires_at)));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| backend("PutItem (run)", e))?;
        Ok(())
    }

    async fn runs(&self, q: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        self.stats.read();
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut f = Filter::default();
        let (pkn, pkv) = (f.name("pk"), f.value(s(key("RUN", &[&q.tenant]))));
        let mut key_cond = format!("{pkn} = {pkv}");
        if let Some(b) = q.before {
            // `sk` is `{start}#{run id}`: every run that started at `b` sorts after `b`.
            let (skn, skv) = (f.name("sk"), f.value(s(ts(b))));
            key_cond.push_str(&format!(" AND {skn} < {skv}"));
        }
        f.cmp("expires_ms", ">", n(Utc::now().timestamp_millis()));
        if let Some(flow) = &q.flow {
            f.cmp("flow", "=", s(flow));
        }
        let filter = f.expr.join(" AND ");
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        while out.len() < q.limit {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(&key_cond)
                .filter_expression(&filter)
                .scan_index_forward(false)
                .consistent_read(true)
                .limit(i32::try_from(q.limit.clamp(20, 500)).unwrap_or(500))
                .set_exclusive_start_key(start.take())
                .set_expression_attribute_names(Some(f.names.iter().cloned().collect()))
                .set_expression_attribute_values(Some(f.values.iter().cloned().collect()))
                .send()
                .await
                .map_err(|e| backend("Query (runs)", e))?;
            for item in &page.items.unwrap_or_default() {
                let run: RunRecord = serde_json::from_str(get_s(item, "run")?)
                    .map_err(|e| StoreError::Backend(format!("malformed run summary: {e}")))?;
                out.push(run);
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.truncate(q.limit);
        Ok(out)
    }
}

impl DynamoStore {
    /// Bulk-loads log entries with `BatchWriteItem` (25 items a request), seqs made as
    /// [`ActivityLog::append`] does: for imports and benchmarks. Not atomic: a failure part-way
    /// can leave an entry without some of its index copies, which `append` never does; and
    /// unconditional (`BatchWriteItem` takes no condition), so run it from one process.
    pub async fn import_log(&self, entries: &[ActivityEntry]) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let seqs = SeqClock::global().next(entries.len());
        let items: Vec<Item> = entries
            .iter()
            .zip(seqs)
            .flat_map(|(e, seq)| entry_items(e, seq))
            .collect();
        for chunk in items.chunks(BATCH_WRITE_MAX) {
            let mut pending = chunk
                .iter()
                .map(|item| {
                    aws_sdk_dynamodb::types::PutRequest::builder()
                        .set_item(Some(item.clone()))
                        .build()
                        .map(|p| WriteRequest::builder().put_request(p).build())
                        .map_err(|e| backend("BatchWriteItem", e))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let mut backoff = Duration::from_millis(20);
            while !pending.is_empty() {
                let res = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, std::mem::take(&mut pending))
                    .send()
                    .await
                    .map_err(|e| backend("BatchWriteItem (log import)", e))?;
                if let Some(mut left) = res.unprocessed_items {
                    pending = left.remove(&self.table).unwrap_or_default();
                }
                if !pending.is_empty() {
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
        Ok(())
    }

    /// [`ActivityLog::append`] with seqs from `clock` (tests give two processes' clocks).
    pub async fn append_with(
        &self,
        clock: &SeqClock,
        entries: &[ActivityEntry],
    ) -> StoreResult<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut start = 0;
        let mut items = 0;
        for (i, e) in entries.iter().enumerate() {
            let n = 1 + index_pks(e).len();
            if items + n > TRANSACT_MAX && i > start {
                self.write_entries(clock, &entries[start..i]).await?;
                start = i;
                items = 0;
            }
            items += n;
        }
        self.write_entries(clock, &entries[start..]).await
    }

    /// Writes a group of entries (their items fit one transaction) under new seqs, again
    /// under fresh ones after a seq collision (module docs of [`crate::seq`]).
    async fn write_entries(&self, clock: &SeqClock, group: &[ActivityEntry]) -> StoreResult<()> {
        let mut attempt = 0;
        loop {
            let seqs = clock.next(group.len());
            let items: Vec<Item> = group
                .iter()
                .zip(seqs)
                .flat_map(|(e, seq)| entry_items(e, seq))
                .collect();
            match self.write_items(items).await? {
                Written::Yes => return Ok(()),
                Written::SeqTaken if attempt < 4 => {
                    attempt += 1;
                    clock.reseed();
                }
                Written::SeqTaken => {
                    return Err(StoreError::Backend(
                        "activity log: five seq collisions in a row (another writer with the same node?)".into(),
                    ))
                }
            }
        }
    }

    /// Writes items in one transaction (at most [`TRANSACT_MAX`]), each on condition that
    /// its item does not exist yet. A client request token makes the SDK's own retries of
    /// the call idempotent: a transaction that was applied but whose answer was lost is not
    /// reported as a collision (and so not written twice).
    async fn write_items(&self, items: Vec<Item>) -> StoreResult<Written> {
        if items.is_empty() {
            return Ok(Written::Yes);
        }
        let token = random_token();
        let puts = items
            .into_iter()
            .map(|item| {
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .map_err(|e| backend("TransactWriteItems", e))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let res = self
            .client
            .transact_write_items()
            .set_transact_items(Some(puts))
            .client_request_token(token)
            .send()
            .await;
        match res {
            Ok(_) => Ok(Written::Yes),
            Err(e) => {
                let taken = e.as_service_error().is_some_and(|se| match se {
                    TransactWriteItemsError::TransactionCanceledException(c) => c
                        .cancellation_reasons()
                        .iter()
                        .any(|r| r.code() == Some("ConditionalCheckFailed")),
                    _ => false,
                });
                if taken {
                    Ok(Written::SeqTaken)
                } else {
                    Err(backend("TransactWriteItems", e))
                }
            }
        }
    }
}

/// What a conditional log write did.
enum Written {
    Yes,
    /// Another entry holds one of the seqs.
    SeqTaken,
}

/// A `ClientRequestToken` (at most 36 characters) for one transaction: random, so two
/// processes never share one, while the SDK's retries of the same call reuse it.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        h.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

#[cfg(test)]
mod tests {
    use super::*;
    use puente_store::RecordRef;

    fn entry() -> ActivityEntry {
        ActivityEntry {
            tenant: "acme".into(),
            system: "clientify".into(),
            external_id: Some("12".into()),
            target_system: Some("alegra".into()),
            target_id: Some("774".into()),
            key: Some("B12345674".into()),
            action: Action::Failed,
            ..ActivityEntry::default()
        }
    }

    #[test]
    fn apc8_an_entry_is_copied_to_each_record_its_key_and_its_action() {
        let items = entry_items(&entry(), 7);
        let pks: Vec<&str> = items.iter().map(|i| get_s(i, "pk").unwrap()).collect();
        assert_eq!(
            pks,
            [
                "LOG#acme",
                "LOGX#acme#rec#clientify#12",
                "LOGX#acme#rec#alegra#774",
                "LOGX#acme#key#B12345674",
                "LOGX#acme#act#failed"
            ]
        );
        // Copies are not in gsi1 (one entry, one index row there) and share the ttl.
        assert!(items[0].contains_key("gsi1pk"));
        assert!(items[1..].iter().all(|i| !i.contains_key("gsi1pk")));
        assert!(items.iter().all(|i| i.get("ttl") == items[0].get("ttl")));
    }

    #[test]
    fn apc8_queries_read_the_most_selective_partition() {
        let mut q = LogQuery::new("acme", 10);
        q.action = Some(Action::Failed);
        q.key = Some("K".into());
        assert_eq!(plan(&q).0, Source::Table("LOGX#acme#key#K".into()));
        q.record = Some(RecordRef::new("alegra", "774"));
        assert_eq!(plan(&q).0, Source::Table("LOGX#acme#rec#alegra#774".into()));
        let mut q = LogQuery::new("acme", 10);
        q.action = Some(Action::Skipped);
        assert_eq!(plan(&q).0, Source::Table("LOGX#acme#act#skipped".into()));
        q.system = Some("alegra".into());
        q.external_id = Some("1".into());
        assert_eq!(plan(&q).0, Source::Gsi1("LOGREC#acme#alegra#1".into()));
        assert_eq!(
            plan(&LogQuery::new("acme", 1)).0,
            Source::Table("LOG#acme".into())
        );
    }
}
