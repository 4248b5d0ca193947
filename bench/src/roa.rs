//! `puente-roa-bench`: the shop → RO App backfill at scale (issue 14): a Shopify shop and a
//! WooCommerce store of 5,000 orders (2,000 customers with phones in mixed formats, 800
//! products) imported into RO App over the local runtime and the sandboxes on loopback.
//! Checks what the issue asks (each customer and product created once, the excluded
//! statuses never imported, a second run writes nothing) and prints the vendor calls per
//! order beside the ideal, and the time the backfill needs at RO App's 3 requests a second.
//!
//! `cargo run --release -p puente-bench --bin puente-roa-bench`

use anyhow::{ensure, Result};
use clap::Parser;
use puente_e2e::roa::{
    duplicate_clients, duplicate_numbers, duplicate_skus, roapp_config, Roa, Setup,
};
use puente_runtime::{run, Mode, NoProgress, Summary};
use puente_sandbox::{ShopifyConfig, WooConfig};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

#[derive(Parser, Clone)]
#[command(about = "Benchmarks the shop → RO App backfill (Shopify and WooCommerce)")]
struct Args {
    #[arg(long, default_value_t = 5_000)]
    orders: usize,
    #[arg(long, default_value_t = 2_000)]
    customers: usize,
    #[arg(long, default_value_t = 800)]
    products: usize,
    /// RO App's limit, requests a second (3 today; 8 in older docs).
    #[arg(long, default_value_t = 3.0)]
    roapp_rps: f64,
    #[arg(long, default_value = "bench/out/roa.json")]
    out: String,
}

const SHOPIFY_PAGE: u64 = 250;
const WOO_PAGE: u64 = 100;
const ROAPP_PAGE: u64 = 50;

#[derive(Serialize, Default)]
struct Result1 {
    shop: String,
    orders_in_shop: usize,
    imported: usize,
    skipped: u64,
    excluded_by_status: usize,
    seconds: f64,
    shop_calls: u64,
    ideal_shop_calls: u64,
    roapp_calls: u64,
    roapp_calls_by_route: BTreeMap<String, u64>,
    shop_calls_by_route: BTreeMap<String, u64>,
    roapp_writes: u64,
    ideal_roapp_calls: u64,
    ideal_roapp_writes: u64,
    clients_created: usize,
    products_created: usize,
    categories_created: usize,
    delivery_comments: usize,
    seconds_at_roapp_limit: f64,
    ideal_seconds_at_roapp_limit: f64,
    second_run_roapp_writes: u64,
    second_run_roapp_calls: u64,
    second_run_shop_calls: u64,
}

fn s(v: &Value, k: &str) -> String {
    match &v[k] {
        Value::String(x) => x.clone(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

fn pages(n: u64, per: u64) -> u64 {
    n.div_ceil(per).max(1)
}

fn utc(raw: &str) -> chrono::DateTime<chrono::Utc> {
    raw.parse::<chrono::DateTime<chrono::Utc>>()
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc())
        })
        .unwrap_or_else(|e| panic!("{raw}: {e}"))
}

/// What a shop's orders say the backfill should do: `(imported, excluded by status)` numbers.
struct Want {
    imported: BTreeSet<String>,
    excluded: BTreeSet<String>,
}

fn want_shopify(orders: &[Value]) -> Want {
    let now = chrono::Utc::now();
    let mut w = Want {
        imported: BTreeSet::new(),
        excluded: BTreeSet::new(),
    };
    for o in orders {
        if utc(o["created_at"].as_str().unwrap()) < now - chrono::Duration::days(60) {
            continue;
        }
        let excluded = !o["cancelled_at"].is_null()
            || o["financial_status"] == "refunded"
            || o["fulfillment_status"] == "fulfilled";
        let set = if excluded {
            &mut w.excluded
        } else {
            &mut w.imported
        };
        set.insert(s(o, "name"));
    }
    w
}

fn want_woo(orders: &[Value]) -> Want {
    const EXCLUDED: [&str; 5] = ["completed", "cancelled", "refunded", "failed", "trash"];
    let now = chrono::Utc::now();
    let mut w = Want {
        imported: BTreeSet::new(),
        excluded: BTreeSet::new(),
    };
    for o in orders {
        if utc(o["date_created_gmt"].as_str().unwrap()) < now - chrono::Duration::days(60) {
            continue;
        }
        let number = format!("#{}", s(o, "number"));
        if EXCLUDED.contains(&o["status"].as_str().unwrap_or("")) {
            w.excluded.insert(number);
            continue;
        }
        // ROA-5: orders without products or a reachable customer are skipped, not imported.
        let has_items = o["line_items"].as_array().is_some_and(|l| !l.is_empty());
        let reachable = !s(&o["billing"], "email").is_empty()
            || !s(&o["billing"], "phone").is_empty()
            || !s(&o["shipping"], "phone").is_empty();
        if has_items && reachable {
            w.imported.insert(number);
        }
    }
    w
}

