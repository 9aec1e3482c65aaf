//! The sale subgraph's tables and their queries, through sea-orm only.
//! Every query is scoped to one store, but for recovery's look at what is
//! left pending.

pub mod calendars;
pub mod day_closes;
pub mod payments;
pub mod refunds;
pub mod sale_lines;
pub mod sales;

use salesync_common::error::UniqueIndex;

/// One checkout per key and store.
pub const UQ_SALES_STORE_KEY: UniqueIndex = UniqueIndex {
    name: "uq_sales_store_key",
    table: "sales",
    columns: &["store_id", "idempotency_key"],
};

/// One live sale per order.
pub const UQ_SALES_ORDER_LIVE: UniqueIndex = UniqueIndex {
    name: "uq_sales_order_live",
    table: "sales",
    columns: &["order_id"],
};

/// One refund per key and store.
pub const UQ_REFUNDS_STORE_KEY: UniqueIndex = UniqueIndex {
    name: "uq_refunds_store_key",
    table: "refunds",
    columns: &["store_id", "idempotency_key"],
};
