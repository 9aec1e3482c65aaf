use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The latest of each consulting request, as the `consulting` events
        // told it: what `consultingResult` answers and a late subscriber
        // gets at once.
        manager
            .create_table(
                Table::create()
                    .table(ConsultingResults::Table)
                    .if_not_exists()
                    .col(pk_uuid(ConsultingResults::RequestId))
                    .col(uuid(ConsultingResults::StoreId))
                    .col(string_len(ConsultingResults::Status, 16))
                    // 0 pending, 1 running, 2 ended: a row only moves forward,
                    // so an event that arrives late never undoes a later one.
                    .col(integer(ConsultingResults::Stage))
                    .col(text_null(ConsultingResults::Content))
                    .col(text_null(ConsultingResults::Error))
                    .col(timestamp_with_time_zone_null(
                        ConsultingResults::CompletedAt,
                    ))
                    // When the event it holds happened: among progress
                    // events, the newer wins.
                    .col(timestamp_with_time_zone(ConsultingResults::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_consulting_results_store ON consulting_results (store_id)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConsultingResults::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsultingResults {
    Table,
    RequestId,
    StoreId,
    Status,
    Stage,
    Content,
    Error,
    CompletedAt,
    UpdatedAt,
}
