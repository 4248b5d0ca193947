//! `puente-activity-bench`: the activity page (APC-8) on a large log. Fills a store with
//! `--entries` log entries (default 100,000: two flows, five entities, the five actions with
//! 1 % failures, 20,000 records, values on every write, a month of timestamps), then times
//! the page as a person uses it — the newest page, and filtered searches by action, record,
//! key, entity + action, and a day's time range — each rendered by the real page router
//! (store query + template), and prints p50/p99 per store. Not a test: nothing is asserted
//! on time.
//!
//! ```text
//! cargo run --release -p puente-bench --bin puente-activity-bench -- --store sqlite
//! # DynamoDB on moto: eval "$(bash infra/moto.sh start)" and the AWS_* test variables first
//! cargo run --release -p puente-bench --bin puente-activity-bench -- --store dynamo
//! ```

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use chrono::{TimeDelta, Utc};
use clap::Parser;
use puente_store::{Action, ActivityEntry, SqliteStore, Store};
use puente_web::{auth, FlowInfo, TenantSource, TenantView, UiOptions};
use tower::ServiceExt;

#[derive(Parser, Clone)]
#[command(about = "Times the activity page and filtered searches on a large activity log")]
struct Args {
    /// Log entries to fill the store with.
    #[arg(long, default_value_t = 100_000)]
    entries: usize,
    /// Timed requests per query kind.
    #[arg(long, default_value_t = 200)]
    requests: usize,
    /// `sqlite`, `dynamo` (needs AWS_ENDPOINT_URL: moto) or `both`.
    #[arg(long, default_value = "sqlite")]
    store: String,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Entries for DynamoDB only (moto keeps every item in one Python process's memory).
    #[arg(long)]
    dynamo_entries: Option<usize>,
}

const TENANT: &str = "bench";
const RECORDS: usize = 20_000;
const KINDS: [&str; 5] = ["contact", "company", "product", "order", "budget"];

/// A small deterministic generator (xorshift), so every store gets the same log.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn key_of(record: usize) -> String {
    format!("B{:08}", record * 7 + 3)
}

