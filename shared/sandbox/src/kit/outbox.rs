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
//! `clientify-alegra.md` §1.4 and §2.4), unless the vendor gives a [`Delivery`] a retry
//! schedule (Shopify retries a refused delivery with its original payload and headers): a
//! retry waits on its own timer and goes back to the queue, so it does not hold up the
//! deliveries behind it. Every outcome is logged and kept in [`WebhookSent`] records for
//! tests, and handed to the delivery's `done` callback (WooCommerce counts failures per
//! webhook). Redirects are not followed (WooCommerce: `redirection => 0`).

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

/// Told a delivery's final outcome.
pub(crate) type Done = Box<dyn FnOnce(&WebhookSent) + Send + Sync>;

/// What a vendor module hands the outbox to post: the exact bytes and headers, which answers
/// count as accepted, when to try again, and whom to tell the outcome.
pub(crate) struct Delivery {
    pub(crate) url: String,
    pub(crate) event: String,
    /// The exact bytes posted (what a signature covers).
    pub(crate) body: Vec<u8>,
    pub(crate) headers: Vec<(String, String)>,
    /// Delays before each retry of a delivery the receiver did not accept (an answer `accept`
    /// refuses, a timeout or a broken connection); empty: no such retries.
    pub(crate) retry_delays: Vec<Duration>,
    /// Which status codes count as accepted (default: 2xx).
    pub(crate) accept: fn(u16) -> bool,
    /// Told the final outcome, once.
    pub(crate) done: Option<Done>,
}

impl Delivery {
    /// A POST of `body` with `headers` to `url`, accepted on 2xx, not retried, nobody told.
    pub(crate) fn new(
        url: String,
        event: &str,
        body: Vec<u8>,
        headers: Vec<(String, String)>,
    ) -> Self {
        Delivery {
            url,
            event: event.to_string(),
            body,
            headers,
            retry_delays: Vec::new(),
            accept: |s| (200..300).contains(&s),
            done: None,
        }
    }
}

struct Job {
    d: Delivery,
    /// Attempts made before this one (earlier retries).
    attempts: u32,
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
        self.deliver(Delivery::new(url, event, body, headers))
    }

    /// Queues `d`; returns at once.
    pub(crate) fn deliver(&self, d: Delivery) {
        self.state.pending.fetch_add(1, Ordering::SeqCst);
        let job = Job { d, attempts: 0 };
        let mut tx = lock(&self.tx);
        let sender = tx.get_or_insert_with(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(deliver_all(rx, tx.downgrade(), self.state.clone()));
            tx
        });
        if let Err(e) = sender.send(job) {
            // The delivery task is gone (its runtime stopped): nothing can be sent.
            self.state.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(event = %e.0.d.event, url = %e.0.d.url, "sandbox webhook dropped: delivery task stopped");
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

    /// Keeps a delivery the vendor module made itself (WooCommerce's ping, sent while the
    /// request that creates the webhook waits) beside the outbox's own.
    pub(crate) fn log(&self, sent: WebhookSent) {
        keep(&self.state, sent);
    }
}

fn keep(state: &OutboxState, sent: WebhookSent) {
    let mut log = lock(&state.sent);
    if log.len() >= KEEP {
        log.pop_front();
    }
    log.push_back(sent);
}

/// The HTTP client deliveries go out with: no redirects followed.
pub(crate) fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(Duration::from_secs(2))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("webhook client builds")
}

async fn deliver_all(
    mut rx: mpsc::UnboundedReceiver<Job>,
    requeue: mpsc::WeakUnboundedSender<Job>,
    state: Arc<OutboxState>,
) {
    let client = client(Duration::from_secs(10));
    while let Some(mut job) = rx.recv().await {
        let mut sent = deliver(&client, &job).await;
        sent.attempts += job.attempts;
        let accepted = sent.status.is_some_and(job.d.accept);
        if !accepted && !job.d.retry_delays.is_empty() {
            if let Some(tx) = requeue.upgrade() {
                let delay = job.d.retry_delays.remove(0);
                job.attempts = sent.attempts;
                tracing::debug!(event = %sent.event, url = %sent.url, status = ?sent.status, "sandbox webhook refused; retrying");
                tokio::spawn(async move {
                    tokio::time::sleep(delay).await;
                    let _ = tx.send(job);
                });
                continue;
            }
        }
        match (&sent.status, &sent.error) {
            (Some(s), _) if accepted => {
                tracing::debug!(event = %sent.event, url = %sent.url, status = s, "sandbox webhook delivered")
            }
            _ => tracing::warn!(event = %sent.event, url = %sent.url, status = ?sent.status,
                error = ?sent.error, attempts = sent.attempts, "sandbox webhook not accepted"),
        }
        if let Some(done) = job.d.done.take() {
            done(&sent);
        }
        keep(&state, sent);
        state.pending.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn deliver(client: &reqwest::Client, job: &Job) -> WebhookSent {
    let job = &job.d;
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
                let error = if (job.accept)(status) {
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

    /// A receiver that refuses the first `fail` posts (500) and accepts the rest.
    async fn flaky(fail: usize) -> (String, Seen) {
        let seen: Seen = Arc::default();
        let app = Router::new()
            .route(
                "/hook",
                post(
                    move |State(s): State<Seen>, h: HeaderMap, b: Bytes| async move {
                        let mut s = lock(&s);
                        s.push((h, b));
                        if s.len() <= fail {
                            StatusCode::INTERNAL_SERVER_ERROR
                        } else {
                            StatusCode::OK
                        }
                    },
                ),
            )
            .with_state(seen.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        (url, seen)
    }

    #[tokio::test]
    async fn refused_deliveries_are_retried_with_the_same_bytes_and_the_outcome_reported() {
        let (url, seen) = flaky(2).await;
        let outbox = Outbox::default();
        let told: Arc<Mutex<Vec<WebhookSent>>> = Arc::default();
        let t = told.clone();
        let mut d = Delivery::new(
            url.clone(),
            "orders/create",
            b"{\"id\":1}".to_vec(),
            vec![("x-shopify-webhook-id".into(), "w-1".into())],
        );
        d.retry_delays = vec![Duration::from_millis(10); 3];
        d.done = Some(Box::new(move |s: &WebhookSent| lock(&t).push(s.clone())));
        outbox.deliver(d);
        drained(&outbox).await;
        let seen = lock(&seen).clone();
        assert_eq!(seen.len(), 3);
        assert!(seen
            .iter()
            .all(|(h, b)| h["x-shopify-webhook-id"] == "w-1" && b.as_ref() == b"{\"id\":1}"));
        let told = lock(&told).clone();
        assert_eq!(told.len(), 1);
        assert_eq!((told[0].status, told[0].attempts), (Some(200), 3));
        assert_eq!(outbox.sent(), told);

        // Out of retries: the last refusal is the outcome.
        let (url, seen) = flaky(10).await;
        let mut d = Delivery::new(url, "orders/create", b"{}".to_vec(), vec![]);
        d.retry_delays = vec![Duration::from_millis(5); 2];
        outbox.deliver(d);
        drained(&outbox).await;
        assert_eq!(lock(&seen).len(), 3);
        let last = outbox.sent().pop().unwrap();
        assert_eq!((last.status, last.attempts), (Some(500), 3));
        assert!(last.error.is_some());
    }
}
