//! `puente-apc-bench`: the order flow CCV Shop → Visma e-conomic (APC-1) at a day's volume:
//! 1,000 paid orders from 300 distinct customers over 200 products, none of which the books
//! know yet. Checks that each customer, product and order is created once and that a second
//! run writes nothing; prints the e-conomic calls per order beside the ideal and the share
//! of e-conomic's fair-use 50,000 calls a day that the day of orders uses.
//!
//! `cargo run --release -p puente-bench --bin puente-apc-bench`

use anyhow::{ensure, Result};
use clap::Parser;
use puente_e2e::apc::{ApcEnv, Books, Sizes};
use puente_runtime::{Mode, Summary};
use puente_sandbox::commerce::CommerceSizes;
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Benchmarks the CCV Shop → e-conomic order flow against the sandboxes")]
struct Args {
    #[arg(long, default_value_t = 1_000)]
    orders: usize,
    #[arg(long, default_value_t = 300)]
    customers: usize,
    #[arg(long, default_value_t = 200)]
    products: usize,
    /// The accounting system: economic or eaccounting.
    #[arg(long, default_value = "economic")]
    books: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// e-conomic's fair-use allowance per agreement [D e-conomic.com/developer/fair-use-policy].
const DAILY_CALLS: f64 = 50_000.0;

fn writes(s: &Summary) -> u64 {
    s.entities
        .values()
        .map(|c| c.created_total() + c.updated_total())
        .sum()
}

fn calls(s: &Summary, system: &str) -> u64 {
    s.calls.get(system).map_or(0, |c| c.total)
}

fn by_method(s: &Summary, system: &str) -> String {
    s.calls
        .get(system)
        .map(|c| {
            c.by_method
                .iter()
                .map(|(m, n)| format!("{m} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

#[tokio::main]
async fn main() -> Result<()> {
    let a = Args::parse();
    let books = match a.books.as_str() {
        "economic" => Books::Economic,
        "eaccounting" => Books::EAccounting,
        other => anyhow::bail!("--books {other}: use economic or eaccounting"),
    };
    let acc = books.name();
    // The shop holds the customers and the products; the books hold
    // none of them. The shop's first product has variants (not sent): one more is seeded.
    let sizes = Sizes {
        commerce: CommerceSizes {
            seed: a.seed,
            shared_products: 0,
            shop_products: a.products + 1,
            accounting_products: 0,
            shared_customers: 0,
            // Half the shop's customers have an account (the others checked out as guests
            // and did not order today): the orders come from the account holders.
            shop_customers: a.customers * 2,
            accounting_customers: 0,
        },
        shop_orders: 0,
    };
    let env = ApcEnv::start_sized(books, &sizes, &["order"], "").await;
    let users = env.shop().records("users").len();
    ensure!(users == a.customers, "{users} shop customers");
    let t = Instant::now();
    for i in 0..a.orders {
        let n_rows = 1 + i % 3;
        let rows: Vec<_> = (0..n_rows)
            .map(|k| {
                let p = env.shop_product(i * 3 + k);
                json!({"product_id": p["id"], "count": 1 + (i + k) % 2})
            })
            .collect();
        let paymethod = ["ideal", "creditcard", "paypal"][i % 3];
        let body = json!({
            "customer": env.shop_customer(i),
            "orderrows": rows,
            "paid": true,
            "paymethod": paymethod,
            "deliver_method": "shipping",
        });
        env.shop()
            .place_order(body)
            .await
            .map_err(|e| anyhow::anyhow!("order {i}: {e}"))?;
    }
    eprintln!(
        "placed {} orders in {:.1}s",
        a.orders,
        t.elapsed().as_secs_f64()
    );
    let skus: BTreeSet<String> = env
        .shop()
        .records("orderrows")
        .iter()
        .filter_map(|r| r["product_number"].as_str().map(str::to_string))
        .collect();
    env.ccv.reset_stats();
    env.acc.reset_stats();
    let t = Instant::now();
    let first = env.sync(Mode::Full).await;
    let secs = t.elapsed().as_secs_f64();
    let customers = env.acc_customers().len();
    let products = env.acc_products().len();
    let docs = env.docs_from_shop("invoice");
    let distinct: BTreeSet<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
    ensure!(
        customers == a.customers,
        "{customers} customers in the books"
    );
    ensure!(
        products == skus.len(),
        "{products} products in the books, {} ordered",
        skus.len()
    );
    ensure!(docs.len() == a.orders, "{} documents", docs.len());
    ensure!(distinct.len() == a.orders, "each order once");
    let failed: u64 = first.entities.values().map(|c| c.failed).sum();
    ensure!(failed == 0, "{failed} failed: {first:?}");

    let acc_calls = calls(&first, acc);
    let shop_calls = calls(&first, "ccv");
    let o = a.orders as f64;
    // The ideal: one create per customer, product and order in the books, plus reading each
    // collection it must search once at its largest page (customers, products, documents),
    // and reading the shop's orders with their rows at 250 a page.
    let pages = |n: usize, size: usize| n.div_ceil(size) as u64;
    let ideal_acc = (a.customers + skus.len() + a.orders) as u64 + 3;
    let ideal_shop = pages(a.orders, 250);
    let day_share = acc_calls as f64 / DAILY_CALLS * 100.0;

    let t2 = Instant::now();
    env.acc.reset_stats();
    let second = env.sync(Mode::Full).await;
    let secs2 = t2.elapsed().as_secs_f64();
    let second_writes = writes(&second);
    ensure!(
        second_writes == 0,
        "the second run wrote {second_writes}: {second:?}"
    );
    ensure!(env.acc.writes().is_empty(), "no write reached {acc}");
    ensure!(env.docs_from_shop("invoice").len() == a.orders);

    println!(
        "CCV Shop → {acc}: {} paid orders, {} customers, {} products (none in the books before)",
        a.orders,
        a.customers,
        skus.len()
    );
    println!("first run   {secs:>7.2} s   created: customers {customers}, products {products}, documents {} (each once)", docs.len());
    println!(
        "            {acc} calls {acc_calls} ({})",
        by_method(&first, acc)
    );
    println!(
        "            ccv calls {shop_calls} ({})",
        by_method(&first, "ccv")
    );
    println!(
        "calls per order   {acc} {:.3} (ideal {:.3})   ccv {:.3} (ideal {:.3})",
        acc_calls as f64 / o,
        ideal_acc as f64 / o,
        shop_calls as f64 / o,
        ideal_shop as f64 / o
    );
    if books == Books::Economic {
        println!(
            "a day of {} orders uses {acc_calls} of e-conomic's 50,000 calls a day: {day_share:.2} % (sandbox counter today: {})",
            a.orders,
            env.acc.economic().map_or(0, |e| e.calls_today())
        );
    }
    println!(
        "second run  {secs2:>7.2} s   writes {second_writes}; {acc} calls {} ({}), ccv calls {}",
        calls(&second, acc),
        by_method(&second, acc),
        calls(&second, "ccv")
    );
    Ok(())
}
