//! Bad credentials, unreachable vendors, 429 storms and bad configs: a clear message or a
//! completed sync, never a panic or a half-written link (issue 2).

use puente_connectors::ConnectorError;
use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::{run, App, Config, Mode, NoProgress};
use puente_sandbox::SandboxConfig;
use puente_store::memory::MemoryStore;
use puente_store::Store;
use std::sync::Arc;
use std::time::Duration;

fn cfg(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        contacts: 30,
        companies: 5,
        shared_contacts: 5,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

fn app_for(toml: &str) -> App {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    App::build(Config::parse(toml).unwrap(), store, test_retry()).unwrap()
}

#[tokio::test]
async fn alg12_wrong_credentials_name_the_system_and_its_answer() {
    let c = cfg(21);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let toml = config_toml(
        &sb.clientify.base_url,
        &sb.alegra.base_url,
        &c,
        std::path::Path::new("unused.sqlite"),
    )
    .replace(&c.alegra_token, "wrong-token");
    let app = app_for(&toml);
    let err = puente_runtime::activate(app.flow(FLOW).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Auth { status: 401, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with("alegra rejected the credentials (HTTP 401"),
        "{msg}"
    );
    assert!(msg.contains("API token"), "says what to fix: {msg}");
    assert!(!msg.contains("wrong-token"), "never prints the secret");

    let toml = config_toml(
        &sb.clientify.base_url,
        &sb.alegra.base_url,
        &c,
        std::path::Path::new("unused.sqlite"),
    )
    .replace(&c.clientify_token, "nope");
    let err = puente_runtime::activate(app_for(&toml).flow(FLOW).unwrap())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("clientify rejected the credentials (HTTP 401: Invalid token.)"),
        "{err}"
    );
}

#[tokio::test]
async fn alg13_activation_creates_the_clientify_custom_fields_once() {
    let c = cfg(22);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let app = app_for(&config_toml(
        &sb.clientify.base_url,
        &sb.alegra.base_url,
        &c,
        std::path::Path::new("x"),
    ));
    let created = puente_runtime::activate(app.flow(FLOW).unwrap())
        .await
        .unwrap();
    assert_eq!(
        created,
        vec![
            "custom field in_alegra on contacts",
            "custom field in_alegra on companies"
        ]
    );
    let again = puente_runtime::activate(app.flow(FLOW).unwrap())
        .await
        .unwrap();
    assert!(again.is_empty(), "nothing created twice: {again:?}");
}

#[tokio::test]
async fn alg12_unreachable_vendor_is_a_clear_error_and_no_link_is_written() {
    let c = cfg(23);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let app = app_for(&config_toml(
        &sb.clientify.base_url,
        "http://127.0.0.1:9/api/v1",
        &c,
        std::path::Path::new("x"),
    ));
    let flow = app.flow(FLOW).unwrap();
    let err = puente_runtime::activate(flow).await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("alegra is unreachable at http://127.0.0.1:9/api/v1/contacts"),
        "{err}"
    );
    let s = run(flow, Mode::Full, false, &NoProgress).await;
    assert_eq!(s.errors.len(), 2, "{:?}", s.errors);
    assert!(
        s.errors[0].contains("alegra is unreachable"),
        "{:?}",
        s.errors
    );
    assert!(app
        .store
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_vendor_going_down_mid_sync_leaves_no_half_written_link() {
    let c = cfg(24);
    let env = TestEnv::start("down-mid", c).await;
    env.activate().await;
    // Alegra answers the listing, then disappears before the writes.
    let flow = env.flow();
    let stop = env.sb.alegra.clone();
    let h = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        stop.shutdown();
    });
    let s = run(flow, Mode::Full, false, &NoProgress).await;
    h.await.unwrap();
    // Every link that exists points at records that exist on both sides.
    let clientify: std::collections::HashSet<String> = env
        .clientify_all(Kind::Contact)
        .await
        .iter()
        .map(|v| v["id"].to_string())
        .collect();
    for l in env
        .app
        .store
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap()
    {
        assert!(
            clientify.contains(&l.ids["clientify"]),
            "link to a missing record: {l:?}"
        );
        assert!(l.ids.contains_key("alegra"));
    }
    let failed: u64 = s.entities.values().map(|c| c.failed).sum();
    assert!(
        failed > 0 || !s.errors.is_empty(),
        "the outage is reported: {s:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_rate_limit_storm_completes_with_429s_honoured() {
    let c = SandboxConfig {
        alegra_rate_limit: 25,
        alegra_rate_window: Duration::from_secs(2),
        ..cfg(25)
    };
    let env = TestEnv::start("storm", c).await;
    env.activate().await;
    let s = env.sync(Mode::Full).await;
    let stats = env.sb.alegra.stats();
    assert!(
        stats.total > 25,
        "needs more calls than one window allows: {stats:?}"
    );
    let failed: u64 = s.entities.values().map(|c| c.failed).sum();
    assert_eq!(failed, 0, "{s:?}");
    // Pacing on X-Rate-Limit-Remaining avoids most 429s; any that came were retried.
    assert_eq!(s.calls["alegra"].rate_limited, stats.rate_limited);
    let again = env.sync(Mode::Full).await;
    assert_eq!(
        again.entities["contact"].created_total() + again.entities["contact"].updated_total(),
        0
    );
}

#[test]
fn alg12_malformed_config_names_the_key() {
    let e = Config::parse(
        "tenant = \"x\"\n[[flows]]\nname = \"f\"\na = \"clientify\"\nb = \"alegra\"\n",
    )
    .unwrap_err();
    assert_eq!(e.key, "flows[0].a");
    let e = Config::parse("[connections.alegra]\ntype = \"alegra\"\nemail = 5\n").unwrap_err();
    assert_eq!(e.key, "connections.alegra", "{e}");
    assert!(e.problem.contains("expected a string"), "{e}");
    // A connection that parses but lacks a secret fails when built, naming the key.
    let toml = "[connections.alegra]\ntype = \"alegra\"\nemail = \"a@b.es\"\n";
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let Err(e) = App::build(Config::parse(toml).unwrap(), store, test_retry()) else {
        panic!("built without a token")
    };
    assert_eq!(e.key, "connections.alegra.token");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg12_call_budget_stops_the_run_cleanly_and_the_next_run_finishes_it() {
    let c = cfg(26);
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let store_path = temp_path("budget");
    let toml = config_toml(&sb.clientify.base_url, &sb.alegra.base_url, &c, &store_path)
        .replace("email = ", "call_budget = 12\nemail = ");
    let store: Arc<dyn Store> = Arc::new(puente_store::SqliteStore::open(&store_path).unwrap());
    let app = App::build(Config::parse(&toml).unwrap(), store, test_retry()).unwrap();
    let flow = app.flow(FLOW).unwrap();
    puente_runtime::activate(flow).await.unwrap();
    let s = run(flow, Mode::Full, false, &NoProgress).await;
    assert!(
        s.calls["alegra"].total <= 12,
        "budget respected across the run: {:?}",
        s.calls["alegra"]
    );
    let failed = app
        .store
        .query(&puente_store::LogQuery {
            tenant: "test".into(),
            action: Some(puente_store::Action::Failed),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!failed.is_empty());
    assert!(
        failed.iter().all(|e| e
            .reason
            .as_deref()
            .unwrap_or("")
            .contains("call budget of 12 calls")),
        "{:?}",
        failed[0]
    );
    assert!(
        s.errors
            .iter()
            .any(|e| e.contains("alegra: the call budget of 12 calls for this run is spent")),
        "{:?}",
        s.errors
    );
    // Without a budget the next run completes the work, without duplicates.
    let app2 = App::build(
        Config::parse(&toml.replace("call_budget = 12\n", "")).unwrap(),
        app.store.clone(),
        test_retry(),
    )
    .unwrap();
    let s2 = run(app2.flow(FLOW).unwrap(), Mode::Full, false, &NoProgress).await;
    assert!(s2.errors.is_empty(), "{:?}", s2.errors);
    let s3 = run(app2.flow(FLOW).unwrap(), Mode::Full, false, &NoProgress).await;
    assert_eq!(
        s3.entities["contact"].created_total() + s3.entities["contact"].updated_total(),
        0,
        "converged"
    );
}
