//! The conformance suite against DynamoDB + SQS on moto, each test on its own table and
//! queues, plus what only the AWS adapter shows: table setup, link batches larger than a
//! transaction, SQS-unsafe ids, the queue without its ledger.
//!
//! Needs a running emulator: `bash infra/moto.sh install && eval "$(bash infra/moto.sh
//! start)"`, then `cargo test -p puente-store-aws`, then `bash infra/moto.sh stop`.
//! Without `AWS_ENDPOINT_URL` every test fails and says so (a skipped check would pass
//! silently).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::TimeToLiveStatus;
use puente_store::conformance::Timing;
use puente_store::{LinkStore, OpCounter, Queue, StoreError};
use puente_store_aws::{AwsStore, DynamoStore, SqsQueue};

async fn sdk_config() -> aws_config::SdkConfig {
    puente_store_aws::testkit::sdk_config("puente-store-aws").await
}

fn unique(tag: &str) -> String {
    puente_store_aws::testkit::unique("puente", tag)
}

async fn make_named(tag: &str) -> AwsStore {
    let config = sdk_config().await;
    let ddb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let name = unique(tag);
    DynamoStore::create_table(&ddb, &name)
        .await
        .expect("create table");
    let queue = SqsQueue::create(sqs, &name, 5)
        .await
        .expect("create queues");
    AwsStore::new(DynamoStore::new(ddb, &name), queue)
}

async fn make() -> AwsStore {
    make_named("conf").await
}

async fn teardown(store: AwsStore) {
    let (dynamo, sqs) = store.into_parts();
    sqs.delete_queues().await.expect("delete queues");
    DynamoStore::delete_table(dynamo.client(), dynamo.table())
        .await
        .expect("delete table");
}

puente_store::store_conformance_tests!(make, teardown, Timing::WHOLE_SECONDS);

fn link(i: usize) -> puente_store::Link {
    let mut l = puente_store::Link::new("acme", "f", "contact", format!("L{i:03}"));
    l.ids = BTreeMap::from([
        ("alegra".to_string(), format!("a{i}")),
        ("clientify".to_string(), format!("c{i}")),
    ]);
    l.key = Some(format!("K{i}"));
    l
}

#[tokio::test]
async fn create_table_is_idempotent_and_enables_ttl() {
    let store = make_named("setup").await;
    let client = store.dynamo().client().clone();
    let table = store.dynamo().table().to_string();
    DynamoStore::create_table(&client, &table)
        .await
        .expect("second create_table is a no-op");
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name.as_deref(), Some("ttl"));
    assert_eq!(ttl.time_to_live_status, Some(TimeToLiveStatus::Enabled));
    // Creating the queues again reuses them.
    let again = SqsQueue::create(
        aws_sdk_sqs::Client::new(&sdk_config().await),
        &table,
        store.sqs().max_receives(),
    )
    .await
    .unwrap();
    assert_eq!(again.url(), store.sqs().url());
    teardown(store).await;
}

