//! The behaviour every [`Store`] adapter must show, as plain async functions.
//!
//! Run them all with [`store_conformance_tests!`](crate::store_conformance_tests), which
//! expands to one `#[tokio::test]` per function. Each function gets a fresh, empty store
//! built with the default `max_receives` (5) and the [`Timing`] to use. Functions that
//! test expiry sleep for a few hundred milliseconds with [`Timing::LOCAL`] (a few seconds
//! with [`Timing::WHOLE_SECONDS`]), so they suit any backend whose clock is the wall clock.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::model::{
    Action, ActivityEntry, FailedRequest, Link, LogQuery, RecordRef, RunCounts, RunQuery,
    RunRecord, Scope, StoreError,
};
use crate::ports::Store;

const T: &str = "acme";
/// The flow every link of the suite belongs to, unless a test says otherwise.
const F: &str = "clientify-alegra";

/// How long the suite waits on time-based behaviour, so that a backend with coarse clocks
/// or lazy background work (SQS: visibility timeouts in whole seconds, moves to the
/// dead-letter queue done on a later receive) runs the same checks, only slower.
///
/// [`Timing::LOCAL`] (the default) suits backends that keep time to the millisecond and
/// apply every effect within the call (memory, SQLite); [`Timing::WHOLE_SECONDS`] suits SQS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// The ttl or visibility of things a test expects to expire; generous enough that a
    /// loaded CI machine does not see them expire before the next call.
    pub short: Duration,
    /// A sleep that is surely past `short`.
    pub past_short: Duration,
    /// The visibility of messages a test abandons at once, to see them come back.
    pub blip: Duration,
    /// A sleep that is surely past `blip`.
    pub past_blip: Duration,
    /// How long an effect the backend applies in the background may take to show (a
    /// message moving to the dead letters, an approximate queue depth). Checks of such
    /// effects are retried until they hold or this has passed; zero means the effect must
    /// show at once, and each such check is made exactly once.
    pub settle: Duration,
}

impl Timing {
    /// Millisecond clocks, every effect applied within the call (memory, SQLite).
    pub const LOCAL: Timing = Timing {
        short: Duration::from_millis(300),
        past_short: Duration::from_millis(450),
        blip: Duration::from_millis(1),
        past_blip: Duration::from_millis(10),
        settle: Duration::ZERO,
    };

    /// Timeouts in whole seconds and dead-letter moves made lazily (SQS).
    pub const WHOLE_SECONDS: Timing = Timing {
        short: Duration::from_secs(1),
        past_short: Duration::from_millis(1500),
        blip: Duration::from_secs(1),
        past_blip: Duration::from_millis(1300),
        settle: Duration::from_secs(10),
    };
}

impl Default for Timing {
    fn default() -> Self {
        Timing::LOCAL
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

async fn sleep(d: Duration) {
    tokio::time::sleep(d).await;
}

/// Runs `check` until `done` accepts its result or `t.settle` has passed, and returns the
/// last result for the caller to assert on. With a zero `settle` it runs exactly once.
async fn settled<R, F, Fut>(t: &Timing, mut check: F, done: impl Fn(&R) -> bool) -> R
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = R>,
{
    let deadline = tokio::time::Instant::now() + t.settle;
    loop {
        let r = check().await;
        if done(&r) || tokio::time::Instant::now() >= deadline {
            return r;
        }
        sleep(ms(100).min(t.settle)).await;
    }
}

/// The queue depth equals `want`, once background effects have settled.
async fn assert_depth<S: Store + ?Sized>(s: &S, t: &Timing, want: (u64, u64)) {
    let got = settled(t, || s.queue_depth(), |r| r.as_ref() == Ok(&want)).await;
    assert_eq!(got.unwrap(), want, "queue depth (messages, dead letters)");
}

/// A link with the given external ids (`"alegra:774"` style) and key. Its timestamp has
/// nanosecond precision: stores must round-trip it exactly.
fn link(id: &str, ids: &[&str], key: Option<&str>) -> Link {
    let mut l = Link::new(T, F, "contact", id);
    l.ids = ids
        .iter()
        .map(|p| {
            let (s, e) = p.split_once(':').expect("system:id");
            (s.to_string(), e.to_string())
        })
        .collect();
    l.key = key.map(str::to_string);
    l.field_hashes = BTreeMap::from([
        ("name".to_string(), "h-name".to_string()),
        ("email".to_string(), "h-email".to_string()),
    ]);
    l.record_hashes = BTreeMap::from([("alegra".to_string(), "r1".to_string())]);
    l
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, StoreError>) -> StoreError {
    match r {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => e,
    }
}

fn assert_duplicate(e: StoreError, naming: &str) {
    match e {
        StoreError::Duplicate(what) => {
            assert!(
                what.contains(naming),
                "Duplicate({what:?}) should name {naming:?}"
            )
        }
        other => panic!("expected Duplicate naming {naming:?}, got {other:?}"),
    }
}

fn assert_conflict(e: StoreError) {
    assert!(
        matches!(e, StoreError::Conflict(_)),
        "expected Conflict, got {e:?}"
    );
}

fn assert_not_found(e: StoreError) {
    assert!(
        matches!(e, StoreError::NotFound(_)),
        "expected NotFound, got {e:?}"
    );
}

fn entry(
    tenant: &str,
    system: &str,
    external_id: &str,
    action: Action,
    expires_at: DateTime<Utc>,
) -> ActivityEntry {
    ActivityEntry {
        seq: 0,
        tenant: tenant.to_string(),
        at: Utc::now(),
        run_id: None,
        flow: "clientify-alegra".to_string(),
        kind: "contact".to_string(),
        action,
        system: system.to_string(),
        external_id: Some(external_id.to_string()),
        target_system: Some("alegra".to_string()),
        target_id: Some(format!("a-{external_id}")),
        link_id: None,
        fields: vec!["name".to_string(), "email".to_string()],
        reason: None,
        expires_at,
        ..ActivityEntry::default()
    }
}

fn in_a_day() -> DateTime<Utc> {
    Utc::now() + TimeDelta::days(1)
}

// ---------------------------------------------------------------- links

/// A saved link comes back identical (version 1) by id, by each external id, by key and
/// in the kind's listing, and is invisible to other tenants and kinds.
pub async fn links_roundtrip<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let l = link(
        "alegra:774",
        &["alegra:774", "clientify:12"],
        Some("B12345674"),
    );
    let saved = s.save_link(&l).await.unwrap();
    assert_eq!(saved.version, 1);
    assert_eq!(
        Link {
            version: 1,
            ..l.clone()
        },
        saved
    );

    for (system, id) in [("alegra", "774"), ("clientify", "12")] {
        let found = s
            .link_by_external(Scope::new(T, F, "contact"), system, id)
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(&saved), "by {system}:{id}");
    }
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B12345674")
            .await
            .unwrap(),
        Some(saved.clone())
    );
    assert_eq!(
        s.links(Scope::new(T, F, "contact")).await.unwrap(),
        vec![saved.clone()]
    );

    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "775")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "odoo", "774")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_external(Scope::new("other", F, "contact"), "alegra", "774")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "company"), "alegra", "774")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_key(Scope::new("other", F, "contact"), "B12345674")
            .await
            .unwrap(),
        None
    );
    assert!(s
        .links(Scope::new("other", F, "contact"))
        .await
        .unwrap()
        .is_empty());
    assert!(s
        .links(Scope::new(T, F, "company"))
        .await
        .unwrap()
        .is_empty());
}

