//! What the shop and accounting sandbox tests share: a webhook receiver on loopback, waiting
//! for deliveries, and an answer read whole.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::any;
use axum::Router;
use puente_sandbox::Sandbox;
use serde_json::Value;

/// One delivery a receiver got: the path and query it was sent to, headers, raw body.
#[derive(Clone, Debug)]
pub struct Got {
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Got {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("delivery body is JSON")
    }
}

pub type Seen = Arc<Mutex<Vec<Got>>>;

/// A receiver on loopback that answers 200 to anything and keeps what it got; its root URL.
pub async fn receiver() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new()
        .fallback(any(
            |State(s): State<Seen>, uri: OriginalUri, headers: HeaderMap, body: Bytes| async move {
                s.lock().unwrap().push(Got {
                    uri: uri.0.to_string(),
                    headers,
                    body,
                });
                StatusCode::OK
            },
        ))
        .with_state(seen.clone());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, seen)
}

/// Waits until the sandbox has no delivery queued or in flight.
pub async fn drained(sb: &Sandbox) {
    for _ in 0..500 {
        if sb.webhooks_pending() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("webhook deliveries still pending");
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub async fn read(r: reqwest::Response) -> Answer {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let body = r.bytes().await.expect("body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}
