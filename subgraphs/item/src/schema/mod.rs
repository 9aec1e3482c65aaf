//! The item subgraph's GraphQL schema: resolvers parse their input into
//! domain types, call the service, and map what it returns.

mod loaders;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

use crate::service::Menu;

pub use mutation::Mutation;
pub use query::Query;
pub use types::{Category, Item};

pub type ItemSchema = Schema<Query, Mutation, EmptySubscription>;

/// What resolvers need, placed in the schema's data.
#[derive(Clone)]
pub struct ItemState {
    pub menu: Menu,
    pub loaders: Arc<loaders::Loaders>,
}

impl ItemState {
    pub fn new(menu: Menu) -> Self {
        ItemState {
            loaders: Arc::new(loaders::Loaders::new(&menu)),
            menu,
        }
    }
}

/// The schema without its data: enough to export the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(5_000)
}

/// The schema, ready to serve.
pub fn build(state: ItemState) -> ItemSchema {
    builder().data(state).finish()
}

/// The federation SDL that `schema/item.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