/// `links` returns every link of the (tenant, kind), ordered by id, and nothing else.
pub async fn links_list_by_tenant_and_kind<S: Store + ?Sized>(s: &S, _t: &Timing) {
    for id in ["c", "a", "b"] {
        s.save_link(&link(id, &[&format!("alegra:{id}")], None))
            .await
            .unwrap();
    }
    let mut other_kind = link("z", &["alegra:z"], None);
    other_kind.kind = "company".to_string();
    s.save_link(&other_kind).await.unwrap();
    let mut other_tenant = link("y", &["alegra:y"], None);
    other_tenant.tenant = "globex".to_string();
    s.save_link(&other_tenant).await.unwrap();

    let ids: Vec<String> = s
        .links(Scope::new(T, F, "contact"))
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.id)
        .collect();
    assert_eq!(ids, ["a", "b", "c"]);
    assert_eq!(s.links(Scope::new(T, F, "company")).await.unwrap().len(), 1);
    assert_eq!(
        s.links(Scope::new("globex", F, "contact"))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Writes carry the version they read: a stale or invented version is a Conflict and
/// changes nothing; the right version bumps it.
pub async fn link_version_conflict<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let l = link("alegra:1", &["alegra:1"], None);
    let v1 = s.save_link(&l).await.unwrap();

    // Creating it again (version 0) conflicts.
    assert_conflict(expect_err(s.save_link(&l).await));
    // A version that was never stored conflicts.
    assert_conflict(expect_err(
        s.save_link(&Link {
            version: 7,
            ..v1.clone()
        })
        .await,
    ));
    // A new link must start at version 0.
    assert_conflict(expect_err(
        s.save_link(&Link {
            version: 1,
            ..link("alegra:2", &["alegra:2"], None)
        })
        .await,
    ));
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "2")
            .await
            .unwrap(),
        None
    );

    let mut edit = v1.clone();
    edit.field_hashes.insert("phone".into(), "h-phone".into());
    let v2 = s.save_link(&edit).await.unwrap();
    assert_eq!(v2.version, 2);

    // A writer that read v1 lost the race.
    let mut late = v1.clone();
    late.field_hashes.insert("name".into(), "other".into());
    assert_conflict(expect_err(s.save_link(&late).await));
    let stored = s
        .link_by_external(Scope::new(T, F, "contact"), "alegra", "1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored, v2);
}

/// An external id belongs to one link per (tenant, kind); the error names the pair.
pub async fn link_duplicate_external_id<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let first = s
        .save_link(&link("L1", &["alegra:774", "clientify:12"], None))
        .await
        .unwrap();
    let e = expect_err(
        s.save_link(&link("L2", &["clientify:99", "alegra:774"], None))
            .await,
    );
    assert_duplicate(e, "alegra:774");
    // Nothing of the rejected link was stored.
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "clientify", "99")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.links(Scope::new(T, F, "contact")).await.unwrap(),
        vec![first.clone()]
    );

    // The same external id in another kind or tenant is a different record.
    let mut company = link("L3", &["alegra:774"], None);
    company.kind = "company".into();
    s.save_link(&company).await.unwrap();
    let mut other = link("L1", &["alegra:774"], None);
    other.tenant = "globex".into();
    s.save_link(&other).await.unwrap();

    // Updating a link with its own ids is not a duplicate.
    s.save_link(&first).await.unwrap();
}

/// Dropping or changing an external id frees it for another link, and the old id no
/// longer finds the link.
pub async fn link_ids_follow_updates<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let v1 = s
        .save_link(&link("L1", &["alegra:1", "clientify:1"], None))
        .await
        .unwrap();
    let mut edit = v1.clone();
    edit.ids.insert("clientify".into(), "2".into());
    edit.ids.remove("alegra");
    let v2 = s.save_link(&edit).await.unwrap();

    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "clientify", "1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "clientify", "2")
            .await
            .unwrap(),
        Some(v2)
    );
    let other = s
        .save_link(&link("L2", &["alegra:1", "clientify:1"], None))
        .await
        .unwrap();
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "1")
            .await
            .unwrap(),
        Some(other)
    );
}

/// Natural keys are unique per (tenant, kind), follow updates and can be removed.
pub async fn link_by_key<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let v1 = s
        .save_link(&link("L1", &["alegra:1"], Some("B1")))
        .await
        .unwrap();
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B1")
            .await
            .unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B2")
            .await
            .unwrap(),
        None
    );

    assert_duplicate(
        expect_err(s.save_link(&link("L2", &["alegra:2"], Some("B1"))).await),
        "B1",
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "2")
            .await
            .unwrap(),
        None
    );

    // Links without a key do not collide with each other.
    s.save_link(&link("L3", &["alegra:3"], None)).await.unwrap();
    s.save_link(&link("L4", &["alegra:4"], None)).await.unwrap();

    let v2 = s
        .save_link(&Link {
            key: Some("B9".into()),
            ..v1
        })
        .await
        .unwrap();
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B1")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B9")
            .await
            .unwrap(),
        Some(v2.clone())
    );
    // B1 is free again.
    s.save_link(&link("L2", &["alegra:2"], Some("B1")))
        .await
        .unwrap();

    let v3 = s.save_link(&Link { key: None, ..v2 }).await.unwrap();
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "B9")
            .await
            .unwrap(),
        None
    );
    assert_eq!(v3.key, None);
}

