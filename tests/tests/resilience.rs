//! Failures an operator meets, and what clients see through them.

use std::{
    sync::atomic::AtomicBool,
    time::{Duration, Instant},
};

use salesync_common::{
    db::{PING_WHEN_IDLE_FOR, PoolSettings, connect},
    events::outbox,
    testing::fresh_server_database,
};
use salesync_tests::{
    Options, OwnBroker, Shop, TestBus, TestSystem, WsSubscription,
    restaurant::{Log, Terminal, balanced_books, read_books},
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};
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

/// One terminal serves tables 1 and 2 for `seconds`; its receipts go to `log`.
async fn serve_for(shop: &Shop, log: &Log, seconds: u64) {
    let stop = AtomicBool::new(false);
    let terminal = Terminal::new(shop.client.clone(), shop.items.clone(), vec![1, 2], seconds);
    tokio::join!(terminal.serve(&stop, log), async {
        tokio::time::sleep(Duration::from_secs(seconds)).await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
    });
}

/// Waits until each subgraph's outbox is empty: the broker acknowledged
/// every event.
async fn published(system: &TestSystem, subgraphs: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for subgraph in subgraphs {
        let db = system.database(subgraph).await;
        while outbox::backlog(&db).await.expect("the backlog") > 0 {
            assert!(
                Instant::now() < deadline,
                "{subgraph}'s outbox did not drain"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sales_the_broker_lost_before_the_dashboard_read_them_are_published_again() {
    let mut broker = OwnBroker::start().await;
    let mut system = TestSystem::start_with(Options {
        bus: TestBus::KafkaAt(broker.port()),
        ..Options::default()
    })
    .await;
    let shop = system.shop(&[("Bibimbap", 12_000), ("Tea", 3_000)]).await;
    system.run_as_process("dashboard").await;
    let log = Log::default();
    serve_for(&shop, &log, 2).await;
    let counted = balanced_books(&shop.client, &log.receipts(), Duration::from_secs(60))
        .await
        .unwrap_or_else(|d| panic!("the dashboard counts the first sales: {d:#?}"));

    // The dashboard is down while the sales go on: their events wait on the
    // broker, read by nobody, and the broker then loses them all (memory
    // storage, restarted).
    system.terminate("dashboard").await;
    serve_for(&shop, &log, 2).await;
    let receipts = log.receipts();
    assert!(
        receipts.len() > counted.sales.len(),
        "sales were made while the dashboard was down"
    );
    published(&system, &["order", "sale"]).await;
    broker.restart().await;
    system.start_again("dashboard").await;

    // The relays notice the logs ended before their events and publish
    // them again; the dashboard counts each sale once.
    let books = balanced_books(&shop.client, &receipts, Duration::from_secs(90))
        .await
        .unwrap_or_else(|d| panic!("the lost sales never reached the dashboard: {d:#?}"));
    assert_eq!(books.sales.len(), receipts.len());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let again = read_books(&shop.client).await;
    assert_eq!(again.discrepancies(&receipts), Vec::<String>::new());
}

/// The server process behind the pool's one connection.
async fn backend_of(db: &DatabaseConnection) -> Result<i32, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT pg_backend_pid() AS pid",
        ))
        .await?
        .expect("a row");
    row.try_get("", "pid")
}

/// Closes a connection from the server's side, as a restart, a failover or
/// an idle timeout would, and waits until it is gone.
async fn close_from_the_server(admin: &DatabaseConnection, pid: i32) {
    let count = |sql: String| async move {
        admin
            .query_one_raw(Statement::from_string(admin.get_database_backend(), sql))
            .await
            .expect("the admin connection answers")
            .expect("a row")
            .try_get::<i64>("", "n")
            .expect("a count")
    };
    count(format!("SELECT count(pg_terminate_backend({pid})) AS n")).await;
    let alive = format!("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = {pid}");
    while count(alive.clone()).await > 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Every statement of a subgraph takes a pooled connection. One used a
/// moment ago is handed out as it is (testing it would cost a round trip
/// per transaction); one that sat idle is tested first, so a connection
/// the server closed meanwhile is replaced before a request meets it.
#[tokio::test]
async fn a_pooled_connection_is_tested_only_after_sitting_idle() {
    let url = fresh_server_database().url_for("pool").expect("url");
    let one = PoolSettings {
        max_connections: Some(1),
        min_connections: Some(1),
        ..PoolSettings::default()
    };
    let db = connect(&url, &one).await.expect("the pool");
    let admin = connect(&url, &one).await.expect("another pool");

    let first = backend_of(&db).await.expect("a connection");
    close_from_the_server(&admin, first).await;
    tokio::time::sleep(PING_WHEN_IDLE_FOR + Duration::from_millis(250)).await;
    let second = backend_of(&db)
        .await
        .expect("a connection closed while idle is replaced, not handed out");
    assert_ne!(first, second);

    // Closed within the second after its last use: the one statement that
    // meets it fails, and the pool replaces it. (The pool first takes the
    // connection back, which tests it: wait for that, or the test would
    // race it.)
    while db.get_postgres_connection_pool().num_idle() == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    close_from_the_server(&admin, second).await;
    assert!(
        backend_of(&db).await.is_err(),
        "a connection used a moment ago is handed out without a round trip"
    );
    let third = backend_of(&db)
        .await
        .expect("the closed connection is replaced");
    assert_ne!(second, third);
}

/// A change's writes go to PostgreSQL as one statement
/// ([`salesync_common::db::Writes`]): each write's rows are counted as if
/// it ran alone, and one that fails takes the others with it, inside a
/// transaction or not.
#[tokio::test]
async fn writes_sent_together_count_each_writes_rows_and_fail_together() {
    use salesync_common::db::Writes;
    use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};

    let url = fresh_server_database().url_for("writes").expect("url");
    let db = connect(&url, &PoolSettings::default())
        .await
        .expect("the pool");
    db.execute_unprepared(
        "CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL);
         CREATE TABLE tags (note_id int NOT NULL REFERENCES notes (id), tag text NOT NULL);
         INSERT INTO notes VALUES (1, 'soup'), (2, 'tea'), (3, 'cake');",
    )
    .await
    .expect("the tables");
    let (notes, tags) = (Alias::new("notes"), Alias::new("tags"));
    let (id, body, note_id, tag) = (
        Alias::new("id"),
        Alias::new("body"),
        Alias::new("note_id"),
        Alias::new("tag"),
    );
    let add_note = |at: i32| {
        Query::insert()
            .into_table(notes.clone())
            .columns([id.clone(), body.clone()])
            .values_panic([at.into(), "bread".into()])
            .to_owned()
    };
    let tag_note = |at: i32| {
        Query::insert()
            .into_table(tags.clone())
            .columns([note_id.clone(), tag.clone()])
            .values_panic([at.into(), "warm".into()])
            .values_panic([at.into(), "new".into()])
            .to_owned()
    };
    let rows = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("the rows")
                .iter()
                .map(|row| row.try_get_by_index::<String>(0).expect("a value"))
                .collect::<Vec<_>>()
        }
    };

    // A new note and its tags (which refer to it) in one statement, beside
    // an update of two rows, one of none and a delete.
    let mut writes = Writes::default();
    let added = writes.push(add_note(4));
    let tagged = writes.push(tag_note(4));
    let changed = writes.push(
        Query::update()
            .table(notes.clone())
            .value(body.clone(), "cold")
            .and_where(Expr::col(id.clone()).is_in([1, 3]))
            .to_owned(),
    );
    let none = writes.push(
        Query::update()
            .table(notes.clone())
            .value(body.clone(), "lost")
            .and_where(Expr::col(id.clone()).eq(99))
            .to_owned(),
    );
    let removed = writes.push(
        Query::delete()
            .from_table(notes.clone())
            .and_where(Expr::col(id.clone()).eq(2))
            .to_owned(),
    );
    let written = writes.exec(&db).await.expect("the writes");
    assert_eq!(
        [added, tagged, changed, none, removed].map(|write| written.rows(write)),
        [1, 2, 2, 0, 1]
    );
    let expected = ["1 cold", "3 cold", "4 bread"];
    let notes_now = "SELECT id || ' ' || body FROM notes ORDER BY id";
    assert_eq!(rows(notes_now).await, expected);

    // A note that exists already: its tags are not written either.
    let mut writes = Writes::default();
    writes.push(tag_note(3));
    writes.push(add_note(1));
    let refused = writes.exec(&db).await.expect_err("note 1 exists");
    assert!(
        refused.to_string().contains("notes_pkey"),
        "the key's violation: {refused}"
    );
    assert_eq!(rows(notes_now).await, expected);
    let tags_now = "SELECT note_id || ' ' || tag FROM tags ORDER BY tag";
    assert_eq!(rows(tags_now).await, ["4 new", "4 warm"]);
}
