//! The conformance suite against the SQLite adapter, each test on its own WAL file, plus
//! what only a file-backed store can show: durability across reopening, schema setup
//! and open errors.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use puente_store::{
    ActivityLog, CheckpointStore, Link, LinkStore, LogQuery, OpCounter, Queue, Scope, SqliteStore,
    StoreError,
};

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
    let mut link = Link::new("acme", "clientify-alegra", "contact", "alegra:774");
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
            .link_by_external(
                Scope::new("acme", "clientify-alegra", "contact"),
                "alegra",
                "774"
            )
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
            Link::new("t", "f", "contact", "a"),
            Link::new("t", "f", "contact", "b"),
        ])
        .await
        .unwrap();
    let counts = OpCounter::op_counts(&store);
    assert_eq!(counts.reads, 1);
    assert_eq!(counts.writes, 4);
    assert_eq!(counts.batched_writes, 1);
    assert_eq!(store.op_counts(), counts);
}

/// Issue 12: a store file written by the previous version (schema 1, links keyed by
/// (tenant, kind), made by `puente sync` Full then Modified on the sandboxes, see
/// `fixtures/README.md`) is upgraded in place on open: every link, external id, key,
/// checkpoint and log entry is kept, the links in the empty (legacy) flow scope until the
/// runtime moves them into their flow.
#[tokio::test]
async fn store_migration_keeps_every_link_checkpoint_and_log_entry_of_a_v1_file() {
    let path = temp_db("v1");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v1.sqlite"),
        &path,
    )
    .unwrap();
    let before = {
        let c = rusqlite::Connection::open(&path).unwrap();
        let n = |sql: &str| c.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        assert_eq!(n("SELECT MAX(version) FROM schema_version"), 1);
        (
            n("SELECT COUNT(*) FROM links"),
            n("SELECT COUNT(*) FROM link_ids"),
            n("SELECT COUNT(*) FROM links WHERE key IS NOT NULL"),
            n("SELECT COUNT(*) FROM checkpoints"),
            n("SELECT COUNT(*) FROM activity"),
        )
    };
    assert_eq!(before, (35, 70, 35, 3, 45), "the fixture as written by v1");

    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.schema_version().unwrap(),
        puente_store::sqlite::SCHEMA_VERSION
    );
    fn legacy(kind: &str) -> Scope<'_> {
        Scope::new("demo", "", kind)
    }
    let mut links = Vec::new();
    for kind in ["contact", "company", "product"] {
        links.extend(store.links(legacy(kind)).await.unwrap());
    }
    assert_eq!(links.len(), 35);
    let mut ids = 0;
    for l in &links {
        assert_eq!(l.flow, "", "legacy scope");
        assert!(l.version >= 1);
        for (system, id) in &l.ids {
            ids += 1;
            assert_eq!(
                store
                    .link_by_external(legacy(&l.kind), system, id)
                    .await
                    .unwrap()
                    .as_ref(),
                Some(l),
                "{system}:{id} still finds its link"
            );
        }
        let key = l.key.as_deref().expect("every v1 link had a key");
        assert_eq!(
            store
                .link_by_key(legacy(&l.kind), key)
                .await
                .unwrap()
                .as_ref(),
            Some(l)
        );
        assert!(l.more_keys.is_empty());
    }
    assert_eq!(ids, 70);
    // A known row of the fixture, field by field.
    let b = store
        .link_by_key(legacy("company"), "B27177492")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.id, "clientify:101");
    assert_eq!(b.ids.get("alegra").map(String::as_str), Some("28"));
    assert_eq!(b.ids.get("clientify").map(String::as_str), Some("101"));
    assert!(!b.field_hashes.is_empty() && b.record_hashes.len() == 2);
    // Nothing in the new flow scopes yet.
    assert!(store
        .links(Scope::new("demo", "clientify-alegra", "contact"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .checkpoint("demo", "clientify-alegra/clientify/contact")
            .await
            .unwrap()
            .map(|v| v.contains("modified")),
        Some(true)
    );
    assert_eq!(
        store
            .query(&LogQuery::new("demo", 1000))
            .await
            .unwrap()
            .len(),
        45
    );
    // Links keep working: saving one bumps its version, and reopening migrates nothing
    // twice.
    let saved = store.save_link(&b).await.unwrap();
    assert_eq!(saved.version, b.version + 1);
    store.close().unwrap();
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.links(legacy("company")).await.unwrap().len(),
        8,
        "reopened"
    );
    store.close().unwrap();
    remove_db(&path);
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
        .link_by_external(
            puente_store::Scope::new("acme", "", "contact"),
            "clientify",
            "12",
        )
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
