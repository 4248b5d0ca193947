//! Issue 17, defect 1: record ids from outside (webhook bodies, replayed queue events) reach
//! vendor URLs only as the vendor's own ids. A delivery whose id is a path, carries a query,
//! is not a number where the vendor's ids are numbers, or is a number JSON cannot hold
//! exactly is refused at the door with 400 and nothing is queued; an event that reaches the
//! queue some other way fails with its reason and no vendor call.

use puente_core::Kind;
use puente_e2e::TestEnv;
use puente_runtime::events::{work_once, ChangeEvent};
use puente_runtime::serve::accept_webhook;
use puente_sandbox::SandboxConfig;
use puente_store::{Action, LogQuery};
use serde_json::Value;
use std::time::Duration;

const SECRET: &str = "s3cret-hook";

/// Ids that are not Clientify or Alegra ids, as a webhook body would carry them (raw JSON,
/// so a number beyond what a double holds stays as sent).
const BAD_IDS: &[&str] = &[
    r#""../companies/101""#,
    r#""%2E%2E%2Fcompanies%2F101""#,
    r#""..%2fcompanies%2f101""#,
    r#""12?expand=all""#,
    r#""12#x""#,
    r#""12/""#,
    r#""abc""#,
    r#""-3""#,
    r#""0""#,
    r#"" 12""#,
    r#""12\n13""#,
    r#""""#,
    "100000000000000000000000",
    "1e23",
    "12.5",
    "-7",
    "9007199254740993",
    "true",
    "[12]",
    r#"{"id": 12}"#,
];

async fn deliver(env: &TestEnv, system: &str, body: &str) -> (u16, Value) {
    accept_webhook(
        &env.app,
        Some(SECRET),
        "test",
        system,
        SECRET,
        body.as_bytes(),
    )
    .await
}

async fn pending(env: &TestEnv) -> u64 {
    env.app.store.queue_depth().await.unwrap().0
}

fn small() -> SandboxConfig {
    SandboxConfig {
        contacts: 3,
        companies: 2,
        shared_contacts: 1,
        shared_companies: 1,
        ..SandboxConfig::default()
    }
}

#[tokio::test]
async fn webhook_record_id_that_is_not_a_vendor_id_is_refused_and_nothing_is_queued() {
    let env = TestEnv::start("hostile-ids-door", small()).await;
    for raw in BAD_IDS {
        let bodies = [
            (
                "clientify",
                format!(r#"{{"event": "contact.saved", "contact": {{"id": {raw}}}}}"#),
            ),
            (
                "clientify",
                format!(r#"{{"event": "company.saved", "data": {{"company": {{"id": {raw}}}}}}}"#),
            ),
            (
                "alegra",
                format!(
                    r#"{{"subject": "edit-client", "message": {{"client": {{"id": {raw}, "type": ["client"]}}}}}}"#
                ),
            ),
            (
                "alegra",
                format!(r#"{{"subject": "new-item", "message": {{"item": {{"id": {raw}}}}}}}"#),
            ),
        ];
        for (system, body) in bodies {
            let (status, v) = deliver(&env, system, &body).await;
            assert_eq!(status, 400, "{system} id {raw}: answered {status} {v}");
            let why = v["error"].as_str().unwrap_or_default();
            assert!(
                why.contains("record id") || why.contains("without a"),
                "{system} id {raw}: the reason names the id: {why}"
            );
            assert!(!why.contains('\n'), "{system} id {raw}: {why:?}");
        }
        assert_eq!(pending(&env).await, 0, "id {raw}: nothing queued");
    }
    // A good id of each vendor still passes the door.
    let (status, v) = deliver(
        &env,
        "clientify",
        r#"{"event": "contact.saved", "contact": {"id": 1}}"#,
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (202, Some("queued")), "{v}");
    let (status, v) = deliver(
        &env,
        "alegra",
        r#"{"subject": "edit-client", "message": {"client": {"id": "1", "type": ["client"]}}}"#,
    )
    .await;
    assert_eq!((status, v["status"].as_str()), (202, Some("queued")), "{v}");
    assert_eq!(pending(&env).await, 2);
}

#[tokio::test]
async fn webhook_record_id_queued_from_outside_the_door_fails_without_a_vendor_call() {
    let env = TestEnv::start_entities(
        "hostile-ids-queue",
        small(),
        &["contact", "company", "product"],
    )
    .await;
    // An event that reached the queue without the webhook door (a replayed dead letter, a
    // message written by an older version): the worker parses its id before any call.
    let bad = [
        ("clientify", Kind::Contact, "../companies/1"),
        ("clientify", Kind::Company, "1?x=1"),
        ("alegra", Kind::Contact, "%2E%2E%2Fitems%2F1"),
        ("alegra", Kind::Product, "1e+23"),
    ];
    for (i, (system, kind, id)) in bad.iter().enumerate() {
        let ev = ChangeEvent {
            tenant: "test".into(),
            system: system.to_string(),
            kind: *kind,
            id: id.to_string(),
            event_id: format!("outside-{i}"),
            observed_at: chrono::Utc::now(),
        };
        let body = serde_json::to_string(&ev).unwrap();
        env.app
            .store
            .send(&ev.group(), &format!("test/{}", ev.event_id), &body)
            .await
            .unwrap();
    }
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    let mut taken = 0;
    for _ in 0..10 {
        taken += work_once(
            &env.app,
            env.app.store.as_ref(),
            10,
            Duration::from_secs(30),
        )
        .await
        .taken;
        if pending(&env).await == 0 {
            break;
        }
    }
    assert_eq!(taken, bad.len(), "each event taken once");
    assert_eq!(pending(&env).await, 0, "refused for good, not retried");
    assert_eq!(
        env.app.store.queue_depth().await.unwrap().1,
        0,
        "no dead letter"
    );
    assert_eq!(env.sb.clientify.stats().total, 0, "no Clientify call");
    assert_eq!(env.sb.alegra.stats().total, 0, "no Alegra call");
    let mut q = LogQuery::new("test", 50);
    q.action = Some(Action::Failed);
    let failed = env.app.store.query(&q).await.unwrap();
    assert_eq!(failed.len(), bad.len(), "{failed:#?}");
    for e in &failed {
        let why = e.reason.as_deref().unwrap_or_default();
        assert!(
            why.contains("event refused") && why.contains("is not a whole number"),
            "{why}"
        );
    }
}

/// Issue 18 (2): Alegra creates a subscription only if an empty POST to its URL gets a 2XX
/// within 5 s. That handshake (with the right URL secret) is answered 200 with nothing
/// queued; the same empty body to Clientify, which has no handshake, is still a 400; and a
/// wrong secret is still 401.
#[tokio::test]
async fn alg11_alegra_subscription_handshake_is_answered_2xx_and_queues_nothing() {
    let env = TestEnv::start("handshake", small()).await;
    let (status, v) = deliver(&env, "alegra", "").await;
    assert_eq!(
        (status, v["status"].as_str()),
        (200, Some("handshake")),
        "{v}"
    );
    assert_eq!(pending(&env).await, 0);
    let (status, _) = deliver(&env, "clientify", "").await;
    assert_eq!(status, 400);
    let (status, _) = accept_webhook(&env.app, Some(SECRET), "test", "alegra", "nope", b"").await;
    assert_eq!(status, 401);
    assert_eq!(pending(&env).await, 0);
}
