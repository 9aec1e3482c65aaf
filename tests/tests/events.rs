//! The event backbone against the real Kafka-protocol broker and PostgreSQL:
//! the outbox, the relay, idempotent consumers, both delivery modes, and its
//! first use (a deleted store's menu is removed from the item subgraph).

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use async_trait::async_trait;
use salesync_common::{
    db::{Database, connect_and_migrate},
    events::{
        BusTarget, Delivery, Event, EventBus, Happened, Latency, Message, Outgoing, Subscription,
        consumer::{self, Applied, Handler},
        feed::{Envelope, Feed, Notice, ONE_STORE_BACKLOG},
        kafka::KafkaBus,
        memory::MemoryBus,
        migration::{CreateLogEpochs, CreateOutbox, CreateOutboxPositions, CreateProcessedEvents},
        outbox::{self, OutboxSignal, Relay},
        retention,
    },
    shutdown::{self, Stop, Trigger},
    testing::fresh_server_database,
};
use salesync_order::db::table_turns;
use salesync_tests::{
    Options, OwnBroker, TestBus, TestSystem, kafka_brokers, kafka_settings, lock_waits,
    rows_of_store, unique_username,
};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, Statement,
    TransactionTrait,
};
use sea_orm_migration::{MigrationTrait, MigratorTrait, prelude::*};
use serde_json::json;
use uuid::Uuid;

const TOPIC: &str = "salesync.stores";

/// The shared event tables plus `effects`, where the test handler leaves one
/// row per application (with the transaction it was applied in), so a
/// double application shows.
struct TestMigrator;

struct CreateEffects;

impl MigrationName for CreateEffects {
    fn name(&self) -> &str {
        "m20261124_900000_create_effects"
    }
}

#[async_trait]
impl MigrationTrait for CreateEffects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS effects (id BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, \
                 txid BIGINT NOT NULL DEFAULT txid_current())",
            )
            .await
            .map(|_| ())
    }
}

#[async_trait]
impl MigratorTrait for TestMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateOutbox),
            Box::new(CreateProcessedEvents),
            Box::new(CreateOutboxPositions),
            Box::new(CreateLogEpochs),
            Box::new(CreateEffects),
        ]
    }
}

async fn database() -> DatabaseConnection {
    counted_database().await.conn
}

/// A fresh database, with the count of the statements run through `conn`.
async fn counted_database() -> Database {
    salesync_tests::init_logs();
    let url = fresh_server_database().url_for("events").expect("url");
    connect_and_migrate::<TestMigrator>(&url, &Default::default())
        .await
        .expect("database")
}

struct RecordEffect;

#[async_trait]
impl Handler for RecordEffect {
    fn name(&self) -> &'static str {
        "test.record-effect"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO effects (event_id) VALUES ($1)",
            [event.id.into()],
        ))
        .await?;
        Ok(())
    }
}

/// Applies as [`RecordEffect`] (the same consumer), then holds its
/// transaction open a while.
struct SlowEffect;

#[async_trait]
impl Handler for SlowEffect {
    fn name(&self) -> &str {
        RecordEffect.name()
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        RecordEffect.handle(txn, event).await?;
        txn.execute_unprepared("SELECT pg_sleep(0.5)").await?;
        Ok(())
    }
}

/// Applies as [`RecordEffect`], but fails the first time it meets the
/// poisoned event.
struct FailsOnceOn {
    poisoned: Uuid,
    failed: AtomicBool,
}

impl FailsOnceOn {
    fn new(poisoned: Uuid) -> Self {
        FailsOnceOn {
            poisoned,
            failed: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl Handler for FailsOnceOn {
    fn name(&self) -> &str {
        RecordEffect.name()
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        RecordEffect.handle(txn, event).await?;
        if event.id == self.poisoned && !self.failed.swap(true, Ordering::SeqCst) {
            anyhow::bail!("the poisoned event fails the first time");
        }
        Ok(())
    }
}

/// Applies as [`RecordEffect`], a batch's effects in one statement, and
/// keeps the ids of each batch it was given.
#[derive(Default)]
struct RecordTogether {
    given: std::sync::Mutex<Vec<Vec<Uuid>>>,
}

#[async_trait]
impl Handler for RecordTogether {
    fn name(&self) -> &str {
        RecordEffect.name()
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        self.handle_all(txn, &[event]).await
    }

    async fn handle_all(&self, txn: &DatabaseTransaction, events: &[&Event]) -> anyhow::Result<()> {
        let ids: Vec<Uuid> = events.iter().map(|event| event.id).collect();
        let rows: Vec<String> = (1..=ids.len()).map(|n| format!("(${n})")).collect();
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("INSERT INTO effects (event_id) VALUES {}", rows.join(", ")),
            ids.iter().map(|&id| id.into()),
        ))
        .await?;
        self.given.lock().expect("given").push(ids);
        Ok(())
    }
}

/// How often each event id was applied.
async fn effects(db: &DatabaseConnection) -> HashMap<Uuid, i64> {
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT event_id, COUNT(*) AS n FROM effects GROUP BY event_id",
        ))
        .await
        .expect("effects");
    rows.iter()
        .map(|row| {
            (
                row.try_get::<Uuid>("", "event_id").expect("event_id"),
                row.try_get::<i64>("", "n").expect("n"),
            )
        })
        .collect()
}

/// How many transactions the applied events were applied in.
async fn transactions(db: &DatabaseConnection) -> i64 {
    db.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT COUNT(DISTINCT txid) AS n FROM effects",
    ))
    .await
    .expect("transactions")
    .expect("a row")
    .try_get::<i64>("", "n")
    .expect("n")
}

/// Runs the test consumer in `group` on `bus` until `stop`.
fn record_effects(
    bus: Arc<dyn EventBus>,
    db: &DatabaseConnection,
    group: &str,
    stop: Stop,
) -> tokio::task::JoinHandle<()> {
    consume_with(bus, db, group, Arc::new(RecordEffect), stop)
}

/// Runs `handler` in `group` on `bus` until `stop`.
fn consume_with(
    bus: Arc<dyn EventBus>,
    db: &DatabaseConnection,
    group: &str,
    handler: Arc<dyn Handler>,
    stop: Stop,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(consumer::run(
        bus,
        db.clone(),
        TOPIC,
        group.to_string(),
        handler,
        salesync_common::metrics::Metrics::new("test"),
        stop,
    ))
}

