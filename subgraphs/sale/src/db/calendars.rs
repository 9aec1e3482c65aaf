//! The `store_calendars` table: each store's time zone and closeout hour,
//! copied from the store subgraph's events.

use chrono::{DateTime, Utc};
use salesync_common::{
    Result,
    db::{excluded, of_store},
};
use sea_orm::{
    ActiveValue::Set,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait, OnConflict},
};

use crate::upstream::Calendar;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_calendars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    pub timezone: String,
    pub closeout_hour: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, StoreId);

pub async fn find<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<Option<Model>> {
    Ok(of_store::<Entity>(store_id).one(db).await?)
}

/// The store's calendar, with the time it was true as of.
pub async fn find_dated<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
) -> Result<Option<(Calendar, DateTime<Utc>)>> {
    Ok(find(db, store_id).await?.map(|copy| {
        let calendar = Calendar {
            timezone: copy.timezone,
            closeout_hour: copy.closeout_hour,
        };
        (calendar, copy.updated_at)
    }))
}

/// Keeps the newest calendar of a store: a value older than the one kept
/// (an event that arrives after the calendar was asked for directly) is
/// ignored.
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    timezone: &str,
    closeout_hour: i32,
    now: DateTime<Utc>,
) -> Result<()> {
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        timezone: Set(timezone.to_string()),
        closeout_hour: Set(closeout_hour),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(Column::StoreId)
            .update_columns([Column::Timezone, Column::CloseoutHour, Column::UpdatedAt])
            .action_and_where(
                excluded(Column::UpdatedAt).gt(Expr::col((Entity, Column::UpdatedAt))),
            )
            .to_owned(),
    )
    // Nothing is written when the kept value is newer: not an error.
    .exec_without_returning(db)
    .await?;
    Ok(())
}