/// Issue 12: links are scoped by flow. Two flows (Clientify ⇄ Alegra, Clientify ⇄ Odoo)
/// each link the same Clientify record under the same key without clashing; each lookup
/// and listing sees its own flow's links only.
pub async fn links_are_scoped_by_flow<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let a = s
        .save_link(&link(
            "clientify:12",
            &["clientify:12", "alegra:774"],
            Some("B1"),
        ))
        .await
        .unwrap();
    let mut odoo = link("clientify:12", &["clientify:12", "odoo:9"], Some("B1"));
    odoo.flow = "clientify-odoo".into();
    let o = s.save_link(&odoo).await.unwrap();
    assert_eq!(o.version, 1, "a new link in its own scope");
    let fa = Scope::new(T, F, "contact");
    let fo = Scope::new(T, "clientify-odoo", "contact");
    assert_eq!(
        s.link_by_external(fa, "clientify", "12").await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(
        s.link_by_external(fo, "clientify", "12").await.unwrap(),
        Some(o.clone())
    );
    assert_eq!(s.link_by_external(fa, "odoo", "9").await.unwrap(), None);
    assert_eq!(s.link_by_external(fo, "alegra", "774").await.unwrap(), None);
    assert_eq!(s.link_by_key(fa, "B1").await.unwrap(), Some(a.clone()));
    assert_eq!(s.link_by_key(fo, "B1").await.unwrap(), Some(o.clone()));
    assert_eq!(s.links(fa).await.unwrap(), vec![a.clone()]);
    assert_eq!(s.links(fo).await.unwrap(), vec![o.clone()]);
    // Updating one flow's link leaves the other's alone.
    let mut edit = a.clone();
    edit.ids.remove("alegra");
    edit.key = None;
    s.save_link(&edit).await.unwrap();
    assert_eq!(s.link_by_key(fo, "B1").await.unwrap(), Some(o.clone()));
    assert_eq!(
        s.link_by_external(fo, "clientify", "12").await.unwrap(),
        Some(o)
    );
    // Within one flow the rules are as before.
    let mut dup = link("L9", &["odoo:10"], Some("B1"));
    dup.flow = "clientify-odoo".into();
    assert_duplicate(expect_err(s.save_link(&dup).await), "B1");
}

/// A link can hold several natural keys (a customer's email and phone): each finds it,
/// each is unique in the scope, and keys it drops are freed.
pub async fn link_more_keys<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let mut l = link("L1", &["shop:1"], Some("ana@example.nl"));
    l.more_keys = vec!["31612345678".into()];
    let v1 = s.save_link(&l).await.unwrap();
    let sc = Scope::new(T, F, "contact");
    assert_eq!(
        s.link_by_key(sc, "31612345678").await.unwrap(),
        Some(v1.clone())
    );
    assert_eq!(
        s.link_by_key(sc, "ana@example.nl").await.unwrap(),
        Some(v1.clone())
    );
    // Another link may not take either key, as first or as further key.
    let mut other = link("L2", &["shop:2"], Some("31612345678"));
    assert_duplicate(expect_err(s.save_link(&other).await), "31612345678");
    other.key = Some("bo@example.nl".into());
    other.more_keys = vec!["ana@example.nl".into()];
    assert_duplicate(expect_err(s.save_link(&other).await), "ana@example.nl");
    assert_eq!(s.link_by_key(sc, "bo@example.nl").await.unwrap(), None);
    // Dropping a key frees it.
    let v2 = s
        .save_link(&Link {
            more_keys: vec!["31600000000".into()],
            ..v1
        })
        .await
        .unwrap();
    assert_eq!(s.link_by_key(sc, "31612345678").await.unwrap(), None);
    assert_eq!(s.link_by_key(sc, "31600000000").await.unwrap(), Some(v2));
    other.more_keys = vec!["31612345678".into()];
    s.save_link(&other).await.unwrap();
}

/// `delete_link` is guarded by the version and frees the link's ids and keys.
pub async fn delete_link_frees_ids_and_keys<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let v1 = s
        .save_link(&link("L1", &["alegra:1", "clientify:1"], Some("B1")))
        .await
        .unwrap();
    let sc = Scope::new(T, F, "contact");
    assert_conflict(expect_err(
        s.delete_link(&Link {
            version: 7,
            ..v1.clone()
        })
        .await,
    ));
    assert!(s.link_by_key(sc, "B1").await.unwrap().is_some());
    s.delete_link(&v1).await.unwrap();
    assert_eq!(s.link_by_key(sc, "B1").await.unwrap(), None);
    assert_eq!(s.link_by_external(sc, "alegra", "1").await.unwrap(), None);
    assert!(s.links(sc).await.unwrap().is_empty());
    match s.delete_link(&v1).await {
        Err(StoreError::NotFound(_)) => {}
        other => panic!("deleting twice: expected NotFound, got {other:?}"),
    }
    // Everything it held is free again.
    let again = s
        .save_link(&link("L2", &["alegra:1", "clientify:1"], Some("B1")))
        .await
        .unwrap();
    assert_eq!(again.version, 1);
}

/// A batch is stored whole or not at all, whether it fails on a version, an external id
/// already taken, or a clash between two links of the batch itself.
pub async fn save_links_batch_all_or_nothing<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let existing = s
        .save_link(&link("E", &["alegra:e"], Some("KE")))
        .await
        .unwrap();

    // Third link has a stale version.
    let batch = vec![
        link("A", &["alegra:a"], None),
        link("B", &["alegra:b"], None),
        Link {
            version: 5,
            ..existing.clone()
        },
    ];
    assert_conflict(expect_err(s.save_links(&batch).await));
    assert_eq!(
        s.links(Scope::new(T, F, "contact")).await.unwrap(),
        vec![existing.clone()]
    );

    // The second link takes an external id the first one (an update) still holds.
    let mut upd = existing.clone();
    upd.field_hashes.insert("x".into(), "y".into());
    let batch = vec![upd.clone(), link("B", &["alegra:e"], None)];
    assert_duplicate(expect_err(s.save_links(&batch).await), "alegra:e");
    assert_eq!(
        s.links(Scope::new(T, F, "contact")).await.unwrap(),
        vec![existing.clone()]
    );

    // Two new links of the batch claim the same key.
    let batch = vec![
        link("A", &["alegra:a"], Some("K")),
        link("B", &["alegra:b"], Some("K")),
    ];
    assert_duplicate(expect_err(s.save_links(&batch).await), "K");
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "a")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "K")
            .await
            .unwrap(),
        None
    );

    // A good batch: one update, two creations.
    let batch = vec![
        upd,
        link("A", &["alegra:a"], Some("K")),
        link("B", &["alegra:b"], None),
    ];
    let saved = s.save_links(&batch).await.unwrap();
    assert_eq!(
        saved.iter().map(|l| l.version).collect::<Vec<_>>(),
        [2, 1, 1]
    );
    assert_eq!(s.links(Scope::new(T, F, "contact")).await.unwrap().len(), 3);
    assert_eq!(
        s.link_by_key(Scope::new(T, F, "contact"), "K")
            .await
            .unwrap(),
        Some(saved[1].clone())
    );
    assert_eq!(
        s.link_by_external(Scope::new(T, F, "contact"), "alegra", "e")
            .await
            .unwrap(),
        Some(saved[0].clone())
    );

    // Applied in order: the same link twice, the second at the first's new version.
    let again = vec![
        saved[2].clone(),
        Link {
            version: 2,
            ..saved[2].clone()
        },
    ];
    let twice = s.save_links(&again).await.unwrap();
    assert_eq!(twice[1].version, 3);

    assert!(s.save_links(&[]).await.unwrap().is_empty());
}

// ---------------------------------------------------------------- checkpoints

