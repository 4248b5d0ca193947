//! [`SqsQueue`]: the durable queue on an SQS FIFO queue and its dead-letter queue.
//!
//! SQS gives the core semantics directly: `MessageGroupId` = group (FIFO order and one
//! group in flight at a time), `MessageDeduplicationId` = dedup id (the 5-minute window),
//! visibility timeouts, and a `RedrivePolicy` with `maxReceiveCount` = `max_receives`
//! that moves a message received that often to the dead-letter queue on its next
//! receive. What SQS cannot say, a small **ledger** in the DynamoDB table adds (attached
//! by [`AwsStore::new`](crate::AwsStore::new), or [`SqsQueue::with_ledger`]):
//!
//! - whether a send was a duplicate (SQS accepts a duplicate silently): a conditional
//!   put of `QDEDUP#queue#dedup_id` with a 5-minute expiry;
//! - which receipt is current, so a stale, spent or superseded receipt is `NotFound`
//!   (SQS deletes a message given any receipt it ever had): `QMSG#queue#message_id`
//!   holds the current receipt, taken conditionally by `ack` and `retry_later`;
//! - the error given to `retry_later`, for [`DeadLetter::last_error`] (SQS cannot change
//!   a message's attributes after it was sent), and the time of the last delivery, used
//!   as [`DeadLetter::failed_at`].
//!
//! That is one DynamoDB write per send, delivery, ack and retry on top of the SQS call.
//! Without a ledger the queue still works on SQS alone, best-effort: `send` always
//! returns `true` (SQS still drops the duplicate), receipts are checked by SQS only,
//! `last_error` is always `None` and `failed_at` is the original send time.
//!
//! Other differences from the SQLite queue, all from SQS itself:
//!
//! - Timeouts are whole seconds, rounded up; a receive's visibility is at least 1 s.
//! - `receive` asks SQS for one message per call (up to `max` + 1 calls), because one
//!   `ReceiveMessage` may return several messages of the same group, which the port
//!   forbids (and handing extras back would count as receives toward the dead-letter
//!   limit). Order across groups is SQS's (oldest first on moto, best-effort on AWS).
//! - Moving to the dead-letter queue happens inside a later `ReceiveMessage`, lazily.
//!   A dead letter's `receive_count` is reported as `max_receives`, which is what moving
//!   it means.
//! - The dead letters are read by receiving them from the dead-letter queue (hidden
//!   for 10 s) and handing them straight back (visibility 0), so two concurrent listings
//!   see each other's messages as missing, and a group's dead letters beyond the first
//!   ten only show once the earlier ones are gone (FIFO locks the group while its head is
//!   in flight). At most 1000 are read per call; they are sorted oldest first.
//! - `queue_depth` adds SQS's approximate counts (visible + in flight + delayed).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::error::ProvideErrorMetadata;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, Message, MessageAttributeValue,
    MessageSystemAttributeName, QueueAttributeName,
};
use aws_sdk_sqs::Client;
use chrono::{DateTime, TimeDelta, Utc};
use puente_store::{
    DeadLetter, OpCounter, OpCounts, Queue, QueueMessage, StoreError, StoreResult, StoreStats,
};

use crate::common::{
    backend, deadline, get_s, key, n, opt_s, parse_ts, s, stable_hash, token, ts, ttl_secs,
    whole_secs, Item,
};
use crate::dynamo::{batch_get, item_key, DynamoStore};

/// The SQS FIFO deduplication window.
const DEDUP_WINDOW: Duration = Duration::from_secs(5 * 60);
/// How long the dead-letter queue's messages stay hidden while being listed.
const PEEK_VISIBILITY: i32 = 10;
/// Dead letters read per listing at most.
const PEEK_MAX: usize = 1000;
/// Ledger entries live a little longer than SQS keeps any message (14 days).
const LEDGER_RETENTION: Duration = Duration::from_secs(15 * 24 * 3600);
/// The sort key of ledger items.
const ONE: &str = "-";

/// Message attributes carrying what the port needs back: our id (it survives a replay,
/// unlike the SQS `MessageId`), the group as given (the SQS group id may be a hash) and
/// the enqueue time with nanoseconds.
const ATTR_ID: &str = "puente-id";
const ATTR_GROUP: &str = "puente-group";
const ATTR_ENQUEUED: &str = "puente-enqueued-at";

