//! The dashboard subgraph's database schema: item costs, and the read model
//! the sale events feed (per store, business day and item; per day), with
//! the sales and refunds it has counted; and the consulting results.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_read_model;
mod m20261124_000002_create_consulting_results;
mod m20261207_000003_close_deleted_stores_ledgers;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_read_model::Migration),
            Box::new(m20261124_000002_create_consulting_results::Migration),
            // Shared: the events this subgraph publishes and consumes.
            Box::new(salesync_common::events::migration::CreateOutbox),
            Box::new(salesync_common::events::migration::CreateProcessedEvents),
            Box::new(salesync_common::events::migration::CreateDeletedStores),
            Box::new(salesync_common::events::migration::CreateTokenFloors),
            Box::new(salesync_common::events::migration::CreateOutboxPositions),
            Box::new(salesync_common::events::migration::CreateLogEpochs),
            // After `deleted_stores`, which it reads.
            Box::new(m20261207_000003_close_deleted_stores_ledgers::Migration),
        ]
    }
}
