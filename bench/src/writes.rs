//! Writes under contention, through the router, with every subgraph its own
//! process on PostgreSQL and the broker: `placeOrder` and `checkout` at 10,
//! 50 and 200 concurrent clients. Each client sends its next call as soon
//! as the last one answered.
//!
//! - `placeOrder`: the clients share the store's 12 tables (client `n`
//!   adds to table `n % 12 + 1`), as terminals of a busy floor do: many
//!   additions wait for one table's turn, and none may be refused. The
//!   dishes go round the menu, so a table's order grows to the whole menu
//!   and no line nears the largest quantity one order may hold.
//! - `checkout`: each client owns a table (the store has 200), orders one
//!   dish there and pays it by card with a fresh idempotency key.
//! - while the `placeOrder` clients write, one more terminal follows
//!   `tableChanged` through the router: how soon each change reaches it
//!   when events pile up (the outbox relay, the broker, the feed).
//!
//! Every row starts from empty tables: what the last row left open is
//! cancelled first.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use salesync_tests::{Client, Shop, WsSubscription, restaurant::Log};
use serde_json::json;
use tokio::{sync::mpsc, task::JoinSet};
use uuid::Uuid;

use crate::{
    Options,
    clients::{Row, for_a_while},
    fanout::{Deliveries, Sent, TABLES, delays, heard_within, listen},
    procfs::{CpuSpans, SystemCpu, ms_per_call},
    report::{Section, machine, ms},
    soak::{Restaurant, restaurant_of_processes},
};

const LEVELS: [usize; 3] = [10, 50, 200];
const PLACE: &str = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 1 }]) { id version total } }";
const CHECKOUT: &str = "mutation($input: CheckoutInput!) { checkout(input: $input) { id amount } }";

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    let restaurant = restaurant_of_processes(12, &[]).await?;
    let Restaurant {
        broker,
        system,
        shop,
        upkeep,
    } = &restaurant;
    let mut cpu = CpuSpans::new(SystemCpu::new(&system.process_ids(), broker)?)?;
    shop.client
        .query(
            "mutation { updateStore(input: { tableCount: 200 }) { tableCount } }",
            json!({}),
        )
        .await
        .data_or_panic();
    // A terminal showing the floor while the others write.
    let (heard_tx, mut heard_rx) = mpsc::unbounded_channel();
    // Declared after the system, so dropped before it.
    let mut listeners = JoinSet::new();
    listen(
        &mut listeners,
        WsSubscription::start(&system.router_ws_url(), &shop.token, TABLES).await,
        heard_tx,
    );
    tokio::time::sleep(Duration::from_secs(3)).await;

    let seconds = Duration::from_secs(options.seconds);
    // Each row, and for `placeOrder` how soon the watching terminal heard
    // each change; the CPU every process used during row `i` is span `i`.
    let mut rows: Vec<(Row, Option<Deliveries>)> = Vec::new();
    // The row during which the terminal's subscription ended, if it did: it
    // hears `checkout`'s changes too, untimed, and must not lose them either.
    let mut cut_off = None;
    for clients in LEVELS {
        clear_tables(&shop.client).await;
        let _ = heard_within(&mut heard_rx, Duration::ZERO).await;
        cpu.restart()?;
        let (row, sent) = busy_floor(shop, clients, seconds).await?;
        cpu.add_to(rows.len())?;
        let heard = heard_within(&mut heard_rx, Duration::from_secs(3)).await;
        note_cut_off(&mut cut_off, &mut listeners, &row);
        rows.push((row, Some(delays(&sent, &heard, 1))));
        clear_tables(&shop.client).await;
        let (client, items) = (shop.client.clone(), shop.items.clone());
        cpu.restart()?;
        let row = for_a_while("checkout", "router", clients, seconds, move |n, log| {
            let (client, item) = (client.clone(), items[n % items.len()].clone());
            async move { pay_one(&client, &log, (n + 1) as i64, &item).await }
        })
        .await?;
        cpu.add_to(rows.len())?;
        note_cut_off(&mut cut_off, &mut listeners, &row);
        rows.push((row, None));
    }

    let mut problems = Vec::new();
    if let Some(row) = cut_off {
        problems.push(format!(
            "the terminal following tableChanged was cut off during {row}"
        ));
    }
    let mut table = String::from(
        "| operation | clients | calls | per second | failed | p50 ms | p99 ms | CPU ms per call | heard: p50 ms | p99 ms |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (span, (row, heard)) in rows.iter().enumerate() {
        let failed = row.failed();
        if failed > 0 {
            problems.push(format!(
                "{} at {} clients: {:?}",
                row.operation, row.clients, row.errors
            ));
        }
        let heard = match heard {
            Some(heard) => {
                if heard.missing > 0 {
                    problems.push(format!(
                        "{} at {} clients: {} changes never heard",
                        row.operation, row.clients, heard.missing
                    ));
                }
                format!("{} | {}", heard.all.ms_at(50.0), heard.all.ms_at(99.0))
            }
            None => " | ".to_string(),
        };
        table.push_str(&format!(
            "| {} | {} | {} | {:.0} | {failed} | {} | {} | {:.2} | {heard} |\n",
            row.operation,
            row.clients,
            row.samples.len(),
            row.per_second(),
            ms(row.samples.median()),
            ms(row.samples.percentile(99.0)),
            ms_per_call(cpu.total(span), row.samples.len()),
        ));
    }
    let columns: Vec<(String, usize)> = rows
        .iter()
        .map(|(row, _)| {
            let label = format!("{} {}", row.operation, row.clients);
            (label, row.samples.len())
        })
        .collect();
    let verdict = if problems.is_empty() {
        "no call failed".to_string()
    } else {
        format!("**failed calls**: {}", problems.join("; "))
    };
    let markdown = format!(
        "## Writes: placeOrder and checkout at 10, 50 and 200 clients\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench writes --seconds {seconds}` (release builds; PostgreSQL on \
           127.0.0.1; a tansu broker; each subgraph its own process behind the router; the load \
           generator on the same 2 cores)\n\
         - Database upkeep: {upkeep}\n\
         - Run: {date}\n\
         - Load: each client sends its next call when the last one answered, for {seconds} s per \
           row, from empty tables. `placeOrder` clients share the store's 12 tables (one dish each \
           time, round the menu of 12); `checkout` clients each own one of 200 tables, order one \
           dish and pay it by card. CPU per call is the CPU time every process of the system \
           (subgraphs, router, broker, PostgreSQL; not the load generator) used during the row, \
           over its successful calls: it moves less than the rate with what else the machine \
           is doing. Heard: one more terminal follows `tableChanged` through the router while \
           the `placeOrder` clients write; the time from each call's reply to that terminal \
           receiving the change. It listens through the `checkout` rows too, untimed; its \
           subscription ending in any row is a failure.\n\
         - Result: {verdict}\n\n\
         {table}\n\
         Goals: `placeOrder` at 50 clients ≥ 1,500 per second with p99 under 50 ms, and no \
         failure at any level.\n\n\
         CPU ms per call by process, each row's CPU time over its successful calls (a \
         `checkout` call includes the `placeOrder` before it; PostgreSQL is all its \
         processes):\n\n\
         {by_process}",
        by_process = cpu.table(&columns),
        upkeep = upkeep.describe(),
        machine = machine(),
        seconds = options.seconds,
        date = chrono::Utc::now().date_naive(),
    );
    Ok(Section {
        name: "writes",
        markdown,
        problems,
    })
}

