//! What the dashboard consumes: `SaleCompleted` and `RefundMade` on
//! `salesync.sales`, the only source of its read model (the payloads are
//! read as the sale subgraph publishes them: the fields the read model
//! needs, here and in the sale subgraph's history, which a rebuild reads);
//! and the consulting subgraph's events on `consulting`, kept for
//! `consultingResult` and broadcast to this replica's subscribers.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use salesync_common::{
    consulting::{
        CONSULTING_COMPLETED, CONSULTING_FAILED, CONSULTING_PROGRESS, CONSULTING_REQUESTED,
        ConsultingCompleted, ConsultingFailed, ConsultingProgress, ConsultingRequested,
        ConsultingStatus,
    },
    events::{
        Event, Happened,
        consumer::{Handler, span_of},
        feed::Feed,
    },
};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;
use tracing::Instrument;
use uuid::Uuid;

use crate::{
    domain::{ConsultingUpdate, RefundFact, SoldFact},
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
    /// On sold lines: the name it sold under.
    #[serde(default)]
    pub name: Option<String>,
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
            names: sale
                .lines
                .iter()
                .filter_map(|l| l.name.clone().map(|name| (l.item_id, name)))
                .collect(),
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

/// Counts every sale and refund into the read model, once each: what a
/// batch brings, per store, in the statements of one.
pub struct SalesFeed(pub Dashboard);

#[async_trait]
impl Handler for SalesFeed {
    fn name(&self) -> &str {
        "dashboard.sales"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        self.handle_all(txn, &[event]).await
    }

    /// Stores are counted in the order of their ids, each under its ledger
    /// lock: two batches that share stores take their locks in one order.
    /// An event that comes alone is counted in the trace that wrote it; a
    /// batch, which spans many, in a span of its own.
    async fn handle_all(&self, txn: &DatabaseTransaction, events: &[&Event]) -> anyhow::Result<()> {
        let span = match events {
            [event] => span_of(self.name(), event),
            _ => tracing::info_span!(
                "apply events",
                consumer = self.name(),
                events = events.len()
            ),
        };
        self.count(txn, events).instrument(span).await
    }
}

impl SalesFeed {
    /// Counts `events` per store, each store's share in the statements of one.
    async fn count(&self, txn: &DatabaseTransaction, events: &[&Event]) -> anyhow::Result<()> {
        let mut stores: BTreeMap<Uuid, (Vec<SoldFact>, Vec<RefundFact>)> = BTreeMap::new();
        for event in events {
            match event.event_type.as_str() {
                SALE_COMPLETED => {
                    let sale: SaleCompleted = event.payload_as()?;
                    let store = stores.entry(event.store_id).or_default();
                    store.0.push(SoldFact::from(&sale));
                }
                REFUND_MADE => {
                    let refund: RefundMade = event.payload_as()?;
                    let store = stores.entry(event.store_id).or_default();
                    store.1.push(RefundFact::from(&refund));
                }
                _ => {}
            }
        }
        for (store_id, (sales, refunds)) in stores {
            self.0.count_all(txn, store_id, &sales, &refunds).await?;
        }
        Ok(())
    }
}

/// The result a `consulting` event tells of; none for other event types.
pub fn consulting_update(event: &impl Happened) -> anyhow::Result<Option<ConsultingUpdate>> {
    let (request_id, status, content, error, completed_at) = match event.event_type() {
        CONSULTING_REQUESTED => {
            let e: ConsultingRequested = event.payload_as()?;
            (e.request_id, ConsultingStatus::Pending, None, None, None)
        }
        CONSULTING_PROGRESS => {
            let e: ConsultingProgress = event.payload_as()?;
            (
                e.request_id,
                ConsultingStatus::Running,
                Some(e.content),
                None,
                None,
            )
        }
        CONSULTING_COMPLETED => {
            let e: ConsultingCompleted = event.payload_as()?;
            let at = Some(e.completed_at);
            (
                e.request_id,
                ConsultingStatus::Completed,
                Some(e.content),
                None,
                at,
            )
        }
        CONSULTING_FAILED => {
            let e: ConsultingFailed = event.payload_as()?;
            let at = Some(e.completed_at);
            (
                e.request_id,
                ConsultingStatus::Failed,
                None,
                Some(e.error),
                at,
            )
        }
        _ => return Ok(None),
    };
    Ok(Some(ConsultingUpdate {
        store_id: event.store_id(),
        request_id,
        status,
        content,
        error,
        completed_at,
        at: event.occurred_at(),
    }))
}

/// Keeps each consulting request's latest result (one group: the replicas
/// share the work, and a restart resumes where it stopped).
pub struct ConsultingResults(pub Dashboard);

#[async_trait]
impl Handler for ConsultingResults {
    fn name(&self) -> &str {
        "dashboard.consulting-results"
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        if let Some(update) = consulting_update(event)? {
            self.0.keep_consulting(txn, &update).await?;
        }
        Ok(())
    }
}

/// Every consulting event seen on the bus, for this replica's subscribers.
pub type ConsultingFeed = Feed<ConsultingUpdate>;

#[cfg(test)]
mod tests {
    use dashboard_migration::{Migrator, MigratorTrait};
    use salesync_common::{
        clock::Clock,
        events::consumer::{self, Applied},
        testing::scratch_sqlite,
    };
    use secrecy::SecretString;
    use serde_json::json;

    use super::*;
    use crate::{config::UpstreamSettings, upstream::Upstream};

    /// The local run's database records a batch and counts its sales with
    /// `RETURNING`, as PostgreSQL does: each sale once, however often it
    /// comes.
    #[tokio::test]
    async fn a_batch_is_counted_once_on_the_local_runs_database() {
        let db = scratch_sqlite("dashboard-batch").await;
        Migrator::up(&db, None).await.expect("migrated");
        let upstream = Upstream::new(
            UpstreamSettings::default(),
            SecretString::from("not asked".to_string()),
        );
        let dashboard = Dashboard::new(db.clone(), upstream, Clock::system());
        let feed = SalesFeed(dashboard.clone());
        let (store_id, tea) = (Uuid::new_v4(), Uuid::new_v4());
        let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("a day");
        let sold = |sale_id: Uuid| {
            Event::new(
                SALE_COMPLETED,
                store_id,
                json!({ "saleId": sale_id, "amount": 3_000, "businessDate": day, "lines": [
                    { "itemId": tea, "name": "Tea", "quantity": 1, "amount": 3_000 }
                ] }),
            )
        };
        let (first, second) = (sold(Uuid::new_v4()), sold(Uuid::new_v4()));
        let again = Event {
            id: Uuid::new_v4(),
            ..first.clone()
        };

        let batch = [first.clone(), second, again, first];
        let applied = consumer::apply_all(&db, &feed, &batch)
            .await
            .expect("applied");
        use Applied::{Before, Now};
        assert_eq!(applied, [Now, Now, Now, Before]);
        assert_eq!(
            consumer::apply_all(&db, &feed, &batch)
                .await
                .expect("applied"),
            [Before; 4]
        );

        let days = dashboard
            .daily_volumes(&dashboard.snapshot(), store_id, day, day)
            .await
            .expect("days");
        assert_eq!((days[0].sales_volume, days[0].order_count), (6_000, 2));
    }
}
