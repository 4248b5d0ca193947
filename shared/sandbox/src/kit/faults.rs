//! Seeded fault injection for every sandbox: latency, 5xx answers, 429
//! bursts in the vendor's own shape, connection resets, timeouts and lost
//! responses to writes. Not a vendor fact: a test knob.
//!
//! One random draw per request, in arrival order, from a seeded RNG behind a
//! mutex, so a given seed and request sequence always faults the same
//! requests. The draw `u ∈ [0,1)` picks, by cumulative probability:
//! `error_5xx`, then `reset`, then `timeout`, then `lost_response` (the last
//! only faults writes — POST/PUT/PATCH/DELETE — other requests pass).
//! `burst_429` is checked first and does not depend on the draw.
//!
//! "Dropping the connection" answers with a body stream that fails on its
//! first poll: hyper has only buffered the response head, gives up on the
//! connection and closes the socket, so the client sees a connection error
//! (reset / incomplete message) and never an HTTP status.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::{lock, Common};

/// Faults a sandbox injects (`Default`: none). Durations are milliseconds
/// in JSON (`POST /_sandbox/faults`), e.g.
/// `{"seed":1,"latency":20,"error_5xx":0.1,"burst_429":[50,3]}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Seed of the fault draws.
    pub seed: u64,
    /// Added to every answer (faulted or not).
    #[serde(with = "millis")]
    pub latency: Duration,
    /// Probability of a 500 or 503 answered instead of processing.
    pub error_5xx: f64,
    /// `(every, length)`: of each run of `every` requests, the last `length`
    /// are answered 429 with the vendor's headers and body (not processed).
    pub burst_429: Option<(u32, u32)>,
    /// Probability of closing the connection without an answer (not processed).
    pub reset: f64,
    /// Probability of holding the request for `timeout_hold`, then closing
    /// the connection without an answer (not processed).
    pub timeout: f64,
    /// How long a `timeout` fault holds the request: longer than the client's timeout.
    #[serde(with = "millis")]
    pub timeout_hold: Duration,
    /// Probability that a write (POST/PUT/PATCH/DELETE) is PROCESSED and
    /// then its connection closed, so the client never sees the answer.
    pub lost_response: f64,
    /// The answer to the `n`th write (POST/PUT/PATCH/DELETE, counted from 1 since the faults
    /// were set) is lost as for `lost_response`: one chosen write, for vendors whose reads are
    /// POSTs too (JSON-RPC).
    pub lose_write: Option<u32>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            seed: 0,
            latency: Duration::ZERO,
            error_5xx: 0.0,
            burst_429: None,
            reset: 0.0,
            timeout: 0.0,
            timeout_hold: Duration::from_secs(35),
            lost_response: 0.0,
            lose_write: None,
        }
    }
}

mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// How a vendor answers the faults the kit injects, so a client meets the vendor's own 429
/// and 5xx (headers and body) and its retry logic is tested against the real shapes. Each
/// vendor module supplies one; the kit knows no vendor.
#[derive(Clone, Copy)]
pub(crate) struct FaultReplies {
    /// A 429 whose retry hint (`Retry-After` or the vendor's equivalent) is 1 second.
    pub(crate) too_many: fn() -> Response,
    /// A 500 or 503 in the vendor's error shape.
    pub(crate) server_error: fn(StatusCode) -> Response,
}

/// Live fault state of one sandbox.
pub(crate) struct FaultState {
    faults: Faults,
    rng: StdRng,
    /// Requests seen since the faults were set (for bursts).
    seen: u64,
    /// Writes seen since the faults were set (for `lose_write`).
    writes: u32,
}

impl FaultState {
    pub(crate) fn new(faults: Faults) -> Self {
        FaultState {
            rng: StdRng::seed_from_u64(faults.seed),
            faults,
            seen: 0,
            writes: 0,
        }
    }
}

/// What to do with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Decision {
    Pass,
    Burst429,
    Error(StatusCode),
    Reset,
    Timeout(Duration),
    LostResponse,
}

impl Decision {
    fn kind(self) -> Option<&'static str> {
        Some(match self {
            Decision::Pass => return None,
            Decision::Burst429 => "burst_429",
            Decision::Error(_) => "error_5xx",
            Decision::Reset => "reset",
            Decision::Timeout(_) => "timeout",
            Decision::LostResponse => "lost_response",
        })
    }
}

