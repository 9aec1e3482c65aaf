use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ConsultingRequests::Table)
                    .if_not_exists()
                    .col(pk_uuid(ConsultingRequests::Id))
                    .col(uuid(ConsultingRequests::StoreId))
                    .col(date(ConsultingRequests::FromDate))
                    .col(date(ConsultingRequests::ToDate))
                    .col(string_len(ConsultingRequests::Language, 8))
                    // PENDING, RUNNING, COMPLETED or FAILED.
                    .col(string_len(ConsultingRequests::Status, 16))
                    // The advice so far while RUNNING, then all of it.
                    .col(text_null(ConsultingRequests::Content))
                    .col(text_null(ConsultingRequests::Error))
                    // The model that writes it, or the built-in analyst.
                    .col(string_len(ConsultingRequests::Model, 100))
                    // A worker owns a RUNNING request until then, and renews
                    // it while it writes; after it, another worker (or the
                    // same after a restart) takes the request again.
                    .col(timestamp_with_time_zone_null(
                        ConsultingRequests::LeaseUntil,
                    ))
                    .col(integer(ConsultingRequests::Attempts))
                    .col(timestamp_with_time_zone(ConsultingRequests::RequestedAt))
                    .col(timestamp_with_time_zone_null(
                        ConsultingRequests::CompletedAt,
                    ))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // The store's requests, newest first.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_consulting_requests_store ON consulting_requests (store_id, requested_at)",
        )
        .await?;
        // What the workers look for: the unfinished ones.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_consulting_requests_open ON consulting_requests (status, requested_at)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ConsultingRequests::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ConsultingRequests {
    Table,
    Id,
    StoreId,
    FromDate,
    ToDate,
    Language,
    Status,
    Content,
    Error,
    Model,
    LeaseUntil,
    Attempts,
    RequestedAt,
    CompletedAt,
}
