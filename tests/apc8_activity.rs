//! APC-8 on the local runtime: failures notified at once (one message per problem, a digest
//! for a burst, against a local receiver), run summaries stored per run, and entries that say
//! what was sent (values) and how the record was found (key), retrievable by either side.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::routing::post;
use axum::{Json, Router};
use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::events::{handle, ChangeEvent};
use puente_runtime::notify::{Notifier as _, Problem, ProblemKind, ProblemRecord};
use puente_runtime::{App, Config, Mode};
use puente_sandbox::{Faults, SandboxConfig};
use puente_store::{Action, LogQuery, RecordRef, RunQuery, SqliteStore, Store};
use serde_json::Value;

/// A local stand-in for a Slack/Teams incoming webhook: keeps every body it receives.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |Json(v): Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

fn cfg(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        contacts: 12,
        companies: 2,
        shared_contacts: 3,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

async fn app_with_notify(sb: &puente_sandbox::Sandboxes, c: &SandboxConfig, hook: &str) -> App {
    let path = temp_path("apc8");
    let toml = format!(
        "{}\n[notify]\nwebhook_url = \"{hook}\"\nwindow_seconds = 1\n",
        config_toml(&sb.clientify.base_url, &sb.alegra.base_url, c, &path)
    )
    .replace(
        "[server]\n",
        "[server]\npublic_url = \"https://puente.example.es\"\n",
    );
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    App::build(Config::parse(&toml).unwrap(), store, test_retry()).unwrap()
}

async fn wait_for(got: &Arc<Mutex<Vec<Value>>>, n: usize) {
    let until = tokio::time::Instant::now() + Duration::from_secs(10);
    while got.lock().unwrap().len() < n && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apc8_a_failed_record_is_one_notification_with_the_vendors_message_and_a_link() {
    let c = cfg(81);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let (hook, got) = receiver().await;
    let app = app_with_notify(&sb, &c, &hook).await;
    let flow = app.flow(FLOW).unwrap();
    puente_runtime::activate(flow).await.unwrap();
    let contacts = clientify_list_ids(&sb, &c).await;
    let cid = contacts[0].clone();

    // Alegra answers 503 to everything: the record fails, and the queue would retry it.
    sb.alegra.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    let ev = ChangeEvent {
        tenant: "test".into(),
        system: "clientify".into(),
        kind: Kind::Contact,
        id: cid.clone(),
        event_id: "e-1".into(),
        observed_at: chrono::Utc::now(),
    };
    for _ in 0..3 {
        let _ = handle(&app, &ev).await;
    }
    wait_for(&got, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let msgs = got.lock().unwrap().clone();
    assert_eq!(msgs.len(), 1, "one problem, one message: {msgs:?}");
    let text = msgs[0]["text"].as_str().unwrap();
    assert!(text.contains("record failed: contact clientify:"), "{text}");
    assert!(
        text.contains("alegra answered HTTP 503: Error interno del servidor")
            || text.contains("alegra answered HTTP 500: Error interno del servidor"),
        "the vendor's message: {text}"
    );
    assert!(
        text.contains(&format!(
            "https://puente.example.es/ui/test/record/contact/clientify/{cid}"
        )),
        "a link to its timeline: {text}"
    );
    // The log entry keeps what the failures page shows.
    let failed = app
        .store
        .query(&LogQuery {
            action: Some(Action::Failed),
            record: Some(RecordRef::new("clientify", &cid)),
            ..LogQuery::new("test", 10)
        })
        .await
        .unwrap();
    assert_eq!(failed.len(), 3, "three attempts logged");
    let status = failed[0].request.as_ref().and_then(|r| r.status);
    assert!(matches!(status, Some(500 | 503)), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apc8_a_burst_of_500_failures_is_one_digest_not_500_messages() {
    let c = cfg(82);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let (hook, got) = receiver().await;
    let app = app_with_notify(&sb, &c, &hook).await;
    for i in 0..500 {
        app.notifier.notify(Problem {
            kind: ProblemKind::RecordFailed,
            tenant: "test".into(),
            flow: Some(FLOW.into()),
            system: "alegra".into(),
            record: Some(ProblemRecord {
                kind: "contact".into(),
                system: "clientify".into(),
                id: i.to_string(),
            }),
            detail: "alegra answered HTTP 400: identificación inválida".into(),
        });
    }
    wait_for(&got, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let msgs = got.lock().unwrap().clone();
    assert_eq!(msgs.len(), 1, "a digest: {:?}", msgs.len());
    let text = msgs[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("[test] 500 problems at once: 500 record failed on alegra."),
        "{text}"
    );
    assert!(
        text.contains("https://puente.example.es/ui/test/failures"),
        "{text}"
    );
    assert_eq!(app.notifier.messages_sent(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apc8_runs_are_stored_and_entries_say_what_was_sent_on_either_side() {
    let c = cfg(83);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let (hook, got) = receiver().await;
    let app = app_with_notify(&sb, &c, &hook).await;
    let flow = app.flow(FLOW).unwrap();
    puente_runtime::activate(flow).await.unwrap();
    let s = puente_runtime::run(flow, Mode::Full, false, &puente_runtime::NoProgress).await;
    assert!(s.errors.is_empty(), "{s:?}");

    let runs = app
        .store
        .runs(&RunQuery {
            tenant: "test".into(),
            limit: 10,
            ..RunQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(
        (r.run_id.as_str(), r.mode.as_str()),
        (s.run_id.as_str(), "full")
    );
    assert_eq!(
        r.counts["contact"].created,
        s.entities["contact"].created_total()
    );
    assert_eq!(r.calls["alegra"], s.calls["alegra"].total);
    assert!(r.calls["alegra"] > 0 && r.duration_ms == s.duration_ms);

    // A record created in Alegra: its entry has the key and the values sent, and the
    // Alegra record's id finds it (it was the target).
    let created = app
        .store
        .query(&LogQuery {
            action: Some(Action::Created),
            system: Some("clientify".into()),
            kind: Some("contact".into()),
            ..LogQuery::new("test", 1)
        })
        .await
        .unwrap();
    let e = &created[0];
    let key = e.key.clone().expect("key");
    assert_eq!(e.values.get("tax_id"), Some(&key), "{e:?}");
    assert!(
        e.values.contains_key("first_name") || e.values.contains_key("name"),
        "{e:?}"
    );
    assert!(e
        .matched_by
        .as_deref()
        .unwrap()
        .starts_with("none, created on alegra"));
    let target = RecordRef::new("alegra", e.target_id.clone().unwrap());
    let by_target = app
        .store
        .query(&LogQuery {
            record: Some(target),
            ..LogQuery::new("test", 10)
        })
        .await
        .unwrap();
    assert!(by_target.iter().any(|x| x.seq == e.seq));
    let by_key = app
        .store
        .query(&LogQuery {
            key: Some(key),
            ..LogQuery::new("test", 10)
        })
        .await
        .unwrap();
    assert!(by_key.iter().any(|x| x.seq == e.seq));
    // A clean run notifies nothing.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(got.lock().unwrap().is_empty());
}

/// The Clientify contact ids of the sandbox.
async fn clientify_list_ids(sb: &puente_sandbox::Sandboxes, c: &SandboxConfig) -> Vec<String> {
    let v: Value = reqwest::Client::new()
        .get(format!("{}/contacts/", sb.clientify.base_url))
        .header("Authorization", format!("Token {}", c.clientify_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["taxpayer_identification_number"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        })
        .map(|c| c["id"].to_string())
        .collect()
}
