//! The `store_facts` table: each store's table count and business calendar,
//! copied from the store subgraph's events (or asked of it once, when its
//! event has not arrived yet).

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

use crate::upstream::StoreFacts;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    pub table_count: i32,
    pub timezone: String,
    pub closeout_hour: i32,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, StoreId);

impl From<Model> for StoreFacts {
    fn from(copy: Model) -> Self {
        StoreFacts {
            table_count: copy.table_count,
            timezone: copy.timezone,
            closeout_hour: copy.closeout_hour,
        }
    }
}

/// The store's facts, with the time they were true as of.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
) -> Result<Option<(StoreFacts, DateTime<Utc>)>> {
    Ok(of_store::<Entity>(store_id).one(db).await?.map(|copy| {
        let at = copy.updated_at;
        (StoreFacts::from(copy), at)
    }))
}

/// Keeps the newest facts of a store, true as of `at`: older ones (an event
/// that arrives after the facts were asked for directly) are ignored.
pub async fn upsert<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    facts: &StoreFacts,
    at: DateTime<Utc>,
) -> Result<()> {
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        table_count: Set(facts.table_count),
        timezone: Set(facts.timezone.clone()),
        closeout_hour: Set(facts.closeout_hour),
        updated_at: Set(at),
    })
    .on_conflict(
        OnConflict::column(Column::StoreId)
            .update_columns([
                Column::TableCount,
                Column::Timezone,
                Column::CloseoutHour,
                Column::UpdatedAt,
            ])
            .action_and_where(
                excluded(Column::UpdatedAt).gt(Expr::col((Entity, Column::UpdatedAt))),
            )
            .to_owned(),
    )
    // Nothing is written when the kept facts are newer: not an error.
    .exec_without_returning(db)
    .await?;
    Ok(())
}
