//! Failed logins per username, and the lock that follows too many.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait, entity::prelude::*};

use crate::config::LoginSettings;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub username: String,
    pub failures: i32,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// If `username` is locked now, how many seconds remain.
pub async fn locked_for(db: &DatabaseConnection, username: &str) -> Result<Option<u64>, DbErr> {
    let now = Utc::now();
    Ok(Entity::find_by_id(username.to_string())
        .one(db)
        .await?
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1) as u64))
}

/// Counts a failed attempt; locks the username once the window holds too many.
pub async fn record_failure(
    db: &DatabaseConnection,
    username: &str,
    rules: LoginSettings,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let txn = db.begin().await?;
    let existing = Entity::find_by_id(username.to_string()).one(&txn).await?;
    let in_window = existing.as_ref().filter(|row| {
        now - row.window_started_at < Duration::seconds(rules.window_seconds)
            && row.locked_until.is_none_or(|until| until > now)
    });
    let (failures, window_started_at) = match in_window {
        Some(row) => (row.failures + 1, row.window_started_at),
        None => (1, now),
    };
    let locked_until =
        (failures >= rules.max_failures).then(|| now + Duration::seconds(rules.lock_seconds));
    let row = ActiveModel {
        username: Set(username.to_string()),
        failures: Set(failures),
        window_started_at: Set(window_started_at),
        locked_until: Set(locked_until),
    };
    if existing.is_some() {
        row.update(&txn).await?;
    } else {
        row.insert(&txn).await?;
    }
    txn.commit().await
}

/// A successful login forgets earlier failures.
pub async fn clear(db: &DatabaseConnection, username: &str) -> Result<(), DbErr> {
    Entity::delete_by_id(username.to_string()).exec(db).await?;
    Ok(())
}
