//! Chaos convergence scenarios on the Clientify ⇄ Alegra flow (issue 5).
//!
//! Compiled into the `chaos` test and the `chaos` example (not into the library): both are
//! dev targets, so they get puente-runtime's `crash-points` feature from the dev-dependency.
//!
//! A scenario is seeded and made of rounds. Round 0 imports the seeded sandboxes (a Full
//! sync, possibly through faults). Each later round:
//! 1. **user writes**, straight to the sandboxes over HTTP as a person using the vendors' UIs
//!    would (faults off): edits of linked pairs on one side, conflicting edits of the same
//!    field and of different fields on both sides, clears, new records on either or both
//!    sides (same identification), an identification added to a record that had none;
//!    every Clientify write yields a webhook body;
//! 2. a **snapshot** of both sides (canonical records with their modification times), from
//!    which an independent oracle computes what every field must end as: a field changed on
//!    one side since the last converged state flows to the other; changed on both, the more
//!    recently modified record wins, ties to `prefer_on_tie` (ALG-10); a first match fills
//!    gaps, and keeps both values of a field both sides hold (even seeds, the default) or
//!    lets the newer record win (odd seeds, `first_match = "newest"`), never demoting a
//!    client; a record without counterpart is created with its fields;
//! 3. **chaos**: seeded vendor faults (5xx, resets, lost write responses, 429 bursts,
//!    timeouts), webhooks delivered through the real HTTP handler shuffled, duplicated and
//!    out of order, queue workers that die at a crash point (after a vendor write, before the
//!    link save; after the link save, before the ack) and whose messages come back after the
//!    visibility timeout, Modified and Full runs, a worker running beside a poll;
//! 4. **quiesce**: faults off, the queue drained, a Full sync, then a second Full sync;
//! 5. **checks**: both sides equal on every synced field of every linked pair (but fields a
//!    first match kept apart, as the oracle says); every eligible
//!    record linked and marked; no identification twice on a side; every field as the oracle
//!    says (no acknowledged change lost); the second Full wrote nothing (no echo loop); the
//!    vendor writes per user change.

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{DateTime, Utc};
use puente_connectors::{Connector, RetryPolicy};
use puente_core::{Fields, Kind, Record, TaxId};
use puente_e2e::{clientify_path, config_toml, writes, FLOW};
use puente_runtime::crash::{with_plan, CrashPlan, CrashPoint};
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::{run, App, Config, Mode, NoProgress};
use puente_sandbox::{Faults, SandboxConfig, Sandboxes};
use puente_store::sqlite::SqliteStore;
use puente_store::{
    ActivityEntry, ActivityLog, CheckpointStore, DeadLetter, DedupStore, LeaseGrant, LeaseStore,
    Link, LinkStore, LogQuery, Queue, QueueMessage, Scope, Store, StoreResult,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const TENANT: &str = "test";
const HOOK_SECRET: &str = "s3cret-hook";
/// Queue visibility timeout in the scenarios: a dead worker's message is back after this.
const VISIBILITY: Duration = Duration::from_millis(40);
/// Rounds of user writes after the initial import.
const ROUNDS: u32 = 2;

/// Whether a queue worker runs at the same time as a Full or Modified poll, as `serve` and
/// the Lambda functions run them. On by default; `CHAOS_CONCURRENT=0` runs them one after
/// the other (to tell a concurrency bug from another one).
pub fn concurrent() -> bool {
    std::env::var("CHAOS_CONCURRENT").map_or(true, |v| v != "0")
}

/// The command that replays one scenario.
pub fn replay_command(seed: u64) -> String {
    let env = if concurrent() {
        ""
    } else {
        "CHAOS_CONCURRENT=0 "
    };
    format!("{env}CHAOS_SEED={seed} cargo test -p puente-e2e --test chaos -- replay --nocapture")
}

/// What went wrong in a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// A linked pair differs on a synced field.
    Divergence,
    /// Two records of one kind share an identification on one side.
    Duplicate,
    /// A field does not hold the value the flow's rule says it must.
    LostUpdate,
    /// The second quiescing Full sync wrote something.
    EchoWrites,
    /// An eligible record is not linked (or not marked) after quiescing.
    Unconverged,
    /// The quiescing Full sync reported errors or failures.
    RunError,
    /// A record whose key the other side holds twice (unlinked) was written to or linked,
    /// or was not reported as `ambiguous` exactly once (issue 17).
    Ambiguous,
}

#[derive(Clone, Debug)]
pub struct Problem {
    pub kind: ProblemKind,
    pub round: u32,
    pub detail: String,
}

/// The outcome of one scenario.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub seed: u64,
    pub problems: Vec<Problem>,
    /// User changes made (edits and creates), rounds after the import.
    pub changes: u64,
    /// Vendor writes Puente made for them (retries included).
    pub puente_writes: u64,
    /// Largest writes-per-change ratio of a round.
    pub max_ratio: f64,
    /// Workers that died at a crash point.
    pub crashes: u64,
    /// Faults the sandboxes injected.
    pub faults: u64,
    /// Webhook deliveries (duplicates included).
    pub webhooks: u64,
    /// Messages that ended in the dead-letter list (the Full sync covers them).
    pub dead_letters: u64,
    /// Keys entered twice on one side and once on the other.
    pub ambiguous_keys: u64,
}

impl Report {
    pub fn count(&self, k: ProblemKind) -> usize {
        self.problems.iter().filter(|p| p.kind == k).count()
    }
}

/// Retries tuned for tests: the policy's shape, not its real-world delays.
fn policy(timeout_ms: u64) -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        max_rate_limit_retries: 6,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        max_header_wait: Duration::from_millis(2),
        timeout: Duration::from_millis(timeout_ms),
        connect_timeout: Duration::from_secs(2),
    }
}

const CLIENT_TIMEOUT_MS: u64 = 250;

// ------------------------------------------------------------------ queue without backoff

/// The store the workers use: the real one, except that a transient failure comes back at
/// once instead of after the production backoff (2 s, 4 s, …), so a scenario drains in
/// milliseconds. Receive counts, dead letters and visibility timeouts are the real store's.
pub(crate) struct NoBackoff(pub(crate) Arc<dyn Store>);

#[async_trait]
impl LinkStore for NoBackoff {
    async fn link_by_external(
        &self,
        sc: Scope<'_>,
        s: &str,
        id: &str,
    ) -> StoreResult<Option<Link>> {
        self.0.link_by_external(sc, s, id).await
    }
    async fn link_by_key(&self, sc: Scope<'_>, key: &str) -> StoreResult<Option<Link>> {
        self.0.link_by_key(sc, key).await
    }
    async fn links(&self, sc: Scope<'_>) -> StoreResult<Vec<Link>> {
        self.0.links(sc).await
    }
    async fn save_link(&self, l: &Link) -> StoreResult<Link> {
        self.0.save_link(l).await
    }
    async fn save_links(&self, l: &[Link]) -> StoreResult<Vec<Link>> {
        self.0.save_links(l).await
    }
    async fn delete_link(&self, l: &Link) -> StoreResult<()> {
        self.0.delete_link(l).await
    }
}

#[async_trait]
impl CheckpointStore for NoBackoff {
    async fn checkpoint(&self, t: &str, s: &str) -> StoreResult<Option<String>> {
        self.0.checkpoint(t, s).await
    }
    async fn put_checkpoint(&self, t: &str, s: &str, v: &str) -> StoreResult<()> {
        self.0.put_checkpoint(t, s, v).await
    }
}