/// 40 new links with two external ids and a key are 160 writes: two transactions. A
/// batch that fails in its second transaction leaves nothing of the first behind.
#[tokio::test]
async fn save_links_larger_than_one_transaction() {
    let store = make_named("big").await;
    let batch: Vec<_> = (0..40).map(link).collect();
    let saved = store.save_links(&batch).await.unwrap();
    assert_eq!(saved.len(), 40);
    assert_eq!(
        store
            .links(puente_store::Scope::new("acme", "f", "contact"))
            .await
            .unwrap(),
        saved
    );
    assert_eq!(
        store
            .link_by_external(
                puente_store::Scope::new("acme", "f", "contact"),
                "clientify",
                "c39"
            )
            .await
            .unwrap(),
        Some(saved[39].clone())
    );

    // Every link moves its alegra id; the last one is too large for DynamoDB (400 KB),
    // so the second transaction fails after the first committed: it must be undone.
    let mut update: Vec<_> = saved.clone();
    for l in &mut update {
        let id = l.ids["alegra"].clone();
        l.ids.insert("alegra".into(), format!("{id}-new"));
    }
    update[39]
        .field_hashes
        .insert("huge".into(), "x".repeat(450 * 1024));
    match store.save_links(&update).await {
        Err(StoreError::Backend(msg)) => eprintln!("oversized batch: {msg}"),
        other => panic!("expected a Backend error for an oversized item, got {other:?}"),
    }
    assert_eq!(
        store
            .links(puente_store::Scope::new("acme", "f", "contact"))
            .await
            .unwrap(),
        saved
    );
    for i in [0, 20, 39] {
        assert_eq!(
            store
                .link_by_external(
                    puente_store::Scope::new("acme", "f", "contact"),
                    "alegra",
                    &format!("a{i}")
                )
                .await
                .unwrap(),
            Some(saved[i].clone()),
            "old id a{i} still finds its link"
        );
        assert_eq!(
            store
                .link_by_external(
                    puente_store::Scope::new("acme", "f", "contact"),
                    "alegra",
                    &format!("a{i}-new")
                )
                .await
                .unwrap(),
            None
        );
    }

    // A large batch whose last link claims an id held outside the batch fails before
    // writing anything.
    let mut clash: Vec<_> = (100..140).map(link).collect();
    clash[39].ids.insert("alegra".into(), "a0".into());
    match store.save_links(&clash).await {
        Err(StoreError::Duplicate(what)) => assert!(what.contains("alegra:a0"), "{what}"),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(
        store
            .links(puente_store::Scope::new("acme", "f", "contact"))
            .await
            .unwrap()
            .len(),
        40
    );
    assert_eq!(
        store
            .link_by_external(
                puente_store::Scope::new("acme", "f", "contact"),
                "clientify",
                "c100"
            )
            .await
            .unwrap(),
        None
    );
    teardown(store).await;
}

/// Groups and dedup ids SQS would reject (spaces, non-ASCII, over 128 characters) are
/// hashed on the wire and come back as given.
#[tokio::test]
async fn unsafe_group_and_dedup_ids() {
    let store = make_named("ids").await;
    let group = format!("acme contact/ñandú {}", "x".repeat(200));
    let dedup = format!("acme/evt with space {}", "y".repeat(200));
    assert!(store.send(&group, &dedup, "b1").await.unwrap());
    assert!(!store.send(&group, &dedup, "b1 again").await.unwrap());
    assert!(store.send(&group, "acme/evt-2", "b2").await.unwrap());
    let got = store.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1, "one per group in flight");
    assert_eq!(got[0].group, group);
    assert_eq!(got[0].body, "b1");
    store.ack(&got[0].receipt).await.unwrap();
    let got = store.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got[0].body, "b2");
    store.ack(&got[0].receipt).await.unwrap();
    teardown(store).await;
}

/// On SQS alone (no ledger) the queue still works; duplicates are dropped by SQS
/// (though `send` cannot tell), and operations are counted.
#[tokio::test]
async fn queue_without_ledger_and_op_counts() {
    let config = sdk_config().await;
    let name = unique("bare");
    let q = SqsQueue::create(aws_sdk_sqs::Client::new(&config), &name, 3)
        .await
        .unwrap();
    assert!(q.send("g", "d1", "one").await.unwrap());
    assert!(q.send("g", "d1", "one again").await.unwrap());
    let got = q.receive(10, Duration::from_secs(30)).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, "one");
    assert_eq!(got[0].receive_count, 1);
    q.ack(&got[0].receipt).await.unwrap();
    assert!(q
        .receive(10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(q.queue_depth().await.unwrap(), (0, 0));
    let counts = OpCounter::op_counts(&q);
    assert_eq!((counts.reads, counts.writes), (1, 5));
    q.delete_queues().await.unwrap();

    let store = make_named("ops").await;
    store.save_links(&[link(1), link(2)]).await.unwrap();
    store
        .links(puente_store::Scope::new("acme", "f", "contact"))
        .await
        .unwrap();
    store.send("g", "d", "b").await.unwrap();
    let counts = store.op_counts();
    assert_eq!(
        (counts.reads, counts.writes, counts.batched_writes),
        (1, 2, 1)
    );
    teardown(store).await;
}

/// Issue 12: a table written by the previous version (links keyed by tenant and kind, no
/// flow) is read as it is: its items are the links of the empty (legacy) scope, found by
/// id, external id and key, until the runtime moves them into their flow; new flow-scoped
/// links beside them never clash with them.
#[tokio::test]
async fn store_migration_reads_v1_link_items_in_the_legacy_scope() {
    use aws_sdk_dynamodb::types::AttributeValue as A;
    let store = make_named("v1").await;
    let (client, table) = (
        store.dynamo().client().clone(),
        store.dynamo().table().to_string(),
    );
    // Exactly the items the previous version wrote for one link (see its dynamo.rs):
    // `LINK#acme#contact`, `XID#acme#contact#{system}#{id}`, `LKEY#acme#contact#{key}`.
    let m = |pairs: &[(&str, &str)]| {
        A::M(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), A::S(v.to_string())))
                .collect(),
        )
    };
    let items = vec![
        vec![
            ("pk", A::S("LINK#acme#contact".into())),
            ("sk", A::S("alegra:774".into())),
            ("tenant", A::S("acme".into())),
            ("kind", A::S("contact".into())),
            ("id", A::S("alegra:774".into())),
            ("key", A::S("B12345674".into())),
            ("ids", m(&[("alegra", "774"), ("clientify", "12")])),
            ("field_hashes", m(&[("name", "h1")])),
            ("record_hashes", m(&[("alegra", "r1"), ("clientify", "r2")])),
            ("version", A::N("3".into())),
            ("updated_at", A::S("2026-11-22T10:00:00.000000000Z".into())),
        ],
        vec![
            ("pk", A::S("XID#acme#contact#alegra#774".into())),
            ("sk", A::S("-".into())),
            ("link_id", A::S("alegra:774".into())),
        ],
        vec![
            ("pk", A::S("XID#acme#contact#clientify#12".into())),
            ("sk", A::S("-".into())),
            ("link_id", A::S("alegra:774".into())),
        ],
        vec![
            ("pk", A::S("LKEY#acme#contact#B12345674".into())),
            ("sk", A::S("-".into())),
            ("link_id", A::S("alegra:774".into())),
        ],
    ];
    for item in items {
        client
            .put_item()
            .table_name(&table)
            .set_item(Some(
                item.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
            ))
            .send()
            .await
            .unwrap();
    }
    let legacy = puente_store::Scope::new("acme", "", "contact");
    let all = store.links(legacy).await.unwrap();
    assert_eq!(all.len(), 1);
    let l = &all[0];
    assert_eq!((l.flow.as_str(), l.version), ("", 3));
    assert_eq!(l.ids.get("clientify").map(String::as_str), Some("12"));
    assert!(l.more_keys.is_empty());
    assert_eq!(
        store
            .link_by_external(legacy, "alegra", "774")
            .await
            .unwrap()
            .as_ref(),
        Some(l)
    );
    assert_eq!(
        store
            .link_by_key(legacy, "B12345674")
            .await
            .unwrap()
            .as_ref(),
        Some(l)
    );
    // The same ids and key in a flow's scope are free, and do not disturb the old link.
    let mut moved = l.clone();
    moved.flow = "clientify-alegra".into();
    moved.version = 0;
    let saved = store.save_link(&moved).await.unwrap();
    assert_eq!(saved.version, 1);
    // Then the legacy link can go, guarded by its version.
    store.delete_link(l).await.unwrap();
    assert!(store.links(legacy).await.unwrap().is_empty());
    let scoped = puente_store::Scope::new("acme", "clientify-alegra", "contact");
    assert_eq!(
        store.link_by_key(scoped, "B12345674").await.unwrap(),
        Some(saved)
    );
    teardown(store).await;
}

