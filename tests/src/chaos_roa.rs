//! Chaos scenarios on the shop → RO App flows (issue 14): a Shopify shop or a WooCommerce
//! store (by the seed's parity) imported into RO App while everything happens at once.
//!
//! Compiled into the `chaos` test and the `chaos` example next to `chaos.rs` (whose
//! [`crate::chaos::NoBackoff`] store the workers use). A scenario, seeded:
//! 1. activation subscribes the shop's webhooks to Puente's receiver on loopback (Shopify
//!    sends some deliveries twice under one `X-Shopify-Webhook-Id`);
//! 2. **chaos**: seeded faults on both vendors (5xx, resets, lost write answers, 429 bursts,
//!    timeouts); at the same time the one-off backfill runs, shoppers place orders
//!    (registered customers, and guests whose phone RO App or the shop knows in another
//!    format), quantities change on orders already placed, queue workers take the
//!    deliveries and die at crash points (after the vendor write, after the link save),
//!    and signed deliveries of the same orders are posted again (duplicates);
//! 3. **quiesce**: faults off, deliveries finished, the queue drained, a backfill and a
//!    Modified poll;
//! 4. **checks**: every order the backfill or a webhook must import is in RO App once, none
//!    of an excluded status is; no customer (phone digits or email), product (SKU) or order
//!    (number) twice in RO App; every imported order's quantities are the shop's; the
//!    quiescing runs report no failure; a second backfill and poll write nothing.

use crate::chaos::{NoBackoff, Problem, ProblemKind, Report};
use puente_connectors::kit::sign::hmac_sha256_base64;
use puente_connectors::RetryPolicy;
use puente_e2e::roa::{
    digits, duplicate_clients, duplicate_numbers, duplicate_skus, roapp_config, Roa, Setup, SECRET,
};
use puente_runtime::crash::{with_plan, CrashPlan, CrashPoint};
use puente_runtime::events::work_once;
use puente_runtime::serve::accept_webhook_with;
use puente_runtime::{run, Mode, NoProgress, Summary};
use puente_sandbox::shopify::NewOrder;
use puente_sandbox::woocommerce::WooOrder;
use puente_sandbox::{Faults, ShopifyConfig, WooConfig};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const VISIBILITY: Duration = Duration::from_millis(40);
const CLIENT_TIMEOUT_MS: u64 = 300;
const WOO_SECRET: &str = "puente-wc-secret";

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        max_rate_limit_retries: 6,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        max_header_wait: Duration::from_millis(2),
        timeout: Duration::from_millis(CLIENT_TIMEOUT_MS),
        connect_timeout: Duration::from_secs(2),
    }
}

fn random_faults(r: &mut StdRng) -> Faults {
    if r.gen_bool(0.2) {
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

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn utc(raw: &str) -> chrono::DateTime<chrono::Utc> {
    raw.parse::<chrono::DateTime<chrono::Utc>>()
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc())
        })
        .unwrap_or_else(|e| panic!("{raw}: {e}"))
}