/// Waits until every one of `ids` was applied, at most `limit`; how often
/// each was.
async fn applied_within(
    db: &DatabaseConnection,
    ids: &[Uuid],
    limit: Duration,
) -> HashMap<Uuid, i64> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let applied = effects(db).await;
        if ids.iter().all(|id| applied.contains_key(id)) || tokio::time::Instant::now() > deadline {
            return applied;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn enqueue(db: &DatabaseConnection, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let event = Event::new("TestHappened", Uuid::new_v4(), json!({ "n": ids.len() }));
        let txn = db.begin().await.expect("begin");
        outbox::enqueue(&txn, TOPIC, &event).await.expect("enqueue");
        txn.commit().await.expect("commit");
        ids.push(event.id);
    }
    ids
}

async fn kafka_bus(brokers: &str) -> Arc<dyn EventBus> {
    let bus = KafkaBus::connect(&kafka_settings(brokers), "test").expect("bus");
    bus.ensure_topics(&[TOPIC]).await.expect("topics");
    Arc::new(bus)
}

/// Reads events until `want` distinct ids arrived or `limit` passed.
async fn receive(
    subscription: &mut Box<dyn Subscription>,
    want: usize,
    limit: Duration,
) -> Vec<Event> {
    let mut events = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        while events.len() < want {
            let message = subscription.next().await.expect("message");
            events.push(serde_json::from_slice::<Event>(&message.payload).expect("an event"));
            // A commit can fail while the group rebalances; the next one covers it.
            let _ = subscription.commit(&message).await;
        }
    })
    .await;
    events
}

fn stopper() -> (Trigger, Stop) {
    shutdown::channel()
}

#[tokio::test]
async fn an_event_written_in_a_rolled_back_transaction_is_never_published() {
    let db = database().await;
    let bus = kafka_bus(&kafka_brokers()).await;
    let mut subscription = bus
        .subscribe(TOPIC, Delivery::Group("g".into()))
        .await
        .expect("sub");

    let doomed = Event::new("TestHappened", Uuid::new_v4(), json!({}));
    let txn = db.begin().await.expect("begin");
    outbox::enqueue(&txn, TOPIC, &doomed)
        .await
        .expect("enqueue");
    txn.rollback().await.expect("rollback");
    let kept = enqueue(&db, 1).await;

    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    assert_eq!(relay.relay_once().await.expect("relay"), 1);
    assert_eq!(relay.relay_once().await.expect("relay"), 0, "nothing left");

    let received = receive(&mut subscription, 2, Duration::from_secs(15)).await;
    let ids: Vec<Uuid> = received.iter().map(|e| e.id).collect();
    assert_eq!(ids, kept, "only the committed event arrives");
}

#[tokio::test]
async fn a_batch_relayed_at_once_keeps_each_stores_events_in_commit_order() {
    let db = database().await;
    let bus = kafka_bus(&kafka_brokers()).await;
    let mut watcher = bus
        .subscribe(TOPIC, Delivery::Broadcast(Latency::Live))
        .await
        .expect("sub");

    // Three stores' events interleaved, each committed on its own: the
    // relay finds them all pending and sends them as one batch.
    let stores = [Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4()];
    let mut sent: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for n in 0..60 {
        let store = stores[n % stores.len()];
        let event = Event::new("TestHappened", store, json!({ "n": n }));
        let txn = db.begin().await.expect("begin");
        outbox::enqueue(&txn, TOPIC, &event).await.expect("enqueue");
        txn.commit().await.expect("commit");
        sent.entry(store).or_default().push(event.id);
    }
    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    assert_eq!(relay.relay_once().await.expect("relay"), 60, "one batch");

    let mut heard: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while heard.values().map(Vec::len).sum::<usize>() < 60 {
        let message = tokio::time::timeout_at(deadline, watcher.next())
            .await
            .expect("all 60 arrive")
            .expect("message");
        let event: Event = serde_json::from_slice(&message.payload).expect("an event");
        if stores.contains(&event.store_id) {
            heard.entry(event.store_id).or_default().push(event.id);
        }
    }
    assert_eq!(
        heard, sent,
        "every store's events, each once, in the order committed"
    );
    // The offsets the relay recorded for the batch are where the logs
    // are: a relay that checks them finds nothing lost to publish again.
    let checking = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    assert_eq!(
        checking.relay_once().await.expect("relay"),
        0,
        "nothing pending and nothing lost"
    );
}

#[tokio::test]
async fn a_batch_costs_the_same_statements_whatever_its_size() {
    let db = counted_database().await;
    let bus = kafka_bus(&kafka_brokers()).await;
    let relay = Relay::new(db.conn.clone(), bus, OutboxSignal::default());
    // The first batch also compares the logs with the saved positions.
    enqueue(&db.conn, 1).await;
    assert_eq!(relay.relay_once().await.expect("relay"), 1);

    let mut costs = Vec::new();
    for size in [1, 2, 40] {
        enqueue(&db.conn, size).await;
        let before = db.statements.get();
        assert_eq!(relay.relay_once().await.expect("relay"), size);
        costs.push(db.statements.get() - before);
    }
    // The relay's lock, the batch taken and marked published at once, and
    // where it landed.
    assert_eq!(costs, [3, 3, 3], "statements per batch of 1, 2 and 40");
    assert_eq!(outbox::backlog(&db.conn).await.expect("backlog"), 0);
}

#[tokio::test]
async fn events_written_while_the_broker_is_down_arrive_once_applied_once_it_returns() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let brokers = format!("127.0.0.1:{port}");
    let mut broker = OwnBroker::start_on(port).await;
    let db = database().await;
    let bus = kafka_bus(&brokers).await;

    // Before the outage: one event goes through.
    let mut ids = enqueue(&db, 1).await;
    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    assert_eq!(relay.relay_once().await.expect("relay"), 1);

    // The broker goes away; changes keep committing, their events wait.
    broker.stop().await;
    ids.extend(enqueue(&db, 5).await);
    assert!(
        relay.relay_once().await.is_err(),
        "publishing fails while the broker is down"
    );
    assert_eq!(
        outbox::backlog(&db).await.expect("backlog"),
        5,
        "the events wait in the outbox"
    );

    // It comes back (empty: its storage is memory) and topics are recreated.
    let _broker = OwnBroker::start_on(port).await;
    bus.ensure_topics(&[TOPIC]).await.expect("topics");
    let (stop_tx, stop) = stopper();
    let relay_task = tokio::spawn(
        Relay::new(db.clone(), bus.clone(), OutboxSignal::default()).run(stop.clone()),
    );
    let consumer_task = record_effects(bus.clone(), &db, "g", stop);

    let applied = applied_within(&db, &ids, Duration::from_secs(60)).await;
    stop_tx.stop();
    let _ = tokio::join!(relay_task, consumer_task);

    assert_eq!(
        outbox::backlog(&db).await.expect("backlog"),
        0,
        "nothing left behind"
    );
    // The first event, too: the broker lost it with its log before anyone
    // read it, and the relay published it again.
    for id in &ids {
        assert_eq!(
            applied.get(id),
            Some(&1),
            "event {id} must be applied exactly once: {applied:?}"
        );
    }
}

