//! Idempotent consumers: each event is applied once per consumer, in one
//! database transaction with the record that it was applied, and the bus
//! offset is committed only after that transaction committed.
//!
//! A broker that lost its log gets it back from the relays in a new
//! generation (see `outbox`). An offset from the lost log (the group's
//! committed one, or the position of a member that outlived the loss) may
//! point past events of the new log, so a consumer that meets a message
//! of a newer generation than its committed offset's reads the partition
//! again from its start, skipping by id what it had applied.

use std::{
    collections::{HashMap, hash_map::Entry},
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
    let txn = db.begin().await.context("failed to begin")?;
    // The record comes first: one statement says whether the event was
    // applied before. A concurrent duplicate (two members during a
    // rebalance) waits here on the primary key until the first commits,
    // then finds it applied; had the first rolled back, it applies it.
    let recorded = entity::Entity::insert(entity::ActiveModel {
        consumer: Set(handler.name().to_string()),
        event_id: Set(event.id),
        processed_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([entity::Column::Consumer, entity::Column::EventId])
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await
    .context("failed to record the processed event")?;
    if recorded == 0 {
        return Ok(Applied::Before);
    }
    handler.handle(&txn, event).await?;
    txn.commit().await.context("failed to commit")?;
    Ok(Applied::Now)
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
        let Err(error) = consume(subscription, &db, handler.as_ref(), &metrics, &mut stop).await
        else {
            return;
        };
        tracing::warn!(consumer = name, error = ?error, "lost the bus; subscribing again once it answers");
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// At most this many messages are applied between two commits while more
/// keep arriving; a consumer with nothing more waiting commits at once.
const COMMIT_AFTER_AT_MOST: usize = 100;

/// Applies what `subscription` delivers until `stop` (Ok) or the bus fails.
///
/// Offsets are committed synchronously, after the events they cover were
/// applied, whenever no further message is waiting (so a consumer that
/// keeps up commits after every event), before a partition is read again,
/// and after [`COMMIT_AFTER_AT_MOST`] messages while it catches up. A
/// commit is a round trip to the broker: one per event let a busy
/// consumer fall behind the events it was sent, and its backlog sat in the
/// client's fetch buffers, growing its memory for as long as the load
/// lasted.
async fn consume(
    mut subscription: Box<dyn super::Subscription>,
    db: &DatabaseConnection,
    handler: &dyn Handler,
    metrics: &Metrics,
    stop: &mut Stop,
) -> anyhow::Result<()> {
    let name = handler.name();
    let mut generations = Generations::default();
    let mut done = Done::default();
    loop {
        // A message already waiting is taken at once; before waiting for
        // one, what was applied is committed.
        let waiting = if done.is_empty() {
            None
        } else {
            subscription.next().now_or_never()
        };
        let message = match waiting {
            Some(message) => message?,
            None => {
                done.commit(subscription.as_mut(), &mut generations, db, name)
                    .await;
                tokio::select! {
                    _ = stop.wait() => return Ok(()),
                    message = subscription.next() => message?,
                }
            }
        };
        if generations.of(db, name, &message).await?.reading < message.epoch {
            // What was applied is committed in the generation it came from,
            // before the member moves on to the newer one.
            done.commit(subscription.as_mut(), &mut generations, db, name)
                .await;
            let generation = generations.of(db, name, &message).await?;
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
        match serde_json::from_slice::<Event>(&message.payload) {
            Ok(event) => {
                let span = crate::telemetry::continue_trace(
                    tracing::info_span!("apply event", consumer = name, event_type = %event.event_type),
                    event.traceparent.as_deref(),
                );
                let mut attempt = 0u32;
                loop {
                    match apply(db, handler, &event).instrument(span.clone()).await {
                        Ok(applied) => {
                            tracing::debug!(consumer = name, event_id = %event.id, ?applied, "event handled");
                            if applied == Applied::Now {
                                metrics.event_applied(name);
                            }
                            break;
                        }
                        Err(error) => {
                            attempt += 1;
                            tracing::error!(consumer = name, event_id = %event.id, attempt, error = ?error, "failed to apply an event; retrying");
                            let pause = Duration::from_millis(200 * u64::from(attempt.min(25)));
                            tokio::select! {
                                _ = stop.wait() => {
                                    done.commit(subscription.as_mut(), &mut generations, db, name).await;
                                    return Ok(());
                                }
                                _ = tokio::time::sleep(pause) => {}
                            }
                        }
                    }
                }
            }
            // A message that is not an event can never be applied: skip it
            // rather than block the partition forever.
            Err(error) => {
                tracing::error!(consumer = name, offset = message.offset, error = %error, "skipping a message that is not an event");
            }
        }
        if let Some(lag) = subscription.lag(&message) {
            metrics.consumer_lag(name, &message.topic, message.partition, lag);
        }
        if done.add(message) >= COMMIT_AFTER_AT_MOST {
            done.commit(subscription.as_mut(), &mut generations, db, name)
                .await;
        }
    }
}

/// By partition, the last message handled and not yet committed, and how
/// many were handled since the last commit.
#[derive(Default)]
struct Done {
    last: HashMap<i32, Message>,
    count: usize,
}

impl Done {
    fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// Adds `message`; returns how many are uncommitted now.
    fn add(&mut self, message: Message) -> usize {
        self.last.insert(message.partition, message);
        self.count += 1;
        self.count
    }

    /// Commits each partition's last handled message; then, as after every
    /// commit, records a newer log generation the member reads.
    async fn commit(
        &mut self,
        subscription: &mut dyn super::Subscription,
        generations: &mut Generations,
        db: &DatabaseConnection,
        name: &str,
    ) {
        self.count = 0;
        for (_, message) in self.last.drain() {
            match subscription.commit(&message).await {
                Ok(()) => generations.record(db, name, &message).await,
                // Not fatal: the events are recorded as applied, so a
                // redelivery is skipped.
                Err(error) => {
                    tracing::warn!(consumer = name, error = ?error, "failed to commit the offset");
                }
            }
        }
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
