//! Outgoing webhooks of the sandboxes (spec §3: "Webhooks: POST … to a configured URL,
//! unsigned"; Alegra: "deliver `{"subject","message"}`").
//!
//! A write through a sandbox's API queues a delivery and answers at once; one background task
//! per sandbox posts the queue in order, so a receiver sees a record's changes in the order
//! they were made (Puente re-reads the record anyway, but ordered deliveries keep test runs
//! reproducible). Deliveries are made for every write through the API, Puente's own included:
//! that is what the real vendors do, and suppressing the echo is Puente's job, not the
//! sandbox's.
//!
//! A refused or reset connection is retried a few times (the receiver may be restarting); an
//! HTTP error answer is not (neither vendor documents retries, §1.4 and §2.4). Every outcome is
//! logged and kept in [`WebhookSent`] records for tests.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use super::lock;

/// The three Clientify payload shapes the vendor's own n8n node accepts (§1.4). Which one
/// Clientify really sends is unknown, hence configurable.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookShape {
    /// `{"event":"contact.saved","contact":{…}}`.
    Event,
    /// `{"hook":{"id":…,"event":"contact.saved"},"contact":{…}}`. The default: Clientify is
    /// a Django/DRF application and this is the shape of django-rest-hooks, the usual
    /// webhook library there (§1.4 [I]).
    #[default]
    Hook,
    /// `{"event","timestamp","account_id","user_id","data":{"contact":{…},"changes":{…}}}`.
    Data,
}

impl WebhookShape {
    pub const ALL: [WebhookShape; 3] =
        [WebhookShape::Event, WebhookShape::Hook, WebhookShape::Data];

    /// The body of a Clientify delivery of `event` (`contact.saved`) about `record` of type
    /// `entity` (`contact`). `hook_id` numbers the subscription in the `hook` shape.
    pub fn clientify_body(self, event: &str, entity: &str, record: &Value, hook_id: u64) -> Value {
        let mut o = Map::new();
        match self {
            WebhookShape::Event => {
                o.insert("event".into(), json!(event));
                o.insert(entity.into(), record.clone());
            }
            WebhookShape::Hook => {
                o.insert("hook".into(), json!({"id": hook_id, "event": event}));
                o.insert(entity.into(), record.clone());
            }
            WebhookShape::Data => {
                o.insert("event".into(), json!(event));
                o.insert(
                    "timestamp".into(),
                    json!(chrono::Utc::now().timestamp_millis()),
                );
                o.insert("account_id".into(), json!(1));
                o.insert("user_id".into(), json!(1));
                o.insert(
                    "data".into(),
                    json!({entity: record.clone(), "changes": {}}),
                );
            }
        }
        Value::Object(o)
    }
}

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

/// `url` as given, or over `http://` when it has no scheme: Alegra subscriptions store URLs
/// without one (§2.4) and, as the sandbox talks to loopback receivers without TLS, it delivers
/// those over plain HTTP (the real Alegra presumably uses https).
pub(crate) fn with_scheme(url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("http://{url}")
    }
}
