//! Storage for the Puente sync engine: ports and adapters.
//!
//! The engine persists links between records, poll checkpoints, leases, processed webhook
//! ids, an activity log and a queue of change events. Each is a small capability trait
//! in [`ports`]; [`Store`] is all of them together. Adapters:
//!
//! - [`SqliteStore`]: the embedded default, one file, for `puente serve` and the CLI;
//! - [`MemoryStore`]: the same semantics in memory, for tests and benchmarks;
//! - DynamoDB + SQS on AWS (a later crate).
//!
//! Every adapter must pass the same [`conformance`] suite: use
//! [`store_conformance_tests!`] in the adapter's tests.

pub mod conformance;
pub mod memory;
pub mod model;
pub mod ports;
pub mod sqlite;
pub mod stats;
pub mod util;

pub use memory::MemoryStore;
pub use model::{
    Action, ActivityEntry, DeadLetter, FailedRequest, Link, LogQuery, ParseActionError,
    ParseRecordRefError, QueueMessage, RecordRef, RunCounts, RunQuery, RunRecord, Scope,
    StoreError, StoreResult,
};
pub use ports::{
    ActivityLog, CheckpointStore, DedupStore, LeaseGrant, LeaseStore, LinkStore, Queue, Store,
};
pub use sqlite::SqliteStore;
pub use stats::{OpCounter, OpCounts, StoreStats};
