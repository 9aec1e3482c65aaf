//! Growth: the same screens with 1,000 orders of history and with 50,000.
//! A restaurant's first month and its second year must feel the same: the
//! dashboard reads per-day totals, and the open-tables screen reads only
//! what is open.
//!
//! The history is made the way the dashboard scenario makes it (sales
//! published as events and counted by the dashboard's own consumer) and,
//! for the order subgraph, written as paid orders with a line each straight
//! into its database: placing 50,000 orders one by one would take the
//! scenario most of an hour. Twelve tables are open throughout, through
//! the API.

use std::time::Instant;

use anyhow::Context;
use chrono::{NaiveDate, TimeDelta, Utc};
use salesync_tests::Client;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::json;
use uuid::Uuid;

use crate::{
    Options,
    dashboard::{
        DAILY, DAYS, LAST_DAY, MENU, REPORT, generate, publish_sales, system_with_restaurant,
        wait_until_counted,
    },
    report::{Samples, Section, machine, ms},
};

const FIRST: usize = 1_000;
const OPEN_TABLES: &str =
    "{ openOrders { tableNo total version lines { item { name } quantity amount } } }";
const PLACE: &str = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 2 }]) { id } }";

/// Paid orders of the past `DAYS` days, one line each, as the order
/// subgraph stores them after a checkout.
const PAID_ORDERS: &str = "\
WITH made AS ( \
  INSERT INTO orders (id, store_id, table_no, status, total, version, opened_at, updated_at, closed_at, sale_id) \
  SELECT gen_random_uuid(), $1, 1 + g % 12, 'PAID', $3, 3, at, at, at + interval '45 minutes', gen_random_uuid() \
  FROM (SELECT g, now() - (g % $4) * interval '1 day' - interval '3 hours' AS at \
        FROM generate_series(1, $2::int) AS g) AS history \
  RETURNING id, total) \
INSERT INTO order_lines (id, order_id, item_id, position, name, unit_price, quantity, amount) \
SELECT gen_random_uuid(), made.id, $5, 0, $6, made.total, 1, made.total FROM made";

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    anyhow::ensure!(options.orders > FIRST, "--orders must be more than {FIRST}");
    let (system, shop, items, store_id) = system_with_restaurant().await?;
    for table in 1..=12 {
        shop.client
            .query(
                PLACE,
                json!({ "t": table, "i": shop.items[table as usize % 24] }),
            )
            .await
            .data_or_panic();
    }
    let orders_db = system.database("order").await;
    let last = NaiveDate::from_ymd_opt(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2).context("date")?;
    let first = last - TimeDelta::days(DAYS - 1);

    let mut measured = Vec::new();
    let mut history = 0;
    for size in [FIRST, options.orders] {
        let more = size - history;
        eprintln!("adding {more} orders of history (to {size})...");
        let started = Instant::now();
        let (events, _, _) = generate(more, store_id, &items, first)?;
        publish_sales(&system, &events).await?;
        paid_orders(&orders_db, store_id, more, items[0]).await?;
        wait_until_counted(&shop.client, first, last, size).await?;
        history = size;
        eprintln!(
            "  loaded in {:.1} s; measuring...",
            started.elapsed().as_secs_f64()
        );
        orders_db
            .execute_unprepared("ANALYZE orders, order_lines")
            .await?;
        measured.push(screens(&shop.client, last, options.iterations).await?);
    }

    let mut table = format!(
        "| screen | {FIRST} orders: median ms | p99 ms | {} orders: median ms | p99 ms | median, {} ÷ {FIRST} |\n\
         |---|---|---|---|---|---|\n",
        options.orders, options.orders
    );
    let mut problems = Vec::new();
    for (i, name) in SCREENS.iter().enumerate() {
        let (small, large) = (&measured[0][i], &measured[1][i]);
        let ratio = large.median().as_secs_f64() / small.median().as_secs_f64();
        if ratio > 2.0 {
            problems.push(format!(
                "{name}: {ratio:.2}× slower with {} orders",
                options.orders
            ));
        }
        table.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {ratio:.2}× |\n",
            ms(small.median()),
            ms(small.percentile(99.0)),
            ms(large.median()),
            ms(large.percentile(99.0)),
        ));
    }
    let markdown = format!(
        "## Growth: the same screens at {FIRST} and {orders} orders\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench growth` (release builds; PostgreSQL on 127.0.0.1; the \
           router and every subgraph as the test harness starts them)\n\
         - Run: {date}\n\
         - Data: one store with {} dishes and 12 open tables (through the API); a history of \
           paid orders over {DAYS} days, first {FIRST}, then {orders}: on the dashboard as \
           `SaleCompleted` events its consumer counted, in the order subgraph as paid orders \
           with a line each written to its database\n\
         - Each round reads every screen once, in turn, through the router; {iterations} \
           rounds after 20 to warm up, at each size.\n\n\
         {table}\n\
         Goal: a screen's median at {orders} orders within 2× of the same at {FIRST}.\n",
        MENU.len(),
        machine = machine(),
        orders = options.orders,
        date = Utc::now().format("%Y-%m-%d"),
        iterations = options.iterations,
    );
    Ok(Section {
        name: "growth",
        markdown,
        problems,
    })
}

const SCREENS: [&str; 3] = [
    "open tables (`openOrders`)",
    "dashboard: `dailyVolumes`, 90 days",
    "dashboard: `salesReport`, 30 days",
];

/// Each screen's latencies through the router.
async fn screens(
    client: &Client,
    last: NaiveDate,
    iterations: usize,
) -> anyhow::Result<[Samples; 3]> {
    let daily = json!({ "f": last - TimeDelta::days(89), "t": last });
    let report = json!({ "f": last - TimeDelta::days(29), "t": last });
    let calls = [(OPEN_TABLES, json!({})), (DAILY, daily), (REPORT, report)];
    let mut samples: [Samples; 3] = Default::default();
    for round in 0..20 + iterations {
        for ((query, variables), taken) in calls.iter().zip(samples.iter_mut()) {
            let started = Instant::now();
            let answer = client.query(query, variables.clone()).await;
            anyhow::ensure!(answer.errors().is_empty(), "{:?}", answer.errors());
            if round >= 20 {
                taken.push(started.elapsed());
            }
        }
    }
    Ok(samples)
}

/// Writes `count` paid orders of `store_id` into the order subgraph's database.
async fn paid_orders(
    db: &DatabaseConnection,
    store_id: Uuid,
    count: usize,
    item: Uuid,
) -> anyhow::Result<()> {
    let (_, price, _, _) = MENU[0];
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        PAID_ORDERS,
        [
            store_id.into(),
            i32::try_from(count)?.into(),
            price.into(),
            (DAYS as i32).into(),
            item.into(),
            MENU[0].0.into(),
        ],
    ))
    .await?;
    Ok(())
}
