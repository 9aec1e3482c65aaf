//! The store subgraph's GraphQL schema: resolvers parse their input into
//! domain types, call the service, and map what it returns.

mod mutation;
mod query;
mod types;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};

use crate::service::Accounts;
pub use mutation::Mutation;
pub use query::Query;
pub use types::{AuthPayload, SignUpInput, Store, UpdateStoreInput};

pub type StoreSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its data: enough to export the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(2_000)
}

/// The schema, ready to serve.
pub fn build(accounts: Accounts) -> StoreSchema {
    builder().data(accounts).finish()
}

/// The federation SDL that `schema/store.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
