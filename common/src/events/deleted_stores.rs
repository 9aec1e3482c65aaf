//! What every subgraph does when a store is deleted: it learns it from
//! `StoreDeleted` on `salesync.stores`, removes the store's rows, and lists
//! the store here.
//!
//! A token stays valid until it expires, but a deleted store must not write
//! again anywhere (nothing would ever remove what it wrote): the token
//! verifier refuses tokens of stores listed here.

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use uuid::Uuid;

use super::{Event, consumer::Handler, types};

/// A subgraph's rows of one store, removed when the store is deleted.
#[async_trait]
pub trait StoreRows: Send + Sync + 'static {
    /// Removes every row of `store_id` in `txn`; returns how many.
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> crate::Result<u64>;
}

/// The `StoreDeleted` consumer: lists the store (its tokens are refused from
/// now on, so nothing new appears) and removes its rows, in one transaction.
pub struct OnStoreDeleted<R> {
    name: String,
    rows: R,
}

impl<R: StoreRows> OnStoreDeleted<R> {
    /// The consumer of subgraph `service`.
    pub fn new(service: &str, rows: R) -> Self {
        OnStoreDeleted {
            name: format!("{service}.store-deleted"),
            rows,
        }
    }
}

#[async_trait]
impl<R: StoreRows> Handler for OnStoreDeleted<R> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if event.event_type != types::STORE_DELETED {
            return Ok(());
        }
        record(txn, event.store_id).await?;
        let removed = self.rows.remove(txn, event.store_id).await?;
        tracing::info!(consumer = %self.name, store_id = %event.store_id, removed, "removed a deleted store's rows");
        Ok(())
    }
}

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
pub async fn contains<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<bool, DbErr> {
    Ok(entity::Entity::find_by_id(store_id)
        .one(db)
        .await?
        .is_some())
}