/// Every message on `bus`'s test topic from its start: (event id, replayed).
async fn log_of(bus: &MemoryBus) -> Vec<(Uuid, bool)> {
    let mut reader = bus
        .subscribe(TOPIC, Delivery::Group(Uuid::new_v4().to_string()))
        .await
        .expect("sub");
    let end = bus.ends(TOPIC).await.expect("ends")[0].offset;
    let mut log = Vec::new();
    for _ in 0..end {
        let message = reader.next().await.expect("message");
        let event: Event = serde_json::from_slice(&message.payload).expect("an event");
        log.push((event.id, message.replayed));
    }
    log
}

#[tokio::test]
async fn a_relay_that_finds_the_log_lost_publishes_the_kept_events_again_first() {
    let db = database().await;
    let bus = MemoryBus::new();
    let shared: Arc<dyn EventBus> = Arc::new(bus.clone());
    let before = enqueue(&db, 3).await;
    let relay = Relay::new(db.clone(), shared.clone(), OutboxSignal::default());
    assert_eq!(relay.relay_once().await.expect("relay"), 3);

    // The bus loses everything; a relay starting now looks before it
    // publishes: the kept events go out again, in order, then the new one.
    bus.lose_everything();
    let after = enqueue(&db, 1).await;
    let restarted = Relay::new(db.clone(), shared.clone(), OutboxSignal::default());
    assert_eq!(restarted.relay_once().await.expect("relay"), 4);
    let expected: Vec<(Uuid, bool)> = before
        .iter()
        .map(|id| (*id, true))
        .chain([(after[0], false)])
        .collect();
    assert_eq!(log_of(&bus).await, expected);
    assert_eq!(
        restarted.relay_once().await.expect("relay"),
        0,
        "nothing twice"
    );
}

#[tokio::test]
async fn a_relay_that_is_given_a_lower_offset_stops_and_publishes_the_kept_events_again() {
    given_a_lower_offset(false).await;
}

#[tokio::test]
async fn a_log_found_lost_while_publishing_is_published_again_by_the_replica_relaying_next() {
    given_a_lower_offset(true).await;
}

/// A relay publishes, the bus loses its log, and the relay's next batch
/// lands at a lower offset; then it relays again, or (`another`) a replica
/// that never saw the lower offset does.
async fn given_a_lower_offset(another: bool) {
    let db = database().await;
    let bus = MemoryBus::new();
    let relay = Relay::new(db.clone(), Arc::new(bus.clone()), OutboxSignal::default());
    let before = enqueue(&db, 2).await;
    assert_eq!(relay.relay_once().await.expect("relay"), 2);

    // Lost between two batches of a running relay: the next event lands at
    // offset 0, below what was published there, and the batch fails...
    bus.lose_everything();
    let after = enqueue(&db, 1).await;
    assert!(relay.relay_once().await.is_err(), "the loss is noticed");
    assert_eq!(outbox::backlog(&db).await.expect("backlog"), 1);
    // ...then the kept events go out again, and the new one after them.
    let next = if another {
        Relay::new(db.clone(), Arc::new(bus.clone()), OutboxSignal::default())
    } else {
        relay
    };
    assert_eq!(next.relay_once().await.expect("relay"), 3);
    let log = log_of(&bus).await;
    assert_eq!(
        log,
        [
            (after[0], false),
            (before[0], true),
            (before[1], true),
            (after[0], false)
        ]
    );
}

#[tokio::test]
async fn a_service_started_while_the_broker_is_down_catches_up_once_it_is_up() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let settings = kafka_settings(&format!("127.0.0.1:{port}"));
    let db = database().await;

    // No broker yet: connecting (topics and all) neither fails nor stalls the start-up.
    let started = tokio::time::Instant::now();
    let bus = salesync_common::events::connect(&BusTarget::Kafka(settings), "test")
        .await
        .expect("a subgraph starts without its broker");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "connecting without a broker took {:?}",
        started.elapsed()
    );
    let ids = enqueue(&db, 3).await;
    let (stop_tx, stop) = stopper();
    let relay_task = tokio::spawn(
        Relay::new(db.clone(), bus.clone(), OutboxSignal::default()).run(stop.clone()),
    );
    let consumer_task = record_effects(bus.clone(), &db, "g", stop);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(effects(&db).await.is_empty());

    let _broker = OwnBroker::start_on(port).await;
    let applied = applied_within(&db, &ids, Duration::from_secs(90)).await;
    stop_tx.stop();
    let _ = tokio::join!(relay_task, consumer_task);
    for id in &ids {
        assert_eq!(applied.get(id), Some(&1), "event {id}: {applied:?}");
    }
}

#[tokio::test]
async fn a_consumer_killed_before_committing_its_offset_does_not_apply_twice() {
    let db = database().await;
    let bus = kafka_bus(&kafka_brokers()).await;
    let ids = enqueue(&db, 1).await;
    Relay::new(db.clone(), bus.clone(), OutboxSignal::default())
        .relay_once()
        .await
        .expect("relay");

    // The first member applies the event, then dies before committing.
    let group = Delivery::Group("g".into());
    let mut first = bus.subscribe(TOPIC, group.clone()).await.expect("sub");
    let message = tokio::time::timeout(Duration::from_secs(30), first.next())
        .await
        .expect("the event arrives")
        .expect("message");
    let event: Event = serde_json::from_slice(&message.payload).expect("event");
    assert_eq!(event.id, ids[0]);
    assert_eq!(
        consumer::apply(&db, &RecordEffect, &event)
            .await
            .expect("apply"),
        Applied::Now
    );
    drop(first);

    // Its replacement gets the event again, and skips it.
    let mut second = bus.subscribe(TOPIC, group).await.expect("sub");
    let again = tokio::time::timeout(Duration::from_secs(60), second.next())
        .await
        .expect("the uncommitted event is delivered again")
        .expect("message");
    let redelivered: Event = serde_json::from_slice(&again.payload).expect("event");
    assert_eq!(redelivered.id, event.id);
    assert_eq!(
        consumer::apply(&db, &RecordEffect, &redelivered)
            .await
            .expect("apply"),
        Applied::Before
    );
    assert_eq!(effects(&db).await.get(&event.id), Some(&1));
}

