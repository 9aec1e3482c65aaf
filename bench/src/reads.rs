//! A one-subgraph read through the router and straight to the subgraph,
//! side by side at 10 and 50 concurrent clients: the menu
//! (`categories { items }`, answered by the item subgraph alone). What the
//! router adds is the difference. Each client is a store of its own: the
//! router merges identical requests in flight (same query, same token), so
//! one shared store would measure that instead.
//!
//! Every subgraph runs as its own process, as in the writes scenario, so
//! the CPU each process spends per read shows where a read's time goes.

use std::time::Duration;

use serde_json::json;

use crate::{
    Options,
    clients::{Row, for_a_while},
    dashboard::korean_restaurant,
    procfs::{CpuSpans, SystemCpu, ms_per_call},
    report::{Section, machine, ms},
    soak::{Restaurant, system_of_processes},
};

const LEVELS: [usize; 2] = [10, 50];
const MENU: &str = "{ categories { name items { id name price soldOut } } }";

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    let most = LEVELS.iter().copied().max().unwrap_or(1);
    let restaurant = system_of_processes(&[], async |system| {
        eprintln!("opening {most} stores, each with its menu...");
        let mut shops = Vec::new();
        for _ in 0..most {
            shops.push(korean_restaurant(system, 24).await);
        }
        shops
    })
    .await?;
    let Restaurant {
        broker,
        system,
        shop: shops,
        upkeep,
    } = &restaurant;
    let mut cpu = CpuSpans::new(SystemCpu::new(&system.process_ids(), broker)?)?;
    let routed: Vec<_> = shops.iter().map(|shop| shop.client.clone()).collect();
    let direct: Vec<_> = shops
        .iter()
        .map(|shop| system.direct("item").with_token(&shop.token))
        .collect();
    let seconds = Duration::from_secs(options.seconds);

    // Row `i`'s CPU is span `i`.
    let mut rows: Vec<Row> = Vec::new();
    for clients in LEVELS {
        for (via, stores) in [("router", &routed), ("subgraph directly", &direct)] {
            let stores = stores.clone();
            cpu.restart()?;
            let row = for_a_while("menu", via, clients, seconds, move |n, log| {
                let client = stores[n].clone();
                async move {
                    let _ = log.call("menu", &client, MENU, json!({})).await;
                }
            })
            .await?;
            cpu.add_to(rows.len())?;
            rows.push(row);
        }
    }

    let mut problems = Vec::new();
    let mut table = String::from(
        "| clients | via | calls | per second | failed | p50 ms | p99 ms | CPU ms per call | direct ÷ router rate |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for (pair_no, pair) in rows.chunks(2).enumerate() {
        let [router, direct] = pair else { continue };
        for (row_no, row) in pair.iter().enumerate() {
            let span = pair_no * 2 + row_no;
            if row.failed() > 0 {
                problems.push(format!("{} at {}: {:?}", row.via, row.clients, row.errors));
            }
            let ratio = if row.via == "router" {
                format!("{:.2}×", direct.per_second() / router.per_second())
            } else {
                String::new()
            };
            table.push_str(&format!(
                "| {} | {} | {} | {:.0} | {} | {} | {} | {:.2} | {ratio} |\n",
                row.clients,
                row.via,
                row.samples.len(),
                row.per_second(),
                row.failed(),
                ms(row.samples.median()),
                ms(row.samples.percentile(99.0)),
                ms_per_call(cpu.total(span), row.samples.len()),
            ));
        }
    }
    let columns: Vec<(String, usize)> = rows
        .iter()
        .map(|row| (format!("{} {}", row.clients, row.via), row.samples.len()))
        .collect();
    let markdown = format!(
        "## Reads: the menu through the router and straight to the item subgraph\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench reads --seconds {seconds}` (release builds; PostgreSQL on \
           127.0.0.1; a tansu broker; each subgraph its own process behind the router; the load \
           generator on the same 2 cores)\n\
         - Database upkeep: {upkeep}\n\
         - Run: {date}\n\
         - Query: `{MENU}`, 24 items in one category. Each client is a store of its own with \
           its owner's token (identical requests in flight would be merged by the router), \
           and sends its next call when the last one answered; {seconds} s per row, the \
           router's row first. CPU per call is the CPU time every process of the system \
           (subgraphs, router, broker, PostgreSQL; not the load generator) used during the \
           row, over its successful calls.\n\n\
         {table}\n\
         Goals: ≥ 6,000 per second through the router; the router within 1.2× of direct.\n\n\
         CPU ms per call by process, each row's CPU time over its successful calls \
         (PostgreSQL is all its processes):\n\n\
         {by_process}",
        by_process = cpu.table(&columns),
        upkeep = upkeep.describe(),
        machine = machine(),
        seconds = options.seconds,
        date = chrono::Utc::now().date_naive(),
    );
    Ok(Section {
        name: "reads",
        markdown,
        problems,
    })
}