/// Checkpoints are absent until put, then return the last value put, per tenant and scope.
pub async fn checkpoint_roundtrip<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let scope = "clientify-alegra/clientify/contact";
    assert_eq!(s.checkpoint(T, scope).await.unwrap(), None);
    s.put_checkpoint(T, scope, r#"{"since":"2025-01-01T00:00:00Z"}"#)
        .await
        .unwrap();
    assert_eq!(
        s.checkpoint(T, scope).await.unwrap().as_deref(),
        Some(r#"{"since":"2025-01-01T00:00:00Z"}"#)
    );
    s.put_checkpoint(T, scope, r#"{"page":"p2"}"#)
        .await
        .unwrap();
    assert_eq!(
        s.checkpoint(T, scope).await.unwrap().as_deref(),
        Some(r#"{"page":"p2"}"#)
    );
    assert_eq!(s.checkpoint("other", scope).await.unwrap(), None);
    assert_eq!(
        s.checkpoint(T, "clientify-alegra/alegra/contact")
            .await
            .unwrap(),
        None
    );
}

// ---------------------------------------------------------------- leases

/// Only one owner holds a lease; it frees itself when its ttl runs out.
pub async fn lease_exclusive_and_expiry<S: Store + ?Sized>(s: &S, t: &Timing) {
    assert!(s.acquire_lease(T, "flow-1", "a", t.short).await.unwrap());
    assert!(!s.acquire_lease(T, "flow-1", "b", t.short).await.unwrap());
    // Other names and tenants are independent.
    assert!(s.acquire_lease(T, "flow-2", "b", t.short).await.unwrap());
    assert!(s
        .acquire_lease("other", "flow-1", "b", t.short)
        .await
        .unwrap());

    sleep(t.past_short).await;
    assert!(s.acquire_lease(T, "flow-1", "b", ms(10_000)).await.unwrap());
    assert!(!s.acquire_lease(T, "flow-1", "a", t.short).await.unwrap());
}

/// The holder renews by acquiring again; release works only for the holder.
pub async fn lease_renew_same_owner<S: Store + ?Sized>(s: &S, _t: &Timing) {
    assert!(s.acquire_lease(T, "flow", "a", ms(1000)).await.unwrap());
    sleep(ms(600)).await;
    assert!(s.acquire_lease(T, "flow", "a", ms(1000)).await.unwrap());
    sleep(ms(600)).await;
    // 1.2 s after the first acquire, but only 0.6 s after the renewal: still held.
    assert!(!s.acquire_lease(T, "flow", "b", ms(1000)).await.unwrap());

    s.release_lease(T, "flow", "b").await.unwrap();
    assert!(!s.acquire_lease(T, "flow", "b", ms(1000)).await.unwrap());
    s.release_lease(T, "flow", "a").await.unwrap();
    assert!(s.acquire_lease(T, "flow", "b", ms(1000)).await.unwrap());
    // Releasing a lease nobody holds is not an error.
    s.release_lease(T, "nothing", "a").await.unwrap();
}

/// A released lease is taken as free; one its holder let expire is taken over, so the next
/// holder knows the last one died half-way (a pair lease: maybe after a vendor write).
pub async fn lease_grant_says_free_renewed_or_taken_over<S: Store + ?Sized>(s: &S, _t: &Timing) {
    use crate::LeaseGrant::*;
    let long = ms(60_000);
    assert_eq!(s.take_lease(T, "pair/k", "a", long).await.unwrap(), Free);
    assert_eq!(s.take_lease(T, "pair/k", "a", long).await.unwrap(), Renewed);
    assert_eq!(s.take_lease(T, "pair/k", "b", long).await.unwrap(), Busy);
    s.release_lease(T, "pair/k", "a").await.unwrap();
    assert_eq!(s.take_lease(T, "pair/k", "b", long).await.unwrap(), Free);
    // Abandoned: b renews with ttl 0 (held but already expired), as a cancelled holder does.
    assert_eq!(
        s.take_lease(T, "pair/k", "b", Duration::ZERO)
            .await
            .unwrap(),
        Renewed
    );
    sleep(ms(5)).await;
    assert_eq!(
        s.take_lease(T, "pair/k", "c", long).await.unwrap(),
        TakenOver
    );
    assert_eq!(s.take_lease(T, "pair/k", "b", long).await.unwrap(), Busy);
}

// ---------------------------------------------------------------- dedup

/// An event id is new once per tenant within its ttl, and new again after it.
pub async fn dedup_first_seen_and_ttl<S: Store + ?Sized>(s: &S, t: &Timing) {
    assert!(s.first_seen(T, "evt-1", t.short).await.unwrap());
    assert!(!s.first_seen(T, "evt-1", t.short).await.unwrap());
    assert!(!s.first_seen(T, "evt-1", t.short).await.unwrap());
    assert!(s.first_seen(T, "evt-2", t.short).await.unwrap());
    assert!(s.first_seen("other", "evt-1", t.short).await.unwrap());

    sleep(t.past_short).await;
    assert!(s.first_seen(T, "evt-1", ms(10_000)).await.unwrap());
    assert!(!s.first_seen(T, "evt-1", ms(10_000)).await.unwrap());
}

// ---------------------------------------------------------------- activity log

/// Entries come back newest first with store-assigned increasing seqs, every field intact;
/// each filter narrows, filters combine, `before_seq` pages and `limit` caps.
pub async fn log_newest_first_and_filters<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let mut e1 = entry(T, "clientify", "12", Action::Created, in_a_day());
    e1.run_id = Some("run-1".into());
    e1.link_id = Some("L12".into());
    e1.seq = 999; // ignored: the store assigns seq
    let mut e2 = entry(T, "clientify", "13", Action::Skipped, in_a_day());
    e2.run_id = Some("run-1".into());
    e2.reason = Some("no tax id".into());
    e2.fields = vec![];
    e2.target_system = None;
    e2.target_id = None;
    let mut e3 = entry(T, "clientify", "12", Action::Updated, in_a_day());
    e3.run_id = Some("run-2".into());
    e3.link_id = Some("L12".into());
    e3.fields = vec!["phone".into()];
    let e4 = entry(T, "alegra", "12", Action::Updated, in_a_day());
    let e5 = entry("other", "clientify", "12", Action::Updated, in_a_day());
    s.append(&[e1.clone(), e2.clone()]).await.unwrap();
    s.append(&[e3.clone(), e4.clone(), e5.clone()])
        .await
        .unwrap();
    s.append(&[]).await.unwrap();

    let all = s.query(&LogQuery::new(T, 100)).await.unwrap();
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].seq > w[1].seq), "newest first");
    assert!(all.iter().all(|e| e.seq > 0));
    // Everything but seq is returned exactly as appended.
    let expected = [&e4, &e3, &e2, &e1];
    for (got, want) in all.iter().zip(expected) {
        assert_eq!(
            &ActivityEntry {
                seq: got.seq,
                ..(*want).clone()
            },
            got
        );
    }

    let seqs = |v: &[ActivityEntry]| v.iter().map(|e| e.seq).collect::<Vec<_>>();
    let q = |f: fn(&mut LogQuery)| {
        let mut q = LogQuery::new(T, 100);
        f(&mut q);
        q
    };
    let by_record = s
        .query(&q(|q| {
            q.system = Some("clientify".into());
            q.external_id = Some("12".into());
        }))
        .await
        .unwrap();
    assert_eq!(seqs(&by_record), [all[1].seq, all[3].seq]);

    let by_id_any_system = s
        .query(&q(|q| q.external_id = Some("12".into())))
        .await
        .unwrap();
    assert_eq!(by_id_any_system.len(), 3);

    let by_link = s
        .query(&q(|q| q.link_id = Some("L12".into())))
        .await
        .unwrap();
    assert_eq!(seqs(&by_link), [all[1].seq, all[3].seq]);

    let by_run = s
        .query(&q(|q| q.run_id = Some("run-1".into())))
        .await
        .unwrap();
    assert_eq!(seqs(&by_run), [all[2].seq, all[3].seq]);

    let by_action = s
        .query(&q(|q| q.action = Some(Action::Updated)))
        .await
        .unwrap();
    assert_eq!(seqs(&by_action), [all[0].seq, all[1].seq]);

    let combined = s
        .query(&q(|q| {
            q.action = Some(Action::Updated);
            q.system = Some("clientify".into());
        }))
        .await
        .unwrap();
    assert_eq!(seqs(&combined), [all[1].seq]);

    let none = s
        .query(&q(|q| {
            q.run_id = Some("run-1".into());
            q.action = Some(Action::Failed);
        }))
        .await
        .unwrap();
    assert!(none.is_empty());

    // Paging backwards.
    let page1 = s.query(&LogQuery::new(T, 2)).await.unwrap();
    assert_eq!(seqs(&page1), [all[0].seq, all[1].seq]);
    let page2 = s
        .query(&LogQuery {
            before_seq: Some(page1[1].seq),
            ..LogQuery::new(T, 2)
        })
        .await
        .unwrap();
    assert_eq!(seqs(&page2), [all[2].seq, all[3].seq]);
    let page3 = s
        .query(&LogQuery {
            before_seq: Some(page2[1].seq),
            ..LogQuery::new(T, 2)
        })
        .await
        .unwrap();
    assert!(page3.is_empty());
    assert!(s.query(&LogQuery::new(T, 0)).await.unwrap().is_empty());

    let other = s.query(&LogQuery::new("other", 100)).await.unwrap();
    assert_eq!(other.len(), 1);
    assert_eq!(other[0].tenant, "other");

    // Seqs keep growing across appends.
    s.append(&[entry(T, "alegra", "99", Action::Failed, in_a_day())])
        .await
        .unwrap();
    let newest = s.query(&LogQuery::new(T, 1)).await.unwrap();
    assert!(newest[0].seq > all[0].seq);
}

