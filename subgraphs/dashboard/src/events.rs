//! What the dashboard consumes: `SaleCompleted` and `RefundMade` on
//! `salesync.sales`, the only source of its read model. The payloads are
//! read as the sale subgraph publishes them (the fields the read model
//! needs), here and in the sale subgraph's history, which a rebuild reads.

use async_trait::async_trait;
use chrono::NaiveDate;
use salesync_common::events::{Event, consumer::Handler};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use uuid::Uuid;

use crate::{
    domain::{RefundFact, SoldFact},
    service::Dashboard,
};

pub const SALE_COMPLETED: &str = "SaleCompleted";
pub const REFUND_MADE: &str = "RefundMade";

/// `SaleCompleted`: what was sold on which business day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaleCompleted {
    pub sale_id: Uuid,
    pub amount: i64,
    pub business_date: NaiveDate,
    pub lines: Vec<Line>,
}

/// `RefundMade`: what came back, on which business day.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundMade {
    pub refund_id: Uuid,
    pub amount: i64,
    pub business_date: NaiveDate,
    pub lines: Vec<Line>,
}

/// A sold or refunded line: which item, how many, for how much.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub item_id: Uuid,
    pub quantity: i32,
    pub amount: i64,
}

fn lines(lines: &[Line]) -> Vec<(Uuid, i64, i64)> {
    lines
        .iter()
        .map(|l| (l.item_id, i64::from(l.quantity), l.amount))
        .collect()
}

impl From<&SaleCompleted> for SoldFact {
    fn from(sale: &SaleCompleted) -> Self {
        SoldFact {
            sale_id: sale.sale_id,
            business_date: sale.business_date,
            amount: sale.amount,
            lines: lines(&sale.lines),
        }
    }
}

impl From<&RefundMade> for RefundFact {
    fn from(refund: &RefundMade) -> Self {
        RefundFact {
            refund_id: refund.refund_id,
            business_date: refund.business_date,
            amount: refund.amount,
            lines: lines(&refund.lines),
        }
    }
}

/// Counts every sale and refund into the read model, once each.
pub struct SalesFeed(pub Dashboard);

#[async_trait]
impl Handler for SalesFeed {
    fn name(&self) -> &str {
        "dashboard.sales"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        match event.event_type.as_str() {
            SALE_COMPLETED => {
                let sale: SaleCompleted = event.payload_as()?;
                self.0
                    .count_sale(txn, event.store_id, &SoldFact::from(&sale))
                    .await?;
            }
            REFUND_MADE => {
                let refund: RefundMade = event.payload_as()?;
                self.0
                    .count_refund(txn, event.store_id, &RefundFact::from(&refund))
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }
}
