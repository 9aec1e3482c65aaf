//! What the order subgraph consumes beyond a deleted store (see
//! `service`): its own order events, broadcast to every replica for
//! `tableChanged`, and the store subgraph's profile events, for the facts
//! orders need of a store.

use async_trait::async_trait;
use salesync_common::events::{
    Event, Happened,
    consumer::Handler,
    feed::{Envelope, Feed},
    types,
};
use sea_orm::DatabaseTransaction;

use crate::{db::store_facts, snapshot::OrderSnapshot, upstream::StoreFacts};

/// Every order change seen on the bus, for this replica's subscribers.
pub type OrderFeed = Feed<OrderSnapshot>;

/// Every event on `salesync.orders` is the order as it now is.
pub fn order_of(event: &Envelope<'_>) -> anyhow::Result<Option<OrderSnapshot>> {
    Ok(Some(event.payload_as()?))
}

/// Keeps each store's table count and business calendar, so taking an
/// order or listing a day's orders needs no call to the store subgraph.
pub struct StoreFactsCopy;

#[async_trait]
impl Handler for StoreFactsCopy {
    fn name(&self) -> &str {
        "order.store-facts"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if event.event_type != types::STORE_OPENED && event.event_type != types::STORE_UPDATED {
            return Ok(());
        }
        let facts: StoreFacts = event.payload_as()?;
        store_facts::upsert(txn, event.store_id, &facts, event.occurred_at).await?;
        Ok(())
    }
}
