//! RUN-5 and ALG-11 on the local runtime: the webhook endpoint answers before any vendor
//! call, rejects bad requests with nothing enqueued, deduplicates, and the worker turns a
//! queued event into a vendor write.

use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

async fn spawn_server(env: &TestEnv) -> String {
    // The app is shared with the server the way `serve` shares it.
    let app = Arc::new(
        puente_runtime::App::build(env.app.config.clone(), env.app.store.clone(), test_retry())
            .unwrap(),
    );
    let state = ServerState {
        app,
        secret: Some("s3cret-hook".into()),
        inactive: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum_serve(listener, state).await });
    format!("http://{addr}")
}

async fn axum_serve(listener: tokio::net::TcpListener, state: ServerState) {
    axum::serve(listener, router(state)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_run5_webhook_is_queued_then_worker_writes_to_alegra() {
    let cfg = SandboxConfig {
        seed: 31,
        contacts: 20,
        companies: 4,
        shared_contacts: 4,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let env = TestEnv::start("webhook", cfg).await;
    env.activate().await;
    env.sync(Mode::Full).await;
    let base = spawn_server(&env).await;
    let http = reqwest::Client::new();
    let links = env
        .app
        .store
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap();
    let (cid, aid) = (
        links[0].ids["clientify"].clone(),
        links[0].ids["alegra"].clone(),
    );
    let edited = env
        .clientify_put(
            Kind::Contact,
            &cid,
            json!({"last_name": "Webhook-Apellido"}),
        )
        .await;

    // Wrong secret: 401, nothing enqueued. Another tenant: 401.
    let body = json!({"event": "contact.saved", "contact": edited});
    for url in [
        format!("{base}/webhooks/test/clientify/wrong"),
        format!("{base}/webhooks/other/clientify/s3cret-hook"),
    ] {
        let r = http.post(&url).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 401, "{url}");
    }
    // Malformed body: 400 with a reason.
    let r = http
        .post(format!("{base}/webhooks/test/clientify/s3cret-hook"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("not JSON"));
    // Too large: 413.
    let big = "x".repeat(300 * 1024);
    let r = http
        .post(format!("{base}/webhooks/test/clientify/s3cret-hook"))
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Unknown event: 202, ignored.
    let r = http
        .post(format!("{base}/webhooks/test/clientify/s3cret-hook"))
        .json(&json!({"event": "task.saved", "task": {"id": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    assert_eq!(
        env.app.store.queue_depth().await.unwrap().0,
        0,
        "nothing enqueued for rejected or ignored requests"
    );

    // The real delivery, twice (Clientify may retry): 202 both, one event queued, no vendor call yet.
    env.sb.alegra.reset_stats();
    for expect in ["queued", "duplicate"] {
        let r = http
            .post(format!("{base}/webhooks/test/clientify/s3cret-hook"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["status"], expect);
    }
    assert_eq!(env.app.store.queue_depth().await.unwrap().0, 1);
    assert_eq!(
        env.sb.alegra.stats().total,
        0,
        "answered before any vendor call"
    );

    // The worker re-reads the contact from Clientify and writes the change to Alegra once.
    let done = work_once(
        &env.app,
        env.app.store.as_ref(),
        10,
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(done.taken, 1);
    assert_eq!(done.latencies.len(), 1, "one event completed");
    assert_eq!(
        env.app.store.queue_depth().await.unwrap().0,
        0,
        "acknowledged"
    );
    let a = env.alegra_get(&aid).await;
    assert!(
        a["name"].as_str().unwrap().ends_with("Webhook-Apellido"),
        "{}",
        a["name"]
    );
    assert_eq!(writes(&env.sb.alegra), 1);
    // And the echo of our own write (a Modified run now) writes nothing.
    env.sb.alegra.reset_stats();
    env.sb.clientify.reset_stats();
    env.sync(Mode::Modified).await;
    assert_eq!(writes(&env.sb.alegra) + writes(&env.sb.clientify), 0);
}
