//! Stores that were deleted, as each subgraph learned from `StoreDeleted`.
//!
//! A token stays valid until it expires, but a deleted store must not write
//! again anywhere (nothing would ever remove what it wrote): the token
//! verifier refuses tokens of stores listed here.

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait};
use uuid::Uuid;

/// The `deleted_stores` table.
pub mod entity {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deleted_stores")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub store_id: Uuid,
        pub deleted_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records `store_id` as deleted (again is fine).
pub async fn record<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<(), DbErr> {
    entity::Entity::insert(entity::ActiveModel {
        store_id: Set(store_id),
        deleted_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([entity::Column::StoreId])
    .exec(db)
    .await?;
    Ok(())
}

/// Whether `store_id` was deleted.
pub async fn contains(db: &DatabaseConnection, store_id: Uuid) -> Result<bool, DbErr> {
    Ok(entity::Entity::find_by_id(store_id)
        .one(db)
        .await?
        .is_some())
}
