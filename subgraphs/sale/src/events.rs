//! What the sale subgraph publishes on `salesync.sales` (the dashboard
//! builds its read model from these alone), and what it consumes: each
//! store's calendar from `salesync.stores`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::events::{Event, consumer::Handler, types};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    db::calendars,
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
