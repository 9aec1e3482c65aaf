//! The order subgraph through the real router, on PostgreSQL: table orders
//! priced from the item subgraph, from several terminals at once.

use std::time::Duration;

use futures::future::join_all;
use salesync_order::db::{orders, table_turns};
use salesync_tests::{
    Client, INTERNAL_KEY, TestSystem, WsSubscription, lock_waits, plans::generic_plan,
    unique_username,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QueryTrait, Statement, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;

const PLACE: &str = "mutation($t: Int!, $l: [OrderLineInput!]!) { placeOrder(tableNo: $t, lines: $l) { id tableNo status total version lines { name unitPrice quantity amount item { id } } } }";
const SET: &str = "mutation($t: Int!, $l: [OrderLineInput!]!, $v: Int) { setOrderLines(tableNo: $t, lines: $l, expectedVersion: $v) { id status total version closedAt lines { name unitPrice quantity } } }";
const OPEN: &str = "query($t: Int!) { openOrder(tableNo: $t) { id total version lines { name unitPrice quantity } } }";

struct Shop {
    client: Client,
    token: String,
    tea: String,
    cake: String,
    soup: String,
}

/// A store with a small menu: tea 3000, cake 5500, soup 7000.
async fn shop(system: &TestSystem) -> Shop {
    let shop = system
        .shop(&[("Tea", 3000), ("Cake", 5500), ("Soup", 7000)])
        .await;
    Shop {
        tea: shop.items[0].clone(),
        cake: shop.items[1].clone(),
        soup: shop.items[2].clone(),
        client: shop.client,
        token: shop.token,
    }
}

fn line(item: &str, quantity: i64) -> Value {
    json!({ "itemId": item, "quantity": quantity })
}

fn quantities(order: &Value) -> Vec<(String, i64)> {
    order["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .map(|l| {
            (
                l["name"].as_str().expect("name").to_string(),
                l["quantity"].as_i64().expect("qty"),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_tables_whole_life_place_add_change_and_cancel_with_an_empty_list() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let c = &shop.client;

    let placed = c
        .query(
            PLACE,
            json!({ "t": 4, "l": [line(&shop.tea, 2), line(&shop.cake, 1)] }),
        )
        .await;
    let order = placed.data_or_panic()["placeOrder"].clone();
    assert_eq!(order["status"], "OPEN");
    assert_eq!(order["total"], 2 * 3000 + 5500, "computed by the server");
    assert_eq!(order["lines"][0]["amount"], 6000);
    assert_eq!(order["lines"][0]["item"]["id"], shop.tea.as_str());
    assert_eq!(order["version"], 1);

    // More tea joins the tea line.
    let added = c
        .query(PLACE, json!({ "t": 4, "l": [line(&shop.tea, 1)] }))
        .await;
    let added = added.data_or_panic()["placeOrder"].clone();
    assert_eq!(added["id"], order["id"], "one open order per table");
    assert_eq!(quantities(&added), [("Tea".into(), 3), ("Cake".into(), 1)]);
    assert_eq!(added["total"], 3 * 3000 + 5500);

    // The terminal replaces the lines.
    let changed = c
        .query(
            SET,
            json!({ "t": 4, "l": [line(&shop.cake, 2), line(&shop.soup, 1)], "v": 2 }),
        )
        .await;
    let changed = changed.data_or_panic()["setOrderLines"].clone();
    assert_eq!(
        quantities(&changed),
        [("Cake".into(), 2), ("Soup".into(), 1)]
    );
    assert_eq!(changed["total"], 2 * 5500 + 7000);
    assert_eq!(changed["version"], 3);

    let open = c
        .query(
            "{ openOrders { tableNo total } me { openOrders { tableNo } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        open.data_or_panic()["openOrders"],
        json!([{ "tableNo": 4, "total": 18000 }])
    );
    assert_eq!(
        open.data_or_panic()["me"]["openOrders"],
        json!([{ "tableNo": 4 }])
    );

    // An empty list cancels the order (the earlier system failed on it).
    let cancelled = c.query(SET, json!({ "t": 4, "l": [] })).await;
    let cancelled = cancelled.data_or_panic()["setOrderLines"].clone();
    assert_eq!(cancelled["status"], "CANCELLED");
    assert!(cancelled["closedAt"].is_string());
    let free = c.query(OPEN, json!({ "t": 4 })).await;
    assert_eq!(free.data_or_panic()["openOrder"], Value::Null);

    // The table can be opened again; cancelOrder closes it too.
    c.query(PLACE, json!({ "t": 4, "l": [line(&shop.tea, 1)] }))
        .await
        .data_or_panic();
    let cancel = c
        .query("mutation { cancelOrder(tableNo: 4) { status } }", json!({}))
        .await;
    assert_eq!(cancel.data_or_panic()["cancelOrder"]["status"], "CANCELLED");
    c.query("mutation { cancelOrder(tableNo: 4) { status } }", json!({}))
        .await
        .expect_error("NOT_FOUND");
}

#[tokio::test]
async fn two_terminals_opening_one_table_at_once_share_one_order() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    for table in 1..=4 {
        let results = join_all([
            shop.client
                .query(PLACE, json!({ "t": table, "l": [line(&shop.tea, 1)] })),
            shop.client
                .query(PLACE, json!({ "t": table, "l": [line(&shop.cake, 2)] })),
        ])
        .await;
        let ids: Vec<Value> = results
            .iter()
            .map(|r| r.data_or_panic()["placeOrder"]["id"].clone())
            .collect();
        assert_eq!(
            ids[0], ids[1],
            "table {table}: both terminals wrote into one order"
        );
        let open = shop.client.query(OPEN, json!({ "t": table })).await;
        let order = &open.data_or_panic()["openOrder"];
        let mut lines = quantities(order);
        lines.sort();
        assert_eq!(
            lines,
            [("Cake".into(), 2), ("Tea".into(), 1)],
            "table {table}"
        );
        assert_eq!(order["total"], 3000 + 2 * 5500);
    }
    let open = shop
        .client
        .query("{ openOrders { tableNo } }", json!({}))
        .await;
    assert_eq!(
        open.data_or_panic()["openOrders"].as_array().map(Vec::len),
        Some(4)
    );
}

#[tokio::test]
async fn many_terminals_adding_to_one_table_at_once_all_succeed() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let terminals = 40;
    let results = join_all((0..terminals).map(|_| {
        shop.client
            .query(PLACE, json!({ "t": 5, "l": [line(&shop.tea, 1)] }))
    }))
    .await;
    // No terminal is told to try again: each waits its turn at the table.
    for result in &results {
        assert!(result.errors().is_empty(), "{:?}", result.errors());
    }
    let open = shop.client.query(OPEN, json!({ "t": 5 })).await;
    let order = &open.data_or_panic()["openOrder"];
    assert_eq!(quantities(order), [("Tea".into(), terminals)]);
    assert_eq!(order["total"], terminals * 3000);
    // Every change was its own version: one opening, then one per addition.
    assert_eq!(order["version"], terminals);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn additions_are_never_refused_while_the_table_keeps_closing_under_them() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    // Thirty terminals add to table 6 while others keep cancelling its
    // order: each addition finds the order open, or closed a moment ago
    // (and opens the next one), or waits its turn. None is told to retry.
    let adders = join_all((0..30).map(|_| async {
        let mut refused = Vec::new();
        for _ in 0..8 {
            let placed = shop
                .client
                .query(PLACE, json!({ "t": 6, "l": [line(&shop.tea, 1)] }))
                .await;
            refused.extend(placed.errors().iter().map(|e| e.to_string()));
        }
        refused
    }));
    // Four closers, back to back: the order the adders wait for is often
    // gone when their turn comes.
    let closers = join_all((0..4).map(|_| async {
        let mut closed = 0;
        for _ in 0..80 {
            let cancelled = shop.client.query(SET, json!({ "t": 6, "l": [] })).await;
            if cancelled.errors().is_empty() {
                closed += 1;
            }
        }
        closed
    }));
    let (refusals, closed) = tokio::join!(adders, closers);
    let refusals: Vec<String> = refusals.into_iter().flatten().collect();
    let closed: i32 = closed.into_iter().sum();
    assert!(
        refusals.is_empty(),
        "{} refused: {refusals:?}",
        refusals.len()
    );
    assert!(
        closed > 5,
        "the table was closed under the terminals ({closed} times)"
    );
}

/// Polls until `want` connections wait for a lock.
async fn until_waiting(db: &DatabaseConnection, want: i64, what: &str) {
    let mut polls = 0;
    while lock_waits(db).await != want {
        polls += 1;
        assert!(polls < 1000, "{what}: {} waiting", lock_waits(db).await);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_goes_between_changes_to_its_tables_and_other_tables_never_wait() {
    let system = TestSystem::start().await;
    let db = system.database("order").await;
    let (store, other) = (Uuid::now_v7(), Uuid::now_v7());
    let turn = |store: Uuid, table: i32| {
        let db = db.clone();
        async move {
            let txn = db.begin().await.expect("a transaction");
            table_turns::take(&txn, store, table)
                .await
                .expect("the turn");
            txn
        }
    };
    // A change at the store's table 1 holds its turn. Its table 2, and
    // table 1 of another store, are free meanwhile.
    let change = turn(store, 1).await;
    for (store, table) in [(store, 2), (other, 1)] {
        tokio::time::timeout(Duration::from_secs(10), turn(store, table))
            .await
            .expect("another table does not wait")
            .commit()
            .await
            .expect("commit");
    }

    // The store's removal waits for the change, and the next change waits
    // for the removal.
    let closing = tokio::spawn({
        let db = db.clone();
        async move {
            let txn = db.begin().await.expect("a transaction");
            table_turns::close_store(&txn, store).await.expect("closed");
            txn
        }
    });
    until_waiting(&db, 1, "the removal waits for the change").await;
    let next = tokio::spawn(turn(store, 3));
    until_waiting(&db, 2, "the next change waits for the removal").await;
    assert!(!closing.is_finished() && !next.is_finished());

    change.commit().await.expect("the change ends");
    let closing = closing.await.expect("the removal goes ahead");
    until_waiting(&db, 1, "the next change still waits").await;
    assert!(!next.is_finished());
    closing.commit().await.expect("the store is gone");
    next.await
        .expect("the next change goes ahead")
        .commit()
        .await
        .expect("commit");
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_changes_nothing() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let c = &shop.client;
    c.query(PLACE, json!({ "t": 2, "l": [line(&shop.tea, 1)] }))
        .await
        .data_or_panic();
    // Terminal A changes the table, seen at version 1.
    let a = c
        .query(SET, json!({ "t": 2, "l": [line(&shop.tea, 5)], "v": 1 }))
        .await;
    assert_eq!(a.data_or_panic()["setOrderLines"]["version"], 2);
    // Terminal B still shows version 1.
    let b = c
        .query(SET, json!({ "t": 2, "l": [line(&shop.soup, 1)], "v": 1 }))
        .await;
    b.expect_error("CONFLICT");
    let b_cancel = c.query(SET, json!({ "t": 2, "l": [], "v": 1 })).await;
    b_cancel.expect_error("CONFLICT");

    let open = c.query(OPEN, json!({ "t": 2 })).await;
    let order = &open.data_or_panic()["openOrder"];
    assert_eq!(quantities(order), [("Tea".into(), 5)]);
    assert_eq!(order["version"], 2);
}

#[tokio::test]
async fn a_menu_price_change_leaves_lines_already_ordered_alone() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let c = &shop.client;
    c.query(PLACE, json!({ "t": 1, "l": [line(&shop.tea, 1)] }))
        .await
        .data_or_panic();
    c.query(
        "mutation($id: ID!) { updateItem(id: $id, input: { price: 3500, name: \"Green Tea\" }) { price } }",
        json!({ "id": shop.tea }),
    )
    .await
    .data_or_panic();

    let open = c.query(OPEN, json!({ "t": 1 })).await;
    let order = &open.data_or_panic()["openOrder"];
    assert_eq!(order["lines"][0]["unitPrice"], 3000);
    assert_eq!(order["lines"][0]["name"], "Tea", "the name as ordered");

    // Editing the table keeps the old price for what was ordered.
    let kept = c
        .query(SET, json!({ "t": 1, "l": [line(&shop.tea, 2)] }))
        .await;
    assert_eq!(kept.data_or_panic()["setOrderLines"]["total"], 6000);
    // A new round of tea is at the new price, on its own line.
    let more = c
        .query(PLACE, json!({ "t": 1, "l": [line(&shop.tea, 1)] }))
        .await;
    let more = more.data_or_panic()["placeOrder"].clone();
    assert_eq!(more["lines"].as_array().map(Vec::len), Some(2));
    assert_eq!(more["lines"][1]["unitPrice"], 3500);
    assert_eq!(more["total"], 2 * 3000 + 3500);
}

#[tokio::test]
async fn another_store_can_neither_see_nor_change_the_orders_nor_order_the_items() {
    let system = TestSystem::start().await;
    let a = shop(&system).await;
    let placed = a
        .client
        .query(PLACE, json!({ "t": 5, "l": [line(&a.tea, 1)] }))
        .await;
    let order_id = placed.data_or_panic()["placeOrder"]["id"].clone();
    let (token_b, _) = system.sign_up(&unique_username("b"), "the-password").await;
    let b = system.client().with_token(&token_b);

    let seen = b
        .query(
            "query($id: ID!) { openOrders { id } openOrder(tableNo: 5) { id } order(id: $id) { id } }",
            json!({ "id": order_id }),
        )
        .await;
    assert_eq!(
        seen.data_or_panic(),
        &json!({ "openOrders": [], "openOrder": null, "order": null })
    );
    b.query(SET, json!({ "t": 5, "l": [line(&a.cake, 1)] }))
        .await
        .expect_error("NOT_FOUND");
    b.query("mutation { cancelOrder(tableNo: 5) { id } }", json!({}))
        .await
        .expect_error("NOT_FOUND");
    // A's item is not on B's menu.
    b.query(PLACE, json!({ "t": 5, "l": [line(&a.tea, 1)] }))
        .await
        .expect_error("NOT_FOUND");
    let entities = system
        .direct("order")
        .with_token(&token_b)
        .query(
            "query($r: [_Any!]!) { _entities(representations: $r) { ... on Order { total } } }",
            json!({ "r": [{ "__typename": "Order", "id": order_id }] }),
        )
        .await;
    entities.expect_error("NOT_FOUND");

    // A's order is untouched.
    let open = a.client.query(OPEN, json!({ "t": 5 })).await;
    assert_eq!(
        quantities(&open.data_or_panic()["openOrder"]),
        [("Tea".into(), 1)]
    );
}

#[tokio::test]
async fn bad_orders_are_refused_before_anything_is_written() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let c = &shop.client;
    c.query(
        "mutation($id: ID!) { updateItem(id: $id, input: { soldOut: true }) { soldOut } }",
        json!({ "id": shop.cake }),
    )
    .await
    .data_or_panic();
    c.query(
        "mutation($id: ID!) { deleteItem(id: $id) }",
        json!({ "id": shop.soup }),
    )
    .await
    .data_or_panic();

    let cases: Vec<(i64, Vec<Value>, &str, Option<&str>)> = vec![
        (
            0,
            vec![line(&shop.tea, 1)],
            "BAD_USER_INPUT",
            Some("tableNo"),
        ),
        (
            13,
            vec![line(&shop.tea, 1)],
            "BAD_USER_INPUT",
            Some("tableNo"),
        ),
        (1, vec![], "BAD_USER_INPUT", Some("lines")),
        (
            1,
            vec![line(&shop.tea, 0)],
            "BAD_USER_INPUT",
            Some("lines[0].quantity"),
        ),
        (
            1,
            vec![line(&shop.tea, 1000)],
            "BAD_USER_INPUT",
            Some("lines[0].quantity"),
        ),
        (
            1,
            vec![line(&shop.tea, 1), line(&shop.cake, 1)],
            "BAD_USER_INPUT",
            Some("lines[1].itemId"),
        ),
        (
            1,
            vec![line(&shop.soup, 1)],
            "BAD_USER_INPUT",
            Some("lines[0].itemId"),
        ),
        (
            1,
            vec![line("0191d2c4-0000-7000-8000-000000000000", 1)],
            "NOT_FOUND",
            None,
        ),
        (1, vec![line("not-an-id", 1)], "NOT_FOUND", None),
        // Ids are never stored as text: a NUL byte names no item.
        (
            1,
            vec![line(&format!("{}\u{0}", shop.tea), 1)],
            "NOT_FOUND",
            None,
        ),
    ];
    for (table, lines, code, field) in cases {
        let response = c.query(PLACE, json!({ "t": table, "l": lines })).await;
        let error = response.expect_error(code);
        if let Some(field) = field {
            assert_eq!(error["extensions"]["field"], field, "{}", response.body);
        }
    }
    // Each line's item is looked up on its own: the unknown one is named.
    let unknown = c
        .query(
            PLACE,
            json!({ "t": 1, "l": [line(&shop.tea, 1), line("0191d2c4-0000-7000-8000-000000000000", 1)] }),
        )
        .await;
    assert_eq!(
        unknown.expect_error("NOT_FOUND")["message"],
        "no such item: lines[1].itemId"
    );
    let open = c.query("{ openOrders { id } }", json!({})).await;
    assert_eq!(
        open.data_or_panic()["openOrders"],
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn a_second_terminal_sees_the_first_terminals_change_through_the_router() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let (other_token, _) = system
        .sign_up(&unique_username("other"), "the-password")
        .await;
    let query = "subscription { tableChanged { tableNo status total lines { name quantity } } }";
    let mut terminal = WsSubscription::start(&system.router_ws_url(), &shop.token, query).await;
    let mut other_store = WsSubscription::start(&system.router_ws_url(), &other_token, query).await;

    // The subscription is live once the router has reached the subgraph;
    // until a change arrives, ring up another round.
    let mut seen = None;
    for round in 1..=20 {
        shop.client
            .query(PLACE, json!({ "t": 7, "l": [line(&shop.tea, 1)] }))
            .await
            .data_or_panic();
        if let Some(data) = terminal.next_data(Duration::from_millis(750)).await {
            seen = Some((round, data));
            break;
        }
    }
    let (round, data) = seen.expect("the second terminal received a change");
    let changed = &data["tableChanged"];
    assert_eq!(changed["tableNo"], 7);
    assert_eq!(changed["status"], "OPEN");
    assert_eq!(changed["lines"][0]["name"], "Tea");
    assert_eq!(
        changed["total"],
        changed["lines"][0]["quantity"].as_i64().expect("qty") * 3000
    );
    assert!(changed["lines"][0]["quantity"].as_i64().expect("qty") <= round);

    // A cancellation arrives too, in order after the changes.
    shop.client
        .query("mutation { cancelOrder(tableNo: 7) { id } }", json!({}))
        .await
        .data_or_panic();
    let mut last = changed.clone();
    while last["status"] != "CANCELLED" {
        last = terminal
            .next_data(Duration::from_secs(10))
            .await
            .expect("the cancellation arrives")["tableChanged"]
            .clone();
    }

    // Another store's terminal heard nothing of it.
    assert_eq!(
        other_store.next_data(Duration::from_millis(500)).await,
        None
    );
}

/// Statements the order and item subgraphs run for one query.
async fn statements(
    system: &TestSystem,
    client: &Client,
    query: &str,
    variables: Value,
) -> (u64, u64) {
    let (order, item) = (system.statements("order"), system.statements("item"));
    client.query(query, variables).await.data_or_panic();
    (
        system.statements("order") - order,
        system.statements("item") - item,
    )
}

#[tokio::test]
async fn open_orders_with_their_items_cost_a_fixed_number_of_statements() {
    let system = TestSystem::start().await;
    let small = shop(&system).await;
    small
        .client
        .query(PLACE, json!({ "t": 1, "l": [line(&small.tea, 1)] }))
        .await
        .data_or_panic();
    let large = shop(&system).await;
    for table in 1..=12 {
        large
            .client
            .query(PLACE, json!({ "t": table, "l": [line(&large.tea, 1), line(&large.cake, 2), line(&large.soup, 3)] }))
            .await
            .data_or_panic();
    }
    let query = "{ openOrders { tableNo lines { quantity item { name price } } } }";
    let (small_order, small_item) = statements(&system, &small.client, query, json!({})).await;
    let (large_order, large_item) = statements(&system, &large.client, query, json!({})).await;
    assert_eq!(
        (large_order, large_item),
        (small_order, small_item),
        "12 tables cost what 1 does"
    );
    // The orders with all their lines in one statement, and all the items
    // in one entity batch (the token's store is checked from memory).
    assert_eq!(
        (large_order, large_item),
        (1, 1),
        "order {large_order}, item {large_item}"
    );
}

#[tokio::test]
async fn placing_an_order_costs_a_fixed_number_of_statements() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let place = |table: i64| json!({ "t": table, "l": [line(&shop.tea, 1)] });
    // The first order reads the store's facts, or asks for them if no
    // event brought them yet, and keeps them.
    shop.client.query(PLACE, place(1)).await.data_or_panic();

    let opened = statements(&system, &shop.client, PLACE, place(2)).await;
    let added = statements(&system, &shop.client, PLACE, place(2)).await;
    // The order subgraph: the table's turn, the open order with its lines
    // in one statement, then the order, its new or changed line and the
    // event in another; the store's facts come from memory. The item
    // subgraph: the items.
    assert_eq!(opened, (3, 1), "opening: (order, item)");
    assert_eq!(added, (3, 1), "adding: (order, item)");
}

/// The stored rows of an order's lines, in position order: each row's id
/// and its physical version (PostgreSQL's `xmin`, new whenever the row is
/// written).
async fn line_rows(system: &TestSystem, order_id: &str) -> Vec<(String, String)> {
    let db = system.database("order").await;
    db.query_all_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id::text AS id, xmin::text AS version FROM order_lines \
         WHERE order_id = $1::uuid ORDER BY position",
        [order_id.into()],
    ))
    .await
    .expect("the order's lines")
    .iter()
    .map(|row| {
        (
            row.try_get::<String>("", "id").expect("id"),
            row.try_get::<String>("", "version").expect("version"),
        )
    })
    .collect()
}

