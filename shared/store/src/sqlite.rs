//! The embedded default [`Store`](crate::Store): one SQLite file holds links, checkpoints,
//! leases, processed events, the activity log and a durable queue.
//!
//! One connection behind a `std::sync::Mutex`: every operation is a short statement or
//! transaction that never spans an `.await`, so a single connection is both simplest and
//! fast (no pool, no cross-connection `SQLITE_BUSY` inside the process). WAL lets other
//! processes (the CLI inspecting the log) read while the server writes; `synchronous =
//! NORMAL` is durable across application crashes (the point of the queue) and only risks
//! the last transactions on power loss, at a fraction of the fsyncs.
//!
//! Timestamps are stored as fixed-width RFC 3339 UTC text with nanoseconds
//! (`2025-01-31T12:00:00.000000000Z`): readable in the `sqlite3` shell, lossless, and
//! ordered correctly by plain text comparison, so expiry checks are indexed range scans.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{
    params, params_from_iter, Connection, OptionalExtension, Row, Transaction, TransactionBehavior,
};

use crate::model::{
    Action, ActivityEntry, DeadLetter, FailedRequest, Link, LogQuery, QueueMessage, RunQuery,
    RunRecord, Scope, StoreError, StoreResult,
};
use crate::ports::{
    ActivityLog, CheckpointStore, DedupStore, LeaseGrant, LeaseStore, LinkStore, Queue,
};
use crate::stats::{OpCounter, OpCounts, StoreStats};
use crate::util::{deadline, token, DEDUP_WINDOW, DEFAULT_MAX_RECEIVES};

/// Schema migrations; entry `i` takes the database from version `i` to `i + 1`. Append
/// new entries, never edit shipped ones: `schema_version` records how far a file got.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE links (
    tenant        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    key           TEXT,
    ids           TEXT NOT NULL,   -- JSON object system -> external id
    field_hashes  TEXT NOT NULL,   -- JSON object
    record_hashes TEXT NOT NULL,   -- JSON object
    version       INTEGER NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX links_by_key ON links (tenant, kind, key) WHERE key IS NOT NULL;

-- The secondary index link by (tenant, kind, system, external id).
CREATE TABLE link_ids (
    tenant      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    system      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, system, external_id)
) WITHOUT ROWID;
CREATE INDEX link_ids_by_link ON link_ids (tenant, kind, link_id);

CREATE TABLE checkpoints (
    tenant     TEXT NOT NULL,
    scope      TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant, scope)
) WITHOUT ROWID;

CREATE TABLE leases (
    tenant     TEXT NOT NULL,
    name       TEXT NOT NULL,
    owner      TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant, name)
) WITHOUT ROWID;

CREATE TABLE processed_events (
    tenant     TEXT NOT NULL,
    event_id   TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (tenant, event_id)
) WITHOUT ROWID;
CREATE INDEX processed_events_expiry ON processed_events (expires_at);

CREATE TABLE activity (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant        TEXT NOT NULL,
    at            TEXT NOT NULL,
    run_id        TEXT,
    flow          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    action        TEXT NOT NULL,
    system        TEXT NOT NULL,
    external_id   TEXT,
    target_system TEXT,
    target_id     TEXT,
    link_id       TEXT,
    fields        TEXT NOT NULL,   -- JSON array of field names
    reason        TEXT,
    expires_at    TEXT NOT NULL
);
CREATE INDEX activity_by_tenant ON activity (tenant, seq);
CREATE INDEX activity_by_record ON activity (tenant, system, external_id, seq);
CREATE INDEX activity_by_link ON activity (tenant, link_id, seq);
CREATE INDEX activity_by_run ON activity (tenant, run_id, seq);
CREATE INDEX activity_expiry ON activity (expires_at);

-- receipt is set while a message is handed out; visible_at > now means in flight or delayed.
CREATE TABLE queue (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    grp           TEXT NOT NULL,
    body          TEXT NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt       TEXT UNIQUE,
    visible_at    TEXT NOT NULL,
    last_error    TEXT,
    enqueued_at   TEXT NOT NULL
);
CREATE INDEX queue_by_group ON queue (grp, seq);

