//! Operation counters, so benchmarks can report store operations per synced record.
//!
//! On AWS every store call is a billed request (DynamoDB, SQS), so "how many calls per
//! record" is the number that predicts cost and latency; counting it locally lets a
//! benchmark catch a regression (say, one read per field) before it reaches the bill.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// A snapshot of [`StoreStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpCounts {
    /// Calls that only read.
    pub reads: u64,
    /// Calls that change state; a batch (`save_links`, `append`) counts as one.
    pub writes: u64,
    /// How many of `writes` were batches.
    pub batched_writes: u64,
}

impl std::ops::Sub for OpCounts {
    type Output = OpCounts;

    /// The operations between two snapshots (`after - before`).
    fn sub(self, before: OpCounts) -> OpCounts {
        OpCounts {
            reads: self.reads.saturating_sub(before.reads),
            writes: self.writes.saturating_sub(before.writes),
            batched_writes: self.batched_writes.saturating_sub(before.batched_writes),
        }
    }
}

/// Lock-free counters, one increment per trait call. Adapters embed one.
#[derive(Debug, Default)]
pub struct StoreStats {
    reads: AtomicU64,
    writes: AtomicU64,
    batched_writes: AtomicU64,
}

impl StoreStats {
    pub fn read(&self) {
        self.reads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// One write that carried a batch.
    pub fn batch_write(&self) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        self.batched_writes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> OpCounts {
        OpCounts {
            reads: self.reads.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
            batched_writes: self.batched_writes.load(Ordering::Relaxed),
        }
    }
}

/// Adapters that count their operations.
pub trait OpCounter {
    fn op_counts(&self) -> OpCounts;
}
