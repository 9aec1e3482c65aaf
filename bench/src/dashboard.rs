//! The dashboard with 50,000 paid orders: `dailyVolumes` over 90 days and
//! `salesReport` over 30 days through the router, straight to the subgraph,
//! and as one bare SQL statement on the same database, interleaved so each
//! sees the same conditions.
//!
//! Loading: a store and its menu are made through the API; the orders are
//! then published as `SaleCompleted` (and a few `RefundMade`) events on the
//! system's bus, exactly as the sale subgraph publishes them, and the
//! dashboard's own consumer counts them: the real ingestion path, without
//! placing 50,000 orders one by one at one business day.

use std::time::{Duration, Instant};

use anyhow::Context;
use chrono::{Datelike, NaiveDate, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng, seq::SliceRandom};
use salesync_common::events::{Event, Outgoing, topics};
use salesync_tests::{Client, Shop, TestSystem};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    Options,
    report::{Samples, Section, machine, ms},
};

/// A Korean restaurant's menu: name, price and unit cost in KRW, and how
/// often it is ordered relative to the others.
pub(crate) const MENU: [(&str, i64, i64, u32); 24] = [
    ("Bibimbap", 11_000, 3_800, 120),
    ("Kimchi jjigae", 9_000, 2_900, 110),
    ("Doenjang jjigae", 9_000, 2_600, 70),
    ("Bulgogi", 16_000, 7_200, 90),
    ("Jeyuk bokkeum", 12_000, 4_300, 85),
    ("Dakgalbi", 15_000, 6_100, 60),
    ("Samgyeopsal (200 g)", 17_000, 8_900, 95),
    ("Galbitang", 15_000, 8_300, 40),
    ("Naengmyeon", 10_000, 3_100, 55),
    ("Japchae", 13_000, 4_000, 45),
    ("Haemul pajeon", 16_000, 5_900, 50),
    ("Tteokbokki", 7_000, 1_700, 80),
    ("Gimbap", 5_000, 1_600, 75),
    ("Mandu (6)", 7_000, 2_200, 60),
    ("Sundubu jjigae", 10_000, 3_300, 65),
    ("Yukgaejang", 12_000, 4_800, 30),
    ("Gyeran jjim", 5_000, 900, 40),
    ("Japgokbap", 2_000, 500, 70),
    ("Soju", 5_000, 1_400, 130),
    ("Makgeolli", 6_000, 1_900, 50),
    ("Beer", 6_000, 2_400, 90),
    ("Sikhye", 3_000, 600, 25),
    ("Barley tea", 2_000, 200, 35),
    ("Patbingsu", 12_000, 3_500, 15),
];

/// 180 business days ending here: a fixed span, so runs compare.
pub(crate) const LAST_DAY: (i32, u32, u32) = (2026, 11, 23);
pub(crate) const DAYS: i64 = 180;
const REFUND_SHARE: f64 = 0.03;

pub(crate) const DAILY: &str = "query($f: Date!, $t: Date!) { dailyVolumes(from: $f, to: $t) { date salesVolume profit orderCount } }";
pub(crate) const REPORT: &str = "query($f: Date!, $t: Date!) { salesReport(from: $f, to: $t) { salesVolume profit items { item { id } quantity salesVolume cost profit } } }";

/// The same aggregate as `dailyVolumes`, as one statement.
const DAILY_SQL: &str = "\
SELECT s.business_date, s.sales_volume, \
  s.sales_volume - COALESCE(SUM(d.quantity * COALESCE(ic.cost, 0)), 0)::bigint AS profit, s.order_count \
FROM daily_sales s \
LEFT JOIN daily_item_sales d ON d.store_id = s.store_id AND d.business_date = s.business_date \
LEFT JOIN item_costs ic ON ic.store_id = d.store_id AND ic.item_id = d.item_id \
WHERE s.store_id = $1 AND s.business_date BETWEEN $2 AND $3 \
GROUP BY s.business_date, s.sales_volume, s.order_count \
ORDER BY s.business_date";

/// The same aggregate as `salesReport`, as one statement.
const REPORT_SQL: &str = "\
SELECT d.item_id, SUM(d.quantity)::bigint AS quantity, SUM(d.sales_volume)::bigint AS sales_volume, \
  (SUM(d.quantity) * COALESCE(ic.cost, 0))::bigint AS cost \
FROM daily_item_sales d \
LEFT JOIN item_costs ic ON ic.store_id = d.store_id AND ic.item_id = d.item_id \
WHERE d.store_id = $1 AND d.business_date BETWEEN $2 AND $3 \
GROUP BY d.item_id, ic.cost \
ORDER BY sales_volume DESC";

