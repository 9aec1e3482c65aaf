//! The dashboard subgraph through the real router, on PostgreSQL, fed by
//! the sale subgraph's events through the real broker: item costs, the
//! sales report and the daily volumes against totals computed here, refunds
//! on their own day, redelivery, isolation, ranges, and the rebuild command;
//! and, on the dashboard's database alone, a batch of several stores'
//! events counted together and a store deleted while its sales are being
//! counted.

use std::{collections::BTreeMap, time::Duration};

use chrono::NaiveDate;
use salesync_common::{
    app::Subgraph,
    clock::Clock,
    consulting::ConsultingStatus,
    db::{Database, Snapshot, connect_and_migrate},
    events::{
        Event,
        consumer::{self, Handler},
        store_access::OnStoreAccess,
        topics, types,
    },
    testing::fresh_server_database,
};
use salesync_dashboard::{
    config::UpstreamSettings,
    domain::{ConsultingUpdate, DailyVolume, SalesReport, SoldFact},
    events::{REFUND_MADE, SALE_COMPLETED, SalesFeed},
    service::Dashboard,
    upstream::Upstream,
};
use salesync_tests::{Client, Options, TestBus, TestSystem, rows_of_store};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Statement,
    TransactionTrait,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

const PLACE: &str =
    "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { total } }";
const CHECKOUT: &str =
    "mutation($i: CheckoutInput!) { checkout(input: $i) { id amount businessDate } }";
const REFUND: &str = "mutation($i: RefundInput!) { refundSale(input: $i) { refundedAmount refunds { businessDate } } }";
const SET_COSTS: &str = "mutation($c: [ItemCostInput!]!) { setItemCosts(costs: $c) { id cost } }";
const SET_COST: &str =
    "mutation($i: ID!, $c: Money!) { setItemCost(itemId: $i, cost: $c) { id cost name } }";
const REPORT: &str = "query($f: Date!, $t: Date!) { salesReport(from: $f, to: $t) { from to salesVolume cost profit items { item { id name price cost } name quantity salesVolume cost profit } } }";
const DAILY: &str = "query($f: Date!, $t: Date!) { dailyVolumes(from: $f, to: $t) { date salesVolume profit orderCount } }";

/// Noon in Seoul on 2026-11-`day`: a business day of its own.
fn noon_on(day: u32) -> chrono::DateTime<chrono::Utc> {
    format!("2026-11-{day:02}T03:00:00Z")
        .parse()
        .expect("instant")
}

fn date(day: u32) -> String {
    format!("2026-11-{day:02}")
}

/// A menu of three: a dish, a drink and one whose cost is never set.
const MENU: [(&str, i64); 3] = [
    ("Bibimbap", 12_000),
    ("Barley tea", 3_000),
    ("Pajeon", 15_000),
];

/// A shop selling [`MENU`], with what it sold kept here to compute the
/// expected figures independently of the dashboard.
struct Shop {
    client: Client,
    store_id: String,
    items: Vec<String>,
    /// (business day, item index) -> (quantity, sales volume), net of refunds.
    sold: BTreeMap<(String, usize), (i64, i64)>,
    /// business day -> sales made.
    orders: BTreeMap<String, i64>,
    /// item index -> unit cost.
    costs: BTreeMap<usize, i64>,
}

impl Shop {
    async fn open(system: &TestSystem) -> Shop {
        let shop = system.shop(&MENU).await;
        Shop {
            client: shop.client,
            store_id: shop.store_id,
            items: shop.items,
            sold: BTreeMap::new(),
            orders: BTreeMap::new(),
            costs: BTreeMap::new(),
        }
    }

    /// Orders `lines` (item index, quantity) at `table` and pays by card on
    /// business day `day`; returns the sale's id.
    async fn sell(&mut self, table: i64, lines: &[(usize, i64)], day: &str) -> String {
        let order: Vec<Value> = lines
            .iter()
            .map(|(item, quantity)| json!({ "itemId": self.items[*item], "quantity": quantity }))
            .collect();
        let total = self
            .client
            .query(PLACE, json!({ "t": table, "l": order }))
            .await
            .data_or_panic()["placeOrder"]["total"]
            .as_i64()
            .expect("total");
        let key = format!("{}-{table}-{day}", self.store_id);
        let sale = self
            .client
            .query(
                CHECKOUT,
                json!({ "i": { "tableNo": table, "idempotencyKey": key,
                    "payments": [{ "method": "CARD", "amount": total }] } }),
            )
            .await;
        let sale = &sale.data_or_panic()["checkout"];
        assert_eq!(sale["businessDate"], day, "the clock decides the day");
        for (item, quantity) in lines {
            let entry = self.sold.entry((day.to_string(), *item)).or_default();
            entry.0 += quantity;
            entry.1 += quantity * MENU[*item].1;
        }
        *self.orders.entry(day.to_string()).or_default() += 1;
        sale["id"].as_str().expect("sale id").to_string()
    }