CREATE TABLE queue_dedup (
    dedup_id   TEXT PRIMARY KEY NOT NULL,
    expires_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX queue_dedup_expiry ON queue_dedup (expires_at);

CREATE TABLE dead_letters (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    id            TEXT NOT NULL UNIQUE,
    grp           TEXT NOT NULL,
    body          TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    failed_at     TEXT NOT NULL,
    last_error    TEXT
);
"#,
    // 2: links scoped by flow (issue 12). Rows of version 1 keep their data with the empty flow,
    // the scope of links stored before flows had their own; the runtime moves them into the flow
    // they belong to. Natural keys move to their own index table, so a link can hold several.
    r#"
CREATE TABLE links_v2 (
    tenant        TEXT NOT NULL,
    flow          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    id            TEXT NOT NULL,
    key           TEXT,
    more_keys     TEXT NOT NULL DEFAULT '[]',   -- JSON array
    ids           TEXT NOT NULL,   -- JSON object connection -> external id
    field_hashes  TEXT NOT NULL,   -- JSON object
    record_hashes TEXT NOT NULL,   -- JSON object
    version       INTEGER NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (tenant, flow, kind, id)
) WITHOUT ROWID;
INSERT INTO links_v2 (tenant, flow, kind, id, key, more_keys, ids, field_hashes, record_hashes,
                      version, updated_at)
    SELECT tenant, '', kind, id, key, '[]', ids, field_hashes, record_hashes, version, updated_at
    FROM links;
DROP TABLE links;
ALTER TABLE links_v2 RENAME TO links;

CREATE TABLE link_ids_v2 (
    tenant      TEXT NOT NULL,
    flow        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    system      TEXT NOT NULL,
    external_id TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    PRIMARY KEY (tenant, flow, kind, system, external_id)
) WITHOUT ROWID;
INSERT INTO link_ids_v2 (tenant, flow, kind, system, external_id, link_id)
    SELECT tenant, '', kind, system, external_id, link_id FROM link_ids;
DROP TABLE link_ids;
ALTER TABLE link_ids_v2 RENAME TO link_ids;
CREATE INDEX link_ids_by_link ON link_ids (tenant, flow, kind, link_id);

CREATE TABLE link_keys (
    tenant  TEXT NOT NULL,
    flow    TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT NOT NULL,
    link_id TEXT NOT NULL,
    PRIMARY KEY (tenant, flow, kind, key)
) WITHOUT ROWID;
INSERT INTO link_keys (tenant, flow, kind, key, link_id)
    SELECT tenant, flow, kind, key, id FROM links WHERE key IS NOT NULL;
CREATE INDEX link_keys_by_link ON link_keys (tenant, flow, kind, link_id);
"#,
    // 3: the activity page (issue 15). Existing entries keep every column and read back with no
    // key and no detail; new filters get their indexes; run summaries get a table.
    r#"
ALTER TABLE activity ADD COLUMN key TEXT;
-- JSON object with what an entry may carry besides its columns (values written, how it was
-- matched, the rule per field, the failed request); NULL when there is none. In the row, so
-- it is deleted with the entry (retention).
ALTER TABLE activity ADD COLUMN detail TEXT;
CREATE INDEX activity_by_target ON activity (tenant, target_system, target_id, seq);
CREATE INDEX activity_by_key ON activity (tenant, key, seq) WHERE key IS NOT NULL;
CREATE INDEX activity_by_action ON activity (tenant, action, seq);
CREATE INDEX activity_by_kind ON activity (tenant, kind, seq);
CREATE INDEX activity_by_time ON activity (tenant, at);

CREATE TABLE runs (
    tenant      TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    flow        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    counts      TEXT NOT NULL,   -- JSON object entity -> counts
    calls       TEXT NOT NULL,   -- JSON object system -> calls
    errors      TEXT NOT NULL,   -- JSON array
    expires_at  TEXT NOT NULL,
    PRIMARY KEY (tenant, run_id)
) WITHOUT ROWID;
CREATE INDEX runs_by_start ON runs (tenant, started_at);
CREATE INDEX runs_expiry ON runs (expires_at);
"#,
];

/// The schema version this build creates and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// See the [module docs](self).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    stats: StoreStats,
    max_receives: u32,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string()
}

fn parse_ts(s: &str) -> rusqlite::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// SQLite integers are i64; versions, seqs and counts are u64 in the model.
fn get_u64(r: &Row<'_>, i: usize) -> rusqlite::Result<u64> {
    let v: i64 = r.get(i)?;
    u64::try_from(v).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Integer, Box::new(e))
    })
}

fn sql_int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn json_err(e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
}

fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<String> {
    serde_json::to_string(v).map_err(backend)
}

impl SqliteStore {
    /// Open (or create, with its parent directory) the database file and bring its schema
    /// up to date. A path that cannot be opened is a `Backend` error naming it.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        let path = path.as_ref();
        let fail = |e: &dyn std::fmt::Display| {
            StoreError::Backend(format!("cannot open {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let conn = Connection::open(path).map_err(|e| fail(&e))?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(|e| fail(&e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(fail(&format!("journal_mode is {mode}, WAL unavailable")));
        }
        Self::setup(conn, Some(path.to_path_buf())).map_err(|e| match e {
            StoreError::Backend(m) => fail(&m),
            other => other,
        })
    }

    /// A private database that disappears with the store (tests, one-off runs).
    pub fn open_in_memory() -> StoreResult<Self> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        Self::setup(conn, None)
    }

