//! Test harness: spawns the whole local app (both vendor sandboxes on loopback, a SQLite store
//! in a temp file, flows built from a TOML config pointing at the sandboxes) and gives tests
//! direct access to the vendors' data, as a person using the vendors' UIs would have.

pub mod apc;

use puente_connectors::RetryPolicy;
use puente_core::Kind;
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::{Sandbox, SandboxConfig, Sandboxes};
use puente_store::sqlite::SqliteStore;
use puente_store::Store;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub mod roa;

pub const FLOW: &str = "clientify-alegra";

/// Fast retries for tests (the policy's shape is what matters, not the real-world delays).
pub fn test_retry() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        max_rate_limit_retries: 10,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        max_header_wait: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(2),
    }
}

/// A unique temp path for this test's store.
pub fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join("puente-e2e");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    dir.join(format!("{name}-{}-{n}.sqlite", std::process::id()))
}

/// The config a user would write for the sandboxes.
pub fn config_toml(
    clientify: &str,
    alegra: &str,
    cfg: &SandboxConfig,
    store: &std::path::Path,
) -> String {
    config_toml_entities(clientify, alegra, cfg, store, &["contact", "company"])
}

/// [`config_toml`] with the flow's entities given.
pub fn config_toml_entities(
    clientify: &str,
    alegra: &str,
    cfg: &SandboxConfig,
    store: &std::path::Path,
    entities: &[&str],
) -> String {
    let entities = entities
        .iter()
        .map(|e| format!("\"{e}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        r#"
tenant = "test"
[store]
path = "{store}"
[server]
webhook_secret = "s3cret-hook"
[connections.clientify]
type = "clientify"
base_url = "{clientify}"
api_key = "{ck}"
page_size = 100
[connections.alegra]
type = "alegra"
base_url = "{alegra}"
email = "{ae}"
token = "{at}"
[[flows]]
name = "{FLOW}"
a = "clientify"
b = "alegra"
entities = [{entities}]
prefer_on_tie = "alegra"
"#,
        store = store.display(),
        ck = cfg.clientify_token,
        ae = cfg.alegra_email,
        at = cfg.alegra_token,
    )
}

pub struct TestEnv {
    pub sb: Sandboxes,
    pub app: App,
    pub cfg: SandboxConfig,
    pub store_path: PathBuf,
    http: reqwest::Client,
}

impl TestEnv {
    pub async fn start(name: &str, cfg: SandboxConfig) -> TestEnv {
        TestEnv::start_with_policy(name, cfg, test_retry()).await
    }

    /// [`TestEnv::start`] with the connectors' retry policy given (fault tests raise the retry
    /// counts or shorten the timeout).
    pub async fn start_with_policy(name: &str, cfg: SandboxConfig, policy: RetryPolicy) -> TestEnv {
        TestEnv::start_full(name, cfg, policy, &["contact", "company"]).await
    }

    /// [`TestEnv::start`] with the flow's entities given.
    pub async fn start_entities(name: &str, cfg: SandboxConfig, entities: &[&str]) -> TestEnv {
        TestEnv::start_full(name, cfg, test_retry(), entities).await
    }

    /// [`TestEnv::start_entities`] with more TOML appended to the config (it ends inside the
    /// flow's `[[flows]]` table, so `[flows.rules.contact]` adjusts the flow).
    pub async fn start_with_toml(
        name: &str,
        cfg: SandboxConfig,
        entities: &[&str],
        extra: &str,
    ) -> TestEnv {
        TestEnv::start_inner(name, cfg, test_retry(), entities, extra).await
    }

    async fn start_full(
        name: &str,
        cfg: SandboxConfig,
        policy: RetryPolicy,
        entities: &[&str],
    ) -> TestEnv {
        TestEnv::start_inner(name, cfg, policy, entities, "").await
    }

    async fn start_inner(
        name: &str,
        cfg: SandboxConfig,
        policy: RetryPolicy,
        entities: &[&str],
        extra: &str,
    ) -> TestEnv {
        let sb = puente_sandbox::start(&cfg, None, None)
            .await
            .expect("sandboxes start");
        let store_path = temp_path(name);
        let toml = config_toml_entities(
            &sb.clientify.base_url,
            &sb.alegra.base_url,
            &cfg,
            &store_path,
            entities,
        ) + extra;
        let config = Config::parse(&toml).expect("test config is valid");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&store_path).expect("store opens"));
        let app = App::build(config, store, policy).expect("app builds");
        TestEnv {
            sb,
            app,
            cfg,
            store_path,
            http: reqwest::Client::new(),
        }
    }

    pub fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(FLOW).expect("flow")
    }

    pub async fn activate(&self) {
        puente_runtime::activate(self.flow())
            .await
            .expect("activation succeeds");
    }

    pub async fn sync(&self, mode: Mode) -> Summary {
        let s = run(self.flow(), mode, false, &NoProgress).await;
        assert!(s.errors.is_empty(), "run errors: {:?}", s.errors);
        s
    }

    /// Every Clientify record of `kind`, read straight from the sandbox.
    pub async fn clientify_all(&self, kind: Kind) -> Vec<Value> {
        let path = format!("{}/", clientify_path(kind));
        let mut out = Vec::new();
        let mut url = Some(format!(
            "{}/{path}?page_size=250",
            self.sb.clientify.base_url
        ));
        while let Some(u) = url {
            let v: Value = self
                .http
                .get(&u)
                .header(
                    "Authorization",
                    format!("Token {}", self.cfg.clientify_token),
                )
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            out.extend(v["results"].as_array().unwrap().iter().cloned());
            url = v["next"].as_str().map(str::to_string);
        }
        out
    }

    /// Every Alegra contact (persons and providers).
    pub async fn alegra_all(&self) -> Vec<Value> {
        self.alegra_list("contacts").await
    }

    pub async fn clientify_put(&self, kind: Kind, id: &str, body: Value) -> Value {
        clientify_put(&self.http, &self.sb.clientify, &self.cfg, kind, id, body).await
    }

    /// Creates a Clientify record as a user would; panics on a non-2xx answer.
    pub async fn clientify_post(&self, kind: Kind, body: Value) -> Value {
        let path = clientify_path(kind);
        let r = self
            .http
            .post(format!("{}/{path}/", self.sb.clientify.base_url))
            .header(
                "Authorization",
                format!("Token {}", self.cfg.clientify_token),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "clientify POST {}", r.status());
        r.json().await.unwrap()
    }

    pub async fn alegra_put(&self, id: &str, body: Value) -> Value {
        alegra_put(&self.http, &self.sb.alegra, &self.cfg, id, body).await
    }

    pub async fn clientify_get(&self, kind: Kind, id: &str) -> Value {
        clientify_get(&self.http, &self.sb.clientify, &self.cfg, kind, id).await
    }

    /// Every Alegra row of `resource` (`contacts`, `items`, `estimates`).
    pub async fn alegra_list(&self, resource: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let mut start = 0;
        loop {
            let v: Value = self
                .http
                .get(format!("{}/{resource}", self.sb.alegra.base_url))
                .query(&[("start", start.to_string()), ("limit", "30".into())])
                .basic_auth(&self.cfg.alegra_email, Some(&self.cfg.alegra_token))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let rows = v.as_array().expect("bare array").clone();
            let n = rows.len();
            out.extend(rows);
            if n < 30 {
                break;
            }
            start += 30;
        }
        out
    }

    /// Creates an Alegra record as a user would; panics on a non-2xx answer.
    pub async fn alegra_post(&self, resource: &str, body: Value) -> Value {
        let r = self
            .http
            .post(format!("{}/{resource}", self.sb.alegra.base_url))
            .basic_auth(&self.cfg.alegra_email, Some(&self.cfg.alegra_token))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "alegra POST {resource} {}",
            r.status()
        );
        r.json().await.unwrap()
    }

    pub async fn alegra_get(&self, id: &str) -> Value {
        alegra_get(&self.http, &self.sb.alegra, &self.cfg, id).await
    }

    pub async fn link_for(&self, kind: Kind, system: &str, id: &str) -> Option<puente_store::Link> {
        self.app
            .store
            .link_by_external(
                puente_store::Scope::new("test", FLOW, kind.as_str()),
                system,
                id,
            )
            .await
            .unwrap()
    }
}