    /// Refunds `quantity` of item `item` of a sale, on business day `day`.
    async fn refund(&mut self, sale_id: &str, item: usize, quantity: i64, day: &str) {
        let refunded = self
            .client
            .query(
                REFUND,
                json!({ "i": { "saleId": sale_id, "idempotencyKey": format!("refund-{sale_id}-{day}"),
                    "lines": [{ "itemId": self.items[item], "quantity": quantity }] } }),
            )
            .await;
        let refunds = &refunded.data_or_panic()["refundSale"]["refunds"];
        assert_eq!(
            refunds[refunds.as_array().expect("refunds").len() - 1]["businessDate"],
            day
        );
        let entry = self.sold.entry((day.to_string(), item)).or_default();
        entry.0 -= quantity;
        entry.1 -= quantity * MENU[item].1;
    }

    async fn set_costs(&mut self, costs: &[(usize, i64)]) {
        let input: Vec<Value> = costs
            .iter()
            .map(|(item, cost)| json!({ "itemId": self.items[*item], "cost": cost }))
            .collect();
        let set = self.client.query(SET_COSTS, json!({ "c": input })).await;
        let items = set.data_or_panic()["setItemCosts"]
            .as_array()
            .expect("items")
            .clone();
        for ((item, cost), answer) in costs.iter().zip(items) {
            assert_eq!(answer["id"], self.items[*item].as_str());
            assert_eq!(answer["cost"], *cost);
            self.costs.insert(*item, *cost);
        }
    }

    fn unit_cost(&self, item: usize) -> i64 {
        self.costs.get(&item).copied().unwrap_or(0)
    }

    /// The report over `from..=to` as it must be: (item id, quantity,
    /// sales volume, cost, profit), highest sales volume first.
    fn expected_report(&self, from: &str, to: &str) -> Vec<(String, i64, i64, i64, i64)> {
        let mut per_item: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
        for ((day, item), (quantity, volume)) in &self.sold {
            if day.as_str() >= from && day.as_str() <= to {
                let entry = per_item.entry(*item).or_default();
                entry.0 += quantity;
                entry.1 += volume;
            }
        }
        let mut lines: Vec<_> = per_item
            .into_iter()
            .filter(|(_, (q, v))| *q != 0 || *v != 0)
            .map(|(item, (quantity, volume))| {
                let cost = quantity * self.unit_cost(item);
                (
                    self.items[item].clone(),
                    quantity,
                    volume,
                    cost,
                    volume - cost,
                )
            })
            .collect();
        lines.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)));
        lines
    }

    /// Each day of `days` as it must be: (date, sales volume, profit, sales made).
    fn expected_days(&self, days: &[String]) -> Vec<(String, i64, i64, i64)> {
        days.iter()
            .map(|day| {
                let (mut volume, mut cost) = (0, 0);
                for ((d, item), (quantity, v)) in &self.sold {
                    if d == day {
                        volume += v;
                        cost += quantity * self.unit_cost(*item);
                    }
                }
                let orders = self.orders.get(day).copied().unwrap_or(0);
                (day.clone(), volume, volume - cost, orders)
            })
            .collect()
    }

    async fn report(&self, from: &str, to: &str) -> Value {
        self.client
            .query(REPORT, json!({ "f": from, "t": to }))
            .await
            .data_or_panic()["salesReport"]
            .clone()
    }

    async fn days(&self, from: &str, to: &str) -> Vec<(String, i64, i64, i64)> {
        let answer = self
            .client
            .query(DAILY, json!({ "f": from, "t": to }))
            .await;
        answer.data_or_panic()["dailyVolumes"]
            .as_array()
            .expect("days")
            .iter()
            .map(|d| {
                (
                    d["date"].as_str().expect("date").to_string(),
                    d["salesVolume"].as_i64().expect("volume"),
                    d["profit"].as_i64().expect("profit"),
                    d["orderCount"].as_i64().expect("count"),
                )
            })
            .collect()
    }

    /// Waits until the read model shows `expected` for those days.
    async fn wait_for_days(&self, expected: &[(String, i64, i64, i64)]) {
        let (from, to) = (&expected[0].0, &expected[expected.len() - 1].0);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let days = self.days(from, to).await;
            if days == expected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the read model shows {days:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn report_lines(report: &Value) -> Vec<(String, i64, i64, i64, i64)> {
        report["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|line| {
                (
                    line["item"]["id"].as_str().expect("id").to_string(),
                    line["quantity"].as_i64().expect("quantity"),
                    line["salesVolume"].as_i64().expect("volume"),
                    line["cost"].as_i64().expect("cost"),
                    line["profit"].as_i64().expect("profit"),
                )
            })
            .collect()
    }
}