#[tokio::test]
async fn two_members_applying_one_event_at_once_apply_it_once_and_neither_fails() {
    let db = database().await;
    let event = Event::new("Tested", Uuid::new_v4(), json!({}));

    // The second starts while the first is inside its transaction.
    let (first, second) = tokio::join!(consumer::apply(&db, &SlowEffect, &event), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        consumer::apply(&db, &SlowEffect, &event).await
    });
    let first = first.expect("the first applies it");
    let second = second.expect("the duplicate is not an error");
    assert_eq!((first, second), (Applied::Now, Applied::Before));
    assert_eq!(effects(&db).await.get(&event.id), Some(&1));
}

#[tokio::test]
async fn a_batch_is_applied_whole_or_not_at_all_each_event_once() {
    let db = database().await;
    let events: Vec<Event> = (0..5)
        .map(|n| Event::new("Tested", Uuid::new_v4(), json!({ "n": n })))
        .collect();
    assert_eq!(
        consumer::apply(&db, &RecordEffect, &events[1])
            .await
            .expect("apply"),
        Applied::Now
    );

    // The fourth fails: none of the batch is applied.
    let handler = FailsOnceOn::new(events[3].id);
    assert!(consumer::apply_all(&db, &handler, &events).await.is_err());
    assert_eq!(effects(&db).await.len(), 1, "only the one applied before");

    // Given again, with the first id twice: the new ones are applied, each
    // once, together.
    let mut again = events.clone();
    again.push(events[0].clone());
    let applied = consumer::apply_all(&db, &handler, &again)
        .await
        .expect("applied");
    use Applied::{Before, Now};
    assert_eq!(applied, [Now, Before, Now, Now, Now, Before]);
    let applied = effects(&db).await;
    for event in &events {
        assert_eq!(applied.get(&event.id), Some(&1), "{applied:?}");
    }
    assert_eq!(transactions(&db).await, 2, "one before, one for the batch");
}

/// A batch is recorded as applied in one statement, which tells the new
/// events from those applied before: the handler is given the new ones
/// together, each once and in order, and the bookkeeping costs the same
/// statements whatever the batch's size.
#[tokio::test]
async fn a_batch_is_recorded_at_once_and_its_new_events_reach_the_handler_together() {
    let db = counted_database().await;
    let tested = |n: usize| -> Vec<Event> {
        (0..n)
            .map(|n| Event::new("Tested", Uuid::new_v4(), json!({ "n": n })))
            .collect()
    };
    let handler = RecordTogether::default();
    let mut costs = Vec::new();
    for size in [1, 2, 40] {
        let events = tested(size);
        let before = db.statements.get();
        consumer::apply_all(&db.conn, &handler, &events)
            .await
            .expect("applied");
        costs.push(db.statements.get() - before);
    }
    // The record and the handler's one statement (the transaction's begin
    // and commit are not counted).
    assert_eq!(costs, [2, 2, 2], "statements per batch of 1, 2 and 40");

    let events = tested(5);
    consumer::apply(&db.conn, &RecordEffect, &events[1])
        .await
        .expect("applied");
    let mut again = events.clone();
    again.insert(3, events[0].clone());
    again.push(events[4].clone());
    handler.given.lock().expect("given").clear();
    let applied = consumer::apply_all(&db.conn, &handler, &again)
        .await
        .expect("applied");
    use Applied::{Before, Now};
    assert_eq!(applied, [Now, Before, Now, Before, Now, Now, Before]);
    let expected: Vec<Uuid> = [0, 2, 3, 4].iter().map(|&n| events[n].id).collect();
    assert_eq!(*handler.given.lock().expect("given"), [expected]);
    let effects = effects(&db.conn).await;
    for event in &events {
        assert_eq!(effects.get(&event.id), Some(&1), "{effects:?}");
    }

    // All applied before: the handler is not called.
    consumer::apply_all(&db.conn, &handler, &events)
        .await
        .expect("applied");
    assert_eq!(handler.given.lock().expect("given").len(), 1);
}

#[tokio::test]
async fn a_consumer_that_is_behind_applies_what_waits_in_a_few_transactions() {
    let broker = OwnBroker::start().await;
    let bus = kafka_bus(&broker.address()).await;
    let db = database().await;
    let ids = enqueue_for(&db, Uuid::new_v4(), 300).await;
    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    while relay.relay_once().await.expect("relay") > 0 {}

    let applied = consume_until_applied(&db, &bus, "g", &ids).await;
    for id in &ids {
        assert_eq!(applied.get(id), Some(&1), "event {id}: {applied:?}");
    }
    // One per event, before: 300.
    let transactions = transactions(&db).await;
    assert!(
        transactions <= 30,
        "300 waiting events applied in {transactions} transactions"
    );
}

#[tokio::test]
async fn an_event_that_fails_in_a_batch_is_retried_alone_and_the_rest_applied_once() {
    let broker = OwnBroker::start().await;
    let bus = kafka_bus(&broker.address()).await;
    let db = database().await;
    let ids = enqueue_for(&db, Uuid::new_v4(), 20).await;
    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    while relay.relay_once().await.expect("relay") > 0 {}

    let handler = Arc::new(FailsOnceOn::new(ids[10]));
    let (stop_tx, stop) = stopper();
    let task = consume_with(bus, &db, "g", handler.clone(), stop);
    let applied = applied_within(&db, &ids, Duration::from_secs(60)).await;
    stop_tx.stop();
    task.await.expect("the consumer stops");
    for id in &ids {
        assert_eq!(applied.get(id), Some(&1), "event {id}: {applied:?}");
    }
    assert!(handler.failed.load(Ordering::SeqCst), "it failed once");
}

