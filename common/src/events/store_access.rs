//! Who may still act for a store, as every subgraph learns it from
//! `salesync.stores`:
//!
//! - `StoreDeleted`: the subgraph removes the store's rows and lists the
//!   store in `deleted_stores`; its tokens are refused from then on, so a
//!   deleted store never writes again anywhere (nothing would remove it).
//! - `TokensRevoked` (after a password change): the store's tokens carry a
//!   generation (`gen`); the subgraph raises the store's floor in
//!   `token_floors`, and tokens below it are refused.
//!
//! A token stays signed until it expires; these two tables are what make a
//! signed token worthless sooner. The token verifier asks [`StoreAccess`],
//! which keeps what it read of them in memory and hears every change on a
//! feed of its own, so most requests ask no database. The same feed carries
//! each store's profile (`StoreOpened`, `StoreUpdated`) to the copies a
//! subgraph keeps of it in memory (`store_copy`).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    Event, EventBus, Happened, Latency,
    consumer::Handler,
    feed::{Confirmed, Envelope, Feed, Notice},
    topics, types,
};
use crate::{db::excluded, shutdown::Stop};

/// A subgraph's rows of one store, removed when the store is deleted.
#[async_trait]
pub trait StoreRows: Send + Sync + 'static {
    /// Removes every row of `store_id` in `txn`; returns how many.
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> crate::Result<u64>;
}

/// The payload of `TokensRevoked`: tokens of an older generation than this
/// no longer act for the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensRevoked {
    pub generation: i64,
}

/// The consumer of `StoreDeleted` and `TokensRevoked`: each applied in one
/// transaction with the event's id.
pub struct OnStoreAccess<R> {
    name: String,
    rows: R,
}

impl<R: StoreRows> OnStoreAccess<R> {
    /// The consumer of subgraph `service`.
    pub fn new(service: &str, rows: R) -> Self {
        OnStoreAccess {
            name: format!("{service}.store-access"),
            rows,
        }
    }
}

#[async_trait]
impl<R: StoreRows> Handler for OnStoreAccess<R> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        let Some(StoreNews::Access(Heard { store_id, change })) = news(event)? else {
            return Ok(());
        };
        match change {
            Change::Deleted => {
                record_deleted(txn, store_id).await?;
                let removed = self.rows.remove(txn, store_id).await?;
                tracing::info!(consumer = %self.name, %store_id, removed, "removed a deleted store's rows");
            }
            Change::Revoked(generation) => {
                raise_floor(txn, store_id, generation).await?;
                tracing::info!(consumer = %self.name, %store_id, generation, "refusing the store's older tokens");
            }
        }
        Ok(())
    }
}

