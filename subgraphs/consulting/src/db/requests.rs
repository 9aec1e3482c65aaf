//! The `consulting_requests` table: each request and, once written, its advice.

use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::{Result, db::of_store};
use sea_orm::{
    ActiveValue::Set,
    Condition, QueryOrder, QuerySelect,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait},
};

use crate::domain::{ConsultingStatus, Language};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consulting_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
    pub language: Language,
    pub status: ConsultingStatus,
    pub content: Option<String>,
    pub error: Option<String>,
    pub model: String,
    pub lease_until: Option<DateTime<Utc>>,
    pub attempts: i32,
    pub requested_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, Id);

pub async fn insert<C: ConnectionTrait>(db: &C, request: &Model) -> Result<()> {
    Entity::insert(ActiveModel {
        id: Set(request.id),
        store_id: Set(request.store_id),
        from_date: Set(request.from_date),
        to_date: Set(request.to_date),
        language: Set(request.language),
        status: Set(request.status),
        content: Set(request.content.clone()),
        error: Set(request.error.clone()),
        model: Set(request.model.clone()),
        lease_until: Set(request.lease_until),
        attempts: Set(request.attempts),
        requested_at: Set(request.requested_at),
        completed_at: Set(request.completed_at),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The store's requests, newest first (at most `limit`).
pub async fn of_store_newest<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    limit: u64,
) -> Result<Vec<Model>> {
    Ok(of_store::<Entity>(store_id)
        .order_by_desc(Column::RequestedAt)
        .order_by_desc(Column::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Requests a worker may take: pending ones, and running ones whose worker
/// has not been heard of since their lease ended. Oldest first.
pub async fn claimable<C: ConnectionTrait>(
    db: &C,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(
            Condition::any()
                .add(Column::Status.eq(ConsultingStatus::Pending))
                .add(
                    Condition::all()
                        .add(Column::Status.eq(ConsultingStatus::Running))
                        .add(Column::LeaseUntil.lt(now)),
                ),
        )
        .order_by_asc(Column::RequestedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Takes `request` for a worker until `lease_until`: only if it is still
/// as it was read (no other worker took it meanwhile).
pub async fn claim<C: ConnectionTrait>(
    db: &C,
    request: &Model,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    let mut still = Condition::all()
        .add(Column::Id.eq(request.id))
        .add(Column::Status.eq(request.status))
        .add(Column::Attempts.eq(request.attempts));
    still = match request.lease_until {
        Some(lease) => still.add(Column::LeaseUntil.eq(lease)),
        None => still.add(Column::LeaseUntil.is_null()),
    };
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(ConsultingStatus::Running))
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .col_expr(Column::Content, Expr::value(Option::<String>::None))
        .filter(still)
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the advice so far and renews the lease, while the worker still
/// owns the request (`attempt`).
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempt: i32,
    content: &str,
    lease_until: DateTime<Utc>,
) -> Result<bool> {
    let result = Entity::update_many()
        .col_expr(Column::Content, Expr::value(content.to_string()))
        .col_expr(Column::LeaseUntil, Expr::value(lease_until))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(ConsultingStatus::Running))
        .filter(Column::Attempts.eq(attempt))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Ends the request, while the worker still owns it.
pub async fn finish<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    attempt: i32,
    end: (ConsultingStatus, Option<String>, Option<String>),
    now: DateTime<Utc>,
) -> Result<bool> {
    let (status, content, error) = end;
    let result = Entity::update_many()
        .col_expr(Column::Status, Expr::value(status))
        .col_expr(Column::Content, Expr::value(content))
        .col_expr(Column::Error, Expr::value(error))
        .col_expr(
            Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(Column::CompletedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(ConsultingStatus::Running))
        .filter(Column::Attempts.eq(attempt))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}