fn days(from: u32, to: u32) -> Vec<String> {
    (from..=to).map(date).collect()
}

async fn kafka_system(clock: &Clock) -> TestSystem {
    TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        clock: clock.clone(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn reports_equal_the_totals_of_the_sales_over_two_business_days() {
    let clock = Clock::manual(noon_on(20));
    let system = kafka_system(&clock).await;
    let mut shop = Shop::open(&system).await;
    shop.set_costs(&[(0, 4_000), (1, 500)]).await;

    shop.sell(1, &[(0, 2), (1, 1)], &date(20)).await;
    shop.sell(2, &[(2, 1), (1, 2)], &date(20)).await;
    clock.set(noon_on(21));
    shop.sell(1, &[(0, 3)], &date(21)).await;
    shop.sell(3, &[(1, 4), (2, 2), (0, 1)], &date(21)).await;

    // Zero-filled around the two days.
    let expected = shop.expected_days(&days(19, 22));
    assert_eq!(expected[0].1, 0);
    assert_eq!(expected[1].3, 2);
    shop.wait_for_days(&expected).await;

    let report = shop.report(&date(19), &date(22)).await;
    let expected_lines = shop.expected_report(&date(19), &date(22));
    assert_eq!(Shop::report_lines(&report), expected_lines);
    let total: i64 = expected_lines.iter().map(|l| l.2).sum();
    let profit: i64 = expected_lines.iter().map(|l| l.4).sum();
    assert_eq!(report["salesVolume"], total);
    assert_eq!(report["profit"], profit);
    assert_eq!(report["cost"], total - profit);
    assert_eq!(
        (report["from"].clone(), report["to"].clone()),
        (json!(date(19)), json!(date(22)))
    );
    // The router resolves each line's item to the menu's name and price,
    // and its cost here; the never-costed item has none.
    for line in report["items"].as_array().expect("items") {
        let index = shop
            .items
            .iter()
            .position(|id| line["item"]["id"] == id.as_str())
            .expect("a menu item");
        assert_eq!(line["item"]["name"], MENU[index].0);
        assert_eq!(line["name"], MENU[index].0, "the name it sold under");
        assert_eq!(line["item"]["price"], MENU[index].1);
        match shop.costs.get(&index) {
            Some(cost) => assert_eq!(line["item"]["cost"], *cost),
            None => assert_eq!(line["item"]["cost"], Value::Null),
        }
    }

    // One day alone.
    let report = shop.report(&date(21), &date(21)).await;
    assert_eq!(
        Shop::report_lines(&report),
        shop.expected_report(&date(21), &date(21))
    );
    // A range without sales.
    let report = shop.report(&date(1), &date(10)).await;
    assert_eq!(report["items"], json!([]));
    assert_eq!(report["salesVolume"], 0);
}

#[tokio::test]
async fn a_partial_refund_lowers_the_items_figures_on_its_own_day_and_redelivery_changes_nothing() {
    let clock = Clock::manual(noon_on(20));
    let system = kafka_system(&clock).await;
    let mut shop = Shop::open(&system).await;
    shop.set_costs(&[(0, 4_000), (1, 500)]).await;
    let sale = shop.sell(1, &[(0, 2), (1, 1)], &date(20)).await;
    clock.set(noon_on(21));
    shop.refund(&sale, 0, 1, &date(21)).await;

    let expected = shop.expected_days(&days(20, 21));
    // The refund's day loses one bibimbap and its cost; the sale's day keeps
    // what it sold. The refund is no sale: no order on its day.
    assert_eq!(expected[1], (date(21), -12_000, -8_000, 0));
    shop.wait_for_days(&expected).await;
    let refund_day = shop.report(&date(21), &date(21)).await;
    assert_eq!(
        Shop::report_lines(&refund_day),
        vec![(shop.items[0].clone(), -1, -12_000, -4_000, -8_000)]
    );
    let both = shop.report(&date(20), &date(21)).await;
    assert_eq!(
        Shop::report_lines(&both),
        shop.expected_report(&date(20), &date(21))
    );

    // Every event the sale subgraph published, again: as it was (the relay
    // publishes again what it had not marked published, as after a crash)
    // and under a new event id (a duplicate publish).
    let sale_db = system.database("sale").await;
    let sent = outbox_events(&sale_db).await;
    assert_eq!(sent.len(), 2, "one sale, one refund: {sent:?}");
    let txn = sea_orm::TransactionTrait::begin(&sale_db)
        .await
        .expect("begin");
    sea_orm::ConnectionTrait::execute_unprepared(&txn, "UPDATE outbox SET published_at = NULL")
        .await
        .expect("unpublish");
    for event in &sent {
        let mut copy = event.clone();
        copy.id = uuid::Uuid::now_v7();
        salesync_common::events::outbox::enqueue(&txn, topics::SALES, &copy)
            .await
            .expect("enqueue");
    }
    txn.commit().await.expect("commit");
    // A new sale after them, on its own day: once it shows, the copies
    // before it (same store, same partition, in order) were handled.
    clock.set(noon_on(22));
    shop.sell(2, &[(1, 1)], &date(22)).await;
    shop.wait_for_days(&shop.expected_days(&days(20, 22))).await;
    assert_eq!(
        Shop::report_lines(&shop.report(&date(20), &date(22)).await),
        shop.expected_report(&date(20), &date(22))
    );
}

#[tokio::test]
async fn a_cost_change_changes_the_profit_of_past_days() {
    let clock = Clock::manual(noon_on(20));
    let system = kafka_system(&clock).await;
    let mut shop = Shop::open(&system).await;
    shop.set_costs(&[(0, 4_000)]).await;
    shop.sell(1, &[(0, 3)], &date(20)).await;
    shop.wait_for_days(&shop.expected_days(&days(20, 20))).await;
    assert_eq!(shop.days(&date(20), &date(20)).await[0].2, 36_000 - 12_000);

    clock.set(noon_on(25));
    let changed = shop
        .client
        .query(SET_COST, json!({ "i": shop.items[0], "c": 7_000 }))
        .await;
    assert_eq!(
        changed.data_or_panic()["setItemCost"],
        json!({ "id": shop.items[0], "cost": 7_000, "name": "Bibimbap" })
    );
    shop.costs.insert(0, 7_000);
    // Cost is current, not historical: the past day's profit follows it.
    assert_eq!(
        shop.days(&date(20), &date(20)).await,
        shop.expected_days(&days(20, 20))
    );
    assert_eq!(shop.days(&date(20), &date(20)).await[0].2, 36_000 - 21_000);
    let report = shop.report(&date(20), &date(20)).await;
    assert_eq!(report["profit"], 36_000 - 21_000);
    assert_eq!(report["items"][0]["item"]["cost"], 7_000);

    // A cost of 0 is a cost; below 0 is refused and changes nothing.
    let negative = shop
        .client
        .query(SET_COST, json!({ "i": shop.items[0], "c": -1 }))
        .await;
    assert_eq!(negative.error_code().as_deref(), Some("BAD_USER_INPUT"));
    let zero = shop
        .client
        .query(SET_COST, json!({ "i": shop.items[0], "c": 0 }))
        .await;
    assert_eq!(zero.data_or_panic()["setItemCost"]["cost"], 0);
}

#[tokio::test]
async fn a_store_cannot_cost_another_stores_items_or_read_its_figures() {
    let clock = Clock::manual(noon_on(20));
    let system = kafka_system(&clock).await;
    let mut a = Shop::open(&system).await;
    a.set_costs(&[(0, 4_000)]).await;
    a.sell(1, &[(0, 2)], &date(20)).await;
    a.wait_for_days(&a.expected_days(&days(20, 20))).await;
    let b = Shop::open(&system).await;

    // A's item, alone or beside B's own: NOT_FOUND, and nothing is written.
    let theirs = b
        .client
        .query(SET_COST, json!({ "i": a.items[0], "c": 1 }))
        .await;
    assert_eq!(theirs.error_code().as_deref(), Some("NOT_FOUND"));
    let mixed = b
        .client
        .query(
            SET_COSTS,
            json!({ "c": [{ "itemId": b.items[0], "cost": 10 }, { "itemId": a.items[0], "cost": 1 }] }),
        )
        .await;
    assert_eq!(mixed.error_code().as_deref(), Some("NOT_FOUND"));
    let b_costs = b.client.query("{ items { cost } }", json!({})).await;
    assert_eq!(b_costs.data_or_panic()["items"][0]["cost"], Value::Null);
    // A's cost is untouched.
    let a_item = a
        .client
        .query(
            "query($i: ID!) { item(id: $i) { cost } }",
            json!({ "i": a.items[0] }),
        )
        .await;
    assert_eq!(a_item.data_or_panic()["item"]["cost"], 4_000);

    // B sees none of A's figures.
    assert_eq!(b.report(&date(20), &date(20)).await["items"], json!([]));
    assert_eq!(
        b.days(&date(20), &date(20)).await,
        vec![(date(20), 0, 0, 0)]
    );
    // Nor A's cost by asking the dashboard for A's item directly.
    let entity = system
        .direct("dashboard")
        .with_token(&system.token_for(
            b.store_id.parse().expect("uuid"),
            chrono::Duration::minutes(5),
        ))
        .query(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Item { id cost } } }",
            json!({ "r": [{ "__typename": "Item", "id": a.items[0] }] }),
        )
        .await;
    assert_eq!(entity.data_or_panic()["_entities"][0]["cost"], Value::Null);

    // Unknown, malformed and deleted items are NOT_FOUND.
    for unknown in [uuid::Uuid::new_v4().to_string(), "not-an-id".to_string()] {
        let answer = a
            .client
            .query(SET_COST, json!({ "i": unknown, "c": 1 }))
            .await;
        assert_eq!(
            answer.error_code().as_deref(),
            Some("NOT_FOUND"),
            "{unknown}"
        );
    }
    a.client
        .query(
            "mutation($i: ID!) { deleteItem(id: $i) }",
            json!({ "i": a.items[2] }),
        )
        .await
        .data_or_panic();
    let deleted = a
        .client
        .query(SET_COST, json!({ "i": a.items[2], "c": 1 }))
        .await;
    assert_eq!(deleted.error_code().as_deref(), Some("NOT_FOUND"));

    // A list names each item once, and at least one.
    let twice = a
        .client
        .query(
            SET_COSTS,
            json!({ "c": [{ "itemId": a.items[0], "cost": 1 }, { "itemId": a.items[0], "cost": 2 }] }),
        )
        .await;
    assert_eq!(twice.error_code().as_deref(), Some("BAD_USER_INPUT"));
    let empty = a.client.query(SET_COSTS, json!({ "c": [] })).await;
    assert_eq!(empty.error_code().as_deref(), Some("BAD_USER_INPUT"));

    // Without a token, nothing.
    let anonymous = system
        .client()
        .query(DAILY, json!({ "f": date(20), "t": date(20) }))
        .await;
    assert_eq!(anonymous.error_code().as_deref(), Some("UNAUTHENTICATED"));
}