/// See the [module docs](self).
#[derive(Debug)]
pub struct SqsQueue {
    client: Client,
    name: String,
    url: String,
    dlq_url: String,
    max_receives: u32,
    ledger: Option<Ledger>,
    stats: StoreStats,
}

impl SqsQueue {
    /// Create (or reuse) the FIFO queue `{name_prefix}.fifo` and its dead-letter queue
    /// `{name_prefix}-dlq.fifo`, the former redriving to the latter after `max_receives`
    /// receives (at least 1). `name_prefix`: 1 to 71 of `A-Z a-z 0-9 _ -`.
    pub async fn create(client: Client, name_prefix: &str, max_receives: u32) -> StoreResult<Self> {
        let valid = !name_prefix.is_empty()
            && name_prefix.len() <= 71
            && name_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid {
            return Err(StoreError::Backend(format!(
                "queue name prefix {name_prefix:?}: use 1 to 71 of A-Z a-z 0-9 _ -"
            )));
        }
        let max_receives = max_receives.max(1);
        let fifo = (QueueAttributeName::FifoQueue, "true".to_string());
        let dlq_url = create_queue(
            &client,
            &format!("{name_prefix}-dlq.fifo"),
            HashMap::from([
                fifo.clone(),
                (
                    QueueAttributeName::MessageRetentionPeriod,
                    "1209600".to_string(),
                ),
            ]),
        )
        .await?;
        let dlq_arn = client
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .map_err(|e| backend("GetQueueAttributes", e))?
            .attributes
            .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
            .ok_or_else(|| StoreError::Backend(format!("no QueueArn for {dlq_url}")))?;
        let policy = serde_json::json!({
            "deadLetterTargetArn": dlq_arn,
            "maxReceiveCount": max_receives,
        });
        let url = create_queue(
            &client,
            &format!("{name_prefix}.fifo"),
            HashMap::from([
                fifo,
                (QueueAttributeName::RedrivePolicy, policy.to_string()),
                (QueueAttributeName::VisibilityTimeout, "30".to_string()),
            ]),
        )
        .await?;
        Ok(Self::from_urls(client, url, dlq_url, max_receives))
    }

    /// Existing queues (created by a template), by URL. `max_receives` must match the
    /// main queue's `RedrivePolicy` (it is what dead letters report as their count).
    pub fn from_urls(
        client: Client,
        url: impl Into<String>,
        dlq_url: impl Into<String>,
        max_receives: u32,
    ) -> Self {
        let url = url.into();
        let name = url.rsplit('/').next().unwrap_or(&url).to_string();
        SqsQueue {
            client,
            name,
            url,
            dlq_url: dlq_url.into(),
            max_receives: max_receives.max(1),
            ledger: None,
            stats: StoreStats::default(),
        }
    }

    /// Keep the ledger (see the [module docs](self)) in `dynamo`'s table.
    pub fn with_ledger(mut self, dynamo: &DynamoStore) -> Self {
        self.ledger = Some(Ledger {
            client: dynamo.client().clone(),
            table: dynamo.table().to_string(),
        });
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn dlq_url(&self) -> &str {
        &self.dlq_url
    }

    pub fn max_receives(&self) -> u32 {
        self.max_receives
    }

    /// Store operations so far (one per trait call).
    pub fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }

    /// Delete both queues (tests' teardown).
    pub async fn delete_queues(&self) -> StoreResult<()> {
        for url in [&self.url, &self.dlq_url] {
            match self.client.delete_queue().queue_url(url).send().await {
                Ok(_) => {}
                Err(e) if is_missing_queue(e.code()) => {}
                Err(e) => return Err(backend("DeleteQueue", e)),
            }
        }
        Ok(())
    }

