//! `salesync-bench <scenario> [options]`: benchmarks against the real system
//! (subgraphs on PostgreSQL behind the real router, as the test harness
//! starts it), each figure beside its baseline in the same run, written to
//! `docs/benchmarks.md`. Run it on release builds: `scripts/bench`.
//!
//! Scenarios:
//! - `dashboard`: a store with 50,000 paid orders over 180 days;
//!   `dailyVolumes` (90 days) and `salesReport` (30 days) through the router,
//!   straight to the subgraph, and as one bare SQL statement.
//! - `soak`: a restaurant's service for minutes with every subgraph as its
//!   own process; every call must succeed, memory stay flat and the books
//!   balance (the command fails otherwise, after writing its figures).
//! - `writes`: `placeOrder` and `checkout` through the router at 10, 50 and
//!   200 concurrent clients, every subgraph its own process; no call may
//!   fail.
//! - `reads`: the menu (one subgraph) through the router and straight to
//!   the item subgraph, at 10 and 50 clients.
//! - `fanout`: `tableChanged` from the mutation's reply to 1,000
//!   subscribers through the router.
//! - `consulting`: a consulting result from its event to 1,000 subscribers
//!   through the router.
//! - `growth`: the open-tables screen and the dashboard with 1,000 orders
//!   of history, then with 50,000.
//! - `feeds`: the live feeds' fetch wait at 20, 100 and 500 ms: idle CPU,
//!   `tableChanged` delivery and `placeOrder` throughput, side by side.
//!
//! On a PostgreSQL server with autovacuum off, the scenarios with every
//! subgraph its own process vacuum and analyze the system's databases every
//! 30 s themselves (`upkeep`), so they measure the server operators run.

mod clients;
mod consulting;
mod dashboard;
mod fanout;
mod feeds;
mod growth;
mod procfs;
mod reads;
mod report;
mod soak;
mod upkeep;
mod writes;

use std::path::PathBuf;

use anyhow::Context;

/// Options every scenario understands.
#[derive(Debug, Clone)]
pub struct Options {
    pub orders: usize,
    pub iterations: usize,
    /// How long the soak runs; how long each row of `writes` runs.
    pub seconds: u64,
    /// The soak's terminals, sharing the store's 12 tables.
    pub terminals: usize,
    /// Where the results go; the scenario's own section is replaced.
    pub out: Option<PathBuf>,
}

fn usage() -> &'static str {
    "usage: salesync-bench dashboard [--orders N] [--iterations N] [--out FILE]\n       \
     salesync-bench soak [--seconds N] [--terminals N] [--out FILE]\n       \
     salesync-bench writes [--seconds N] [--out FILE]\n       \
     salesync-bench reads [--seconds N] [--out FILE]\n       \
     salesync-bench fanout [--out FILE]\n       \
     salesync-bench consulting [--out FILE]\n       \
     salesync-bench feeds [--seconds N] [--out FILE]\n       \
     salesync-bench growth [--orders N] [--iterations N] [--out FILE]"
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().context(usage())?;
    let mut options = Options {
        orders: 50_000,
        iterations: 300,
        // The soak's; `writes` and `reads` run each of their rows for 15 s
        // unless told.
        seconds: if scenario == "soak" { 300 } else { 15 },
        terminals: 12,
        out: None,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--orders" => options.orders = value.parse().context("--orders")?,
            "--iterations" => options.iterations = value.parse().context("--iterations")?,
            "--seconds" => options.seconds = value.parse().context("--seconds")?,
            "--terminals" => {
                options.terminals = value.parse().context("--terminals")?;
                anyhow::ensure!(
                    (1..=12).contains(&options.terminals),
                    "--terminals: 1 to 12 (the store has 12 tables)"
                );
            }
            "--out" => options.out = Some(PathBuf::from(value)),
            _ => anyhow::bail!("unknown option {flag}; {}", usage()),
        }
    }
    let section = match scenario.as_str() {
        "dashboard" => dashboard::run(&options).await?,
        "soak" => soak::run(&options).await?,
        "writes" => writes::run(&options).await?,
        "reads" => reads::run(&options).await?,
        "fanout" => fanout::run(&options).await?,
        "consulting" => consulting::run(&options).await?,
        "feeds" => feeds::run(&options).await?,
        "growth" => growth::run(&options).await?,
        _ => anyhow::bail!("unknown scenario {scenario:?}; {}", usage()),
    };
    println!("\n{}", section.markdown);
    if let Some(out) = &options.out {
        report::write_section(out, &section)?;
        println!("wrote {}", out.display());
    }
    anyhow::ensure!(
        section.problems.is_empty(),
        "{scenario} failed: {}",
        section.problems.join("; ")
    );
    Ok(())
}