#[tokio::test]
async fn report_ranges_are_checked() {
    let system = TestSystem::start().await;
    let shop = Shop::open(&system).await;
    for query in [REPORT, DAILY] {
        let backwards = shop
            .client
            .query(query, json!({ "f": "2026-11-02", "t": "2026-11-01" }))
            .await;
        assert_eq!(backwards.error_code().as_deref(), Some("BAD_USER_INPUT"));
        let too_long = shop
            .client
            .query(query, json!({ "f": "2025-01-01", "t": "2026-01-02" }))
            .await;
        assert_eq!(too_long.error_code().as_deref(), Some("BAD_USER_INPUT"));
        // 366 days is the most.
        let longest = shop
            .client
            .query(query, json!({ "f": "2024-01-01", "t": "2024-12-31" }))
            .await;
        assert!(longest.errors().is_empty(), "{:?}", longest.errors());
        let not_a_date = shop
            .client
            .query(query, json!({ "f": "2026-13-01", "t": "2026-11-01" }))
            .await;
        assert!(!not_a_date.errors().is_empty());
    }
    let year = shop.days("2024-01-01", "2024-12-31").await;
    assert_eq!(year.len(), 366);
    assert!(year.iter().all(|d| d.1 == 0 && d.3 == 0));
}

#[tokio::test]
async fn the_rebuild_command_gives_the_same_figures_as_the_live_read_model() {
    let clock = Clock::manual(noon_on(20));
    let system = kafka_system(&clock).await;
    let mut a = Shop::open(&system).await;
    let mut b = Shop::open(&system).await;
    a.set_costs(&[(0, 4_000), (1, 500)]).await;
    let first = a.sell(1, &[(0, 2), (1, 3)], &date(20)).await;
    a.sell(2, &[(2, 1)], &date(20)).await;
    b.sell(1, &[(1, 1)], &date(20)).await;
    clock.set(noon_on(21));
    a.sell(1, &[(0, 1), (2, 2)], &date(21)).await;
    a.refund(&first, 1, 2, &date(21)).await;
    let a_days = a.expected_days(&days(19, 22));
    a.wait_for_days(&a_days).await;
    b.wait_for_days(&b.expected_days(&days(20, 20))).await;
    let live = (
        a.report(&date(19), &date(22)).await,
        a.days(&date(19), &date(22)).await,
    );

    // Damage the read model, as a bug would.
    let dashboard = system.database("dashboard").await;
    for statement in [
        "DELETE FROM daily_item_sales",
        "UPDATE daily_sales SET sales_volume = sales_volume * 2, order_count = 0",
        "DELETE FROM counted_refunds",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&dashboard, statement)
            .await
            .expect(statement);
    }
    assert_ne!(a.days(&date(19), &date(22)).await, live.1);

    let printed = system.run_command("dashboard", &["rebuild"]).await;
    assert!(
        printed.contains("rebuilt 2 store(s): 4 sales, 1 refunds"),
        "{printed}"
    );
    assert_eq!(a.report(&date(19), &date(22)).await, live.0);
    assert_eq!(a.days(&date(19), &date(22)).await, live.1);
    assert_eq!(
        b.days(&date(20), &date(20)).await,
        b.expected_days(&days(20, 20))
    );

    // Again, for one store: the same figures, nothing counted twice; and
    // the live consumer carries on after it.
    let printed = system
        .run_command("dashboard", &["rebuild", "--store", &a.store_id])
        .await;
    assert!(
        printed.contains("rebuilt 1 store(s): 3 sales, 1 refunds"),
        "{printed}"
    );
    assert_eq!(a.days(&date(19), &date(22)).await, live.1);
    clock.set(noon_on(22));
    a.sell(3, &[(0, 1)], &date(22)).await;
    a.wait_for_days(&a.expected_days(&days(19, 22))).await;
}

