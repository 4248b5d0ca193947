//! Outgoing webhooks of a sandbox: the vendor module decides what to send and where; the
//! outbox delivers it.
//!
//! A write through a sandbox's API queues a delivery and answers at once; one background task
//! per sandbox posts the queue in order, so a receiver sees a record's changes in the order
//! they were made (Puente re-reads the record anyway, but ordered deliveries keep test runs
//! reproducible). Deliveries are made for every write through the API, Puente's own included:
//! that is what the real vendors do, and suppressing the echo is Puente's job, not the
//! sandbox's.
//!
//! A refused or reset connection is retried a few times (the receiver may be restarting); an
//! HTTP error answer is not (neither Clientify nor Alegra documents retries,
//! `clientify-alegra.md` §1.4 and §2.4). Every outcome is
//! logged and kept in [`WebhookSent`] records for tests.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use super::lock;

/// One delivery the sandbox made (or gave up on).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSent {
    pub url: String,
    /// `contact.saved`, `edit-client`, …
    pub event: String,
    /// The receiver's HTTP status; `None` when no answer came.
    pub status: Option<u16>,
    /// Connection attempts made.
    pub attempts: u32,
    /// Why the delivery failed, if it did.
    pub error: Option<String>,
}

/// Connection attempts per delivery (first try included).
const ATTEMPTS: u32 = 4;

struct Job {
    url: String,
    event: String,
    body: Value,
}

#[derive(Default)]
struct OutboxState {
    /// Queued or being delivered.
    pending: AtomicUsize,
    sent: Mutex<VecDeque<WebhookSent>>,
}

/// Most recent deliveries kept for [`Outbox::sent`].
const KEEP: usize = 10_000;

/// A sandbox's queue of outgoing webhooks.
#[derive(Default)]
pub(crate) struct Outbox {
    state: Arc<OutboxState>,
    /// Started on the first delivery, so building a sandbox needs no runtime.
    tx: Mutex<Option<mpsc::UnboundedSender<Job>>>,
}

impl Outbox {
    /// Queues a POST of `body` to `url`; returns at once.
    pub(crate) fn send(&self, url: String, event: &str, body: Value) {
        self.state.pending.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            url,
            event: event.to_string(),
            body,
        };
        let mut tx = lock(&self.tx);
        let sender = tx.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(deliver_all(rx, self.state.clone()));
            tx
        });
        if let Err(e) = sender.send(job) {
            // The delivery task is gone (its runtime stopped): nothing can be sent.
            self.state.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(event = %e.0.event, url = %e.0.url, "sandbox webhook dropped: delivery task stopped");
        }
    }

    /// Deliveries queued or in progress.
    pub(crate) fn pending(&self) -> usize {
        self.state.pending.load(Ordering::SeqCst)
    }

    /// Deliveries made so far, oldest first.
    pub(crate) fn sent(&self) -> Vec<WebhookSent> {
        lock(&self.state.sent).iter().cloned().collect()
    }
}

async fn deliver_all(mut rx: mpsc::UnboundedReceiver<Job>, state: Arc<OutboxState>) {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(2))
        .build()
        .expect("webhook client builds");
    while let Some(job) = rx.recv().await {
        let sent = deliver(&client, &job).await;
        match (&sent.status, &sent.error) {
            (Some(s), _) if (200..300).contains(s) => {
                tracing::debug!(event = %sent.event, url = %sent.url, status = s, "sandbox webhook delivered")
            }
            _ => tracing::warn!(event = %sent.event, url = %sent.url, status = ?sent.status,
                error = ?sent.error, attempts = sent.attempts, "sandbox webhook not accepted"),
        }
        {
            let mut log = lock(&state.sent);
            if log.len() >= KEEP {
                log.pop_front();
            }
            log.push_back(sent);
        }
        state.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn deliver(client: &reqwest::Client, job: &Job) -> WebhookSent {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let res = client.post(&job.url).json(&job.body).send().await;
        let done = |status: Option<u16>, error: Option<String>| WebhookSent {
            url: job.url.clone(),
            event: job.event.clone(),
            status,
            attempts,
            error,
        };
        match res {
            Ok(r) => {
                let status = r.status().as_u16();
                let error = if r.status().is_success() {
                    None
                } else {
                    Some(format!(
                        "answered {status}: {}",
                        r.text().await.unwrap_or_default()
                    ))
                };
                return done(Some(status), error);
            }
            // Only failures to connect are retried: a timeout may have been processed.
            Err(e) if e.is_connect() && attempts < ATTEMPTS => {
                tokio::time::sleep(Duration::from_millis(100 * 2u64.pow(attempts - 1))).await;
            }
            Err(e) => return done(None, Some(e.to_string())),
        }
    }
}
