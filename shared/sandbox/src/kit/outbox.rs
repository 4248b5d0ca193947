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
    /// The exact bytes posted (what a signature covers).
    body: Vec<u8>,
    headers: Vec<(String, String)>,
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
    /// Queues a POST of `body` as JSON to `url`; returns at once.
    pub(crate) fn send(&self, url: String, event: &str, body: Value) {
        let bytes = serde_json::to_vec(&body).expect("JSON values serialize");
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        self.send_with(url, event, bytes, headers)
    }

    /// Queues a POST of exactly `body` with `headers` (content type, signature, the vendor's
    /// delivery headers) to `url`; returns at once. A signature is computed over these bytes
    /// by the caller (see [`super::sign`]), so it matches what the receiver reads.
    pub(crate) fn send_with(
        &self,
        url: String,
        event: &str,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    ) {
        self.state.pending.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            url,
            event: event.to_string(),
            body,
            headers,
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
        let mut req = client.post(&job.url).body(job.body.clone());
        for (k, v) in &job.headers {
            req = req.header(k, v);
        }
        let res = req.send().await;
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;
    use axum::Router;
    use serde_json::json;

    use super::*;
    use crate::kit::sign::{hmac_sha256_base64, verify_hmac_sha256_base64};

    type Seen = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

    /// A receiver on loopback that keeps what it is sent.
    async fn receiver() -> (String, Seen) {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route(
                "/hook",
                post(|State(s): State<Seen>, h: HeaderMap, b: Bytes| async move {
                    lock(&s).push((h, b));
                    StatusCode::OK
                }),
            )
            .with_state(seen.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        (url, seen)
    }

    async fn drained(o: &Outbox) {
        for _ in 0..500 {
            if o.pending() == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("deliveries still pending");
    }

    #[tokio::test]
    async fn signed_deliveries_arrive_in_order_with_their_headers_and_exact_bytes() {
        let (url, seen) = receiver().await;
        let outbox = Outbox::default();
        for id in 1..=3 {
            // PHP-style escaping, as WooCommerce sends it: the bytes are not re-encoded.
            let body = format!(r#"{{"id":{id},"href":"https:\/\/shop.example\/o\/{id}"}}"#);
            let sig = hmac_sha256_base64(b"hush", body.as_bytes());
            let headers = vec![
                ("content-type".to_string(), "application/json".to_string()),
                ("x-shopify-hmac-sha256".to_string(), sig),
                ("x-shopify-topic".to_string(), "orders/updated".to_string()),
            ];
            outbox.send_with(url.clone(), "orders/updated", body.into_bytes(), headers);
        }
        outbox.send(url.clone(), "contact.saved", json!({"id": 4}));
        drained(&outbox).await;
        let seen = lock(&seen).clone();
        assert_eq!(seen.len(), 4);
        for (i, (h, body)) in seen[..3].iter().enumerate() {
            let want = format!(
                r#"{{"id":{},"href":"https:\/\/shop.example\/o\/{}"}}"#,
                i + 1,
                i + 1
            );
            assert_eq!(body.as_ref(), want.as_bytes());
            let sig = h["x-shopify-hmac-sha256"].to_str().unwrap();
            assert!(verify_hmac_sha256_base64(b"hush", body, sig));
            assert_eq!(h["x-shopify-topic"], "orders/updated");
        }
        assert_eq!(seen[3].1.as_ref(), br#"{"id":4}"#);
        assert_eq!(seen[3].0["content-type"], "application/json");
        let sent = outbox.sent();
        assert!(sent
            .iter()
            .all(|s| s.status == Some(200) && s.attempts == 1));
        assert_eq!(sent[3].event, "contact.saved");
    }
}
