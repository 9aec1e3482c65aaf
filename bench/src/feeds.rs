//! The feeds' fetch wait, weighed: how long a live feed's fetch may wait at
//! the broker (`SALESYNC_KAFKA__LIVE_FETCH_WAIT_MS`) against what it costs.
//! tansu answers a waiting fetch only when the wait is over, so a shorter
//! wait brings live updates sooner and costs a fetch per feed that often,
//! also while nothing happens.
//!
//! Each variant starts the system afresh (every subgraph its own process,
//! a broker of its own) and measures, in this order: the CPU every process
//! uses while the system is idle; `tableChanged` from the mutation's reply
//! to 100 subscribers; `placeOrder` at 50 clients. The variants take turns,
//! twice, so a drift of the machine shows as a spread within a variant.

use std::time::Duration;

use salesync_tests::OwnBroker;

use crate::{
    Options,
    clients::Row,
    fanout::{Deliveries, deliveries},
    procfs::{TICKS_PER_SECOND, cpu_ticks},
    report::{Section, machine, ms},
    soak::{Restaurant, restaurant_of_processes},
    writes::busy_floor,
};

const WAITS_MS: [u32; 3] = [20, 100, 500];
const ROUNDS: usize = 2;
const IDLE: Duration = Duration::from_secs(20);
const SUBSCRIBERS: usize = 100;
const CHANGES: usize = 10;
const WRITERS: usize = 50;

/// One variant's figures in one round.
struct Measured {
    wait_ms: u32,
    /// Share of one core while idle: the subgraphs together, the router, the broker.
    idle_cpu: [f64; 3],
    deliveries: Deliveries,
    writes: Row,
}

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    let mut measured = Vec::new();
    for round in 1..=ROUNDS {
        for wait_ms in WAITS_MS {
            eprintln!("round {round}: feeds' fetch wait {wait_ms} ms");
            measured.push(variant(wait_ms, options).await?);
        }
    }

    let mut problems = Vec::new();
    let mut table = String::from(
        "| feeds' fetch wait | idle CPU: subgraphs | router | broker | tableChanged p50 ms | p99 ms | missing | placeOrder per s (50 clients) | p99 ms | failed |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for m in &measured {
        let d = &m.deliveries;
        if d.missing > 0 || d.followed < SUBSCRIBERS {
            problems.push(format!(
                "{} ms: {} of {SUBSCRIBERS} followed, {} deliveries missing",
                m.wait_ms, d.followed, d.missing
            ));
        }
        if m.writes.failed() > 0 {
            problems.push(format!(
                "{} ms: placeOrder {:?}",
                m.wait_ms, m.writes.errors
            ));
        }
        table.push_str(&format!(
            "| {} ms | {:.1} % | {:.1} % | {:.1} % | {} | {} | {} | {:.0} | {} | {} |\n",
            m.wait_ms,
            m.idle_cpu[0],
            m.idle_cpu[1],
            m.idle_cpu[2],
            ms(d.all.median()),
            ms(d.all.percentile(99.0)),
            d.missing,
            m.writes.per_second(),
            ms(m.writes.samples.percentile(99.0)),
            m.writes.failed(),
        ));
    }
    let markdown = format!(
        "## Feeds: the fetch wait, weighed\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench feeds --seconds {seconds}` (release builds; PostgreSQL on \
           127.0.0.1; a tansu broker; each subgraph its own process behind the router; the load \
           generator on the same 2 cores)\n\
         - Run: {date}\n\
         - Each row starts the system afresh with `SALESYNC_KAFKA__LIVE_FETCH_WAIT_MS` set, then \
           measures: the CPU of every process over {idle} s with nothing happening (a share of \
           one core, from `/proc`); `tableChanged` from the mutation's reply to each of \
           {SUBSCRIBERS} subscribers through the router, {CHANGES} changes 500 ms apart; \
           `placeOrder` from {WRITERS} clients sharing 12 tables for {seconds} s. The variants \
           take turns, {ROUNDS} rounds.\n\n\
         {table}",
        machine = machine(),
        seconds = options.seconds,
        date = chrono::Utc::now().date_naive(),
        idle = IDLE.as_secs(),
    );
    Ok(Section {
        name: "feeds",
        markdown,
        problems,
    })
}

async fn variant(wait_ms: u32, options: &Options) -> anyhow::Result<Measured> {
    let wait = wait_ms.to_string();
    let restaurant =
        restaurant_of_processes(12, &[("SALESYNC_KAFKA__LIVE_FETCH_WAIT_MS", &wait)]).await?;
    let Restaurant {
        broker,
        system,
        shop,
        ..
    } = &restaurant;
    // Start-up's own work (migrations, first fetches, pools) settles first.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_cpu = idle_cpu(broker, &system.process_ids()).await?;
    eprintln!(
        "  idle CPU: subgraphs {:.1} %, router {:.1} %, broker {:.1} %",
        idle_cpu[0], idle_cpu[1], idle_cpu[2]
    );

    let deliveries = deliveries(system, shop, SUBSCRIBERS, CHANGES, None).await?;
    eprintln!(
        "  tableChanged p50 {} ms, p99 {} ms, missing {}",
        ms(deliveries.all.median()),
        ms(deliveries.all.percentile(99.0)),
        deliveries.missing
    );

    let (writes, _) = busy_floor(shop, WRITERS, Duration::from_secs(options.seconds)).await?;
    // The system stops before its broker (see `Restaurant`).
    drop(restaurant);
    Ok(Measured {
        wait_ms,
        idle_cpu,
        deliveries,
        writes,
    })
}

/// The percent of one core the subgraphs (together), the router and the
/// broker use over [`IDLE`].
async fn idle_cpu(
    broker: &OwnBroker,
    processes: &[(&'static str, u32)],
) -> anyhow::Result<[f64; 3]> {
    let broker = broker
        .pid()
        .ok_or_else(|| anyhow::anyhow!("the broker is not running"))?;
    let groups = |processes: &[(&'static str, u32)]| -> anyhow::Result<[u64; 3]> {
        let mut ticks = [0; 3];
        for (name, pid) in processes {
            ticks[usize::from(*name == "router")] += cpu_ticks(*pid)?;
        }
        ticks[2] = cpu_ticks(broker)?;
        Ok(ticks)
    };
    let before = groups(processes)?;
    tokio::time::sleep(IDLE).await;
    let after = groups(processes)?;
    let percent =
        |i: usize| 100.0 * (after[i] - before[i]) as f64 / TICKS_PER_SECOND / IDLE.as_secs_f64();
    Ok([percent(0), percent(1), percent(2)])
}