#[tokio::test]
async fn a_change_to_an_order_writes_only_the_lines_it_changes() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let placed = shop
        .client
        .query(
            PLACE,
            json!({ "t": 2, "l": [line(&shop.tea, 1), line(&shop.cake, 1)] }),
        )
        .await;
    let order_id = placed.data_or_panic()["placeOrder"]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let first = line_rows(&system, &order_id).await;
    assert_eq!(first.len(), 2);

    // A new dish: one row more, the others as they were.
    shop.client
        .query(PLACE, json!({ "t": 2, "l": [line(&shop.soup, 1)] }))
        .await
        .data_or_panic();
    let added = line_rows(&system, &order_id).await;
    assert_eq!(added.len(), 3);
    assert_eq!(added[..2], first[..], "tea and cake were not rewritten");

    // One more tea: its row changes in place, nothing else.
    let more = shop
        .client
        .query(PLACE, json!({ "t": 2, "l": [line(&shop.tea, 1)] }))
        .await;
    assert_eq!(
        more.data_or_panic()["placeOrder"]["lines"][0]["quantity"],
        2
    );
    let bumped = line_rows(&system, &order_id).await;
    assert_eq!(bumped[0].0, added[0].0, "the same row");
    assert_ne!(bumped[0].1, added[0].1, "written anew");
    assert_eq!(bumped[1..], added[1..], "cake and soup were not rewritten");

    // Cancelling changes the order, not its lines.
    shop.client
        .query("mutation { cancelOrder(tableNo: 2) { status } }", json!({}))
        .await
        .data_or_panic();
    assert_eq!(line_rows(&system, &order_id).await, bumped);
}

