//! The `store_ledgers` table: one row per store that every change to the
//! store's figures locks first (the live consumer and a rebuild alike), so
//! the two never interleave.

use chrono::{DateTime, Utc};
use salesync_common::Result;
use sea_orm::{ActiveValue::Set, entity::prelude::*, sea_query::OnConflict};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_ledgers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub rebuilt_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, StoreId);

/// Locks the store's figures until the transaction ends (an upsert holds
/// the row's lock), noting when they changed and, for a rebuild, that too.
pub async fn lock<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    now: DateTime<Utc>,
    rebuilding: bool,
) -> Result<()> {
    let mut columns = vec![Column::UpdatedAt];
    if rebuilding {
        columns.push(Column::RebuiltAt);
    }
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        updated_at: Set(now),
        rebuilt_at: Set(rebuilding.then_some(now)),
    })
    .on_conflict(
        OnConflict::column(Column::StoreId)
            .update_columns(columns)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Every store the read model has figures of.
pub async fn stores<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>> {
    Ok(Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.store_id)
        .collect())
}
