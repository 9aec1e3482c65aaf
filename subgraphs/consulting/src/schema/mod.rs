//! The consulting subgraph's GraphQL schema: resolvers parse their input
//! into domain types, call the service, and map what it returns.

mod mutation;
mod query;
mod types;

use async_graphql::{EmptySubscription, Schema, SchemaBuilder, dataloader::DataLoader};
use salesync_common::loader::{ByIds, by_ids};

use crate::service::Consulting;
pub use mutation::Mutation;
pub use query::Query;

pub type ConsultingSchema = Schema<Query, Mutation, EmptySubscription>;

/// What resolvers need, placed in the schema's data.
pub struct ConsultingState {
    pub consulting: Consulting,
    pub by_id: DataLoader<ByIds<query::RequestsById>>,
}

impl ConsultingState {
    pub fn new(consulting: Consulting) -> Self {
        ConsultingState {
            by_id: by_ids(query::RequestsById(consulting.clone())),
            consulting,
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
pub fn build(state: ConsultingState) -> ConsultingSchema {
    builder().data(state).finish()
}

/// The federation SDL that `schema/consulting.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
