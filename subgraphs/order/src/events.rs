//! What the order subgraph consumes beyond a deleted store (see
//! `service`): its own order events, broadcast to every replica for
//! `tableChanged`.

use std::sync::Arc;

use salesync_common::{
    events::{Delivery, Event, EventBus, bus, topics},
    shutdown::Stop,
};
use tokio::sync::broadcast;

use crate::snapshot::OrderSnapshot;

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