/// Names `row` in `cut_off` when the terminal's subscription is found ended
/// after it, and no earlier row was named.
fn note_cut_off(cut_off: &mut Option<String>, listeners: &mut JoinSet<()>, row: &Row) {
    if cut_off.is_none() && listeners.try_join_next().is_some() {
        *cut_off = Some(format!("{} at {} clients", row.operation, row.clients));
    }
}

/// `clients` terminals adding to the store's 12 tables for `seconds`, one
/// dish at a time, round the menu: `placeOrder` as a busy floor sends it.
/// Returns the row and every change made, with when its reply came.
pub(crate) async fn busy_floor(
    shop: &Shop,
    clients: usize,
    seconds: Duration,
) -> anyhow::Result<(Row, Vec<Sent>)> {
    let (client, items) = (shop.client.clone(), shop.items.clone());
    let dishes = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(Mutex::new(Vec::new()));
    let replies = sent.clone();
    let row = for_a_while("placeOrder", "router", clients, seconds, move |n, log| {
        let dish = dishes.fetch_add(1, Ordering::Relaxed) % items.len();
        let (client, item, replies) = (client.clone(), items[dish].clone(), replies.clone());
        async move {
            // The clients share the 12 tables.
            let table = (n % 12) as i64 + 1;
            let variables = json!({ "t": table, "i": item });
            if let Ok(reply) = log.call("placeOrder", &client, PLACE, variables).await {
                let order = &reply.body["data"]["placeOrder"];
                replies.lock().expect("the replies").push((
                    order["id"].as_str().unwrap_or_default().to_string(),
                    order["version"].as_i64().unwrap_or_default(),
                    Instant::now(),
                ));
            }
        }
    })
    .await?;
    let sent = std::mem::take(&mut *sent.lock().expect("the replies"));
    Ok((row, sent))
}

/// Cancels every open order, so the next row starts from empty tables.
async fn clear_tables(client: &Client) {
    let response = client.query("{ openOrders { tableNo } }", json!({})).await;
    let open = response.data_or_panic();
    for order in open["openOrders"].as_array().into_iter().flatten() {
        client
            .query(
                "mutation($t: Int!) { cancelOrder(tableNo: $t) { id } }",
                json!({ "t": order["tableNo"] }),
            )
            .await
            .data_or_panic();
    }
}

/// Orders one dish at `table` and pays the order; only the checkout's
/// latency counts, and a failed order counts as a failed checkout.
pub(crate) async fn pay_one(client: &Client, log: &Log, table: i64, item: &str) {
    let Ok(placed) = log
        .call(
            "placeOrder (before checkout)",
            client,
            PLACE,
            json!({ "t": table, "i": item }),
        )
        .await
    else {
        return;
    };
    let total = placed.body["data"]["placeOrder"]["total"].clone();
    let input = json!({
        "tableNo": table,
        "idempotencyKey": Uuid::new_v4().to_string(),
        "payments": [{ "method": "CARD", "amount": total }],
    });
    let _ = log
        .call("checkout", client, CHECKOUT, json!({ "input": input }))
        .await;
}
