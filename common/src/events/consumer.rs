//! Idempotent consumers: each event is applied once per consumer, in the
//! database transaction that records it as applied, and the bus offset is
//! committed only after that transaction committed. A consumer that is
//! behind applies the events already waiting in one transaction.
//!
//! A broker that lost its log gets it back from the relays in a new
//! generation (see `outbox`). An offset from the lost log (the group's
//! committed one, or the position of a member that outlived the loss) may
//! point past events of the new log, so a consumer that meets a message
//! of a newer generation than its committed offset's reads the partition
//! again from its start, skipping by id what it had applied.

use std::{
    borrow::Borrow,
    collections::{HashMap, HashSet, hash_map::Entry},
    sync::Arc,
    time::Duration,
};

use anyhow::Context;
use async_trait::async_trait;
use chrono::Utc;
use futures::FutureExt;
use sea_orm::{
    ActiveValue::Set, DatabaseConnection, DatabaseTransaction, EntityTrait, TransactionTrait,
    sea_query::OnConflict,
};
use tracing::Instrument;
use uuid::Uuid;

use super::{Delivery, Event, EventBus, Message, bus};
use crate::{metrics::Metrics, shutdown::Stop};

/// The `processed_events` table.
pub mod entity {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "processed_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: Uuid,
        pub processed_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `consumer_epochs` table: per consumer and partition, the log
/// generation its group's committed offset is in (none is generation 0).
pub mod epochs {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consumer_epochs")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub consumer: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub topic: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub partition: i32,
        pub epoch: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What a consumer does with an event, inside the transaction that also
/// records the event as applied.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    /// Unique per consumer within the subgraph's database, e.g. `item.store-deleted`.
    fn name(&self) -> &str;

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()>;

    /// Applies `events`, in order, in one transaction: the events of a
    /// batch this consumer had not applied before. By default, each in turn
    /// with [`Handler::handle`], in the trace that wrote it; a handler that
    /// can apply several in fewer statements overrides it.
    async fn handle_all(&self, txn: &DatabaseTransaction, events: &[&Event]) -> anyhow::Result<()> {
        for event in events {
            self.handle(txn, event)
                .instrument(span_of(self.name(), event))
                .await?;
        }
        Ok(())
    }
}

/// Whether `apply` changed anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Now,
    Before,
}

/// Applies `event` once: skipped when this consumer already applied its id.
pub async fn apply(
    db: &DatabaseConnection,
    handler: &dyn Handler,
    event: &Event,
) -> anyhow::Result<Applied> {
    let applied = apply_all(db, handler, &[event]).await?;
    Ok(applied[0])
}

/// Applies each of `events` once, in order, all in one transaction: either
/// every one that was not applied before is, or none is. What each was, in
/// the order given (an id given twice is applied the first time).
///
/// A consumer that is behind applies what is waiting this way: the commit,
/// which waits for the database's log to reach the disk, is what a small
/// event costs most, and a batch pays it once. The batch is recorded as
/// applied in one statement, which says which events are new, and those go
/// to [`Handler::handle_all`] together.
pub async fn apply_all(
    db: &DatabaseConnection,
    handler: &dyn Handler,
    events: &[impl Borrow<Event> + Sync],
) -> anyhow::Result<Vec<Applied>> {
    let events: Vec<&Event> = events.iter().map(Borrow::borrow).collect();
    let txn = db.begin().await.context("failed to begin")?;
    let mut new = record(&txn, handler.name(), &events).await?;
    let mut fresh = Vec::with_capacity(new.len());
    let applied = events
        .iter()
        .map(|event| {
            if new.remove(&event.id) {
                fresh.push(*event);
                Applied::Now
            } else {
                Applied::Before
            }
        })
        .collect();
    if !fresh.is_empty() {
        handler.handle_all(&txn, &fresh).await?;
    }
    txn.commit().await.context("failed to commit")?;
    Ok(applied)
}