/// A store with the first `items` dishes of [`MENU`] on its menu, each with
/// its unit cost set.
pub(crate) async fn korean_restaurant(system: &TestSystem, items: usize) -> Shop {
    let menu: Vec<(&str, i64)> = MENU
        .iter()
        .take(items)
        .map(|(n, p, _, _)| (*n, *p))
        .collect();
    let shop = system.shop(&menu).await;
    let costs: Vec<Value> = shop
        .items
        .iter()
        .zip(MENU)
        .map(|(id, (_, _, cost, _))| json!({ "itemId": id, "cost": cost }))
        .collect();
    shop.client
        .query(
            "mutation($c: [ItemCostInput!]!) { setItemCosts(costs: $c) { id } }",
            json!({ "c": costs }),
        )
        .await
        .data_or_panic();
    shop
}

/// The system as the test harness starts it (subgraphs in this process on
/// PostgreSQL, the router), and a store with the whole [`MENU`]: the shop,
/// its item ids and its store id.
pub(crate) async fn system_with_restaurant() -> anyhow::Result<(TestSystem, Shop, Vec<Uuid>, Uuid)>
{
    eprintln!("starting the system (subgraphs on PostgreSQL, the router)...");
    let system = TestSystem::start().await;
    let shop = korean_restaurant(&system, MENU.len()).await;
    let items: Vec<Uuid> = shop
        .items
        .iter()
        .map(|id| id.parse())
        .collect::<Result<_, _>>()?;
    let store_id: Uuid = shop.store_id.parse()?;
    Ok((system, shop, items, store_id))
}

