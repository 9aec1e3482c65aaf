//! The dashboard subgraph's GraphQL schema: resolvers parse their input into
//! domain types, call the service, and map what it returns.

mod mutation;
mod query;
mod subscription;
mod types;

use async_graphql::{Schema, SchemaBuilder, dataloader::DataLoader};
use salesync_common::{
    graphql::SnapshotPerRequest,
    loader::{ByIds, by_ids},
};
use sea_orm::DatabaseConnection;

use crate::{events::ConsultingFeed, service::Dashboard};
pub use mutation::Mutation;
pub use query::Query;
pub use subscription::Subscription;

pub type DashboardSchema = Schema<Query, Mutation, Subscription>;

/// What resolvers need, placed in the schema's data.
pub struct DashboardState {
    pub dashboard: Dashboard,
    pub costs: DataLoader<ByIds<types::CostsById>>,
    pub consulting: ConsultingFeed,
}

impl DashboardState {
    pub fn new(dashboard: Dashboard, consulting: ConsultingFeed) -> Self {
        DashboardState {
            costs: by_ids(types::CostsById(dashboard.clone())),
            dashboard,
            consulting,
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

/// The schema, ready to serve: the reports of one request read one
/// snapshot of `db`, the read model's database.
pub fn build(state: DashboardState, db: DatabaseConnection) -> DashboardSchema {
    builder()
        .extension(SnapshotPerRequest::new(db))
        .data(state)
        .finish()
}

/// The federation SDL that `schema/dashboard.graphql` holds.
pub fn sdl() -> String {
    salesync_common::graphql::federation_sdl(&builder().finish())
}
