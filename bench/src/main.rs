//! `puente-bench`: what a sync costs, measured as its users pay for it — vendor calls (the
//! binding limit: Alegra allows 150 a minute), store operations, time and memory — each
//! beside its ideal. Runs the local runtime against the sandboxes on loopback (zero added
//! latency). Prints a table and writes JSON (default `bench/out/results.json`).
//!
//! `cargo run --release -p puente-bench -- --contacts 10000`

use anyhow::{ensure, Result};
use clap::Parser;
use puente_core::{decide, synced_state, Kind, Record, Rules};
use puente_e2e::{test_retry, writes};
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::{run, App, Config, Mode, NoProgress, Summary};
use puente_sandbox::{SandboxConfig, Sandboxes, Stats};
use puente_store::{OpCounts, SqliteStore, Store};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Parser, Clone)]
#[command(about = "Benchmarks a Clientify ⇄ Alegra contact sync against the sandboxes")]
struct Args {
    /// Contacts per side.
    #[arg(long, default_value_t = 10_000)]
    contacts: usize,
    /// Of those, how many share a tax id with the other side.
    #[arg(long, default_value_t = 1_000)]
    shared: usize,
    /// Percent of linked records changed before the Modified run (half on each side).
    #[arg(long, default_value_t = 1.0)]
    changed_percent: f64,
    /// Webhooks sent one at a time (latency).
    #[arg(long, default_value_t = 100)]
    serial: usize,
    /// Webhooks sent at once (latency under a burst).
    #[arg(long, default_value_t = 1_000)]
    burst: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value = "bench/out/results.json")]
    out: String,
}

const CLIENTIFY_PAGE: u64 = 100;
const ALEGRA_PAGE: u64 = 30;

#[derive(Serialize, Default)]
struct Phase {
    name: String,
    seconds: f64,
    records: u64,
    records_per_s: f64,
    calls: BTreeMap<String, BTreeMap<String, u64>>,
    calls_total: u64,
    ideal_calls: u64,
    writes: u64,
    ideal_writes: u64,
    store_reads: u64,
    store_writes: u64,
    notes: Vec<String>,
}

impl Phase {
    fn ratio(a: u64, b: u64) -> String {
        if b == 0 {
            if a == 0 {
                "1.00".into()
            } else {
                "∞".into()
            }
        } else {
            format!("{:.2}", a as f64 / b as f64)
        }
    }
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn calls_of(stats: &Stats) -> BTreeMap<String, u64> {
    stats.by_method.clone()
}

struct Bench {
    sb: Sandboxes,
    app: App,
    store: Arc<SqliteStore>,
    cfg: SandboxConfig,
    http: reqwest::Client,
}

impl Bench {
    fn reset(&self) {
        self.sb.clientify.reset_stats();
        self.sb.alegra.reset_stats();
    }

    async fn measure(&self, name: &str, mode: Mode) -> (Phase, Summary) {
        self.reset();
        let ops0 = self.store.op_counts();
        let t = Instant::now();
        let s = run(
            self.app.flow("bench").expect("flow"),
            mode,
            false,
            &NoProgress,
        )
        .await;
        let secs = t.elapsed().as_secs_f64();
        let ops: OpCounts = self.store.op_counts() - ops0;
        let (cs, as_) = (self.sb.clientify.stats(), self.sb.alegra.stats());
        let c = &s.entities["contact"];
        let records = c.unchanged + c.created_total() + c.updated_total() + c.skipped + c.failed;
        let mut calls = BTreeMap::new();
        calls.insert("clientify".to_string(), calls_of(&cs));
        calls.insert("alegra".to_string(), calls_of(&as_));
        let phase = Phase {
            name: name.into(),
            seconds: secs,
            records,
            records_per_s: records as f64 / secs.max(1e-9),
            calls,
            calls_total: cs.total + as_.total,
            writes: writes(&self.sb.clientify) + writes(&self.sb.alegra),
            store_reads: ops.reads,
            store_writes: ops.writes,
            ..Phase::default()
        };
        (phase, s)
    }

    async fn edit_clientify(&self, id: &str, body: Value) {
        puente_e2e::clientify_put(
            &self.http,
            &self.sb.clientify,
            &self.cfg,
            Kind::Contact,
            id,
            body,
        )
        .await;
    }