/// Expired entries are never returned, and purging deletes exactly those.
pub async fn log_retention_purge<S: Store + ?Sized>(s: &S, t: &Timing) {
    let past = Utc::now() - TimeDelta::seconds(1);
    let soon = Utc::now() + TimeDelta::from_std(t.short).unwrap();
    s.append(&[
        entry(T, "clientify", "1", Action::Created, past),
        entry(T, "clientify", "2", Action::Created, soon),
        entry(T, "clientify", "3", Action::Created, in_a_day()),
        entry("other", "clientify", "4", Action::Created, past),
    ])
    .await
    .unwrap();

    let ids = |v: Vec<ActivityEntry>| {
        v.into_iter()
            .map(|e| e.external_id.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s.query(&LogQuery::new(T, 10)).await.unwrap()),
        ["3", "2"]
    );
    let q = LogQuery {
        external_id: Some("1".into()),
        ..LogQuery::new(T, 10)
    };
    assert!(s.query(&q).await.unwrap().is_empty());

    sleep(t.past_short).await;
    assert_eq!(ids(s.query(&LogQuery::new(T, 10)).await.unwrap()), ["3"]);

    assert_eq!(s.purge_expired(Utc::now()).await.unwrap(), 3);
    assert_eq!(s.purge_expired(Utc::now()).await.unwrap(), 0);
    assert_eq!(ids(s.query(&LogQuery::new(T, 10)).await.unwrap()), ["3"]);
    // Purging "as of" a later time removes what will have expired by then.
    assert_eq!(
        s.purge_expired(Utc::now() + TimeDelta::days(2))
            .await
            .unwrap(),
        1
    );
    assert!(s.query(&LogQuery::new(T, 10)).await.unwrap().is_empty());
}

