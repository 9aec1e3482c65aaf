//! What the item subgraph consumes: a deleted store's menu goes with it.

use std::sync::Arc;

use async_trait::async_trait;
use salesync_common::events::{Event, consumer::Handler, topics, types};
use sea_orm::{ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter};

use crate::db::{categories, items};

/// The item subgraph's consumers: (topic, group, handler).
pub fn consumers() -> Vec<(&'static str, String, Arc<dyn Handler>)> {
    vec![(topics::STORES, "item".to_string(), Arc::new(StoreDeleted))]
}

/// `StoreDeleted`: removes the store's categories and items for good.
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