#[tokio::test]
async fn broadcast_replicas_each_see_every_event_and_a_group_shares_them() {
    let bus = kafka_bus(&kafka_brokers()).await;
    let mut replica_a = bus
        .subscribe(TOPIC, Delivery::Broadcast(Latency::Live))
        .await
        .expect("sub");
    let mut replica_b = bus
        .subscribe(TOPIC, Delivery::Broadcast(Latency::Live))
        .await
        .expect("sub");
    let group = Delivery::Group("workers".into());
    let mut worker_a = bus.subscribe(TOPIC, group.clone()).await.expect("sub");
    let mut worker_b = bus.subscribe(TOPIC, group).await.expect("sub");

    // Keys spread over the partitions.
    let mut sent = HashSet::new();
    for n in 0..24 {
        let event = Event::new("TestHappened", Uuid::new_v4(), json!({ "n": n }));
        let payload = serde_json::to_vec(&event).expect("json");
        bus.publish(TOPIC, &event.key(), &payload)
            .await
            .expect("publish");
        sent.insert(event.id);
    }

    for replica in [&mut replica_a, &mut replica_b] {
        let got: HashSet<Uuid> = receive(replica, sent.len(), Duration::from_secs(30))
            .await
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(got, sent, "every broadcast subscriber sees every event");
    }

    // The two workers of one group: together all events, none twice. The
    // second member's join rebalances the partitions a moment later, so
    // events go out in waves until both have worked on some.
    let mut group_sent = sent.clone();
    let (mut a, mut b): (Vec<Uuid>, Vec<Uuid>) = (Vec::new(), Vec::new());
    for wave in 0..15 {
        if wave > 0 {
            for n in 0..8 {
                let event = Event::new(
                    "TestHappened",
                    Uuid::new_v4(),
                    json!({ "wave": wave, "n": n }),
                );
                let payload = serde_json::to_vec(&event).expect("json");
                bus.publish(TOPIC, &event.key(), &payload)
                    .await
                    .expect("publish");
                group_sent.insert(event.id);
            }
        }
        let (got_a, got_b) = tokio::join!(
            receive(&mut worker_a, usize::MAX, Duration::from_secs(3)),
            receive(&mut worker_b, usize::MAX, Duration::from_secs(3)),
        );
        a.extend(got_a.iter().map(|e| e.id));
        b.extend(got_b.iter().map(|e| e.id));
        if !a.is_empty() && !b.is_empty() && a.len() + b.len() >= group_sent.len() {
            break;
        }
    }
    let mut all: Vec<Uuid> = a.iter().chain(b.iter()).copied().collect();
    let total = all.len();
    all.sort();
    all.dedup();
    assert_eq!(total, all.len(), "no event went to both workers");
    assert_eq!(
        all.into_iter().collect::<HashSet<_>>(),
        group_sent,
        "the group got every event"
    );
    assert!(
        !a.is_empty() && !b.is_empty(),
        "the group split the events: {} and {}",
        a.len(),
        b.len()
    );
}

/// Publishes `payloads` under one key in one batch, as the relay does.
async fn publish_together(bus: &dyn EventBus, topic: &str, key: &str, payloads: &[Vec<u8>]) {
    let batch: Vec<Outgoing> = payloads
        .iter()
        .map(|payload| Outgoing {
            topic,
            key,
            payload,
            replayed: false,
            epoch: 0,
        })
        .collect();
    bus.publish_all(&batch).await.expect("publish");
}

/// A feed's reading of the test events: their number.
fn numbered(event: &Envelope<'_>) -> anyhow::Result<Option<u64>> {
    let payload = event.payload_as::<serde_json::Value>()?;
    let n = payload["n"]
        .as_u64()
        .ok_or_else(|| anyhow::anyhow!("a numbered event"))?;
    Ok(Some(n))
}

// One thread, as a feed and its subscribers share a worker in a service.
#[tokio::test(flavor = "current_thread")]
async fn a_follower_that_keeps_up_hears_a_burst_of_its_stores_events_whole() {
    let bus = kafka_bus(&kafka_brokers()).await;
    let feed = Feed::<u64>::default();
    let (trigger, stop) = stopper();
    let running = tokio::spawn(
        feed.clone()
            .run(bus.clone(), TOPIC, Latency::Live, numbered, stop),
    );
    while !feed.is_live() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let store = Uuid::new_v4();
    let mut follower = feed.follow(store).expect("live");

    // Published at once, so the broker hands them over in one fetch: many
    // times what a store's backlog holds.
    let burst = 8 * ONE_STORE_BACKLOG as u64;
    let payloads: Vec<Vec<u8>> = (0..burst)
        .map(|n| {
            let event = Event::new("TestHappened", store, json!({ "n": n }));
            serde_json::to_vec(&event).expect("json")
        })
        .collect();
    // The follower listens in its own task from before the burst is sent,
    // as a subscription's connection does: the feed may hand the burst on
    // while the publisher here still waits for the broker's acknowledgement.
    let listening = tokio::spawn(async move {
        for expected in 0..burst {
            match follower.recv().await {
                Ok(Notice::Event(n)) => assert_eq!(*n, expected, "in order, none skipped"),
                other => panic!("cut off after {expected} of {burst} events: {other:?}"),
            }
        }
    });
    publish_together(bus.as_ref(), TOPIC, &store.to_string(), &payloads).await;

    let heard = tokio::time::timeout(Duration::from_secs(30), listening).await;
    heard
        .expect("the burst arrived within 30 s")
        .expect("the follower heard it whole");
    trigger.stop();
    running.await.expect("the feed ends");
}

/// Rows of `table` in `service`'s database that belong to `store_id`.
async fn rows_of(system: &TestSystem, service: &str, table: &str, store_id: &str) -> i64 {
    let store_id = Uuid::parse_str(store_id).expect("uuid");
    rows_of_store(&system.database(service).await, table, store_id).await
}

