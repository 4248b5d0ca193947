//! The conformance suite against the SQLite adapter, each test on its own WAL file, plus
//! what only a file-backed store can show: durability across reopening, schema setup
//! and open errors.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use puente_store::{CheckpointStore, Link, LinkStore, OpCounter, Queue, SqliteStore, StoreError};

/// A fresh path under the temp dir, unique per process and call.
fn temp_db(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    std::env::temp_dir()
        .join("puente-store-tests")
        .join(format!(
            "{tag}-{}-{nanos}-{}.db",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ))
}

/// Remove the database and its WAL side files.
fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

async fn make() -> SqliteStore {
    SqliteStore::open(temp_db("conformance")).expect("open temp db")
}

async fn teardown(store: SqliteStore) {
    let path = store.path().expect("file-backed").to_path_buf();
    store.close().expect("close");
    remove_db(&path);
}

puente_store::store_conformance_tests!(make, teardown);

#[tokio::test]
async fn queued_message_and_link_survive_reopen() {
    let path = temp_db("reopen");
    let mut link = Link::new("acme", "contact", "alegra:774");
    link.ids.insert("alegra".into(), "774".into());
    link.key = Some("B12345674".into());
    {
        let store = SqliteStore::open(&path).unwrap();
        assert!(store
            .send("acme/contact/774", "evt-1", "{\"id\":774}")
            .await
            .unwrap());
        assert!(store
            .send("acme/contact/775", "evt-2", "{\"id\":775}")
            .await
            .unwrap());
        link = store.save_link(&link).await.unwrap();
        store
            .put_checkpoint("acme", "scope", "{\"page\":2}")
            .await
            .unwrap();
        // One message is in flight when the process "crashes" (drop without ack).
        let got = store.receive(1, Duration::from_millis(100)).await.unwrap();
        assert_eq!(got.len(), 1);
    }

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store
            .link_by_external("acme", "contact", "alegra", "774")
            .await
            .unwrap(),
        Some(link.clone())
    );
    assert_eq!(
        store.checkpoint("acme", "scope").await.unwrap().as_deref(),
        Some("{\"page\":2}")
    );
    assert_eq!(store.queue_depth().await.unwrap(), (2, 0));
    // The dedup window survives too.
    assert!(!store
        .send("acme/contact/774", "evt-1", "again")
        .await
        .unwrap());

    tokio::time::sleep(Duration::from_millis(200)).await;
    let got = store.receive(10, Duration::from_secs(30)).await.unwrap();
    let mut bodies: Vec<(&str, u32)> = got
        .iter()
        .map(|m| (m.body.as_str(), m.receive_count))
        .collect();
    bodies.sort();
    assert_eq!(bodies, [("{\"id\":774}", 2), ("{\"id\":775}", 1)]);
    for m in &got {
        store.ack(&m.receipt).await.unwrap();
    }
    // Versions continue where they were.
    assert_eq!(store.save_link(&link).await.unwrap().version, 2);
    store.close().unwrap();
    remove_db(&path);
}

#[tokio::test]
async fn open_creates_parent_dirs_wal_and_schema_version() {
    let dir = temp_db("nested").with_extension("");
    let path = dir.join("a").join("b").join("puente.db");
    let store = SqliteStore::open(&path).unwrap();
    assert!(path.exists());
    assert_eq!(
        store.schema_version().unwrap(),
        puente_store::sqlite::SCHEMA_VERSION
    );
    assert!(store.schema_version().unwrap() >= 1);
    drop(store);
    // Reopening an up-to-date file runs no migration and keeps the version.
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        puente_store::sqlite::SCHEMA_VERSION
    );
    store.close().unwrap();

    let mode = journal_mode_in_header(&path);
    assert_eq!(mode, "wal");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The journal mode recorded in the file header (WAL mode persists in the file).
fn journal_mode_in_header(path: &Path) -> String {
    // Read the header: bytes 18 and 19 are 2 for WAL.
    let bytes = std::fs::read(path).unwrap();
    if bytes.len() > 19 && bytes[18] == 2 && bytes[19] == 2 {
        "wal".into()
    } else {
        "other".into()
    }
}

