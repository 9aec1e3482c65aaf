use std::{collections::HashMap, sync::Arc};

use async_graphql::{Context, Object};
use salesync_common::{Error, Result, auth::CallerExt, input, scalars::Date};

use super::{
    SaleState,
    types::{CheckoutInput, CountedInput, DayClose, RefundInput, Sale},
};
use crate::domain::{self, Checkout, NewPayment, PaymentMethod, RefundRequest};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Pays the table's open order. The amount and lines are the order's,
    /// as the order subgraph computes them; the payments must add up to
    /// exactly that amount. Retrying with the same key returns the same
    /// sale and never charges twice; the same key with other input is
    /// CONFLICT. No open order is NOT_FOUND.
    async fn checkout(&self, ctx: &Context<'_>, input: CheckoutInput) -> Result<Sale> {
        let checkout = Checkout::try_from(input)?;
        let state = ctx.data_unchecked::<SaleState>();
        let sale = state.sales.checkout(&ctx.acting()?, checkout).await?;
        Ok(Sale(Arc::new(sale)))
    }

    /// Gives back some lines of a sale, or with no lines all that is left;
    /// never more than was sold. Idempotent by its key; a fully refunded
    /// sale is CONFLICT.
    async fn refund_sale(&self, ctx: &Context<'_>, input: RefundInput) -> Result<Sale> {
        let request = RefundRequest::try_from(input)?;
        let state = ctx.data_unchecked::<SaleState>();
        let sale = state.sales.refund(&ctx.acting()?, request).await?;
        Ok(Sale(Arc::new(sale)))
    }

    /// Closes a business day (the Z-report): what was counted per method
    /// against what the day's sales and refunds say was taken. Once per day.
    async fn close_business_day(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The business day to close.")] business_date: Date,
        #[graphql(desc = "What was counted per method; a method left out counted 0.")] counted: Vec<
            CountedInput,
        >,
    ) -> Result<DayClose> {
        let counted = counted_by_method(&counted)?;
        let state = ctx.data_unchecked::<SaleState>();
        let close = state
            .sales
            .close_day(ctx.store_id()?, business_date.0, counted)
            .await?;
        close.try_into()
    }
}

impl TryFrom<CheckoutInput> for Checkout {
    type Error = Error;

    fn try_from(input: CheckoutInput) -> Result<Self> {
        let payments = input
            .payments
            .iter()
            .enumerate()
            .map(|(i, p)| NewPayment::parse(i, p.method, p.amount.0, p.tendered.map(|t| t.0)))
            .collect::<Result<Vec<_>>>()?;
        Checkout::new(input.table_no, &input.idempotency_key, payments)
    }
}

impl TryFrom<RefundInput> for RefundRequest {
    type Error = Error;

    fn try_from(input: RefundInput) -> Result<Self> {
        let lines = input
            .lines
            .map(|lines| {
                lines
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        input::id(&l.item_id, "item")
                            .map_err(|_| {
                                Error::bad_input(
                                    format!("input.lines[{i}].itemId"),
                                    "this item is not on the sale",
                                )
                            })
                            .map(|id| (id, l.quantity))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?;
        Ok(RefundRequest {
            sale_id: input::id(&input.sale_id, "sale")?,
            key: domain::idempotency_key("input.idempotencyKey", &input.idempotency_key)?,
            lines,
            method: input.method,
            reason: input::multi_line("input.reason", input.reason.as_deref(), 500)?,
        })
    }
}

fn counted_by_method(counted: &[CountedInput]) -> Result<HashMap<PaymentMethod, i64>> {
    let mut by_method = HashMap::new();
    for (i, c) in counted.iter().enumerate() {
        if !(0..=domain::MAX_AMOUNT).contains(&c.amount.0) {
            return Err(Error::bad_input(
                format!("counted[{i}].amount"),
                "must be 0 or more",
            ));
        }
        if by_method.insert(c.method, c.amount.0).is_some() {
            return Err(Error::bad_input(
                format!("counted[{i}].method"),
                "each method is counted once",
            ));
        }
    }
    Ok(by_method)
}