async fn deleting_a_store_removes_its_data_everywhere(bus: TestBus) {
    let system = TestSystem::start_with(Options {
        bus,
        ..Options::default()
    })
    .await;
    let (token, store_id) = system
        .sign_up(&unique_username("gone"), "the-password")
        .await;
    let client = system.client().with_token(&token);
    let category = client
        .query(
            "mutation { createCategory(name: \"Drinks\") { id } }",
            json!({}),
        )
        .await;
    let category = category.data_or_panic()["createCategory"]["id"].clone();
    let tea = client
        .query(
            "mutation($c: ID!) { createItem(input: { categoryId: $c, name: \"Tea\", price: 3000 }) { id } }",
            json!({ "c": category }),
        )
        .await;
    let tea = tea.data_or_panic()["createItem"]["id"].clone();
    client
        .query(
            "mutation($i: ID!) { placeOrder(tableNo: 1, lines: [{ itemId: $i, quantity: 2 }]) { id } }",
            json!({ "i": tea }),
        )
        .await
        .data_or_panic();
    client
        .query(
            "mutation { checkout(input: { tableNo: 1, idempotencyKey: \"gone\", payments: [{ method: CARD, amount: 6000 }] }) { id } }",
            json!({}),
        )
        .await
        .data_or_panic();
    client
        .query(
            "mutation($i: ID!) { placeOrder(tableNo: 2, lines: [{ itemId: $i, quantity: 1 }]) { id } }",
            json!({ "i": tea }),
        )
        .await
        .data_or_panic();
    // Another store's data must survive.
    let (other_token, other_id) = system
        .sign_up(&unique_username("stays"), "the-password")
        .await;
    let other = system.client().with_token(&other_token);
    other
        .query(
            "mutation { createCategory(name: \"Mine\") { id } }",
            json!({}),
        )
        .await
        .data_or_panic();

    let deleted = client
        .query(
            "mutation { deleteStore(password: \"the-password\") }",
            json!({}),
        )
        .await;
    assert_eq!(deleted.data_or_panic()["deleteStore"], true);

    // Each subgraph refuses the store's (unexpired) token as soon as it
    // hears of StoreDeleted, and its consumer removes the store's rows.
    for (service, probe, tables) in [
        ("item", "{ categories { id } }", vec!["categories", "items"]),
        ("order", "{ openOrders { id } }", vec!["orders"]),
        (
            "sale",
            "{ salesSummary(from: \"2026-01-01\", to: \"2026-01-02\") { saleCount } }",
            vec!["sales", "refunds", "store_calendars"],
        ),
        (
            "dashboard",
            "{ dailyVolumes(from: \"2026-01-01\", to: \"2026-01-02\") { date } }",
            vec!["counted_sales", "daily_sales", "daily_item_sales"],
        ),
    ] {
        let mut refused = false;
        for _ in 0..150 {
            let direct = system.direct(service);
            let response = direct
                .with_token(&token)
                .query("{ __typename }", json!({}))
                .await;
            let probe = direct.with_token(&token).query(probe, json!({})).await;
            if response.errors().is_empty()
                && probe.error_code().as_deref() == Some("UNAUTHENTICATED")
            {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(refused, "{service} still accepts the deleted store's token");
        for table in tables {
            let mut left = rows_of(&system, service, table, &store_id).await;
            for _ in 0..150 {
                if left == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
                left = rows_of(&system, service, table, &store_id).await;
            }
            assert_eq!(left, 0, "{service}.{table}");
        }
    }
    assert_eq!(rows_of(&system, "item", "categories", &other_id).await, 1);

    // Nothing new can be written with the old token, through the router either.
    client
        .query(
            "mutation { createCategory(name: \"Again\") { id } }",
            json!({}),
        )
        .await
        .expect_error("UNAUTHENTICATED");
    let kept = other.query("{ categories { name } }", json!({})).await;
    assert_eq!(
        kept.data_or_panic()["categories"],
        json!([{ "name": "Mine" }])
    );
}

#[tokio::test]
async fn deleting_a_store_removes_its_data_everywhere_through_kafka() {
    deleting_a_store_removes_its_data_everywhere(TestBus::Kafka).await;
}

#[tokio::test]
async fn deleting_a_store_removes_its_data_everywhere_through_the_in_process_bus() {
    deleting_a_store_removes_its_data_everywhere(TestBus::InProcess).await;
}

/// Writes bookkeeping rows as if they were `age` old: an outbox row
/// (published or still waiting) and an applied event's id. One transaction:
/// a relay must never see the row before it is aged.
async fn bookkeeping(db: &DatabaseConnection, age: chrono::Duration, published: bool) -> Uuid {
    let at = chrono::Utc::now() - age;
    let event = Event::new("TestHappened", Uuid::new_v4(), json!({}));
    let txn = db.begin().await.expect("begin");
    outbox::enqueue(&txn, TOPIC, &event).await.expect("enqueue");
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE outbox SET created_at = $1, published_at = $2 WHERE event_id = $3",
        [at.into(), published.then_some(at).into(), event.id.into()],
    ))
    .await
    .expect("age the outbox row");
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO processed_events (consumer, event_id, processed_at) VALUES ('test', $1, $2)",
        [event.id.into(), at.into()],
    ))
    .await
    .expect("an applied event");
    txn.commit().await.expect("commit");
    event.id
}

async fn remaining(db: &DatabaseConnection, table: &str, ids: &[Uuid]) -> Vec<Uuid> {
    let mut left = Vec::new();
    for id in ids {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                format!("SELECT COUNT(*) AS n FROM {table} WHERE event_id = $1"),
                [(*id).into()],
            ))
            .await
            .expect("count")
            .expect("a row");
        if row.try_get::<i64>("", "n").expect("n") > 0 {
            left.push(*id);
        }
    }
    left
}

#[tokio::test]
async fn pruning_forgets_old_bookkeeping_but_never_an_event_still_waiting() {
    let db = database().await;
    let old = bookkeeping(&db, chrono::Duration::days(20), true).await;
    let recent = bookkeeping(&db, chrono::Duration::days(3), true).await;
    let waiting = bookkeeping(&db, chrono::Duration::days(30), false).await;

    let pruned = retention::prune(&db, chrono::Utc::now(), 14, true)
        .await
        .expect("prune");
    assert_eq!(
        pruned,
        retention::Pruned {
            outbox: 1,
            processed_events: 2,
        }
    );
    let all = [old, recent, waiting];
    assert_eq!(remaining(&db, "outbox", &all).await, [recent, waiting]);
    assert_eq!(remaining(&db, "processed_events", &all).await, [recent]);
}

#[tokio::test]
async fn every_subgraph_prunes_on_its_schedule() {
    let system = TestSystem::start_with(Options {
        config: vec![("retention.every_seconds", "1".to_string())],
        ..Options::default()
    })
    .await;
    for service in ["order", "sale"] {
        let db = system.database(service).await;
        let old = bookkeeping(&db, chrono::Duration::days(15), true).await;
        let recent = bookkeeping(&db, chrono::Duration::days(13), true).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while !remaining(&db, "outbox", &[old]).await.is_empty()
            || !remaining(&db, "processed_events", &[old]).await.is_empty()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{service} did not prune within 15 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(remaining(&db, "outbox", &[recent]).await, [recent]);
        assert_eq!(
            remaining(&db, "processed_events", &[recent]).await,
            [recent]
        );
    }
}

