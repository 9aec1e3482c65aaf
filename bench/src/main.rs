//! `salesync-bench <scenario> [options]`: benchmarks against the real system
//! (subgraphs on PostgreSQL behind the real router, as the test harness
//! starts it), each figure beside its baseline in the same run, written to
//! `docs/benchmarks.md`. Run it on release builds: `scripts/bench`.
//!
//! Scenarios:
//! - `dashboard`: a store with 50,000 paid orders over 180 days;
//!   `dailyVolumes` (90 days) and `salesReport` (30 days) through the router,
//!   straight to the subgraph, and as one bare SQL statement.

mod dashboard;
mod report;

use std::path::PathBuf;

use anyhow::Context;

/// Options every scenario understands.
#[derive(Debug, Clone)]
pub struct Options {
    pub orders: usize,
    pub iterations: usize,
    /// Where the results go; the scenario's own section is replaced.
    pub out: Option<PathBuf>,
}

fn usage() -> &'static str {
    "usage: salesync-bench dashboard [--orders N] [--iterations N] [--out FILE]"
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let scenario = args.next().context(usage())?;
    let mut options = Options {
        orders: 50_000,
        iterations: 300,
        out: None,
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--orders" => options.orders = value.parse().context("--orders")?,
            "--iterations" => options.iterations = value.parse().context("--iterations")?,
            "--out" => options.out = Some(PathBuf::from(value)),
            _ => anyhow::bail!("unknown option {flag}; {}", usage()),
        }
    }
    let section = match scenario.as_str() {
        "dashboard" => dashboard::run(&options).await?,
        _ => anyhow::bail!("unknown scenario {scenario:?}; {}", usage()),
    };
    println!("\n{}", section.markdown);
    if let Some(out) = &options.out {
        report::write_section(out, &section)?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