/// The shop's orders as `number in RO App → (must be imported, quantity by SKU)`.
fn shop_view(env: &Roa, shopify: bool) -> BTreeMap<String, (bool, BTreeMap<String, u64>)> {
    let now = chrono::Utc::now();
    let mut out = BTreeMap::new();
    let orders = if shopify {
        env.shop.shopify().orders()
    } else {
        env.shop.woo().orders()
    };
    for o in orders {
        let lines: BTreeMap<String, u64> = o["line_items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|l| !s(l, "sku").is_empty())
            .map(|l| (s(l, "sku"), l["quantity"].as_u64().unwrap_or(0)))
            .collect();
        let (number, created, wanted) = if shopify {
            let excluded = !o["cancelled_at"].is_null()
                || o["financial_status"] == "refunded"
                || o["fulfillment_status"] == "fulfilled";
            (
                s(&o, "name"),
                utc(o["created_at"].as_str().unwrap()),
                !excluded,
            )
        } else {
            const EXCLUDED: [&str; 5] = ["completed", "cancelled", "refunded", "failed", "trash"];
            let has_items = o["line_items"].as_array().is_some_and(|l| !l.is_empty());
            let reachable = !s(&o["billing"], "email").is_empty()
                || !s(&o["billing"], "phone").is_empty()
                || !s(&o["shipping"], "phone").is_empty();
            let ok =
                !EXCLUDED.contains(&o["status"].as_str().unwrap_or("")) && has_items && reachable;
            (
                format!("#{}", s(&o, "number")),
                utc(o["date_created_gmt"].as_str().unwrap()),
                ok,
            )
        };
        let recent = created >= now - chrono::Duration::days(60);
        out.insert(number, (recent && wanted, lines));
    }
    out
}

/// One worker pass; with a plan the worker may die at its crash point. Whether it died.
async fn work(env: &Roa, workers: &NoBackoff, plan: Option<Arc<CrashPlan>>) -> bool {
    let fut = work_once(&env.app, workers, 10, VISIBILITY);
    match plan {
        None => {
            fut.await;
            false
        }
        Some(p) => with_plan(p, fut).await.is_err(),
    }
}

fn crash_plan(rng: &mut StdRng) -> Option<Arc<CrashPlan>> {
    if !rng.gen_bool(0.4) {
        return None;
    }
    let point = if rng.gen_bool(0.6) {
        CrashPoint::AfterVendorWrite
    } else {
        CrashPoint::AfterLinkSave
    };
    Some(CrashPlan::new(point, rng.gen_range(1..=3)))
}

/// Posts a signed delivery of order `id` to Puente as the shop would (again).
async fn redeliver(env: &Roa, shopify: bool, id: u64, hook_id: &str) -> u16 {
    let (body, headers) = if shopify {
        let shop = env.shop.shopify();
        let body = serde_json::to_vec(&shop.order(id).unwrap()).unwrap();
        let sig = hmac_sha256_base64(shop.config().api_secret.as_bytes(), &body);
        let headers = vec![
            ("x-shopify-topic".to_string(), "orders/updated".to_string()),
            ("x-shopify-hmac-sha256".to_string(), sig),
            ("x-shopify-webhook-id".to_string(), hook_id.to_string()),
        ];
        (body, headers)
    } else {
        let body = serde_json::to_vec(&env.shop.woo().order(id).unwrap()).unwrap();
        let sig = hmac_sha256_base64(WOO_SECRET.as_bytes(), &body);
        let headers = vec![
            (
                "x-wc-webhook-topic".to_string(),
                "order.updated".to_string(),
            ),
            ("x-wc-webhook-signature".to_string(), sig),
            ("x-wc-webhook-delivery-id".to_string(), hook_id.to_string()),
        ];
        (body, headers)
    };
    accept_webhook_with(
        &env.app,
        Some(SECRET),
        "test",
        "shop",
        SECRET,
        &headers,
        &body,
    )
    .await
    .0
}

async fn drain(env: &Roa, workers: &NoBackoff) {
    for _ in 0..400 {
        if env.shop.sandbox().webhooks_pending() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    for _ in 0..300 {
        let pending = env.app.store.queue_depth().await.map(|d| d.0).unwrap_or(0);
        if pending == 0 && env.shop.sandbox().webhooks_pending() == 0 {
            return;
        }
        let done = work_once(&env.app, workers, 10, VISIBILITY).await;
        if done.taken == 0 {
            tokio::time::sleep(VISIBILITY / 2).await;
        }
    }
}

fn run_problems(report: &mut Report, what: &str, s: &Summary) {
    for e in &s.errors {
        report.problems.push(Problem {
            kind: ProblemKind::RunError,
            round: 1,
            detail: format!("{what}: {e}"),
        });
    }
    for (kind, c) in &s.entities {
        if c.failed > 0 {
            report.problems.push(Problem {
                kind: ProblemKind::RunError,
                round: 1,
                detail: format!("{what}: {} {kind} failed", c.failed),
            });
        }
    }
}

/// A shopper's order: its index, registered customer (else a guest), `(sku, quantity)`
/// lines, and a phone RO App knows written another way.
type Plan = (usize, Option<u64>, Vec<(String, u64)>, Option<String>);

/// One shop → RO App scenario.
pub async fn run_roa_scenario(seed: u64) -> Report {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x0520_a14e);
    let shopify = seed.is_multiple_of(2);
    let mut report = Report {
        seed,
        ..Report::default()
    };
    let setup = if shopify {
        Setup::shopify(ShopifyConfig {
            seed,
            customers: 8,
            products: 10,
            orders: 16,
            bucket_size: 0,
            leak_rate: 0,
            duplicate_probability: rng.gen_range(0.0..0.6),
            webhook_retry_delays: vec![Duration::from_millis(5); 4],
            ..ShopifyConfig::default()
        })
    } else {
        Setup::woo(WooConfig {
            seed,
            customers: 6,
            products: 12,
            orders: 18,
            ..WooConfig::default()
        })
    };
    let setup = Setup {
        roapp: roapp_config(),
        policy: policy(),
        ..setup
    };
    let env = Roa::start(&format!("chaos-roa-{seed}"), setup).await;
    let workers = NoBackoff(env.app.store.clone());
    env.activate().await;

    // What shoppers use: registered customers, SKUs, and phones in other formats.
    let (customers, skus): (Vec<Value>, Vec<String>) = if shopify {
        let shop = env.shop.shopify();
        let skus = shop
            .products()
            .iter()
            .flat_map(|p| p["variants"].as_array().cloned().unwrap_or_default())
            .map(|v| s(&v, "sku"))
            .filter(|x| !x.is_empty())
            .collect();
        (shop.customers(), skus)
    } else {
        let shop = env.shop.woo();
        let skus = shop
            .products()
            .iter()
            .filter(|p| p["type"] == "simple")
            .map(|p| s(p, "sku"))
            .filter(|x| !x.is_empty())
            .collect();
        (shop.customers(), skus)
    };
    let known_phones: Vec<String> = env.roapp.clients().iter().flat_map(phones_of).collect();

    // Chaos: faults on both vendors, while everything runs at once.
    env.shop.sandbox().set_faults(random_faults(&mut rng));
    env.roapp.sandbox.set_faults(random_faults(&mut rng));
    let placed: Arc<Mutex<Vec<u64>>> = Arc::default();
    let n_orders = rng.gen_range(3..8);
    let mut plans: Vec<Plan> = Vec::new();
    for i in 0..n_orders {
        let lines: Vec<(String, u64)> = (0..rng.gen_range(1..3))
            .map(|_| (skus.choose(&mut rng).unwrap().clone(), rng.gen_range(1..4)))
            .collect::<BTreeMap<_, _>>()
            .into_iter()
            .collect();
        let who = if rng.gen_bool(0.6) {
            customers.choose(&mut rng).and_then(|c| c["id"].as_u64())
        } else {
            None
        };
        // A guest whose phone RO App knows, written another way.
        let phone = known_phones
            .choose(&mut rng)
            .map(|p| format!("+34 {} {} {}", &p[..3], &p[3..6], &p[6..]));
        plans.push((i, who, lines, phone));
    }
    let shoppers = {
        let env = &env;
        let placed = placed.clone();
        let mut rng = StdRng::seed_from_u64(seed ^ 0x5407);
        async move {
            for (i, who, lines, phone) in plans {
                let id = if shopify {
                    env.shop.shopify().place_order(NewOrder {
                        customer_id: who.or_else(|| customers[0]["id"].as_u64()),
                        lines: lines.clone(),
                        shipping: rng
                            .gen_bool(0.5)
                            .then(|| ("Envío estándar".to_string(), "std".to_string(), 495)),
                        paid: rng.gen_bool(0.7),
                    })
                } else {
                    env.shop.woo().place_order(WooOrder {
                        customer_id: who.unwrap_or(0),
                        guest: who.is_none().then(|| {
                            (
                                format!("Invitada{i}"),
                                "Caos".to_string(),
                                String::new(),
                                phone.clone().unwrap_or_else(|| "+34 699 000 111".into()),
                            )
                        }),
                        lines: lines.clone(),
                        ..WooOrder::default()
                    })
                };
                let id = id.expect("the shopper's order is placed");
                placed.lock().unwrap().push(id);
                tokio::time::sleep(Duration::from_millis(rng.gen_range(0..15))).await;
                // Now and then a quantity changes on an order placed before.
                if rng.gen_bool(0.5) {
                    let (pick, sku) = {
                        let p = placed.lock().unwrap();
                        (*p.choose(&mut rng).unwrap(), lines[0].0.clone())
                    };
                    let _ = if shopify {
                        env.shop
                            .shopify()
                            .set_quantity(pick, &sku, rng.gen_range(1..6))
                    } else {
                        env.shop.woo().set_quantity(pick, &sku, rng.gen_range(1..6))
                    };
                }
            }
        }
    };
    let poll = async { run(env.flow(), Mode::Backfill, false, &NoProgress).await };
    let crashes = Arc::new(Mutex::new(0u64));
    let workers_loop = {
        let (env, workers, crashes) = (&env, &workers, crashes.clone());
        let mut rng = StdRng::seed_from_u64(seed ^ 0xc4a5);
        async move {
            for _ in 0..40 {
                if work(env, workers, crash_plan(&mut rng)).await {
                    *crashes.lock().unwrap() += 1;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    };
    let (_, _first, _) = tokio::join!(shoppers, poll, workers_loop);
    // Duplicate deliveries: orders posted again, some under one delivery id twice.
    let ids = placed.lock().unwrap().clone();
    let mut again: Vec<(u64, String)> = Vec::new();
    for id in &ids {
        let hook = format!("chaos-{seed}-{id}-{}", rng.gen_range(0..2));
        for _ in 0..rng.gen_range(1..3) {
            again.push((*id, hook.clone()));
        }
    }
    again.shuffle(&mut rng);
    for (id, hook) in &again {
        let st = redeliver(&env, shopify, *id, hook).await;
        report.webhooks += 1;
        if st != 202 {
            report.problems.push(Problem {
                kind: ProblemKind::RunError,
                round: 1,
                detail: format!("a signed delivery of {id} was answered {st}"),
            });
        }
    }
    for _ in 0..10 {
        if work(&env, &workers, crash_plan(&mut rng)).await {
            *crashes.lock().unwrap() += 1;
        }
    }
    let modified = run(env.flow(), Mode::Modified, false, &NoProgress).await;
    drop(modified);
    report.crashes = *crashes.lock().unwrap();
    report.faults = env.shop.sandbox().stats().faults.values().sum::<u64>()
        + env.roapp.sandbox.stats().faults.values().sum::<u64>();
    report.webhooks += env.shop.sandbox().webhooks_sent().len() as u64;
    report.changes = ids.len() as u64;

    // Quiesce.
    env.shop.sandbox().set_faults(Faults::default());
    env.roapp.sandbox.set_faults(Faults::default());
    drain(&env, &workers).await;
    report.dead_letters = env
        .app
        .store
        .dead_letters(1000)
        .await
        .map(|d| d.len() as u64)
        .unwrap_or(0);
    let b = run(env.flow(), Mode::Backfill, false, &NoProgress).await;
    run_problems(&mut report, "quiescing backfill", &b);
    let m = run(env.flow(), Mode::Modified, false, &NoProgress).await;
    run_problems(&mut report, "quiescing poll", &m);
    if b.entities.values().any(|c| c.failed > 0) {
        // Why, as the activity log says (the latest failure of each record).
        let mut seen = std::collections::BTreeSet::new();
        for e in env.log().await {
            if e.action == puente_store::Action::Failed && seen.insert(e.external_id.clone()) {
                report.problems.push(Problem {
                    kind: ProblemKind::RunError,
                    round: 1,
                    detail: format!("{} {:?} failed: {:?}", e.kind, e.external_id, e.reason),
                });
            }
        }
    }
    drain(&env, &workers).await;

    // Checks.
    let view = shop_view(&env, shopify);
    let orders = env.roapp_orders();
    let in_roapp: BTreeMap<String, &Value> = orders.iter().map(|o| (s(o, "number"), o)).collect();
    for (number, (wanted, lines)) in &view {
        match (wanted, in_roapp.get(number)) {
            (true, None) => report.problems.push(Problem {
                kind: ProblemKind::Unconverged,
                round: 1,
                detail: format!("order {number} is not in RO App"),
            }),
            (false, Some(_)) => {
                // Imported while eligible, then excluded: fine only for orders placed here
                // (a new order is imported whatever happens later); seeded ones are checked.
                let placed_here = ids.iter().any(|id| number.ends_with(&id.to_string()));
                if !placed_here {
                    report.problems.push(Problem {
                        kind: ProblemKind::Divergence,
                        round: 1,
                        detail: format!("order {number} of an excluded status was imported"),
                    });
                }
            }
            (true, Some(o)) => {
                let got: BTreeMap<String, u64> = o["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|i| !s(i, "sku").is_empty())
                    .map(|i| (s(i, "sku"), i["quantity"].as_u64().unwrap_or(0)))
                    .collect();
                if &got != lines {
                    report.problems.push(Problem {
                        kind: ProblemKind::LostUpdate,
                        round: 1,
                        detail: format!("order {number}: RO App {got:?}, shop {lines:?}"),
                    });
                }
            }
            (false, None) => {}
        }
    }
    let all_orders = env.roapp.orders();
    for (what, dups) in [
        ("order numbers", duplicate_numbers(&all_orders)),
        ("customers", duplicate_clients(&env.roapp.clients())),
        ("product SKUs", duplicate_skus(&env.roapp.products())),
    ] {
        if !dups.is_empty() {
            report.problems.push(Problem {
                kind: ProblemKind::Duplicate,
                round: 1,
                detail: format!("{what} twice in RO App: {dups:?}"),
            });
        }
    }
    // Nothing more to write.
    env.roapp.sandbox.reset_stats();
    let b2 = run(env.flow(), Mode::Backfill, false, &NoProgress).await;
    let m2 = run(env.flow(), Mode::Modified, false, &NoProgress).await;
    run_problems(&mut report, "second backfill", &b2);
    run_problems(&mut report, "second poll", &m2);
    let writes = env.roapp_writes();
    if !writes.is_empty() {
        report.problems.push(Problem {
            kind: ProblemKind::EchoWrites,
            round: 1,
            detail: format!("the second backfill and poll wrote {writes:?}"),
        });
    }
    report
}

/// An RO App client's phones, as digits.
pub fn phones_of(c: &Value) -> Vec<String> {
    c["phones"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["phone"].as_str().map(digits))
        .filter(|d| d.len() == 9)
        .collect()
}

/// Runs `seeds` with up to `parallel` scenarios at once.
pub async fn run_many_roa(
    seeds: impl IntoIterator<Item = u64>,
    parallel: usize,
    mut each: impl FnMut(&Report),
) -> crate::chaos::Totals {
    let mut totals = crate::chaos::Totals::default();
    let mut set = tokio::task::JoinSet::new();
    let mut seeds = seeds.into_iter();
    loop {
        while set.len() < parallel {
            match seeds.next() {
                Some(seed) => {
                    set.spawn(async move {
                        match tokio::spawn(run_roa_scenario(seed)).await {
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
            Some(Err(e)) => panic!("{e}"),
            None => return totals,
        }
    }
}

/// The command that replays one shop → RO App scenario.
pub fn replay_command(seed: u64) -> String {
    format!("CHAOS_ROA_SEED={seed} cargo test -p puente-e2e --test chaos -- replay_roa --nocapture")
}

/// A scenario's problems with its replay command.
pub fn describe(r: &Report) -> String {
    let mut s = format!(
        "shop → RO App chaos scenario seed {} failed ({} problems); replay: {}\n",
        r.seed,
        r.problems.len(),
        replay_command(r.seed)
    );
    for p in r.problems.iter().take(30) {
        s.push_str(&format!("  {:?}: {}\n", p.kind, p.detail));
    }
    s
}

/// Prints the totals of shop → RO App scenarios.
pub fn print(t: &crate::chaos::Totals) {
    println!(
        "shop → RO App scenarios: {} (Shopify on even seeds, WooCommerce on odd)",
        t.scenarios
    );
    println!("duplicates:         {}", t.duplicates);
    println!("not imported:       {}", t.unconverged);
    println!("quantities lost:    {}", t.lost_updates);
    println!("excluded imported:  {}", t.divergences);
    println!("second-run writes:  {}", t.echo_writes);
    println!("run errors:         {}", t.run_errors);
    println!(
        "chaos:              {} orders placed, {} faults injected, {} worker crashes, {} webhook deliveries, {} dead letters",
        t.changes, t.faults, t.crashes, t.webhooks, t.dead_letters
    );
    for seed in t.failed.iter().take(20) {
        println!("FAILED seed {seed}: {}", replay_command(*seed));
    }
}
