//! The order subgraph's GraphQL schema: resolvers parse their input into
//! domain types, call the service, and map what it returns.

mod mutation;
mod query;
mod subscription;
mod types;

use async_graphql::{Schema, SchemaBuilder, dataloader::DataLoader};
use salesync_common::loader::{ByIds, by_ids};

pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;
pub use types::Order;

use crate::{events::OrderFeed, service::Orders};

pub type OrderSchema = Schema<Query, Mutation, Subscription>;

/// What resolvers need, placed in the schema's data.
pub struct OrderState {
    pub orders: Orders,
    pub feed: OrderFeed,
    pub loader: DataLoader<ByIds<query::OrdersById>>,
}

impl OrderState {
    pub fn new(orders: Orders, feed: OrderFeed) -> Self {
        OrderState {
            loader: by_ids(query::OrdersById(orders.clone())),
            orders,
            feed,
        }
    }
}

/// The schema without its data: enough to export the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query, Mutation, Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
}

/// The schema, ready to serve.
pub fn build(state: OrderState) -> OrderSchema {
    builder().data(state).finish()
}

/// The federation SDL that `schema/order.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
