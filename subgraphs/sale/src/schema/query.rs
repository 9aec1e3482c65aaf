use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use salesync_common::{
    Result,
    auth::CallerExt,
    input,
    loader::{FetchByIds, Scoped},
    scalars::Date,
};
use uuid::Uuid;

use super::{
    SaleState,
    types::{DayClose, Order, Sale, SalesSummary},
};
use crate::service::{SaleView, Sales};

pub struct Query;

#[Object]
impl Query {
    /// The sales of the store's business days `from` to `to` (inclusive, at
    /// most 366 days), oldest first.
    async fn sales(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day.")] from: Date,
        #[graphql(desc = "The last business day.")] to: Date,
    ) -> Result<Vec<Sale>> {
        let state = ctx.data_unchecked::<SaleState>();
        let sales = state.sales.on_days(ctx.store_id()?, from.0, to.0).await?;
        Ok(sales.into_iter().map(|s| Sale(Arc::new(s))).collect())
    }

    /// One of the store's sales; null if it has none with this id.
    async fn sale(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The sale's id.")] id: ID,
    ) -> Result<Option<Sale>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&id, "sale") else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<SaleState>();
        Ok(state
            .by_id
            .load_one(Scoped { store_id, id })
            .await?
            .map(Sale))
    }

    /// Gross sales, refunds and sales volume over business days, per method.
    async fn sales_summary(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day.")] from: Date,
        #[graphql(desc = "The last business day.")] to: Date,
    ) -> Result<SalesSummary> {
        let state = ctx.data_unchecked::<SaleState>();
        Ok(state
            .sales
            .summary(ctx.store_id()?, from.0, to.0)
            .await?
            .into())
    }

    /// The close of a business day; null until it was closed.
    async fn day_close(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The business day.")] business_date: Date,
    ) -> Result<Option<DayClose>> {
        let state = ctx.data_unchecked::<SaleState>();
        let close = state
            .sales
            .day_close(ctx.store_id()?, business_date.0)
            .await?;
        close.map(DayClose::try_from).transpose()
    }

    /// Resolves a `Sale` reference of the caller's store.
    #[graphql(entity)]
    async fn find_sale_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Sale> {
        let key = Scoped {
            store_id: ctx.store_id()?,
            id: input::id(&id, "sale")?,
        };
        let state = ctx.data_unchecked::<SaleState>();
        state
            .by_id
            .load_one(key)
            .await?
            .map(Sale)
            .ok_or_else(|| salesync_common::Error::not_found("no such sale"))
    }

    /// Resolves an `Order` reference to its sale. Only the caller's sales
    /// are found: another store's order has none here.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        ctx.store_id()?;
        Ok(Order {
            id: input::id(&id, "order")?,
        })
    }
}

/// Sales by id.
pub struct SalesById(pub Sales);

impl FetchByIds for SalesById {
    type Value = Arc<SaleView>;

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<Arc<SaleView>>> {
        Ok(self
            .0
            .by_ids(store_id, ids)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect())
    }

    fn id_of(sale: &Arc<SaleView>) -> Uuid {
        sale.sale.id
    }
}

/// Sales by the order they paid.
pub struct SalesByOrder(pub Sales);

impl FetchByIds for SalesByOrder {
    type Value = Arc<SaleView>;

    async fn fetch(&self, store_id: Uuid, order_ids: Vec<Uuid>) -> Result<Vec<Arc<SaleView>>> {
        Ok(self
            .0
            .of_orders(store_id, order_ids)
            .await?
            .into_iter()
            .map(Arc::new)
            .collect())
    }

    fn id_of(sale: &Arc<SaleView>) -> Uuid {
        sale.sale.order_id
    }
}
