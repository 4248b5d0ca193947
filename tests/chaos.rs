//! Chaos convergence (issue 5, P5, ALG-10, RUN-3): seeded scenarios of edits and creates on
//! both sides, conflicting edits, duplicate and out-of-order webhooks, vendor faults and
//! workers dying at crash points; after each, the system quiesces and must have converged
//! with nothing duplicated and no acknowledged change lost. See `src/chaos.rs`.
//!
//! `CHAOS_SCENARIOS` (default 200) sets how many run here; a failure prints each failing seed
//! and the command that replays it: `CHAOS_SEED=<seed> cargo test -p puente-e2e --test chaos
//! -- replay --nocapture`. Thousands: `cargo run --release -p puente-e2e --example chaos --
//! --scenarios 1000`.

#[path = "src/chaos.rs"]
mod chaos;

#[path = "src/chaos_roa.rs"]
mod chaos_roa;

use chaos::{describe, run_many, run_scenario};
use puente_core::Kind;
use puente_e2e::*;
use puente_runtime::crash::{with_plan, CrashPlan, CrashPoint};
use puente_runtime::events::work_once;
use puente_runtime::serve::accept_webhook;
use puente_runtime::Mode;
use puente_sandbox::SandboxConfig;
use serde_json::json;
use std::time::Duration;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_chaos_scenarios_converge_without_duplicates_or_lost_updates() {
    let n = env_u64("CHAOS_SCENARIOS").unwrap_or(200);
    let first = env_u64("CHAOS_FIRST_SEED").unwrap_or(1);
    let mut failures = Vec::new();
    let totals = run_many(first..first + n, 4, |r| {
        if !r.problems.is_empty() {
            eprintln!("{}", describe(r));
            failures.push(r.seed);
        }
    })
    .await;
    totals.print();
    assert_eq!(totals.scenarios, n);
    assert!(
        totals.changes > 0
            && totals.crashes > 0
            && totals.faults > 0
            && totals.webhooks > 0
            && totals.ambiguous_keys > 0,
        "the scenarios exercised something: {totals:?}"
    );
    assert!(
        failures.is_empty(),
        "failing seeds (replay each with the command printed above): {failures:?}"
    );
}

/// Replays the scenario `CHAOS_SEED` (does nothing without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay() {
    let Some(seed) = env_u64("CHAOS_SEED") else {
        eprintln!("set CHAOS_SEED=<seed> to replay a chaos scenario");
        return;
    };
    if std::env::var("CHAOS_LOG").is_ok_and(|v| v == "1") {
        // What the runtime did, line by line (record ids and fields, never values).
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_test_writer()
            .try_init();
    }
    let r = run_scenario(seed).await;
    println!("{r:#?}");
    assert!(r.problems.is_empty(), "{}", describe(&r));
}

// ------------------------------------------------------------------ crash points, one by one

fn small() -> SandboxConfig {
    SandboxConfig {
        seed: 5,
        contacts: 4,
        companies: 1,
        shared_contacts: 2,
        shared_companies: 0,
        without_id_percent: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    }
}

const VIS: Duration = Duration::from_millis(60);

