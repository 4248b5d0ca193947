//! ALG-11 end to end over real HTTP: the sandboxes deliver webhooks themselves (Clientify to a
//! configured target, Alegra to the subscriptions Puente makes on activation) to Puente's
//! webhook server, whose queue workers sync each change. No schedule runs here: after the
//! initial import every change travels by webhook alone, and the echo of Puente's own writes
//! (the vendors notify those too) must come back as no further write.

use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::{App, Config, Mode, NoProgress};
use puente_sandbox::{SandboxConfig, Sandboxes, WebhookShape};
use puente_store::sqlite::SqliteStore;
use puente_store::Store;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "s3cret-hook";
/// Generous bound for a change to cross over (it takes milliseconds).
const WAIT: Duration = Duration::from_secs(30);

fn small(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        contacts: 24,
        companies: 6,
        shared_contacts: 6,
        shared_companies: 3,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

/// Sandboxes, Puente's webhook server on a loopback port and two queue workers.
struct Live {
    sb: Sandboxes,
    app: Arc<App>,
    cfg: SandboxConfig,
    http: reqwest::Client,
    /// `http://127.0.0.1:PORT`
    base: String,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    store_path: PathBuf,
}

impl Live {
    /// With `public_url` set, activation subscribes to Alegra's webhooks.
    async fn start(name: &str, cfg: SandboxConfig, public_url: bool) -> Live {
        Live::start_entities(name, cfg, public_url, &["contact", "company"]).await
    }

    /// [`Live::start`] with the flow's entities given.
    async fn start_entities(
        name: &str,
        cfg: SandboxConfig,
        public_url: bool,
        entities: &[&str],
    ) -> Live {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let sb = puente_sandbox::start(&cfg, None, None).await.unwrap();
        let store_path = temp_path(name);
        let mut toml = config_toml_entities(
            &sb.clientify.base_url,
            &sb.alegra.base_url,
            &cfg,
            &store_path,
            entities,
        );
        if public_url {
            toml = toml.replace(
                &format!("webhook_secret = \"{SECRET}\""),
                &format!("webhook_secret = \"{SECRET}\"\npublic_url = \"{base}\""),
            );
        }
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).unwrap());
        let app = Arc::new(App::build(Config::parse(&toml).unwrap(), store, test_retry()).unwrap());
        let state = ServerState {
            app: app.clone(),
            secret: Some(SECRET.into()),
            inactive: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        let mut tasks = vec![tokio::spawn(async move {
            axum::serve(listener, router(state)).await.unwrap();
        })];
        for _ in 0..2 {
            let app = app.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let done =
                        work_once(&app, app.store.as_ref(), 10, Duration::from_secs(30)).await;
                    if done.taken == 0 {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            }));
        }
        Live {
            sb,
            app,
            cfg,
            http: reqwest::Client::new(),
            base,
            tasks,
            store_path,
        }
    }

    fn hook_url(&self, system: &str) -> String {
        format!("{}/webhooks/test/{system}/{SECRET}", self.base)
    }

    fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(FLOW).unwrap()
    }

    /// Activation, then the initial import (the only run of a schedule in these tests).
    async fn activate_and_import(&self) -> Vec<String> {
        let created = puente_runtime::activate(self.flow()).await.unwrap();
        let s = puente_runtime::run(self.flow(), Mode::Full, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "{:?}", s.errors);
        self.quiesce().await;
        created
    }

    /// Waits until no webhook is being delivered, the queue is empty and neither sandbox saw
    /// a request for 300 ms.
    async fn quiesce(&self) {
        let deadline = Instant::now() + WAIT;
        let mut last = (u64::MAX, u64::MAX);
        let mut quiet_since = Instant::now();
        loop {
            let now = (
                self.sb.clientify.stats().total,
                self.sb.alegra.stats().total,
            );
            let idle = self.sb.clientify.webhooks_pending() == 0
                && self.sb.alegra.webhooks_pending() == 0
                && self.app.store.queue_depth().await.unwrap().0 == 0;
            if !idle || now != last {
                last = now;
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= Duration::from_millis(300) {
                return;
            }
            assert!(Instant::now() < deadline, "never went quiet");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn clientify_get(&self, kind: Kind, id: &str) -> Value {
        clientify_get(&self.http, &self.sb.clientify, &self.cfg, kind, id).await
    }

    async fn alegra_get(&self, id: &str) -> Value {
        alegra_get(&self.http, &self.sb.alegra, &self.cfg, id).await
    }

    /// A user's edit of the first address's city in Clientify (the address keeps its id).
    async fn clientify_set_city(&self, kind: Kind, id: &str, city: &str) -> Value {
        let cur = self.clientify_get(kind, id).await;
        let mut addresses = cur["addresses"].as_array().cloned().unwrap_or_default();
        if addresses.is_empty() {
            addresses.push(json!({}));
        }
        addresses[0]["city"] = json!(city);
        clientify_put(
            &self.http,
            &self.sb.clientify,
            &self.cfg,
            kind,
            id,
            json!({ "addresses": addresses }),
        )
        .await
    }

    /// Waits until `read` gives `want`; panics with the last value after [`WAIT`].
    async fn wait_for<F, Fut>(&self, want: &str, mut read: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = String>,
    {
        let deadline = Instant::now() + WAIT;
        loop {
            let got = read().await;
            if got == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "still '{got}', expected '{want}'"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    async fn alegra_city(&self, kind: Kind, aid: &str) -> String {
        puente_connectors::alegra::to_record(kind, &self.alegra_get(aid).await)
            .fields
            .get("city")
            .to_string()
    }

    async fn clientify_city(&self, kind: Kind, cid: &str) -> String {
        self.clientify_get(kind, cid).await["addresses"][0]["city"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// (Clientify id, Alegra id) of the `n`-th link of `kind`.
    async fn linked(&self, kind: Kind, n: usize) -> (String, String) {
        let links = self
            .app
            .store
            .links(puente_store::Scope::new("test", FLOW, kind.as_str()))
            .await
            .unwrap();
        (
            links[n].ids["clientify"].clone(),
            links[n].ids["alegra"].clone(),
        )
    }

    async fn post_hook(&self, system: &str, secret: &str, body: &Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/webhooks/test/{system}/{secret}", self.base))
            .json(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// `GET|PUT|POST` on the Alegra API as a user would; panics on a non-2xx answer.
    async fn alegra_req(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .http
            .request(
                method.clone(),
                format!("{}/{path}", self.sb.alegra.base_url),
            )
            .basic_auth(&self.cfg.alegra_email, Some(&self.cfg.alegra_token));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        assert!(
            r.status().is_success(),
            "alegra {method} {path} {}",
            r.status()
        );
        r.json().await.unwrap()
    }

    /// The (first price list's) price of an Alegra item.
    async fn alegra_item_price(&self, aid: &str) -> String {
        let v = self
            .alegra_req(reqwest::Method::GET, &format!("items/{aid}"), None)
            .await;
        v["price"][0]["price"].as_str().unwrap_or("").to_string()
    }

    /// The webhook subscriptions in the Alegra sandbox, as sorted (event, url) pairs.
    async fn alegra_subscriptions(&self) -> Vec<(String, String)> {
        let subs = self
            .alegra_req(reqwest::Method::GET, "webhooks/subscriptions", None)
            .await;
        let mut got: Vec<(String, String)> = subs["subscriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["event"].as_str().unwrap().to_string(),
                    s["url"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        got.sort();
        got
    }

    /// Waits until `link_of` finds a link of `kind` for Clientify id `cid` with an Alegra id.
    async fn wait_alegra_link(&self, kind: Kind, cid: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(l) = self
                .app
                .store
                .link_by_external(
                    puente_store::Scope::new("test", FLOW, kind.as_str()),
                    "clientify",
                    cid,
                )
                .await
                .unwrap()
                .filter(|l| l.ids.contains_key("alegra"))
            {
                return l.ids["alegra"].clone();
            }
            assert!(
                Instant::now() < deadline,
                "{kind} {cid} never reached Alegra"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn reset_stats(&self) {
        self.sb.clientify.reset_stats();
        self.sb.alegra.reset_stats();
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
        self.sb.clientify.shutdown();
        self.sb.alegra.shutdown();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.store_path.display()));
        }
    }
}

/// Deliveries the Clientify sandbox made about record `id`, with the status Puente answered.
fn clientify_hooks_about(live: &Live, since: usize) -> Vec<(String, Option<u16>)> {
    live.sb.clientify.webhooks_sent()[since..]
        .iter()
        .map(|s| (s.event.clone(), s.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_clientify_edit_reaches_alegra_through_the_webhook_alone() {
    let live = Live::start("alg11-clientify-edit", small(111), false).await;
    live.activate_and_import().await;
    live.sb
        .clientify
        .set_webhook_target(Some(live.hook_url("clientify")));

    // An edit of a linked contact: one delivery, one write to Alegra, nothing back.
    let (cid, aid) = live.linked(Kind::Contact, 0).await;
    live.reset_stats();
    let sent_before = live.sb.clientify.webhooks_sent().len();
    live.clientify_set_city(Kind::Contact, &cid, "Ponferrada")
        .await;
    live.wait_for("Ponferrada", || live.alegra_city(Kind::Contact, &aid))
        .await;
    live.quiesce().await;
    let astats = live.sb.alegra.stats();
    assert_eq!(
        writes(&live.sb.alegra),
        1,
        "one write to Alegra: {astats:?}"
    );
    assert_eq!(astats.by_route.get("PUT /api/v1/contacts/{id}"), Some(&1));
    assert_eq!(
        writes(&live.sb.clientify),
        1,
        "only the user's own edit was written to Clientify"
    );
    assert_eq!(
        clientify_hooks_about(&live, sent_before),
        vec![("contact.saved".to_string(), Some(202))],
        "one delivery (the user's edit), accepted"
    );

    // A new contact: Puente creates it in Alegra and writes the link marks back to Clientify;
    // Clientify notifies that write too, and its echo must write nothing more anywhere.
    live.reset_stats();
    let sent_before = live.sb.clientify.webhooks_sent().len();
    let created = clientify_post_contact(&live).await;
    let cid = created["id"].to_string();
    let deadline = Instant::now() + WAIT;
    let link = loop {
        if let Some(l) = live
            .app
            .store
            .link_by_external(
                puente_store::Scope::new("test", FLOW, "contact"),
                "clientify",
                &cid,
            )
            .await
            .unwrap()
            .filter(|l| l.ids.contains_key("alegra"))
        {
            break l;
        }
        assert!(
            Instant::now() < deadline,
            "the new contact never reached Alegra"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    live.quiesce().await;
    let a = live.alegra_get(&link.ids["alegra"]).await;
    assert_eq!(a["identification"], "71234567W");
    assert_eq!(
        live.alegra_city(Kind::Contact, &link.ids["alegra"]).await,
        "Astorga"
    );
    let astats = live.sb.alegra.stats();
    assert_eq!(
        writes(&live.sb.alegra),
        1,
        "one create in Alegra: {astats:?}"
    );
    assert_eq!(astats.by_route.get("POST /api/v1/contacts"), Some(&1));
    let c = live.clientify_get(Kind::Contact, &cid).await;
    assert!(
        c["tags"].as_array().unwrap().iter().any(|t| t == "alegra"),
        "marked as linked: {}",
        c["tags"]
    );
    // The user's POST plus Puente's mark write(s); each was notified and answered 202.
    let puente_writes = writes(&live.sb.clientify) - 1;
    assert!(puente_writes >= 1, "the marks were written");
    let hooks = clientify_hooks_about(&live, sent_before);
    assert_eq!(hooks.len() as u64, 1 + puente_writes, "{hooks:?}");
    assert!(hooks
        .iter()
        .all(|(e, s)| e == "contact.saved" && *s == Some(202)));

    // Quiet now: waiting longer changes nothing (the echo did not start a loop).
    let totals = (
        live.sb.clientify.stats().total,
        live.sb.alegra.stats().total,
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    live.quiesce().await;
    assert_eq!(
        (
            live.sb.clientify.stats().total,
            live.sb.alegra.stats().total
        ),
        totals
    );
}

async fn clientify_post_contact(live: &Live) -> Value {
    let r = live
        .http
        .post(format!("{}/contacts/", live.sb.clientify.base_url))
        .header("Authorization", format!("Token {}", live.cfg.clientify_token))
        .json(&json!({
            "first_name": "Olalla",
            "last_name": "Prieto Gil",
            "taxpayer_identification_number": "71234567W",
            "email": "olalla.prieto@example.es",
            "addresses": [{"street": "Rúa Nova 3", "city": "Astorga", "postal_code": "24700", "country": "España"}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_each_payload_shape_is_accepted() {
    let live = Live::start("alg11-shapes", small(112), false).await;
    live.activate_and_import().await;
    live.sb
        .clientify
        .set_webhook_target(Some(live.hook_url("clientify")));
    let mut n = 0;
    for shape in WebhookShape::ALL {
        live.sb.clientify.set_webhook_shape(shape);
        for (i, kind) in [Kind::Contact, Kind::Company].into_iter().enumerate() {
            n += 1;
            let city = format!("Villa {n}");
            let (cid, aid) = live.linked(kind, i).await;
            let before = live.sb.clientify.webhooks_sent().len();
            live.clientify_set_city(kind, &cid, &city).await;
            live.wait_for(&city, || live.alegra_city(kind, &aid)).await;
            live.quiesce().await;
            let sent = live.sb.clientify.webhooks_sent();
            let event = format!("{}.saved", kind.as_str());
            assert_eq!(sent.len(), before + 1, "{shape:?} {kind}");
            assert_eq!(sent[before].event, event);
            assert_eq!(sent[before].status, Some(202), "{shape:?} {kind}");
        }
    }
    assert_eq!(n, 6);
    // The bodies really differ: each shape parses to the same event on Puente's side.
    let rec = json!({"id": 7, "modified": "2026-11-22T10:00:00.000001Z"});
    for shape in WebhookShape::ALL {
        let body = shape.clientify_body("company.saved", "company", &rec, 1);
        let d = puente_connectors::clientify::parse_webhook(body.to_string().as_bytes()).unwrap();
        assert_eq!(
            (d.kind, d.id.as_deref()),
            (Some(Kind::Company), Some("7")),
            "{shape:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_same_webhook_twice_or_after_a_newer_one_leaves_the_newest_state_and_one_write() {
    // Deliveries are posted by hand here (sandbox delivery off) to control their order.
    let live = Live::start("alg11-dedup", small(113), false).await;
    live.activate_and_import().await;
    let (cid, aid) = live.linked(Kind::Contact, 1).await;
    let older = live.clientify_set_city(Kind::Contact, &cid, "Lugo").await;
    let newer = live.clientify_set_city(Kind::Contact, &cid, "Vigo").await;
    assert_ne!(older["modified"], newer["modified"]);
    live.reset_stats();

    let hook = |c: &Value| json!({"event": "contact.saved", "contact": c});
    let (s1, v1) = live.post_hook("clientify", SECRET, &hook(&newer)).await;
    let (s2, v2) = live.post_hook("clientify", SECRET, &hook(&newer)).await;
    let (s3, v3) = live.post_hook("clientify", SECRET, &hook(&older)).await;
    assert_eq!((s1, s2, s3), (202, 202, 202));
    assert_eq!(v1["status"], "queued");
    assert_eq!(v2["status"], "duplicate");
    assert_eq!(v2["event_id"], v1["event_id"]);
    // The late, older delivery is a different change: queued, but it re-reads the record.
    assert_eq!(v3["status"], "queued");
    live.quiesce().await;

    assert_eq!(live.alegra_city(Kind::Contact, &aid).await, "Vigo");
    let astats = live.sb.alegra.stats();
    assert_eq!(writes(&live.sb.alegra), 1, "one write: {astats:?}");
    assert_eq!(writes(&live.sb.clientify), 0);
    assert_eq!(live.app.store.queue_depth().await.unwrap(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_alegra_subscription_on_activation_and_edit_reaches_clientify() {
    let live = Live::start("alg11-alegra", small(114), true).await;
    let created = live.activate_and_import().await;
    assert!(
        created.iter().any(|c| c.contains("edit-client")),
        "{created:?}"
    );
    // Activating again (every `serve` start does) subscribes nothing more.
    let again = puente_runtime::activate(live.flow()).await.unwrap();
    assert!(!again.iter().any(|c| c.contains("webhook")), "{again:?}");
    let subs: Value = live
        .http
        .get(format!(
            "{}/webhooks/subscriptions",
            live.sb.alegra.base_url
        ))
        .basic_auth(&live.cfg.alegra_email, Some(&live.cfg.alegra_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut got: Vec<(String, String)> = subs["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["event"].as_str().unwrap().to_string(),
                s["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let url = live
        .hook_url("alegra")
        .trim_start_matches("http://")
        .to_string();
    assert_eq!(
        got,
        vec![
            ("edit-client".to_string(), url.clone()),
            ("new-client".to_string(), url.clone())
        ],
        "once each, without a scheme"
    );
    // The import's Alegra creates were delivered to Puente and changed nothing.
    let sent = live.sb.alegra.webhooks_sent();
    assert!(sent.iter().any(|s| s.event == "new-client"), "{sent:?}");
    assert!(sent.iter().all(|s| s.status == Some(202)), "{sent:?}");

    // Clientify delivers too, so Puente's write there comes back as an echo.
    live.sb
        .clientify
        .set_webhook_target(Some(live.hook_url("clientify")));
    let (cid, aid) = live.linked(Kind::Contact, 2).await;
    // Alegra timestamps have one-second resolution: the edit must be later than the import.
    live.sb.alegra.advance_clock(5);
    live.reset_stats();
    let before = live.sb.alegra.webhooks_sent().len();
    alegra_put(
        &live.http,
        &live.sb.alegra,
        &live.cfg,
        &aid,
        json!({"address": {"city": "Betanzos"}}),
    )
    .await;
    live.wait_for("Betanzos", || live.clientify_city(Kind::Contact, &cid))
        .await;
    live.quiesce().await;
    let sent = live.sb.alegra.webhooks_sent();
    assert_eq!(sent.len(), before + 1, "{:?}", &sent[before..]);
    assert_eq!(sent[before].event, "edit-client");
    assert_eq!(sent[before].status, Some(202));
    assert_eq!(
        writes(&live.sb.alegra),
        1,
        "only the user's edit: nothing written back"
    );
    let cstats = live.sb.clientify.stats();
    assert_eq!(writes(&live.sb.clientify), 1, "{cstats:?}");
    assert_eq!(cstats.by_route.get("PUT /v1/contacts/{id}/"), Some(&1));
}

/// The Alegra subscriptions Puente's receiver holds: (event, url) pairs.
async fn alegra_subscriptions(live: &Live) -> Vec<String> {
    let subs: Value = live
        .http
        .get(format!(
            "{}/webhooks/subscriptions",
            live.sb.alegra.base_url
        ))
        .basic_auth(&live.cfg.alegra_email, Some(&live.cfg.alegra_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out: Vec<String> = subs["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["event"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

/// Issue 18: Alegra deletes a subscription after 10 consecutive failed deliveries [A11]. An
/// outage of Puente's endpoint during 10 edits costs the edit-client subscription; the next
/// scheduled Full finds it missing and recreates it, and edits travel by webhook again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_alegra_subscription_dropped_after_10_failed_deliveries_is_recreated_by_the_next_full(
) {
    let mut live = Live::start("alg11-alegra-dropped", small(116), true).await;
    live.activate_and_import().await;
    assert_eq!(
        alegra_subscriptions(&live).await,
        vec!["edit-client", "new-client"]
    );
    let (cid, aid) = live.linked(Kind::Contact, 2).await;

    // Puente's endpoint goes down; ten edits in Alegra are ten failed deliveries.
    live.tasks[0].abort();
    let addr: std::net::SocketAddr = live.base.trim_start_matches("http://").parse().unwrap();
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for i in 0..10 {
        live.sb.alegra.advance_clock(1);
        alegra_put(
            &live.http,
            &live.sb.alegra,
            &live.cfg,
            &aid,
            json!({"address": {"city": format!("Outage {i}")}}),
        )
        .await;
    }
    let deadline = Instant::now() + WAIT;
    while live.sb.alegra.webhooks_pending() > 0 {
        assert!(Instant::now() < deadline, "deliveries never ended");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let failed = live
        .sb
        .alegra
        .webhooks_sent()
        .iter()
        .filter(|w| w.event == "edit-client" && w.status.is_none())
        .count();
    assert_eq!(failed, 10);
    assert_eq!(
        alegra_subscriptions(&live).await,
        vec!["new-client"],
        "Alegra dropped the subscription that failed 10 times in a row"
    );

    // The endpoint is back on the same address; the next Full recreates the subscription.
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let state = ServerState {
        app: live.app.clone(),
        secret: Some(SECRET.into()),
        inactive: Arc::new(std::sync::Mutex::new(Vec::new())),
    };
    live.tasks.push(tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    }));
    let s = puente_runtime::run(live.flow(), Mode::Full, false, &NoProgress).await;
    assert!(s.errors.is_empty(), "{:?}", s.errors);
    assert_eq!(
        alegra_subscriptions(&live).await,
        vec!["edit-client", "new-client"],
        "recreated once, the other left alone"
    );
    live.quiesce().await;

    // Edits travel by webhook again.
    live.sb.alegra.advance_clock(5);
    alegra_put(
        &live.http,
        &live.sb.alegra,
        &live.cfg,
        &aid,
        json!({"address": {"city": "Betanzos"}}),
    )
    .await;
    live.wait_for("Betanzos", || live.clientify_city(Kind::Contact, &cid))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_alegra_receiver_checks_like_clientify_and_ignores_deletions() {
    let live = Live::start("alg11-alegra-rejects", small(115), false).await;
    let client =
        json!({"id": "3", "name": "Ana", "type": ["client"], "updated_at": "2026-11-22 10:00:00"});
    let edit = json!({"subject": "edit-client", "message": {"client": client}});
    // Wrong secret, or another tenant: 401, nothing enqueued.
    let (s, v) = live.post_hook("alegra", "wrong", &edit).await;
    assert_eq!(s, 401, "{v}");
    let r = live
        .http
        .post(format!("{}/webhooks/other/alegra/{SECRET}", live.base))
        .json(&edit)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Malformed: 400 with a reason.
    for (body, why) in [
        (json!({"message": {"client": client}}), "subject"),
        (
            json!({"subject": "edit-client", "message": {}}),
            "message.client",
        ),
        (
            json!({"subject": "edit-client", "message": {"client": {"name": "x"}}}),
            "id",
        ),
    ] {
        let (s, v) = live.post_hook("alegra", SECRET, &body).await;
        assert_eq!(s, 400, "{body}");
        assert!(v["error"].as_str().unwrap().contains(why), "{v}");
    }
    let r = live
        .http
        .post(live.hook_url("alegra"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Deletions (both vendors) and unsynced subjects: 202, ignored.
    for (system, body) in [
        (
            "alegra",
            json!({"subject": "delete-client", "message": {"client": {"id": "3"}}}),
        ),
        (
            "alegra",
            json!({"subject": "new-invoice", "message": {"invoice": {"id": "9"}}}),
        ),
        (
            "clientify",
            json!({"event": "company.deleted", "company": {"id": 5}}),
        ),
    ] {
        let (s, v) = live.post_hook(system, SECRET, &body).await;
        assert_eq!((s, v["status"].as_str()), (202, Some("ignored")), "{body}");
    }
    assert_eq!(
        live.app.store.queue_depth().await.unwrap(),
        (0, 0),
        "nothing enqueued for rejected or ignored deliveries"
    );
    // A client that is also a provider is both a contact and a company (ALG-6): two events,
    // and the same delivery again adds none.
    let both = json!({"subject": "edit-client", "message": {"client":
        {"id": "4", "name": "Talleres Miño", "type": ["client", "provider"], "updated_at": "2026-11-22 10:00:00"}}});
    let (s, v) = live.post_hook("alegra", SECRET, &both).await;
    assert_eq!((s, v["status"].as_str()), (202, Some("queued")), "{v}");
    assert_eq!(v["event_ids"].as_array().unwrap().len(), 2);
    let (_, v) = live.post_hook("alegra", SECRET, &both).await;
    assert_eq!(v["status"], "duplicate");
}

/// The seeded catalogue of `tests/alg_products_budgets.rs` (products shared by SKU, all
/// contacts with a tax id).
fn catalog_cfg(seed: u64) -> SandboxConfig {
    SandboxConfig {
        seed,
        contacts: 12,
        companies: 3,
        shared_contacts: 4,
        shared_companies: 1,
        without_id_percent: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

const CATALOG: &[&str] = &["contact", "company", "product", "budget"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_product_and_budget_saved_reach_alegra_through_the_webhook_alone() {
    let live = Live::start_entities("alg11-catalog", catalog_cfg(116), false, CATALOG).await;
    live.activate_and_import().await;
    live.sb
        .clientify
        .set_webhook_target(Some(live.hook_url("clientify")));

    // A price edit of a linked product: one product.saved, one write to the Alegra item.
    let (cid, aid) = live.linked(Kind::Product, 0).await;
    assert_ne!(live.alegra_item_price(&aid).await, "37.25");
    live.reset_stats();
    let before = live.sb.clientify.webhooks_sent().len();
    clientify_put(
        &live.http,
        &live.sb.clientify,
        &live.cfg,
        Kind::Product,
        &cid,
        json!({"price": "37.25"}),
    )
    .await;
    live.wait_for("37.25", || live.alegra_item_price(&aid))
        .await;
    live.quiesce().await;
    let astats = live.sb.alegra.stats();
    assert_eq!(writes(&live.sb.alegra), 1, "one write: {astats:?}");
    assert_eq!(astats.by_route.get("PUT /api/v1/items/{id}"), Some(&1));
    assert_eq!(writes(&live.sb.clientify), 1, "only the user's edit");
    assert_eq!(
        clientify_hooks_about(&live, before),
        vec![("product.saved".to_string(), Some(202))]
    );

    // A budget made in Clientify for a linked contact, with two linked products' lines.
    let contact = live
        .sb
        .world
        .clientify_contacts
        .iter()
        .find(|c| clientify_key(c).is_some())
        .unwrap()
        .clone();
    live.reset_stats();
    let before = live.sb.clientify.webhooks_sent().len();
    let r = live
        .http
        .post(format!("{}/budgets/", live.sb.clientify.base_url))
        .header(
            "Authorization",
            format!("Token {}", live.cfg.clientify_token),
        )
        .json(
            &json!({"contact": contact["id"], "date": "2026-11-22", "observations": "Por webhook",
               "total": "79.20",
               "lines": [{"product": 502, "sku": "LAM-010", "name": "Lámpara de pie",
                          "quantity": 1, "price": "65.00", "discount": 0,
                          "taxes": [{"name": "IVA 21%", "percentage": 21}]},
                         {"product": 501, "sku": "CAB-005", "name": "Cable HDMI 2m",
                          "quantity": 1, "price": "0.45", "discount": 0,
                          "taxes": [{"name": "IVA 21%", "percentage": 21}]}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let made: Value = r.json().await.unwrap();
    let bid = made["id"].to_string();
    let eid = live.wait_alegra_link(Kind::Budget, &bid).await;
    live.quiesce().await;
    let e = live
        .alegra_req(reqwest::Method::GET, &format!("estimates/{eid}"), None)
        .await;
    // Alegra computes the total itself, rounding per line: 78.65 + 0.54 = 79.19.
    assert_eq!(e["total"], 79.19);
    assert_eq!(e["observations"], "Por webhook");
    assert_eq!(e["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        e["client"]["identification"].as_str().and_then(key_of),
        clientify_key(&contact)
    );
    let b = live.clientify_get(Kind::Budget, &bid).await;
    assert_eq!(b["code"], format!("ALG-{eid}"), "the code is written back");
    let astats = live.sb.alegra.stats();
    assert_eq!(
        astats.by_route.get("POST /api/v1/estimates"),
        Some(&1),
        "{astats:?}"
    );
    assert_eq!(
        writes(&live.sb.alegra),
        1,
        "nothing else in Alegra: {astats:?}"
    );
    let cstats = live.sb.clientify.stats();
    let puente_writes = writes(&live.sb.clientify) - 1;
    assert!(puente_writes >= 1, "the code was written back: {cstats:?}");
    let hooks = clientify_hooks_about(&live, before);
    assert_eq!(hooks.len() as u64, 1 + puente_writes, "{hooks:?}");
    assert!(hooks
        .iter()
        .all(|(e, s)| e == "budget.saved" && *s == Some(202)));

    // Quiet now: the echo of the write-back started no loop.
    let totals = (writes(&live.sb.clientify), writes(&live.sb.alegra));
    tokio::time::sleep(Duration::from_millis(500)).await;
    live.quiesce().await;
    assert_eq!(
        (writes(&live.sb.clientify), writes(&live.sb.alegra)),
        totals
    );
    assert_eq!(live.app.store.queue_depth().await.unwrap(), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alg11_alegra_item_edit_reaches_clientify_through_its_webhook() {
    let live = Live::start_entities("alg11-alegra-item", catalog_cfg(117), true, CATALOG).await;
    let created = live.activate_and_import().await;
    assert!(
        created.iter().any(|c| c.contains("edit-item")),
        "{created:?}"
    );
    let again = puente_runtime::activate(live.flow()).await.unwrap();
    assert!(!again.iter().any(|c| c.contains("webhook")), "{again:?}");
    let url = live
        .hook_url("alegra")
        .trim_start_matches("http://")
        .to_string();
    let want: Vec<(String, String)> = ["edit-client", "edit-item", "new-client", "new-item"]
        .iter()
        .map(|e| (e.to_string(), url.clone()))
        .collect();
    assert_eq!(live.alegra_subscriptions().await, want, "once each");
    // The import's item creates were delivered to Puente and accepted.
    let sent = live.sb.alegra.webhooks_sent();
    assert!(sent.iter().any(|s| s.event == "new-item"), "{sent:?}");
    assert!(sent.iter().all(|s| s.status == Some(202)), "{sent:?}");

    live.sb
        .clientify
        .set_webhook_target(Some(live.hook_url("clientify")));
    let (cid, aid) = live.linked(Kind::Product, 0).await;
    let price = |v: Value| v["price"].as_str().unwrap_or("").to_string();
    assert_ne!(
        price(live.clientify_get(Kind::Product, &cid).await),
        "77.50"
    );
    live.sb.alegra.advance_clock(5);
    live.reset_stats();
    let before = live.sb.alegra.webhooks_sent().len();
    live.alegra_req(
        reqwest::Method::PUT,
        &format!("items/{aid}"),
        Some(json!({"price": 77.5})),
    )
    .await;
    live.wait_for("77.50", || async {
        price(live.clientify_get(Kind::Product, &cid).await)
    })
    .await;
    live.quiesce().await;
    let sent = live.sb.alegra.webhooks_sent();
    assert_eq!(sent.len(), before + 1, "{:?}", &sent[before..]);
    assert_eq!(sent[before].event, "edit-item");
    assert_eq!(sent[before].status, Some(202));
    assert_eq!(
        writes(&live.sb.alegra),
        1,
        "only the user's edit: nothing written back"
    );
    let cstats = live.sb.clientify.stats();
    assert_eq!(writes(&live.sb.clientify), 1, "{cstats:?}");
    assert_eq!(cstats.by_route.get("PUT /v1/products/{id}/"), Some(&1));
    assert_eq!(
        clientify_hooks_about(&live, 0)
            .iter()
            .filter(|(e, _)| e == "product.saved")
            .count(),
        1,
        "the echo of Puente's write, delivered once"
    );
}
