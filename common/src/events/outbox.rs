//! The transactional outbox and its relay.

use std::{collections::HashMap, sync::Arc, time::Duration};

use anyhow::Context;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Statement,
    TransactionTrait,
    sea_query::{Expr, InsertStatement, OnConflict, Order, Query},
};
use tokio::{sync::Mutex, sync::Notify, time::Instant};

use super::{Event, EventBus, Outgoing, bus::Position};
use crate::shutdown::Stop;

/// The `outbox` table.
pub mod entity {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub seq: i64,
        pub event_id: Uuid,
        pub topic: String,
        pub key: String,
        pub payload: String,
        pub created_at: DateTime<Utc>,
        pub published_at: Option<DateTime<Utc>>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Writes `event` for `topic` with `db`, which should be the transaction of
/// the change that caused it: if that rolls back, the event never existed.
pub async fn enqueue<C: ConnectionTrait>(db: &C, topic: &str, event: &Event) -> Result<(), DbErr> {
    db.execute(&insertion(topic, event)).await?;
    Ok(())
}

/// The statement [`enqueue`] runs, for a change that sends it together
/// with its own writes ([`crate::db::Writes`]). It reads nothing back: the
/// event is what it wrote.
pub fn insertion(topic: &str, event: &Event) -> InsertStatement {
    entity::Entity::insert(entity::ActiveModel {
        event_id: Set(event.id),
        topic: Set(topic.to_string()),
        key: Set(event.key()),
        payload: Set(serde_json::to_string(event).expect("BUG: an event always serializes")),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        ..Default::default()
    })
    .into_query()
}

/// Events waiting to be published.
pub async fn backlog(db: &DatabaseConnection) -> Result<u64, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .count(db)
        .await
}

/// Wakes the relay right after a commit, so events do not wait for the next poll.
#[derive(Clone, Default)]
pub struct OutboxSignal(Arc<Notify>);

impl OutboxSignal {
    pub fn notify(&self) {
        self.0.notify_one();
    }
}

/// The `outbox_positions` table: per topic and partition, an offset its log
/// reached with the relay's last batch there (see [`reached`]).
pub mod positions {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_positions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub topic: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub partition: i32,
        pub next_offset: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `outbox_epochs` table: per topic, the generation of its log the
/// relay publishes into ([`super::Outgoing::epoch`]).
pub mod epochs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "outbox_epochs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub topic: String,
        pub epoch: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Publishes pending outbox rows in order and marks them published, in one
/// transaction per batch: the rows are marked as they are taken, and the
/// mark stands only if the batch reached the bus. A batch goes to the bus
/// at once, so events that piled up under load go out together instead of
/// each waiting for the one before.
///
/// With several replicas, one relays at a time (a PostgreSQL advisory lock
/// held for the batch's transaction): order is kept and no event is sent
/// twice in the normal case. A crash between publishing and committing sends
/// a batch again; consumers skip event ids they have applied.
///
/// A broker can lose what it acknowledged: restarted without its storage,
/// or its topics deleted. Events it had and nobody had read yet would be
/// gone, so the relay remembers how far its events took each partition's
/// log (`outbox_positions`) and compares that with the end of each
/// partition: at start, after any failure, every few seconds, and with
/// every offset the broker gives back. A log that ends before that was
/// lost, and the relay publishes every kept outbox row of the topic again,
/// in order, marked as a replay, before anything new: consumers apply what
/// they missed and skip what they had, and feeds ignore replays. A loss
/// found from an offset the broker gave back is recorded in the table, for
/// whichever replica relays next. Published rows are kept longer
/// than a broker keeps messages (`retention`), so everything a broker could
/// still have held comes back. An event published to the new log before
/// the loss was noticed can reach consumers ahead of the replayed ones.
///
/// Each replay raises the topic's log generation (`outbox_epochs`), which
/// every message carries from then on. A consumer group's committed offset
/// (or a member's position) from the lost log may point past events of the
/// new one; a member that meets a newer generation reads the partition
/// again from its start, so it skips nothing.
pub struct Relay {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    signal: OutboxSignal,
    batch: u64,
    poll: Duration,
    watch: Mutex<Watch>,
}

/// What the relay knows of where its events landed.
#[derive(Default)]
struct Watch {
    /// The offset after the last event published, by topic and partition:
    /// as read from the table at the last check (where it is what
    /// [`reached`] says, lower), then from each offset the broker gives
    /// back. Lower than the truth when another replica relayed meanwhile,
    /// which can delay noticing a loss but never invents one.
    next: HashMap<(String, i32), i64>,
    /// By topic, the generation of its log, as read at the last check.
    epochs: HashMap<String, i64>,
    /// A topic whose log was found lost while publishing, to be recorded.
    lost: Option<String>,
    /// When the logs were last compared with `next`; none forces a check.
    checked: Option<Instant>,
}

/// How often the relay compares the broker's logs with what it published.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Rows read at a time while replaying.
const REPLAY_PAGE: u64 = 500;

/// An arbitrary constant naming the relay's advisory lock.
const RELAY_LOCK: i64 = 0x005A_1E5F_0B0C;

impl Relay {
    pub fn new(db: DatabaseConnection, bus: Arc<dyn EventBus>, signal: OutboxSignal) -> Self {
        Relay {
            db,
            bus,
            signal,
            batch: 100,
            poll: Duration::from_millis(500),
            watch: Mutex::default(),
        }
    }