async fn backfill(env: &Roa) -> (Summary, f64) {
    let t = Instant::now();
    let s = run(env.flow(), Mode::Backfill, false, &NoProgress).await;
    (s, t.elapsed().as_secs_f64())
}

async fn bench(args: &Args, name: &str, setup: Setup) -> Result<Result1> {
    let env = Roa::start(&format!("bench-roa-{name}"), setup).await;
    let shop_orders = match name {
        "shopify" => env.shop.shopify().orders(),
        _ => env.shop.woo().orders(),
    };
    let want = match name {
        "shopify" => want_shopify(&shop_orders),
        _ => want_woo(&shop_orders),
    };
    let (clients0, products0, orders0, cats0) = (
        env.roapp.clients().len(),
        env.roapp.products().len(),
        env.roapp.orders().len(),
        env.roapp.categories().len(),
    );
    env.roapp.sandbox.reset_stats();
    env.shop.sandbox().reset_stats();
    let (s1, seconds) = backfill(&env).await;
    ensure!(s1.errors.is_empty(), "{name}: run errors {:?}", s1.errors);
    let shop_stats = env.shop.sandbox().stats();
    let ro = env.roapp.sandbox.stats();
    // From the counters (the write log keeps the last 1,000 only); a legacy token is no write.
    let writes: u64 = ro
        .by_route
        .iter()
        .filter(|(k, _)| {
            ["POST ", "PUT ", "PATCH ", "DELETE "]
                .iter()
                .any(|m| k.starts_with(m))
                && !k.contains("/token/new")
        })
        .map(|(_, n)| n)
        .sum();
    let got: BTreeSet<String> = env.roapp_orders().iter().map(|o| s(o, "number")).collect();
    if let Some(missing) = want.imported.difference(&got).next() {
        let o = shop_orders
            .iter()
            .find(|o| s(o, "name") == *missing || format!("#{}", s(o, "number")) == *missing);
        eprintln!(
            "missing {missing}: {}",
            o.map(|o| o.to_string()).unwrap_or_default()
        );
        let id = o.map(|o| s(o, "id")).unwrap_or_default();
        for e in env.log().await.iter().filter(|e| {
            e.kind != "order"
                && (format!("{:?}{:?}{:?}", e.key, e.reason, e.values).contains("611223344")
                    || e.action == puente_store::Action::Failed)
        }) {
            eprintln!(
                "  {} {:?} {:?} {:?} {:?} {:?}",
                e.kind, e.action, e.external_id, e.key, e.reason, e.target_id
            );
        }
        for e in env.log().await.iter().filter(|e| {
            e.external_id.as_deref() == Some(id.as_str())
                || e.reason.as_deref().is_some_and(|r| r.contains(&id))
        }) {
            eprintln!("  {:?} {:?} {:?}", e.action, e.external_id, e.reason);
        }
    }
    ensure!(
        got == want.imported,
        "{name}: imported {} orders, want {} (missing {:?}, extra {:?})",
        got.len(),
        want.imported.len(),
        want.imported.difference(&got).take(5).collect::<Vec<_>>(),
        got.difference(&want.imported).take(5).collect::<Vec<_>>()
    );
    ensure!(
        got.is_disjoint(&want.excluded),
        "{name}: an excluded status was imported"
    );
    let (clients, products) = (env.roapp.clients(), env.roapp.products());
    ensure!(
        duplicate_clients(&clients).is_empty(),
        "{name}: duplicate customers {:?}",
        duplicate_clients(&clients)
    );
    ensure!(
        duplicate_skus(&products).is_empty(),
        "{name}: duplicate products {:?}",
        duplicate_skus(&products)
    );
    ensure!(duplicate_numbers(&env.roapp.orders()).is_empty());
    let clients_created = clients.len() - clients0;
    let products_created = products.len() - products0;
    let categories_created = env.roapp.categories().len() - cats0;
    let delivery_comments: usize = env
        .roapp_orders()
        .iter()
        .map(|o| env.roapp.comments(o["id"].as_u64().unwrap()).len())
        .sum();
    // The ideal: every record written once (orders, new customers, products, categories,
    // one delivery comment per order that has one), plus one listing of what RO App holds
    // (clients, products, orders, 50 a page) and the account's currency and order type;
    // on the shop, one listing of the window's orders and (WooCommerce, whose orders carry
    // no category) of the products and categories.
    let imported = got.len() as u64;
    let ideal_writes = imported
        + clients_created as u64
        + products_created as u64
        + categories_created as u64
        + delivery_comments as u64;
    let ideal_reads = pages(clients0 as u64, ROAPP_PAGE)
        + pages(products0 as u64, ROAPP_PAGE)
        + pages(orders0 as u64, ROAPP_PAGE)
        + 2;
    let window = (want.imported.len() + want.excluded.len()) as u64;
    let ideal_shop = match name {
        "shopify" => pages(window, SHOPIFY_PAGE) + pages(args.products as u64, SHOPIFY_PAGE),
        _ => pages(window, WOO_PAGE) + pages(args.products as u64, WOO_PAGE) + 1,
    };
    let skipped = s1.entities.get("order").map_or(0, |c| c.skipped);

    // A second backfill writes nothing.
    env.roapp.sandbox.reset_stats();
    env.shop.sandbox().reset_stats();
    let (s2, _) = backfill(&env).await;
    ensure!(
        s2.errors.is_empty(),
        "{name}: second run errors {:?}",
        s2.errors
    );
    let second_writes = env.roapp_writes().len() as u64;
    ensure!(
        second_writes == 0,
        "{name}: the second run wrote {:?}",
        env.roapp_writes().into_iter().take(5).collect::<Vec<_>>()
    );
    let r = Result1 {
        shop: name.into(),
        orders_in_shop: shop_orders.len(),
        imported: got.len(),
        skipped,
        excluded_by_status: want.excluded.len(),
        seconds,
        shop_calls: shop_stats.total,
        ideal_shop_calls: ideal_shop,
        roapp_calls: ro.total,
        roapp_calls_by_route: ro.by_route.clone(),
        shop_calls_by_route: shop_stats.by_route.clone(),
        roapp_writes: writes,
        ideal_roapp_calls: ideal_writes + ideal_reads,
        ideal_roapp_writes: ideal_writes,
        clients_created,
        products_created,
        categories_created,
        delivery_comments,
        seconds_at_roapp_limit: ro.total as f64 / args.roapp_rps,
        ideal_seconds_at_roapp_limit: (ideal_writes + ideal_reads) as f64 / args.roapp_rps,
        second_run_roapp_writes: second_writes,
        second_run_roapp_calls: env.roapp.sandbox.stats().total,
        second_run_shop_calls: env.shop.sandbox().stats().total,
    };
    Ok(r)
}