#[async_trait]
impl LeaseStore for NoBackoff {
    async fn take_lease(
        &self,
        t: &str,
        n: &str,
        o: &str,
        ttl: Duration,
    ) -> StoreResult<LeaseGrant> {
        self.0.take_lease(t, n, o, ttl).await
    }
    async fn release_lease(&self, t: &str, n: &str, o: &str) -> StoreResult<()> {
        self.0.release_lease(t, n, o).await
    }
}

#[async_trait]
impl DedupStore for NoBackoff {
    async fn first_seen(&self, t: &str, e: &str, ttl: Duration) -> StoreResult<bool> {
        self.0.first_seen(t, e, ttl).await
    }
}

#[async_trait]
impl ActivityLog for NoBackoff {
    async fn append(&self, e: &[ActivityEntry]) -> StoreResult<()> {
        self.0.append(e).await
    }
    async fn query(&self, q: &LogQuery) -> StoreResult<Vec<ActivityEntry>> {
        self.0.query(q).await
    }
    async fn purge_expired(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        self.0.purge_expired(now).await
    }
    async fn put_run(&self, r: &puente_store::RunRecord) -> StoreResult<()> {
        self.0.put_run(r).await
    }
    async fn runs(&self, q: &puente_store::RunQuery) -> StoreResult<Vec<puente_store::RunRecord>> {
        self.0.runs(q).await
    }
}

#[async_trait]
impl Queue for NoBackoff {
    async fn send(&self, g: &str, d: &str, b: &str) -> StoreResult<bool> {
        self.0.send(g, d, b).await
    }
    async fn receive(&self, max: usize, vis: Duration) -> StoreResult<Vec<QueueMessage>> {
        self.0.receive(max, vis).await
    }
    async fn ack(&self, r: &str) -> StoreResult<()> {
        self.0.ack(r).await
    }
    async fn retry_later(&self, r: &str, _delay: Duration, e: &str) -> StoreResult<()> {
        self.0.retry_later(r, Duration::ZERO, e).await
    }
    async fn dead_letters(&self, l: usize) -> StoreResult<Vec<DeadLetter>> {
        self.0.dead_letters(l).await
    }
    async fn replay_dead_letter(&self, id: &str) -> StoreResult<()> {
        self.0.replay_dead_letter(id).await
    }
    async fn queue_depth(&self) -> StoreResult<(u64, u64)> {
        self.0.queue_depth().await
    }
}

// ------------------------------------------------------------------ environment

/// A linked pair as the oracle knows it.
#[derive(Clone, Debug)]
struct Pair {
    kind: Kind,
    clientify: String,
    alegra: String,
}

struct Env {
    sb: Sandboxes,
    cfg: SandboxConfig,
    app: Arc<App>,
    store: Arc<dyn Store>,
    workers: Arc<dyn Store>,
    hooks: ServerState,
    http: reqwest::Client,
    prefer_alegra: bool,
    /// The flow's first-match rule: keep both values (the default) or `newest`.
    keep_both: bool,
    /// Write requests the user (the scenario) made, per sandbox: not Puente's.
    user_writes: (u64, u64),
}

impl Env {
    async fn start(seed: u64, cfg: SandboxConfig, prefer_alegra: bool, keep_both: bool) -> Env {
        let sb = puente_sandbox::start(&cfg, None, None)
            .await
            .expect("sandboxes start");
        let mut toml = config_toml(
            &sb.clientify.base_url,
            &sb.alegra.base_url,
            &cfg,
            std::path::Path::new(":memory:"),
        );
        if !prefer_alegra {
            toml = toml.replace(
                "prefer_on_tie = \"alegra\"",
                "prefer_on_tie = \"clientify\"",
            );
        }
        if !keep_both {
            toml.push_str("first_match = \"newest\"\n");
        }
        let config = Config::parse(&toml).expect("valid config");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().expect("store"));
        let app = Arc::new(
            App::build(config, store.clone(), policy(CLIENT_TIMEOUT_MS)).expect("app builds"),
        );
        let hooks = ServerState {
            app: app.clone(),
            secret: Some(HOOK_SECRET.into()),
            inactive: Arc::new(std::sync::Mutex::new(Vec::new())),
        };
        let _ = seed;
        Env {
            sb,
            cfg,
            workers: Arc::new(NoBackoff(store.clone())),
            app,
            store,
            hooks,
            http: reqwest::Client::new(),
            prefer_alegra,
            keep_both,
            user_writes: (0, 0),
        }
    }

    fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow(FLOW).expect("flow")
    }

    fn faults_off(&self) {
        self.sb.clientify.set_faults(Faults::default());
        self.sb.alegra.set_faults(Faults::default());
    }

    fn vendor_writes(&self) -> u64 {
        writes(&self.sb.clientify) + writes(&self.sb.alegra)
            - self.user_writes.0
            - self.user_writes.1
    }

    fn injected_faults(&self) -> u64 {
        [&self.sb.clientify, &self.sb.alegra]
            .iter()
            .map(|s| s.stats().faults.values().sum::<u64>())
            .sum()
    }

    /// Every record of `kind` on one side, canonical (faults must be off).
    async fn read(&self, conn: &Arc<dyn Connector>, kind: Kind) -> Vec<Record> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = conn
                .read()
                .list(kind, &puente_connectors::ListQuery::all(), token.as_deref())
                .await
                .expect("listing with faults off");
            out.extend(page.records);
            match page.next {
                Some(n) => token = Some(n),
                None => break,
            }
        }
        out
    }

    async fn snapshot(&self) -> Snapshot {
        let mut s = Snapshot::default();
        for kind in self.flow().kinds.clone() {
            for r in self.read(&self.flow().a, kind).await {
                if let Ok(t) = TaxId::parse(r.fields.get("tax_id")) {
                    s.clientify
                        .entry((kind, t.to_string()))
                        .or_default()
                        .push(r);
                } else {
                    s.clientify_no_id.push((kind, r.id.clone()));
                }
            }
            for r in self.read(&self.flow().b, kind).await {
                if let Ok(t) = TaxId::parse(r.fields.get("tax_id")) {
                    s.alegra.entry((kind, t.to_string())).or_default().push(r);
                }
            }
        }
        s
    }

    // -------------------------------------------------------------- user writes

    async fn clientify_raw(&self, kind: Kind, id: &str) -> Value {
        puente_e2e::clientify_get(&self.http, &self.sb.clientify, &self.cfg, kind, id).await
    }

    async fn alegra_raw(&self, id: &str) -> Value {
        puente_e2e::alegra_get(&self.http, &self.sb.alegra, &self.cfg, id).await
    }

    async fn clientify_write(
        &mut self,
        method: Method,
        kind: Kind,
        id: Option<&str>,
        body: Value,
    ) -> Value {
        let url = match id {
            Some(id) => format!(
                "{}/{}/{id}/",
                self.sb.clientify.base_url,
                clientify_path(kind)
            ),
            None => format!("{}/{}/", self.sb.clientify.base_url, clientify_path(kind)),
        };
        let r = self
            .http
            .request(method, url)
            .header(
                "Authorization",
                format!("Token {}", self.cfg.clientify_token),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        self.user_writes.0 += 1;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "user write to clientify {status}: {v} for {body}"
        );
        v
    }

    async fn alegra_write(&mut self, method: Method, id: Option<&str>, body: Value) -> Value {
        let url = match id {
            Some(id) => format!("{}/contacts/{id}", self.sb.alegra.base_url),
            None => format!("{}/contacts", self.sb.alegra.base_url),
        };
        let r = self
            .http
            .request(method, url)
            .basic_auth(&self.cfg.alegra_email, Some(&self.cfg.alegra_token))
            .json(&body)
            .send()
            .await
            .unwrap();
        self.user_writes.1 += 1;
        let status = r.status();
        let v: Value = r.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "user write to alegra {status}: {v} for {body}"
        );
        v
    }

    /// Sets canonical field `f` of a Clientify record to `v` ("" clears), as a user would.
    async fn clientify_edit(&mut self, kind: Kind, id: &str, f: &str, v: &str) -> Value {
        let cur = self.clientify_raw(kind, id).await;
        let body = clientify_edit_body(kind, &cur, f, v);
        self.clientify_write(Method::PUT, kind, Some(id), body)
            .await
    }

    async fn alegra_edit(&mut self, kind: Kind, id: &str, f: &str, v: &str) {
        let cur = self.alegra_raw(id).await;
        let body = alegra_edit_body(kind, &cur, f, v);
        self.alegra_write(Method::PUT, Some(id), body).await;
    }

    // -------------------------------------------------------------- Puente

    /// A webhook delivered through the real HTTP handler; panics on anything but 202.
    async fn deliver(&self, body: &Value) {
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/webhooks/{TENANT}/clientify/{HOOK_SECRET}"))
            .header("content-type", "application/json")
            .body(Body::from(serde_json::to_vec(body).unwrap()))
            .unwrap();
        let resp = router(self.hooks.clone()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 202, "webhook accepted");
    }

    /// One worker pass; with a plan, the worker may die at its crash point. Returns whether
    /// it died.
    async fn work(&self, plan: Option<Arc<CrashPlan>>) -> bool {
        let fut = work_once(&self.app, self.workers.as_ref(), 10, VISIBILITY);
        match plan {
            None => {
                fut.await;
                false
            }
            Some(p) => with_plan(p, fut).await.is_err(),
        }
    }

    async fn pending(&self) -> u64 {
        self.store.queue_depth().await.map(|d| d.0).unwrap_or(0)
    }

    /// Works the queue until it is empty (messages of dead workers come back after the
    /// visibility timeout).
    async fn drain(&self) {
        for _ in 0..200 {
            if self.pending().await == 0 {
                return;
            }
            let done = work_once(&self.app, self.workers.as_ref(), 10, VISIBILITY).await;
            if done.taken == 0 {
                tokio::time::sleep(VISIBILITY / 2).await;
            }
        }
    }
}