#[tokio::test]
async fn the_sale_subgraph_pays_a_table_through_an_endpoint_clients_cannot_reach() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    shop.client
        .query(PLACE, json!({ "t": 3, "l": [line(&shop.tea, 2)] }))
        .await
        .data_or_panic();

    // Not part of the public API.
    system
        .client()
        .with_token(&shop.token)
        .query(
            "mutation { closeOrderAsPaid(tableNo: 3) { id } }",
            json!({}),
        )
        .await
        .expect_error("GRAPHQL_VALIDATION_FAILED");

    let open = shop
        .client
        .query("{ openOrder(tableNo: 3) { id version } }", json!({}))
        .await;
    let read = open.data_or_panic()["openOrder"].clone();
    let pay_url = system
        .url("order")
        .replace("/graphql", "/internal/orders/pay");
    let http = reqwest::Client::new();
    let sale = uuid::Uuid::new_v4();
    let pay = |key: Option<&'static str>, sale: uuid::Uuid| {
        let mut request = http.post(&pay_url).bearer_auth(&shop.token).json(
            &json!({ "tableNo": 3, "saleId": sale, "orderId": read["id"], "version": read["version"] }),
        );
        if let Some(key) = key {
            request = request.header("x-salesync-internal-key", key);
        }
        request.send()
    };
    let refused = pay(None, sale).await.expect("response");
    assert_eq!(refused.status(), 403);
    let wrong = pay(Some("guess"), sale).await.expect("response");
    assert_eq!(wrong.status(), 403);
    // Only the order at the version the sale read is paid.
    let stale = http
        .post(&pay_url)
        .bearer_auth(&shop.token)
        .header("x-salesync-internal-key", INTERNAL_KEY)
        .json(&json!({ "tableNo": 3, "saleId": sale, "orderId": read["id"], "version": 99 }))
        .send()
        .await
        .expect("response");
    assert_eq!(stale.status(), 409);

    let paid = pay(Some(INTERNAL_KEY), sale).await.expect("response");
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.expect("json");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["total"], 6000, "the authoritative total");
    assert_eq!(paid["lines"][0]["quantity"], 2);

    // Retrying with the same sale returns the same order; nothing else changes.
    let again: Value = pay(Some(INTERNAL_KEY), sale)
        .await
        .expect("response")
        .json()
        .await
        .expect("json");
    assert_eq!(again, paid);
    let other_sale = pay(Some(INTERNAL_KEY), uuid::Uuid::new_v4())
        .await
        .expect("response");
    assert_eq!(other_sale.status(), 404, "no open order is left to pay");

    let today = chrono::Utc::now().date_naive();
    let listed = shop
        .client
        .query(
            "query($f: Date!, $t: Date!) { openOrder(tableNo: 3) { id } orders(from: $f, to: $t, status: PAID) { id total status } }",
            json!({ "f": today.pred_opt().expect("yesterday").to_string(), "t": today.succ_opt().expect("tomorrow").to_string() }),
        )
        .await;
    let data = listed.data_or_panic();
    assert_eq!(data["openOrder"], Value::Null);
    assert_eq!(
        data["orders"],
        json!([{ "id": paid["id"], "total": 6000, "status": "PAID" }])
    );
}

