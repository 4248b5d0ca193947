//! Chaos scenarios on the shop ⇄ accounting flows (issue 13): CCV Shop with Visma e-conomic
//! (odd seeds; webhooks from both) or Visma eAccounting (even seeds; it has none, so only the
//! shop's), all four entities on their presets, orders and stock the ones under test.
//!
//! Compiled into the `chaos_apc` test and the `chaos_apc` example beside `chaos.rs` (whose
//! queue without backoff it reuses). A scenario is seeded and made of rounds. Round 0 imports
//! the seeded sandboxes through faults. Each later round:
//! 1. **user actions**, straight on the sandboxes as their users would (faults off): new paid
//!    orders in the shop (from account holders and from guests, one guest ordering twice),
//!    unpaid orders paid, stock counted in the books;
//! 2. **chaos**: seeded vendor faults (5xx, resets, lost write answers, 429 bursts) on both
//!    sides; the vendors' webhook deliveries through the real HTTP handler, shuffled and
//!    duplicated, plus a tampered and an unsigned one that must be refused with nothing
//!    queued; queue workers that die at a crash point (after the vendor write, after the
//!    link save) and whose messages come back; a Modified poll beside them;
//! 3. **quiesce**: faults off, the queue drained, a Full sync, then a second one;
//! 4. **checks**: no customer (by email), product (by SKU) or document (by shop order) twice
//!    in the books; every paid order the flow sends has its document; every shared
//!    product's stock in the shop is the books' available level (no stock update lost); the
//!    second Full wrote nothing.

use crate::chaos::NoBackoff;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, Uri};
use puente_e2e::apc::{apc_toml, start_sandboxes, Books, Sizes};
use puente_runtime::crash::{with_plan, CrashPlan, CrashPoint};
use puente_runtime::events::work_once;
use puente_runtime::serve::{router, ServerState};
use puente_runtime::{run, App, Config, Mode, NoProgress};
use puente_sandbox::{Faults, HookKind, Sandbox};
use puente_store::sqlite::SqliteStore;
use puente_store::Store;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

const SECRET: &str = "s3cret-hook";
const VISIBILITY: Duration = Duration::from_millis(40);
const ROUNDS: u32 = 2;

fn policy() -> puente_connectors::RetryPolicy {
    puente_connectors::RetryPolicy {
        max_retries: 3,
        max_rate_limit_retries: 6,
        min_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(4),
        max_header_wait: Duration::from_millis(2),
        timeout: Duration::from_millis(400),
        connect_timeout: Duration::from_secs(2),
    }
}

#[derive(Clone, Debug, Default)]
pub struct ApcReport {
    pub seed: u64,
    pub books: &'static str,
    pub problems: Vec<String>,
    pub duplicates: u64,
    pub lost_stock: u64,
    pub missing_documents: u64,
    pub echo_writes: u64,
    pub orders_sent: u64,
    pub stock_changes: u64,
    pub crashes: u64,
    pub faults: u64,
    pub webhooks: u64,
    pub refused: u64,
}

type Captured = Arc<Mutex<Vec<(String, Vec<(String, String)>, Vec<u8>)>>>;
/// A delivery to replay: (system, query, headers, body).
type Delivery<'a> = (&'a str, String, Vec<(String, String)>, Vec<u8>);
/// Where the books keep (customers, their email, products, their SKU, documents, a
/// document's shop reference).
type BooksShape = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(&Value) -> String,
);

/// A receiver for the vendors' deliveries: (path and query, headers, body).
async fn receiver() -> (String, Captured) {
    let got: Captured = Default::default();
    let keep = got.clone();
    let app = axum::Router::new().fallback(axum::routing::any(
        move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                let hs = headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
                    .collect();
                let q = uri.query().map(|q| format!("?{q}")).unwrap_or_default();
                keep.lock().unwrap().push((q, hs, body.to_vec()));
                axum::http::StatusCode::OK
            }
        },
    ));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

struct Env {
    books: Books,
    ccv: Sandbox,
    acc: Sandbox,
    app: Arc<App>,
    store: Arc<dyn Store>,
    workers: Arc<dyn Store>,
    hooks: ServerState,
    shop_hooks: Captured,
    books_hooks: Captured,
}

impl Env {
    fn flow(&self) -> &puente_runtime::Flow {
        self.app.flow("apc").expect("flow")
    }

