//! What the order subgraph consumes: its own order events, broadcast to
//! every replica for `tableChanged`; and `StoreDeleted`, which removes a
//! deleted store's orders.

use std::sync::Arc;

use async_trait::async_trait;
use salesync_common::{
    events::{Delivery, Event, EventBus, bus, consumer::Handler, deleted_stores, topics, types},
    shutdown::Stop,
};
use sea_orm::DatabaseTransaction;
use tokio::sync::broadcast;

use crate::{db::orders, snapshot::OrderSnapshot};

/// `StoreDeleted` on `salesync.stores`: refuses the store's tokens and
/// removes its orders (their lines go with them).
pub struct StoreDeleted;

#[async_trait]
impl Handler for StoreDeleted {
    fn name(&self) -> &'static str {
        "order.store-deleted"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if event.event_type != types::STORE_DELETED {
            return Ok(());
        }
        // Its tokens are refused from now on, so nothing new appears.
        deleted_stores::record(txn, event.store_id).await?;
        let orders = orders::delete_of_store(txn, event.store_id).await?;
        tracing::info!(store_id = %event.store_id, orders, "removed a deleted store's orders");
        Ok(())
    }
}

/// Every order change seen on the bus, for this replica's subscribers.
#[derive(Clone)]
pub struct OrderFeed(broadcast::Sender<Arc<OrderSnapshot>>);

impl Default for OrderFeed {
    fn default() -> Self {
        OrderFeed(broadcast::channel(1024).0)
    }
}

impl OrderFeed {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<OrderSnapshot>> {
        self.0.subscribe()
    }

    /// Reads `salesync.orders` in broadcast mode (every replica sees every
    /// change, whichever replica made it) until `stop`.
    pub async fn run(self, bus: Arc<dyn EventBus>, mut stop: Stop) {
        let Some(mut subscription) = bus::subscribe_until_stopped(
            bus.as_ref(),
            topics::ORDERS,
            Delivery::Broadcast,
            &mut stop,
        )
        .await
        else {
            return;
        };
        loop {
            let message = tokio::select! {
                _ = stop.wait() => return,
                message = subscription.next() => message,
            };
            let snapshot = message
                .map_err(|e| e.to_string())
                .and_then(|m| {
                    serde_json::from_slice::<Event>(&m.payload).map_err(|e| e.to_string())
                })
                .and_then(|event| {
                    event
                        .payload_as::<OrderSnapshot>()
                        .map_err(|e| e.to_string())
                });
            match snapshot {
                // No subscriber right now is fine.
                Ok(snapshot) => drop(self.0.send(Arc::new(snapshot))),
                Err(error) => tracing::warn!(%error, "skipping an order event"),
            }
        }
    }
}
