//! The `item_costs` table: each item's current unit cost.

use chrono::{DateTime, Utc};
use salesync_common::{Result, db::by_ids};
use sea_orm::{ActiveValue::Set, entity::prelude::*, sea_query::OnConflict};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "item_costs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub cost: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, ItemId);

/// Sets the costs of the store's items, replacing earlier ones.
pub async fn set<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    costs: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<()> {
    for chunk in costs.chunks(super::CHUNK) {
        Entity::insert_many(chunk.iter().map(|&(item_id, cost)| ActiveModel {
            store_id: Set(store_id),
            item_id: Set(item_id),
            cost: Set(cost),
            updated_at: Set(now),
        }))
        .on_conflict(
            OnConflict::columns([Column::StoreId, Column::ItemId])
                .update_columns([Column::Cost, Column::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The store's costs of these items; items without one are absent.
pub async fn of_items<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    item_ids: Vec<Uuid>,
) -> Result<Vec<Model>> {
    by_ids::<Entity, _>(db, store_id, item_ids).await
}
