use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The local hour at which the store's business day turns: a bar open
        // past midnight counts its 01:30 sales for the evening before.
        // Existing stores keep midnight. The check keeps 0-23 even for
        // writes that bypass the subgraph's own validation.
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .add_column(
                        integer(Stores::CloseoutHour)
                            .default(0)
                            .check(Expr::col(Stores::CloseoutHour).between(0, 23)),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Stores::Table)
                    .drop_column(Stores::CloseoutHour)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Stores {
    Table,
    CloseoutHour,
}
