//! The sale subgraph through the real router, on PostgreSQL: checkouts that
//! never charge twice, recovery after a crash between subgraphs, refunds,
//! business days and the day close.

use std::time::Duration;

use futures::future::join_all;
use salesync_common::clock::Clock;
use salesync_sale::db::sales;
use salesync_tests::{Client, Options, TestSystem, plans::generic_plan};
use sea_orm::{DbBackend, QueryTrait};
use serde_json::{Value, json};

const PLACE: &str = "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { id total } }";
const CHECKOUT: &str = "mutation($i: CheckoutInput!) { checkout(input: $i) { id amount status businessDate paidAt order { id } lines { name unitPrice quantity refundedQuantity amount item { id } } payments { method amount tendered change } refundedAmount } }";
/// A sale read back, with the checkout's selection.
const SALE: &str = "query($id: ID!) { sale(id: $id) { id amount status businessDate paidAt order { id } lines { name unitPrice quantity refundedQuantity amount item { id } } payments { method amount tendered change } refundedAmount } }";
const REFUND: &str = "mutation($i: RefundInput!) { refundSale(input: $i) { id status refundedAmount lines { name quantity refundedQuantity } refunds { amount method businessDate lines { quantity amount } } } }";
const SUMMARY: &str = "query($f: Date!, $t: Date!) { salesSummary(from: $f, to: $t) { grossSales refunds salesVolume saleCount refundCount byMethod { method sales refunds net count } } }";

struct Shop {
    client: Client,
    token: String,
    store_id: String,
    tea: String,
    cake: String,
}

/// A store with tea at 3000 and cake at 5500.
async fn shop(system: &TestSystem) -> Shop {
    let shop = system.shop(&[("Tea", 3000), ("Cake", 5500)]).await;
    Shop {
        tea: shop.items[0].clone(),
        cake: shop.items[1].clone(),
        client: shop.client,
        token: shop.token,
        store_id: shop.store_id,
    }
}

impl Shop {
    /// Opens `table` with `teas` teas and `cakes` cakes; returns the total.
    async fn order(&self, table: i64, teas: i64, cakes: i64) -> i64 {
        let mut lines = Vec::new();
        if teas > 0 {
            lines.push(json!({ "itemId": self.tea, "quantity": teas }));
        }
        if cakes > 0 {
            lines.push(json!({ "itemId": self.cake, "quantity": cakes }));
        }
        let placed = self
            .client
            .query(PLACE, json!({ "t": table, "l": lines }))
            .await;
        placed.data_or_panic()["placeOrder"]["total"]
            .as_i64()
            .expect("total")
    }

    async fn checkout(
        &self,
        table: i64,
        key: &str,
        payments: Value,
    ) -> salesync_tests::GraphqlResponse {
        self.client
            .query(
                CHECKOUT,
                json!({ "i": { "tableNo": table, "idempotencyKey": key, "payments": payments } }),
            )
            .await
    }

    async fn open_order(&self, table: i64) -> Value {
        self.client
            .query(
                "query($t: Int!) { openOrder(tableNo: $t) { id total } }",
                json!({ "t": table }),
            )
            .await
            .data_or_panic()["openOrder"]
            .clone()
    }
}

/// Waits until the sale subgraph's copy of the store's calendar, fed by the
/// store subgraph's events, says `timezone` and `closeout_hour`.
async fn wait_for_calendar(
    system: &TestSystem,
    store_id: &str,
    timezone: &str,
    closeout_hour: i32,
) {
    use sea_orm::ConnectionTrait;
    let db = system.database("sale").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let row = db
            .query_one_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT timezone, closeout_hour FROM store_calendars WHERE store_id = $1::uuid",
                [store_id.into()],
            ))
            .await
            .expect("the calendar query");
        let copy = row.map(|row| {
            (
                row.try_get::<String>("", "timezone").expect("timezone"),
                row.try_get::<i32>("", "closeout_hour").expect("hour"),
            )
        });
        if copy == Some((timezone.to_string(), closeout_hour)) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sale subgraph's calendar is {copy:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The events the sale subgraph wrote to its outbox, in order.
