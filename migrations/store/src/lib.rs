//! The store subgraph's database schema, one module per migration, applied
//! in order by [`Migrator`]. Other subgraphs copy this layout:
//! `migrations/<subgraph>/src/mYYYYMMDD_NNNNNN_what.rs`.

pub use sea_orm_migration::prelude::*;

mod m20261124_000001_create_stores;
mod m20261124_000002_create_login_throttle;
mod m20261124_000003_add_closeout_hour;
mod m20261125_000004_add_token_generation;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261124_000001_create_stores::Migration),
            Box::new(m20261124_000002_create_login_throttle::Migration),
            // Shared: the events this subgraph publishes.
            Box::new(salesync_common::events::migration::CreateOutbox),
            // After the shared one: databases that applied the list above
            // apply only this.
            Box::new(m20261124_000003_add_closeout_hour::Migration),
            // Shared: what the token verifier refuses. The store subgraph
            // writes both itself, in the transaction of the change.
            Box::new(salesync_common::events::migration::CreateDeletedStores),
            Box::new(salesync_common::events::migration::CreateTokenFloors),
            Box::new(salesync_common::events::migration::CreateOutboxPositions),
            Box::new(salesync_common::events::migration::CreateLogEpochs),
            Box::new(m20261125_000004_add_token_generation::Migration),
        ]
    }
}
