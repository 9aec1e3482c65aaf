//! Failures an operator meets, and what clients see through them.

use std::time::{Duration, Instant};

use salesync_tests::{Options, OwnBroker, Shop, TestBus, TestSystem, WsSubscription};
use serde_json::{Value, json};

const TABLES: &str = "subscription { tableChanged { tableNo status } }";
const PLACE: &str = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 1 }]) { id } }";

/// Subscribes to `tableChanged` as a terminal would: while the live feed is
/// refused (`UNAVAILABLE`), waits and tries again, for at most `limit`.
async fn follow_tables(system: &TestSystem, token: &str, limit: Duration) -> WsSubscription {
    let started = Instant::now();
    loop {
        let mut subscription = WsSubscription::start(&system.router_ws_url(), token, TABLES).await;
        match subscription.next_message(Duration::from_secs(2)).await {
            // Nothing yet: the subscription is open.
            None => return subscription,
            Some(message) => {
                assert_eq!(
                    unavailable(&message),
                    Some(true),
                    "only UNAVAILABLE may refuse it: {message}"
                );
            }
        }
        assert!(
            started.elapsed() < limit,
            "tableChanged was refused for {limit:?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Whether `message` is a result carrying the `UNAVAILABLE` error; None
/// when it carries no error at all.
fn unavailable(message: &Value) -> Option<bool> {
    let errors = match message["type"].as_str() {
        Some("next") => message["payload"]["errors"].as_array(),
        Some("error") => message["payload"].as_array(),
        _ => None,
    }?;
    Some(errors.iter().any(|e| {
        e["extensions"]["code"] == "INTERNAL" && e["extensions"]["reason"] == "UNAVAILABLE"
    }))
}

async fn place(shop: &Shop, table: i64) {
    shop.client
        .query(PLACE, json!({ "t": table, "i": shop.items[0] }))
        .await
        .data_or_panic();
}

/// Waits for the change of `table`, skipping others.
async fn change_of(subscription: &mut WsSubscription, table: i64, limit: Duration) -> Value {
    let deadline = Instant::now() + limit;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Some(data) = subscription.next_data(left).await else {
            break;
        };
        if data["tableChanged"]["tableNo"] == table {
            return data["tableChanged"].clone();
        }
    }
    panic!("no change of table {table} within {limit:?}");
}

#[tokio::test]
async fn a_terminal_learns_of_a_broker_outage_and_follows_again_once_it_returns_empty() {
    let mut broker = OwnBroker::start().await;
    let system = TestSystem::start_with(Options {
        bus: TestBus::KafkaAt(broker.port()),
        ..Options::default()
    })
    .await;
    let shop = system.shop(&[("Tea", 3_000)]).await;
    let mut terminal = follow_tables(&system, &shop.token, Duration::from_secs(30)).await;
    place(&shop, 1).await;
    assert_eq!(
        change_of(&mut terminal, 1, Duration::from_secs(15)).await["status"],
        "OPEN"
    );

    // The broker goes away: the terminal is told instead of going quiet.
    broker.stop().await;
    let told = terminal
        .next_message(Duration::from_secs(30))
        .await
        .expect("the terminal is told within 30 s");
    assert_eq!(unavailable(&told), Some(true), "{told}");
    let ended = terminal.next_message(Duration::from_secs(5)).await;
    assert_eq!(
        ended.as_ref().map(|m| m["type"].clone()),
        Some(json!("complete")),
        "{ended:?}"
    );

    // Orders are still taken; their events wait in the outbox.
    place(&shop, 2).await;

    // The broker returns with nothing it had (memory storage). The terminal
    // subscribes again once the feed reads the bus, re-reads the floor, and
    // then misses no change.
    broker.restart().await;
    let mut terminal = follow_tables(&system, &shop.token, Duration::from_secs(90)).await;
    let open = shop
        .client
        .query("{ openOrders { tableNo } }", json!({}))
        .await;
    let mut tables: Vec<i64> = open.data_or_panic()["openOrders"]
        .as_array()
        .expect("orders")
        .iter()
        .filter_map(|o| o["tableNo"].as_i64())
        .collect();
    tables.sort_unstable();
    assert_eq!(tables, [1, 2]);
    for table in 3..=5 {
        place(&shop, table).await;
        assert_eq!(
            change_of(&mut terminal, table, Duration::from_secs(15)).await["status"],
            "OPEN",
            "table {table}"
        );
    }
}