#[tokio::test]
async fn open_error_names_the_path() {
    // A regular file cannot be a parent directory.
    let blocker = temp_db("blocker");
    std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
    std::fs::write(&blocker, b"not a directory").unwrap();
    let path = blocker.join("puente.db");
    match SqliteStore::open(&path) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains(&path.display().to_string()), "{msg}")
        }
        other => panic!("expected Backend error, got {other:?}"),
    }

    // A file that is not a database.
    match SqliteStore::open(&blocker) {
        Err(StoreError::Backend(msg)) => {
            assert!(msg.contains(&blocker.display().to_string()), "{msg}")
        }
        other => panic!("expected Backend error, got {other:?}"),
    }
    let _ = std::fs::remove_file(&blocker);
}

#[tokio::test]
async fn in_memory_database_works_and_counts_ops() {
    let store = SqliteStore::open_in_memory().unwrap().with_max_receives(1);
    assert_eq!(store.path(), None);
    store.send("g", "d", "b").await.unwrap();
    let got = store.receive(1, Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    // max_receives 1: the second receive dead-letters it.
    assert!(store.receive(1, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(store.queue_depth().await.unwrap(), (0, 1));
    store
        .save_links(&[
            Link::new("t", "contact", "a"),
            Link::new("t", "contact", "b"),
        ])
        .await
        .unwrap();
    let counts = OpCounter::op_counts(&store);
    assert_eq!(counts.reads, 1);
    assert_eq!(counts.writes, 4);
    assert_eq!(counts.batched_writes, 1);
    assert_eq!(store.op_counts(), counts);
}

/// APC-8: a database made by the first schema (before the activity page) is migrated in
/// place when opened: every existing entry, link and queued message is kept, old entries
/// read back with no key or detail, and the new columns, filters and run table work.
#[tokio::test]
async fn apc8_schema_1_file_migrates_in_place_keeping_every_row() {
    use puente_store::sqlite::MIGRATIONS;
    use puente_store::{ActivityLog, LogQuery, RecordRef, RunQuery};
    let path = temp_db("schema1");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    {
        // Exactly what a schema-1 build left: its tables, version 1, one row of each.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "CREATE TABLE schema_version (version INTEGER NOT NULL);
             INSERT INTO schema_version (version) VALUES (1);
             INSERT INTO activity (tenant, at, run_id, flow, kind, action, system, external_id,
                 target_system, target_id, link_id, fields, reason, expires_at)
             VALUES ('acme', '2026-01-01T10:00:00.000000000Z', 'run-1', 'clientify-alegra',
                 'contact', 'updated', 'alegra', '774', 'clientify', '12', 'alegra:774',
                 '[\"phone\"]', NULL, '9999-01-01T00:00:00.000000000Z');
             INSERT INTO links (tenant, kind, id, key, ids, field_hashes, record_hashes, version,
                 updated_at)
             VALUES ('acme', 'contact', 'alegra:774', 'B12345674',
                 '{\"alegra\":\"774\",\"clientify\":\"12\"}', '{}', '{}', 3,
                 '2026-01-01T10:00:00.000000000Z');
             INSERT INTO link_ids VALUES ('acme', 'contact', 'alegra', '774', 'alegra:774');
             INSERT INTO link_ids VALUES ('acme', 'contact', 'clientify', '12', 'alegra:774');
             INSERT INTO queue (id, grp, body, visible_at, enqueued_at)
             VALUES ('m-1', 'g', 'body', '2026-01-01T10:00:00.000000000Z',
                 '2026-01-01T10:00:00.000000000Z');",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        puente_store::sqlite::SCHEMA_VERSION
    );
    const { assert!(puente_store::sqlite::SCHEMA_VERSION >= 2) };
    let old = store.query(&LogQuery::new("acme", 10)).await.unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old[0].fields, ["phone"]);
    assert_eq!(old[0].key, None);
    assert!(old[0].values.is_empty());
    // The new record filter finds the old entry from its target side too.
    let by_target = LogQuery {
        record: Some(RecordRef::new("clientify", "12")),
        ..LogQuery::new("acme", 10)
    };
    assert_eq!(store.query(&by_target).await.unwrap().len(), 1);
    let link = store
        .link_by_external("acme", "contact", "clientify", "12")
        .await
        .unwrap()
        .expect("link kept");
    assert_eq!(link.version, 3);
    assert_eq!(store.queue_depth().await.unwrap(), (1, 0));
    let runs = RunQuery {
        tenant: "acme".into(),
        limit: 5,
        ..RunQuery::default()
    };
    assert!(store.runs(&runs).await.unwrap().is_empty());
    store.close().unwrap();
    remove_db(&path);
}