impl Common {
    /// Replaces the faults (and restarts their RNG and burst count).
    pub(crate) fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = FaultState::new(faults);
    }

    pub(crate) fn faults(&self) -> Faults {
        lock(&self.faults).faults.clone()
    }

    fn decide(&self, method: &Method) -> (Duration, Decision) {
        let mut st = lock(&self.faults);
        let i = st.seen;
        st.seen += 1;
        let u: f64 = st.rng.gen();
        let f = &st.faults;
        if let Some((every, len)) = f.burst_429 {
            if every > 0
                && len > 0
                && (i % every as u64) >= (every as u64).saturating_sub(len as u64)
            {
                return (f.latency, Decision::Burst429);
            }
        }
        let write = matches!(
            *method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        );
        if write {
            st.writes += 1;
            if st.faults.lose_write == Some(st.writes) {
                return (st.faults.latency, Decision::LostResponse);
            }
        }
        let f = &st.faults;
        let mut edge = f.error_5xx;
        let d = if u < edge {
            // The lower half of the bucket is a 500, the upper a 503.
            if u < f.error_5xx / 2.0 {
                Decision::Error(StatusCode::INTERNAL_SERVER_ERROR)
            } else {
                Decision::Error(StatusCode::SERVICE_UNAVAILABLE)
            }
        } else if u < {
            edge += f.reset;
            edge
        } {
            Decision::Reset
        } else if u < {
            edge += f.timeout;
            edge
        } {
            Decision::Timeout(f.timeout_hold)
        } else if u < edge + f.lost_response {
            if write {
                Decision::LostResponse
            } else {
                Decision::Pass
            }
        } else {
            Decision::Pass
        };
        (f.latency, d)
    }
}

/// A response hyper cannot send: its body fails on the first poll, so the
/// connection is closed with no status line written.
fn dropped_connection() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other("sandbox fault: connection dropped"))
    });
    Body::from_stream(stream).into_response()
}

/// Middleware (inside the stats counter, outside every vendor route):
/// applies the configured faults to every request except `/_sandbox/*`.
pub(crate) async fn inject(
    State(common): State<Arc<Common>>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path().starts_with("/_sandbox") {
        return next.run(req).await;
    }
    let (latency, decision) = common.decide(req.method());
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if let Some(kind) = decision.kind() {
        common.record_fault(kind);
    }
    match decision {
        Decision::Pass => next.run(req).await,
        Decision::Burst429 => (common.replies.too_many)(),
        Decision::Error(status) => (common.replies.server_error)(status),
        Decision::Reset => dropped_connection(),
        Decision::Timeout(hold) => {
            tokio::time::sleep(hold).await;
            dropped_connection()
        }
        Decision::LostResponse => {
            let resp = next.run(req).await;
            // Processed: consume the answer so the write is complete, then lose it.
            let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
            dropped_connection()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kit::stats::Slash;

    /// The draws do not depend on the vendor; these replies are never built.
    const REPLIES: FaultReplies = FaultReplies {
        too_many: || StatusCode::TOO_MANY_REQUESTS.into_response(),
        server_error: |s| s.into_response(),
    };

    fn common(f: Faults) -> Common {
        Common::new(String::new(), Slash::Never, REPLIES, f)
    }

    fn run(c: &Common, method: Method, n: usize) -> Vec<Decision> {
        (0..n).map(|_| c.decide(&method).1).collect()
    }

    #[test]
    fn default_faults_are_none() {
        let c = common(Faults::default());
        assert!(run(&c, Method::POST, 200)
            .iter()
            .all(|d| *d == Decision::Pass));
    }

    #[test]
    fn draws_are_deterministic_per_seed_and_restart_on_set() {
        let f = Faults {
            seed: 3,
            error_5xx: 0.2,
            reset: 0.1,
            timeout: 0.1,
            lost_response: 0.2,
            ..Faults::default()
        };
        let c = common(f.clone());
        let a = run(&c, Method::POST, 300);
        c.set_faults(f.clone());
        assert_eq!(a, run(&c, Method::POST, 300));
        c.set_faults(Faults { seed: 4, ..f });
        assert_ne!(a, run(&c, Method::POST, 300));
        for kind in ["error_5xx", "reset", "timeout", "lost_response"] {
            let n = a.iter().filter(|d| d.kind() == Some(kind)).count();
            assert!(n > 10, "{kind}: {n}");
        }
    }

    #[test]
    fn lost_response_only_hits_writes() {
        let c = common(Faults {
            lost_response: 1.0,
            ..Faults::default()
        });
        assert!(run(&c, Method::GET, 50)
            .iter()
            .all(|d| *d == Decision::Pass));
        assert!(run(&c, Method::PUT, 50)
            .iter()
            .all(|d| *d == Decision::LostResponse));
    }

    #[test]
    fn bursts_are_the_last_requests_of_each_period() {
        let c = common(Faults {
            burst_429: Some((5, 2)),
            ..Faults::default()
        });
        let got: Vec<bool> = run(&c, Method::GET, 15)
            .iter()
            .map(|d| *d == Decision::Burst429)
            .collect();
        let want: Vec<bool> = (0..15).map(|i| i % 5 >= 3).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn faults_json_uses_milliseconds_and_defaults() {
        let f: Faults =
            serde_json::from_str(r#"{"seed":9,"latency":25,"burst_429":[10,3]}"#).unwrap();
        assert_eq!(f.latency, Duration::from_millis(25));
        assert_eq!(f.burst_429, Some((10, 3)));
        assert_eq!(f.timeout_hold, Faults::default().timeout_hold);
        assert_eq!(f.error_5xx, 0.0);
    }
}