/// The `i`-th entry of the benchmark log.
fn entry(i: usize, total: usize, rng: &mut Rng) -> ActivityEntry {
    let record = rng.below(RECORDS);
    // Entities by share: contacts 60 %, companies 15 %, products 15 %, orders 7 %, budgets 3 %.
    let kind = match rng.below(100) {
        0..=59 => KINDS[0],
        60..=74 => KINDS[1],
        75..=89 => KINDS[2],
        90..=96 => KINDS[3],
        _ => KINDS[4],
    };
    let action = match rng.below(100) {
        0 => Action::Failed,
        1..=5 => Action::Skipped,
        6..=25 => Action::Created,
        26..=85 => Action::Updated,
        _ => Action::Unchanged,
    };
    let (system, target) = if rng.below(2) == 0 {
        ("clientify", "alegra")
    } else {
        ("alegra", "clientify")
    };
    let writes = matches!(action, Action::Created | Action::Updated);
    let values: BTreeMap<String, String> = if writes {
        [
            ("first_name", format!("Nombre {record}")),
            ("email", format!("c{record}@example.es")),
            ("phone", format!("+34 600 {:06}", record)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    } else {
        BTreeMap::new()
    };
    // A month of history, oldest first.
    let at = Utc::now() - TimeDelta::days(30)
        + TimeDelta::milliseconds((i as i64) * (30 * 86_400_000 / total.max(1) as i64));
    ActivityEntry {
        tenant: TENANT.into(),
        at,
        run_id: Some(format!("run-{}", i / 500)),
        flow: if rng.below(10) == 0 {
            "clientify-odoo".into()
        } else {
            "clientify-alegra".into()
        },
        kind: kind.into(),
        action,
        system: system.into(),
        external_id: Some(format!("{record}")),
        target_system: writes.then(|| target.to_string()),
        target_id: writes.then(|| format!("{}", record + 500_000)),
        link_id: Some(format!("clientify:{record}")),
        fields: values.keys().cloned().collect(),
        reason: (action == Action::Failed).then(|| "alegra answered HTTP 503: down".into()),
        expires_at: Utc::now() + TimeDelta::days(60),
        key: Some(key_of(record)),
        values,
        ..ActivityEntry::default()
    }
}

/// The page path of one timed request.
type PathFn = Box<dyn FnMut(&mut Rng) -> String>;

struct Fixed(TenantView);

#[async_trait::async_trait]
impl TenantSource for Fixed {
    async fn tenant(&self, name: &str) -> anyhow::Result<Option<TenantView>> {
        Ok((name == self.0.name).then(|| self.0.clone()))
    }
}

/// How the benchmark log is written: the store's `append`, or DynamoDB's bulk import (moto
/// copies the whole table for every transaction, so appending 100,000 entries through
/// transactions grows quadratically there; real DynamoDB does not).
enum Writer<'a> {
    Append(&'a dyn Store),
    Import(&'a puente_store_aws::DynamoStore),
}

impl Writer<'_> {
    async fn write(&self, entries: &[ActivityEntry]) -> Result<()> {
        match self {
            Writer::Append(s) => s.append(entries).await?,
            Writer::Import(d) => d.import_log(entries).await?,
        }
        Ok(())
    }
}

async fn fill(w: Writer<'_>, entries: usize, args: &Args, batch: usize) -> Result<Duration> {
    let mut rng = Rng(args.seed | 1);
    let started = Instant::now();
    let mut buf = Vec::with_capacity(batch);
    for i in 0..entries {
        buf.push(entry(i, entries, &mut rng));
        if buf.len() == batch {
            w.write(&buf).await?;
            buf.clear();
        }
        if i > 0 && i % 20_000 == 0 {
            eprintln!(
                "  {i} entries appended ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    w.write(&buf).await?;
    Ok(started.elapsed())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Times each query kind through the page router; prints one line per kind.
async fn measure(name: &str, store: Arc<dyn Store>, args: &Args) -> Result<Vec<serde_json::Value>> {
    let hash = auth::hash_password("benchmark-password")?;
    let (cookie, _) = auth::new_session(TENANT, &hash, Utc::now().timestamp());
    let view = TenantView {
        name: TENANT.into(),
        store,
        flows: vec![
            FlowInfo {
                name: "clientify-alegra".into(),
                systems: vec!["clientify".into(), "alegra".into()],
                kinds: KINDS.iter().map(|k| k.to_string()).collect(),
            },
            FlowInfo {
                name: "clientify-odoo".into(),
                systems: vec!["clientify".into(), "odoo".into()],
                kinds: KINDS.iter().map(|k| k.to_string()).collect(),
            },
        ],
        password_hash: Some(hash),
    };
    let router = puente_web::router(
        Arc::new(Fixed(view)),
        UiOptions {
            secure_cookies: false,
            page_size: 50,
        },
    );
    let day = (Utc::now() - TimeDelta::days(15))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let day_end = (Utc::now() - TimeDelta::days(14))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let mut rng = Rng(args.seed.wrapping_mul(31) | 1);
    let kinds: Vec<(&str, PathFn)> = vec![
        (
            "activity page (newest 50)",
            Box::new(|_| "/ui/bench/activity".to_string()),
        ),
        (
            "failures (action=failed)",
            Box::new(|_| "/ui/bench/activity?action=failed".to_string()),
        ),
        (
            "record, either side",
            Box::new(|r: &mut Rng| {
                format!("/ui/bench/activity?record=alegra%3A{}", r.below(RECORDS))
            }),
        ),
        (
            "key (tax id)",
            Box::new(|r: &mut Rng| format!("/ui/bench/activity?key={}", key_of(r.below(RECORDS)))),
        ),
        (
            "entity + action (budget, skipped)",
            Box::new(|_| "/ui/bench/activity?kind=budget&action=skipped".to_string()),
        ),
        (
            "one day (time range)",
            Box::new(move |_| format!("/ui/bench/activity?since={day}&until={day_end}")),
        ),
        (
            "record timeline",
            Box::new(|r: &mut Rng| {
                format!("/ui/bench/record/contact/clientify/{}", r.below(RECORDS))
            }),
        ),
    ];
    let mut out = Vec::new();
    for (label, mut path) in kinds {
        let mut ms = Vec::with_capacity(args.requests);
        let mut bytes = 0usize;
        for _ in 0..args.requests {
            let req = Request::get(path(&mut rng))
                .header(header::COOKIE, format!("{}={cookie}", auth::COOKIE))
                .body(Body::empty())?;
            let t = Instant::now();
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            let body = axum::body::to_bytes(res.into_body(), 1 << 24).await?;
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(status == StatusCode::OK, "{label}: HTTP {status}");
            bytes = body.len();
        }
        ms.sort_by(|a, b| a.total_cmp(b));
        let (p50, p99) = (percentile(&ms, 0.50), percentile(&ms, 0.99));
        println!("{name:<8} {label:<36} p50 {p50:>8.2} ms   p99 {p99:>8.2} ms   ({bytes} bytes)");
        out.push(serde_json::json!({"store": name, "query": label, "p50_ms": p50, "p99_ms": p99}));
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let mut results = Vec::new();
    if matches!(args.store.as_str(), "sqlite" | "both") {
        let dir =
            std::env::temp_dir().join(format!("puente-activity-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("bench.sqlite");
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path)?);
        eprintln!(
            "sqlite: appending {} entries to {}",
            args.entries,
            path.display()
        );
        let took = fill(Writer::Append(store.as_ref()), args.entries, &args, 1000).await?;
        eprintln!("sqlite: filled in {:.1} s", took.as_secs_f64());
        results.extend(measure("sqlite", store, &args).await?);
        let _ = std::fs::remove_dir_all(&dir);
    }
    if matches!(args.store.as_str(), "dynamo" | "both") {
        let sdk = puente_store_aws::testkit::sdk_config("puente-bench").await;
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let table = puente_store_aws::testkit::unique("activity-bench", "log");
        puente_store_aws::DynamoStore::create_table(&client, &table).await?;
        let dynamo = puente_store_aws::DynamoStore::new(client.clone(), &table);
        let n = args.dynamo_entries.unwrap_or(args.entries);
        eprintln!("dynamo (moto): importing {n} entries to table {table}");
        let took = fill(Writer::Import(&dynamo), n, &args, 500).await?;
        eprintln!("dynamo: filled in {:.1} s", took.as_secs_f64());
        let sqs = puente_store_aws::SqsQueue::from_urls(
            aws_sdk_sqs::Client::new(&sdk),
            "http://unused.invalid/q.fifo",
            "http://unused.invalid/dlq.fifo",
            5,
        );
        let store: Arc<dyn Store> = Arc::new(puente_store_aws::AwsStore::new(dynamo, sqs));
        results.extend(measure("dynamo", store, &args).await?);
        puente_store_aws::DynamoStore::delete_table(&client, &table).await?;
    }
    let out = std::path::Path::new("bench/out");
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join("activity.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "entries": args.entries, "dynamo_entries": args.dynamo_entries.unwrap_or(args.entries),
            "requests": args.requests, "results": results
        }))?,
    )?;
    Ok(())
}