fn print(args: &Args, r: &Result1) {
    let per = |n: u64| n as f64 / r.imported.max(1) as f64;
    println!(
        "\n== {} → RO App: backfill of a shop with {} orders ({} customers, {} products)",
        r.shop, r.orders_in_shop, args.customers, args.products
    );
    println!(
        "imported {} orders; {} in the window left out by status, {} order records skipped (ROA-5, and RO App's own orders: one way); {:.1} s on loopback",
        r.imported, r.excluded_by_status, r.skipped, r.seconds
    );
    println!(
        "created once: {} customers, {} products, {} categories; {} delivery comments",
        r.clients_created, r.products_created, r.categories_created, r.delivery_comments
    );
    println!(
        "{:<28} {:>10} {:>10} {:>10}",
        "", "measured", "ideal", "ratio"
    );
    let row = |label: &str, a: f64, b: f64| {
        println!(
            "{label:<28} {a:>10.2} {b:>10.2} {:>10.2}",
            if b > 0.0 { a / b } else { f64::NAN }
        )
    };
    row(
        "RO App calls per order",
        per(r.roapp_calls),
        per(r.ideal_roapp_calls),
    );
    row(
        "RO App writes per order",
        per(r.roapp_writes),
        per(r.ideal_roapp_writes),
    );
    row(
        "shop calls per order",
        per(r.shop_calls),
        per(r.ideal_shop_calls),
    );
    row(
        &format!("minutes at {} req/s", args.roapp_rps),
        r.seconds_at_roapp_limit / 60.0,
        r.ideal_seconds_at_roapp_limit / 60.0,
    );
    println!(
        "second backfill: {} RO App writes, {} RO App calls, {} shop calls",
        r.second_run_roapp_writes, r.second_run_roapp_calls, r.second_run_shop_calls
    );
    for (who, by) in [
        ("RO App", &r.roapp_calls_by_route),
        ("shop", &r.shop_calls_by_route),
    ] {
        let mut routes: Vec<_> = by.iter().collect();
        routes.sort_by(|a, b| b.1.cmp(a.1));
        let top: Vec<String> = routes
            .iter()
            .take(6)
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        println!("{who} calls by route: {}", top.join(", "));
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let shopify = ShopifyConfig {
        customers: args.customers,
        products: args.products,
        orders: args.orders,
        bucket_size: 0,
        leak_rate: 0,
        ..ShopifyConfig::default()
    };
    let woo = WooConfig {
        customers: args.customers,
        products: args.products,
        orders: args.orders,
        ..WooConfig::default()
    };
    let mut out = Vec::new();
    for (name, setup) in [
        ("shopify", Setup::shopify(shopify)),
        ("woocommerce", Setup::woo(woo)),
    ] {
        let setup = Setup {
            roapp: roapp_config(),
            ..setup
        };
        let r = bench(&args, name, setup).await?;
        print(&args, &r);
        out.push(r);
    }
    if let Some(dir) = std::path::Path::new(&args.out).parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&args.out, serde_json::to_string_pretty(&out)?)?;
    println!("\nwritten {}", args.out);
    Ok(())
}
