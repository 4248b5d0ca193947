//! The `puente` binary as a user runs it (ALG-12 config errors, ALG-9 sync with --json and
//! --dry-run, RUN-5 log and links on the embedded store).

use puente_e2e::{config_toml, temp_path};
use puente_sandbox::SandboxConfig;
use std::process::Command;

fn puente(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_puente"))
        .args(args)
        .output()
        .expect("puente runs")
}

#[test]
fn alg12_bad_config_exits_1_naming_the_key_and_the_fix() {
    let p = temp_path("bad-config").with_extension("toml");
    std::fs::write(
        &p,
        "[[flows]]\nname = \"f\"\na = \"clientify\"\nb = \"alegra\"\n",
    )
    .unwrap();
    let out = puente(&["--config", p.to_str().unwrap(), "sync", "--flow", "f"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("config error at `flows[0].a`: no connection named 'clientify'"),
        "{err}"
    );
    assert!(
        err.contains("fix: add a [connections.clientify] section"),
        "{err}"
    );
    let out = puente(&["--config", "/nonexistent/puente.toml", "log"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the config file"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg9_run5_sync_json_then_log_and_links() {
    let cfg = SandboxConfig {
        seed: 41,
        contacts: 25,
        companies: 4,
        shared_contacts: 5,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let sb = puente_sandbox::start(&cfg, None, None).await.unwrap();
    let store = temp_path("cli");
    let conf = store.with_extension("toml");
    std::fs::write(
        &conf,
        config_toml(&sb.clientify.base_url, &sb.alegra.base_url, &cfg, &store),
    )
    .unwrap();
    let c = conf.to_str().unwrap().to_string();
    let run = |args: Vec<String>| async move {
        tokio::task::spawn_blocking(move || {
            Command::new(env!("CARGO_BIN_EXE_puente"))
                .args(&args)
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    let args = |extra: &[&str]| -> Vec<String> {
        ["--config", &c]
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };

    // Dry run: a plan, no writes.
    let out = run(args(&[
        "sync",
        "--flow",
        "clientify-alegra",
        "--mode",
        "full",
        "--dry-run",
        "--json",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["dry_run"], true);
    assert!(!plan["plan"].as_array().unwrap().is_empty());
    assert_eq!(
        puente_e2e::writes(&sb.clientify) + puente_e2e::writes(&sb.alegra),
        0,
        "{:?} {:?}",
        sb.clientify.stats(),
        sb.alegra.stats()
    );

    // The real run: its JSON summary agrees with the sandboxes.
    let out = run(args(&[
        "sync",
        "--flow",
        "clientify-alegra",
        "--mode",
        "full",
        "--json",
    ]))
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        s["entities"]["contact"]["created"],
        plan["entities"]["contact"]["created"]
    );
    let created_in_alegra = s["entities"]["contact"]["created"]["alegra"]
        .as_u64()
        .unwrap()
        + s["entities"]["company"]["created"]["alegra"]
            .as_u64()
            .unwrap();
    let posts = sb
        .alegra
        .stats()
        .by_route
        .get("POST /api/v1/contacts")
        .copied()
        .unwrap_or(0);
    assert_eq!(
        posts, created_in_alegra,
        "one POST per record the summary says it created"
    );
    assert_eq!(
        s["calls"]["alegra"]["by_method"]["POST"].as_u64().unwrap(),
        posts,
        "the summary counts the calls the vendor saw"
    );

    // log and links read the same store.
    let out = run(args(&["log", "--action", "skipped", "--json"])).await;
    let log: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let skipped = s["entities"]["contact"]["skipped"].as_u64().unwrap()
        + s["entities"]["company"]["skipped"].as_u64().unwrap();
    assert_eq!(log.as_array().unwrap().len() as u64, skipped);
    let first = &log[0];
    assert!(first["reason"]
        .as_str()
        .unwrap()
        .contains("no identification"));
    let created = run(args(&[
        "log", "--action", "created", "--limit", "1", "--json",
    ]))
    .await;
    let e: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let rec = format!(
        "{}:{}",
        e[0]["system"].as_str().unwrap(),
        e[0]["external_id"].as_str().unwrap()
    );
    let out = run(args(&[
        "links",
        &rec,
        "--kind",
        e[0]["kind"].as_str().unwrap(),
        "--json",
    ]))
    .await;
    let link: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        link["ids"][e[0]["target_system"].as_str().unwrap()],
        e[0]["target_id"]
    );
}

/// `puente dlq list|replay` on the local store: a message that failed every receive is
/// listed with its last error, replaying it puts it back on the queue, and a replay without
/// ids (or of an unknown id) says what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run3_dlq_list_and_replay_on_the_local_store() {
    use puente_store::sqlite::SqliteStore;
    use puente_store::Queue;
    let db = temp_path("dlq").with_extension("sqlite");
    let cfg = temp_path("dlq-config").with_extension("toml");
    std::fs::write(
        &cfg,
        format!("tenant = \"test\"\n[store]\npath = \"{}\"\n", db.display()),
    )
    .unwrap();
    {
        let store = SqliteStore::open(&db).unwrap().with_max_receives(1);
        assert!(store.send("g1", "d1", "{\"poison\":true}").await.unwrap());
        let m = store
            .receive(1, std::time::Duration::from_secs(30))
            .await
            .unwrap();
        store
            .retry_later(&m[0].receipt, std::time::Duration::ZERO, "vendor said no")
            .await
            .unwrap();
        // The next receive finds it over its limit and moves it to the dead letters.
        assert!(store
            .receive(1, std::time::Duration::from_secs(30))
            .await
            .unwrap()
            .is_empty());
    }
    let c = cfg.to_str().unwrap();
    let out = puente(&["--config", c, "dlq", "list", "--json"]);
    assert!(out.status.success(), "{out:?}");
    let dead: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(dead.as_array().map(Vec::len), Some(1), "{dead}");
    assert_eq!(dead[0]["body"], "{\"poison\":true}");
    assert_eq!(dead[0]["last_error"], "vendor said no");
    let id = dead[0]["id"].as_str().unwrap().to_string();

    let out = puente(&["--config", c, "dlq", "replay"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--all"),
        "{out:?}"
    );
    let out = puente(&["--config", c, "dlq", "replay", "no-such-id"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");

    let out = puente(&["--config", c, "dlq", "replay", &id]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 of 1 replayed"));
    let out = puente(&["--config", c, "dlq", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("the dead-letter queue is empty"));
    let store = SqliteStore::open(&db).unwrap();
    let back = store
        .receive(1, std::time::Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(back.len(), 1, "replayed onto the queue");
    assert_eq!(back[0].body, "{\"poison\":true}");
}
