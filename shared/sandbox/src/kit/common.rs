//! The state every sandbox has, whatever the vendor: clock, counters, faults, webhook outbox.

use std::any::Any;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Utc};

use super::clock::Clock;
use super::faults::{FaultReplies, FaultState, Faults};
use super::outbox::Outbox;
use super::stats::{Recorder, Slash, Stats};

/// State every sandbox has, whatever the vendor.
pub(crate) struct Common {
    clock: Clock,
    pub(crate) recorder: Recorder,
    /// `http://127.0.0.1:PORT`, used when a request has no `Host` header.
    pub root_url: String,
    /// The vendor's answers to injected 429s and 5xx.
    pub(crate) replies: FaultReplies,
    pub(crate) faults: Mutex<FaultState>,
    /// Outgoing webhooks (see `outbox`).
    pub(crate) outbox: Outbox,
    /// Vendor state the [`super::Sandbox`] handle reaches from outside the router (Clientify:
    /// its webhook target and shape); `()` for a vendor without any. Typed per vendor, so
    /// the kit needs no knowledge of it.
    ext: Box<dyn Any + Send + Sync>,
    /// What the vendor's own user can do, when the registry's start says (see `user`).
    pub(crate) user: OnceLock<Arc<dyn super::user::VendorUser>>,
}

/// Locks a mutex, ignoring poisoning (a panicking handler must not take the
/// whole sandbox down).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Common {
    pub(crate) fn new(
        root_url: String,
        slash: Slash,
        replies: FaultReplies,
        faults: Faults,
    ) -> Self {
        Common {
            clock: Clock::default(),
            recorder: Recorder::new(slash),
            root_url,
            replies,
            faults: Mutex::new(FaultState::new(faults)),
            outbox: Default::default(),
            ext: Box::new(()),
            user: OnceLock::new(),
        }
    }

    /// Sets the vendor state (see the field).
    pub(crate) fn with_ext<T: Any + Send + Sync>(mut self, ext: T) -> Self {
        self.ext = Box::new(ext);
        self
    }

    /// The vendor state, if it is a `T`.
    pub(crate) fn ext<T: Any>(&self) -> Option<&T> {
        self.ext.downcast_ref()
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

    /// The most recent writes with their bodies, oldest first.
    pub(crate) fn writes(&self) -> Vec<(String, String)> {
        self.recorder.writes()
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
