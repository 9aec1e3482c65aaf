//! An order as one value: what queries return, what events carry, and what
//! subscribers receive, so a terminal sees the same order however it learns
//! of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    db::{order_lines, orders},
    domain::OrderStatus,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSnapshot {
    pub id: Uuid,
    pub store_id: Uuid,
    pub table_no: i32,
    pub status: OrderStatus,
    pub lines: Vec<LineSnapshot>,
    pub total: i64,
    pub version: i32,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub sale_id: Option<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineSnapshot {
    pub item_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub amount: i64,
}

impl OrderSnapshot {
    pub fn from_rows(order: orders::Model, mut lines: Vec<order_lines::Model>) -> Self {
        lines.sort_by_key(|l| l.position);
        OrderSnapshot {
            id: order.id,
            store_id: order.store_id,
            table_no: order.table_no,
            status: order.status,
            lines: lines
                .into_iter()
                .map(|l| LineSnapshot {
                    item_id: l.item_id,
                    name: l.name,
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    amount: l.amount,
                })
                .collect(),
            total: order.total,
            version: order.version,
            opened_at: order.opened_at,
            updated_at: order.updated_at,
            closed_at: order.closed_at,
            sale_id: order.sale_id,
        }
    }
}
