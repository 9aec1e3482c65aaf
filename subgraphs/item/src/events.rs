//! What the item subgraph consumes: a deleted store's menu goes with it.

use async_trait::async_trait;
use salesync_common::events::{Event, consumer::Handler, deleted_stores, types};
use sea_orm::DatabaseTransaction;

use crate::db::{categories, items};

/// `StoreDeleted` on `salesync.stores`: refuses the store's tokens and
/// removes its categories and items for good.
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
        let items = items::delete_of_store(txn, event.store_id).await?;
        let categories = categories::delete_of_store(txn, event.store_id).await?;
        tracing::info!(store_id = %event.store_id, items, categories, "removed a deleted store's menu");
        Ok(())
    }
}
