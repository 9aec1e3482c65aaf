//! The `consulting_results` table: the latest of each consulting request.

use chrono::{DateTime, Utc};
use salesync_common::{
    Result,
    consulting::ConsultingStatus,
    db::{excluded, of_store},
};
use sea_orm::{
    ActiveValue::Set,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait, OnConflict},
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consulting_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    pub store_id: Uuid,
    pub status: ConsultingStatus,
    pub stage: i32,
    pub content: Option<String>,
    pub error: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, RequestId);

/// The store's result of a request, if any event of it arrived.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    request_id: Uuid,
) -> Result<Option<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::RequestId.eq(request_id))
        .one(db)
        .await?)
}

/// Keeps `result` unless what is kept is further on: a later stage, or a
/// newer event of the same stage. An end is never replaced.
pub async fn keep<C: ConnectionTrait>(db: &C, result: &Model) -> Result<()> {
    let kept = |column: Column| Expr::col((Entity, column));
    Entity::insert(ActiveModel {
        request_id: Set(result.request_id),
        store_id: Set(result.store_id),
        status: Set(result.status),
        stage: Set(result.stage),
        content: Set(result.content.clone()),
        error: Set(result.error.clone()),
        completed_at: Set(result.completed_at),
        updated_at: Set(result.updated_at),
    })
    .on_conflict(
        OnConflict::column(Column::RequestId)
            .update_columns([
                Column::Status,
                Column::Stage,
                Column::Content,
                Column::Error,
                Column::CompletedAt,
                Column::UpdatedAt,
            ])
            .action_and_where(
                excluded(Column::Stage)
                    .gt(kept(Column::Stage))
                    .or(excluded(Column::Stage)
                        .eq(kept(Column::Stage))
                        .and(kept(Column::Stage).lt(2))
                        .and(excluded(Column::UpdatedAt).gt(kept(Column::UpdatedAt)))),
            )
            .to_owned(),
    )
    // Nothing is written when the kept result is further on: not an error.
    .exec_without_returning(db)
    .await?;
    Ok(())
}
