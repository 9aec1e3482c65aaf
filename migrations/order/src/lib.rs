//! The order subgraph's database schema: table orders, their lines, the
//! tables' turns, and the copy of each store's facts.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_orders;
mod m20261125_000002_create_table_turns;
mod m20261125_000003_create_store_facts;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_orders::Migration),
            Box::new(m20261125_000002_create_table_turns::Migration),
            Box::new(m20261125_000003_create_store_facts::Migration),
            // Shared: the events this subgraph publishes and consumes.
            Box::new(salesync_common::events::migration::CreateOutbox),
            Box::new(salesync_common::events::migration::CreateProcessedEvents),
            Box::new(salesync_common::events::migration::CreateDeletedStores),
            Box::new(salesync_common::events::migration::CreateTokenFloors),
            Box::new(salesync_common::events::migration::CreateOutboxPositions),
            Box::new(salesync_common::events::migration::CreateLogEpochs),
        ]
    }
}
