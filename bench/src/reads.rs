//! A one-subgraph read through the router and straight to the subgraph,
//! side by side at 10 and 50 concurrent clients: the menu
//! (`categories { items }`, answered by the item subgraph alone). What the
//! router adds is the difference. Each client is a store of its own: the
//! router merges identical requests in flight (same query, same token), so
//! one shared store would measure that instead.

use std::time::Duration;

use serde_json::json;

use crate::{
    Options,
    clients::{Row, for_a_while},
    dashboard::korean_restaurant,
    report::{Section, machine, ms},
};

const LEVELS: [usize; 2] = [10, 50];
const MENU: &str = "{ categories { name items { id name price soldOut } } }";

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    eprintln!("starting the system (subgraphs on PostgreSQL, the router)...");
    let system = salesync_tests::TestSystem::start().await;
    let most = LEVELS.iter().copied().max().unwrap_or(1);
    eprintln!("opening {most} stores, each with its menu...");
    let mut shops = Vec::new();
    for _ in 0..most {
        shops.push(korean_restaurant(&system, 24).await);
    }
    let routed: Vec<_> = shops.iter().map(|shop| shop.client.clone()).collect();
    let direct: Vec<_> = shops
        .iter()
        .map(|shop| system.direct("item").with_token(&shop.token))
        .collect();
    let seconds = Duration::from_secs(options.seconds);

    let mut rows: Vec<Row> = Vec::new();
    for clients in LEVELS {
        for (via, stores) in [("router", &routed), ("subgraph directly", &direct)] {
            let stores = stores.clone();
            rows.push(
                for_a_while("menu", via, clients, seconds, move |n, log| {
                    let client = stores[n].clone();
                    async move {
                        let _ = log.call("menu", &client, MENU, json!({})).await;
                    }
                })
                .await?,
            );
        }
    }

    let mut problems = Vec::new();
    let mut table = String::from(
        "| clients | via | calls | per second | failed | p50 ms | p99 ms | direct ÷ router rate |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for pair in rows.chunks(2) {
        let [router, direct] = pair else { continue };
        for row in pair {
            if row.failed() > 0 {
                problems.push(format!("{} at {}: {:?}", row.via, row.clients, row.errors));
            }
            let ratio = if row.via == "router" {
                format!("{:.2}×", direct.per_second() / router.per_second())
            } else {
                String::new()
            };
            table.push_str(&format!(
                "| {} | {} | {} | {:.0} | {} | {} | {} | {ratio} |\n",
                row.clients,
                row.via,
                row.samples.len(),
                row.per_second(),
                row.failed(),
                ms(row.samples.median()),
                ms(row.samples.percentile(99.0)),
            ));
        }
    }
    let markdown = format!(
        "## Reads: the menu through the router and straight to the item subgraph\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench reads --seconds {seconds}` (release builds; PostgreSQL on \
           127.0.0.1; the router and every subgraph as the test harness starts them; the load \
           generator on the same 2 cores)\n\
         - Run: {date}\n\
         - Query: `{MENU}`, 24 items in one category. Each client is a store of its own with \
           its owner's token (identical requests in flight would be merged by the router), \
           and sends its next call when the last one answered; {seconds} s per row, the \
           router's row first.\n\n\
         {table}\n\
         Goals: ≥ 6,000 per second through the router; the router within 1.2× of direct.\n",
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
