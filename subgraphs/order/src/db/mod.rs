//! The order subgraph's database access, through sea-orm only.

pub mod order_lines;
pub mod orders;

use salesync_common::error::UniqueIndex;

/// One open order per table.
pub const UQ_ORDERS_OPEN_TABLE: UniqueIndex = UniqueIndex {
    name: "uq_orders_open_table",
    table: "orders",
    columns: &["store_id", "table_no"],
};