    fn faults(&self, f: Option<Faults>) {
        let f = f.unwrap_or_default();
        self.ccv.set_faults(f.clone());
        self.acc.set_faults(f);
    }

    async fn pending(&self) -> u64 {
        self.store.queue_depth().await.map(|d| d.0).unwrap_or(0)
    }

    async fn drain(&self) {
        for _ in 0..400 {
            if self.pending().await == 0 {
                return;
            }
            let done = work_once(&self.app, self.workers.as_ref(), 10, VISIBILITY).await;
            if done.taken == 0 {
                tokio::time::sleep(VISIBILITY / 2).await;
            }
        }
    }

    /// A delivery through the real handler; its status.
    async fn deliver(
        &self,
        system: &str,
        query: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> u16 {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(format!("/webhooks/test/{system}/{SECRET}{query}"));
        for (k, v) in headers {
            if k != "host" && k != "content-length" {
                req = req.header(k, v);
            }
        }
        let req = req.body(Body::from(body.to_vec())).unwrap();
        router(self.hooks.clone())
            .oneshot(req)
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    fn shop_stock(&self) -> BTreeMap<String, f64> {
        self.ccv
            .ccv()
            .unwrap()
            .records("products")
            .iter()
            .map(|p| {
                (
                    p["productnumber"].as_str().unwrap_or("").to_string(),
                    p["stock"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect()
    }

    /// The books' available stock (the preset's formula) by SKU.
    fn books_available(&self) -> BTreeMap<String, f64> {
        match self.books {
            Books::Economic => self
                .acc
                .economic()
                .unwrap()
                .records("products")
                .iter()
                .filter(|p| p["inventory"].is_object())
                .map(|p| {
                    let i = &p["inventory"];
                    let n = |k: &str| i[k].as_f64().unwrap_or(0.0);
                    (
                        p["productNumber"].as_str().unwrap_or("").to_string(),
                        n("inStock") - n("orderedByCustomers"),
                    )
                })
                .collect(),
            Books::EAccounting => self
                .acc
                .eaccounting()
                .unwrap()
                .records("articles")
                .iter()
                .map(|p| {
                    (
                        p["Number"].as_str().unwrap_or("").to_string(),
                        p["StockBalanceAvailable"].as_f64().unwrap_or(0.0),
                    )
                })
                .collect(),
        }
    }
}

fn books_records(env: &Env, coll: &str) -> Vec<Value> {
    match env.books {
        Books::Economic => env.acc.economic().unwrap().records(coll),
        Books::EAccounting => env.acc.eaccounting().unwrap().records(coll),
    }
}

/// The checks after quiescing; problems appended to `r`.
fn check(env: &Env, r: &mut ApcReport, round: u32, variable: &BTreeSet<u64>) {
    let (cust, email_key, prods, sku_key, docs, ref_of): BooksShape = match env.books {
        Books::Economic => (
            "customers",
            "email",
            "products",
            "productNumber",
            "invoices/drafts",
            |d| d["references"]["other"].as_str().unwrap_or("").to_string(),
        ),
        Books::EAccounting => (
            "customers",
            "EmailAddress",
            "articles",
            "Number",
            "customerinvoicedrafts",
            |d| d["YourReference"].as_str().unwrap_or("").to_string(),
        ),
    };
    let mut dup = |what: &str, keys: Vec<String>| {
        let mut seen = BTreeMap::new();
        for k in keys.into_iter().filter(|k| !k.is_empty()) {
            *seen.entry(k).or_insert(0u64) += 1;
        }
        for (k, n) in seen.into_iter().filter(|(_, n)| *n > 1) {
            r.duplicates += n - 1;
            r.problems
                .push(format!("round {round}: {what} {k} {n} times"));
        }
    };
    dup(
        "customer",
        books_records(env, cust)
            .iter()
            .map(|c| c[email_key].as_str().unwrap_or("").to_lowercase())
            .collect(),
    );
    dup(
        "product",
        books_records(env, prods)
            .iter()
            .map(|p| p[sku_key].as_str().unwrap_or("").to_string())
            .collect(),
    );
    let documents: Vec<String> = books_records(env, docs).iter().map(ref_of).collect();
    dup("document", documents.clone());
    // Every paid, completed, not cancelled order of simple products has its document.
    let shop = env.ccv.ccv().unwrap();
    let rows = shop.records("orderrows");
    let have: BTreeSet<String> = documents.into_iter().collect();
    let mut sent = 0;
    for o in shop.records("orders") {
        let eligible = o["paid"] == json!(true)
            && o["status"] != json!(8)
            && o["ordernumber_full"].is_string()
            && !rows.iter().any(|x| {
                x["order_id"] == o["id"]
                    && x["product_id"]
                        .as_u64()
                        .is_some_and(|p| variable.contains(&p))
            });
        if !eligible {
            continue;
        }
        let key = format!("ccv/{}", o["ordernumber_full"].as_str().unwrap());
        if have.contains(&key) {
            sent += 1;
        } else {
            r.missing_documents += 1;
            r.problems
                .push(format!("round {round}: no document for {key}"));
        }
    }
    r.orders_sent = sent;
    // No lost stock update: every product both have shows the books' level in the shop.
    let shop_stock = env.shop_stock();
    for (sku, avail) in env.books_available() {
        if let Some(s) = shop_stock.get(&sku) {
            if (s - avail).abs() > 1e-9 {
                r.lost_stock += 1;
                r.problems.push(format!(
                    "round {round}: {sku} is {s} in the shop, {avail} in the books"
                ));
            }
        }
    }
}

pub async fn run_apc_scenario(seed: u64) -> ApcReport {
    let books = if seed % 2 == 1 {
        Books::Economic
    } else {
        Books::EAccounting
    };
    let mut rng = StdRng::seed_from_u64(seed);
    let mut r = ApcReport {
        seed,
        books: books.name(),
        ..ApcReport::default()
    };
    let sizes = Sizes {
        shop_orders: 12,
        ..Sizes::default()
    };
    let (ccv, ccv_conn, acc, acc_conn) = start_sandboxes(books, &sizes).await;
    let toml = apc_toml(
        books,
        &ccv_conn,
        &acc_conn,
        std::path::Path::new(":memory:"),
        &["contact", "product", "stock", "order"],
        "",
    );
    let config = Config::parse(&toml).expect("config");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_in_memory().expect("store"));
    let app = Arc::new(App::build(config, store.clone(), policy()).expect("app"));
    let hooks = ServerState {
        app: app.clone(),
        secret: Some(SECRET.into()),
        inactive: Arc::new(Mutex::new(Vec::new())),
    };
    let (shop_url, shop_hooks) = receiver().await;
    let (books_url, books_hooks) = receiver().await;
    let view = ccv.ccv().unwrap();
    for ev in ["orders.created", "orders.updated", "products.updated"] {
        view.subscribe(ev, &shop_url).expect("subscribed");
    }
    if let Some(e) = acc.economic() {
        e.set_webhook(
            HookKind::ProductUpdated,
            Some(&format!(
                "{books_url}?type=product&new=[NEWNUMBER]&old=[OLDNUMBER]"
            )),
        );
        e.set_webhook(
            HookKind::CustomerUpdated,
            Some(&format!(
                "{books_url}?type=customer&new=[NEWNUMBER]&old=[OLDNUMBER]"
            )),
        );
    }
    let env = Env {
        books,
        ccv,
        acc,
        workers: Arc::new(NoBackoff(store.clone())),
        app,
        store,
        hooks,
        shop_hooks,
        books_hooks,
    };
    let variable: BTreeSet<u64> = view
        .records("products")
        .iter()
        .filter(|p| {
            p["attributecombinations"]["items"]
                .as_array()
                .is_some_and(|a| !a.is_empty())
        })
        .filter_map(|p| p["id"].as_u64())
        .collect();
    let simple: Vec<Value> = view
        .records("products")
        .into_iter()
        .filter(|p| p["id"].as_u64().is_some_and(|i| !variable.contains(&i)))
        .collect();
    let users: Vec<Value> = view.records("users");
    let shared: Vec<String> = env
        .books_available()
        .keys()
        .filter(|k| env.shop_stock().contains_key(*k))
        .cloned()
        .collect();
    let fault_plan = |rng: &mut StdRng| Faults {
        seed: rng.gen(),
        error_5xx: rng.gen_range(0.0..0.08),
        reset: rng.gen_range(0.0..0.04),
        lost_response: rng.gen_range(0.0..0.08),
        burst_429: if rng.gen_bool(0.3) {
            Some((20, 2))
        } else {
            None
        },
        ..Faults::default()
    };

    // Round 0: the import, through faults.
    env.faults(Some(fault_plan(&mut rng)));
    let _ = run(env.flow(), Mode::Full, false, &NoProgress).await;
    let guest = format!("gast{seed}@voorbeeld.nl");
    for round in 1..=ROUNDS {
        env.faults(None);
        // 1. user actions
        for k in 0..rng.gen_range(2..5) {
            let mut who = users[rng.gen_range(0..users.len())]["userinfo"].clone();
            if k == 0 {
                who["email"] = json!(guest);
                who["billingaddress"]["city"] = json!(format!("Stad {round}"));
            }
            let p = &simple[rng.gen_range(0..simple.len())];
            let paymethod = ["ideal", "creditcard", "paypal"][rng.gen_range(0..3)];
            let body = json!({"customer": who, "orderrows": [{"product_id": p["id"], "count": rng.gen_range(1..3)}],
                "paid": true, "paymethod": paymethod,
                "deliver_method": "shipping"});
            view.place_order(body).await.expect("order placed");
        }
        let unpaid: Vec<u64> = view
            .records("orders")
            .iter()
            .filter(|o| o["paid"] == json!(false) && o["status"] == json!(4))
            .filter_map(|o| o["id"].as_u64())
            .collect();
        if let Some(id) = unpaid.choose(&mut rng) {
            view.set_order_status(*id, 2, true);
        }
        for _ in 0..rng.gen_range(2..5) {
            let sku = &shared[rng.gen_range(0..shared.len())];
            let n = f64::from(rng.gen_range(0..60u32));
            let ok = match books {
                Books::Economic => env.acc.economic().unwrap().set_in_stock(sku, n),
                Books::EAccounting => env.acc.eaccounting().unwrap().set_stock(sku, n),
            };
            assert!(ok, "{sku} counted");
            r.stock_changes += 1;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        // 2. chaos: deliveries shuffled and duplicated, workers crashing, a poll beside.
        env.faults(Some(fault_plan(&mut rng)));
        let mut deliveries: Vec<Delivery> = Vec::new();
        for (system, got) in [("ccv", &env.shop_hooks), (books.name(), &env.books_hooks)] {
            for (q, h, b) in got.lock().unwrap().drain(..) {
                deliveries.push((system, q, h, b));
            }
        }
        let dups: Vec<_> = deliveries
            .iter()
            .filter(|_| rng.gen_bool(0.3))
            .cloned()
            .collect();
        deliveries.extend(dups);
        deliveries.shuffle(&mut rng);
        // A tampered and an unsigned shop delivery: 401, nothing queued.
        if let Some((_, q, h, b)) = deliveries.iter().find(|d| d.0 == "ccv").cloned() {
            let before = env.pending().await;
            let mut bad = b.clone();
            bad.extend_from_slice(b" ");
            let s1 = env.deliver("ccv", &q, &h, &bad).await;
            let plain: Vec<(String, String)> = h
                .iter()
                .filter(|(k, _)| k == "content-type")
                .cloned()
                .collect();
            let s2 = env.deliver("ccv", &q, &plain, &b).await;
            if s1 != 401 || s2 != 401 || env.pending().await != before {
                r.problems.push(format!(
                    "round {round}: tampered/unsigned delivery answered {s1}/{s2}"
                ));
            }
            r.refused += 2;
        }
        let mut plans = Vec::new();
        for _ in 0..deliveries.len().max(1) {
            plans.push(if rng.gen_bool(0.25) {
                let point = if rng.gen_bool(0.5) {
                    CrashPoint::AfterVendorWrite
                } else {
                    CrashPoint::AfterLinkSave
                };
                Some(CrashPlan::new(point, rng.gen_range(1..=3)))
            } else {
                None
            });
        }
        let do_poll = rng.gen_bool(0.5);
        let poll = async {
            if do_poll {
                let _ = run(env.flow(), Mode::Modified, false, &NoProgress).await;
            }
        };
        let work = async {
            let mut crashes = 0;
            for ((system, q, h, b), plan) in deliveries.iter().zip(plans) {
                let _ = env.deliver(system, q, h, b).await;
                let fut = work_once(&env.app, env.workers.as_ref(), 10, VISIBILITY);
                match plan {
                    None => {
                        fut.await;
                    }
                    Some(p) => {
                        if with_plan(p, fut).await.is_err() {
                            crashes += 1;
                        }
                    }
                }
            }
            crashes
        };
        let (_, crashes) = tokio::join!(poll, work);
        r.crashes += crashes;
        r.webhooks += deliveries.len() as u64;
        r.faults += [&env.ccv, &env.acc]
            .iter()
            .map(|s| s.stats().faults.values().sum::<u64>())
            .sum::<u64>();
        // 3. quiesce
        env.faults(None);
        env.drain().await;
        let full = run(env.flow(), Mode::Full, false, &NoProgress).await;
        if !full.errors.is_empty() {
            r.problems
                .push(format!("round {round}: run errors {:?}", full.errors));
        }
        // Stock the poll or the orders reserved in the books reaches the shop on the next
        // run; the one after must write nothing.
        let _ = run(env.flow(), Mode::Full, false, &NoProgress).await;
        let again = run(env.flow(), Mode::Full, false, &NoProgress).await;
        let w: u64 = again
            .entities
            .values()
            .map(|c| c.created_total() + c.updated_total())
            .sum();
        if w > 0 {
            r.echo_writes += w;
            r.problems
                .push(format!("round {round}: a quiet Full wrote {w}: {again:?}"));
        }
        // Deliveries the quiescing runs caused are not the next round's chaos.
        env.shop_hooks.lock().unwrap().clear();
        env.books_hooks.lock().unwrap().clear();
        // 4. checks
        check(&env, &mut r, round, &variable);
    }
    r
}

#[derive(Debug, Default)]
pub struct ApcTotals {
    pub scenarios: u64,
    pub by_books: BTreeMap<&'static str, u64>,
    pub failed: Vec<u64>,
    pub duplicates: u64,
    pub lost_stock: u64,
    pub missing_documents: u64,
    pub echo_writes: u64,
    pub orders_sent: u64,
    pub stock_changes: u64,
    pub crashes: u64,
    pub faults: u64,
    pub webhooks: u64,
    pub refused: u64,
}

impl ApcTotals {
    pub fn add(&mut self, r: &ApcReport) {
        self.scenarios += 1;
        *self.by_books.entry(r.books).or_default() += 1;
        if !r.problems.is_empty() {
            self.failed.push(r.seed);
        }
        self.duplicates += r.duplicates;
        self.lost_stock += r.lost_stock;
        self.missing_documents += r.missing_documents;
        self.echo_writes += r.echo_writes;
        self.orders_sent += r.orders_sent;
        self.stock_changes += r.stock_changes;
        self.crashes += r.crashes;
        self.faults += r.faults;
        self.webhooks += r.webhooks;
        self.refused += r.refused;
    }

    pub fn print(&self) {
        println!(
            "scenarios:            {} ({:?})",
            self.scenarios, self.by_books
        );
        println!(
            "duplicates:           {} (customers, products, documents)",
            self.duplicates
        );
        println!("lost stock updates:   {}", self.lost_stock);
        println!("missing documents:    {}", self.missing_documents);
        println!("echo writes:          {}", self.echo_writes);
        println!(
            "covered:              {} documents checked, {} stock counts",
            self.orders_sent, self.stock_changes
        );
        println!(
            "chaos:                {} faults injected, {} worker crashes, {} webhook deliveries, {} tampered/unsigned refused",
            self.faults, self.crashes, self.webhooks, self.refused
        );
        for seed in self.failed.iter().take(20) {
            println!(
                "FAILED seed {seed}: CHAOS_SEED={seed} cargo test -p puente-e2e --test chaos_apc -- replay --nocapture"
            );
        }
    }
}

pub async fn run_many_apc(
    seeds: impl IntoIterator<Item = u64>,
    parallel: usize,
    mut each: impl FnMut(&ApcReport),
) -> ApcTotals {
    let mut totals = ApcTotals::default();
    let mut set = tokio::task::JoinSet::new();
    let mut seeds = seeds.into_iter();
    loop {
        while set.len() < parallel {
            match seeds.next() {
                Some(seed) => {
                    set.spawn(async move {
                        match tokio::spawn(run_apc_scenario(seed)).await {
                            Ok(r) => r,
                            Err(e) => ApcReport {
                                seed,
                                problems: vec![format!("scenario panicked: {e}")],
                                ..ApcReport::default()
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