/// APC-8: the activity page's filters run in the store: flow, entity, action, source system,
/// a record on either side, its natural key and a time range, ANDed, newest first, paged;
/// the optional detail (values written, match, rules, failed request) round-trips.
pub async fn apc8_log_filters_for_the_activity_page<S: Store + ?Sized>(s: &S, _t: &Timing) {
    let t0 = Utc::now() - TimeDelta::hours(3);
    let at = |h: i64| t0 + TimeDelta::hours(h);
    // 1: clientify:12 -> alegra:a-12 created (hour 0)
    let mut e1 = entry(T, "clientify", "12", Action::Created, in_a_day());
    e1.at = at(0);
    e1.key = Some("B12345674".into());
    e1.values = BTreeMap::from([
        ("name".to_string(), "Ana Pérez".to_string()),
        ("email".to_string(), "ana@example.com".to_string()),
    ]);
    e1.matched_by = Some("key:tax_id".into());
    e1.rules = BTreeMap::from([("name".to_string(), "newest".to_string())]);
    // 2: alegra:a-12 -> clientify:12 updated (hour 1): the same record as the target
    let mut e2 = entry(T, "alegra", "a-12", Action::Updated, in_a_day());
    e2.at = at(1);
    e2.target_system = Some("clientify".into());
    e2.target_id = Some("12".into());
    e2.key = Some("B12345674".into());
    // 3: a product failed in another flow (hour 2)
    let mut e3 = entry(T, "odoo", "7", Action::Failed, in_a_day());
    e3.at = at(2);
    e3.flow = "clientify-odoo".into();
    e3.kind = "product".into();
    e3.target_system = None;
    e3.target_id = None;
    e3.key = Some("SKU-1".into());
    e3.reason = Some("odoo answered HTTP 422: bad price".into());
    e3.request = Some(FailedRequest {
        method: Some("PUT".into()),
        path: Some("/api/product/7".into()),
        status: Some(422),
    });
    // 4: an unrelated contact (hour 2), and another tenant's entry about the same record
    let mut e4 = entry(T, "clientify", "13", Action::Skipped, in_a_day());
    e4.at = at(2);
    let mut e5 = entry("other", "clientify", "12", Action::Created, in_a_day());
    e5.at = at(0);
    e5.key = Some("B12345674".into());
    s.append(&[e1.clone(), e2.clone(), e3.clone(), e4.clone(), e5])
        .await
        .unwrap();

    let all = s.query(&LogQuery::new(T, 100)).await.unwrap();
    assert_eq!(all.len(), 4);
    let by_ext = |v: &[ActivityEntry]| {
        v.iter()
            .map(|e| format!("{}:{}", e.system, e.external_id.as_deref().unwrap_or("-")))
            .collect::<Vec<_>>()
    };
    // Everything but seq round-trips, the new detail included.
    for (got, want) in all.iter().zip([&e4, &e3, &e2, &e1]) {
        assert_eq!(
            &ActivityEntry {
                seq: got.seq,
                ..(*want).clone()
            },
            got
        );
    }
    let run = |f: &dyn Fn(&mut LogQuery)| {
        let mut q = LogQuery::new(T, 100);
        f(&mut q);
        q
    };

    // A record on either side: as the source (e1) and as the target (e2).
    let q = run(&|q| q.record = Some(RecordRef::new("clientify", "12")));
    assert_eq!(
        by_ext(&s.query(&q).await.unwrap()),
        ["alegra:a-12", "clientify:12"]
    );
    let q = run(&|q| q.record = Some(RecordRef::new("alegra", "a-12")));
    assert_eq!(
        by_ext(&s.query(&q).await.unwrap()),
        ["alegra:a-12", "clientify:12"]
    );
    // The same id in another system is another record.
    let q = run(&|q| q.record = Some(RecordRef::new("odoo", "12")));
    assert!(s.query(&q).await.unwrap().is_empty());

    let q = run(&|q| q.key = Some("B12345674".into()));
    assert_eq!(
        by_ext(&s.query(&q).await.unwrap()),
        ["alegra:a-12", "clientify:12"]
    );
    let q = run(&|q| q.flow = Some("clientify-odoo".into()));
    assert_eq!(by_ext(&s.query(&q).await.unwrap()), ["odoo:7"]);
    let q = run(&|q| q.kind = Some("contact".into()));
    assert_eq!(s.query(&q).await.unwrap().len(), 3);
    let q = run(&|q| {
        q.kind = Some("contact".into());
        q.action = Some(Action::Skipped);
    });
    assert_eq!(by_ext(&s.query(&q).await.unwrap()), ["clientify:13"]);
    let q = run(&|q| q.system = Some("clientify".into()));
    assert_eq!(
        by_ext(&s.query(&q).await.unwrap()),
        ["clientify:13", "clientify:12"]
    );
    // Time range: since inclusive, until exclusive.
    let q = run(&|q| {
        q.since = Some(at(1));
        q.until = Some(at(2));
    });
    assert_eq!(by_ext(&s.query(&q).await.unwrap()), ["alegra:a-12"]);
    let q = run(&|q| q.since = Some(at(2)));
    assert_eq!(
        by_ext(&s.query(&q).await.unwrap()),
        ["clientify:13", "odoo:7"]
    );
    // Filters AND with each other and with the record, and page newest first.
    let q = run(&|q| {
        q.record = Some(RecordRef::new("clientify", "12"));
        q.action = Some(Action::Created);
    });
    assert_eq!(by_ext(&s.query(&q).await.unwrap()), ["clientify:12"]);
    let q = run(&|q| {
        q.key = Some("B12345674".into());
        q.limit = 1;
    });
    let page1 = s.query(&q).await.unwrap();
    assert_eq!(by_ext(&page1), ["alegra:a-12"]);
    let q = run(&|q| {
        q.key = Some("B12345674".into());
        q.limit = 1;
        q.before_seq = Some(page1[0].seq);
    });
    assert_eq!(by_ext(&s.query(&q).await.unwrap()), ["clientify:12"]);
    // The failed request and reason come back for the failures page.
    let failed = s
        .query(&run(&|q| q.action = Some(Action::Failed)))
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].request.as_ref().and_then(|r| r.status), Some(422));
}

/// APC-8 / GDPR: the values an entry holds are deleted with it after the retention.
pub async fn apc8_values_are_gone_after_the_retention<S: Store + ?Sized>(s: &S, t: &Timing) {
    let soon = Utc::now() + TimeDelta::from_std(t.short).unwrap();
    let mut e = entry(T, "clientify", "12", Action::Updated, soon);
    e.values = BTreeMap::from([("email".to_string(), "ana@example.com".to_string())]);
    e.key = Some("ana@example.com".into());
    s.append(&[e]).await.unwrap();
    let q = LogQuery {
        key: Some("ana@example.com".into()),
        ..LogQuery::new(T, 10)
    };
    let got = s.query(&q).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].values["email"], "ana@example.com");

    sleep(t.past_short).await;
    assert!(s.query(&q).await.unwrap().is_empty(), "expired: not shown");
    assert_eq!(s.purge_expired(Utc::now()).await.unwrap(), 1);
    assert!(s.query(&q).await.unwrap().is_empty(), "purged");
    assert!(s.query(&LogQuery::new(T, 10)).await.unwrap().is_empty());
}

fn run_record(tenant: &str, id: &str, flow: &str, started: DateTime<Utc>) -> RunRecord {
    RunRecord {
        tenant: tenant.into(),
        run_id: id.into(),
        flow: flow.into(),
        mode: "full".into(),
        started_at: started,
        duration_ms: 1234,
        counts: BTreeMap::from([(
            "contact".to_string(),
            RunCounts {
                created: 3,
                updated: 2,
                unchanged: 10,
                skipped: 1,
                failed: 1,
            },
        )]),
        calls: BTreeMap::from([("alegra".to_string(), 40), ("clientify".to_string(), 12)]),
        errors: vec![],
        expires_at: in_a_day(),
    }
}

/// APC-8: a summary per run (start, duration, counts per entity, vendor calls per system),
/// newest first, by flow, paged, replaced by a later summary of the same run, expiring.
pub async fn apc8_run_summaries_stored_per_run<S: Store + ?Sized>(s: &S, t: &Timing) {
    let t0 = Utc::now() - TimeDelta::hours(5);
    let r1 = run_record(T, "run-1", "clientify-alegra", t0);
    let r2 = run_record(T, "run-2", "clientify-odoo", t0 + TimeDelta::hours(1));
    let mut r3 = run_record(T, "run-3", "clientify-alegra", t0 + TimeDelta::hours(2));
    r3.errors = vec!["contact: alegra is unreachable".into()];
    let r4 = run_record("other", "run-4", "clientify-alegra", t0);
    let mut old = run_record(T, "run-0", "clientify-alegra", t0 - TimeDelta::hours(1));
    old.expires_at = Utc::now() + TimeDelta::from_std(t.short).unwrap();
    for r in [&r1, &r2, &r3, &r4, &old] {
        s.put_run(r).await.unwrap();
    }
    let ids = |v: Vec<RunRecord>| v.into_iter().map(|r| r.run_id).collect::<Vec<_>>();
    let q = RunQuery {
        tenant: T.into(),
        limit: 10,
        ..RunQuery::default()
    };
    let got = s.runs(&q).await.unwrap();
    assert_eq!(got[0], r3, "round-trips exactly");
    assert_eq!(ids(got), ["run-3", "run-2", "run-1", "run-0"]);
    let by_flow = RunQuery {
        flow: Some("clientify-alegra".into()),
        ..q.clone()
    };
    assert_eq!(
        ids(s.runs(&by_flow).await.unwrap()),
        ["run-3", "run-1", "run-0"]
    );
    let page = RunQuery {
        before: Some(r2.started_at),
        limit: 1,
        ..q.clone()
    };
    assert_eq!(ids(s.runs(&page).await.unwrap()), ["run-1"]);
    assert!(s
        .runs(&RunQuery {
            limit: 0,
            ..q.clone()
        })
        .await
        .unwrap()
        .is_empty());

    // A later summary of the same run replaces the first.
    let mut r1b = r1.clone();
    r1b.duration_ms = 99_000;
    s.put_run(&r1b).await.unwrap();
    let got = s.runs(&by_flow).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], r1b);

    sleep(t.past_short).await;
    assert_eq!(ids(s.runs(&q).await.unwrap()), ["run-3", "run-2", "run-1"]);
    s.purge_expired(Utc::now()).await.unwrap();
    assert_eq!(s.runs(&q).await.unwrap().len(), 3);
}

