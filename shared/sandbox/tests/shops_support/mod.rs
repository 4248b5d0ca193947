//! What the shop and RO App sandbox tests share: a webhook receiver on loopback that keeps
//! what it is sent and answers with a programmed sequence of statuses, a signature check
//! written here (independent of the sandbox's signing code, and itself checked against
//! vectors computed with `openssl`), and small HTTP helpers.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// One request a receiver got.
#[derive(Clone, Debug)]
pub struct Got {
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
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

#[derive(Clone, Default)]
struct Shared {
    got: Arc<Mutex<Vec<Got>>>,
    /// Statuses to answer, in order; then 200.
    script: Arc<Mutex<Vec<u16>>>,
}

/// A webhook receiver on loopback.
pub struct Receiver {
    pub url: String,
    shared: Shared,
}

impl Receiver {
    /// Answers `script` in order, then 200 for ever.
    pub async fn start(script: &[u16]) -> Receiver {
        let shared = Shared::default();
        *shared.script.lock().unwrap() = script.to_vec();
        let app = Router::new()
            .route(
                "/hook",
                post(
                    |State(s): State<Shared>, h: HeaderMap, b: Bytes| async move {
                        s.got.lock().unwrap().push(Got {
                            headers: h,
                            body: b,
                        });
                        let mut script = s.script.lock().unwrap();
                        let code = if script.is_empty() {
                            200
                        } else {
                            script.remove(0)
                        };
                        StatusCode::from_u16(code).unwrap()
                    },
                ),
            )
            .with_state(shared.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        Receiver { url, shared }
    }

    /// Answers 200 for ever.
    pub async fn ok() -> Receiver {
        Receiver::start(&[]).await
    }

    pub fn got(&self) -> Vec<Got> {
        self.shared.got.lock().unwrap().clone()
    }

    /// Waits (up to 5 s) until at least `n` requests came in, and returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Got> {
        for _ in 0..500 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("receiver got {} requests, wanted {n}", self.got().len());
    }
}

/// Base64 HMAC-SHA256 of `body` under `key`, computed here with the `hmac` crate.
pub fn b64_hmac(key: &str, body: &[u8]) -> String {
    let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    m.update(body);
    base64::engine::general_purpose::STANDARD.encode(m.finalize().into_bytes())
}

/// Waits until `f` holds (up to 5 s).
pub async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition never held");
}

/// The URL of `rel` in a `Link` header.
pub fn link(header: Option<&str>, rel: &str) -> Option<String> {
    header?.split(',').find_map(|part| {
        let (url, r) = part.split_once(';')?;
        r.contains(&format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}
