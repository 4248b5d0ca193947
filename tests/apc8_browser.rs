//! APC-8 in a real browser: Debian's headless Chromium, driven through chromedriver with
//! fantoccini, against `puente serve` (webhooks, workers, scheduler and the activity page in
//! one process) on the sandboxes. Log in (a wrong password refused), filter, open a
//! timeline, make a record fail (the Alegra sandbox answers 5xx), lift the fault, press
//! Retry and see it succeed, replay its dead letter, look a link up by its key; another
//! tenant's URL refused. A screenshot of each page goes to `target/apc8-screenshots/`.
//!
//! Needs `/usr/bin/chromium` and `/usr/bin/chromedriver` (Debian's `chromium` and
//! `chromium-driver`; `infra/test.sh` installs them when missing).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::serve::{serve, ServeOptions};
use puente_runtime::{App, Config};
use puente_sandbox::{Faults, SandboxConfig};
use puente_store::memory::MemoryStore;
use puente_store::{Action, ActivityEntry, ActivityLog, RunQuery, SqliteStore, Store};
use puente_web::{LocalTenant, PasswordFile, TenantSource, TenantView, Tenants, UiOptions};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const PASSWORD: &str = "test-tenant-password";
const OTHER_PASSWORD: &str = "other-tenant-password";

/// A free loopback port (bound, read and released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver, stopped (by its own pid) when dropped, with the Chromium processes it
/// started for this test: found by this test's own `--user-data-dir`, since a killed
/// chromedriver leaves its browser running (a test that panicked never closed its session).
struct Driver {
    child: Child,
    url: String,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let marker = format!("--user-data-dir={}", self.profile.display());
        for p in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = p.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
            if cmd.split(|b| *b == 0).any(|a| a == marker.as_bytes()) {
                let _ = Command::new("kill").arg(pid.to_string()).status();
            }
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

async fn start_driver(profile: PathBuf) -> Driver {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver (infra/test.sh does)"
        );
    }
    let port = free_port();
    // Owned by the guard at once: it is killed and reaped however this function ends.
    let driver = Driver {
        child: Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts"),
        url: format!("http://127.0.0.1:{port}"),
        profile,
    };
    let http = reqwest::Client::new();
    for _ in 0..100 {
        if http
            .get(format!("{}/status", driver.url))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return driver;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver did not answer on {}", driver.url);
}