/// The events in a subgraph's outbox, in order.
async fn outbox_events(db: &sea_orm::DatabaseConnection) -> Vec<salesync_common::events::Event> {
    use salesync_common::events::outbox::entity;
    use sea_orm::{EntityTrait, QueryOrder};
    entity::Entity::find()
        .order_by_asc(entity::Column::Seq)
        .all(db)
        .await
        .expect("outbox rows")
        .into_iter()
        .map(|row| serde_json::from_str(&row.payload).expect("an event"))
        .collect()
}

/// The dashboard's use cases on a database of their own, without the rest
/// of the system: counting and a store's deletion ask no other subgraph.
async fn dashboard_alone() -> (DatabaseConnection, Dashboard) {
    let (db, dashboard) = dashboard_counted().await;
    (db.conn, dashboard)
}

/// [`dashboard_alone`], with the count of the statements its pool runs.
async fn dashboard_counted() -> (Database, Dashboard) {
    salesync_tests::init_logs();
    let url = fresh_server_database().url_for("dashboard").expect("url");
    let db = connect_and_migrate::<<salesync_dashboard::Dashboard as Subgraph>::Migrator>(
        &url,
        &Default::default(),
    )
    .await
    .expect("database");
    let upstream = Upstream::new(
        UpstreamSettings::default(),
        SecretString::from("not asked".to_string()),
    );
    let dashboard = Dashboard::new(db.conn.clone(), upstream, Clock::system());
    (db, dashboard)
}