#[tokio::test]
async fn orders_are_listed_by_business_day_which_turns_at_the_closeout_hour() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    let placed = shop
        .client
        .query(PLACE, json!({ "t": 5, "l": [line(&shop.tea, 1)] }))
        .await;
    let id = placed.data_or_panic()["placeOrder"]["id"].clone();
    let opened: chrono::DateTime<chrono::Utc> = shop
        .client
        .query(
            "query($t: Int!) { openOrder(tableNo: $t) { openedAt } }",
            json!({ "t": 5 }),
        )
        .await
        .data_or_panic()["openOrder"]["openedAt"]
        .as_str()
        .expect("openedAt")
        .parse()
        .expect("RFC 3339");
    // A time zone in which the order was opened before 23:00, so a closeout
    // one hour later puts it on the day before.
    let (timezone, local) = [chrono_tz::Asia::Seoul, chrono_tz::UTC]
        .into_iter()
        .map(|tz| (tz, opened.with_timezone(&tz)))
        .find(|(_, local)| chrono::Timelike::hour(local) < 23)
        .expect("one of two zones nine hours apart is before 23:00");
    let closeout = chrono::Timelike::hour(&local) + 1;
    let today = local.date_naive();
    let yesterday = today.pred_opt().expect("a day before");
    // The order subgraph follows a calendar change through the store's
    // events: within a moment, not by the very next read. So each listing
    // is read until it shows what is expected, for at most 10 s.
    let listed = |from: chrono::NaiveDate, to: chrono::NaiveDate, expected: Value| {
        let client = shop.client.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let response = client
                    .query(
                        "query($f: Date!, $t: Date!) { orders(from: $f, to: $t) { id } }",
                        json!({ "f": from.to_string(), "t": to.to_string() }),
                    )
                    .await;
                let orders = response.data_or_panic()["orders"].clone();
                if orders == expected || std::time::Instant::now() > deadline {
                    return orders;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    shop.client
        .query(
            "mutation($z: String!) { updateStore(input: { timezone: $z }) { timezone } }",
            json!({ "z": timezone.name() }),
        )
        .await
        .data_or_panic();
    assert_eq!(
        listed(today, today, json!([{ "id": id }])).await,
        json!([{ "id": id }]),
        "midnight closeout"
    );

    shop.client
        .query(
            "mutation($h: Int!) { updateStore(input: { closeoutHour: $h }) { closeoutHour } }",
            json!({ "h": closeout }),
        )
        .await
        .data_or_panic();
    assert_eq!(
        listed(today, today, json!([])).await,
        json!([]),
        "before the closeout hour"
    );
    assert_eq!(
        listed(yesterday, yesterday, json!([{ "id": id }])).await,
        json!([{ "id": id }]),
        "it belongs to the business day before"
    );
}

#[tokio::test]
async fn taking_and_listing_orders_asks_nothing_of_the_store_subgraph() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    // The first order may ask: the store's profile event may still be on
    // its way. From then on the order subgraph has its own copy.
    shop.client
        .query(PLACE, json!({ "t": 1, "l": [line(&shop.tea, 1)] }))
        .await
        .data_or_panic();
    let before = system.statements("store");
    for table in 2..=4 {
        shop.client
            .query(PLACE, json!({ "t": table, "l": [line(&shop.cake, 1)] }))
            .await
            .data_or_panic();
    }
    let today = salesync_tests::today().to_string();
    let listed = shop
        .client
        .query(
            "query($d: Date!) { orders(from: $d, to: $d) { tableNo } }",
            json!({ "d": today }),
        )
        .await;
    assert_eq!(
        listed.data_or_panic()["orders"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(
        system.statements("store"),
        before,
        "no call reached the store subgraph"
    );

    // A table the owner added a moment ago is taken at once, however far
    // the copy lags behind; one beyond the new count is still refused.
    shop.client
        .query(
            "mutation { updateStore(input: { tableCount: 40 }) { tableCount } }",
            json!({}),
        )
        .await
        .data_or_panic();
    shop.client
        .query(PLACE, json!({ "t": 40, "l": [line(&shop.soup, 1)] }))
        .await
        .data_or_panic();
    shop.client
        .query(PLACE, json!({ "t": 41, "l": [line(&shop.soup, 1)] }))
        .await
        .expect_error("BAD_USER_INPUT");
}

/// The open orders are read by column position, not by sea-orm's reading
/// of each column by name: both must make the same orders and lines of the
/// same rows.
#[tokio::test]
async fn open_orders_read_by_position_are_what_reading_by_name_gives() {
    let system = TestSystem::start().await;
    let shop = shop(&system).await;
    for (table, lines) in [
        (1, vec![line(&shop.tea, 1), line(&shop.cake, 2)]),
        (2, vec![line(&shop.soup, 3)]),
        (2, vec![line(&shop.tea, 1)]),
        (5, vec![line(&shop.cake, 1)]),
    ] {
        shop.client
            .query(PLACE, json!({ "t": table, "l": lines }))
            .await
            .data_or_panic();
    }
    let db = system.database("order").await;
    let store: uuid::Uuid = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT store_id FROM orders LIMIT 1",
        ))
        .await
        .expect("a query")
        .expect("an order")
        .try_get("", "store_id")
        .expect("a store id");
    let flat = |orders: Vec<orders::WithLines>| -> Vec<_> {
        orders
            .into_iter()
            .flat_map(|(order, lines)| {
                lines
                    .into_iter()
                    .map(move |line| (order.clone(), Some(line)))
            })
            .collect()
    };
    let by_name = orders::open_of_store_query(store)
        .all(&db)
        .await
        .expect("read");
    assert_eq!(by_name.len(), 5, "five lines at three tables");
    let by_position = orders::open_of_store(&db, store).await.expect("read");
    assert_eq!(flat(by_position), by_name);
    let by_name = orders::open_at_table_query(store, 2)
        .all(&db)
        .await
        .expect("read");
    let by_position = orders::open_at_table(&db, store, 2).await.expect("read");
    assert_eq!(flat(by_position.into_iter().collect()), by_name);
}

/// Every change of an order finds the table's open order first, and the
/// open-tables screen lists them all: both through the index of open
/// tables, even in the generic plan PostgreSQL keeps for a statement a
/// pooled connection ran five times. Without it each lookup reads every
/// order the store ever closed, and `placeOrder` slows as the store grows.
#[tokio::test]
async fn open_orders_are_found_through_the_open_tables_index_in_every_plan() {
    let system = TestSystem::start().await;
    let db = system.database("order").await;
    let store = uuid::Uuid::new_v4();
    for (query, statement) in [
        ("open_at_table", orders::open_at_table_query(store, 3)),
        ("open_of_store", orders::open_of_store_query(store)),
    ] {
        let plan = generic_plan(&db, statement.build(DbBackend::Postgres)).await;
        assert!(
            plan.contains("uq_orders_open_table"),
            "{query} does not use the index of open tables:\n{plan}"
        );
    }
}
