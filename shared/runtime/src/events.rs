//! Change events: what webhooks (and, later, polls) put on the queue and workers take off it.

use crate::flow::{PairError, Run};
use crate::summary::NoProgress;
use crate::App;
use puente_core::Kind;
use puente_store::{QueueMessage, Store};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// One change to sync: `system`'s `kind` record `id` changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeEvent {
    pub tenant: String,
    pub system: String,
    pub kind: Kind,
    pub id: String,
    /// Deduplication id (same change delivered twice → one event).
    pub event_id: String,
    /// When Puente received the change (webhook-to-write latency is measured from here).
    pub observed_at: chrono::DateTime<chrono::Utc>,
}

impl ChangeEvent {
    /// FIFO group: changes to one record are processed in order, different records in parallel.
    pub fn group(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.tenant,
            self.system,
            self.kind.as_str(),
            self.id
        )
    }
}

/// What happened to a queue message.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    Done,
    RetryLater(String),
}

/// Syncs one event through every flow that includes its system and entity. The record is
/// re-read from the vendor (the webhook body is not trusted).
pub async fn handle(app: &App, ev: &ChangeEvent) -> Handled {
    let mut retry = None;
    for flow in app
        .flows
        .iter()
        .filter(|f| f.side_of(&ev.system).is_some() && f.run_kinds().contains(&ev.kind))
    {
        let conn = if flow.a.system() == ev.system {
            flow.a.clone()
        } else {
            flow.b.clone()
        };
        if let Err(e) = flow.ready().await {
            retry = Some(format!("link store: {e}"));
            continue;
        }
        let mut run = Run::new(flow, "event", false, &NoProgress);
        // An event may come from outside the webhook door (a replayed dead letter, an older
        // version's queue): its id is parsed like a webhook's before it reaches a URL, and
        // one that is not the vendor's id fails for good, with the reason, and no call.
        if let Err(e) = conn.id_syntax(ev.kind).parse(&ev.id) {
            run.refuse_event(ev.kind, &ev.system, &ev.id, e.to_string());
            if let Err(e) = run.flush().await {
                retry = Some(format!("activity log: {e}"));
            }
            continue;
        }
        let res: Result<(), PairError> = async {
            // The link first, then the record: `sync_record` compares this read with one
            // under the pair's lease to know whether the record is older than its link.
            let link = flow
                .store
                .link_by_external(flow.scope(ev.kind), &ev.system, &ev.id)
                .await?;
            match conn.read().get(ev.kind, &ev.id).await? {
                Some(r) => {
                    let logged = run.summary.counts(ev.kind.as_str()).failed;
                    let res = run.sync_record(ev.kind, r.clone(), link.clone(), None).await;
                    // P5/APC-8: a failure before the pair was reached (reading or searching
                    // the counterpart) is logged and reported like a pair's own.
                    if let Err(e) = &res {
                        if run.summary.counts(ev.kind.as_str()).failed == logged {
                            run.pair_failed(ev.kind, &r, link.as_ref(), e);
                        }
                    }
                    res?;
                }
                None => tracing::info!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id,
                    "record no longer exists; deletions are not propagated"),
            }
            Ok(())
        }
        .await;
        if let Err(e) = run.flush().await {
            retry = Some(format!("activity log: {e}"));
        }
        if let Err(e) = res {
            if e.is_transient() {
                retry = Some(e.to_string());
            }
        }
    }
    match retry {
        Some(why) => Handled::RetryLater(why),
        None => Handled::Done,
    }
}

/// Backoff for the n-th receive of a message that failed transiently.
pub fn retry_delay(receive_count: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(receive_count.min(8))).min(Duration::from_secs(300))
}

/// What one pass of a worker did.
#[derive(Debug, Default)]
pub struct WorkDone {
    /// Messages taken off the queue.
    pub taken: usize,
    /// For each event completed: time from its receipt by Puente to the end of its sync.
    pub latencies: Vec<Duration>,
}

/// Takes up to `max` messages off the queue and handles them.
pub async fn work_once(app: &App, store: &dyn Store, max: usize, visibility: Duration) -> WorkDone {
    let msgs: Vec<QueueMessage> = match store.receive(max, visibility).await {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "queue receive failed");
            return WorkDone::default();
        }
    };
    let mut done = WorkDone {
        taken: msgs.len(),
        latencies: Vec::new(),
    };
    for m in msgs {
        let ev: ChangeEvent = match serde_json::from_str(&m.body) {
            Ok(ev) => ev,
            Err(e) => {
                // A body we cannot read will never succeed: let it reach the dead letters.
                let _ = store
                    .retry_later(
                        &m.receipt,
                        Duration::ZERO,
                        &format!("unreadable event: {e}"),
                    )
                    .await;
                continue;
            }
        };
        match handle(app, &ev).await {
            Handled::Done => {
                done.latencies.push(
                    (chrono::Utc::now() - ev.observed_at)
                        .to_std()
                        .unwrap_or_default(),
                );
                crash_point!(AfterLinkSave);
                if let Err(e) = store.ack(&m.receipt).await {
                    tracing::warn!(error = %e, "ack failed; the event will be processed again (idempotent)");
                }
            }
            Handled::RetryLater(why) => {
                tracing::warn!(tenant = %ev.tenant, system = %ev.system, kind = %ev.kind, record = %ev.id, error = %why, "will retry");
                let _ = store
                    .retry_later(&m.receipt, retry_delay(m.receive_count), &why)
                    .await;
            }
        }
    }
    done
}