/// A sale of one tea on 2026-11-20.
fn tea_sold() -> SoldFact {
    let tea = Uuid::new_v4();
    SoldFact {
        sale_id: Uuid::new_v4(),
        business_date: NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date"),
        amount: 3_000,
        lines: vec![(tea, 1, 3_000)],
        names: vec![(tea, "Tea".to_string())],
    }
}

/// A consulting request of `store_id` that just ended.
fn advice_written(store_id: Uuid) -> ConsultingUpdate {
    ConsultingUpdate {
        store_id,
        request_id: Uuid::new_v4(),
        status: ConsultingStatus::Completed,
        content: Some("Offer tea with every cake.".to_string()),
        error: None,
        completed_at: Some(chrono::Utc::now()),
        at: chrono::Utc::now(),
    }
}

/// What the dashboard's consumers hear of a store.
#[derive(Debug, Clone, Copy)]
enum Heard {
    Sale,
    Advice,
}

/// Applies what was heard as its consumer does, within `txn`.
async fn hear(txn: &DatabaseTransaction, dashboard: &Dashboard, store_id: Uuid, heard: Heard) {
    match heard {
        Heard::Sale => dashboard
            .count_sale(txn, store_id, &tea_sold())
            .await
            .expect("counted"),
        Heard::Advice => dashboard
            .keep_consulting(txn, &advice_written(store_id))
            .await
            .expect("kept"),
    }
}

/// [`hear`] in a transaction of its own.
async fn hear_alone(db: &DatabaseConnection, dashboard: &Dashboard, store_id: Uuid, heard: Heard) {
    let txn = db.begin().await.expect("begin");
    hear(&txn, dashboard, store_id, heard).await;
    txn.commit().await.expect("commit");
}

/// `store_id`'s sales report and volumes of `day`, read through `at`.
async fn reports_of(
    dashboard: &Dashboard,
    at: &Snapshot,
    store_id: Uuid,
    day: NaiveDate,
) -> (SalesReport, Vec<DailyVolume>) {
    let report = dashboard
        .sales_report(at, store_id, day, day)
        .await
        .expect("report");
    let days = dashboard
        .daily_volumes(at, store_id, day, day)
        .await
        .expect("days");
    (report, days)
}

/// The reports of one dashboard query read one snapshot: a sale counted
/// after the first report was read shows in neither that query's later
/// report nor its first, and a fresh snapshot has it in all.
#[tokio::test]
async fn reports_read_through_one_snapshot_agree_while_a_sale_is_counted_between_them() {
    let (db, dashboard) = dashboard_alone().await;
    let store_id = Uuid::new_v4();
    let day = tea_sold().business_date;
    hear_alone(&db, &dashboard, store_id, Heard::Sale).await;

    let at = dashboard.snapshot();
    let report = dashboard
        .sales_report(&at, store_id, day, day)
        .await
        .expect("report");
    hear_alone(&db, &dashboard, store_id, Heard::Sale).await;
    let days = dashboard
        .daily_volumes(&at, store_id, day, day)
        .await
        .expect("days");
    assert_eq!(report.sales_volume, 3_000);
    assert_eq!(
        (days[0].sales_volume, days[0].order_count),
        (3_000, 1),
        "the second report reads the first one's moment"
    );

    let (report, days) = reports_of(&dashboard, &dashboard.snapshot(), store_id, day).await;
    assert_eq!(report.sales_volume, 6_000);
    assert_eq!((days[0].sales_volume, days[0].order_count), (6_000, 2));
}