/// Both sides, canonical, by (kind, identification).
#[derive(Default)]
struct Snapshot {
    clientify: BTreeMap<(Kind, String), Vec<Record>>,
    alegra: BTreeMap<(Kind, String), Vec<Record>>,
    clientify_no_id: Vec<(Kind, String)>,
}

impl Snapshot {
    fn one<'a>(
        m: &'a BTreeMap<(Kind, String), Vec<Record>>,
        k: &(Kind, String),
    ) -> Option<&'a Record> {
        m.get(k).and_then(|v| v.first())
    }
}

// ------------------------------------------------------------------ raw vendor bodies

const PHONE_MOBILE: i64 = 2;

fn clientify_status(v: &str, rng_pick: usize) -> &'static str {
    match v {
        "client" => "client",
        "lead" => ["cold-lead", "hot-lead", "warm-lead"][rng_pick % 3],
        _ => "other",
    }
}

/// The partial PUT a Clientify user makes to set canonical field `f` to `v`.
fn clientify_edit_body(kind: Kind, cur: &Value, f: &str, v: &str) -> Value {
    let list = |k: &str| cur[k].as_array().cloned().unwrap_or_default();
    match f {
        "tax_id" => json!({"taxpayer_identification_number": v}),
        "first_name" | "last_name" | "name" => json!({ f: v }),
        "status" => json!({"status": clientify_status(v, v.len())}),
        "email" => {
            let mut emails = list("emails");
            if v.is_empty() {
                if !emails.is_empty() {
                    emails.remove(0);
                }
            } else if emails.is_empty() {
                emails.push(json!({"type": 1, "email": v}));
            } else {
                emails[0]["email"] = json!(v);
            }
            json!({ "emails": emails })
        }
        "phone" | "mobile" => {
            let mobile = f == "mobile";
            let mut phones = list("phones");
            let pos = phones
                .iter()
                .position(|p| (p["type"].as_i64() == Some(PHONE_MOBILE)) == mobile);
            match (pos, v.is_empty()) {
                (Some(i), true) => {
                    phones.remove(i);
                }
                (Some(i), false) => phones[i]["phone"] = json!(v),
                (None, false) => {
                    phones.push(json!({"type": if mobile { 2 } else { 1 }, "phone": v}))
                }
                (None, true) => {}
            }
            // A company without a main phone reads its mobile as the phone: keep it simple
            // by never leaving a company with only a mobile.
            if kind == Kind::Company {
                phones.retain(|p| p["type"].as_i64() != Some(PHONE_MOBILE));
            }
            json!({ "phones": phones })
        }
        "city" | "postal_code" => {
            let key = if f == "city" { "city" } else { "postal_code" };
            let mut addrs = list("addresses");
            if addrs.is_empty() {
                addrs.push(json!({"type": 1, key: v}));
            } else {
                addrs[0][key] = json!(v);
            }
            json!({ "addresses": addrs })
        }
        other => panic!("no clientify edit for {other}"),
    }
}

/// The partial PUT an Alegra user makes to set canonical field `f` to `v`.
fn alegra_edit_body(kind: Kind, cur: &Value, f: &str, v: &str) -> Value {
    match f {
        "tax_id" => json!({"identification": v}),
        "first_name" | "last_name" => {
            let n = &cur["nameObject"];
            let s = |k: &str| n[k].as_str().unwrap_or("").to_string();
            let (first, last) = if f == "first_name" {
                (
                    v.to_string(),
                    puente_e2e_join(&s("lastName"), &s("secondLastName")),
                )
            } else {
                (
                    puente_e2e_join(&s("firstName"), &s("secondName")),
                    v.to_string(),
                )
            };
            json!({"nameObject": {"firstName": first, "secondName": "", "lastName": last, "secondLastName": ""}})
        }
        "name" => json!({"name": v}),
        "status" => {
            let mut types: Vec<String> = puente_e2e::alegra_types(cur)
                .into_iter()
                .filter(|t| t != "client" && t != "lead")
                .collect();
            if v == "client" || v == "lead" {
                types.insert(0, v.to_string());
            }
            json!({ "type": types })
        }
        "email" => json!({"email": v}),
        "phone" => json!({"phonePrimary": v}),
        "mobile" => {
            assert_eq!(kind, Kind::Contact);
            json!({"mobile": v})
        }
        "city" => json!({"address": {"city": v}}),
        "postal_code" => json!({"address": {"zipCode": v}}),
        other => panic!("no alegra edit for {other}"),
    }
}