async fn sale_events(system: &TestSystem) -> Vec<Value> {
    use sea_orm::ConnectionTrait;
    let db = system.database("sale").await;
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT payload FROM outbox ORDER BY seq",
        ))
        .await
        .expect("outbox rows");
    rows.iter()
        .map(|row| {
            let payload: String = row.try_get("", "payload").expect("payload");
            serde_json::from_str(&payload).expect("an event")
        })
        .collect()
}

fn card(amount: i64) -> Value {
    json!({ "method": "CARD", "amount": amount })
}

fn cash(amount: i64, tendered: i64) -> Value {
    json!({ "method": "CASH", "amount": amount, "tendered": tendered })
}

fn today() -> String {
    salesync_tests::today().to_string()
}

#[tokio::test]
async fn checkout_pays_the_open_order_with_split_payments() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let total = shop.order(4, 2, 1).await;
    assert_eq!(total, 2 * 3000 + 5500);

    // Payments that do not add up are refused, and the table stays open.
    let short = shop
        .checkout(4, "k-short", json!([card(6000), cash(5000, 5000)]))
        .await;
    assert_eq!(
        short.expect_error("BAD_USER_INPUT")["extensions"]["field"],
        "input.payments"
    );
    assert_eq!(shop.open_order(4).await["total"], total);

    let paid = shop
        .checkout(4, "k-1", json!([card(6000), cash(5500, 10000)]))
        .await;
    let sale = &paid.data_or_panic()["checkout"];
    assert_eq!(
        sale["amount"], total,
        "the order's total, computed by the server"
    );
    assert_eq!(sale["status"], "COMPLETED");
    assert_eq!(sale["businessDate"], today());
    assert_eq!(
        sale["payments"],
        json!([
            { "method": "CARD", "amount": 6000, "tendered": null, "change": null },
            { "method": "CASH", "amount": 5500, "tendered": 10000, "change": 4500 },
        ])
    );
    assert_eq!(sale["lines"][0]["name"], "Tea");
    assert_eq!(sale["lines"][0]["quantity"], 2);
    assert_eq!(
        shop.open_order(4).await,
        Value::Null,
        "the table is free again"
    );
    // The reply is the sale as stored.
    let stored = shop.client.query(SALE, json!({ "id": sale["id"] })).await;
    assert_eq!(&stored.data_or_panic()["sale"], sale);

    // The order knows its sale, across subgraphs through the router.
    let day = today();
    let orders = shop
        .client
        .query(
            "query($d: Date!) { orders(from: $d, to: $d, status: PAID) { id sale { id amount } } }",
            json!({ "d": day }),
        )
        .await;
    let orders = &orders.data_or_panic()["orders"];
    assert_eq!(orders[0]["id"], sale["order"]["id"]);
    assert_eq!(orders[0]["sale"]["id"], sale["id"]);

    // No open order is NOT_FOUND.
    shop.checkout(4, "k-2", json!([card(100)]))
        .await
        .expect_error("NOT_FOUND");
}

#[tokio::test]
async fn concurrent_checkouts_charge_once() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;

    // Ten terminals retry one checkout at once: one sale.
    let total = shop.order(1, 1, 0).await;
    let same_key =
        join_all((0..10).map(|_| shop.checkout(1, "one-key", json!([card(total)])))).await;
    let ids: Vec<Value> = same_key
        .iter()
        .map(|r| r.data_or_panic()["checkout"]["id"].clone())
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");

    // Ten terminals check out one table with ten keys: exactly one wins.
    let total = shop.order(2, 0, 1).await;
    let keys: Vec<String> = (0..10).map(|i| format!("key-{i}")).collect();
    let many = join_all(
        keys.iter()
            .map(|k| shop.checkout(2, k, json!([card(total)]))),
    )
    .await;
    let won = many.iter().filter(|r| r.errors().is_empty()).count();
    assert_eq!(won, 1, "{many:?}");
    for lost in many.iter().filter(|r| !r.errors().is_empty()) {
        let code = lost.error_code().unwrap_or_default();
        assert!(code == "NOT_FOUND" || code == "CONFLICT", "{}", lost.body);
    }

    // The same key with other input is a conflict, never a second charge.
    shop.checkout(1, "one-key", json!([card(total + 1)]))
        .await
        .expect_error("CONFLICT");
    let summary = shop
        .client
        .query(SUMMARY, json!({ "f": today(), "t": today() }))
        .await;
    let summary = &summary.data_or_panic()["salesSummary"];
    assert_eq!(summary["saleCount"], 2);
    assert_eq!(summary["grossSales"], 3000 + 5500);
}