/// Reads a Clientify record straight from the sandbox (the body as the API answers it).
pub async fn clientify_get(
    http: &reqwest::Client,
    sb: &Sandbox,
    cfg: &SandboxConfig,
    kind: Kind,
    id: &str,
) -> Value {
    http.get(format!("{}/{}/{id}/", sb.base_url, clientify_path(kind)))
        .header("Authorization", format!("Token {}", cfg.clientify_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Reads an Alegra contact straight from the sandbox.
pub async fn alegra_get(
    http: &reqwest::Client,
    sb: &Sandbox,
    cfg: &SandboxConfig,
    id: &str,
) -> Value {
    http.get(format!("{}/contacts/{id}", sb.base_url))
        .basic_auth(&cfg.alegra_email, Some(&cfg.alegra_token))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Edits a Clientify record as a user would (a partial PUT); panics on a non-2xx answer.
pub async fn clientify_put(
    http: &reqwest::Client,
    sb: &Sandbox,
    cfg: &SandboxConfig,
    kind: Kind,
    id: &str,
    body: Value,
) -> Value {
    let path = clientify_path(kind);
    let r = http
        .put(format!("{}/{path}/{id}/", sb.base_url))
        .header("Authorization", format!("Token {}", cfg.clientify_token))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "clientify PUT {}", r.status());
    r.json().await.unwrap()
}

/// Edits an Alegra contact as a user would; panics on a non-2xx answer.
pub async fn alegra_put(
    http: &reqwest::Client,
    sb: &Sandbox,
    cfg: &SandboxConfig,
    id: &str,
    body: Value,
) -> Value {
    let r = http
        .put(format!("{}/contacts/{id}", sb.base_url))
        .basic_auth(&cfg.alegra_email, Some(&cfg.alegra_token))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "alegra PUT {}", r.status());
    r.json().await.unwrap()
}

/// The Clientify resource of a kind.
pub fn clientify_path(kind: Kind) -> &'static str {
    match kind {
        Kind::Contact => "contacts",
        Kind::Company => "companies",
        Kind::Product => "products",
        Kind::Order => "orders",
        Kind::Budget => "budgets",
        Kind::Stock => "products",
    }
}

/// Write calls (POST/PUT/PATCH/DELETE) a sandbox received.
pub fn writes(sb: &Sandbox) -> u64 {
    sb.stats()
        .by_method
        .iter()
        .filter(|(m, _)| m.as_str() != "GET")
        .map(|(_, n)| n)
        .sum()
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        self.sb.clientify.shutdown();
        self.sb.alegra.shutdown();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.store_path.display()));
        }
    }
}