/// The next message within 20 s, with its payload as text.
async fn next_of(subscription: &mut Box<dyn Subscription>) -> (String, Message) {
    let message = tokio::time::timeout(Duration::from_secs(20), subscription.next())
        .await
        .expect("the next event arrives")
        .expect("message");
    (
        String::from_utf8_lossy(&message.payload).into_owned(),
        message,
    )
}

#[tokio::test]
async fn a_group_member_resuming_inside_a_batch_gets_the_rest_of_it() {
    let bus = kafka_bus(&kafka_brokers()).await;
    let topic = "salesync.test-resume";
    bus.ensure_topics(&[topic]).await.expect("topic");
    let group = Delivery::Group(Uuid::new_v4().to_string());
    let mut first = bus.subscribe(topic, group.clone()).await.expect("sub");

    // Five events of one store published together, as the relay does.
    let payloads: Vec<Vec<u8>> = (0..5).map(|n| format!("event {n}").into_bytes()).collect();
    publish_together(bus.as_ref(), topic, "one store", &payloads).await;

    // A member applies two and stops; the next member of the group goes on
    // from there.
    for n in 0..2 {
        let (payload, message) = next_of(&mut first).await;
        assert_eq!(payload, format!("event {n}"));
        first.commit(&message).await.expect("commit");
    }
    drop(first);
    let mut second = bus.subscribe(topic, group).await.expect("sub");
    for n in 2..5 {
        let (payload, _) = next_of(&mut second).await;
        assert_eq!(payload, format!("event {n}"), "nothing skipped");
    }
}

/// Writes `n` events of one store to the outbox; their ids.
async fn enqueue_for(db: &DatabaseConnection, store: Uuid, n: usize) -> Vec<Uuid> {
    let txn = db.begin().await.expect("begin");
    let mut ids = Vec::new();
    for n in 0..n {
        let event = Event::new("TestHappened", store, json!({ "n": n }));
        outbox::enqueue(&txn, TOPIC, &event).await.expect("enqueue");
        ids.push(event.id);
    }
    txn.commit().await.expect("commit");
    ids
}

/// Runs the test consumer in group `group` until `ids` are all applied or
/// 60 s passed; how often each was applied.
async fn consume_until_applied(
    db: &DatabaseConnection,
    bus: &Arc<dyn EventBus>,
    group: &str,
    ids: &[Uuid],
) -> HashMap<Uuid, i64> {
    let (stop_tx, stop) = stopper();
    let task = record_effects(bus.clone(), db, group, stop);
    let applied = applied_within(db, ids, Duration::from_secs(60)).await;
    stop_tx.stop();
    task.await.expect("the consumer stops");
    applied
}

#[tokio::test]
async fn a_committed_offset_from_a_lost_log_does_not_skip_the_new_one() {
    // The stale offset (12) lies inside the new log (16 messages).
    committed_offset_from_a_lost_log(2).await;
}

#[tokio::test]
async fn a_committed_offset_past_the_end_of_the_new_log_does_not_skip_it() {
    // The stale offset (24) lies past the new log's end (16), less than a
    // record batch away: a member resuming a batch early must not take the
    // new log's messages for ones the group had.
    committed_offset_from_a_lost_log(4).await;
}

/// Six events sent `copies` times to a broker that then loses its log; a
/// member that outlived the loss commits its old position (6 × `copies`)
/// into the new log of 16 messages; the group must still apply the new
/// events.
async fn committed_offset_from_a_lost_log(copies: usize) {
    let mut broker = OwnBroker::start().await;
    let bus = kafka_bus(&broker.address()).await;
    let db = database().await;
    let relay = Relay::new(db.clone(), bus.clone(), OutboxSignal::default());
    let store = Uuid::new_v4();
    let group = "g";

    // Six events, sent again (a relay that crashed before marking its batch
    // sends it again): the log holds 6 × `copies` messages, and the group
    // applied the six and committed the offset after the last.
    let old = enqueue_for(&db, store, 6).await;
    let mut first = bus
        .subscribe(TOPIC, Delivery::Group(group.into()))
        .await
        .expect("sub");
    relay.relay_once().await.expect("relay");
    let rows = outbox::entity::Entity::find()
        .all(&db)
        .await
        .expect("outbox");
    let again: Vec<Outgoing> = rows
        .iter()
        .map(|row| Outgoing {
            topic: TOPIC,
            key: &row.key,
            payload: row.payload.as_bytes(),
            replayed: false,
            epoch: 0,
        })
        .collect();
    for _ in 1..copies {
        bus.publish_all(&again).await.expect("publish");
    }
    let mut last = None;
    for _ in 0..6 * copies {
        let (_, message) = next_of(&mut first).await;
        let event: Event = serde_json::from_slice(&message.payload).expect("event");
        consumer::apply(&db, &RecordEffect, &event)
            .await
            .expect("apply");
        first.commit(&message).await.expect("commit");
        last = Some(message);
    }
    drop(first);

    // The broker restarts without its storage. The relay finds the log
    // lost and publishes the six again, then ten new ones: the new log
    // holds 16 messages.
    broker.restart().await;
    bus.ensure_topics(&[TOPIC]).await.expect("topics");
    let new = enqueue_for(&db, store, 10).await;
    // (Its first publish to the new broker may fail; it tries again.)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while outbox::backlog(&db).await.expect("backlog") > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the relay caught up"
        );
        if relay.relay_once().await.is_err() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // A member that outlived the loss commits its old position into the
    // new broker.
    let mut survivor = bus
        .subscribe(TOPIC, Delivery::Group(group.into()))
        .await
        .expect("sub");
    next_of(&mut survivor).await;
    survivor
        .commit(&last.expect("a message"))
        .await
        .expect("commit the old position");
    drop(survivor);

    let all: Vec<Uuid> = old.iter().chain(&new).copied().collect();
    let applied = consume_until_applied(&db, &bus, group, &all).await;
    let missing: Vec<&Uuid> = new.iter().filter(|id| !applied.contains_key(id)).collect();
    assert!(missing.is_empty(), "new events never applied: {missing:?}");
    assert!(
        applied.values().all(|&n| n == 1),
        "every event applied once: {applied:?}"
    );

    // The consumer recorded the generation its offset is in now, so its
    // next member resumes there instead of reading everything again.
    let generation = |sql: &str| {
        let db = db.clone();
        let sql = sql.to_string();
        async move {
            db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .expect("query")
                .map(|row| row.try_get::<i64>("", "epoch").expect("epoch"))
        }
    };
    let published = generation("SELECT epoch FROM outbox_epochs").await;
    assert!(
        published.is_some_and(|epoch| epoch > 0),
        "the replay raised it"
    );
    assert_eq!(
        generation("SELECT epoch FROM consumer_epochs").await,
        published
    );
}

