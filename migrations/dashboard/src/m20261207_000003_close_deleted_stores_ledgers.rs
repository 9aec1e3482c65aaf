use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A deleted store's ledger row stays, closed: the upsert that locks
        // it before every change to the store's figures changes nothing on
        // a closed row, so a sale heard after (or while) the store was
        // deleted counts nothing, in that one statement.
        manager
            .alter_table(
                Table::alter()
                    .table(StoreLedgers::Table)
                    .add_column(timestamp_with_time_zone_null(StoreLedgers::DeletedAt))
                    .to_owned(),
            )
            .await?;
        // Stores deleted before this: their rows went, so they are closed
        // here from the list every subgraph keeps. (`WHERE true` tells
        // SQLite's parser the `ON CONFLICT` is the insert's.)
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO store_ledgers (store_id, updated_at, deleted_at) \
                 SELECT store_id, deleted_at, deleted_at FROM deleted_stores WHERE true \
                 ON CONFLICT (store_id) DO UPDATE SET deleted_at = excluded.deleted_at",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM store_ledgers WHERE deleted_at IS NOT NULL")
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(StoreLedgers::Table)
                    .drop_column(StoreLedgers::DeletedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum StoreLedgers {
    Table,
    DeletedAt,
}