#[tokio::test]
async fn a_first_checkout_costs_a_fixed_number_of_statements() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    // The first checkout reads the store's calendar, or asks for it if no
    // event brought it yet, and keeps it.
    let first = shop.order(1, 1, 0).await;
    let second = shop.order(2, 1, 1).await;
    shop.checkout(1, "warm", json!([card(first)]))
        .await
        .data_or_panic();

    let (sale, order) = (system.statements("sale"), system.statements("order"));
    shop.checkout(2, "counted", json!([card(second)]))
        .await
        .data_or_panic();
    let (sale, order) = (
        system.statements("sale") - sale,
        system.statements("order") - order,
    );
    // The sale: the pending sale with its payments in one statement, then
    // the completion (state, lines, event) in another; the calendar comes
    // from memory. The order: the open order with its lines, then the
    // payment under the table's turn (the turn, the open order with its
    // lines, the order with its event). What only a retry or recovery needs
    // (the key's sale, the payments read back, the order this sale paid)
    // is not read.
    assert_eq!((sale, order), (2, 4), "sale {sale}, order {order}");
}

/// Σ of completed sales, Σ of paid orders, and sales per paid order.
async fn books(shop: &Shop) -> (i64, i64, Vec<usize>) {
    let day = today();
    let listed = shop
        .client
        .query(
            "query($d: Date!) { sales(from: $d, to: $d) { amount } orders(from: $d, to: $d, status: PAID) { total sale { id } } }",
            json!({ "d": day }),
        )
        .await;
    let data = listed.data_or_panic();
    let sales: i64 = data["sales"]
        .as_array()
        .expect("sales")
        .iter()
        .map(|s| s["amount"].as_i64().expect("amount"))
        .sum();
    let orders = data["orders"].as_array().expect("orders");
    let paid: i64 = orders
        .iter()
        .map(|o| o["total"].as_i64().expect("total"))
        .sum();
    let per_order = orders
        .iter()
        .map(|o| usize::from(!o["sale"].is_null()))
        .collect();
    (sales, paid, per_order)
}

/// A checkout stopped after `step` as by a crash; the sale subgraph then
/// restarts without the fault, and its start-up recovery alone (the timer
/// is an hour away) balances the books. With `seated_again`, the table has
/// a new order, of another total, before the restart: recovery and the
/// retry must still find the sale's own order and leave the new one open.
async fn a_crash_after(step: &str, seated_again: bool) {
    let mut system = TestSystem::start_with(Options {
        config: vec![
            ("faults.checkout_stop_after", step.to_string()),
            ("recovery.interval_seconds", "3600".to_string()),
            ("recovery.grace_seconds", "0".to_string()),
        ],
        ..Options::default()
    })
    .await;
    let shop = shop(&system).await;
    let total = shop.order(3, 1, 1).await;
    let crashed = shop.checkout(3, "crash", json!([card(total)])).await;
    crashed.expect_error("INTERNAL");
    let (sales, _, per_order) = books(&shop).await;
    assert_eq!(
        (sales, per_order.iter().sum::<usize>()),
        (0, 0),
        "nothing completed yet"
    );
    let next = if seated_again {
        Some(shop.order(3, 1, 0).await)
    } else {
        None
    };

    system
        .restart("sale", &[("faults.checkout_stop_after", "never")])
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (sales, paid, per_order) = books(&shop).await;
        if sales == total && paid == total && per_order == [1] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "after a crash at {step} and a restart: sales {sales}, paid {paid}, {per_order:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // A retry with the key returns the recovered sale and charges nothing more.
    let retried = shop.checkout(3, "crash", json!([card(total)])).await;
    assert_eq!(retried.data_or_panic()["checkout"]["amount"], total);
    assert_eq!(books(&shop).await, (total, total, vec![1]));
    assert_eq!(
        shop.open_order(3).await["total"].as_i64(),
        next,
        "the table's new order is untouched"
    );
}

