//! `store_facts`: what orders need of each store (its table count and
//! business calendar), copied from the store subgraph's events so a
//! `placeOrder` needs no call to it.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StoreFacts::Table)
                    .if_not_exists()
                    .col(pk_uuid(StoreFacts::StoreId))
                    .col(integer(StoreFacts::TableCount))
                    .col(string_len(StoreFacts::Timezone, 64))
                    .col(integer(StoreFacts::CloseoutHour))
                    // When the copied values were true: a value older than
                    // the one kept is ignored.
                    .col(timestamp_with_time_zone(StoreFacts::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StoreFacts::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum StoreFacts {
    Table,
    StoreId,
    TableCount,
    Timezone,
    CloseoutHour,
    UpdatedAt,
}