/// A sale whose lines fill more than one statement's worth of rows (1,000
/// per upsert) is counted whole: its items' figures go in two statements.
#[tokio::test]
async fn a_sale_of_more_items_than_one_statement_holds_is_counted_whole() {
    let (db, dashboard) = dashboard_alone().await;
    let store_id = Uuid::new_v4();
    let items: Vec<Uuid> = (0..1_500).map(|_| Uuid::new_v4()).collect();
    let sale = SoldFact {
        lines: items.iter().map(|item| (*item, 2, 1_000)).collect(),
        names: items
            .iter()
            .map(|item| (*item, "Dish".to_string()))
            .collect(),
        amount: 1_500 * 1_000,
        ..tea_sold()
    };
    let txn = db.begin().await.expect("begin");
    dashboard
        .count_sale(&txn, store_id, &sale)
        .await
        .expect("counted");
    txn.commit().await.expect("commit");

    let (report, days) = reports_of(
        &dashboard,
        &dashboard.snapshot(),
        store_id,
        sale.business_date,
    )
    .await;
    assert_eq!(report.items.len(), 1_500);
    assert!(
        report
            .items
            .iter()
            .all(|i| i.quantity == 2 && i.sales_volume == 1_000)
    );
    assert_eq!(report.sales_volume, 1_500_000);
    assert_eq!((days[0].sales_volume, days[0].order_count), (1_500_000, 1));
}

/// The sale subgraph's event of a sale of `quantity` teas, at 3,000 each,
/// on [`tea_sold`]'s day.
fn tea_sale_event(store_id: Uuid, sale_id: Uuid, tea: Uuid, quantity: i64) -> Event {
    let day = tea_sold().business_date;
    let amount = 3_000 * quantity;
    Event::new(
        SALE_COMPLETED,
        store_id,
        json!({ "saleId": sale_id, "amount": amount, "businessDate": day, "lines": [
            { "itemId": tea, "name": "Tea", "quantity": quantity, "amount": amount }
        ] }),
    )
}

/// A batch of sales events of several stores is counted per store: a sale
/// counted before, or brought twice, is counted once; a refund in the same
/// batch as its sale lowers it; a deleted store's sale counts nothing; and
/// a store's share of a batch costs the same statements whatever its size.
#[tokio::test]
async fn a_batch_of_sales_events_is_counted_per_store_each_sale_once() {
    let (db, dashboard) = dashboard_counted().await;
    let feed = SalesFeed(dashboard.clone());
    let day = tea_sold().business_date;
    let tea = Uuid::new_v4();
    let (first, second, gone) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());

    // One sale counted before, and a store deleted.
    let counted_before = tea_sale_event(first, Uuid::new_v4(), tea, 1);
    consumer::apply(&db.conn, &feed, &counted_before)
        .await
        .expect("applied");
    let txn = db.conn.begin().await.expect("begin");
    OnStoreAccess::new("dashboard", dashboard.clone())
        .handle(&txn, &Event::new(types::STORE_DELETED, gone, json!({})))
        .await
        .expect("deleted");
    txn.commit().await.expect("commit");

    let sale_id = Uuid::new_v4();
    let sold = tea_sale_event(first, sale_id, tea, 2);
    let refund = Event::new(
        REFUND_MADE,
        first,
        json!({ "refundId": Uuid::new_v4(), "amount": 3_000, "businessDate": day, "lines": [
            { "itemId": tea, "quantity": 1, "amount": 3_000 }
        ] }),
    );
    let mut counted_again = counted_before.clone();
    counted_again.id = Uuid::new_v4();
    let batch = [
        tea_sale_event(second, Uuid::new_v4(), tea, 1),
        counted_again,
        sold.clone(),
        tea_sale_event(gone, Uuid::new_v4(), tea, 5),
        refund,
        Event {
            id: Uuid::new_v4(),
            ..sold
        },
        tea_sale_event(second, Uuid::new_v4(), tea, 3),
    ];
    consumer::apply_all(&db.conn, &feed, &batch)
        .await
        .expect("applied");

    let at = dashboard.snapshot();
    let (report, days) = reports_of(&dashboard, &at, first, day).await;
    assert_eq!(report.sales_volume, 3_000 + 6_000 - 3_000);
    assert_eq!(report.items[0].quantity, 1 + 2 - 1);
    assert_eq!((days[0].sales_volume, days[0].order_count), (6_000, 2));
    let (report, days) = reports_of(&dashboard, &at, second, day).await;
    assert_eq!(report.sales_volume, 12_000);
    assert_eq!((days[0].sales_volume, days[0].order_count), (12_000, 2));
    assert_eq!(figures_left(&db.conn, gone).await, (rows([0; 5]), true));

    // The record, then the store's ledger lock, its counted sales, its
    // items' and its days' figures.
    let mut costs = Vec::new();
    for size in [1, 2, 40] {
        let store_id = Uuid::new_v4();
        let batch: Vec<Event> = (0..size)
            .map(|_| tea_sale_event(store_id, Uuid::new_v4(), tea, 1))
            .collect();
        let before = db.statements.get();
        consumer::apply_all(&db.conn, &feed, &batch)
            .await
            .expect("applied");
        costs.push(db.statements.get() - before);
        let (report, _) = reports_of(&dashboard, &dashboard.snapshot(), store_id, day).await;
        assert_eq!(report.sales_volume, 3_000 * size);
    }
    assert_eq!(costs, [5, 5, 5], "statements per batch of 1, 2 and 40");
}