    async fn edit_alegra(&self, id: &str, body: Value) {
        puente_e2e::alegra_put(&self.http, &self.sb.alegra, &self.cfg, id, body).await;
    }
}

fn list_calls(records: u64, page: u64) -> u64 {
    records.div_ceil(page).max(1)
}

fn quantile(v: &mut [Duration], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * q).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let cfg = SandboxConfig {
        seed: args.seed,
        contacts: args.contacts,
        companies: 0,
        shared_contacts: args.shared,
        shared_companies: 0,
        alegra_rate_limit: 0,
        ..SandboxConfig::default()
    };
    eprintln!(
        "seeding {} contacts per side ({} shared)…",
        args.contacts, args.shared
    );
    let sb = puente_sandbox::start(&cfg, None, None).await?;
    let rss_base = peak_rss_mb();
    let dir = std::env::temp_dir().join(format!("puente-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store_path = dir.join("bench.sqlite");
    let toml = format!(
        "tenant = \"bench\"\n[store]\npath = \"{}\"\n[server]\nwebhook_secret = \"bench-secret\"\n\
         [connections.clientify]\ntype = \"clientify\"\nbase_url = \"{}\"\napi_key = \"{}\"\npage_size = {CLIENTIFY_PAGE}\n\
         [connections.alegra]\ntype = \"alegra\"\nbase_url = \"{}\"\nemail = \"{}\"\ntoken = \"{}\"\n\
         [[flows]]\nname = \"bench\"\na = \"clientify\"\nb = \"alegra\"\nentities = [\"contact\"]\n",
        store_path.display(),
        sb.clientify.base_url,
        cfg.clientify_token,
        sb.alegra.base_url,
        cfg.alegra_email,
        cfg.alegra_token
    );
    let store = Arc::new(SqliteStore::open(&store_path)?);
    let dyn_store: Arc<dyn Store> = store.clone();
    let app = App::build(
        Config::parse(&toml).map_err(|e| anyhow::anyhow!("{e}"))?,
        dyn_store,
        test_retry(),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    puente_runtime::activate(app.flow("bench").expect("flow")).await?;
    let b = Bench {
        sb,
        app,
        store,
        cfg,
        http: reqwest::Client::new(),
    };
    let mut phases = Vec::new();

    // 1. Full sync.
    eprintln!("1/5 full sync…");
    let (mut p, s) = b.measure("full", Mode::Full).await;
    let c = &s.entities["contact"];
    let n_c = b.sb.world.clientify_contacts.len() as u64;
    let n_a = b.sb.world.alegra_contacts.len() as u64;
    let created_in_alegra = c.created.get("alegra").copied().unwrap_or(0);
    p.ideal_calls = list_calls(n_c, CLIENTIFY_PAGE)
        + list_calls(n_a, ALEGRA_PAGE)
        + c.created_total()
        + c.updated_total()
        + created_in_alegra;
    p.ideal_writes = c.created_total() + c.updated_total() + created_in_alegra;
    p.notes.push(format!(
        "created {:?}, updated {:?}, unchanged {}, skipped {}; ideal writes = one per record created or changed, plus one `in_alegra` write per Clientify record that gets an Alegra id (ALG-2 keeps it there); marks written to already-equal shared records are the excess",
        c.created, c.updated, c.unchanged, c.skipped
    ));
    let alegra_calls: u64 = p.calls["alegra"].values().sum();
    p.notes.push(format!(
        "at Alegra's 150 calls/min this run needs {:.1} min of Alegra's limit",
        alegra_calls as f64 / 150.0
    ));
    p.notes.push(format!("peak RSS {:.0} MB for the whole process, {:.0} MB of it before the sync (both sandboxes and their data live in this process)", peak_rss_mb(), rss_base));
    phases.push(p);

    // 2. The same Full sync again, nothing changed.
    eprintln!("2/5 no-op full sync…");
    let (mut p, _) = b.measure("full again (no-op)", Mode::Full).await;
    let c_now = n_c + c.created.get("clientify").copied().unwrap_or(0);
    let a_now = n_a + created_in_alegra;
    p.ideal_calls = list_calls(c_now, CLIENTIFY_PAGE) + list_calls(a_now, ALEGRA_PAGE);
    p.ideal_writes = 0;
    ensure!(p.writes == 0, "a no-op Full sync wrote {} times", p.writes);
    phases.push(p);

    // 3. Modified with 1 % of the linked records changed, half on each side.
    eprintln!("3/5 modified sync with {}% changed…", args.changed_percent);
    let links = b
        .app
        .store
        .links(puente_store::Scope::new("bench", "bench", "contact"))
        .await?;
    let changed = ((links.len() as f64) * args.changed_percent / 100.0)
        .round()
        .max(2.0) as usize;
    for (i, l) in links.iter().take(changed).enumerate() {
        if i % 2 == 0 {
            b.edit_alegra(
                &l.ids["alegra"],
                json!({"address": {"city": format!("Ciudad {i}")}}),
            )
            .await;
        } else {
            b.edit_clientify(
                &l.ids["clientify"],
                json!({"last_name": format!("Cambiado {i}")}),
            )
            .await;
        }
    }
    let (mut p, s) = b.measure("modified (1% changed)", Mode::Modified).await;
    let listed_c = {
        // What Clientify's modified[gte] window returned: everything written in the last 25 h.
        let v: Value = b
            .http
            .get(format!("{}/contacts/", b.sb.clientify.base_url))
            .query(&[
                ("page_size", "1"),
                (
                    "modified[gte]",
                    &(chrono::Utc::now() - chrono::Duration::hours(25)).to_rfc3339(),
                ),
            ])
            .header("Authorization", format!("Token {}", b.cfg.clientify_token))
            .send()
            .await?
            .json()
            .await?;
        v["count"].as_u64().unwrap_or(0)
    };
    let list_ideal = list_calls(listed_c, CLIENTIFY_PAGE) + list_calls(a_now, ALEGRA_PAGE);
    p.ideal_calls = list_ideal + changed as u64;
    p.ideal_writes = changed as u64;
    let c = &s.entities["contact"];
    let per_changed_calls = (p.calls_total - list_ideal.min(p.calls_total)) as f64 / changed as f64;
    p.notes.push(format!(
        "{changed} records changed; updated {:?}; list calls are fixed by the 25 h window ({listed_c} Clientify records) and Alegra's lack of a modified filter ({a_now} records, 30 per call)",
        c.updated
    ));
    p.notes.push(format!("calls per changed record beyond the listing: {per_changed_calls:.2} (ideal 1.00: the write itself); writes per changed record: {:.2}", p.writes as f64 / changed as f64));
    phases.push(p);

    // 4. Webhook → vendor write latency.
    eprintln!(
        "4/5 webhook latency ({} one at a time, burst of {})…",
        args.serial, args.burst
    );
    let app = Arc::new(
        App::build(b.app.config.clone(), b.app.store.clone(), test_retry())
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let state = ServerState {
        app: app.clone(),
        secret: Some("bench-secret".into()),
        inactive: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = format!(
        "http://{}/webhooks/bench/clientify/bench-secret",
        listener.local_addr()?
    );
    tokio::spawn(async move { axum::serve(listener, router(state)).await });
    let lat: Arc<Mutex<Vec<Duration>>> = Default::default();
    for _ in 0..puente_runtime::serve::WORKERS {
        let (app, lat) = (app.clone(), lat.clone());
        tokio::spawn(async move {
            loop {
                let d = work_once(&app, app.store.as_ref(), 10, Duration::from_secs(60)).await;
                lat.lock().expect("lat").extend(d.latencies);
                if d.taken == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
        });
    }
    let ids: Vec<String> = links
        .iter()
        .skip(changed)
        .map(|l| l.ids["clientify"].clone())
        .collect();
    let wait_for = |n: usize, lat: Arc<Mutex<Vec<Duration>>>| async move {
        let deadline = Instant::now() + Duration::from_secs(600);
        while lat.lock().expect("lat").len() < n && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };
    b.reset();
    for (i, id) in ids.iter().take(args.serial).enumerate() {
        b.edit_clientify(id, json!({"first_name": format!("Webhook {i}")}))
            .await;
        let r = b.http.post(&hook).json(&json!({"event": "contact.saved", "contact": {"id": id.parse::<u64>()?, "modified": format!("serial-{i}")}})).send().await?;
        ensure!(r.status() == 202, "webhook answered {}", r.status());
        wait_for(i + 1, lat.clone()).await;
    }
    let mut serial: Vec<Duration> = std::mem::take(&mut *lat.lock().expect("lat"));
    let serial_writes = writes(&b.sb.alegra);
    let burst_ids: Vec<String> = ids
        .iter()
        .skip(args.serial)
        .take(args.burst)
        .cloned()
        .collect();
    for (i, id) in burst_ids.iter().enumerate() {
        b.edit_clientify(id, json!({"first_name": format!("Burst {i}")}))
            .await;
    }
    b.reset();
    let t = Instant::now();
    let mut sends = Vec::new();
    for (i, id) in burst_ids.iter().enumerate() {
        let (http, hook) = (b.http.clone(), hook.clone());
        let body = json!({"event": "contact.saved", "contact": {"id": id.parse::<u64>()?, "modified": format!("burst-{i}")}});
        sends.push(tokio::spawn(async move {
            http.post(&hook)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }));
    }
    for s in sends {
        ensure!(s.await?? == 202, "webhook not accepted");
    }
    let accepted = t.elapsed();
    wait_for(burst_ids.len(), lat.clone()).await;
    let drained = t.elapsed();
    let mut burst: Vec<Duration> = std::mem::take(&mut *lat.lock().expect("lat"));
    let burst_writes = writes(&b.sb.alegra);
    let webhook = json!({
        "serial": {"events": serial.len(), "p50_ms": quantile(&mut serial, 0.5), "p99_ms": quantile(&mut serial, 0.99), "alegra_writes": serial_writes},
        "burst": {"events": burst.len(), "p50_ms": quantile(&mut burst, 0.5), "p99_ms": quantile(&mut burst, 0.99), "all_accepted_s": accepted.as_secs_f64(), "drained_s": drained.as_secs_f64(), "alegra_writes": burst_writes, "workers": puente_runtime::serve::WORKERS},
    });

    // 5. Engine alone: decide() over every linked pair, no I/O.
    eprintln!("5/5 engine overhead…");
    let mut pairs = Vec::new();
    for (i, l) in links.iter().enumerate().take(5000) {
        let mut f = puente_core::Fields::new();
        f.set("tax_id", l.key.clone().unwrap_or_default());
        f.set("first_name", format!("Nombre {i}"));
        f.set("email", format!("n{i}@ejemplo.es"));
        f.set("city", "Lugo");
        let a = Record::new("clientify", Kind::Contact, i.to_string(), f.clone());
        let mut f2 = f.clone();
        f2.set("city", if i % 2 == 0 { "Lugo" } else { "Ourense" });
        let b_ = Record::new("alegra", Kind::Contact, i.to_string(), f2);
        let st = synced_state(Kind::Contact, &f, &[], ("clientify", &f), ("alegra", &f));
        pairs.push((a, b_, st));
    }
    let rules = Rules::default();
    let rounds = 20;
    let t = Instant::now();
    let mut n = 0u64;
    for _ in 0..rounds {
        for (a, b_, st) in &pairs {
            std::hint::black_box(decide(Some(a), Some(b_), Some(st), &rules));
            n += 1;
        }
    }
    let engine_ns = t.elapsed().as_nanos() as f64 / n as f64;

    // Report.
    println!("\nPuente benchmark: {} contacts per side, {} shared, sandboxes on loopback, no added latency\n", args.contacts, args.shared);
    println!(
        "{:<24} {:>8} {:>10} {:>9} {:>9} {:>6} {:>7} {:>7} {:>6} {:>9} {:>9}",
        "phase",
        "seconds",
        "records/s",
        "calls",
        "ideal",
        "ratio",
        "writes",
        "ideal",
        "ratio",
        "store rd",
        "store wr"
    );
    for p in &phases {
        println!(
            "{:<24} {:>8.2} {:>10.0} {:>9} {:>9} {:>6} {:>7} {:>7} {:>6} {:>9} {:>9}",
            p.name,
            p.seconds,
            p.records_per_s,
            p.calls_total,
            p.ideal_calls,
            Phase::ratio(p.calls_total, p.ideal_calls),
            p.writes,
            p.ideal_writes,
            Phase::ratio(p.writes, p.ideal_writes),
            p.store_reads,
            p.store_writes
        );
    }
    for p in &phases {
        let per: Vec<String> = p
            .calls
            .iter()
            .map(|(sys, m)| {
                let parts: Vec<String> = m
                    .iter()
                    .map(|(k, v)| format!("{k} {:.3}", *v as f64 / p.records.max(1) as f64))
                    .collect();
                format!("{sys}: {}", parts.join(", "))
            })
            .collect();
        println!(
            "\n{}: calls per record — {}; store ops per record {:.3}",
            p.name,
            per.join("; "),
            (p.store_reads + p.store_writes) as f64 / p.records.max(1) as f64
        );
        for n in &p.notes {
            println!("  - {n}");
        }
    }
    println!("\nwebhook → Alegra write: one at a time p50 {:.1} ms, p99 {:.1} ms; burst of {}: p50 {:.0} ms, p99 {:.0} ms, all accepted in {:.2} s, drained in {:.2} s ({} workers)",
        webhook["serial"]["p50_ms"].as_f64().unwrap_or(0.0), webhook["serial"]["p99_ms"].as_f64().unwrap_or(0.0), burst_ids.len(),
        webhook["burst"]["p50_ms"].as_f64().unwrap_or(0.0), webhook["burst"]["p99_ms"].as_f64().unwrap_or(0.0), accepted.as_secs_f64(), drained.as_secs_f64(), puente_runtime::serve::WORKERS);
    println!("engine alone (decide on a linked pair, one field differing half the time): {engine_ns:.0} ns per record");
    let out = json!({"args": {"contacts": args.contacts, "shared": args.shared, "changed_percent": args.changed_percent}, "phases": phases, "webhook": webhook, "engine_ns_per_record": engine_ns, "peak_rss_mb": peak_rss_mb()});
    if let Some(parent) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&out)?)?;
    println!("\nJSON: {}", args.out);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
