//! The state every sandbox has, whatever the vendor: clock, counters, faults, webhook outbox.

use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};

use super::clock::Clock;
use super::faults::{FaultState, Faults, Vendor};
use super::outbox::{Outbox, WebhookShape};
use super::stats::{Recorder, Slash, Stats};

/// State every sandbox has, whatever the vendor.
pub(crate) struct Common {
    clock: Clock,
    pub(crate) recorder: Recorder,
    /// `http://127.0.0.1:PORT`, used when a request has no `Host` header.
    pub root_url: String,
    /// Whose error shapes injected faults imitate.
    pub(crate) vendor: Vendor,
    pub(crate) faults: Mutex<FaultState>,
    /// Outgoing webhooks (see `outbox`).
    pub(crate) outbox: Outbox,
    /// Where Clientify posts its webhooks (none: off) and in which shape.
    pub(crate) hook: Mutex<(Option<String>, WebhookShape)>,
}

/// Locks a mutex, ignoring poisoning (a panicking handler must not take the
/// whole sandbox down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Common {
    pub(crate) fn new(root_url: String, slash: Slash, vendor: Vendor, faults: Faults) -> Self {
        Common {
            clock: Clock::default(),
            recorder: Recorder::new(slash),
            root_url,
            vendor,
            faults: Mutex::new(FaultState::new(faults)),
            outbox: Default::default(),
            hook: Mutex::new((None, Default::default())),
        }
    }

    /// Current sandbox time (microsecond resolution).
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// A write timestamp, strictly later than any handed out before (see [`Clock::stamp`]).
    pub(crate) fn stamp(&self) -> DateTime<Utc> {
        self.clock.stamp()
    }

    /// Makes later stamps strictly greater than `t` (seeded data).
    pub(crate) fn observe(&self, t: DateTime<Utc>) {
        self.clock.observe(t)
    }

    pub(crate) fn advance(&self, secs: i64) {
        self.clock.advance(secs)
    }

    pub(crate) fn stats(&self) -> Stats {
        self.recorder.stats()
    }

    pub(crate) fn reset_stats(&self) {
        self.recorder.reset()
    }

    /// The most recent requests as received, oldest first.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.recorder.requests()
    }

    /// Counts one vendor-level call carried inside a request (Odoo's
    /// `object.execute_kw` and friends) under `key` in `by_route`. The HTTP
    /// request itself is already counted by [`super::stats::count_requests`]; `total` and
    /// `by_method` stay per HTTP request.
    pub(crate) fn record_call(&self, key: &str) {
        self.recorder.record_call(key)
    }

    pub(crate) fn record_fault(&self, kind: &str) {
        self.recorder.record_fault(kind)
    }
}