#[tokio::test]
async fn a_checkout_crashed_before_paying_is_finished_when_the_subgraph_restarts() {
    a_crash_after("pending", false).await;
}

#[tokio::test]
async fn a_checkout_crashed_after_paying_is_finished_when_the_subgraph_restarts() {
    a_crash_after("paid", false).await;
}

#[tokio::test]
async fn a_checkout_crashed_after_paying_is_finished_though_the_table_was_seated_again() {
    a_crash_after("paid", true).await;
}

/// A refunded sale's lines: name, quantity sold, quantity given back.
fn given_back(sale: &Value) -> Vec<(&str, i64, i64)> {
    sale["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|line| {
            (
                line["name"].as_str().expect("name"),
                line["quantity"].as_i64().expect("quantity"),
                line["refundedQuantity"].as_i64().expect("refunded"),
            )
        })
        .collect()
}

#[tokio::test]
async fn refunds_give_back_once_never_more_and_net_out_of_the_summary() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let total = shop.order(5, 3, 1).await;
    let sale = shop
        .checkout(5, "r-sale", json!([cash(3000, 3000), card(total - 3000)]))
        .await;
    let sale_id = sale.data_or_panic()["checkout"]["id"].clone();
    let refund = |key: &str, lines: Value| {
        let mut input = json!({ "saleId": sale_id, "idempotencyKey": key, "reason": "cold" });
        if !lines.is_null() {
            input["lines"] = lines;
        }
        shop.client.query(REFUND, json!({ "i": input }))
    };

    let one_tea = json!([{ "itemId": shop.tea, "quantity": 1 }]);
    let first = refund("r-1", one_tea.clone()).await;
    let refunded = &first.data_or_panic()["refundSale"];
    assert_eq!(refunded["status"], "PARTIALLY_REFUNDED");
    assert_eq!(refunded["refundedAmount"], 3000);
    assert_eq!(given_back(refunded), [("Tea", 3, 1), ("Cake", 1, 0)]);
    assert_eq!(
        refunded["refunds"][0]["method"], "CARD",
        "the largest payment's method"
    );
    // The same key again: counted once.
    let again = refund("r-1", one_tea).await;
    assert_eq!(again.data_or_panic()["refundSale"]["refundedAmount"], 3000);
    // More than is left is refused.
    let over = refund("r-2", json!([{ "itemId": shop.tea, "quantity": 3 }])).await;
    assert_eq!(
        over.expect_error("BAD_USER_INPUT")["extensions"]["field"],
        "input.lines[0].quantity"
    );
    // The rest, then nothing is left.
    let rest = refund("r-3", Value::Null).await;
    let rest = &rest.data_or_panic()["refundSale"];
    assert_eq!(rest["status"], "REFUNDED");
    assert_eq!(rest["refundedAmount"], total);
    // Two lines given back at once, each by what was left of it.
    assert_eq!(given_back(rest), [("Tea", 3, 3), ("Cake", 1, 1)]);
    refund("r-4", Value::Null).await.expect_error("CONFLICT");

    // The dashboard's read model is fed from these events alone.
    let events = sale_events(&system).await;
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds, ["SaleCompleted", "RefundMade", "RefundMade"]);
    assert_eq!(events[0]["payload"]["amount"], total);
    assert_eq!(events[0]["payload"]["businessDate"], today());
    assert_eq!(events[0]["payload"]["lines"][0]["quantity"], 3);
    assert_eq!(events[0]["payload"]["lines"][0]["unitPrice"], 3000);
    assert_eq!(events[0]["payload"]["payments"][0]["method"], "CASH");
    assert_eq!(events[1]["payload"]["amount"], 3000);
    assert_eq!(events[1]["payload"]["method"], "CARD");
    assert_eq!(events[1]["payload"]["lines"][0]["quantity"], 1);

    let summary = shop
        .client
        .query(SUMMARY, json!({ "f": today(), "t": today() }))
        .await;
    let summary = &summary.data_or_panic()["salesSummary"];
    assert_eq!(summary["grossSales"], total);
    assert_eq!(summary["refunds"], total);
    assert_eq!(summary["salesVolume"], 0);
    assert_eq!(summary["refundCount"], 2);
    let card = summary["byMethod"]
        .as_array()
        .expect("methods")
        .iter()
        .find(|m| m["method"] == "CARD")
        .expect("card")
        .clone();
    assert_eq!(card["sales"], total - 3000);
    assert_eq!(card["refunds"], total);
    assert_eq!(card["net"], -3000);
}