    /// Relays until `stop`. Errors (the bus is down) are logged and retried
    /// with a growing pause; the rows stay pending meanwhile.
    pub async fn run(self, mut stop: Stop) {
        let mut failures = 0u32;
        loop {
            let pause = match self.relay_once().await {
                Ok(sent) if sent > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    self.poll
                }
                Err(error) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(20) {
                        tracing::warn!(error = ?error, failures, "outbox relay failed; will retry");
                    }
                    // The broker may be new or may have lost its topics.
                    if let Err(error) = self.bus.ensure_topics(&super::topics::ALL).await {
                        tracing::debug!(error = ?error, "topics could not be created yet");
                    }
                    Duration::from_millis(250 * u64::from(failures.min(8)))
                }
            };
            tokio::select! {
                _ = stop.wait() => return,
                _ = self.signal.0.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Publishes one batch (after replaying what the broker lost, if it
    /// did); returns how many events went out.
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let mut watch = self.watch.lock().await;
        let relayed = self.relay_batch(&mut watch).await;
        if relayed.is_err() {
            // Whatever failed, the broker may not be the one it was.
            watch.checked = None;
        }
        relayed
    }

    async fn relay_batch(&self, watch: &mut Watch) -> anyhow::Result<usize> {
        let txn = self.db.begin().await.context("failed to begin")?;
        let sent = match self.relay_within(&txn, watch).await {
            Ok(sent) => sent,
            Err(error) => {
                // Roll back now rather than when the dropped transaction's
                // rollback gets its turn: until then it holds the relay's
                // lock, and the next attempt would take it for another
                // replica's and relay nothing.
                let _ = txn.rollback().await;
                if let Some(topic) = watch.lost.take() {
                    self.mark_lost(&topic).await;
                }
                return Err(error);
            }
        };
        txn.commit()
            .await
            .context("failed to commit the relay batch")?;
        if sent > 0 {
            tracing::debug!(count = sent, "relayed events");
        }
        Ok(sent)
    }

    /// One batch inside `txn`: the relay's lock, the check for a lost log
    /// when it is due, then the pending events in order.
    async fn relay_within(
        &self,
        txn: &DatabaseTransaction,
        watch: &mut Watch,
    ) -> anyhow::Result<usize> {
        if txn.get_database_backend() == DbBackend::Postgres {
            let locked = txn
                .query_one_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("SELECT pg_try_advisory_xact_lock({RELAY_LOCK}) AS locked"),
                ))
                .await?
                .map(|row| row.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                return Ok(0);
            }
        }
        let mut sent = 0;
        if watch.checked.is_none_or(|at| at.elapsed() >= CHECK_EVERY) {
            sent += self.check(txn, watch).await?;
        }
        // The batch is taken and marked published in one statement, before
        // it goes out: the rows marked are the rows returned, whatever
        // commits meanwhile, and a failure to publish rolls the mark back
        // with the transaction. Its shape is the same whatever the batch's
        // size, so it is prepared once.
        let mut pending = entity::Entity::update_many()
            .col_expr(entity::Column::PublishedAt, Expr::value(Utc::now()))
            .filter(
                entity::Column::Seq.in_subquery(
                    Query::select()
                        .column(entity::Column::Seq)
                        .from(entity::Entity)
                        .and_where(entity::Column::PublishedAt.is_null())
                        .order_by(entity::Column::Seq, Order::Asc)
                        .limit(self.batch)
                        .to_owned(),
                ),
            )
            .exec_with_returning(txn)
            .await
            .context("failed to take the pending events")?;
        pending.sort_unstable_by_key(|row| row.seq);
        let positions = self
            .bus
            .publish_all(&outgoing(&pending, false, |topic| {
                watch.epochs.get(topic).copied().unwrap_or(0)
            }))
            .await?;
        for (row, at) in pending.iter().zip(&positions) {
            let place = (row.topic.clone(), at.partition);
            if let Some(&next) = watch.next.get(&place)
                && at.offset < next
            {
                watch.lost = Some(row.topic.clone());
                anyhow::bail!(
                    "{}/{} restarted at offset {} after {next} events were published there: \
                     the broker lost its log; it is published again",
                    row.topic,
                    at.partition,
                    at.offset
                );
            }
            watch.next.insert(place, at.offset + 1);
        }
        let landed = reached(&pending, &positions);
        save_positions(txn, landed).await?;
        Ok(sent + pending.len())
    }