    async fn receive_from(
        &self,
        url: &str,
        max: i32,
        visibility: i32,
    ) -> StoreResult<Vec<Message>> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .visibility_timeout(visibility)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| backend("ReceiveMessage", e))?;
        Ok(out.messages.unwrap_or_default())
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_to(
        &self,
        url: &str,
        sqs_group: &str,
        group: &str,
        dedup_id: &str,
        id: &str,
        enqueued_at: DateTime<Utc>,
        body: &str,
    ) -> StoreResult<()> {
        let attr = |v: &str| {
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value(v)
                .build()
                .map_err(|e| backend("SendMessage", e))
        };
        self.client
            .send_message()
            .queue_url(url)
            .message_group_id(sqs_group)
            .message_deduplication_id(dedup_id)
            .message_body(body)
            .message_attributes(ATTR_ID, attr(id)?)
            .message_attributes(ATTR_GROUP, attr(group)?)
            .message_attributes(ATTR_ENQUEUED, attr(&ts(enqueued_at))?)
            .send()
            .await
            .map_err(|e| backend("SendMessage", e))?;
        Ok(())
    }

    /// Every message of the dead-letter queue (up to [`PEEK_MAX`]), hidden until
    /// [`release`](Self::release)d.
    async fn peek_dead(&self) -> StoreResult<Vec<Received>> {
        let mut out: Vec<Received> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        while out.len() < PEEK_MAX {
            let batch = match self.receive_from(&self.dlq_url, 10, PEEK_VISIBILITY).await {
                Ok(b) => b,
                Err(e) => {
                    self.release(out.iter().map(|r| r.handle.clone())).await;
                    return Err(e);
                }
            };
            let mut fresh = false;
            for m in batch {
                let r = Received::parse(m)?;
                match index.get(&r.sqs_id) {
                    // Came round again (its hiding ran out): keep the newest receipt.
                    Some(&i) => out[i].handle = r.handle,
                    None => {
                        index.insert(r.sqs_id.clone(), out.len());
                        out.push(r);
                        fresh = true;
                    }
                }
            }
            if !fresh {
                break;
            }
        }
        Ok(out)
    }

    /// Make peeked dead letters visible again. Best-effort: one that fails to come back
    /// now does so by itself after [`PEEK_VISIBILITY`].
    async fn release(&self, handles: impl Iterator<Item = String>) {
        let handles: Vec<String> = handles.collect();
        for chunk in handles.chunks(10) {
            let entries: Vec<_> = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(format!("m{i}"))
                        .receipt_handle(h)
                        .visibility_timeout(0)
                        .build()
                        .ok()
                })
                .collect();
            let _ = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.dlq_url)
                .set_entries(Some(entries))
                .send()
                .await;
        }
    }

    /// Send a dead letter back to the main queue (same id and group, fresh dedup id,
    /// enqueued now), reset its ledger entry, and delete it from the dead-letter queue.
    async fn replay(&self, m: &Received) -> StoreResult<()> {
        let dedup = sqs_id(&format!("replay/{}/{}", m.id, token("r")));
        self.send_to(
            &self.url,
            &m.sqs_group,
            &m.group,
            &dedup,
            &m.id,
            Utc::now(),
            &m.body,
        )
        .await?;
        if let Some(l) = &self.ledger {
            l.forget(&self.name, &m.id).await?;
        }
        self.client
            .delete_message()
            .queue_url(&self.dlq_url)
            .receipt_handle(&m.handle)
            .send()
            .await
            .map_err(|e| backend("DeleteMessage (dead letter)", e))?;
        Ok(())
    }

    async fn depth_of(&self, url: &str) -> StoreResult<u64> {
        let attrs = self
            .client
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|e| backend("GetQueueAttributes", e))?
            .attributes
            .unwrap_or_default();
        Ok(attrs.values().filter_map(|v| v.parse::<u64>().ok()).sum())
    }
}

impl OpCounter for SqsQueue {
    fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }
}

async fn create_queue(
    client: &Client,
    name: &str,
    attrs: HashMap<QueueAttributeName, String>,
) -> StoreResult<String> {
    match client
        .create_queue()
        .queue_name(name)
        .set_attributes(Some(attrs.clone()))
        .send()
        .await
    {
        Ok(out) => out
            .queue_url
            .ok_or_else(|| StoreError::Backend(format!("CreateQueue {name}: no QueueUrl"))),
        // Exists with other attributes (say another max_receives): update them.
        Err(e) if matches!(e.code(), Some("QueueAlreadyExists" | "QueueNameExists")) => {
            let url = client
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|e| backend("GetQueueUrl", e))?
                .queue_url
                .ok_or_else(|| StoreError::Backend(format!("GetQueueUrl {name}: no QueueUrl")))?;
            let mut attrs = attrs;
            attrs.remove(&QueueAttributeName::FifoQueue);
            client
                .set_queue_attributes()
                .queue_url(&url)
                .set_attributes(Some(attrs))
                .send()
                .await
                .map_err(|e| backend("SetQueueAttributes", e))?;
            Ok(url)
        }
        Err(e) => Err(backend(&format!("CreateQueue {name}"), e)),
    }
}

