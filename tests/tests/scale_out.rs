//! Two replicas of every subgraph behind two routers, sharing PostgreSQL and
//! the broker, as Kubernetes runs them: a terminal on one router sees what
//! another terminal did through the other, a checkout retried through the
//! other router is the same sale, and the read models count each sale once
//! although two replicas share the work.

use std::time::Duration;

use salesync_tests::{
    Options, TestBus, TestSystem, WsSubscription,
    access::{assert_accepted_everywhere, refused_everywhere},
};
use serde_json::json;

const PLACE: &str = "mutation($t: Int!, $i: ID!) { placeOrder(tableNo: $t, lines: [{ itemId: $i, quantity: 1 }]) { id total } }";
const CHECKOUT: &str = "mutation($t: Int!, $k: String!, $a: Money!) { checkout(input: { tableNo: $t, idempotencyKey: $k, payments: [{ method: CARD, amount: $a }] }) { id amount } }";

#[tokio::test]
async fn two_replicas_of_everything_behind_two_routers_act_as_one_system() {
    let system = TestSystem::start_with(Options {
        bus: TestBus::Kafka,
        ..Options::default()
    })
    .await;
    let second = system.replica().await;
    let shop = system.shop(&[("Tea", 3_000)]).await;
    let tea = shop.items[0].clone();
    let via_first = shop.client.clone();
    let via_second = second.client().with_token(&shop.token);

    // A terminal on the second router sees a change made through the first
    // (whichever order replica either router reached).
    let mut terminal = WsSubscription::start(
        &second.router_ws_url(),
        &shop.token,
        "subscription { tableChanged { tableNo } }",
    )
    .await;
    let mut seen = false;
    for _ in 0..20 {
        via_first
            .query(PLACE, json!({ "t": 1, "i": tea }))
            .await
            .data_or_panic();
        if terminal
            .next_data(Duration::from_millis(750))
            .await
            .is_some_and(|d| d["tableChanged"]["tableNo"] == 1)
        {
            seen = true;
            break;
        }
    }
    assert!(seen, "the terminal on the second router saw the change");

    // A checkout retried through the other router is the same sale.
    let total = via_first
        .query("{ openOrder(tableNo: 1) { total } }", json!({}))
        .await
        .data_or_panic()["openOrder"]["total"]
        .clone();
    let first = via_first
        .query(CHECKOUT, json!({ "t": 1, "k": "retried", "a": total }))
        .await;
    let retried = via_second
        .query(CHECKOUT, json!({ "t": 1, "k": "retried", "a": total }))
        .await;
    assert_eq!(
        first.data_or_panic()["checkout"]["id"],
        retried.data_or_panic()["checkout"]["id"]
    );
    let mut expected = total.as_i64().expect("a total");

    // More sales through both routers; the two dashboard replicas share
    // the consumer group and count each sale once.
    for table in 2..=7 {
        let client = if table % 2 == 0 {
            &via_first
        } else {
            &via_second
        };
        client
            .query(PLACE, json!({ "t": table, "i": tea }))
            .await
            .data_or_panic();
        client
            .query(
                CHECKOUT,
                json!({ "t": table, "k": format!("t{table}"), "a": 3_000 }),
            )
            .await
            .data_or_panic();
        expected += 3_000;
    }
    let volume = "query($d: Date!) { dailyVolumes(from: $d, to: $d) { salesVolume } }";
    let read = |client: salesync_tests::Client| async move {
        client
            .query(volume, json!({ "d": salesync_tests::today() }))
            .await
            .data_or_panic()["dailyVolumes"][0]["salesVolume"]
            .as_i64()
            .expect("a volume")
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while read(via_second.clone()).await != expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the dashboard did not reach {expected}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And stays there: nothing is counted twice later.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(read(via_first.clone()).await, expected);
    assert_eq!(read(via_second.clone()).await, expected);

    // A password change signs the store out of both replicas of every
    // subgraph, although each has just checked the token and remembers it
    // as good: each replica hears the revocation on the bus.
    assert_accepted_everywhere(&via_first).await;
    assert_accepted_everywhere(&via_second).await;
    via_first
        .query(
            "mutation { changePassword(currentPassword: \"the-password\", newPassword: \"another-password\") }",
            json!({}),
        )
        .await
        .data_or_panic();
    let within = Duration::from_secs(20);
    let first = refused_everywhere(&via_first, within).await;
    let second = refused_everywhere(&via_second, within).await;
    eprintln!(
        "both replicas refused the old token within {:?}",
        first.max(second)
    );
}

/// Replicas multiply connections: `SALESYNC_POOL__MAX_CONNECTIONS` and
/// `__BACKGROUND_CONNECTIONS` bound what each one holds, however many
/// requests arrive at once.
#[tokio::test(flavor = "multi_thread")]
async fn a_subgraph_never_holds_more_database_connections_than_its_pool_allows() {
    let system = TestSystem::start_with(Options {
        config: vec![
            ("pool.max_connections", "2".to_string()),
            ("pool.background_connections", "1".to_string()),
        ],
        ..Options::default()
    })
    .await;
    let shop = system.shop(&[("Bibimbap", 12_000), ("Tea", 3_000)]).await;
    // One connection exactly, so only the item subgraph's are counted (a
    // pool of the test's own could open a second beside the one asking).
    let watcher = salesync_common::db::connect(
        &system.database_url("item"),
        &salesync_common::db::PoolSettings {
            max_connections: Some(1),
            min_connections: Some(1),
            ..Default::default()
        },
    )
    .await
    .expect("database");
    let connections = || async {
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &watcher,
            sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT count(*) AS n FROM pg_stat_activity
                  WHERE datname = current_database() AND pid <> pg_backend_pid()",
            ),
        )
        .await
        .expect("pg_stat_activity")
        .expect("a row");
        row.try_get::<i64>("", "n").expect("a count")
    };

    let menu = "{ categories { name items { name price } } }";
    let load = futures::future::join_all((0..40).map(|_| {
        let client = shop.client.clone();
        async move { client.query(menu, json!({})).await.data_or_panic().clone() }
    }));
    tokio::pin!(load);
    let mut most = 0;
    loop {
        tokio::select! {
            answers = &mut load => {
                assert!(answers.iter().all(|a| a["categories"][0]["items"].as_array().is_some_and(|i| i.len() == 2)));
                break;
            }
            _ = tokio::time::sleep(Duration::from_millis(5)) => most = most.max(connections().await),
        }
    }
    most = most.max(connections().await);
    // Two for requests, one for background work (the relay, consumers).
    assert!(
        (1..=3).contains(&most),
        "the item subgraph held {most} connections"
    );
}
