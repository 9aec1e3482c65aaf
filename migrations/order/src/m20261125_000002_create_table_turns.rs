//! `table_turns`: one row per table of a store that has had an order. Every
//! change to a table's order first locks the table's row, so terminals at
//! one table take turns instead of racing, and none is told to try again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TableTurns::Table)
                    .if_not_exists()
                    .col(uuid(TableTurns::StoreId))
                    .col(integer(TableTurns::TableNo))
                    .primary_key(
                        Index::create()
                            .col(TableTurns::StoreId)
                            .col(TableTurns::TableNo),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TableTurns::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum TableTurns {
    Table,
    StoreId,
    TableNo,
}
