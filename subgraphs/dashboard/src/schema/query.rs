use async_graphql::{Context, ID, Object};
use salesync_common::{
    Result, auth::CallerExt, graphql::SnapshotExt, input, loader::Scoped, scalars::Date,
};

use super::{
    DashboardState,
    types::{ConsultingResult, DailyVolume, Item, SalesReport},
};

pub struct Query;

#[Object]
impl Query {
    /// Sales, cost and profit per item over business days `from` to `to`
    /// (inclusive, at most 366 days), highest sales volume first. Refunds
    /// count on the day they were made. The reports of one query read one
    /// moment of the figures, so they agree.
    async fn sales_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day.")] from: Date,
        #[graphql(desc = "The last business day.")] to: Date,
    ) -> Result<SalesReport> {
        let store_id = ctx.store_id()?;
        let state = ctx.data_unchecked::<DashboardState>();
        let report = state
            .dashboard
            .sales_report(ctx.snapshot()?, store_id, from.0, to.0)
            .await?;
        SalesReport::of(store_id, report)
    }

    /// One row per business day from `from` to `to` (inclusive, at most 366
    /// days), zero on days without sales.
    async fn daily_volumes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day.")] from: Date,
        #[graphql(desc = "The last business day.")] to: Date,
    ) -> Result<Vec<DailyVolume>> {
        let state = ctx.data_unchecked::<DashboardState>();
        let days = state
            .dashboard
            .daily_volumes(ctx.snapshot()?, ctx.store_id()?, from.0, to.0)
            .await?;
        Ok(days.into_iter().map(DailyVolume::from).collect())
    }

    /// The latest of one of the caller's consulting requests: progress while
    /// the advice is written, then the result. Null until the first news of
    /// it arrived, and for a request that is not the caller's.
    async fn consulting_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consulting request's id.")] request_id: ID,
    ) -> Result<Option<ConsultingResult>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&request_id, "consulting request") else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<DashboardState>();
        let result = state.dashboard.consulting_result(store_id, id).await?;
        Ok(result.as_ref().map(ConsultingResult::from))
    }

    /// Resolves an `Item` reference of the caller's store to its cost. The
    /// item subgraph decides whether the item is the caller's; here another
    /// store's item simply has no cost.
    #[graphql(entity)]
    async fn find_item_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Item> {
        Ok(Item {
            key: Scoped {
                store_id: ctx.store_id()?,
                id: input::id(&id, "item")?,
            },
        })
    }
}