async fn browser(driver: &Driver, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("apc8-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.expect("screenshot");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
}

async fn texts(c: &Client, css: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in c.find_all(Locator::Css(css)).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

/// Reloads until `done` holds for the page source (at most `secs` seconds).
async fn until(c: &Client, secs: u64, what: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let src = c.source().await.unwrap();
        if done(&src) {
            return src;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}; page:\n{src}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        c.refresh().await.unwrap();
    }
}

/// Waits (without reloading) until the page in the browser satisfies `done(path, source)`:
/// a click on a form button returns before the next page has loaded.
async fn settle(c: &Client, what: &str, done: impl Fn(&str, &str) -> bool) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let src = c.source().await.unwrap();
        let path = c.current_url().await.unwrap().path().to_string();
        if done(&path, &src) {
            return src;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what} (at {path}); page:\n{src}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks the element `css` finds.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Types into the element `css` finds.
async fn type_in(c: &Client, css: &str, text: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .send_keys(text)
        .await
        .unwrap();
}

/// A second tenant the same page serves, with a record the first must never see.
struct Other(TenantView);

#[async_trait::async_trait]
impl TenantSource for Other {
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>> {
        Ok((name == self.0.name).then(|| self.0.clone()))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn apc8_activity_page_in_a_real_browser() {
    let c = SandboxConfig {
        seed: 88,
        contacts: 16,
        companies: 3,
        shared_contacts: 4,
        shared_companies: 1,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let sb = puente_sandbox::start(&c, None, None).await.unwrap();
    let store_path = temp_path("apc8-browser");
    let toml = config_toml(&sb.clientify.base_url, &sb.alegra.base_url, &c, &store_path);
    // One delivery per event: a change that fails once goes to the dead letters.
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&store_path).unwrap().with_max_receives(1));
    let app =
        Arc::new(App::build(Config::parse(&toml).unwrap(), store.clone(), test_retry()).unwrap());
    let passwords = PasswordFile::beside(&store_path.with_file_name(format!(
        "pw-{}/x.sqlite",
        store_path.file_stem().unwrap().to_string_lossy()
    )));
    passwords.set("test", PASSWORD).unwrap();

    let other_store = Arc::new(MemoryStore::new());
    other_store
        .append(&[ActivityEntry {
            tenant: "other".into(),
            at: chrono::Utc::now(),
            flow: FLOW.into(),
            kind: "contact".into(),
            action: Action::Failed,
            system: "clientify".into(),
            external_id: Some("other-secret-record".into()),
            reason: Some("other tenant's failure".into()),
            expires_at: chrono::Utc::now() + chrono::TimeDelta::days(1),
            ..ActivityEntry::default()
        }])
        .await
        .unwrap();
    let other = TenantView {
        name: "other".into(),
        store: other_store,
        flows: vec![],
        password_hash: Some(puente_web::auth::hash_password(OTHER_PASSWORD).unwrap()),
    };
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let ui = puente_web::router(
        Arc::new(Tenants(vec![
            Arc::new(LocalTenant {
                app: app.clone(),
                passwords,
            }),
            Arc::new(Other(other)),
        ])),
        UiOptions::for_listen(&listen),
    );
    let opts = ServeOptions {
        listen: listen.clone(),
        initial_full: true,
        modified_every: Some(Duration::from_secs(3600)),
        ui: Some(ui),
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(app.clone(), opts, async {
        let _ = stop_rx.await;
    }));
    // The initial Full run, stored as a run.
    let runs = RunQuery {
        tenant: "test".into(),
        limit: 5,
        ..RunQuery::default()
    };
    for _ in 0..300 {
        if !store.runs(&runs).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        store.runs(&runs).await.unwrap().len(),
        1,
        "the initial Full run is stored"
    );
    let link = store
        .links(puente_store::Scope::new("test", FLOW, "contact"))
        .await
        .unwrap()[0]
        .clone();
    let cid = link.ids["clientify"].clone();
    let key = link.key.clone().expect("a linked contact has a key");

    let profile = std::env::temp_dir().join(format!("apc8-chromium-{}-{port}", std::process::id()));
    let driver = start_driver(profile.clone()).await;
    let b = browser(&driver, &profile).await;
    let base = format!("http://{listen}/ui/test");

    // Never open: the page sends a visitor to log in, and refuses a wrong password.
    b.goto(&format!("{base}/activity")).await.unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/ui/test/login");
    shot(&b, "1-login").await;
    type_in(&b, "#password", "not-the-password").await;
    click(&b, "#login").await;
    settle(&b, "the refusal", |p, s| {
        p == "/ui/test/login" && s.contains("Wrong password")
    })
    .await;
    shot(&b, "2-login-refused").await;
    type_in(&b, "#password", PASSWORD).await;
    click(&b, "#login").await;
    settle(&b, "the activity page", |p, s| {
        p == "/ui/test/activity" && s.contains("id=\"entries\"")
    })
    .await;
    let actions = texts(&b, "#entries tr.entry .pill").await;
    assert!(actions.contains(&"created".to_string()), "{actions:?}");
    shot(&b, "3-activity").await;

    // Filter: created entries only, then one record (either side).
    b.find(Locator::Css("select[name=action]"))
        .await
        .unwrap()
        .select_by_value("created")
        .await
        .unwrap();
    click(&b, "#f-apply").await;
    settle(&b, "the filtered list", |p, _| p == "/ui/test/activity").await;
    settle(&b, "the filter applied", |_, s| {
        s.contains("<option value=\"created\" selected")
    })
    .await;
    let actions = texts(&b, "#entries tr.entry .pill").await;
    assert!(
        !actions.is_empty() && actions.iter().all(|a| a == "created"),
        "{actions:?}"
    );
    b.goto(&format!("{base}/activity?record=clientify%3A{cid}"))
        .await
        .unwrap();
    let rows = b.find_all(Locator::Css("#entries tr.entry")).await.unwrap();
    assert!(!rows.is_empty(), "the record has entries");
    shot(&b, "4-activity-filtered").await;

    // Open its timeline from the filtered list.
    click(
        &b,
        "#entries tr.entry td:nth-child(4) a, #entries tr.entry td:nth-child(5) a",
    )
    .await;
    let src = settle(&b, "the timeline", |p, s| {
        p.contains("/record/contact/") && s.contains("id=\"timeline\"")
    })
    .await;
    assert!(src.contains(&link.id), "the link is shown");
    shot(&b, "5-timeline").await;

    // Runs.
    b.goto(&format!("{base}/runs")).await.unwrap();
    let src = b.source().await.unwrap();
    assert!(
        src.contains("full") && src.contains("contact"),
        "the Full run and its counts"
    );
    shot(&b, "6-runs").await;

    // Make the record fail: the contact changed in Clientify, Alegra answers 5xx.
    let http = reqwest::Client::new();
    clientify_put(
        &http,
        &sb.clientify,
        &c,
        Kind::Contact,
        &cid,
        json!({"first_name": "Reintento"}),
    )
    .await;
    sb.alegra.set_faults(Faults {
        error_5xx: 1.0,
        ..Faults::default()
    });
    b.goto(&format!("{base}/record/contact/clientify/{cid}"))
        .await
        .unwrap();
    click(&b, "#retry-record").await;
    settle(&b, "the retry notice", |_, s| s.contains("id=\"notice\"")).await;
    until(&b, 20, "the failed attempt in the timeline", |s| {
        s.contains("pill failed")
    })
    .await;
    b.goto(&format!("{base}/failures")).await.unwrap();
    let src = until(&b, 30, "the failure and its dead letter", |s| {
        s.contains(&format!("data-record=\"clientify:{cid}\""))
            && s.contains("class=\"dead-letter\"")
    })
    .await;
    assert!(
        src.contains("alegra answered HTTP 50"),
        "the vendor's message"
    );
    shot(&b, "7-failures").await;

    // Lift the fault, press Retry on the failed record: it syncs.
    sb.alegra.set_faults(Faults::default());
    click(
        &b,
        &format!("tr.failure[data-record=\"clientify:{cid}\"] button.retry"),
    )
    .await;
    settle(&b, "the retry notice", |_, s| {
        s.contains("Queued: the record is synced again")
    })
    .await;
    b.goto(&format!("{base}/record/contact/clientify/{cid}"))
        .await
        .unwrap();
    let src = until(&b, 30, "the retried record to sync", |s| {
        s.contains("pill updated") && s.contains("Reintento")
    })
    .await;
    assert!(
        src.contains("first_name"),
        "the field written, with its value"
    );
    shot(&b, "8-timeline-after-retry").await;
    let alegra = alegra_get(&http, &sb.alegra, &c, &link.ids["alegra"]).await;
    assert!(alegra.to_string().contains("Reintento"), "{alegra}");

    // Replay the dead letter (as `puente dlq replay`): it leaves the list.
    b.goto(&format!("{base}/failures")).await.unwrap();
    let src = b.source().await.unwrap();
    assert!(
        src.contains("synced since"),
        "the failure shows it was resolved"
    );
    click(&b, "tr.dead-letter button.replay").await;
    settle(&b, "the replay notice", |_, s| {
        s.contains("Replayed: the dead letter")
    })
    .await;
    until(&b, 20, "the dead letter to be replayed", |s| {
        !s.contains("class=\"dead-letter\"")
    })
    .await;
    shot(&b, "9-failures-after-replay").await;
    let (_, dead) = store.queue_depth().await.unwrap();
    assert_eq!(dead, 0);

    // Links by any key: the contact's identification.
    b.goto(&format!("{base}/links")).await.unwrap();
    type_in(&b, "#q", &key).await;
    click(&b, "#lookup").await;
    let src = settle(&b, "the link found", |_, s| s.contains("id=\"links\"")).await;
    assert!(
        src.contains(&format!("alegra:{}", link.ids["alegra"]))
            && src.contains(&format!("clientify:{cid}")),
        "both sides' ids: {src}"
    );
    shot(&b, "10-links").await;

    // Another tenant's URL: refused, its records never shown.
    b.goto(&format!("http://{listen}/ui/other/activity"))
        .await
        .unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/ui/other/login");
    b.goto(&format!(
        "http://{listen}/ui/other/record/contact/clientify/other-secret-record"
    ))
    .await
    .unwrap();
    assert_eq!(b.current_url().await.unwrap().path(), "/ui/other/login");
    assert!(!b.source().await.unwrap().contains("other tenant's failure"));
    type_in(&b, "#password", PASSWORD).await;
    click(&b, "#login").await;
    let src = settle(&b, "the other tenant's refusal", |p, s| {
        p == "/ui/other/login" && s.contains("Wrong password")
    })
    .await;
    assert!(!src.contains("other tenant's failure"));
    shot(&b, "11-other-tenant-refused").await;

    b.close().await.unwrap();
    drop(driver);
    let _ = stop_tx.send(());
    let _ = server.await;
}