/// Publishes sale events as the sale subgraph's relay would: a few
/// hundred at a time.
pub(crate) async fn publish_sales(system: &TestSystem, events: &[Event]) -> anyhow::Result<()> {
    let encoded = events
        .iter()
        .map(|event| Ok((event.key(), serde_json::to_vec(event)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let bus = system.bus().await;
    for chunk in encoded.chunks(500) {
        let batch: Vec<Outgoing> = chunk
            .iter()
            .map(|(key, payload)| Outgoing {
                topic: topics::SALES,
                key,
                payload,
                replayed: false,
                epoch: 0,
            })
            .collect();
        bus.publish_all(&batch).await?;
    }
    Ok(())
}

pub async fn run(options: &Options) -> anyhow::Result<Section> {
    let (system, shop, items, store_id) = system_with_restaurant().await?;

    let last = NaiveDate::from_ymd_opt(LAST_DAY.0, LAST_DAY.1, LAST_DAY.2).context("date")?;
    let first = last - TimeDelta::days(DAYS - 1);
    let started = Instant::now();
    let (events, lines, refunds) = generate(options.orders, store_id, &items, first)?;
    publish_sales(&system, &events).await?;
    eprintln!(
        "published {} sales ({lines} lines) and {refunds} refunds; counting...",
        options.orders
    );
    wait_until_counted(&shop.client, first, last, options.orders).await?;
    let load = started.elapsed();
    eprintln!("loaded in {:.1} s", load.as_secs_f64());

    let direct = system.direct("dashboard").with_token(&shop.token);
    let db = system.database("dashboard").await;
    let daily_range = (last - TimeDelta::days(89), last);
    let report_range = (last - TimeDelta::days(29), last);
    check_same_answers(&shop.client, &db, store_id, daily_range, report_range).await?;

    let variants: [(&str, Variant); 6] = [
        (
            "dailyVolumes, 90 days — router",
            Variant::Graphql(&shop.client, DAILY, daily_range),
        ),
        (
            "dailyVolumes, 90 days — subgraph directly",
            Variant::Graphql(&direct, DAILY, daily_range),
        ),
        (
            "dailyVolumes, 90 days — bare SQL",
            Variant::Sql(&db, DAILY_SQL, store_id, daily_range),
        ),
        (
            "salesReport, 30 days — router",
            Variant::Graphql(&shop.client, REPORT, report_range),
        ),
        (
            "salesReport, 30 days — subgraph directly",
            Variant::Graphql(&direct, REPORT, report_range),
        ),
        (
            "salesReport, 30 days — bare SQL",
            Variant::Sql(&db, REPORT_SQL, store_id, report_range),
        ),
    ];
    let mut samples: Vec<Samples> = variants.iter().map(|_| Samples::default()).collect();
    let warm_up = 20;
    eprintln!(
        "measuring: {} rounds of {} variants...",
        options.iterations,
        variants.len()
    );
    for round in 0..warm_up + options.iterations {
        for ((_, variant), taken) in variants.iter().zip(samples.iter_mut()) {
            let took = variant.time().await?;
            if round >= warm_up {
                taken.push(took);
            }
        }
    }

    let mut table = String::from(
        "| query | median ms | p90 ms | p99 ms | median vs bare SQL |\n|---|---|---|---|---|\n",
    );
    for (i, ((name, _), taken)) in variants.iter().zip(&samples).enumerate() {
        let baseline = &samples[i - i % 3 + 2];
        table.push_str(&format!(
            "| {name} | {} | {} | {} | {:.2}× |\n",
            ms(taken.median()),
            ms(taken.percentile(90.0)),
            ms(taken.percentile(99.0)),
            taken.median().as_secs_f64() / baseline.median().as_secs_f64()
        ));
    }
    let markdown = format!(
        "## Dashboard: reports over 50,000 orders\n\n\
         - Machine: {machine}\n\
         - Command: `scripts/bench dashboard` (release builds; PostgreSQL on 127.0.0.1; \
           the router and every subgraph as the test harness starts them)\n\
         - Run: {date}\n\
         - Data: one store, {orders} paid orders with {lines} lines over {DAYS} business days \
           ({first} to {last}), {items} menu items ordered by popularity, {refunds} partial \
           refunds ({share:.0} %), all costs set\n\
         - Loading: the store and menu through the API; the sales published as \
           `SaleCompleted` / `RefundMade` events on the bus and counted by the dashboard's \
           own consumer: {load:.1} s for everything\n\
         - Each round runs every variant once, in turn; {iterations} rounds after {warm_up} \
           to warm up. \"bare SQL\" is one statement computing the same aggregate over the \
           read model, on its own connection to the same database.\n\n\
         {table}\n\
         Goal: through the router within 3× of the bare SQL at the median.\n",
        machine = machine(),
        date = Utc::now().format("%Y-%m-%d"),
        orders = options.orders,
        items = items.len(),
        share = REFUND_SHARE * 100.0,
        load = load.as_secs_f64(),
        iterations = options.iterations,
    );
    Ok(Section {
        name: "dashboard",
        markdown,
        problems: Vec::new(),
    })
}

/// Sales over `DAYS` days from `first` (more on Fridays and Saturdays), each
/// with 1–7 distinct items chosen by popularity; a few refunded in part on
/// the same or a later day. Returns the events, the line count and the
/// refund count. The same every run (a fixed seed).
pub(crate) fn generate(
    orders: usize,
    store_id: Uuid,
    items: &[Uuid],
    first: NaiveDate,
) -> anyhow::Result<(Vec<Event>, usize, usize)> {
    let mut rng = StdRng::seed_from_u64(2026);
    let weights: Vec<(usize, u32)> = MENU
        .iter()
        .enumerate()
        .map(|(i, (_, _, _, w))| (i, *w))
        .collect();
    let day_weight = |day: NaiveDate| match day.weekday().num_days_from_monday() {
        4 | 5 => 3,
        6 => 2,
        _ => 1,
    };
    let days: Vec<NaiveDate> = (0..DAYS).map(|i| first + TimeDelta::days(i)).collect();
    let day_weights: Vec<(NaiveDate, u32)> = days.iter().map(|d| (*d, day_weight(*d))).collect();
    let mut events = Vec::with_capacity(orders + orders / 20);
    let (mut line_count, mut refund_count) = (0, 0);
    for _ in 0..orders {
        let day = day_weights.choose_weighted(&mut rng, |(_, w)| *w)?.0;
        let wanted = rng.gen_range(1..=7);
        let mut chosen: Vec<usize> = Vec::new();
        while chosen.len() < wanted {
            let item = weights.choose_weighted(&mut rng, |(_, w)| *w)?.0;
            if !chosen.contains(&item) {
                chosen.push(item);
            }
        }
        let lines: Vec<(usize, i64)> = chosen
            .into_iter()
            .map(|item| {
                let quantity = match rng.gen_range(0..100) {
                    0..70 => 1,
                    70..92 => 2,
                    _ => 3,
                };
                (item, quantity)
            })
            .collect();
        line_count += lines.len();
        let amount: i64 = lines.iter().map(|(i, q)| MENU[*i].1 * q).sum();
        let sale_id = Uuid::now_v7();
        let paid_at = day.and_hms_opt(3, 0, 0).context("time")?.and_utc();
        events.push(Event::new(
            "SaleCompleted",
            store_id,
            json!({
                "saleId": sale_id, "orderId": Uuid::now_v7(), "amount": amount,
                "businessDate": day, "paidAt": paid_at,
                "lines": lines.iter().map(|(i, q)| json!({
                    "itemId": items[*i], "name": MENU[*i].0, "unitPrice": MENU[*i].1,
                    "quantity": q, "amount": MENU[*i].1 * q,
                })).collect::<Vec<_>>(),
                "payments": [{ "method": "CARD", "amount": amount }],
            }),
        ));
        if rng.gen_bool(REFUND_SHARE) {
            let (item, _) = lines[rng.gen_range(0..lines.len())];
            let later =
                (day + TimeDelta::days(rng.gen_range(0..3))).min(*days.last().context("days")?);
            refund_count += 1;
            events.push(Event::new(
                "RefundMade",
                store_id,
                json!({
                    "saleId": sale_id, "refundId": Uuid::now_v7(), "amount": MENU[item].1,
                    "method": "CARD", "businessDate": later,
                    "lines": [{ "lineId": Uuid::now_v7(), "itemId": items[item],
                        "quantity": 1, "amount": MENU[item].1 }],
                }),
            ));
        }
    }
    Ok((events, line_count, refund_count))
}

/// Waits until the read model has counted `orders` sales, showing progress.
pub(crate) async fn wait_until_counted(
    client: &Client,
    first: NaiveDate,
    last: NaiveDate,
    orders: usize,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30 * 60);
    loop {
        let answer = client.query(DAILY, json!({ "f": first, "t": last })).await;
        let counted: i64 = answer.data_or_panic()["dailyVolumes"]
            .as_array()
            .context("days")?
            .iter()
            .filter_map(|d| d["orderCount"].as_i64())
            .sum();
        eprint!("\r  counted {counted} / {orders}");
        if counted as usize >= orders {
            eprintln!();
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the dashboard stopped counting at {counted}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What is timed.
enum Variant<'a> {
    Graphql(&'a Client, &'static str, (NaiveDate, NaiveDate)),
    Sql(
        &'a DatabaseConnection,
        &'static str,
        Uuid,
        (NaiveDate, NaiveDate),
    ),
}

impl Variant<'_> {
    async fn time(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        match self {
            Variant::Graphql(client, query, (from, to)) => {
                let answer = client.query(query, json!({ "f": from, "t": to })).await;
                anyhow::ensure!(answer.errors().is_empty(), "{:?}", answer.errors());
            }
            Variant::Sql(db, sql, store_id, (from, to)) => {
                sql_rows(db, sql, *store_id, *from, *to).await?;
            }
        }
        Ok(started.elapsed())
    }
}

async fn sql_rows(
    db: &DatabaseConnection,
    sql: &str,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> anyhow::Result<Vec<sea_orm::QueryResult>> {
    Ok(db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [store_id.into(), from.into(), to.into()],
        ))
        .await?)
}

/// The API and the bare SQL must agree before their speed is compared.
async fn check_same_answers(
    client: &Client,
    db: &DatabaseConnection,
    store_id: Uuid,
    daily: (NaiveDate, NaiveDate),
    report: (NaiveDate, NaiveDate),
) -> anyhow::Result<()> {
    let api = client
        .query(DAILY, json!({ "f": daily.0, "t": daily.1 }))
        .await;
    let api_days: Vec<(String, i64, i64)> = api.data_or_panic()["dailyVolumes"]
        .as_array()
        .context("days")?
        .iter()
        .filter(|d| d["orderCount"].as_i64() != Some(0) || d["salesVolume"].as_i64() != Some(0))
        .map(|d| {
            (
                d["date"].as_str().unwrap_or_default().to_string(),
                d["salesVolume"].as_i64().unwrap_or_default(),
                d["profit"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let mut sql_days = Vec::new();
    for row in sql_rows(db, DAILY_SQL, store_id, daily.0, daily.1).await? {
        let date: NaiveDate = row.try_get("", "business_date")?;
        sql_days.push((
            date.to_string(),
            row.try_get::<i64>("", "sales_volume")?,
            row.try_get::<i64>("", "profit")?,
        ));
    }
    anyhow::ensure!(api_days == sql_days, "dailyVolumes and the bare SQL differ");

    let api = client
        .query(REPORT, json!({ "f": report.0, "t": report.1 }))
        .await;
    let lines: Vec<(String, i64, i64)> = api.data_or_panic()["salesReport"]["items"]
        .as_array()
        .context("items")?
        .iter()
        .map(|l| {
            (
                l["item"]["id"].as_str().unwrap_or_default().to_string(),
                l["salesVolume"].as_i64().unwrap_or_default(),
                l["cost"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let mut sql_lines = Vec::new();
    for row in sql_rows(db, REPORT_SQL, store_id, report.0, report.1).await? {
        let item: Uuid = row.try_get("", "item_id")?;
        sql_lines.push((
            item.to_string(),
            row.try_get::<i64>("", "sales_volume")?,
            row.try_get::<i64>("", "cost")?,
        ));
    }
    anyhow::ensure!(lines == sql_lines, "salesReport and the bare SQL differ");
    eprintln!("the API and the bare SQL agree");
    Ok(())
}
