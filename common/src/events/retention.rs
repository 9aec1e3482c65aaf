//! Pruning what the event tables no longer need: outbox rows the bus
//! acknowledged, and the ids of applied events, once older than the window.
//!
//! A consumer skips an event whose id it finds in `processed_events`; the
//! broker can only redeliver what it still holds. So the window must be
//! longer than the broker's retention (Kafka's default is 7 days; ours 14),
//! and nothing is forgotten that could still come back. Outbox rows still
//! waiting for the bus are never pruned, however old.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::{consumer, outbox};
use crate::{clock::Clock, shutdown::Stop};

/// `[retention]`: how long event bookkeeping is kept, and how often it is pruned.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default)]
pub struct RetentionSettings {
    /// Days a published event and an applied event's id are kept: longer
    /// than the broker keeps messages.
    pub days: u32,
    /// Seconds between two prunings.
    pub every_seconds: u64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        RetentionSettings {
            days: 14,
            every_seconds: 3600,
        }
    }
}

/// What one pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub outbox: u64,
    pub processed_events: u64,
}

/// Removes published outbox rows and applied event ids older than `days`
/// before `now`; `processed_events` only where the subgraph consumes.
pub async fn prune<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    days: u32,
    consumes: bool,
) -> Result<Pruned, DbErr> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let outbox = outbox::entity::Entity::delete_many()
        .filter(outbox::entity::Column::PublishedAt.is_not_null())
        .filter(outbox::entity::Column::PublishedAt.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected;
    let processed_events = if consumes {
        consumer::entity::Entity::delete_many()
            .filter(consumer::entity::Column::ProcessedAt.lt(cutoff))
            .exec(db)
            .await?
            .rows_affected
    } else {
        0
    };
    Ok(Pruned {
        outbox,
        processed_events,
    })
}

/// Prunes every `settings.every_seconds` until `stop`. Several replicas
/// pruning at once is harmless: each deletes what is old.
pub async fn run(
    db: DatabaseConnection,
    clock: Clock,
    settings: RetentionSettings,
    consumes: bool,
    mut stop: Stop,
) {
    let every = Duration::from_secs(settings.every_seconds.max(1));
    loop {
        match prune(&db, clock.now(), settings.days, consumes).await {
            Ok(pruned) if pruned != Pruned::default() => {
                tracing::info!(
                    outbox = pruned.outbox,
                    processed_events = pruned.processed_events,
                    days = settings.days,
                    "pruned event bookkeeping"
                );
            }
            Ok(_) => {}
            Err(error) => {
                tracing::warn!(error = %error, "failed to prune event bookkeeping; retrying later")
            }
        }
        tokio::select! {
            _ = stop.wait() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