    fn setup(mut conn: Connection, path: Option<PathBuf>) -> StoreResult<Self> {
        conn.busy_timeout(Duration::from_secs(5)).map_err(backend)?;
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;")
            .map_err(backend)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            path,
            stats: StoreStats::default(),
            max_receives: DEFAULT_MAX_RECEIVES,
        })
    }

    /// Receives after which a message goes to the dead-letter list (at least 1).
    pub fn with_max_receives(mut self, n: u32) -> Self {
        self.max_receives = n.max(1);
        self
    }

    /// The database file, `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Store operations so far (one per trait call).
    pub fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }

    /// The schema version recorded in the database.
    pub fn schema_version(&self) -> StoreResult<u32> {
        read_version(&self.lock()).map_err(backend)
    }

    /// Close the connection, folding the WAL back into the main file. Dropping the
    /// store also closes it; this reports errors instead of ignoring them.
    pub fn close(self) -> StoreResult<()> {
        let conn = self.conn.into_inner().unwrap_or_else(|e| e.into_inner());
        conn.close().map_err(|(_, e)| backend(e))
    }

    /// A panic while holding the lock cannot leave a half-applied transaction behind
    /// (rusqlite rolls back on drop), so a poisoned lock is safe to keep using.
    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` in an immediate (write-locking) transaction and commit if it succeeds.
    /// Immediate, because a deferred transaction that reads then writes can fail with
    /// `SQLITE_BUSY` when another process writes in between.
    fn write_tx<T>(&self, f: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut conn = self.lock();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(backend)?;
        let out = f(&tx)?;
        tx.commit().map_err(backend)?;
        Ok(out)
    }
}

impl OpCounter for SqliteStore {
    fn op_counts(&self) -> OpCounts {
        self.stats.snapshot()
    }
}

fn read_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )
}

fn migrate(conn: &mut Connection) -> StoreResult<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(backend)?;
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(backend)?;
    let current = read_version(&tx).map_err(backend)?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Backend(format!(
            "database schema version {current} is newer than this build's {SCHEMA_VERSION}"
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        tx.execute_batch(sql)
            .map_err(|e| backend(format!("migration to version {}: {e}", i + 1)))?;
    }
    if current < SCHEMA_VERSION {
        tx.execute("DELETE FROM schema_version", [])
            .map_err(backend)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )
        .map_err(backend)?;
    }
    tx.commit().map_err(backend)
}

const LINK_COLUMNS: &str = "l.tenant, l.flow, l.kind, l.id, l.key, l.more_keys, l.ids, \
     l.field_hashes, l.record_hashes, l.version, l.updated_at";

fn link_from_row(r: &Row<'_>) -> rusqlite::Result<Link> {
    let map = |i: usize| -> rusqlite::Result<BTreeMap<String, String>> {
        serde_json::from_str(&r.get::<_, String>(i)?).map_err(json_err)
    };
    Ok(Link {
        tenant: r.get(0)?,
        flow: r.get(1)?,
        kind: r.get(2)?,
        id: r.get(3)?,
        key: r.get(4)?,
        more_keys: serde_json::from_str(&r.get::<_, String>(5)?).map_err(json_err)?,
        ids: map(6)?,
        field_hashes: map(7)?,
        record_hashes: map(8)?,
        version: get_u64(r, 9)?,
        updated_at: parse_ts(&r.get::<_, String>(10)?)?,
    })
}

/// The checks and writes of one `save_link`, inside the caller's transaction.
fn put_link(tx: &Transaction<'_>, link: &Link) -> StoreResult<Link> {
    let stored_version: u64 = tx
        .prepare_cached(
            "SELECT version FROM links WHERE tenant = ?1 AND flow = ?2 AND kind = ?3 AND id = ?4",
        )
        .and_then(|mut s| {
            s.query_row(params![link.tenant, link.flow, link.kind, link.id], |r| {
                get_u64(r, 0)
            })
            .optional()
        })
        .map_err(backend)?
        .unwrap_or(0);
    if stored_version != link.version {
        return Err(StoreError::Conflict(format!("{} {}", link.kind, link.id)));
    }
    {
        let mut owner_of = tx
            .prepare_cached(
                "SELECT link_id FROM link_ids WHERE tenant = ?1 AND flow = ?2 AND kind = ?3
                 AND system = ?4 AND external_id = ?5",
            )
            .map_err(backend)?;
        for (system, external_id) in &link.ids {
            let owner: Option<String> = owner_of
                .query_row(
                    params![link.tenant, link.flow, link.kind, system, external_id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            if owner.is_some_and(|o| o != link.id) {
                return Err(StoreError::Duplicate(format!(
                    "{} {system}:{external_id}",
                    link.kind
                )));
            }
        }
        let mut key_owner = tx
            .prepare_cached(
                "SELECT link_id FROM link_keys
                 WHERE tenant = ?1 AND flow = ?2 AND kind = ?3 AND key = ?4",
            )
            .map_err(backend)?;
        for key in link.keys() {
            let owner: Option<String> = key_owner
                .query_row(params![link.tenant, link.flow, link.kind, key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(backend)?;
            if owner.is_some_and(|o| o != link.id) {
                return Err(StoreError::Duplicate(format!("{} key {key}", link.kind)));
            }
        }
    }
    let mut stored = link.clone();
    stored.version = stored_version + 1;
    let more_keys = to_json(&stored.more_keys)?;
    let ids = to_json(&stored.ids)?;
    let field_hashes = to_json(&stored.field_hashes)?;
    let record_hashes = to_json(&stored.record_hashes)?;
    tx.prepare_cached(
        "INSERT INTO links (tenant, flow, kind, id, key, more_keys, ids, field_hashes,
                            record_hashes, version, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (tenant, flow, kind, id) DO UPDATE SET
             key = excluded.key, more_keys = excluded.more_keys, ids = excluded.ids,
             field_hashes = excluded.field_hashes, record_hashes = excluded.record_hashes,
             version = excluded.version, updated_at = excluded.updated_at",
    )
    .and_then(|mut s| {
        s.execute(params![
            stored.tenant,
            stored.flow,
            stored.kind,
            stored.id,
            stored.key,
            more_keys,
            ids,
            field_hashes,
            record_hashes,
            sql_int(stored.version),
            ts(stored.updated_at),
        ])
    })
    .map_err(backend)?;
    if stored_version > 0 {
        unindex_link(tx, link)?;
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO link_ids (tenant, flow, kind, system, external_id, link_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .map_err(backend)?;
    for (system, external_id) in &stored.ids {
        insert
            .execute(params![
                stored.tenant,
                stored.flow,
                stored.kind,
                system,
                external_id,
                stored.id
            ])
            .map_err(backend)?;
    }
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO link_keys (tenant, flow, kind, key, link_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .map_err(backend)?;
    for key in stored.keys() {
        insert
            .execute(params![
                stored.tenant,
                stored.flow,
                stored.kind,
                key,
                stored.id
            ])
            .map_err(backend)?;
    }
    Ok(stored)
}

/// Drops the external-id and key index rows of `link` (before they are rewritten, or with
/// the link).
fn unindex_link(tx: &Transaction<'_>, link: &Link) -> StoreResult<()> {
    for table in ["link_ids", "link_keys"] {
        tx.prepare_cached(&format!(
            "DELETE FROM {table} WHERE tenant = ?1 AND flow = ?2 AND kind = ?3 AND link_id = ?4"
        ))
        .and_then(|mut s| s.execute(params![link.tenant, link.flow, link.kind, link.id]))
        .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl LinkStore for SqliteStore {
    async fn link_by_external(
        &self,
        scope: Scope<'_>,
        system: &str,
        external_id: &str,
    ) -> StoreResult<Option<Link>> {
        self.stats.read();
        let conn = self.lock();
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM link_ids i
             JOIN links l ON l.tenant = i.tenant AND l.flow = i.flow AND l.kind = i.kind
                         AND l.id = i.link_id
             WHERE i.tenant = ?1 AND i.flow = ?2 AND i.kind = ?3 AND i.system = ?4
               AND i.external_id = ?5"
        );
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(
                    params![scope.tenant, scope.flow, scope.kind, system, external_id],
                    link_from_row,
                )
                .optional()
            })
            .map_err(backend)
    }

    async fn link_by_key(&self, scope: Scope<'_>, key: &str) -> StoreResult<Option<Link>> {
        self.stats.read();
        let conn = self.lock();
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM link_keys k
             JOIN links l ON l.tenant = k.tenant AND l.flow = k.flow AND l.kind = k.kind
                         AND l.id = k.link_id
             WHERE k.tenant = ?1 AND k.flow = ?2 AND k.kind = ?3 AND k.key = ?4"
        );
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_row(
                    params![scope.tenant, scope.flow, scope.kind, key],
                    link_from_row,
                )
                .optional()
            })
            .map_err(backend)
    }

    async fn links(&self, scope: Scope<'_>) -> StoreResult<Vec<Link>> {
        self.stats.read();
        let conn = self.lock();
        let sql = format!(
            "SELECT {LINK_COLUMNS} FROM links l
             WHERE l.tenant = ?1 AND l.flow = ?2 AND l.kind = ?3 ORDER BY l.id"
        );
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![scope.tenant, scope.flow, scope.kind], link_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)
    }

    async fn save_link(&self, link: &Link) -> StoreResult<Link> {
        self.stats.write();
        self.write_tx(|tx| put_link(tx, link))
    }

    async fn save_links(&self, links: &[Link]) -> StoreResult<Vec<Link>> {
        self.stats.batch_write();
        // An error returns before commit; dropping the transaction rolls everything back.
        self.write_tx(|tx| links.iter().map(|l| put_link(tx, l)).collect())
    }

    async fn delete_link(&self, link: &Link) -> StoreResult<()> {
        self.stats.write();
        self.write_tx(|tx| {
            let what = format!("{} {}", link.kind, link.id);
            let stored: Option<u64> = tx
                .prepare_cached(
                    "SELECT version FROM links
                     WHERE tenant = ?1 AND flow = ?2 AND kind = ?3 AND id = ?4",
                )
                .and_then(|mut s| {
                    s.query_row(params![link.tenant, link.flow, link.kind, link.id], |r| {
                        get_u64(r, 0)
                    })
                    .optional()
                })
                .map_err(backend)?;
            match stored {
                None => return Err(StoreError::NotFound(what)),
                Some(v) if v != link.version => return Err(StoreError::Conflict(what)),
                Some(_) => {}
            }
            tx.prepare_cached(
                "DELETE FROM links WHERE tenant = ?1 AND flow = ?2 AND kind = ?3 AND id = ?4",
            )
            .and_then(|mut s| s.execute(params![link.tenant, link.flow, link.kind, link.id]))
            .map_err(backend)?;
            unindex_link(tx, link)
        })
    }
}

#[async_trait]
impl CheckpointStore for SqliteStore {
    async fn checkpoint(&self, tenant: &str, scope: &str) -> StoreResult<Option<String>> {
        self.stats.read();
        let conn = self.lock();
        conn.prepare_cached("SELECT value FROM checkpoints WHERE tenant = ?1 AND scope = ?2")
            .and_then(|mut s| s.query_row(params![tenant, scope], |r| r.get(0)).optional())
            .map_err(backend)
    }

    async fn put_checkpoint(&self, tenant: &str, scope: &str, value: &str) -> StoreResult<()> {
        self.stats.write();
        let conn = self.lock();
        conn.prepare_cached(
            "INSERT INTO checkpoints (tenant, scope, value, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (tenant, scope) DO UPDATE SET
                 value = excluded.value, updated_at = excluded.updated_at",
        )
        .and_then(|mut s| s.execute(params![tenant, scope, value, ts(Utc::now())]))
        .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl LeaseStore for SqliteStore {
    async fn take_lease(
        &self,
        tenant: &str,
        name: &str,
        owner: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.stats.write();
        let now = Utc::now();
        let conn = self.lock();
        // Who held it before, read under the same connection lock as the upsert (this
        // process is the database's only writer).
        let before: Option<String> = conn
            .prepare_cached("SELECT owner FROM leases WHERE tenant = ?1 AND name = ?2")
            .and_then(|mut s| s.query_row(params![tenant, name], |r| r.get(0)).optional())
            .map_err(backend)?;
        // One conditional upsert: insert if absent, take over if expired or ours.
        let changed = conn
            .prepare_cached(
                "INSERT INTO leases (tenant, name, owner, expires_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (tenant, name) DO UPDATE SET
                     owner = excluded.owner, expires_at = excluded.expires_at
                 WHERE leases.owner = excluded.owner OR leases.expires_at <= ?5",
            )
            .and_then(|mut s| {
                s.execute(params![
                    tenant,
                    name,
                    owner,
                    ts(deadline(now, ttl)),
                    ts(now)
                ])
            })
            .map_err(backend)?;
        Ok(match (changed == 1, before) {
            (false, _) => LeaseGrant::Busy,
            (true, None) => LeaseGrant::Free,
            (true, Some(o)) if o == owner => LeaseGrant::Renewed,
            (true, Some(_)) => LeaseGrant::TakenOver,
        })
    }

    async fn release_lease(&self, tenant: &str, name: &str, owner: &str) -> StoreResult<()> {
        self.stats.write();
        let conn = self.lock();
        conn.prepare_cached("DELETE FROM leases WHERE tenant = ?1 AND name = ?2 AND owner = ?3")
            .and_then(|mut s| s.execute(params![tenant, name, owner]))
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl DedupStore for SqliteStore {
    async fn first_seen(&self, tenant: &str, event_id: &str, ttl: Duration) -> StoreResult<bool> {
        self.stats.write();
        let at = Utc::now();
        let now = ts(at);
        let until = ts(deadline(at, ttl));
        self.write_tx(|tx| {
            // Forget expired ids as we go; the expiry index makes this cheap.
            tx.prepare_cached("DELETE FROM processed_events WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([&now]))
                .map_err(backend)?;
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO processed_events (tenant, event_id, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (tenant, event_id) DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![tenant, event_id, until]))
                .map_err(backend)?;
            Ok(inserted == 1)
        })
    }
}

const ENTRY_COLUMNS: &str = "seq, tenant, at, run_id, flow, kind, action, system, external_id, \
                             target_system, target_id, link_id, fields, reason, expires_at, \
                             key, detail";

/// The optional parts of an entry that are never filtered on, stored as one JSON column.
#[derive(Default, serde::Serialize, serde::Deserialize)]
struct Detail {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    values: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    matched_by: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    rules: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request: Option<FailedRequest>,
}

impl Detail {
    fn of(e: &ActivityEntry) -> Option<Detail> {
        let d = Detail {
            values: e.values.clone(),
            matched_by: e.matched_by.clone(),
            rules: e.rules.clone(),
            request: e.request.clone(),
        };
        let empty = d.values.is_empty()
            && d.matched_by.is_none()
            && d.rules.is_empty()
            && d.request.is_none();
        (!empty).then_some(d)
    }
}

fn entry_from_row(r: &Row<'_>) -> rusqlite::Result<ActivityEntry> {
    let action: String = r.get(6)?;
    let fields: String = r.get(12)?;
    let detail: Detail = match r.get::<_, Option<String>>(16)? {
        Some(j) => serde_json::from_str(&j).map_err(json_err)?,
        None => Detail::default(),
    };
    Ok(ActivityEntry {
        seq: get_u64(r, 0)?,
        tenant: r.get(1)?,
        at: parse_ts(&r.get::<_, String>(2)?)?,
        run_id: r.get(3)?,
        flow: r.get(4)?,
        kind: r.get(5)?,
        action: action.parse::<Action>().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(e))
        })?,
        system: r.get(7)?,
        external_id: r.get(8)?,
        target_system: r.get(9)?,
        target_id: r.get(10)?,
        link_id: r.get(11)?,
        fields: serde_json::from_str(&fields).map_err(json_err)?,
        reason: r.get(13)?,
        expires_at: parse_ts(&r.get::<_, String>(14)?)?,
        key: r.get(15)?,
        values: detail.values,
        matched_by: detail.matched_by,
        rules: detail.rules,
        request: detail.request,
    })
}

fn run_from_row(r: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let json = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(RunRecord {
        tenant: r.get(0)?,
        run_id: r.get(1)?,
        flow: r.get(2)?,
        mode: r.get(3)?,
        started_at: parse_ts(&r.get::<_, String>(4)?)?,
        duration_ms: get_u64(r, 5)?,
        counts: serde_json::from_str(&json(6)?).map_err(json_err)?,
        calls: serde_json::from_str(&json(7)?).map_err(json_err)?,
        errors: serde_json::from_str(&json(8)?).map_err(json_err)?,
        expires_at: parse_ts(&r.get::<_, String>(9)?)?,
    })
}

#[async_trait]
impl ActivityLog for SqliteStore {
    async fn append(&self, entries: &[ActivityEntry]) -> StoreResult<()> {
        self.stats.batch_write();
        if entries.is_empty() {
            return Ok(());
        }
        self.write_tx(|tx| {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO activity (tenant, at, run_id, flow, kind, action, system, external_id,
                         target_system, target_id, link_id, fields, reason, expires_at, key, detail)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                )
                .map_err(backend)?;
            for e in entries {
                insert
                    .execute(params![
                        e.tenant,
                        ts(e.at),
                        e.run_id,
                        e.flow,
                        e.kind,
                        e.action.as_str(),
                        e.system,
                        e.external_id,
                        e.target_system,
                        e.target_id,
                        e.link_id,
                        to_json(&e.fields)?,
                        e.reason,
                        ts(e.expires_at),
                        e.key,
                        Detail::of(e).map(|d| to_json(&d)).transpose()?,
                    ])
                    .map_err(backend)?;
            }
            Ok(())
        })
    }

    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>> {
        self.stats.read();
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut sql =
            format!("SELECT {ENTRY_COLUMNS} FROM activity WHERE tenant = ?1 AND expires_at > ?2");
        let mut args: Vec<Value> = vec![q.tenant.clone().into(), ts(Utc::now()).into()];
        let mut filter = |column: &str, value: Value| {
            args.push(value);
            sql.push_str(&format!(" AND {column} = ?{}", args.len()));
        };
        if let Some(v) = &q.system {
            filter("system", v.clone().into());
        }
        if let Some(v) = &q.external_id {
            filter("external_id", v.clone().into());
        }
        if let Some(v) = &q.link_id {
            filter("link_id", v.clone().into());
        }
        if let Some(v) = &q.run_id {
            filter("run_id", v.clone().into());
        }
        if let Some(a) = q.action {
            filter("action", a.as_str().to_string().into());
        }
        if let Some(v) = &q.flow {
            filter("flow", v.clone().into());
        }
        if let Some(v) = &q.kind {
            filter("kind", v.clone().into());
        }
        if let Some(v) = &q.key {
            filter("key", v.clone().into());
        }
        if let Some(t) = q.since {
            args.push(ts(t).into());
            sql.push_str(&format!(" AND at >= ?{}", args.len()));
        }
        if let Some(t) = q.until {
            args.push(ts(t).into());
            sql.push_str(&format!(" AND at < ?{}", args.len()));
        }
        if let Some(r) = &q.record {
            // Either side, each arm from its own index (by record, by target): a plain `OR`
            // makes SQLite walk the whole tenant in seq order instead.
            args.push(r.system.clone().into());
            let sys = args.len();
            args.push(r.id.clone().into());
            let id = args.len();
            sql.push_str(&format!(
                " AND seq IN (SELECT seq FROM activity WHERE tenant = ?1 AND system = ?{sys} \
                 AND external_id = ?{id} UNION ALL SELECT seq FROM activity WHERE tenant = ?1 \
                 AND target_system = ?{sys} AND target_id = ?{id})"
            ));
        }
        if let Some(before) = q.before_seq {
            args.push(Value::Integer(sql_int(before)));
            sql.push_str(&format!(" AND seq < ?{}", args.len()));
        }
        args.push(Value::Integer(sql_int(q.limit as u64)));
        sql.push_str(&format!(" ORDER BY seq DESC LIMIT ?{}", args.len()));
        let conn = self.lock();
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(args), entry_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)
    }

    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.stats.write();
        let now = ts(now);
        self.write_tx(|tx| {
            let n = tx
                .prepare_cached("DELETE FROM activity WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([&now]))
                .map_err(backend)?;
            tx.prepare_cached("DELETE FROM runs WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([&now]))
                .map_err(backend)?;
            Ok(n as u64)
        })
    }

    async fn put_run(&self, run: &RunRecord) -> StoreResult<()> {
        self.stats.write();
        let conn = self.lock();
        conn.prepare_cached(
            "INSERT INTO runs (tenant, run_id, flow, mode, started_at, duration_ms, counts, calls,
                 errors, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (tenant, run_id) DO UPDATE SET
                 flow = excluded.flow, mode = excluded.mode, started_at = excluded.started_at,
                 duration_ms = excluded.duration_ms, counts = excluded.counts,
                 calls = excluded.calls, errors = excluded.errors, expires_at = excluded.expires_at",
        )
        .and_then(|mut s| {
            s.execute(params![
                run.tenant,
                run.run_id,
                run.flow,
                run.mode,
                ts(run.started_at),
                sql_int(run.duration_ms),
                serde_json::to_string(&run.counts).unwrap_or_default(),
                serde_json::to_string(&run.calls).unwrap_or_default(),
                serde_json::to_string(&run.errors).unwrap_or_default(),
                ts(run.expires_at),
            ])
        })
        .map_err(backend)?;
        Ok(())
    }

    async fn runs(&self, q: &RunQuery) -> StoreResult<Vec<RunRecord>> {
        self.stats.read();
        if q.limit == 0 {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT tenant, run_id, flow, mode, started_at, duration_ms, counts, calls, errors,
                    expires_at
             FROM runs WHERE tenant = ?1 AND expires_at > ?2",
        );
        let mut args: Vec<Value> = vec![q.tenant.clone().into(), ts(Utc::now()).into()];
        if let Some(f) = &q.flow {
            args.push(f.clone().into());
            sql.push_str(&format!(" AND flow = ?{}", args.len()));
        }
        if let Some(b) = q.before {
            args.push(ts(b).into());
            sql.push_str(&format!(" AND started_at < ?{}", args.len()));
        }
        args.push(Value::Integer(sql_int(q.limit as u64)));
        sql.push_str(&format!(
            " ORDER BY started_at DESC, run_id DESC LIMIT ?{}",
            args.len()
        ));
        let conn = self.lock();
        conn.prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params_from_iter(args), run_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(backend)
    }
}

#[async_trait]
impl Queue for SqliteStore {
    async fn send(&self, group: &str, dedup_id: &str, body: &str) -> StoreResult<bool> {
        self.stats.write();
        let now = Utc::now();
        let now_s = ts(now);
        self.write_tx(|tx| {
            tx.prepare_cached("DELETE FROM queue_dedup WHERE expires_at <= ?1")
                .and_then(|mut s| s.execute([&now_s]))
                .map_err(backend)?;
            let fresh = tx
                .prepare_cached(
                    "INSERT INTO queue_dedup (dedup_id, expires_at) VALUES (?1, ?2)
                     ON CONFLICT (dedup_id) DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![dedup_id, ts(deadline(now, DEDUP_WINDOW))]))
                .map_err(backend)?;
            if fresh == 0 {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO queue (id, grp, body, visible_at, enqueued_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            )
            .and_then(|mut s| s.execute(params![token("m"), group, body, now_s]))
            .map_err(backend)?;
            Ok(true)
        })
    }

    async fn receive(&self, max: usize, visibility: Duration) -> StoreResult<Vec<QueueMessage>> {
        self.stats.write();
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = Utc::now();
        let now_s = ts(now);
        let invisible_until = ts(deadline(now, visibility));
        let max_receives = self.max_receives;
        self.write_tx(|tx| {
            let mut out = Vec::new();
            // Heads of groups (no older message in the group) that are visible. Dead-
            // lettering a head exposes the next message of its group: look again until
            // a round moves nothing.
            let mut heads = tx
                .prepare_cached(
                    "SELECT seq, id, grp, body, receive_count, enqueued_at FROM queue q
                     WHERE visible_at <= ?1
                       AND NOT EXISTS (SELECT 1 FROM queue p WHERE p.grp = q.grp AND p.seq < q.seq)
                     ORDER BY seq LIMIT ?2",
                )
                .map_err(backend)?;
            while out.len() < max {
                let rows = heads
                    .query_map(params![now_s, (max - out.len()) as i64], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, u32>(4)?,
                            r.get::<_, String>(5)?,
                        ))
                    })
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .map_err(backend)?;
                let mut moved = false;
                for (seq, id, group, body, count, enqueued_at) in rows {
                    if count >= max_receives {
                        tx.prepare_cached(
                            "INSERT INTO dead_letters (id, grp, body, receive_count, failed_at, last_error)
                             SELECT id, grp, body, receive_count, ?2, last_error
                             FROM queue WHERE seq = ?1",
                        )
                        .and_then(|mut s| s.execute(params![seq, now_s]))
                        .map_err(backend)?;
                        tx.prepare_cached("DELETE FROM queue WHERE seq = ?1")
                            .and_then(|mut s| s.execute([seq]))
                            .map_err(backend)?;
                        moved = true;
                        continue;
                    }
                    let receipt = token("r");
                    tx.prepare_cached(
                        "UPDATE queue SET receive_count = receive_count + 1, receipt = ?2, visible_at = ?3
                         WHERE seq = ?1",
                    )
                    .and_then(|mut s| s.execute(params![seq, receipt, invisible_until]))
                    .map_err(backend)?;
                    out.push(QueueMessage {
                        id,
                        group,
                        body,
                        receive_count: count + 1,
                        receipt,
                        enqueued_at: parse_ts(&enqueued_at).map_err(backend)?,
                    });
                }
                if !moved {
                    break;
                }
            }
            Ok(out)
        })
    }

    async fn ack(&self, receipt: &str) -> StoreResult<()> {
        self.stats.write();
        let conn = self.lock();
        let n = conn
            .prepare_cached("DELETE FROM queue WHERE receipt = ?1")
            .and_then(|mut s| s.execute([receipt]))
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("receipt {receipt}")));
        }
        Ok(())
    }

    async fn retry_later(&self, receipt: &str, delay: Duration, error: &str) -> StoreResult<()> {
        self.stats.write();
        let visible_at = ts(deadline(Utc::now(), delay));
        let conn = self.lock();
        let n = conn
            .prepare_cached(
                "UPDATE queue SET receipt = NULL, visible_at = ?2, last_error = ?3 WHERE receipt = ?1",
            )
            .and_then(|mut s| s.execute(params![receipt, visible_at, error]))
            .map_err(backend)?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("receipt {receipt}")));
        }
        Ok(())
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<DeadLetter>> {
        self.stats.read();
        let conn = self.lock();
        conn.prepare_cached(
            "SELECT id, grp, body, receive_count, failed_at, last_error FROM dead_letters
             ORDER BY seq LIMIT ?1",
        )
        .and_then(|mut s| {
            s.query_map([sql_int(limit as u64)], |r| {
                Ok(DeadLetter {
                    id: r.get(0)?,
                    group: r.get(1)?,
                    body: r.get(2)?,
                    receive_count: r.get(3)?,
                    failed_at: parse_ts(&r.get::<_, String>(4)?)?,
                    last_error: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()
        })
        .map_err(backend)
    }

    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()> {
        self.stats.write();
        let now = ts(Utc::now());
        self.write_tx(|tx| {
            let n = tx
                .prepare_cached(
                    "INSERT INTO queue (id, grp, body, visible_at, enqueued_at)
                     SELECT id, grp, body, ?2, ?2 FROM dead_letters WHERE id = ?1",
                )
                .and_then(|mut s| s.execute(params![id, now]))
                .map_err(backend)?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("dead letter {id}")));
            }
            tx.prepare_cached("DELETE FROM dead_letters WHERE id = ?1")
                .and_then(|mut s| s.execute([id]))
                .map_err(backend)?;
            Ok(())
        })
    }

    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        self.stats.read();
        let conn = self.lock();
        conn.query_row(
            "SELECT (SELECT COUNT(*) FROM queue), (SELECT COUNT(*) FROM dead_letters)",
            [],
            |r| Ok((get_u64(r, 0)?, get_u64(r, 1)?)),
        )
        .map_err(backend)
    }
}