// ---------------------------------------------------------------- queue

const VIS: Duration = Duration::from_secs(30);

/// Oldest first, one message per group in flight, the next of a group only after ack.
pub async fn queue_fifo_per_group<S: Store + ?Sized>(s: &S, t: &Timing) {
    assert!(s.send("g-a", "d1", "a1").await.unwrap());
    assert!(s.send("g-b", "d2", "b1").await.unwrap());
    assert!(s.send("g-a", "d3", "a2").await.unwrap());
    assert!(s.send("g-a", "d4", "a3").await.unwrap());
    assert!(s.send("g-c", "d5", "c1").await.unwrap());
    assert_depth(s, t, (5, 0)).await;

    let got = s.receive(10, VIS).await.unwrap();
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, ["a1", "b1", "c1"]);
    assert!(got.iter().all(|m| m.receive_count == 1));
    assert_eq!(got[0].group, "g-a");
    let ids: std::collections::HashSet<_> = got.iter().map(|m| &m.id).collect();
    assert_eq!(ids.len(), 3, "message ids are unique");
    let receipts: std::collections::HashSet<_> = got.iter().map(|m| &m.receipt).collect();
    assert_eq!(receipts.len(), 3, "receipts are unique");

    // a2 waits while a1 is in flight; in-flight messages still count in the depth.
    assert!(s.receive(10, VIS).await.unwrap().is_empty());
    assert_depth(s, t, (5, 0)).await;

    s.ack(&got[1].receipt).await.unwrap(); // b1: its group is empty now
    assert!(s.receive(10, VIS).await.unwrap().is_empty());
    s.ack(&got[0].receipt).await.unwrap(); // a1
    let next = s.receive(10, VIS).await.unwrap();
    assert_eq!(
        next.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["a2"]
    );
    s.ack(&next[0].receipt).await.unwrap();
    s.ack(&got[2].receipt).await.unwrap();
    let last = s.receive(10, VIS).await.unwrap();
    assert_eq!(
        last.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["a3"]
    );
    s.ack(&last[0].receipt).await.unwrap();
    assert_depth(s, t, (0, 0)).await;
}

/// `max` caps a receive; the rest stays for the next one, oldest first.
pub async fn queue_receive_respects_max<S: Store + ?Sized>(s: &S, t: &Timing) {
    for i in 0..5 {
        s.send(&format!("g{i}"), &format!("d{i}"), &format!("m{i}"))
            .await
            .unwrap();
    }
    assert!(s.receive(0, VIS).await.unwrap().is_empty());
    let first = s.receive(2, VIS).await.unwrap();
    assert_eq!(
        first.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["m0", "m1"]
    );
    let second = s.receive(2, VIS).await.unwrap();
    assert_eq!(
        second.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["m2", "m3"]
    );
    let third = s.receive(2, VIS).await.unwrap();
    assert_eq!(
        third.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["m4"]
    );
    assert_depth(s, t, (5, 0)).await;
}

/// A message not acked within its visibility timeout is delivered again (a crashed
/// worker loses nothing), with a new receipt; the old receipt is then stale.
pub async fn queue_visibility_timeout_redelivers<S: Store + ?Sized>(s: &S, t: &Timing) {
    s.send("g", "d1", "hello").await.unwrap();
    s.send("g", "d2", "after").await.unwrap();
    let first = s.receive(10, t.short).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(s.receive(10, t.short).await.unwrap().is_empty());

    sleep(t.past_short).await;
    let again = s.receive(10, VIS).await.unwrap();
    assert_eq!(again.len(), 1, "only the head of the group, again");
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].body, "hello");
    assert_eq!(again[0].enqueued_at, first[0].enqueued_at);
    assert_eq!(again[0].receive_count, 2);
    assert_ne!(again[0].receipt, first[0].receipt);

    assert_not_found(expect_err(s.ack(&first[0].receipt).await));
    s.ack(&again[0].receipt).await.unwrap();
    let next = s.receive(10, VIS).await.unwrap();
    assert_eq!(next[0].body, "after");
    assert_eq!(next[0].receive_count, 1);
}

/// The same dedup id within the window enqueues once; other ids are independent.
pub async fn queue_dedup<S: Store + ?Sized>(s: &S, t: &Timing) {
    assert!(s.send("g", "acme/evt-1", "one").await.unwrap());
    assert!(!s.send("g", "acme/evt-1", "one again").await.unwrap());
    assert!(!s
        .send("other-group", "acme/evt-1", "one again")
        .await
        .unwrap());
    assert!(s.send("g", "acme/evt-2", "two").await.unwrap());
    assert_depth(s, t, (2, 0)).await;

    // Still a duplicate after the first copy was consumed.
    let got = s.receive(10, VIS).await.unwrap();
    assert_eq!(got[0].body, "one");
    s.ack(&got[0].receipt).await.unwrap();
    assert!(!s.send("g", "acme/evt-1", "late retry").await.unwrap());
    let got = s.receive(10, VIS).await.unwrap();
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["two"]
    );
}

/// `retry_later` hides the message for the delay, keeps its group blocked meanwhile
/// (order survives retries), spends the receipt, and the message comes back first.
pub async fn queue_retry_later_delays_in_order<S: Store + ?Sized>(s: &S, t: &Timing) {
    s.send("g", "d1", "first").await.unwrap();
    s.send("g", "d2", "second").await.unwrap();
    let got = s.receive(10, VIS).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "first");
    s.retry_later(&got[0].receipt, t.short, "429 Too Many Requests")
        .await
        .unwrap();
    assert_not_found(expect_err(s.ack(&got[0].receipt).await));
    assert!(s.receive(10, VIS).await.unwrap().is_empty());

    sleep(t.past_short).await;
    let again = s.receive(10, VIS).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].body, "first");
    assert_eq!(again[0].receive_count, 2);

    // Zero delay: visible again at once.
    s.retry_later(&again[0].receipt, Duration::ZERO, "timeout")
        .await
        .unwrap();
    let third = s.receive(10, VIS).await.unwrap();
    assert_eq!(third[0].body, "first");
    assert_eq!(third[0].receive_count, 3);
}

