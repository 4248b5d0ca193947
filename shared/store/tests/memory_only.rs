//! Memory-adapter specifics beyond the shared suite.

use std::time::Duration;

use puente_store::{
    ActivityLog, Link, LinkStore, LogQuery, MemoryStore, OpCounter, OpCounts, Queue,
};

#[tokio::test]
async fn max_receives_is_configurable_and_ops_are_counted() {
    let store = MemoryStore::new().with_max_receives(2);
    store.send("g", "d", "b").await.unwrap();
    for n in 1..=2 {
        let got = store.receive(1, Duration::ZERO).await.unwrap();
        assert_eq!(got[0].receive_count, n);
    }
    assert!(store.receive(1, Duration::ZERO).await.unwrap().is_empty());
    assert_eq!(store.dead_letters(10).await.unwrap().len(), 1);

    let before = store.op_counts();
    store
        .save_links(&[Link::new("t", "f", "contact", "a")])
        .await
        .unwrap();
    store.append(&[]).await.unwrap();
    store.query(&LogQuery::new("t", 5)).await.unwrap();
    store
        .links(puente_store::Scope::new("t", "f", "contact"))
        .await
        .unwrap();
    let delta = OpCounter::op_counts(&store) - before;
    assert_eq!(
        delta,
        OpCounts {
            reads: 2,
            writes: 2,
            batched_writes: 2
        }
    );
}
