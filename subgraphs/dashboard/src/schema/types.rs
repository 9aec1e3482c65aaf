use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::consulting::ConsultingStatus;
use salesync_common::{
    Error, Result,
    loader::{FetchByIds, Scoped},
    scalars::{Date, Money},
};
use uuid::Uuid;

use super::DashboardState;
use crate::{domain, service::Dashboard};

/// A menu item (owned by the item subgraph); here, its cost.
pub struct Item {
    pub key: Scoped,
}

#[Object]
impl Item {
    /// The item's opaque id.
    async fn id(&self) -> ID {
        ID(self.key.id.to_string())
    }

    /// The item's unit cost price, in the store's currency; null until it
    /// is set. Profit always uses the current cost, for past days too:
    /// changing it changes the profit of every day the item was sold.
    async fn cost(&self, ctx: &Context<'_>) -> Result<Option<Money>> {
        let state = ctx.data_unchecked::<DashboardState>();
        Ok(state.costs.load_one(self.key).await?.map(|(_, c)| Money(c)))
    }
}

/// Costs by item id.
pub struct CostsById(pub Dashboard);

impl FetchByIds for CostsById {
    type Value = (Uuid, i64);

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<(Uuid, i64)>> {
        self.0.costs(store_id, ids).await
    }

    fn id_of(cost: &(Uuid, i64)) -> Uuid {
        cost.0
    }
}

/// An item's unit cost to set.
#[derive(Debug, InputObject)]
pub struct ItemCostInput {
    /// One of the caller's live items.
    pub item_id: ID,
    /// The unit cost price, 0 or more.
    pub cost: Money,
}

/// One item's sales over a report's range.
#[derive(SimpleObject)]
pub struct ItemSales {
    /// The item (its name and price come from the menu; deleted items still resolve).
    pub item: Item,
    /// The name it sold under (the latest in the range); null when it was
    /// only refunded within the range.
    pub name: Option<String>,
    /// How many were sold, less those refunded within the range.
    pub quantity: i32,
    /// What they sold for, less refunds made within the range.
    pub sales_volume: Money,
    /// Quantity times the item's current unit cost (0 while unset).
    pub cost: Money,
    /// Sales volume minus cost.
    pub profit: Money,
}

/// Sales and profit per item over business days `from` to `to`.
#[derive(SimpleObject)]
pub struct SalesReport {
    /// The first business day.
    pub from: Date,
    /// The last business day.
    pub to: Date,
    /// Sales less refunds over the range.
    pub sales_volume: Money,
    /// What the items sold cost, at their current unit costs.
    pub cost: Money,
    /// Sales volume minus cost.
    pub profit: Money,
    /// One line per item sold, highest sales volume first.
    pub items: Vec<ItemSales>,
}

impl SalesReport {
    pub fn of(store_id: Uuid, report: domain::SalesReport) -> Result<Self> {
        Ok(SalesReport {
            from: Date(report.from),
            to: Date(report.to),
            sales_volume: Money(report.sales_volume),
            cost: Money(report.cost),
            profit: Money(report.profit),
            items: report
                .items
                .into_iter()
                .map(|line| {
                    Ok(ItemSales {
                        item: Item {
                            key: Scoped {
                                store_id,
                                id: line.item_id,
                            },
                        },
                        name: line.name,
                        quantity: i32::try_from(line.quantity).map_err(|_| {
                            Error::internal(anyhow::anyhow!("quantity {} overflows", line.quantity))
                        })?,
                        sales_volume: Money(line.sales_volume),
                        cost: Money(line.cost),
                        profit: Money(line.profit),
                    })
                })
                .collect::<Result<_>>()?,
        })
    }
}

/// One business day's sales.
#[derive(SimpleObject)]
pub struct DailyVolume {
    /// The business day.
    pub date: Date,
    /// Sales less the refunds made that day.
    pub sales_volume: Money,
    /// Sales volume minus what the items sold that day cost at their current
    /// unit costs.
    pub profit: Money,
    /// The sales made that day, those refunded later included.
    pub order_count: i32,
}

impl From<domain::DailyVolume> for DailyVolume {
    fn from(day: domain::DailyVolume) -> Self {
        DailyVolume {
            date: Date(day.date),
            sales_volume: Money(day.sales_volume),
            profit: Money(day.profit),
            order_count: day.order_count,
        }
    }
}

/// A consulting request's result: progress while the advice is written,
/// then the advice or why it failed.
#[derive(SimpleObject, Clone)]
pub struct ConsultingResult {
    /// The consulting request's id.
    pub request_id: ID,
    /// PENDING until a worker takes it, RUNNING while the advice is written,
    /// then COMPLETED or FAILED.
    pub status: ConsultingStatus,
    /// The advice in Markdown: the text so far while RUNNING, then all of it.
    pub content: Option<String>,
    /// Why it FAILED.
    pub error: Option<String>,
    /// When it ended.
    pub completed_at: Option<DateTime<Utc>>,
}

impl From<&domain::ConsultingUpdate> for ConsultingResult {
    fn from(update: &domain::ConsultingUpdate) -> Self {
        ConsultingResult {
            request_id: ID(update.request_id.to_string()),
            status: update.status,
            content: update.content.clone(),
            error: update.error.clone(),
            completed_at: update.completed_at,
        }
    }
}