/// After `max_receives` (5) deliveries the message goes to the dead letters with its last
/// error, unblocking its group; replay puts it back with a fresh count.
pub async fn queue_dead_letter_after_max_receives_and_replay<S: Store + ?Sized>(s: &S, t: &Timing) {
    s.send("g", "d1", "poison").await.unwrap();
    s.send("g", "d2", "fine").await.unwrap();
    let mut id = String::new();
    for n in 1..=5 {
        let got = s.receive(10, VIS).await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].body, "poison");
        assert_eq!(got[0].receive_count, n);
        id = got[0].id.clone();
        s.retry_later(&got[0].receipt, Duration::ZERO, &format!("boom {n}"))
            .await
            .unwrap();
    }
    assert!(s.dead_letters(10).await.unwrap().is_empty());

    // The sixth receive dead-letters it and delivers the next of the group instead.
    let got = settled(
        t,
        || s.receive(10, VIS),
        |r| r.as_ref().map_or(true, |v| !v.is_empty()),
    )
    .await
    .unwrap();
    assert_eq!(
        got.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["fine"]
    );
    let dead = settled(
        t,
        || s.dead_letters(10),
        |r| r.as_ref().map_or(true, |v| !v.is_empty()),
    )
    .await
    .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].id, id);
    assert_eq!(dead[0].group, "g");
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].receive_count, 5);
    assert_eq!(dead[0].last_error.as_deref(), Some("boom 5"));
    assert!(dead[0].failed_at <= Utc::now());
    assert_depth(s, t, (1, 1)).await;
    s.ack(&got[0].receipt).await.unwrap();

    s.replay_dead_letter(&id).await.unwrap();
    assert!(s.dead_letters(10).await.unwrap().is_empty());
    assert_depth(s, t, (1, 0)).await;
    let back = s.receive(10, VIS).await.unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].id, id);
    assert_eq!(back[0].body, "poison");
    assert_eq!(back[0].receive_count, 1);
    s.ack(&back[0].receipt).await.unwrap();
    assert_depth(s, t, (0, 0)).await;

    assert_not_found(expect_err(s.replay_dead_letter(&id).await));
    assert_not_found(expect_err(s.replay_dead_letter("no-such-id").await));
}

/// A message abandoned (never acked, visibility expiring) also dead-letters; the dead
/// letters list is oldest first and honours its limit.
pub async fn queue_dead_letters_listing<S: Store + ?Sized>(s: &S, t: &Timing) {
    s.send("g1", "d1", "one").await.unwrap();
    s.send("g2", "d2", "two").await.unwrap();
    for _ in 0..5 {
        let got = s.receive(10, t.blip).await.unwrap();
        assert_eq!(got.len(), 2);
        sleep(t.past_blip).await;
    }
    assert!(s.receive(10, VIS).await.unwrap().is_empty());
    let dead = settled(
        t,
        || s.dead_letters(10),
        |r| r.as_ref().map_or(true, |v| v.len() >= 2),
    )
    .await
    .unwrap();
    assert_eq!(
        dead.iter().map(|d| d.body.as_str()).collect::<Vec<_>>(),
        ["one", "two"]
    );
    assert!(dead
        .iter()
        .all(|d| d.last_error.is_none() && d.receive_count == 5));
    assert_eq!(s.dead_letters(1).await.unwrap().len(), 1);
    assert_depth(s, t, (0, 2)).await;
}

/// Unknown, spent and superseded receipts are NotFound for ack and retry_later.
pub async fn queue_ack_stale_receipt<S: Store + ?Sized>(s: &S, t: &Timing) {
    assert_not_found(expect_err(s.ack("no-such-receipt").await));
    assert_not_found(expect_err(
        s.retry_later("no-such-receipt", Duration::ZERO, "x").await,
    ));

    s.send("g", "d1", "m").await.unwrap();
    let got = s.receive(1, VIS).await.unwrap();
    s.ack(&got[0].receipt).await.unwrap();
    assert_not_found(expect_err(s.ack(&got[0].receipt).await));
    assert_not_found(expect_err(
        s.retry_later(&got[0].receipt, Duration::ZERO, "x").await,
    ));
    assert_depth(s, t, (0, 0)).await;
}

/// Expands to one `#[tokio::test]` per conformance function in
/// [`conformance`](crate::conformance).
///
/// `$make` is anything callable with no arguments that returns a future of a fresh, empty
/// store with the default `max_receives` (an `async fn` path, or `|| async { ... }`). The
/// optional `$teardown` gets the store by value after the test passed and returns a
/// future (delete a temp file, drop a table). The optional `$timing` is a
/// [`Timing`](crate::conformance::Timing) expression (default [`Timing::LOCAL`]). The
/// calling crate needs `tokio` with the `macros` and `rt` features.
///
/// ```no_run
/// puente_store::store_conformance_tests!(|| async { puente_store::MemoryStore::new() });
/// ```
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr) => {
        $crate::store_conformance_tests!($make, |_store| async {});
    };
    ($make:expr, $teardown:expr) => {
        $crate::store_conformance_tests!($make, $teardown, $crate::conformance::Timing::LOCAL);
    };
    ($make:expr, $teardown:expr, $timing:expr) => {
        $crate::store_conformance_tests!(@tests ($make) ($teardown) ($timing)
            links_roundtrip
            links_list_by_tenant_and_kind
            link_version_conflict
            link_duplicate_external_id
            link_ids_follow_updates
            link_by_key
            save_links_batch_all_or_nothing
            links_are_scoped_by_flow
            link_more_keys
            delete_link_frees_ids_and_keys
            checkpoint_roundtrip
            lease_exclusive_and_expiry
            lease_renew_same_owner
            lease_grant_says_free_renewed_or_taken_over
            dedup_first_seen_and_ttl
            log_newest_first_and_filters
            log_retention_purge
            apc8_log_filters_for_the_activity_page
            apc8_values_are_gone_after_the_retention
            apc8_run_summaries_stored_per_run
            queue_fifo_per_group
            queue_receive_respects_max
            queue_visibility_timeout_redelivers
            queue_dedup
            queue_retry_later_delays_in_order
            queue_dead_letter_after_max_receives_and_replay
            queue_dead_letters_listing
            queue_ack_stale_receipt
        );
    };
    (@tests ($make:expr) ($teardown:expr) ($timing:expr) $($name:ident)*) => {
        $(
            #[tokio::test]
            async fn $name() {
                let timing: $crate::conformance::Timing = $timing;
                let store = ($make)().await;
                $crate::conformance::$name(&store, &timing).await;
                ($teardown)(store).await;
            }
        )*
    };
}
