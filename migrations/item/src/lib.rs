//! The item subgraph's database schema: the menu's categories and items.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_menu;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_menu::Migration),
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
