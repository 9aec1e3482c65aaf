//! The transactional outbox and its relay.

use std::{sync::Arc, time::Duration};

use anyhow::Context;
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DbBackend, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait, sea_query::Expr,
};
use tokio::sync::Notify;

use super::{Event, EventBus};
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
    entity::ActiveModel {
        event_id: Set(event.id),
        topic: Set(topic.to_string()),
        key: Set(event.key()),
        payload: Set(serde_json::to_string(event).expect("BUG: an event always serializes")),
        created_at: Set(Utc::now()),
        published_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
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

/// Publishes pending outbox rows in order and marks them published.
///
/// With several replicas, one relays at a time (a PostgreSQL advisory lock
/// held for the batch's transaction): order is kept and no event is sent
/// twice in the normal case. A crash between publishing and marking sends
/// a batch again; consumers skip event ids they have applied.
pub struct Relay {
    db: DatabaseConnection,
    bus: Arc<dyn EventBus>,
    signal: OutboxSignal,
    batch: u64,
    poll: Duration,
}

/// Published rows are kept this long for inspection, then dropped.
const KEEP_PUBLISHED: chrono::Duration = chrono::Duration::days(1);
/// How often the relay drops them: rarely, since the query scans what was
/// published (only pending rows are indexed).
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

async fn prune(db: &DatabaseConnection) -> Result<(), DbErr> {
    entity::Entity::delete_many()
        .filter(entity::Column::PublishedAt.lt(Utc::now() - KEEP_PUBLISHED))
        .exec(db)
        .await?;
    Ok(())
}

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
        }
    }

    /// Relays until `stop`. Errors (the bus is down) are logged and retried
    /// with a growing pause; the rows stay pending meanwhile.
    pub async fn run(self, mut stop: Stop) {
        let mut failures = 0u32;
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                if let Err(error) = prune(&self.db).await {
                    tracing::warn!(error = ?error, "failed to prune the outbox");
                }
                last_prune = Some(tokio::time::Instant::now());
            }
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

    /// Publishes one batch; returns how many events went out.
    pub async fn relay_once(&self) -> anyhow::Result<usize> {
        let txn = self.db.begin().await.context("failed to begin")?;
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
        let pending = entity::Entity::find()
            .filter(entity::Column::PublishedAt.is_null())
            .order_by_asc(entity::Column::Seq)
            .limit(self.batch)
            .all(&txn)
            .await
            .context("failed to read the outbox")?;
        if pending.is_empty() {
            return Ok(0);
        }
        for row in &pending {
            self.bus
                .publish(&row.topic, &row.key, row.payload.as_bytes())
                .await?;
        }
        let sent: Vec<i64> = pending.iter().map(|row| row.seq).collect();
        entity::Entity::update_many()
            .col_expr(entity::Column::PublishedAt, Expr::value(Utc::now()))
            .filter(entity::Column::Seq.is_in(sent.clone()))
            .exec(&txn)
            .await
            .context("failed to mark events published")?;
        txn.commit()
            .await
            .context("failed to commit the relay batch")?;
        tracing::debug!(count = sent.len(), "relayed events");
        Ok(sent.len())
    }
}
