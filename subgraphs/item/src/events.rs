//! What the item subgraph consumes: a deleted store's menu goes with it.

use std::sync::Arc;

use async_trait::async_trait;
use salesync_common::events::{Event, consumer::Handler, deleted_stores, topics, types};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::db::{categories, items};

/// The item subgraph's consumers: (topic, group, handler).
pub fn consumers() -> Vec<(&'static str, String, Arc<dyn Handler>)> {
    vec![(topics::STORES, "item".to_string(), Arc::new(StoreDeleted))]
}

/// `StoreDeleted`: refuses the store's tokens and removes its categories
/// and items for good.
pub struct StoreDeleted;

#[async_trait]
impl Handler for StoreDeleted {
    fn name(&self) -> &'static str {
        "item.store-deleted"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if event.event_type != types::STORE_DELETED {
            return Ok(());
        }
        // Its tokens are refused from now on, so nothing new appears.
        deleted_stores::record(txn, event.store_id).await?;
        let items = items::Entity::delete_many()
            .filter(items::Column::StoreId.eq(event.store_id))
            .exec(txn)
            .await?;
        let categories = categories::Entity::delete_many()
            .filter(categories::Column::StoreId.eq(event.store_id))
            .exec(txn)
            .await?;
        tracing::info!(
            store_id = %event.store_id,
            items = items.rows_affected,
            categories = categories.rows_affected,
            "removed a deleted store's menu"
        );
        Ok(())
    }
}