fn puente_e2e_join(a: &str, b: &str) -> String {
    [a.trim(), b.trim()]
        .iter()
        .filter(|s| !s.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

fn clientify_create_body(kind: Kind, f: &BTreeMap<&str, String>) -> Value {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut b = json!({
        "taxpayer_identification_number": g("tax_id"),
        "emails": [{"type": 1, "email": g("email")}],
        // Every record has a province: Alegra's identification type NIF (NIEs and company
        // CIFs) requires city and province (issue 18, A12).
        "addresses": [{"type": 1, "city": g("city"), "state": PROVINCE, "postal_code": g("postal_code")}],
    });
    match kind {
        Kind::Contact => {
            b["first_name"] = json!(g("first_name"));
            b["last_name"] = json!(g("last_name"));
            b["status"] = json!(clientify_status(&g("status"), 0));
            b["phones"] = json!([{"type": 2, "phone": g("mobile")}]);
        }
        _ => {
            b["name"] = json!(g("name"));
            b["phones"] = json!([{"type": 3, "phone": g("phone")}]);
        }
    }
    b
}

fn alegra_create_body(kind: Kind, f: &BTreeMap<&str, String>) -> Value {
    let g = |k: &str| f.get(k).cloned().unwrap_or_default();
    let mut b = json!({
        "identification": g("tax_id"),
        "email": g("email"),
        "address": {"city": g("city"), "department": PROVINCE, "zipCode": g("postal_code")},
    });
    match kind {
        Kind::Contact => {
            b["nameObject"] = json!({"firstName": g("first_name"), "secondName": "",
                "lastName": g("last_name"), "secondLastName": ""});
            b["name"] = json!(puente_e2e_join(&g("first_name"), &g("last_name")));
            b["kindOfPerson"] = json!("PERSON_ENTITY");
            let st = g("status");
            b["type"] = if st == "client" || st == "lead" {
                json!([st])
            } else {
                json!([])
            };
            b["mobile"] = json!(g("mobile"));
        }
        _ => {
            b["name"] = json!(g("name"));
            b["kindOfPerson"] = json!("LEGAL_ENTITY");
            b["type"] = json!(["provider"]);
            b["phonePrimary"] = json!(g("phone"));
        }
    }
    b
}

// ------------------------------------------------------------------ values

const FIRST: &[&str] = &[
    "Ana", "Luis", "Marta", "Jorge", "Lucía", "Pablo", "Iria", "Xosé",
];
const LAST: &[&str] = &[
    "García", "López", "Pérez", "Sánchez", "Ruiz", "Otero", "Vázquez",
];
const CITIES: &[&str] = &["Lugo", "Ourense", "Vigo", "León", "Soria", "Teruel"];
/// The province every chaos record carries (never edited).
const PROVINCE: &str = "Lugo";
const WORDS: &[&str] = &["norte", "sur", "mar", "sol", "rio", "monte"];

fn editable(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Contact => &[
            "first_name",
            "last_name",
            "email",
            "phone",
            "mobile",
            "city",
            "postal_code",
            "status",
        ],
        _ => &["name", "email", "phone", "city", "postal_code"],
    }
}

/// Fields a user may clear. Not the city: Alegra refuses a contact identified as NIF (NIEs
/// and company CIFs) without city and province (issue 18, A12), so neither side's user can
/// clear it there.
fn clearable(f: &str) -> bool {
    matches!(f, "email" | "phone" | "mobile" | "postal_code")
}

fn value(rng: &mut StdRng, f: &str) -> String {
    let n: u32 = rng.gen_range(0..10_000);
    match f {
        "first_name" => FIRST[rng.gen_range(0..FIRST.len())].to_string(),
        "last_name" => LAST[rng.gen_range(0..LAST.len())].to_string(),
        "name" => format!(
            "Caos {} {} SL",
            WORDS[rng.gen_range(0..WORDS.len())],
            n % 50
        ),
        "email" => format!(
            "{}{}@caos.example",
            WORDS[rng.gen_range(0..WORDS.len())],
            n % 40
        ),
        "phone" => format!("98{:07}", n % 30),
        "mobile" => format!("6{:08}", n % 30),
        "city" => CITIES[rng.gen_range(0..CITIES.len())].to_string(),
        "postal_code" => format!("{:05}", 27000 + n % 20),
        "status" => ["client", "lead", "other"][rng.gen_range(0..3)].to_string(),
        other => panic!("no value for {other}"),
    }
}

/// A value for a user edit: sometimes a clear, else a (small-pool) value.
fn edit_value(rng: &mut StdRng, f: &str) -> String {
    if clearable(f) && rng.gen_bool(0.12) {
        String::new()
    } else {
        value(rng, f)
    }
}

// ------------------------------------------------------------------ oracle

fn newest_is_alegra(a: &Record, b: &Record, prefer_alegra: bool) -> bool {
    match (a.modified, b.modified) {
        (Some(x), Some(y)) if x != y => y > x,
        (Some(_), None) => false,
        (None, Some(_)) => true,
        _ => prefer_alegra,
    }
}

/// What every synced field must hold on each side (Clientify, Alegra) once the round has
/// quiesced, by the flow's rule. `base`: what each side held after the last converged round
/// (equal but for fields kept apart since a first match).
fn expected(
    kind: Kind,
    a: Option<&Record>,
    b: Option<&Record>,
    base: Option<&(Fields, Fields)>,
    prefer_alegra: bool,
    keep_both: bool,
) -> (Fields, Fields) {
    let (a, b) = match (a, b) {
        (Some(a), Some(b)) => (a, b),
        (Some(r), None) | (None, Some(r)) => return (r.fields.clone(), r.fields.clone()),
        (None, None) => return (Fields::new(), Fields::new()),
    };
    let alegra_newer = newest_is_alegra(a, b, prefer_alegra);
    let (mut out_a, mut out_b) = (Fields::new(), Fields::new());
    for &f in kind.fields() {
        let (va, vb) = (a.fields.get(f), b.fields.get(f));
        let newest = if alegra_newer { vb } else { va };
        let (wa, wb) = if va == vb {
            (va, va)
        } else {
            match base {
                Some((ba, bb)) => {
                    let (ca, cb) = (va != ba.get(f), vb != bb.get(f));
                    match (ca, cb) {
                        (true, false) => (va, va),
                        (false, true) => (vb, vb),
                        // Kept apart since the first match, and untouched since.
                        (false, false) => (va, vb),
                        (true, true) => (newest, newest),
                    }
                }
                None if va.is_empty() => (vb, vb),
                None if vb.is_empty() => (va, va),
                // ALG-4: a first match never demotes a client.
                None if f == "status" && (va == "client" || vb == "client") => ("client", "client"),
                None if keep_both => (va, vb),
                None => (newest, newest),
            }
        };
        out_a.set(f, wa);
        out_b.set(f, wb);
    }
    (out_a, out_b)
}

// ------------------------------------------------------------------ the scenario

struct Scenario {
    seed: u64,
    rng: StdRng,
    env: Env,
    report: Report,
    /// Converged fields of every linked pair on each side (Clientify, Alegra), by (kind,
    /// identification).
    base: BTreeMap<(Kind, String), (Fields, Fields)>,
    pairs: Vec<Pair>,
    /// Clientify records without identification.
    no_id: Vec<(Kind, String)>,
    /// Identifications in use (never reused for new records).
    keys: BTreeSet<String>,
    next_key: u32,
    /// Webhook bodies for Clientify writes of this round.
    hooks: Vec<Value>,
    /// Keys entered twice on one side and once on the other, none linked: Puente cannot
    /// tell which is the counterpart, so it must write to none and report each once.
    ambiguous: Vec<(Kind, String)>,
    /// Its own stream, so adding ambiguous keys leaves the rest of a seed's scenario as it
    /// was.
    amb_rng: StdRng,
}

/// Runs one seeded scenario and reports what it found.
pub async fn run_scenario(seed: u64) -> Report {
    let mut rng = StdRng::seed_from_u64(seed);
    let contacts = rng.gen_range(2..=4);
    let companies = rng.gen_range(1..=2);
    let cfg = SandboxConfig {
        seed,
        contacts,
        companies,
        shared_contacts: rng.gen_range(0..=contacts.min(2)),
        shared_companies: rng.gen_range(0..=1),
        without_id_percent: if rng.gen_bool(0.4) { 30 } else { 0 },
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    let prefer_alegra = rng.gen_bool(0.5);
    // Even seeds run the default first match (keep both values), odd ones the opt-in
    // `first_match = "newest"`; decided without the rng so a seed's scenario is unchanged.
    let keep_both = seed.is_multiple_of(2);
    let env = Env::start(seed, cfg, prefer_alegra, keep_both).await;
    let mut s = Scenario {
        seed,
        rng,
        env,
        report: Report {
            seed,
            ..Report::default()
        },
        base: BTreeMap::new(),
        pairs: Vec::new(),
        no_id: Vec::new(),
        keys: BTreeSet::new(),
        next_key: 0,
        hooks: Vec::new(),
        ambiguous: Vec::new(),
        amb_rng: StdRng::seed_from_u64(seed ^ 0x000A_3B16_u64),
    };
    puente_runtime::activate(s.env.flow())
        .await
        .expect("activation with faults off");
    s.play().await;
    s.report.faults = s.env.injected_faults();
    s.report.dead_letters = s.env.store.queue_depth().await.map(|d| d.1).unwrap_or(0);
    s.report.ambiguous_keys = s.ambiguous.len() as u64;
    s.env.sb.clientify.shutdown();
    s.env.sb.alegra.shutdown();
    s.report
}

impl Scenario {
    fn problem(&mut self, kind: ProblemKind, round: u32, detail: String) {
        self.report.problems.push(Problem {
            kind,
            round,
            detail,
        });
    }

    async fn play(&mut self) {
        // Round 0: the import, possibly through faults.
        let snap = self.env.snapshot().await;
        for k in snap.clientify.keys().chain(snap.alegra.keys()) {
            self.keys.insert(k.1.clone());
        }
        let writes0 = self.env.vendor_writes();
        self.chaos(0).await;
        self.quiesce_and_check(0, &snap, writes0, 0).await;
        for round in 1..=ROUNDS {
            self.hooks.clear();
            let changes = self.user_writes().await;
            let snap = self.env.snapshot().await;
            let before = self.env.vendor_writes();
            self.chaos(round).await;
            self.quiesce_and_check(round, &snap, before, changes).await;
        }
    }

    /// Moves both sandbox clocks on by 0–2 s (same amount), so the order of user writes is
    /// the order of their timestamps, except within a second where Alegra's second
    /// resolution makes an edit look older than it is (the flow's rule reads the vendors'
    /// timestamps as they are).
    fn tick(&mut self) {
        let secs = self.rng.gen_range(0..=2);
        if secs > 0 {
            self.env.sb.clientify.advance_clock(secs);
            self.env.sb.alegra.advance_clock(secs);
        }
    }

    fn new_key(&mut self, kind: Kind) -> String {
        loop {
            self.next_key += 1;
            let n = (self.seed as u32)
                .wrapping_mul(7919)
                .wrapping_add(self.next_key * 104_729)
                % 9_000_000;
            let k = match kind {
                Kind::Contact => puente_sandbox::taxid::dni(90_000_000 + n % 9_999_999),
                _ => puente_sandbox::taxid::cif('B', 80_000_000 + n),
            };
            let canon = TaxId::parse(&k).expect("valid").to_string();
            if self.keys.insert(canon.clone()) {
                return canon;
            }
        }
    }

    fn fresh_fields(&mut self, kind: Kind, key: &str) -> BTreeMap<&'static str, String> {
        let mut f = BTreeMap::new();
        f.insert("tax_id", key.to_string());
        for &name in editable(kind) {
            f.insert(name, value(&mut self.rng, name));
        }
        f
    }

    fn hook_for(&mut self, kind: Kind, v: &Value) {
        let id = v["id"].clone();
        let modified = v["modified"].clone();
        let ev = format!("{}.saved", kind.as_str());
        let body = match self.rng.gen_range(0..3) {
            0 => json!({"event": ev, kind.as_str(): {"id": id, "modified": modified}}),
            1 => {
                json!({"hook": {"id": 9000 + self.hooks.len(), "event": ev}, kind.as_str(): {"id": id, "modified": modified}})
            }
            _ => {
                json!({"event": ev, "timestamp": 1, "data": {kind.as_str(): {"id": id, "modified": modified}, "changes": {}}})
            }
        };
        self.hooks.push(body);
    }

    async fn clientify_edit(&mut self, kind: Kind, id: &str, f: &str, v: &str) {
        self.tick();
        let after = self.env.clientify_edit(kind, id, f, v).await;
        self.hook_for(kind, &after);
    }

    async fn alegra_edit(&mut self, kind: Kind, id: &str, f: &str, v: &str) {
        self.tick();
        self.env.alegra_edit(kind, id, f, v).await;
    }

    /// A round of user writes; returns how many changes were made.
    async fn user_writes(&mut self) -> u64 {
        let ops = self.rng.gen_range(2..=6);
        let mut changes = 0;
        for _ in 0..ops {
            let op = self.rng.gen_range(0..100);
            let pair = (!self.pairs.is_empty())
                .then(|| self.pairs[self.rng.gen_range(0..self.pairs.len())].clone());
            let kind = if self.rng.gen_bool(0.7) {
                Kind::Contact
            } else {
                Kind::Company
            };
            match (op, pair) {
                // One side edits a linked pair.
                (0..=29, Some(p)) => {
                    let fields = editable(p.kind);
                    let f = fields[self.rng.gen_range(0..fields.len())];
                    let v = edit_value(&mut self.rng, f);
                    if self.rng.gen_bool(0.5) {
                        self.clientify_edit(p.kind, &p.clientify, f, &v).await;
                    } else {
                        self.alegra_edit(p.kind, &p.alegra, f, &v).await;
                    }
                    changes += 1;
                }
                // Both sides edit the same field (conflict), in either order.
                (30..=49, Some(p)) => {
                    let fields = editable(p.kind);
                    let f = fields[self.rng.gen_range(0..fields.len())];
                    let (v1, v2) = (edit_value(&mut self.rng, f), edit_value(&mut self.rng, f));
                    if self.rng.gen_bool(0.5) {
                        self.clientify_edit(p.kind, &p.clientify, f, &v1).await;
                        self.alegra_edit(p.kind, &p.alegra, f, &v2).await;
                    } else {
                        self.alegra_edit(p.kind, &p.alegra, f, &v2).await;
                        self.clientify_edit(p.kind, &p.clientify, f, &v1).await;
                    }
                    changes += 2;
                }
                // Both sides edit different fields.
                (50..=64, Some(p)) => {
                    let fields = editable(p.kind);
                    let i = self.rng.gen_range(0..fields.len());
                    let j = (i + self.rng.gen_range(1..fields.len())) % fields.len();
                    let (v1, v2) = (
                        edit_value(&mut self.rng, fields[i]),
                        edit_value(&mut self.rng, fields[j]),
                    );
                    self.clientify_edit(p.kind, &p.clientify, fields[i], &v1)
                        .await;
                    self.alegra_edit(p.kind, &p.alegra, fields[j], &v2).await;
                    changes += 2;
                }
                // The same Clientify record edited twice (two webhooks, delivered in any order).
                (65..=69, Some(p)) => {
                    let fields = editable(p.kind);
                    for _ in 0..2 {
                        let f = fields[self.rng.gen_range(0..fields.len())];
                        let v = edit_value(&mut self.rng, f);
                        self.clientify_edit(p.kind, &p.clientify, f, &v).await;
                    }
                    changes += 2;
                }
                // A new record in Clientify.
                (70..=79, _) => {
                    self.tick();
                    let key = self.new_key(kind);
                    let f = self.fresh_fields(kind, &key);
                    let v = self
                        .env
                        .clientify_write(Method::POST, kind, None, clientify_create_body(kind, &f))
                        .await;
                    self.hook_for(kind, &v);
                    changes += 1;
                }
                // A new record in Alegra.
                (80..=89, _) => {
                    self.tick();
                    let key = self.new_key(kind);
                    let f = self.fresh_fields(kind, &key);
                    self.env
                        .alegra_write(Method::POST, None, alegra_create_body(kind, &f))
                        .await;
                    changes += 1;
                }
                // The same new person or company entered on both sides (different details).
                (90..=95, _) => {
                    self.tick();
                    let key = self.new_key(kind);
                    let f1 = self.fresh_fields(kind, &key);
                    let f2 = self.fresh_fields(kind, &key);
                    let v = self
                        .env
                        .clientify_write(Method::POST, kind, None, clientify_create_body(kind, &f1))
                        .await;
                    self.hook_for(kind, &v);
                    self.tick();
                    self.env
                        .alegra_write(Method::POST, None, alegra_create_body(kind, &f2))
                        .await;
                    changes += 2;
                }
                // A Clientify record without identification gets one (ALG-3: now eligible).
                (_, _) => {
                    if let Some(i) =
                        (!self.no_id.is_empty()).then(|| self.rng.gen_range(0..self.no_id.len()))
                    {
                        let (k, id) = self.no_id.remove(i);
                        let key = self.new_key(k);
                        self.clientify_edit(k, &id, "tax_id", &key).await;
                        changes += 1;
                    }
                }
            }
        }
        if self.amb_rng.gen_bool(0.3) {
            self.ambiguous_key().await;
        }
        changes
    }

    /// One new key entered twice on one side (a duplicate someone made) and once on the
    /// other, all unlinked (issue 17). Not a change Puente may act on: not counted.
    async fn ambiguous_key(&mut self) {
        let kind = if self.amb_rng.gen_bool(0.7) {
            Kind::Contact
        } else {
            Kind::Company
        };
        let key = self.new_key(kind);
        let twice_in_clientify = self.amb_rng.gen_bool(0.5);
        let (n_clientify, n_alegra) = if twice_in_clientify { (2, 1) } else { (1, 2) };
        for side in
            std::iter::repeat_n(true, n_clientify).chain(std::iter::repeat_n(false, n_alegra))
        {
            let secs = self.amb_rng.gen_range(0..=2);
            self.env.sb.clientify.advance_clock(secs);
            self.env.sb.alegra.advance_clock(secs);
            let mut f = BTreeMap::new();
            f.insert("tax_id", key.clone());
            for &name in editable(kind) {
                f.insert(name, value(&mut self.amb_rng, name));
            }
            if side {
                let v = self
                    .env
                    .clientify_write(Method::POST, kind, None, clientify_create_body(kind, &f))
                    .await;
                let ev = format!("{}.saved", kind.as_str());
                self.hooks.push(json!({"event": ev, kind.as_str(): {"id": v["id"].clone(), "modified": v["modified"].clone()}}));
            } else {
                self.env
                    .alegra_write(Method::POST, None, alegra_create_body(kind, &f))
                    .await;
            }
        }
        self.ambiguous.push((kind, key));
    }

    /// Issue 17: every record of an ambiguous key is as the user left it (the snapshot
    /// before the chaos), unlinked, and reported as `ambiguous` exactly once.
    async fn check_ambiguous(&mut self, round: u32, snap: &Snapshot, now: &Snapshot) {
        for k in self.ambiguous.clone() {
            for (side, before, after) in [
                ("clientify", &snap.clientify, &now.clientify),
                ("alegra", &snap.alegra, &now.alegra),
            ] {
                let was = before.get(&k).cloned().unwrap_or_default();
                let is = after.get(&k).cloned().unwrap_or_default();
                let shape = |rs: &[Record]| -> Vec<String> {
                    let mut v: Vec<String> = rs
                        .iter()
                        .map(|r| {
                            format!(
                                "{} {:?} {:?} {} {:?}",
                                r.id, r.fields, r.partner_ref, r.marked, r.modified
                            )
                        })
                        .collect();
                    v.sort();
                    v
                };
                if shape(&was) != shape(&is) {
                    self.problem(
                        ProblemKind::Ambiguous,
                        round,
                        format!(
                            "{} {} on {side}: written to: before {:?}, after {:?}",
                            k.0,
                            k.1,
                            shape(&was),
                            shape(&is)
                        ),
                    );
                }
                for r in &is {
                    let link = self
                        .env
                        .store
                        .link_by_external(Scope::new(TENANT, FLOW, k.0.as_str()), side, &r.id)
                        .await
                        .ok()
                        .flatten();
                    if let Some(l) = link {
                        self.problem(
                            ProblemKind::Ambiguous,
                            round,
                            format!(
                                "{} {} on {side}: {} linked to {:?} (clientify holds {:?}, alegra {:?})",
                                k.0,
                                k.1,
                                r.id,
                                l.ids,
                                now.clientify.get(&k).map(|v| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>()),
                                now.alegra.get(&k).map(|v| v.iter().map(|r| r.id.clone()).collect::<Vec<_>>())
                            ),
                        );
                    }
                    let reported = self
                        .env
                        .store
                        .query(&LogQuery {
                            tenant: TENANT.into(),
                            action: Some(puente_store::Action::Ambiguous),
                            system: Some(side.into()),
                            external_id: Some(r.id.clone()),
                            limit: 10,
                            ..LogQuery::default()
                        })
                        .await
                        .map(|v| v.len())
                        .unwrap_or(0);
                    if reported != 1 {
                        self.problem(
                            ProblemKind::Ambiguous,
                            round,
                            format!(
                                "{} {} on {side}: {} reported as ambiguous {reported} times",
                                k.0, k.1, r.id
                            ),
                        );
                    }
                }
            }
        }
    }

    fn random_faults(&mut self) -> Faults {
        let r = &mut self.rng;
        if r.gen_bool(0.3) {
            return Faults::default();
        }
        Faults {
            seed: r.gen(),
            error_5xx: if r.gen_bool(0.6) {
                r.gen_range(0.0..0.15)
            } else {
                0.0
            },
            reset: if r.gen_bool(0.4) {
                r.gen_range(0.0..0.08)
            } else {
                0.0
            },
            lost_response: if r.gen_bool(0.5) {
                r.gen_range(0.0..0.25)
            } else {
                0.0
            },
            burst_429: r.gen_bool(0.2).then(|| (r.gen_range(8..20), 1)),
            timeout: if r.gen_bool(0.1) { 0.02 } else { 0.0 },
            timeout_hold: Duration::from_millis(CLIENT_TIMEOUT_MS + 60),
            latency: Duration::ZERO,
            lose_write: None,
        }
    }

    fn crash_plan(&mut self) -> Option<Arc<CrashPlan>> {
        if !self.rng.gen_bool(0.45) {
            return None;
        }
        let point = if self.rng.gen_bool(0.6) {
            CrashPoint::AfterVendorWrite
        } else {
            CrashPoint::AfterLinkSave
        };
        Some(CrashPlan::new(point, self.rng.gen_range(1..=3)))
    }

    async fn work(&mut self) {
        let plan = self.crash_plan();
        if self.env.work(plan).await {
            self.report.crashes += 1;
        }
    }

    /// Faults, webhooks (shuffled, duplicated, out of order), dying workers and polls.
    async fn chaos(&mut self, round: u32) {
        let fa = self.random_faults();
        let fb = self.random_faults();
        self.env.sb.clientify.set_faults(fa);
        self.env.sb.alegra.set_faults(fb);
        // Deliveries: every hook once, some twice, in a random order.
        let mut deliveries = self.hooks.clone();
        for h in &self.hooks {
            if self.rng.gen_bool(0.3) {
                deliveries.push(h.clone());
            }
        }
        deliveries.shuffle(&mut self.rng);
        if round == 0 && self.rng.gen_bool(0.7) {
            let _ = run(self.env.flow(), Mode::Full, false, &NoProgress).await;
        }
        let steps = self.rng.gen_range(2..=6);
        for _ in 0..steps {
            match self.rng.gen_range(0..100) {
                0..=34 => {
                    let n = self.rng.gen_range(1..=3).min(deliveries.len());
                    for h in deliveries.drain(..n) {
                        self.env.deliver(&h).await;
                        self.report.webhooks += 1;
                    }
                    self.work().await;
                }
                35..=59 => self.work().await,
                60..=74 => {
                    let _ = run(self.env.flow(), Mode::Modified, false, &NoProgress).await;
                }
                75..=79 => {
                    let _ = run(self.env.flow(), Mode::Full, false, &NoProgress).await;
                }
                80..=94 => {
                    // A worker beside a poll, as `serve` runs them, with events waiting.
                    let n = self.rng.gen_range(0..=2).min(deliveries.len());
                    for h in deliveries.drain(..n) {
                        self.env.deliver(&h).await;
                        self.report.webhooks += 1;
                    }
                    let plan = self.crash_plan();
                    let mode = if self.rng.gen_bool(0.5) {
                        Mode::Modified
                    } else {
                        Mode::Full
                    };
                    let died = if concurrent() {
                        tokio::join!(
                            self.env.work(plan),
                            run(self.env.flow(), mode, false, &NoProgress)
                        )
                        .0
                    } else {
                        let died = self.env.work(plan).await;
                        run(self.env.flow(), mode, false, &NoProgress).await;
                        died
                    };
                    if died {
                        self.report.crashes += 1;
                    }
                }
                _ => {
                    let fa = self.random_faults();
                    self.env.sb.alegra.set_faults(fa);
                }
            }
        }
        for h in deliveries {
            self.env.deliver(&h).await;
            self.report.webhooks += 1;
        }
        // A last dying worker, maybe, before the faults go away.
        self.work().await;
    }

    async fn quiesce_and_check(&mut self, round: u32, snap: &Snapshot, before: u64, changes: u64) {
        self.env.faults_off();
        tokio::time::sleep(VISIBILITY).await;
        self.env.drain().await;
        let full = run(self.env.flow(), Mode::Full, false, &NoProgress).await;
        let failed: u64 = full.entities.values().map(|c| c.failed).sum();
        if !full.errors.is_empty() || failed > 0 {
            self.problem(
                ProblemKind::RunError,
                round,
                format!("quiescing Full: errors {:?}, {failed} failed", full.errors),
            );
        }
        let puente_writes = self.env.vendor_writes() - before;
        let again = run(self.env.flow(), Mode::Full, false, &NoProgress).await;
        let echo = self.env.vendor_writes() - before - puente_writes;
        if echo > 0 {
            self.problem(
                ProblemKind::EchoWrites,
                round,
                format!(
                    "the second Full sync wrote {echo} times: {:?}",
                    again.entities
                ),
            );
        }
        if round > 0 && changes > 0 {
            self.report.changes += changes;
            self.report.puente_writes += puente_writes;
            let ratio = puente_writes as f64 / changes as f64;
            if ratio > self.report.max_ratio {
                self.report.max_ratio = ratio;
            }
        }
        self.check(round, snap).await;
    }

    async fn check(&mut self, round: u32, snap: &Snapshot) {
        let now = self.env.snapshot().await;
        self.no_id = now.clientify_no_id.clone();
        self.check_ambiguous(round, snap, &now).await;
        let ambiguous: BTreeSet<(Kind, String)> = self.ambiguous.iter().cloned().collect();
        let mut pairs = Vec::new();
        let mut base = BTreeMap::new();
        for (side, m) in [("clientify", &now.clientify), ("alegra", &now.alegra)] {
            for ((kind, key), recs) in m {
                if recs.len() > 1 && !ambiguous.contains(&(*kind, key.clone())) {
                    let ids: Vec<_> = recs.iter().map(|r| r.id.as_str()).collect();
                    self.problem(
                        ProblemKind::Duplicate,
                        round,
                        format!(
                            "{side} has {} {kind}s with identification {key}: {ids:?}",
                            recs.len()
                        ),
                    );
                }
            }
        }
        let keys: BTreeSet<(Kind, String)> = now
            .clientify
            .keys()
            .chain(now.alegra.keys())
            .filter(|k| !ambiguous.contains(*k))
            .cloned()
            .collect();
        for k in keys {
            let (kind, key) = (&k.0, &k.1);
            let a = Snapshot::one(&now.clientify, &k);
            let b = Snapshot::one(&now.alegra, &k);
            let (Some(a), Some(b)) = (a, b) else {
                let side = if a.is_some() { "alegra" } else { "clientify" };
                self.problem(
                    ProblemKind::Unconverged,
                    round,
                    format!("{kind} {key} has no counterpart in {side}"),
                );
                continue;
            };
            // The oracle, from the snapshot before the chaos (records the round made after
            // it have none: they must simply agree).
            let in_snap = snap.clientify.contains_key(&k) || snap.alegra.contains_key(&k);
            let want = in_snap.then(|| {
                expected(
                    *kind,
                    Snapshot::one(&snap.clientify, &k),
                    Snapshot::one(&snap.alegra, &k),
                    self.base.get(&k),
                    self.env.prefer_alegra,
                    self.env.keep_both,
                )
            });
            for &f in kind.fields() {
                let kept = want.as_ref().is_some_and(|(wa, wb)| wa.get(f) != wb.get(f));
                if a.fields.get(f) != b.fields.get(f) && !kept {
                    self.problem(
                        ProblemKind::Divergence,
                        round,
                        format!(
                            "{kind} {key} field {f}: clientify {:?} ≠ alegra {:?}",
                            a.fields.get(f),
                            b.fields.get(f)
                        ),
                    );
                }
            }
            let link = self
                .env
                .store
                .link_by_external(
                    puente_store::Scope::new(TENANT, FLOW, kind.as_str()),
                    "clientify",
                    &a.id,
                )
                .await
                .ok()
                .flatten();
            match link {
                Some(l) if l.ids.get("alegra") == Some(&b.id) => {}
                other => self.problem(
                    ProblemKind::Unconverged,
                    round,
                    format!(
                        "{kind} {key}: clientify {} and alegra {} not linked ({:?})",
                        a.id,
                        b.id,
                        other.map(|l| l.ids)
                    ),
                ),
            }
            if a.partner_ref.as_deref() != Some(b.id.as_str()) || !a.marked {
                self.problem(
                    ProblemKind::Unconverged,
                    round,
                    format!(
                        "{kind} {key}: clientify {} lacks its marks (in_alegra {:?}, marked {})",
                        a.id, a.partner_ref, a.marked
                    ),
                );
            }
            // No acknowledged change lost: every field as the oracle says, on both sides.
            if let Some((want_a, want_b)) = &want {
                for (side, want, got) in [("clientify", want_a, a), ("alegra", want_b, b)] {
                    for &f in kind.fields() {
                        if want.get(f) != got.fields.get(f) {
                            self.problem(
                                ProblemKind::LostUpdate,
                                round,
                                format!(
                                    "{kind} {key} field {f} on {side}: holds {:?}, the flow's rule says {:?} (clientify {:?} @ {:?}, alegra {:?} @ {:?}, base {:?})",
                                    got.fields.get(f),
                                    want.get(f),
                                    Snapshot::one(&snap.clientify, &k).map(|r| r.fields.get(f).to_string()),
                                    Snapshot::one(&snap.clientify, &k).and_then(|r| r.modified),
                                    Snapshot::one(&snap.alegra, &k).map(|r| r.fields.get(f).to_string()),
                                    Snapshot::one(&snap.alegra, &k).and_then(|r| r.modified),
                                    self.base.get(&k).map(|(ba, bb)| (ba.get(f).to_string(), bb.get(f).to_string())),
                                ),
                            );
                        }
                    }
                }
            }
            base.insert(k.clone(), (a.fields.clone(), b.fields.clone()));
            pairs.push(Pair {
                kind: *kind,
                clientify: a.id.clone(),
                alegra: b.id.clone(),
            });
        }
        self.base = base;
        self.pairs = pairs;
    }
}

/// Totals over many scenarios.
#[derive(Debug, Default)]
pub struct Totals {
    pub scenarios: u64,
    pub failed: Vec<u64>,
    pub divergences: u64,
    pub duplicates: u64,
    pub lost_updates: u64,
    pub echo_writes: u64,
    pub unconverged: u64,
    pub run_errors: u64,
    /// Problems with ambiguous keys, and how many such keys the scenarios made.
    pub ambiguous: u64,
    pub ambiguous_keys: u64,
    pub changes: u64,
    pub puente_writes: u64,
    pub max_ratio: f64,
    pub crashes: u64,
    pub faults: u64,
    pub webhooks: u64,
    pub dead_letters: u64,
}

impl Totals {
    pub fn add(&mut self, r: &Report) {
        self.scenarios += 1;
        if !r.problems.is_empty() {
            self.failed.push(r.seed);
        }
        self.divergences += r.count(ProblemKind::Divergence) as u64;
        self.duplicates += r.count(ProblemKind::Duplicate) as u64;
        self.lost_updates += r.count(ProblemKind::LostUpdate) as u64;
        self.echo_writes += r.count(ProblemKind::EchoWrites) as u64;
        self.unconverged += r.count(ProblemKind::Unconverged) as u64;
        self.run_errors += r.count(ProblemKind::RunError) as u64;
        self.ambiguous += r.count(ProblemKind::Ambiguous) as u64;
        self.ambiguous_keys += r.ambiguous_keys;
        self.changes += r.changes;
        self.puente_writes += r.puente_writes;
        self.max_ratio = self.max_ratio.max(r.max_ratio);
        self.crashes += r.crashes;
        self.faults += r.faults;
        self.webhooks += r.webhooks;
        self.dead_letters += r.dead_letters;
    }

    pub fn print(&self) {
        println!("scenarios:          {}", self.scenarios);
        println!("divergences:        {}", self.divergences);
        println!("duplicates:         {}", self.duplicates);
        println!("lost updates:       {}", self.lost_updates);
        println!("echo writes:        {}", self.echo_writes);
        println!("unconverged:        {}", self.unconverged);
        println!("run errors:         {}", self.run_errors);
        println!(
            "ambiguous keys:     {} made, {} problems (writes, links, or not reported once)",
            self.ambiguous_keys, self.ambiguous
        );
        println!(
            "writes per change:  max {:.2}, mean {:.2} ({} writes for {} user changes)",
            self.max_ratio,
            self.puente_writes as f64 / self.changes.max(1) as f64,
            self.puente_writes,
            self.changes
        );
        println!(
            "chaos:              {} faults injected, {} worker crashes, {} webhook deliveries, {} dead letters",
            self.faults, self.crashes, self.webhooks, self.dead_letters
        );
        for seed in self.failed.iter().take(20) {
            println!("FAILED seed {seed}: {}", replay_command(*seed));
        }
    }
}

/// Prints a scenario's problems with its replay command.
pub fn describe(r: &Report) -> String {
    let mut s = format!(
        "chaos scenario seed {} failed ({} problems); replay: {}\n",
        r.seed,
        r.problems.len(),
        replay_command(r.seed)
    );
    for p in r.problems.iter().take(30) {
        s.push_str(&format!("  round {} {:?}: {}\n", p.round, p.kind, p.detail));
    }
    s
}

/// Runs `seeds` with up to `parallel` scenarios at once.
pub async fn run_many(
    seeds: impl IntoIterator<Item = u64>,
    parallel: usize,
    mut each: impl FnMut(&Report),
) -> Totals {
    let mut totals = Totals::default();
    let mut set = tokio::task::JoinSet::new();
    let mut seeds = seeds.into_iter();
    loop {
        while set.len() < parallel {
            match seeds.next() {
                Some(seed) => {
                    // A scenario that panics (a user write refused, say) is a failure of that
                    // seed, reported with it, not of the whole run.
                    set.spawn(async move {
                        match tokio::spawn(run_scenario(seed)).await {
                            Ok(r) => r,
                            Err(e) => Report {
                                seed,
                                problems: vec![Problem {
                                    kind: ProblemKind::RunError,
                                    round: 0,
                                    detail: format!("scenario panicked: {e}"),
                                }],
                                ..Report::default()
                            },
                        }
                    });
                }
                None => break,
            }
        }
        match set.join_next().await {
            Some(Ok(r)) => {
                each(&r);
                totals.add(&r);
            }
            Some(Err(e)) => panic!("scenario task failed: {e}"),
            None => break,
        }
    }
    totals
}
