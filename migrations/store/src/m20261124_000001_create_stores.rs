use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Stores::Table)
                    .if_not_exists()
                    // UUIDs (v7: time-ordered for the index, 74 random bits),
                    // not sequential integers: an id cannot be guessed or counted.
                    .col(pk_uuid(Stores::Id))
                    .col(string_len(Stores::Username, 32))
                    // Argon2id PHC string: algorithm, parameters, salt and hash.
                    .col(string(Stores::PasswordHash))
                    .col(string(Stores::OwnerName))
                    .col(string(Stores::Phone))
                    .col(string(Stores::Name))
                    .col(string(Stores::Address))
                    .col(string(Stores::StoreType))
                    .col(integer(Stores::TableCount))
                    .col(string(Stores::Timezone))
                    .col(char_len(Stores::Currency, 3))
                    .col(timestamp_with_time_zone(Stores::CreatedAt))
                    .col(timestamp_with_time_zone(Stores::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Usernames are unique; a clash on sign-up is reported as CONFLICT by
        // recognising this index's name, not by checking first and racing.
        manager
            .create_index(
                Index::create()
                    .name("uq_stores_username")
                    .table(Stores::Table)
                    .col(Stores::Username)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Stores::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Stores {
    Table,
    Id,
    Username,
    PasswordHash,
    OwnerName,
    Phone,
    Name,
    Address,
    StoreType,
    TableCount,
    Timezone,
    Currency,
    CreatedAt,
    UpdatedAt,
}
