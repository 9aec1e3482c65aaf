//! The tables every subgraph with events has: `outbox` (what it publishes)
//! and `processed_events` (what it consumed). Each subgraph's migrator lists
//! these migrations beside its own.

use sea_orm_migration::{prelude::*, schema::*};

pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m20261124_000100_create_outbox"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    // The relay publishes in this order: a store's events
                    // reach the bus in the order they were committed.
                    .col(big_pk_auto(Outbox::Seq))
                    .col(uuid_uniq(Outbox::EventId))
                    .col(string(Outbox::Topic))
                    .col(string(Outbox::Key))
                    // The whole envelope as JSON text, exactly as published.
                    .col(text(Outbox::Payload))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    // Null until the bus acknowledged it.
                    .col(timestamp_with_time_zone_null(Outbox::PublishedAt))
                    .to_owned(),
            )
            .await?;
        // The relay only ever looks for what is still pending.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS ix_outbox_pending ON outbox (seq) WHERE published_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await
    }
}

pub struct CreateProcessedEvents;

impl MigrationName for CreateProcessedEvents {
    fn name(&self) -> &str {
        "m20261124_000101_create_processed_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateProcessedEvents {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per event a consumer applied, written in the same
        // transaction as the event's effect: a redelivered event finds its
        // row and is skipped.
        manager
            .create_table(
                Table::create()
                    .table(ProcessedEvents::Table)
                    .if_not_exists()
                    .col(string(ProcessedEvents::Consumer))
                    .col(uuid(ProcessedEvents::EventId))
                    .col(timestamp_with_time_zone(ProcessedEvents::ProcessedAt))
                    .primary_key(
                        Index::create()
                            .col(ProcessedEvents::Consumer)
                            .col(ProcessedEvents::EventId),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProcessedEvents::Table).to_owned())
            .await
    }
}

pub struct CreateDeletedStores;

impl MigrationName for CreateDeletedStores {
    fn name(&self) -> &str {
        "m20261124_000102_create_deleted_stores"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateDeletedStores {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Filled from StoreDeleted; the token verifier refuses these stores,
        // whose tokens may not have expired yet.
        manager
            .create_table(
                Table::create()
                    .table(DeletedStores::Table)
                    .if_not_exists()
                    .col(uuid(DeletedStores::StoreId).primary_key())
                    .col(timestamp_with_time_zone(DeletedStores::DeletedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DeletedStores::Table).to_owned())
            .await
    }
}

pub struct CreateTokenFloors;

impl MigrationName for CreateTokenFloors {
    fn name(&self) -> &str {
        "m20261125_000103_create_token_floors"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateTokenFloors {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Per store, the oldest token generation still accepted: raised by
        // TokensRevoked after a password change.
        manager
            .create_table(
                Table::create()
                    .table(TokenFloors::Table)
                    .if_not_exists()
                    .col(uuid(TokenFloors::StoreId).primary_key())
                    .col(big_integer(TokenFloors::MinGeneration))
                    .col(timestamp_with_time_zone(TokenFloors::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TokenFloors::Table).to_owned())
            .await
    }
}

pub struct CreateOutboxPositions;

impl MigrationName for CreateOutboxPositions {
    fn name(&self) -> &str {
        "m20261125_000104_create_outbox_positions"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutboxPositions {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Per partition, the offset after the last event the relay
        // published: a broker whose log ends before it lost events.
        manager
            .create_table(
                Table::create()
                    .table(OutboxPositions::Table)
                    .if_not_exists()
                    .col(string(OutboxPositions::Topic))
                    .col(integer(OutboxPositions::Partition))
                    .col(big_integer(OutboxPositions::NextOffset))
                    .primary_key(
                        Index::create()
                            .col(OutboxPositions::Topic)
                            .col(OutboxPositions::Partition),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxPositions::Table).to_owned())
            .await
    }
}

pub struct CreateLogEpochs;

impl MigrationName for CreateLogEpochs {
    fn name(&self) -> &str {
        "m20261204_000105_create_log_epochs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLogEpochs {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Per topic, the generation of its log the relay publishes into:
        // raised each time the relay finds the log lost and publishes it
        // again, and carried by every message.
        manager
            .create_table(
                Table::create()
                    .table(OutboxEpochs::Table)
                    .if_not_exists()
                    .col(string(OutboxEpochs::Topic).primary_key())
                    .col(big_integer(OutboxEpochs::Epoch))
                    .to_owned(),
            )
            .await?;
        // Per consumer and partition, the generation its group's committed
        // offset is in.
        manager
            .create_table(
                Table::create()
                    .table(ConsumerEpochs::Table)
                    .if_not_exists()
                    .col(string(ConsumerEpochs::Consumer))
                    .col(string(ConsumerEpochs::Topic))
                    .col(integer(ConsumerEpochs::Partition))
                    .col(big_integer(ConsumerEpochs::Epoch))
                    .primary_key(
                        Index::create()
                            .col(ConsumerEpochs::Consumer)
                            .col(ConsumerEpochs::Topic)
                            .col(ConsumerEpochs::Partition),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsumerEpochs::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(OutboxEpochs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum OutboxEpochs {
    Table,
    Topic,
    Epoch,
}

#[derive(DeriveIden)]
enum ConsumerEpochs {
    Table,
    Consumer,
    Topic,
    Partition,
    Epoch,
}

#[derive(DeriveIden)]
enum OutboxPositions {
    Table,
    Topic,
    Partition,
    NextOffset,
}

#[derive(DeriveIden)]
enum TokenFloors {
    Table,
    StoreId,
    MinGeneration,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DeletedStores {
    Table,
    StoreId,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Seq,
    EventId,
    Topic,
    Key,
    Payload,
    CreatedAt,
    PublishedAt,
}

#[derive(DeriveIden)]
enum ProcessedEvents {
    Table,
    Consumer,
    EventId,
    ProcessedAt,
}