/// Records `events` as applied by `consumer` in `txn`; returns the ids that
/// were not recorded before. One statement per thousand events.
///
/// The rows go in in the order of their ids: a concurrent duplicate (two
/// members during a rebalance) waits on the first id the two batches share
/// until the other commits, then finds it applied (had the other rolled
/// back, it applies it), and two batches that share several never wait for
/// each other in opposite orders. Nothing else is locked before the record,
/// so the handlers' own locks cannot cross these either.
async fn record(
    txn: &DatabaseTransaction,
    consumer: &str,
    events: &[&Event],
) -> anyhow::Result<HashSet<Uuid>> {
    let mut ids: Vec<Uuid> = events.iter().map(|event| event.id).collect();
    ids.sort_unstable();
    ids.dedup();
    let now = Utc::now();
    let mut new = HashSet::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let recorded =
            entity::Entity::insert_many(chunk.iter().map(|&event_id| entity::ActiveModel {
                consumer: Set(consumer.to_string()),
                event_id: Set(event_id),
                processed_at: Set(now),
            }))
            .on_conflict(
                OnConflict::columns([entity::Column::Consumer, entity::Column::EventId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning_keys(txn)
            .await
            .context("failed to record the processed events")?;
        new.extend(recorded.into_iter().map(|(_, event_id)| event_id));
    }
    Ok(new)
}

/// The span an event is applied in, a child of the trace that wrote it.
pub fn span_of(consumer: &str, event: &Event) -> tracing::Span {
    crate::telemetry::continue_trace(
        tracing::info_span!("apply event", consumer, event_type = %event.event_type),
        event.traceparent.as_deref(),
    )
}

/// Consumes `topic` as a member of `group` until `stop`.
pub async fn run(
    bus: Arc<dyn EventBus>,
    db: DatabaseConnection,
    topic: &'static str,
    group: String,
    handler: Arc<dyn Handler>,
    metrics: Metrics,
    mut stop: Stop,
) {
    let name = handler.name();
    // A subscription lasts until the bus fails; then it is dropped and made
    // anew once the bus answers. The group resumes from its committed
    // offset (from the start, if the broker lost it: applied events are
    // skipped by id).
    loop {
        let Some(subscription) = bus::subscribe_until_stopped(
            bus.as_ref(),
            topic,
            Delivery::Group(group.clone()),
            &mut stop,
        )
        .await
        else {
            return;
        };
        let consumer = Consumer {
            db: &db,
            handler: handler.as_ref(),
            metrics: &metrics,
            generations: Generations::default(),
            taken: Vec::new(),
            done: Done::default(),
        };
        let Err(error) = consumer.consume(subscription, &mut stop).await else {
            return;
        };
        tracing::warn!(consumer = name, error = ?error, "lost the bus; subscribing again once it answers");
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// At most this many messages are taken before they are applied (in one
/// transaction) and their offsets committed, while more keep arriving; a
/// consumer with nothing more waiting applies and commits at once.
const BATCH_AT_MOST: usize = 100;

/// One subscription's consumer: what it took from the bus and has not
/// applied yet, and what it applied and has not committed yet.
struct Consumer<'a> {
    db: &'a DatabaseConnection,
    handler: &'a dyn Handler,
    metrics: &'a Metrics,
    generations: Generations,
    /// In the order taken; `None` for a message that is not an event.
    taken: Vec<(Message, Option<Event>)>,
    done: Done,
}

/// Whether the consumer goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Settled {
    Going,
    Stopped,
}

impl Consumer<'_> {
    /// Applies what `subscription` delivers until `stop` (Ok) or the bus
    /// fails.
    ///
    /// What is waiting is taken at once, up to [`BATCH_AT_MOST`] messages,
    /// then applied in one transaction, and the offsets are committed
    /// synchronously after it: so a consumer that keeps up applies and
    /// commits after every event, and one that is behind pays a database
    /// commit and a broker round trip per batch rather than per event. One
    /// per event let a busy consumer fall behind the events it was sent;
    /// its backlog sat in the client's fetch buffers, growing its memory
    /// for as long as the load lasted.
    async fn consume(
        mut self,
        mut subscription: Box<dyn super::Subscription>,
        stop: &mut Stop,
    ) -> anyhow::Result<()> {
        let name = self.handler.name();
        loop {
            let waiting = if self.taken.is_empty() {
                None
            } else {
                subscription.next().now_or_never()
            };
            let message = match waiting {
                Some(message) => message?,
                None => {
                    if self.settle(subscription.as_mut(), stop).await == Settled::Stopped {
                        return Ok(());
                    }
                    tokio::select! {
                        _ = stop.wait() => return Ok(()),
                        message = subscription.next() => message?,
                    }
                }
            };
            if self.generations.of(self.db, name, &message).await?.reading < message.epoch {
                // What was taken is applied and committed in the generation
                // it came from, before the member moves on to the newer one.
                if self.settle(subscription.as_mut(), stop).await == Settled::Stopped {
                    return Ok(());
                }
                let generation = self.generations.of(self.db, name, &message).await?;
                generation.reading = message.epoch;
                tracing::warn!(
                    consumer = name,
                    topic = message.topic,
                    partition = message.partition,
                    epoch = message.epoch,
                    committed = generation.committed,
                    "the broker lost the log this consumer's offset was in; reading the partition again from its start"
                );
                subscription.rewind(message.partition).await?;
                continue;
            }
            if let Some(lag) = subscription.lag(&message) {
                self.metrics
                    .consumer_lag(name, &message.topic, message.partition, lag);
            }
            let event = match serde_json::from_slice::<Event>(&message.payload) {
                Ok(event) => Some(event),
                // A message that is not an event can never be applied: skip
                // it rather than block the partition forever.
                Err(error) => {
                    tracing::error!(consumer = name, offset = message.offset, error = %error, "skipping a message that is not an event");
                    None
                }
            };
            self.taken.push((message, event));
            if self.taken.len() >= BATCH_AT_MOST
                && self.settle(subscription.as_mut(), stop).await == Settled::Stopped
            {
                return Ok(());
            }
        }
    }

    /// Applies what was taken, then commits the offsets. The events are
    /// applied together first; should that fail, one by one, each retried
    /// until it applies or `stop` comes (then the offsets of those applied
    /// are committed).
    async fn settle(
        &mut self,
        subscription: &mut dyn super::Subscription,
        stop: &mut Stop,
    ) -> Settled {
        let name = self.handler.name();
        let taken = std::mem::take(&mut self.taken);
        let events: Vec<&Event> = taken.iter().filter_map(|(_, e)| e.as_ref()).collect();
        let together = if events.is_empty() {
            Ok(Vec::new())
        } else {
            apply_all(self.db, self.handler, &events).await
        };
        match together {
            Ok(applied) => {
                for (event, applied) in events.into_iter().zip(applied) {
                    self.applied(event, applied);
                }
                for (message, _) in taken {
                    self.done.add(message);
                }
            }
            Err(error) => {
                tracing::warn!(consumer = name, events = events.len(), error = ?error, "failed to apply events together; applying them one by one");
                for (message, event) in taken {
                    if let Some(event) = event
                        && self.apply_retrying(&event, stop).await == Settled::Stopped
                    {
                        self.commit(subscription).await;
                        return Settled::Stopped;
                    }
                    self.done.add(message);
                }
            }
        }
        self.commit(subscription).await;
        Settled::Going
    }

    /// Applies `event` alone, retried until it applies or `stop` comes.
    async fn apply_retrying(&self, event: &Event, stop: &mut Stop) -> Settled {
        let name = self.handler.name();
        let mut attempt = 0u32;
        loop {
            match apply(self.db, self.handler, event).await {
                Ok(applied) => {
                    self.applied(event, applied);
                    return Settled::Going;
                }
                Err(error) => {
                    attempt += 1;
                    tracing::error!(consumer = name, event_id = %event.id, attempt, error = ?error, "failed to apply an event; retrying");
                    let pause = Duration::from_millis(200 * u64::from(attempt.min(25)));
                    tokio::select! {
                        _ = stop.wait() => return Settled::Stopped,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }

    fn applied(&self, event: &Event, applied: Applied) {
        let name = self.handler.name();
        tracing::debug!(consumer = name, event_id = %event.id, ?applied, "event handled");
        if applied == Applied::Now {
            self.metrics.event_applied(name);
        }
    }

    /// Commits each partition's last applied message; then, as after every
    /// commit, records a newer log generation the member reads.
    async fn commit(&mut self, subscription: &mut dyn super::Subscription) {
        let name = self.handler.name();
        for message in self.done.drain() {
            match subscription.commit(&message).await {
                Ok(()) => self.generations.record(self.db, name, &message).await,
                // Not fatal: the events are recorded as applied, so a
                // redelivery is skipped.
                Err(error) => {
                    tracing::warn!(consumer = name, error = ?error, "failed to commit the offset");
                }
            }
        }
    }
}

/// By partition, the last message applied and not yet committed.
#[derive(Default)]
struct Done(HashMap<i32, Message>);

impl Done {
    fn add(&mut self, message: Message) {
        self.0.insert(message.partition, message);
    }

    fn drain(&mut self) -> impl Iterator<Item = Message> + '_ {
        self.0.drain().map(|(_, message)| message)
    }
}

/// Per partition of the one topic a consumer reads, the log generation of
/// the group's committed offset (as recorded in `consumer_epochs`) and the
/// one this member reads; never below it.
#[derive(Default)]
struct Generations(HashMap<i32, Generation>);

#[derive(Clone, Copy)]
struct Generation {
    committed: i64,
    reading: i64,
}

impl Generations {
    /// `message`'s partition's generations; read from the database the
    /// first time.
    async fn of(
        &mut self,
        db: &DatabaseConnection,
        consumer: &str,
        message: &Message,
    ) -> anyhow::Result<&mut Generation> {
        let vacant = match self.0.entry(message.partition) {
            Entry::Occupied(known) => return Ok(known.into_mut()),
            Entry::Vacant(vacant) => vacant,
        };
        let committed = epochs::Entity::find_by_id((
            consumer.to_string(),
            message.topic.clone(),
            message.partition,
        ))
        .one(db)
        .await
        .context("failed to read the consumer's log generation")?
        .map_or(0, |row| row.epoch);
        Ok(vacant.insert(Generation {
            committed,
            reading: committed,
        }))
    }

    /// After `message`'s offset was committed: where the member reads a
    /// newer generation than the one recorded, the committed offset is in
    /// it now. Recorded only after the commit, so a crash between the two
    /// leaves the older generation, and only a needless read from the start.
    async fn record(&mut self, db: &DatabaseConnection, consumer: &str, message: &Message) {
        let Some(generation) = self.0.get_mut(&message.partition) else {
            return;
        };
        if generation.reading <= generation.committed {
            return;
        }
        let row = epochs::ActiveModel {
            consumer: Set(consumer.to_string()),
            topic: Set(message.topic.clone()),
            partition: Set(message.partition),
            epoch: Set(generation.reading),
        };
        let recorded = epochs::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    epochs::Column::Consumer,
                    epochs::Column::Topic,
                    epochs::Column::Partition,
                ])
                .update_column(epochs::Column::Epoch)
                .to_owned(),
            )
            .exec(db)
            .await;
        match recorded {
            Ok(_) => generation.committed = generation.reading,
            // Tried again after the next commit.
            Err(error) => {
                tracing::warn!(consumer, error = ?error, "failed to record the log generation");
            }
        }
    }
}
