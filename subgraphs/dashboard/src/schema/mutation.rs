use async_graphql::{Context, ID, Object};
use salesync_common::{Result, auth::CallerExt, input, loader::Scoped, scalars::Money};
use uuid::Uuid;

use super::{
    DashboardState,
    types::{Item, ItemCostInput},
};
use crate::domain;

pub struct Mutation;

#[Object]
impl Mutation {
    /// Sets the unit cost of one of the caller's live items. A deleted,
    /// unknown or other store's item is NOT_FOUND; a cost below 0 is
    /// BAD_USER_INPUT. Profit uses the current cost, for past days too.
    async fn set_item_cost(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] item_id: ID,
        #[graphql(desc = "The unit cost price, 0 or more.")] cost: Money,
    ) -> Result<Item> {
        let costs = vec![(input::id(&item_id, "item")?, domain::cost("cost", cost.0)?)];
        Ok(set(ctx, costs).await?.remove(0))
    }

    /// Sets the unit costs of several of the caller's live items at once
    /// (at most 500, each once): all are set, or none when one is refused.
    async fn set_item_costs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The items and their unit costs.")] costs: Vec<ItemCostInput>,
    ) -> Result<Vec<Item>> {
        let costs = costs
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok((
                    input::id(&c.item_id, "item")?,
                    domain::cost(&format!("costs[{i}].cost"), c.cost.0)?,
                ))
            })
            .collect::<Result<Vec<(Uuid, i64)>>>()?;
        set(ctx, costs).await
    }
}

async fn set(ctx: &Context<'_>, costs: Vec<(Uuid, i64)>) -> Result<Vec<Item>> {
    let caller = ctx.acting()?;
    let state = ctx.data_unchecked::<DashboardState>();
    let ids: Vec<Uuid> = costs.iter().map(|(id, _)| *id).collect();
    state.dashboard.set_costs(&caller, costs).await?;
    Ok(ids
        .into_iter()
        .map(|id| Item {
            key: Scoped {
                store_id: caller.store_id,
                id,
            },
        })
        .collect())
}
