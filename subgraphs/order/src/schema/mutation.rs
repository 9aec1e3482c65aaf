use std::sync::Arc;

use async_graphql::{Context, Object};
use salesync_common::{Result, auth::CallerExt};

use super::{
    OrderState,
    types::{Order, OrderLineInput, requested},
};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Opens the table's order, or adds the lines to it (more of an item
    /// at the same price joins its line). Each item is looked up on the
    /// menu first: unknown is NOT_FOUND, sold out or deleted BAD_USER_INPUT.
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The table, 1 to the store's table count.")] table_no: i32,
        #[graphql(desc = "At least one line.")] lines: Vec<OrderLineInput>,
    ) -> Result<Order> {
        let lines = requested(&lines)?;
        let state = ctx.data_unchecked::<OrderState>();
        let order = state.orders.place(&ctx.acting()?, table_no, &lines).await?;
        Ok(Order(Arc::new(order)))
    }

    /// Replaces the lines of the table's open order. Items already on the
    /// order keep the price they were ordered at. No lines cancels the order.
    async fn set_order_lines(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The table.")] table_no: i32,
        #[graphql(desc = "The order's new lines; empty cancels it.")] lines: Vec<OrderLineInput>,
        #[graphql(
            desc = "The version this terminal last saw; if the order changed since, CONFLICT."
        )]
        expected_version: Option<i32>,
    ) -> Result<Order> {
        let lines = requested(&lines)?;
        let state = ctx.data_unchecked::<OrderState>();
        let order = state
            .orders
            .set_lines(&ctx.acting()?, table_no, &lines, expected_version)
            .await?;
        Ok(Order(Arc::new(order)))
    }

    /// Cancels the table's open order.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The table.")] table_no: i32,
    ) -> Result<Order> {
        let state = ctx.data_unchecked::<OrderState>();
        let order = state.orders.cancel(&ctx.acting()?, table_no, None).await?;
        Ok(Order(Arc::new(order)))
    }
}