#[tokio::test]
async fn a_sale_after_midnight_belongs_to_the_evening_before_the_closeout_hour() {
    // 01:30 on the 25th in Seoul.
    let clock = Clock::manual("2026-11-24T16:30:00Z".parse().expect("instant"));
    let system = TestSystem::start_with(Options {
        clock: clock.clone(),
        ..Options::default()
    })
    .await;
    let shop = shop(&system).await;
    shop.client
        .query(
            "mutation { updateStore(input: { closeoutHour: 4 }) { closeoutHour } }",
            json!({}),
        )
        .await
        .data_or_panic();
    wait_for_calendar(&system, &shop.store_id, "Asia/Seoul", 4).await;

    let total = shop.order(1, 1, 0).await;
    let late = shop.checkout(1, "late", json!([card(total)])).await;
    assert_eq!(
        late.data_or_panic()["checkout"]["businessDate"],
        "2026-11-24"
    );

    // 04:30: the new day.
    clock.set("2026-11-24T19:30:00Z".parse().expect("instant"));
    let total = shop.order(1, 1, 0).await;
    let early = shop.checkout(1, "early", json!([card(total)])).await;
    assert_eq!(
        early.data_or_panic()["checkout"]["businessDate"],
        "2026-11-25"
    );

    // Another time zone has its own days: 19:30 UTC is still the 24th there.
    shop.client
        .query(
            "mutation { updateStore(input: { timezone: \"UTC\", closeoutHour: 0 }) { timezone } }",
            json!({}),
        )
        .await
        .data_or_panic();
    wait_for_calendar(&system, &shop.store_id, "UTC", 0).await;
    let total = shop.order(2, 1, 0).await;
    let utc = shop.checkout(2, "utc", json!([card(total)])).await;
    assert_eq!(
        utc.data_or_panic()["checkout"]["businessDate"],
        "2026-11-24"
    );
}

#[tokio::test]
async fn the_day_close_counts_against_the_books_once() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let first = shop.order(1, 1, 0).await;
    let sale = shop.checkout(1, "d-1", json!([cash(first, 5000)])).await;
    let sale_id = sale.data_or_panic()["checkout"]["id"].clone();
    let second = shop.order(2, 0, 1).await;
    shop.checkout(2, "d-2", json!([card(second)]))
        .await
        .data_or_panic();
    shop.client
        .query(
            REFUND,
            json!({ "i": { "saleId": sale_id, "idempotencyKey": "d-r", "method": "CASH" } }),
        )
        .await
        .data_or_panic();

    let close = "mutation($d: Date!, $c: [CountedInput!]!) { closeBusinessDay(businessDate: $d, counted: $c) { businessDate salesVolume saleCount methods { method expected counted difference } } }";
    let counted =
        json!([{ "method": "CASH", "amount": 100 }, { "method": "CARD", "amount": second }]);
    let closed = shop
        .client
        .query(close, json!({ "d": today(), "c": counted }))
        .await;
    let closed = &closed.data_or_panic()["closeBusinessDay"];
    assert_eq!(closed["salesVolume"], second, "sales minus refunds");
    assert_eq!(closed["saleCount"], 2);
    assert_eq!(
        closed["methods"],
        json!([
            { "method": "CARD", "expected": second, "counted": second, "difference": 0 },
            { "method": "CASH", "expected": 0, "counted": 100, "difference": 100 },
            { "method": "OTHER", "expected": 0, "counted": 0, "difference": 0 },
        ])
    );
    shop.client
        .query(close, json!({ "d": today(), "c": [] }))
        .await
        .expect_error("CONFLICT");
    let read = shop
        .client
        .query(
            "query($d: Date!) { dayClose(businessDate: $d) { saleCount } }",
            json!({ "d": today() }),
        )
        .await;
    assert_eq!(read.data_or_panic()["dayClose"]["saleCount"], 2);
}

