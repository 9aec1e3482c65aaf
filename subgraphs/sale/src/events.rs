//! What the sale subgraph publishes on `salesync.sales` (the dashboard
//! builds its read model from these alone), and what it consumes: each
//! store's calendar from `salesync.stores`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::events::{Event, Happened, consumer::Handler, types};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    db::{calendars, payments, refunds, sale_lines, sales},
    domain::{PaymentMethod, RefundedLine},
};

pub const SALE_COMPLETED: &str = "SaleCompleted";
pub const REFUND_MADE: &str = "RefundMade";

/// `SaleCompleted`: what was sold, how it was paid, on which business day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleCompleted {
    pub sale_id: Uuid,
    pub order_id: Uuid,
    pub amount: i64,
    pub business_date: NaiveDate,
    pub paid_at: DateTime<Utc>,
    pub lines: Vec<SoldItem>,
    pub payments: Vec<Paid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SoldItem {
    pub item_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub amount: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Paid {
    pub method: PaymentMethod,
    pub amount: i64,
}

/// `RefundMade`: what came back, for how much, how, on which business day.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundMade {
    pub sale_id: Uuid,
    pub refund_id: Uuid,
    pub amount: i64,
    pub method: PaymentMethod,
    pub business_date: NaiveDate,
    pub lines: Vec<RefundedLine>,
}

impl SaleCompleted {
    /// The event of a sale paid at `paid_at`, on `business_date`.
    pub fn of(
        sale: &sales::Model,
        (business_date, paid_at): (NaiveDate, DateTime<Utc>),
        lines: &[sale_lines::Model],
        payments: &[payments::Model],
    ) -> Self {
        SaleCompleted {
            sale_id: sale.id,
            order_id: sale.order_id,
            amount: sale.amount,
            business_date,
            paid_at,
            lines: lines
                .iter()
                .map(|l| SoldItem {
                    item_id: l.item_id,
                    name: l.name.clone(),
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    amount: l.amount,
                })
                .collect(),
            payments: payments
                .iter()
                .map(|p| Paid {
                    method: p.method,
                    amount: p.amount,
                })
                .collect(),
        }
    }
}

impl RefundMade {
    pub fn of(refund: &refunds::Model, lines: Vec<RefundedLine>) -> Self {
        RefundMade {
            sale_id: refund.sale_id,
            refund_id: refund.id,
            amount: refund.amount,
            method: refund.method,
            business_date: refund.business_date,
            lines,
        }
    }
}

/// A paid sale as its events told it: what the dashboard's rebuild reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleHistory {
    pub completed: SaleCompleted,
    pub refunds: Vec<RefundMade>,
}

/// The part of the store subgraph's `StoreOpened` / `StoreUpdated` this
/// subgraph keeps.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StoreProfile {
    timezone: String,
    closeout_hour: i32,
}

/// Keeps each store's time zone and closeout hour, so business days need
/// no call to the store subgraph.
pub struct StoreCalendars;

#[async_trait]
impl Handler for StoreCalendars {
    fn name(&self) -> &str {
        "sale.store-calendars"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if event.event_type != types::STORE_OPENED && event.event_type != types::STORE_UPDATED {
            return Ok(());
        }
        let profile: StoreProfile = event.payload_as()?;
        calendars::upsert(
            txn,
            event.store_id,
            &profile.timezone,
            profile.closeout_hour,
            event.occurred_at,
        )
        .await?;
        Ok(())
    }
}
