//! Failed logins per subject, and the lock that follows too many. A subject
//! is a username, or a client address (`@` and the address: no username
//! contains `@`), so one table throttles both ways.

use std::net::IpAddr;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{ActiveValue::Set, TransactionTrait, entity::prelude::*};

use crate::{config::LoginSettings, domain::Username};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_throttle")]
pub struct Model {
    /// The subject's key (the column kept its first name).
    #[sea_orm(primary_key, auto_increment = false)]
    pub username: String,
    pub failures: i32,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Who failed to log in: a username, or where attempts came from.
#[derive(Debug, Clone)]
pub enum Subject {
    Username(String),
    Address(IpAddr),
}

impl Subject {
    pub fn username(username: &Username) -> Self {
        Subject::Username(username.as_str().to_string())
    }

    fn key(&self) -> String {
        match self {
            Subject::Username(username) => username.clone(),
            Subject::Address(address) => format!("@{address}"),
        }
    }

    /// Failures in the window before the subject is locked.
    fn max_failures(&self, rules: LoginSettings) -> i32 {
        match self {
            Subject::Username(_) => rules.max_failures,
            Subject::Address(_) => rules.max_failures_per_address,
        }
    }
}

/// If `subject` is locked now, how many seconds remain.
pub async fn locked_for(db: &DatabaseConnection, subject: &Subject) -> Result<Option<u64>, DbErr> {
    let now = Utc::now();
    Ok(Entity::find_by_id(subject.key())
        .one(db)
        .await?
        .and_then(|row| row.locked_until)
        .filter(|until| *until > now)
        .map(|until| (until - now).num_seconds().max(1) as u64))
}

/// Counts a failed attempt; locks the subject once the window holds too many.
pub async fn record_failure(
    db: &DatabaseConnection,
    subject: &Subject,
    rules: LoginSettings,
) -> Result<(), DbErr> {
    let now = Utc::now();
    let key = subject.key();
    let txn = db.begin().await?;
    let existing = Entity::find_by_id(key.clone()).one(&txn).await?;
    let in_window = existing.as_ref().filter(|row| {
        now - row.window_started_at < Duration::seconds(rules.window_seconds)
            && row.locked_until.is_none_or(|until| until > now)
    });
    let (failures, window_started_at) = match in_window {
        Some(row) => (row.failures + 1, row.window_started_at),
        None => (1, now),
    };
    let locked_until = (failures >= subject.max_failures(rules))
        .then(|| now + Duration::seconds(rules.lock_seconds));
    let row = ActiveModel {
        username: Set(key),
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

/// A successful login forgets the username's earlier failures. An
/// address's are kept: one account of one's own must not reset the count
/// of guesses at others.
pub async fn clear(db: &DatabaseConnection, username: &Username) -> Result<(), DbErr> {
    Entity::delete_by_id(username.as_str().to_string())
        .exec(db)
        .await?;
    Ok(())
}