/// Keys that more than one record carries, `key` reading each record's canonical key.
pub fn duplicate_keys(records: &[Value], key: impl Fn(&Value) -> Option<String>) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for r in records {
        if let Some(k) = key(r) {
            *seen.entry(k).or_default() += 1;
        }
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(k, _)| k)
        .collect()
}

/// Tax ids (canonical) that more than one Alegra contact carries.
pub fn alegra_duplicate_keys(contacts: &[Value]) -> Vec<String> {
    duplicate_keys(contacts, alegra_key)
}

/// Tax ids (canonical) that more than one Clientify record carries.
pub fn clientify_duplicate_keys(records: &[Value]) -> Vec<String> {
    duplicate_keys(records, clientify_key)
}

/// Whether a raw identification is a valid tax id (the canonical key), normalised.
pub fn key_of(raw: &str) -> Option<String> {
    puente_core::TaxId::parse(raw).ok().map(|t| t.to_string())
}

/// Alegra identification of a contact value.
pub fn alegra_key(v: &Value) -> Option<String> {
    key_of(v["identification"].as_str().unwrap_or(""))
}

pub fn clientify_key(v: &Value) -> Option<String> {
    key_of(v["taxpayer_identification_number"].as_str().unwrap_or(""))
}

pub fn alegra_types(v: &Value) -> Vec<String> {
    puente_connectors::alegra::types_of(v)
}