async fn hook(env: &TestEnv, kind: Kind, rec: &serde_json::Value) {
    let body = json!({"event": format!("{}.saved", kind.as_str()), kind.as_str(): {"id": rec["id"], "modified": rec["modified"]}});
    let (status, v) = accept_webhook(
        &env.app,
        Some("s3cret-hook"),
        "test",
        "clientify",
        "s3cret-hook",
        &serde_json::to_vec(&body).unwrap(),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    assert_eq!(v["status"], "queued");
}

async fn pending(env: &TestEnv) -> u64 {
    env.app.store.queue_depth().await.unwrap().0
}

fn posts(sb: &puente_sandbox::Sandbox) -> u64 {
    sb.stats().by_method.get("POST").copied().unwrap_or(0)
}

/// Dies at `point` (its `nth` hit) while handling the queued event, then lets the message
/// come back after the visibility timeout and handles it again. Returns the vendor writes
/// made from the first attempt on.
async fn die_then_redeliver(env: &TestEnv, point: CrashPoint, nth: u32) -> u64 {
    env.sb.clientify.reset_stats();
    env.sb.alegra.reset_stats();
    assert_eq!(pending(env).await, 1);
    let plan = CrashPlan::new(point, nth);
    let died = with_plan(
        plan.clone(),
        work_once(&env.app, env.app.store.as_ref(), 10, VIS),
    )
    .await;
    assert!(
        died.is_err(),
        "the worker died at {point:?} (hit {} times)",
        plan.hits()
    );
    // Nothing acknowledged: the message is in flight, invisible until its timeout.
    assert_eq!(pending(env).await, 1);
    let early = work_once(&env.app, env.app.store.as_ref(), 10, VIS).await;
    assert_eq!(early.taken, 0, "invisible until the visibility timeout");
    tokio::time::sleep(VIS + Duration::from_millis(20)).await;
    let again = work_once(&env.app, env.app.store.as_ref(), 10, VIS).await;
    assert_eq!(again.taken, 1, "redelivered after the visibility timeout");
    assert_eq!(again.latencies.len(), 1, "and done this time");
    assert_eq!(pending(env).await, 0, "acknowledged");
    writes(&env.sb.clientify) + writes(&env.sb.alegra)
}

/// After the dust settles: a Full sync writes nothing and no identification is held twice.
async fn assert_converged(env: &TestEnv) {
    let before = writes(&env.sb.clientify) + writes(&env.sb.alegra);
    env.sync(Mode::Full).await;
    assert_eq!(
        writes(&env.sb.clientify) + writes(&env.sb.alegra),
        before,
        "nothing left to write"
    );
    assert_eq!(
        alegra_duplicate_keys(&env.alegra_all().await),
        Vec::<String>::new()
    );
    let mut c = env.clientify_all(Kind::Contact).await;
    c.extend(env.clientify_all(Kind::Company).await);
    assert_eq!(clientify_duplicate_keys(&c), Vec::<String>::new());
}

async fn linked_contact(env: &TestEnv) -> (String, String, puente_store::Link) {
    for c in env.clientify_all(Kind::Contact).await {
        let id = c["id"].to_string();
        if let Some(l) = env.link_for(Kind::Contact, "clientify", &id).await {
            return (id, l.ids["alegra"].clone(), l);
        }
    }
    panic!("no linked contact");
}

/// A queue worker and a Full sync both see the same new Clientify contacts, at the same
/// time, on two threads, with Alegra slow enough that their calls interleave. Each contact
/// must be created in Alegra once: the pair lease makes the second run find the first's link
/// (and read the record again) instead of creating from its own listing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_worker_and_full_sync_at_once_create_each_new_contact_once() {
    let env = TestEnv::start("concurrent-create", small()).await;
    env.activate().await;
    env.sync(Mode::Full).await;
    let before = env.alegra_all().await.len();
    let mut keys = Vec::new();
    for i in 0..6 {
        let tax_id = puente_sandbox::taxid::dni(48_151_620 + i);
        let rec = env
            .clientify_post(
                Kind::Contact,
                json!({"first_name": format!("Nuevo{i}"), "last_name": "Concurrente",
                       "taxpayer_identification_number": tax_id}),
            )
            .await;
        hook(&env, Kind::Contact, &rec).await;
        keys.push(tax_id);
    }
    env.sb.alegra.set_faults(puente_sandbox::Faults {
        latency: Duration::from_millis(15),
        ..Default::default()
    });
    let (worked, full) = tokio::join!(
        async {
            let mut taken = 0;
            while pending(&env).await > 0 {
                taken += work_once(&env.app, env.app.store.as_ref(), 10, VIS)
                    .await
                    .taken;
            }
            taken
        },
        env.sync(Mode::Full)
    );
    env.sb.alegra.set_faults(Default::default());
    assert!(worked >= 6, "the worker took every event ({worked})");
    assert!(full.errors.is_empty(), "{:?}", full.errors);
    let alegra = env.alegra_all().await;
    assert_eq!(
        alegra.len(),
        before + 6,
        "six contacts created in Alegra, once each"
    );
    for k in &keys {
        let n = alegra
            .iter()
            .filter(|c| alegra_key(c).as_deref() == key_of(k).as_deref())
            .count();
        assert_eq!(n, 1, "{k} is in Alegra once");
    }
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run3_worker_dying_between_vendor_write_and_link_save_converges_with_one_write() {
    let env = TestEnv::start("crash-write", small()).await;
    env.activate().await;
    env.sync(Mode::Full).await;
    let (cid, aid, link) = linked_contact(&env).await;
    let rec = env
        .clientify_put(Kind::Contact, &cid, json!({"first_name": "Crispín"}))
        .await;
    hook(&env, Kind::Contact, &rec).await;
    let total = die_then_redeliver(&env, CrashPoint::AfterVendorWrite, 1).await;
    // The write reached Alegra before the death; the retry found both sides equal and only
    // saved the link: one vendor write in all, no duplicate beyond it.
    assert_eq!(total, 1, "exactly the one write");
    assert_eq!(
        env.alegra_get(&aid).await["nameObject"]["firstName"],
        "Crispín"
    );
    let after = env
        .link_for(Kind::Contact, "clientify", &cid)
        .await
        .unwrap();
    assert_eq!(
        after.version,
        link.version + 1,
        "the link advanced once, on the retry"
    );
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run3_worker_dying_between_link_save_and_ack_redelivers_without_writing_again() {
    let env = TestEnv::start("crash-ack", small()).await;
    env.activate().await;
    env.sync(Mode::Full).await;
    let (cid, aid, link) = linked_contact(&env).await;
    let rec = env
        .clientify_put(Kind::Contact, &cid, json!({"last_name": "Ferreiro"}))
        .await;
    hook(&env, Kind::Contact, &rec).await;
    let total = die_then_redeliver(&env, CrashPoint::AfterLinkSave, 1).await;
    assert_eq!(total, 1, "the redelivered event found nothing to write");
    assert_eq!(
        env.alegra_get(&aid).await["nameObject"]["lastName"],
        "Ferreiro"
    );
    let after = env
        .link_for(Kind::Contact, "clientify", &cid)
        .await
        .unwrap();
    assert_eq!(
        after.version,
        link.version + 1,
        "saved once, before the death"
    );
    let updated = env
        .app
        .store
        .query(&puente_store::LogQuery {
            tenant: "test".into(),
            action: Some(puente_store::Action::Updated),
            system: Some("clientify".into()),
            external_id: Some(cid.clone()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(updated.len(), 1, "one update logged: {updated:?}");
    assert_converged(&env).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run3_worker_dying_after_a_create_never_creates_twice() {
    for nth in [1, 2] {
        let env = TestEnv::start(&format!("crash-create-{nth}"), small()).await;
        env.activate().await;
        env.sync(Mode::Full).await;
        // A new Clientify contact: the worker creates it in Alegra, then writes the marks
        // (in_alegra, tag) back to Clientify: dies after the create (1) or after the marks (2).
        let r = reqwest::Client::new()
            .post(format!("{}/contacts/", env.sb.clientify.base_url))
            .header(
                "Authorization",
                format!("Token {}", env.cfg.clientify_token),
            )
            .json(&json!({"first_name": "Nuevo", "last_name": "Caído",
                "taxpayer_identification_number": puente_sandbox::taxid::dni(71_234_567)}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        let rec: serde_json::Value = r.json().await.unwrap();
        hook(&env, Kind::Contact, &rec).await;
        let before = env.alegra_all().await.len();
        let total = die_then_redeliver(&env, CrashPoint::AfterVendorWrite, nth).await;
        assert_eq!(posts(&env.sb.alegra), 1, "created once (nth {nth})");
        assert_eq!(env.alegra_all().await.len(), before + 1);
        // create + marks, each once: the retry found the record by its identification (or
        // through in_alegra) instead of creating it again.
        assert_eq!(total, 2, "create and marks, once each (nth {nth})");
        let id = rec["id"].to_string();
        assert!(env
            .link_for(Kind::Contact, "clientify", &id)
            .await
            .is_some());
        assert_converged(&env).await;
    }
}

/// Shop → RO App under chaos (issue 14): webhooks and the backfill at once, faults, crashes
/// and duplicate deliveries; no order, customer or product twice in RO App, every order
/// imported with the shop's quantities. `CHAOS_ROA_SCENARIOS` (default 20) sets how many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roa_chaos_shop_orders_reach_ro_app_once_through_faults_crashes_and_duplicates() {
    let n = env_u64("CHAOS_ROA_SCENARIOS").unwrap_or(20);
    let first = env_u64("CHAOS_FIRST_SEED").unwrap_or(1);
    let mut failures = Vec::new();
    let totals = chaos_roa::run_many_roa(first..first + n, 4, |r| {
        if !r.problems.is_empty() {
            eprintln!("{}", chaos_roa::describe(r));
            failures.push(r.seed);
        }
    })
    .await;
    chaos_roa::print(&totals);
    assert_eq!(totals.scenarios, n);
    assert!(
        totals.changes > 0 && totals.faults > 0 && totals.webhooks > 0,
        "the scenarios exercised something: {totals:?}"
    );
    assert!(
        failures.is_empty(),
        "failing seeds (replay each with the command printed above): {failures:?}"
    );
}

/// Replays the shop → RO App scenario `CHAOS_ROA_SEED` (does nothing without it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_roa() {
    let Some(seed) = env_u64("CHAOS_ROA_SEED") else {
        eprintln!("set CHAOS_ROA_SEED=<seed> to replay a shop → RO App chaos scenario");
        return;
    };
    let r = chaos_roa::run_roa_scenario(seed).await;
    assert!(r.problems.is_empty(), "{}", chaos_roa::describe(&r));
}
