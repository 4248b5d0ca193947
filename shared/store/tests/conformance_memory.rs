//! The conformance suite against the in-memory adapter.

use puente_store::MemoryStore;

puente_store::store_conformance_tests!(|| async { MemoryStore::new() });