/// Issue 16: log seqs are made in the process (no counter item every tenant shares). Two
/// processes that drew the same node and write in the same millisecond make the same seq:
/// the second write is refused by its condition, the writer draws another node, and both
/// entries are kept whole under different seqs.
#[tokio::test]
async fn log_seq_collision_between_two_writers_keeps_both_entries() {
    use puente_store::{Action, ActivityEntry, ActivityLog, LogQuery};
    use puente_store_aws::seq::SeqClock;
    let store = make_named("seq").await;
    let entry = |id: &str, reason: &str| ActivityEntry {
        tenant: "acme".into(),
        flow: "f".into(),
        kind: "contact".into(),
        action: Action::Updated,
        system: "clientify".into(),
        external_id: Some(id.into()),
        target_system: Some("alegra".into()),
        target_id: Some(format!("a{id}")),
        reason: Some(reason.into()),
        at: chrono::Utc::now(),
        expires_at: chrono::Utc::now() + chrono::Duration::days(1),
        ..ActivityEntry::default()
    };
    let (one, two) = (SeqClock::stopped(7, 1_000), SeqClock::stopped(7, 1_000));
    assert_eq!(
        one.next(1),
        two.next(1),
        "the two clocks make the same seqs"
    );
    let dynamo = store.dynamo();
    dynamo
        .append_with(&one, &[entry("1", "first writer")])
        .await
        .unwrap();
    dynamo
        .append_with(&two, &[entry("2", "second writer")])
        .await
        .unwrap();
    assert_ne!(two.node(), 7, "the second writer drew another node");
    let all = dynamo
        .query(&LogQuery::new("acme", 10))
        .await
        .expect("query");
    let reasons: Vec<_> = all.iter().filter_map(|e| e.reason.clone()).collect();
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(reasons.contains(&"first writer".to_string()), "{reasons:?}");
    assert!(
        reasons.contains(&"second writer".to_string()),
        "{reasons:?}"
    );
    assert_ne!(all[0].seq, all[1].seq);
    // The record index copies were not overwritten either.
    for id in ["1", "2"] {
        let q = LogQuery {
            record: Some(puente_store::RecordRef::new("clientify", id)),
            ..LogQuery::new("acme", 10)
        };
        assert_eq!(dynamo.query(&q).await.unwrap().len(), 1, "record {id}");
    }
    // No counter item: nothing under pk = SEQ.
    let counter = dynamo
        .client()
        .get_item()
        .table_name(dynamo.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("SEQ".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("LOG".into()),
        )
        .send()
        .await
        .unwrap();
    assert!(counter.item.is_none());
    teardown(store).await;
}
