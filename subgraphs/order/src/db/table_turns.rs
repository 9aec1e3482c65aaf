//! The `table_turns` table: a row per table of a store, whose lock is the
//! table's turn. Every query is scoped to one store.

use salesync_common::Result;
use sea_orm::{ActiveValue::Set, entity::prelude::*, sea_query::OnConflict};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "table_turns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub table_no: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Waits for the table's turn and holds it until `txn` ends: an upsert
/// that always writes, so it locks the row whether it made or found it, in
/// one statement. Whoever changes a table's order takes its turn first.
pub async fn take(txn: &sea_orm::DatabaseTransaction, store_id: Uuid, table_no: i32) -> Result<()> {
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        table_no: Set(table_no),
    })
    .on_conflict(
        OnConflict::columns([Column::StoreId, Column::TableNo])
            .update_column(Column::TableNo)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Removes the store's tables; taken first when a store goes, like every
/// change, so it waits its turn rather than deadlocking with a terminal.
pub async fn delete_of_store(txn: &sea_orm::DatabaseTransaction, store_id: Uuid) -> Result<u64> {
    Ok(Entity::delete_many()
        .filter(Column::StoreId.eq(store_id))
        .exec(txn)
        .await?
        .rows_affected)
}
