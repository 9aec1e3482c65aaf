//! The dashboard subgraph's tables and their queries, through sea-orm only.
//! Every query is scoped to one store.
//!
//! - `item_costs`: each item's current unit cost
//! - `counted_sales`, `counted_refunds`: what the read model has counted,
//!   once each
//! - `daily_item_sales`, `daily_sales`: the read model
//! - `store_ledgers`: one row per store, locked by every change to its
//!   figures; closed when the store is deleted
//! - `consulting_results`: the latest of each consulting request

pub mod consulting_results;
pub mod counted;
pub mod daily_item_sales;
pub mod daily_sales;
pub mod item_costs;
pub mod store_ledgers;

use salesync_common::db::excluded;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, IntoIden};

/// Rows per multi-row statement: well under PostgreSQL's 65,535 parameters.
const CHUNK: usize = 1000;

/// `<table>.<column> + excluded.<column>`: an upsert that adds.
fn plus_excluded(table: impl IntoIden + Clone, column: impl IntoIden + Clone) -> Expr {
    Expr::col((table, column.clone())).add(excluded(column))
}

/// `CAST(SUM(expr) AS BIGINT)`: PostgreSQL sums 64-bit integers as numeric.
fn sum_bigint(expr: impl Into<Expr>) -> Expr {
    Func::cast_as(Func::sum(expr.into()), Alias::new("BIGINT")).into()
}