fn is_missing_queue(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("AWS.SimpleQueueService.NonExistentQueue" | "QueueDoesNotExist")
    )
}

/// Errors SQS gives for a receipt that is not (or no longer) valid.
fn is_stale_receipt(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("ReceiptHandleIsInvalid" | "MessageNotInflight" | "InvalidParameterValue")
    )
}

/// A group or dedup id as SQS accepts it (1 to 128 printable ASCII characters), else a
/// stable hash of it.
fn sqs_id(v: &str) -> String {
    if (1..=128).contains(&v.len()) && v.bytes().all(|b| (b'!'..=b'~').contains(&b)) {
        v.to_string()
    } else {
        format!("h-{}", stable_hash(v))
    }
}

/// Receipts handed out are `"{message id} {SQS receipt handle}"`.
fn split_receipt(receipt: &str) -> StoreResult<(&str, &str)> {
    receipt
        .split_once(' ')
        .filter(|(id, handle)| !id.is_empty() && !handle.is_empty())
        .ok_or_else(|| StoreError::NotFound(format!("receipt {receipt}")))
}

/// A message as received, with what the port needs.
#[derive(Debug)]
struct Received {
    sqs_id: String,
    id: String,
    group: String,
    sqs_group: String,
    body: String,
    receive_count: u32,
    enqueued_at: DateTime<Utc>,
    sent_at: DateTime<Utc>,
    handle: String,
}

impl Received {
    fn parse(m: Message) -> StoreResult<Self> {
        let sys = m.attributes.unwrap_or_default();
        let user = m.message_attributes.unwrap_or_default();
        let text = |k: &str| user.get(k).and_then(|v| v.string_value.clone());
        let sqs_id = m
            .message_id
            .ok_or_else(|| StoreError::Backend("message without MessageId".into()))?;
        let handle = m
            .receipt_handle
            .ok_or_else(|| StoreError::Backend("message without ReceiptHandle".into()))?;
        let sent_at = sys
            .get(&MessageSystemAttributeName::SentTimestamp)
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
            .unwrap_or_else(Utc::now);
        let sqs_group = sys
            .get(&MessageSystemAttributeName::MessageGroupId)
            .cloned()
            .unwrap_or_default();
        Ok(Received {
            id: text(ATTR_ID).unwrap_or_else(|| sqs_id.clone()),
            group: text(ATTR_GROUP).unwrap_or_else(|| sqs_group.clone()),
            enqueued_at: text(ATTR_ENQUEUED)
                .and_then(|t| parse_ts(&t).ok())
                .unwrap_or(sent_at),
            receive_count: sys
                .get(&MessageSystemAttributeName::ApproximateReceiveCount)
                .and_then(|v| v.parse().ok())
                .unwrap_or(1),
            body: m.body.unwrap_or_default(),
            sqs_id,
            sqs_group,
            sent_at,
            handle,
        })
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send(&self, group: &str, dedup_id: &str, body: &str) -> StoreResult<bool> {
        self.stats.write();
        if let Some(l) = &self.ledger {
            if !l.claim_dedup(&self.name, dedup_id).await? {
                return Ok(false);
            }
        }
        let sent = self
            .send_to(
                &self.url,
                &sqs_id(group),
                group,
                &sqs_id(dedup_id),
                &token("m"),
                Utc::now(),
                body,
            )
            .await;
        if let Err(e) = sent {
            // Let a retry through (SQS itself still drops it if it did arrive).
            if let Some(l) = &self.ledger {
                let _ = l.forget_dedup(&self.name, dedup_id).await;
            }
            return Err(e);
        }
        Ok(true)
    }

    async fn receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<QueueMessage>> {
        self.stats.write();
        let visibility = whole_secs(visibility).max(1);
        let mut out: Vec<QueueMessage> = Vec::new();
        while out.len() < max {
            let Some(m) = self
                .receive_from(&self.url, 1, visibility)
                .await?
                .into_iter()
                .next()
            else {
                break;
            };
            let r = Received::parse(m)?;
            if let Some(l) = &self.ledger {
                l.delivered(&self.name, &r.id, &r.handle).await?;
            }
            out.push(QueueMessage {
                receipt: format!("{} {}", r.id, r.handle),
                id: r.id,
                group: r.group,
                body: r.body,
                receive_count: r.receive_count,
                enqueued_at: r.enqueued_at,
            });
        }
        Ok(out)
    }

    async fn ack(&self, receipt: &str) -> StoreResult<()> {
        self.stats.write();
        let (id, handle) = split_receipt(receipt)?;
        if let Some(l) = &self.ledger {
            if !l.take(&self.name, id, handle).await? {
                return Err(StoreError::NotFound(format!("receipt {receipt}")));
            }
        }
        match self
            .client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_stale_receipt(e.code()) => {
                Err(StoreError::NotFound(format!("receipt {receipt}")))
            }
            Err(e) => Err(backend("DeleteMessage", e)),
        }
    }