/// The `deleted_stores` table.
pub mod deleted {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deleted_stores")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub store_id: Uuid,
        pub deleted_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `token_floors` table: per store, the oldest token generation still
/// accepted.
pub mod floors {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "token_floors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub store_id: Uuid,
        pub min_generation: i64,
        pub updated_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records `store_id` as deleted (again is fine).
pub async fn record_deleted<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<(), DbErr> {
    deleted::Entity::insert(deleted::ActiveModel {
        store_id: Set(store_id),
        deleted_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([deleted::Column::StoreId])
    .exec(db)
    .await?;
    Ok(())
}

/// Refuses `store_id`'s tokens older than `generation`. The floor only
/// rises: a late or repeated event never lowers it.
pub async fn raise_floor<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    generation: i64,
) -> Result<(), DbErr> {
    use floors::Column;
    let mut on_conflict = OnConflict::column(Column::StoreId);
    on_conflict
        .update_columns([Column::MinGeneration, Column::UpdatedAt])
        .action_and_where(
            Expr::col((floors::Entity, Column::MinGeneration)).lt(excluded(Column::MinGeneration)),
        );
    floors::Entity::insert(floors::ActiveModel {
        store_id: Set(store_id),
        min_generation: Set(generation),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(on_conflict)
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether a token of `generation` still acts for `store_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Granted,
    Deleted,
    Revoked,
}

/// What is known of one store: whether it was deleted, and the oldest
/// token generation it still accepts. Both only ever grow stricter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Standing {
    deleted: bool,
    floor: i64,
}

impl Default for Standing {
    fn default() -> Self {
        Standing {
            deleted: false,
            floor: i64::MIN,
        }
    }
}

impl Standing {
    fn access(self, generation: i64) -> Access {
        if self.deleted {
            Access::Deleted
        } else if generation < self.floor {
            Access::Revoked
        } else {
            Access::Granted
        }
    }

    /// The stricter of the two: a late answer never undoes what was heard.
    fn merge(&mut self, other: Standing) {
        self.deleted |= other.deleted;
        self.floor = std::cmp::max(self.floor, other.floor);
    }
}

#[derive(FromQueryResult)]
struct StandingRow {
    deleted: i64,
    min_generation: Option<i64>,
}

/// Reads a store's standing from both tables in one statement.
async fn read_standing<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<Standing, DbErr> {
    let deleted = Query::select()
        .expr(Expr::col(deleted::Column::StoreId).count())
        .from(deleted::Entity)
        .and_where(Expr::col(deleted::Column::StoreId).eq(store_id))
        .to_owned();
    let floor = Query::select()
        .column(floors::Column::MinGeneration)
        .from(floors::Entity)
        .and_where(Expr::col(floors::Column::StoreId).eq(store_id))
        .to_owned();
    let statement = Query::select()
        .expr_as(
            Expr::SubQuery(None, Box::new(deleted.into())),
            Alias::new("deleted"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(floor.into())),
            Alias::new("min_generation"),
        )
        .to_owned();
    let row = StandingRow::find_by_statement(db.get_database_backend().build(&statement))
        .one(db)
        .await?;
    Ok(row.map_or_else(Standing::default, |row| Standing {
        deleted: row.deleted > 0,
        floor: row.min_generation.unwrap_or(i64::MIN),
    }))
}

/// What an event on `salesync.stores` says about who may act for a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heard {
    pub store_id: Uuid,
    pub change: Change,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The store was deleted.
    Deleted,
    /// Its tokens older than this generation were revoked.
    Revoked(i64),
}

impl Change {
    fn standing(self) -> Standing {
        match self {
            Change::Deleted => Standing {
                deleted: true,
                ..Standing::default()
            },
            Change::Revoked(floor) => Standing {
                deleted: false,
                floor,
            },
        }
    }
}

/// A store's whole profile as an event of `salesync.stores` carried it,
/// true as of `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub store_id: Uuid,
    pub at: DateTime<Utc>,
    pub payload: serde_json::Value,
}

/// What a replica hears on `salesync.stores`.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreNews {
    /// Who may act for the store changed.
    Access(Heard),
    /// The store opened or its profile changed.
    Profile(Profile),
}

/// The feed's reading of an event; none for the events that change neither
/// access nor a profile.
fn news(event: &impl Happened) -> anyhow::Result<Option<StoreNews>> {
    let change = match event.event_type() {
        types::STORE_DELETED => Change::Deleted,
        types::TOKENS_REVOKED => {
            let revoked: TokensRevoked = event.payload_as()?;
            Change::Revoked(revoked.generation)
        }
        types::STORE_OPENED | types::STORE_UPDATED => {
            return Ok(Some(StoreNews::Profile(Profile {
                store_id: event.store_id(),
                at: event.occurred_at(),
                payload: event.payload_as()?,
            })));
        }
        _ => return Ok(None),
    };
    Ok(Some(StoreNews::Access(Heard {
        store_id: event.store_id(),
        change,
    })))
}

/// Beyond this many stores, what was read from the tables is forgotten.
const MAX_KNOWN: usize = 100_000;
/// What was heard on the bus is kept at least this long: by then this
/// subgraph's own consumer has written it into the tables.
const KEEP_HEARD: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
struct Known {
    standing: Standing,
    /// The feed's reading and the time the tables were read, while they
    /// answer for the store.
    read: Confirmed,
    heard: Option<Instant>,
}

/// Who may act for each store, checked on every authenticated request:
/// the tables above, kept in memory and told of every deletion and
/// revocation by a feed of `salesync.stores`, which every replica reads.
/// Only while the feed reads the bus is the memory trusted; otherwise
/// every check reads the tables.
#[derive(Clone)]
pub struct StoreAccess {
    db: DatabaseConnection,
    feed: Feed<StoreNews>,
    known: Arc<Mutex<HashMap<Uuid, Known>>>,
}

impl StoreAccess {
    pub fn new(db: DatabaseConnection) -> Self {
        StoreAccess {
            db,
            feed: Feed::default(),
            known: Arc::default(),
        }
    }

    /// Reads `salesync.stores` from `bus` and keeps what it hears, until
    /// `stop`.
    pub async fn run(self, bus: Arc<dyn EventBus>, stop: Stop) {
        let mut notices = self.feed.subscribe();
        let feed = tokio::spawn(self.feed.clone().run(
            bus,
            topics::STORES,
            Latency::Relaxed,
            |event: &Envelope<'_>| news(event),
            stop.clone(),
        ));
        let mut stop = stop;
        loop {
            tokio::select! {
                _ = stop.wait() => break,
                notice = notices.recv() => match notice {
                    Ok(Notice::Event(news)) => if let StoreNews::Access(heard) = news.as_ref() {
                        self.learn(heard.store_id, heard.change);
                    },
                    // The reading ends; what it kept is not trusted past it.
                    Ok(Notice::Interrupted) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "store access fell behind its feed; reading the tables again");
                        self.forget_reads();
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
        let _ = feed.await;
    }

    /// The feed this replica hears `salesync.stores` on, which
    /// [`StoreAccess::run`] reads: for the copies of store profiles kept in
    /// memory beside it.
    pub fn feed(&self) -> Feed<StoreNews> {
        self.feed.clone()
    }

    /// Takes in a change this process made or heard of: from now on it
    /// answers, whatever the tables still say.
    pub fn learn(&self, store_id: Uuid, change: Change) {
        let mut known = self.known();
        let entry = known.entry(store_id).or_default();
        entry.standing.merge(change.standing());
        entry.heard = Some(Instant::now());
    }

    /// Whether a token of `generation` acts for `store_id`.
    pub async fn check(&self, store_id: Uuid, generation: i64) -> Result<Access, DbErr> {
        let reading = self.feed.reading();
        if let Some(reading) = reading
            && let Some(known) = self.known().get(&store_id)
            && known.read.answers_in(reading)
        {
            return Ok(known.standing.access(generation));
        }
        let read = read_standing(&self.db, store_id).await?;
        let mut known = self.known();
        if known.len() >= MAX_KNOWN {
            known.retain(|_, k| k.heard.is_some_and(|at| at.elapsed() < KEEP_HEARD));
        }
        let entry = known.entry(store_id).or_default();
        entry.standing.merge(read);
        // The reading from before the tables were asked: had the feed been
        // away meanwhile, this answer belongs to no reading.
        entry.read = Confirmed::now_in(reading);
        Ok(entry.standing.access(generation))
    }

    fn forget_reads(&self) {
        for known in self.known().values_mut() {
            known.read = Confirmed::default();
        }
    }

    fn known(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Known>> {
        self.known.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm_migration::{MigrationTrait, MigratorTrait};

    use super::*;
    use crate::{
        events::{memory::MemoryBus, migration},
        shutdown,
        testing::scratch_sqlite,
    };

    struct Tables;

    impl MigratorTrait for Tables {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            vec![
                Box::new(migration::CreateDeletedStores),
                Box::new(migration::CreateTokenFloors),
            ]
        }
    }

    async fn tables() -> DatabaseConnection {
        let db = scratch_sqlite("access").await;
        Tables::up(&db, None).await.expect("the tables");
        db
    }

    /// Runs `access`'s feed on `bus` until the trigger stops it; returns
    /// once the feed reads the bus.
    async fn start(access: &StoreAccess, bus: &Arc<dyn EventBus>) -> shutdown::Trigger {
        let (trigger, stop) = shutdown::channel();
        tokio::spawn(access.clone().run(bus.clone(), stop));
        until_live(access, true).await;
        trigger
    }

    async fn until_live(access: &StoreAccess, live: bool) {
        while access.feed.reading().is_some() != live {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    async fn publish(bus: &Arc<dyn EventBus>, event: Event) {
        let payload = serde_json::to_vec(&event).expect("json");
        bus.publish(topics::STORES, &event.store_id.to_string(), &payload)
            .await
            .expect("published");
    }

    /// Polls `check` until it answers `want` (the feed is asynchronous).
    async fn eventually(access: &StoreAccess, store: Uuid, generation: i64, want: Access) {
        for _ in 0..200 {
            if access.check(store, generation).await.expect("checked") == want {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("store {store} never became {want:?}");
    }

    #[tokio::test]
    async fn a_live_feed_answers_from_memory_and_hears_each_change_before_the_tables_do() {
        let db = tables().await;
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let access = StoreAccess::new(db.clone());
        let _trigger = start(&access, &bus).await;
        let store = Uuid::new_v4();
        assert_eq!(
            access.check(store, 1).await.expect("checked"),
            Access::Granted
        );

        // Written behind its back: the next checks still answer from memory.
        raise_floor(&db, store, 5).await.expect("raised");
        assert_eq!(
            access.check(store, 1).await.expect("checked"),
            Access::Granted
        );

        // Heard on the bus while the tables say nothing of it yet.
        let revoked = Event::new(
            types::TOKENS_REVOKED,
            store,
            TokensRevoked { generation: 3 },
        );
        publish(&bus, revoked).await;
        eventually(&access, store, 2, Access::Revoked).await;
        assert_eq!(
            access.check(store, 3).await.expect("checked"),
            Access::Granted
        );

        let other = Uuid::new_v4();
        assert_eq!(
            access.check(other, 0).await.expect("checked"),
            Access::Granted
        );
        publish(
            &bus,
            Event::new(types::STORE_DELETED, other, serde_json::json!({})),
        )
        .await;
        eventually(&access, other, 0, Access::Deleted).await;
    }

    #[tokio::test]
    async fn without_a_live_feed_every_check_reads_the_tables() {
        let db = tables().await;
        let access = StoreAccess::new(db.clone());
        let store = Uuid::new_v4();
        assert_eq!(
            access.check(store, 1).await.expect("checked"),
            Access::Granted
        );
        raise_floor(&db, store, 2).await.expect("raised");
        assert_eq!(
            access.check(store, 1).await.expect("checked"),
            Access::Revoked
        );
        record_deleted(&db, store).await.expect("deleted");
        assert_eq!(
            access.check(store, 2).await.expect("checked"),
            Access::Deleted
        );
    }

    #[tokio::test]
    async fn what_the_feed_kept_is_not_trusted_once_it_lost_the_bus() {
        let db = tables().await;
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let access = StoreAccess::new(db.clone());
        let (away, back) = (Uuid::new_v4(), Uuid::new_v4());
        let first = start(&access, &bus).await;
        for store in [away, back] {
            assert_eq!(
                access.check(store, 1).await.expect("checked"),
                Access::Granted
            );
        }

        // The feed stops: whatever happens now it would not hear.
        first.stop();
        until_live(&access, false).await;
        raise_floor(&db, away, 2).await.expect("raised");
        assert_eq!(
            access.check(away, 1).await.expect("checked"),
            Access::Revoked
        );

        // Reading again is a new reading: what the old one kept is unused.
        let _second = start(&access, &bus).await;
        raise_floor(&db, back, 2).await.expect("raised");
        assert_eq!(
            access.check(back, 1).await.expect("checked"),
            Access::Revoked
        );
    }

    #[tokio::test]
    async fn a_change_this_process_made_answers_at_once_and_a_late_read_never_undoes_it() {
        let db = tables().await;
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let access = StoreAccess::new(db);
        let _trigger = start(&access, &bus).await;
        let store = Uuid::new_v4();
        access.learn(store, Change::Revoked(4));
        // The tables know nothing of it; the answer is still refusal.
        assert_eq!(
            access.check(store, 3).await.expect("checked"),
            Access::Revoked
        );
        assert_eq!(
            access.check(store, 4).await.expect("checked"),
            Access::Granted
        );
        access.learn(store, Change::Revoked(2));
        assert_eq!(
            access.check(store, 3).await.expect("checked"),
            Access::Revoked,
            "a floor only rises"
        );
        access.learn(store, Change::Deleted);
        assert_eq!(
            access.check(store, 9).await.expect("checked"),
            Access::Deleted
        );
    }
}