#[tokio::test]
async fn another_store_can_neither_pay_refund_read_nor_resolve_the_sales() {
    let system = TestSystem::start().await;
    let a = shop(&system).await;
    let b = shop(&system).await;
    let total = a.order(6, 1, 0).await;
    let sale = a.checkout(6, "a-sale", json!([card(total)])).await;
    let sale_id = sale.data_or_panic()["checkout"]["id"].clone();
    a.order(7, 1, 0).await;

    // B's table 7 is B's own, and has no order.
    b.checkout(7, "b-1", json!([card(total)]))
        .await
        .expect_error("NOT_FOUND");
    assert_eq!(
        a.open_order(7).await["total"],
        total,
        "A's table is untouched"
    );
    b.client
        .query(
            REFUND,
            json!({ "i": { "saleId": sale_id, "idempotencyKey": "b-r" } }),
        )
        .await
        .expect_error("NOT_FOUND");
    let read = b
        .client
        .query(
            "query($id: ID!) { sale(id: $id) { id } }",
            json!({ "id": sale_id }),
        )
        .await;
    assert_eq!(read.data_or_panic()["sale"], Value::Null);
    let summary = b
        .client
        .query(SUMMARY, json!({ "f": today(), "t": today() }))
        .await;
    assert_eq!(summary.data_or_panic()["salesSummary"]["saleCount"], 0);

    let entities = system
        .direct("sale")
        .with_token(&b.token)
        .query(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Sale { id amount } } }",
            json!({ "r": [{ "__typename": "Sale", "id": sale_id }] }),
        )
        .await;
    entities.expect_error("NOT_FOUND");
    assert!(
        !entities.body.to_string().contains("amount"),
        "{}",
        entities.body
    );
}

#[tokio::test]
async fn an_older_calendar_never_overwrites_a_newer_one() {
    use salesync_sale::db::calendars;
    let system = TestSystem::start().await;
    let db = system.database("sale").await;
    let store = uuid::Uuid::now_v7();
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().expect("instant");
    let kept = |db| async move {
        calendars::find(db, store)
            .await
            .expect("find")
            .map(|c| (c.timezone, c.closeout_hour))
    };

    // Asked of the store subgraph at 10:00...
    calendars::upsert(&db, store, "Asia/Seoul", 4, at("2026-11-24T10:00:00Z"))
        .await
        .expect("upsert");
    // ...then an event from 09:00 arrives: it is older, and ignored.
    calendars::upsert(&db, store, "Asia/Seoul", 0, at("2026-11-24T09:00:00Z"))
        .await
        .expect("an older value is no error");
    assert_eq!(kept(&db).await, Some(("Asia/Seoul".to_string(), 4)));
    // A newer change wins.
    calendars::upsert(&db, store, "UTC", 2, at("2026-11-24T11:00:00Z"))
        .await
        .expect("upsert");
    assert_eq!(kept(&db).await, Some(("UTC".to_string(), 2)));
}

/// Recovery looks for pending sales every half minute through the index of
/// pending sales, even in the generic plan PostgreSQL keeps for a statement
/// a pooled connection ran five times, not by reading every sale made.
#[tokio::test]
async fn recovery_finds_pending_sales_through_their_index_in_every_plan() {
    let system = TestSystem::start().await;
    let db = system.database("sale").await;
    let statement = sales::pending_before_query(chrono::Utc::now()).build(DbBackend::Postgres);
    let plan = generic_plan(&db, statement).await;
    assert!(
        plan.contains("ix_sales_pending"),
        "recovery does not use the index of pending sales:\n{plan}"
    );
}