/// The dashboard's tables of a store's rows.
const STORE_TABLES: [&str; 5] = [
    "counted_sales",
    "counted_refunds",
    "daily_sales",
    "daily_item_sales",
    "consulting_results",
];

/// `counts` of rows, by table, in the order of [`STORE_TABLES`].
fn rows(counts: [i64; 5]) -> Vec<(String, i64)> {
    STORE_TABLES
        .iter()
        .zip(counts)
        .map(|(table, n)| (table.to_string(), n))
        .collect()
}

/// The store's rows in each of [`STORE_TABLES`], and whether its ledger is
/// closed.
async fn figures_left(db: &DatabaseConnection, store_id: Uuid) -> (Vec<(String, i64)>, bool) {
    let mut left = Vec::new();
    for table in STORE_TABLES {
        left.push((table.to_string(), rows_of_store(db, table, store_id).await));
    }
    let closed = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT deleted_at IS NOT NULL AS closed FROM store_ledgers WHERE store_id = $1",
            [store_id.into()],
        ))
        .await
        .expect("the ledger")
        .is_some_and(|row| row.try_get::<bool>("", "closed").expect("closed"));
    (left, closed)
}

/// A sale's or a consulting result's event can be heard while the store's
/// deletion is being applied (they come on different topics): whichever
/// takes the store's ledger first, the other waits, and nothing of the
/// store is left; one heard later keeps nothing either.
#[tokio::test]
async fn sales_and_advice_heard_while_a_store_is_deleted_leave_nothing_behind() {
    for heard in [Heard::Sale, Heard::Advice] {
        for deletion_first in [true, false] {
            let case = format!("{heard:?}, deletion first: {deletion_first}");
            let (db, dashboard) = dashboard_alone().await;
            let store_id = Uuid::new_v4();
            hear_alone(&db, &dashboard, store_id, Heard::Sale).await;
            hear_alone(&db, &dashboard, store_id, Heard::Advice).await;
            assert_eq!(
                figures_left(&db, store_id).await,
                (rows([1, 0, 1, 1, 1]), false)
            );
            let deletion = OnStoreAccess::new("dashboard", dashboard.clone());
            let deleted = Event::new(types::STORE_DELETED, store_id, json!({}));

            if deletion_first {
                let txn = db.begin().await.expect("begin");
                deletion.handle(&txn, &deleted).await.expect("deleted");
                let hearing = tokio::spawn({
                    let (db, dashboard) = (db.clone(), dashboard.clone());
                    async move { hear_alone(&db, &dashboard, store_id, heard).await }
                });
                tokio::time::sleep(Duration::from_millis(300)).await;
                txn.commit().await.expect("commit");
                hearing.await.expect("heard");
            } else {
                let txn = db.begin().await.expect("begin");
                hear(&txn, &dashboard, store_id, heard).await;
                let deleting = tokio::spawn({
                    let db = db.clone();
                    async move {
                        let txn = db.begin().await.expect("begin");
                        deletion.handle(&txn, &deleted).await.expect("deleted");
                        txn.commit().await.expect("commit");
                    }
                });
                tokio::time::sleep(Duration::from_millis(300)).await;
                txn.commit().await.expect("commit");
                deleting.await.expect("the deletion ends");
            }

            let nothing = rows([0; 5]);
            assert_eq!(
                figures_left(&db, store_id).await,
                (nothing.clone(), true),
                "{case}"
            );
            hear_alone(&db, &dashboard, store_id, heard).await;
            assert_eq!(figures_left(&db, store_id).await, (nothing, true), "{case}");
        }
    }
}
