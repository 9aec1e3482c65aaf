//! The store subgraph's GraphQL schema (SPEC §2, store section).

mod mutation;
mod query;
mod types;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder};
use salesync_common::events::outbox::OutboxSignal;
use sea_orm::DatabaseConnection;

use crate::{config::LoginSettings, tokens::TokenIssuer};
pub use mutation::Mutation;
pub use query::Query;
pub use types::{AuthPayload, SignUpInput, Store, UpdateStoreInput};

pub type StoreSchema = Schema<Query, Mutation, EmptySubscription>;

/// What resolvers need, placed in the schema's data.
#[derive(Clone)]
pub struct StoreState {
    pub db: DatabaseConnection,
    pub tokens: TokenIssuer,
    pub login: LoginSettings,
    /// Wakes the outbox relay after a commit that wrote events.
    pub outbox: OutboxSignal,
}

/// The schema without its data: enough to export the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .limit_depth(16)
        .limit_complexity(2_000)
}

/// The schema, ready to serve.
pub fn build(state: StoreState) -> StoreSchema {
    builder().data(state).finish()
}

/// The federation SDL that `schema/store.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
