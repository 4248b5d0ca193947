//! Runs many shop ⇄ accounting chaos scenarios and prints the counts (issue 13):
//!
//! ```bash
//! cargo run --release -p puente-e2e --example chaos_apc -- --scenarios 300 [--first-seed 1] [--parallel 4]
//! ```
//!
//! Exits non-zero when any scenario found a duplicate, a lost stock update, a missing
//! document, an echo write or a run error.

#[path = "../src/chaos.rs"]
#[allow(dead_code)]
mod chaos;
#[path = "../src/chaos_apc.rs"]
mod chaos_apc;

fn arg(args: &[String], name: &str) -> Option<u64> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name} takes a number, got {v}"))
        })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n = arg(&args, "--scenarios").unwrap_or(300);
    let first = arg(&args, "--first-seed").unwrap_or(1);
    let parallel = arg(&args, "--parallel").unwrap_or(4) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let started = std::time::Instant::now();
    let mut done = 0u64;
    let totals = rt.block_on(chaos_apc::run_many_apc(first..first + n, parallel, |r| {
        done += 1;
        if !r.problems.is_empty() {
            eprintln!("seed {} ({}): {:#?}", r.seed, r.books, r.problems);
        }
        if done.is_multiple_of(50) {
            eprintln!(
                "{done}/{n} scenarios, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }));
    totals.print();
    println!(
        "elapsed:              {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !totals.failed.is_empty() {
        std::process::exit(1);
    }
}