    async fn retry_later(&self, receipt: &str, delay: Duration, error: &str) -> StoreResult<()> {
        self.stats.write();
        let (id, handle) = split_receipt(receipt)?;
        if let Some(l) = &self.ledger {
            if !l.spend(&self.name, id, handle, error).await? {
                return Err(StoreError::NotFound(format!("receipt {receipt}")));
            }
        }
        match self
            .client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(handle)
            .visibility_timeout(whole_secs(delay))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_stale_receipt(e.code()) => {
                Err(StoreError::NotFound(format!("receipt {receipt}")))
            }
            Err(e) => Err(backend("ChangeMessageVisibility", e)),
        }
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.stats.read();
        let peeked = self.peek_dead().await?;
        self.release(peeked.iter().map(|r| r.handle.clone())).await;
        let ledger = match &self.ledger {
            Some(l) => {
                let ids: Vec<&str> = peeked.iter().map(|r| r.id.as_str()).collect();
                l.lookup(&self.name, &ids).await?
            }
            None => HashMap::new(),
        };
        let mut dead: Vec<(DeadLetter, DateTime<Utc>)> = peeked
            .into_iter()
            .map(|r| {
                let entry = ledger.get(&r.id);
                let failed_at = entry
                    .and_then(|e| opt_s(e, "received_at"))
                    .and_then(|t| parse_ts(&t).ok())
                    .unwrap_or(r.sent_at);
                let letter = DeadLetter {
                    last_error: entry.and_then(|e| opt_s(e, "last_error")),
                    id: r.id,
                    group: r.group,
                    body: r.body,
                    receive_count: self.max_receives,
                    failed_at,
                };
                (letter, r.enqueued_at)
            })
            .collect();
        dead.sort_by(|(a, ea), (b, eb)| (a.failed_at, ea, &a.id).cmp(&(b.failed_at, eb, &b.id)));
        Ok(dead.into_iter().take(limit).map(|(d, _)| d).collect())
    }

    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()> {
        self.stats.write();
        let peeked = self.peek_dead().await?;
        let found = peeked.iter().position(|r| r.id == id);
        let result = match found {
            Some(i) => self.replay(&peeked[i]).await,
            None => Err(StoreError::NotFound(format!("dead letter {id}"))),
        };
        let replayed = if result.is_ok() { found } else { None };
        self.release(
            peeked
                .iter()
                .enumerate()
                .filter(|(i, _)| Some(*i) != replayed)
                .map(|(_, r)| r.handle.clone()),
        )
        .await;
        result
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        self.stats.read();
        Ok((
            self.depth_of(&self.url).await?,
            self.depth_of(&self.dlq_url).await?,
        ))
    }
}

/// The queue's bookkeeping in the DynamoDB table (see the [module docs](self)).
#[derive(Clone, Debug)]
struct Ledger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn is_ccf<E: ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl Ledger {
    fn dedup_key(queue: &str, dedup_id: &str) -> Item {
        item_key(key("QDEDUP", &[queue, dedup_id]), ONE)
    }

    fn msg_key(queue: &str, id: &str) -> Item {
        item_key(key("QMSG", &[queue, id]), ONE)
    }

