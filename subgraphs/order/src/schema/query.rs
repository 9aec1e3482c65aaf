use std::sync::Arc;

use async_graphql::{Context, ID, Object};
use salesync_common::{
    Error, Result,
    auth::CallerExt,
    input,
    loader::{FetchByIds, Scoped},
    scalars::Date,
    time::BusinessCalendar,
};
use uuid::Uuid;

use super::{OrderState, types::Order};
use crate::{domain::OrderStatus, service::Orders, snapshot::OrderSnapshot};

pub struct Query;

#[Object]
impl Query {
    /// The unpaid tables: every open order, by table number.
    async fn open_orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        open_orders(ctx, ctx.store_id()?).await
    }

    /// The table's open order; null when the table is free.
    async fn open_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The table number.")] table_no: i32,
    ) -> Result<Option<Order>> {
        let state = ctx.data_unchecked::<OrderState>();
        let order = state.orders.open_order(ctx.store_id()?, table_no).await?;
        Ok(order.map(|o| Order(Arc::new(o))))
    }

    /// Orders opened on the store's business days `from` to `to` (inclusive,
    /// at most 366 days; a day turns at the store's closeout hour), oldest
    /// first, optionally only those with `status`.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The first business day, in the store's calendar.")] from: Date,
        #[graphql(desc = "The last business day, in the store's calendar.")] to: Date,
        #[graphql(desc = "Only orders with this status.")] status: Option<OrderStatus>,
    ) -> Result<Vec<Order>> {
        let state = ctx.data_unchecked::<OrderState>();
        let caller = ctx.acting()?;
        let store = state.orders.store_facts(&caller).await?;
        let calendar = BusinessCalendar::new(&store.timezone, store.closeout_hour)?;
        let (start, end) = calendar.range(from.0, to.0)?;
        let orders = state
            .orders
            .between(caller.store_id, start, end, status)
            .await?;
        Ok(orders.into_iter().map(|o| Order(Arc::new(o))).collect())
    }

    /// One of the store's orders; null if it has none with this id.
    async fn order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The order's id.")] id: ID,
    ) -> Result<Option<Order>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&id, "order") else {
            return Ok(None);
        };
        load_order(ctx, store_id, id).await
    }

    /// Resolves an `Order` reference of the caller's store.
    #[graphql(entity)]
    async fn find_order_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        let store_id = ctx.store_id()?;
        let id = input::id(&id, "order")?;
        load_order(ctx, store_id, id)
            .await?
            .ok_or_else(|| Error::not_found("no such order"))
    }

    /// Resolves a `Store` reference to its open orders: only the caller's own store.
    #[graphql(entity)]
    async fn find_store_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<StoreOrders> {
        Ok(StoreOrders {
            store_id: ctx.own_store(&id)?,
        })
    }
}

/// A store (owned by the store subgraph); here, its tables.
pub struct StoreOrders {
    store_id: Uuid,
}

#[Object(name = "Store")]
impl StoreOrders {
    /// The store's opaque id.
    async fn id(&self) -> ID {
        ID(self.store_id.to_string())
    }

    /// The unpaid tables: every open order, by table number.
    async fn open_orders(&self, ctx: &Context<'_>) -> Result<Vec<Order>> {
        open_orders(ctx, self.store_id).await
    }
}

async fn open_orders(ctx: &Context<'_>, store_id: Uuid) -> Result<Vec<Order>> {
    let state = ctx.data_unchecked::<OrderState>();
    let orders = state.orders.open_orders(store_id).await?;
    Ok(orders.into_iter().map(|o| Order(Arc::new(o))).collect())
}

async fn load_order(ctx: &Context<'_>, store_id: Uuid, id: Uuid) -> Result<Option<Order>> {
    let state = ctx.data_unchecked::<OrderState>();
    let order = state.loader.load_one(Scoped { store_id, id }).await?;
    Ok(order.map(Order))
}

/// Orders by id: entity resolution for many orders is two statements.
pub struct OrdersById(pub Orders);

impl FetchByIds for OrdersById {
    type Value = Arc<OrderSnapshot>;

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<Arc<OrderSnapshot>>> {
        let orders = self.0.by_ids(store_id, ids).await?;
        Ok(orders.into_iter().map(Arc::new).collect())
    }

    fn id_of(order: &Arc<OrderSnapshot>) -> Uuid {
        order.id
    }
}
