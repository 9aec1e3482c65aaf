//! What the order subgraph consumes beyond a deleted store (see
//! `service`): its own order events, broadcast to every replica for
//! `tableChanged`.

use salesync_common::events::{Event, feed::Feed};

use crate::snapshot::OrderSnapshot;

/// Every order change seen on the bus, for this replica's subscribers.
pub type OrderFeed = Feed<OrderSnapshot>;

/// Every event on `salesync.orders` is the order as it now is.
pub fn order_of(event: &Event) -> anyhow::Result<Option<OrderSnapshot>> {
    Ok(Some(event.payload_as()?))
}