    /// `true` if the dedup id was not seen within the window (and is now recorded).
    async fn claim_dedup(&self, queue: &str, dedup_id: &str) -> StoreResult<bool> {
        let now = Utc::now();
        let until = deadline(now, DEDUP_WINDOW);
        let mut item = Self::dedup_key(queue, dedup_id);
        item.insert("expires_ms".into(), n(until.timestamp_millis()));
        item.insert("ttl".into(), n(ttl_secs(until)));
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk) OR #e <= :now")
            .expression_attribute_names("#e", "expires_ms")
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_ccf(&e) => Ok(false),
            Err(e) => Err(backend("PutItem (queue dedup)", e)),
        }
    }

    async fn forget_dedup(&self, queue: &str, dedup_id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::dedup_key(queue, dedup_id)))
            .send()
            .await
            .map_err(|e| backend("DeleteItem (queue dedup)", e))?;
        Ok(())
    }

    fn expiry() -> i64 {
        ttl_secs(Utc::now() + TimeDelta::from_std(LEDGER_RETENTION).unwrap_or_default())
    }

    /// A delivery: `handle` is now the message's only valid receipt.
    async fn delivered(&self, queue: &str, id: &str, handle: &str) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::msg_key(queue, id)))
            .update_expression("SET #r = :r, #at = :at, #ttl = :ttl")
            .expression_attribute_names("#r", "receipt")
            .expression_attribute_names("#at", "received_at")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":r", s(handle))
            .expression_attribute_values(":at", s(ts(Utc::now())))
            .expression_attribute_values(":ttl", n(Self::expiry()))
            .send()
            .await
            .map_err(|e| backend("UpdateItem (queue ledger)", e))?;
        Ok(())
    }

    /// Ack: forget the message if `handle` is its current receipt; `false` if not.
    async fn take(&self, queue: &str, id: &str, handle: &str) -> StoreResult<bool> {
        match self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::msg_key(queue, id)))
            .condition_expression("#r = :r")
            .expression_attribute_names("#r", "receipt")
            .expression_attribute_values(":r", s(handle))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_ccf(&e) => Ok(false),
            Err(e) => Err(backend("DeleteItem (queue ledger)", e)),
        }
    }

    /// Retry: spend the receipt and remember the error; `false` if `handle` is not the
    /// current receipt.
    async fn spend(&self, queue: &str, id: &str, handle: &str, error: &str) -> StoreResult<bool> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(Self::msg_key(queue, id)))
            .update_expression("REMOVE #r SET #err = :err, #ttl = :ttl")
            .condition_expression("#r = :r")
            .expression_attribute_names("#r", "receipt")
            .expression_attribute_names("#err", "last_error")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":r", s(handle))
            .expression_attribute_values(":err", s(error))
            .expression_attribute_values(":ttl", n(Self::expiry()))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if is_ccf(&e) => Ok(false),
            Err(e) => Err(backend("UpdateItem (queue ledger)", e)),
        }
    }

    /// A replayed message starts afresh.
    async fn forget(&self, queue: &str, id: &str) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(Self::msg_key(queue, id)))
            .send()
            .await
            .map_err(|e| backend("DeleteItem (queue ledger)", e))?;
        Ok(())
    }

    /// The ledger entries of these messages, by message id.
    async fn lookup(&self, queue: &str, ids: &[&str]) -> StoreResult<HashMap<String, Item>> {
        let mut unique: Vec<&str> = ids.to_vec();
        unique.sort_unstable();
        unique.dedup();
        let by_pk: HashMap<String, &str> = unique
            .iter()
            .map(|id| (key("QMSG", &[queue, id]), *id))
            .collect();
        let keys = unique.iter().map(|id| Self::msg_key(queue, id)).collect();
        let mut out = HashMap::new();
        for item in batch_get(&self.client, &self.table, keys).await? {
            if let Some(id) = by_pk.get(get_s(&item, "pk")?) {
                out.insert(id.to_string(), item);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqs_ids_are_valid() {
        assert_eq!(sqs_id("acme/evt-1"), "acme/evt-1");
        assert!(sqs_id("").starts_with("h-"));
        assert!(sqs_id("with space").starts_with("h-"));
        assert!(sqs_id("ñ").starts_with("h-"));
        let long = "x".repeat(129);
        assert_eq!(sqs_id(&long).len(), 34);
        assert_eq!(sqs_id(&long), sqs_id(&long));
    }

    #[test]
    fn receipts_split_or_are_not_found() {
        assert_eq!(split_receipt("m-1 AQEB+x/=").unwrap(), ("m-1", "AQEB+x/="));
        for bad in ["", "nospace", " x", "x "] {
            assert!(matches!(split_receipt(bad), Err(StoreError::NotFound(_))));
        }
    }
}
