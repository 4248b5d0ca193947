//! Runs many chaos scenarios and prints the counts (issue 5; with `--roa`, the shop → RO App
//! scenarios of issue 14):
//!
//! ```bash
//! cargo run --release -p puente-e2e --example chaos -- --scenarios 1000 [--first-seed 1] [--parallel 4] [--roa]
//! ```
//!
//! Exits non-zero when any scenario found a divergence, duplicate, lost update, echo write,
//! unconverged record or run error, after printing each failing seed's replay command.

#[path = "../src/chaos.rs"]
mod chaos;

#[path = "../src/chaos_roa.rs"]
mod chaos_roa;

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
    let n = arg(&args, "--scenarios").unwrap_or(1000);
    let first = arg(&args, "--first-seed").unwrap_or(1);
    let parallel = arg(&args, "--parallel").unwrap_or(4) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::var("CHAOS_LOG").is_ok_and(|v| v == "1") {
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(std::io::stderr)
            .try_init();
    }
    let started = std::time::Instant::now();
    let mut done = 0u64;
    // `--roa`: the shop → RO App scenarios (issue 14) instead of Clientify ⇄ Alegra.
    let roa = args.iter().any(|a| a == "--roa");
    let mut each = |r: &chaos::Report| {
        done += 1;
        if std::env::var("CHAOS_LOG").is_ok_and(|v| v == "1") {
            eprintln!("=== scenario done: seed {}", r.seed);
        }
        if !r.problems.is_empty() {
            if roa {
                eprintln!("{}", chaos_roa::describe(r));
            } else {
                eprintln!("{}", chaos::describe(r));
            }
        }
        if done.is_multiple_of(100) {
            eprintln!(
                "{done}/{n} scenarios, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    };
    let totals = if roa {
        rt.block_on(chaos_roa::run_many_roa(
            first..first + n,
            parallel,
            &mut each,
        ))
    } else {
        rt.block_on(chaos::run_many(first..first + n, parallel, &mut each))
    };
    if roa {
        chaos_roa::print(&totals);
    } else {
        totals.print();
    }
    println!(
        "elapsed:            {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if !totals.failed.is_empty() {
        std::process::exit(1);
    }
}