/// A bus that counts its subscriptions' commits.
struct CountingCommits {
    bus: MemoryBus,
    commits: Arc<std::sync::atomic::AtomicUsize>,
}

struct CountedSubscription {
    inner: Box<dyn Subscription>,
    commits: Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait]
impl EventBus for CountingCommits {
    async fn ensure_topics(&self, topics: &[&str]) -> anyhow::Result<()> {
        self.bus.ensure_topics(topics).await
    }
    async fn publish_all(
        &self,
        batch: &[Outgoing<'_>],
    ) -> anyhow::Result<Vec<salesync_common::events::bus::Position>> {
        self.bus.publish_all(batch).await
    }
    async fn ends(
        &self,
        topic: &str,
    ) -> anyhow::Result<Vec<salesync_common::events::bus::Position>> {
        self.bus.ends(topic).await
    }
    async fn subscribe(
        &self,
        topic: &str,
        delivery: Delivery,
    ) -> anyhow::Result<Box<dyn Subscription>> {
        Ok(Box::new(CountedSubscription {
            inner: self.bus.subscribe(topic, delivery).await?,
            commits: self.commits.clone(),
        }))
    }
    async fn health(&self) -> Result<String, String> {
        self.bus.health().await
    }
}

#[async_trait]
impl Subscription for CountedSubscription {
    async fn next(&mut self) -> anyhow::Result<Message> {
        self.inner.next().await
    }
    async fn commit(&mut self, message: &Message) -> anyhow::Result<()> {
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.commit(message).await
    }
    async fn rewind(&mut self, partition: i32) -> anyhow::Result<()> {
        self.inner.rewind(partition).await
    }
    fn lag(&self, message: &Message) -> Option<i64> {
        self.inner.lag(message)
    }
}

/// Publishes `n` test events straight onto `bus`; their ids.
async fn publish(bus: &dyn EventBus, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let event = Event::new("TestHappened", Uuid::new_v4(), json!({}));
        let payload = serde_json::to_vec(&event).expect("json");
        bus.publish(TOPIC, &event.key(), &payload)
            .await
            .expect("publish");
        ids.push(event.id);
    }
    ids
}

#[tokio::test]
async fn a_consumer_behind_commits_what_was_waiting_at_once_and_each_later_event_alone() {
    let db = database().await;
    let commits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bus = Arc::new(CountingCommits {
        bus: MemoryBus::new(),
        commits: commits.clone(),
    });
    // Events the consumer is behind on before it starts: all waiting.
    let waiting = publish(bus.as_ref(), 40).await;
    let (stop_tx, stop) = stopper();
    let consumer_task = record_effects(bus.clone(), &db, "g", stop);
    let applied = applied_within(&db, &waiting, Duration::from_secs(30)).await;
    assert!(
        waiting.iter().all(|id| applied.get(id) == Some(&1)),
        "{applied:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        commits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the 40 waiting events are committed together once applied"
    );

    // A consumer that keeps up commits each event before waiting for the next.
    for round in 2..=3 {
        let later = publish(bus.as_ref(), 1).await;
        applied_within(&db, &later, Duration::from_secs(30)).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(commits.load(std::sync::atomic::Ordering::SeqCst), round);
    }
    stop_tx.stop();
    consumer_task.await.expect("the consumer stops");

    // The group's offset covers everything: a new member gets nothing.
    let mut next_member = bus
        .subscribe(TOPIC, Delivery::Group("g".into()))
        .await
        .expect("subscribe");
    assert!(
        tokio::time::timeout(Duration::from_millis(300), next_member.next())
            .await
            .is_err(),
        "every applied event was committed"
    );
}

/// Background work has connections of its own: with every connection the
/// order subgraph keeps for requests waiting on a table's turn, a store's
/// change still reaches its copy of the store's facts through its consumer.
#[tokio::test(flavor = "multi_thread")]
async fn events_flow_while_requests_hold_every_connection() {
    let system = TestSystem::start_with(Options {
        config: vec![("pool.max_connections", "1".to_string())],
        ..Options::default()
    })
    .await;
    let shop = system.shop(&[("Tea", 3000)]).await;
    let place =
        "mutation($i: ID!) { placeOrder(tableNo: 1, lines: [{ itemId: $i, quantity: 1 }]) { id } }";
    let tea = json!({ "i": shop.items[0] });
    shop.client.query(place, tea.clone()).await.data_or_panic();

    // The test holds table 1's turn; the next placeOrder takes the order
    // subgraph's one request connection and waits for the turn with it.
    let order_db = system.database("order").await;
    let held = order_db.begin().await.expect("a transaction");
    let store_id = Uuid::parse_str(&shop.store_id).expect("a store id");
    table_turns::take(&held, store_id, 1)
        .await
        .expect("the turn");
    let waiting = tokio::spawn({
        let client = shop.client.clone();
        let tea = tea.clone();
        async move { client.query(place, tea).await.data_or_panic().clone() }
    });
    let mut polls = 0;
    while lock_waits(&order_db).await == 0 {
        polls += 1;
        assert!(polls < 500, "the placeOrder never waited for the turn");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    shop.client
        .query(
            "mutation { updateStore(input: { tableCount: 31 }) { tableCount } }",
            json!({}),
        )
        .await
        .data_or_panic();
    let kept = || async {
        order_db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT table_count FROM store_facts WHERE store_id = $1::uuid",
                [shop.store_id.clone().into()],
            ))
            .await
            .expect("store_facts")
            .map(|row| row.try_get::<i32>("", "table_count").expect("a count"))
    };
    let mut polls = 0;
    while kept().await != Some(31) {
        polls += 1;
        assert!(
            polls < 1000,
            "the store's change never reached the order subgraph's copy while its requests held every connection"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(!waiting.is_finished(), "the placeOrder waited all along");

    held.commit().await.expect("the turn given back");
    waiting.await.expect("the placeOrder");
}