    /// Records that `topic`'s log was lost, for whichever replica relays
    /// next: its positions become unreachable, so the next check replays
    /// it. Where that fails, this replica's next check still compares the
    /// logs' ends.
    async fn mark_lost(&self, topic: &str) {
        let marked = positions::Entity::update_many()
            .col_expr(positions::Column::NextOffset, Expr::value(i64::MAX))
            .filter(positions::Column::Topic.eq(topic))
            .exec(&self.db)
            .await;
        if let Err(error) = marked {
            tracing::warn!(topic, error = ?error, "failed to record a lost log");
        }
    }

    /// Compares each partition's end with where the relay's events landed
    /// there; publishes again the kept events of every topic whose log was
    /// lost. Returns how many were published again.
    async fn check(&self, txn: &DatabaseTransaction, watch: &mut Watch) -> anyhow::Result<usize> {
        let known = positions::Entity::find()
            .all(txn)
            .await
            .context("failed to read the outbox positions")?;
        let mut topics: Vec<&str> = known.iter().map(|p| p.topic.as_str()).collect();
        topics.sort_unstable();
        topics.dedup();
        let (mut replayed, mut rewritten) = (0, false);
        for topic in topics {
            let ends = self.bus.ends(topic).await?;
            let lost = known.iter().filter(|p| p.topic == topic).find(|p| {
                ends.iter()
                    .find(|end| end.partition == p.partition)
                    .is_none_or(|end| end.offset < p.next_offset)
            });
            if let Some(lost) = lost {
                tracing::warn!(
                    topic,
                    partition = lost.partition,
                    reached = lost.next_offset,
                    "the broker's log ends before the events published there: it lost them; publishing every kept event of the topic again"
                );
                replayed += self.replay(txn, topic).await?;
                rewritten = true;
            }
        }
        // A replay rewrote the positions; otherwise they are as read.
        let current = if rewritten {
            positions::Entity::find()
                .all(txn)
                .await
                .context("failed to read the outbox positions")?
        } else {
            known
        };
        watch.next = current
            .into_iter()
            .map(|p| ((p.topic, p.partition), p.next_offset))
            .collect();
        watch.epochs = epochs::Entity::find()
            .all(txn)
            .await
            .context("failed to read the outbox epochs")?
            .into_iter()
            .map(|e| (e.topic, e.epoch))
            .collect();
        watch.checked = Some(Instant::now());
        Ok(replayed)
    }

