use std::sync::Arc;

use async_graphql::{ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::scalars::Money;

use salesync_common::Result;

use crate::{
    domain::{self, OrderStatus, Requested},
    snapshot::{LineSnapshot, OrderSnapshot},
};

/// A table's order: what was ordered, at what price, and where it stands.
pub struct Order(pub Arc<OrderSnapshot>);

#[Object]
impl Order {
    /// The order's opaque id.
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The table, from 1 to the store's table count.
    async fn table_no(&self) -> i32 {
        self.0.table_no
    }

    /// Where the order stands.
    async fn status(&self) -> OrderStatus {
        self.0.status
    }

    /// The lines, in the order they were first rung up.
    async fn lines(&self) -> Vec<OrderLine> {
        self.0.lines.iter().cloned().map(OrderLine).collect()
    }

    /// The sum of the lines' amounts, computed by the server.
    async fn total(&self) -> Money {
        Money(self.0.total)
    }

    /// Increases with every change; send it back as `expectedVersion` so a
    /// change made meanwhile on another terminal is not overwritten.
    async fn version(&self) -> i32 {
        self.0.version
    }

    /// When the table's order was opened.
    async fn opened_at(&self) -> DateTime<Utc> {
        self.0.opened_at
    }

    /// When the order last changed.
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// When the order was paid or cancelled; null while open.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
}

/// One line of an order, as it was ordered.
pub struct OrderLine(LineSnapshot);

#[Object]
impl OrderLine {
    /// The menu item (resolved by the item subgraph; deleted items still resolve).
    async fn item(&self) -> ItemRef {
        ItemRef {
            id: ID(self.0.item_id.to_string()),
        }
    }

    /// The item's name when it was ordered.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// The item's price when it was ordered; later menu changes do not affect it.
    async fn unit_price(&self) -> Money {
        Money(self.0.unit_price)
    }

    /// How many, 1–999.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }

    /// Unit price times quantity.
    async fn amount(&self) -> Money {
        Money(self.0.amount)
    }
}

/// A menu item, owned by the item subgraph.
#[derive(SimpleObject)]
#[graphql(name = "Item", unresolvable = "id")]
pub struct ItemRef {
    /// The item's opaque id.
    pub id: ID,
}

/// An item and how many of it to order.
#[derive(Debug, InputObject)]
pub struct OrderLineInput {
    /// One of the store's live menu items.
    pub item_id: ID,
    /// 1–999.
    pub quantity: i32,
}

/// The requested lines, parsed: ids, quantities, the same item twice merged.
pub fn requested(lines: &[OrderLineInput]) -> Result<Vec<Requested>> {
    let raw: Vec<(String, i32)> = lines
        .iter()
        .map(|l| (l.item_id.to_string(), l.quantity))
        .collect();
    domain::requested_lines(&raw)
}
