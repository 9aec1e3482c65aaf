//! The order subgraph's tables and their queries, through sea-orm only.
//! Every query is scoped to one store.

pub mod order_lines;
pub mod orders;
pub mod store_facts;
pub mod table_turns;

use salesync_common::Result;
use sea_orm::ConnectionTrait;

use crate::snapshot::OrderSnapshot;

/// The orders with their lines: one statement for every order's lines.
pub async fn snapshots<C: ConnectionTrait>(
    db: &C,
    orders: Vec<orders::Model>,
) -> Result<Vec<OrderSnapshot>> {
    if orders.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines = order_lines::of_orders(db, orders.iter().map(|o| o.id).collect()).await?;
    Ok(orders
        .into_iter()
        .map(|order| {
            let order_lines = lines.remove(&order.id).unwrap_or_default();
            OrderSnapshot::from_rows(order, order_lines)
        })
        .collect())
}