    /// Publishes every published row of `topic` still kept, in order, as a
    /// replay into a new generation of its log, and records where they
    /// landed instead of what was lost.
    async fn replay(&self, txn: &DatabaseTransaction, topic: &str) -> anyhow::Result<usize> {
        // A broker that came back empty has no topics yet.
        self.bus.ensure_topics(&[topic]).await?;
        let epoch = next_epoch(txn, topic).await?;
        let mut landed = HashMap::new();
        let mut after = 0i64;
        let mut count = 0;
        loop {
            let page = entity::Entity::find()
                .filter(entity::Column::Topic.eq(topic))
                .filter(entity::Column::PublishedAt.is_not_null())
                .filter(entity::Column::Seq.gt(after))
                .order_by_asc(entity::Column::Seq)
                .limit(REPLAY_PAGE)
                .all(txn)
                .await
                .context("failed to read the published events")?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let positions = self
                .bus
                .publish_all(&outgoing(&page, true, |_| epoch))
                .await?;
            landed.extend(reached(&page, &positions));
            count += page.len();
        }
        positions::Entity::delete_many()
            .filter(positions::Column::Topic.eq(topic))
            .exec(txn)
            .await
            .context("failed to reset the outbox positions")?;
        save_positions(txn, landed).await?;
        tracing::info!(topic, count, epoch, "published the kept events again");
        Ok(count)
    }
}

/// Outbox rows as messages for the bus, each in its topic's generation.
fn outgoing(
    rows: &[entity::Model],
    replayed: bool,
    epoch_of: impl Fn(&str) -> i64,
) -> Vec<Outgoing<'_>> {
    rows.iter()
        .map(|row| Outgoing {
            topic: &row.topic,
            key: &row.key,
            payload: row.payload.as_bytes(),
            replayed,
            epoch: epoch_of(&row.topic),
        })
        .collect()
}

/// Raises `topic`'s log generation and returns it: above the one before,
/// and at least the time in milliseconds, so generations still rise after
/// the table was restored from an older backup.
async fn next_epoch(txn: &DatabaseTransaction, topic: &str) -> anyhow::Result<i64> {
    let current = epochs::Entity::find_by_id(topic.to_string())
        .one(txn)
        .await
        .context("failed to read the outbox epoch")?
        .map_or(0, |e| e.epoch);
    let epoch = (current + 1).max(Utc::now().timestamp_millis());
    epochs::Entity::insert(epochs::ActiveModel {
        topic: Set(topic.to_string()),
        epoch: Set(epoch),
    })
    .on_conflict(
        OnConflict::column(epochs::Column::Topic)
            .update_column(epochs::Column::Epoch)
            .to_owned(),
    )
    .exec(txn)
    .await
    .context("failed to raise the outbox epoch")?;
    Ok(epoch)
}

/// How far each partition's log reached once `rows` landed at `positions`:
/// one past the first of them there, not the last. A broker may report a
/// partition's end as one past the first message of the last record batch
/// it took (tansu 0.6 does, and our producer sends batches of several).
/// This bound is what every broker's end covers, and a log found to end
/// before it was lost.
fn reached(rows: &[entity::Model], positions: &[Position]) -> HashMap<(String, i32), i64> {
    let mut reached = HashMap::new();
    for (row, at) in rows.iter().zip(positions) {
        reached
            .entry((row.topic.clone(), at.partition))
            .or_insert(at.offset + 1);
    }
    reached
}

/// Records how far the logs reached, by topic and partition.
async fn save_positions(
    txn: &DatabaseTransaction,
    landed: HashMap<(String, i32), i64>,
) -> anyhow::Result<()> {
    if landed.is_empty() {
        return Ok(());
    }
    let rows = landed
        .into_iter()
        .map(|((topic, partition), next_offset)| positions::ActiveModel {
            topic: Set(topic),
            partition: Set(partition),
            next_offset: Set(next_offset),
        });
    positions::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::columns([positions::Column::Topic, positions::Column::Partition])
                .update_column(positions::Column::NextOffset)
                .to_owned(),
        )
        .exec(txn)
        .await
        .context("failed to record the outbox positions")?;
    Ok(())
}
