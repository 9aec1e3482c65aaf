use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The unit cost of an item: current, not historical.
        manager
            .create_table(
                Table::create()
                    .table(ItemCosts::Table)
                    .if_not_exists()
                    .col(uuid(ItemCosts::StoreId))
                    .col(uuid(ItemCosts::ItemId))
                    .col(big_integer(ItemCosts::Cost))
                    .col(timestamp_with_time_zone(ItemCosts::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(ItemCosts::StoreId)
                            .col(ItemCosts::ItemId),
                    )
                    .check(Expr::col(ItemCosts::Cost).gte(0))
                    .to_owned(),
            )
            .await?;
        // Each sale counted, once: a redelivered or replayed `SaleCompleted`
        // finds its row and changes nothing.
        manager
            .create_table(
                Table::create()
                    .table(CountedSales::Table)
                    .if_not_exists()
                    .col(pk_uuid(CountedSales::SaleId))
                    .col(uuid(CountedSales::StoreId))
                    .col(date(CountedSales::BusinessDate))
                    .col(big_integer(CountedSales::Amount))
                    .to_owned(),
            )
            .await?;
        // Each refund counted, once.
        manager
            .create_table(
                Table::create()
                    .table(CountedRefunds::Table)
                    .if_not_exists()
                    .col(pk_uuid(CountedRefunds::RefundId))
                    .col(uuid(CountedRefunds::StoreId))
                    .col(date(CountedRefunds::BusinessDate))
                    .col(big_integer(CountedRefunds::Amount))
                    .to_owned(),
            )
            .await?;
        // Per store, business day and item: what was sold, net of the
        // refunds made that day.
        manager
            .create_table(
                Table::create()
                    .table(DailyItemSales::Table)
                    .if_not_exists()
                    .col(uuid(DailyItemSales::StoreId))
                    .col(date(DailyItemSales::BusinessDate))
                    .col(uuid(DailyItemSales::ItemId))
                    .col(big_integer(DailyItemSales::Quantity))
                    .col(big_integer(DailyItemSales::SalesVolume))
                    // The name it last sold under that day; null when only
                    // refunds touched the row (refunds carry no names).
                    .col(text_null(DailyItemSales::Name))
                    .primary_key(
                        Index::create()
                            .col(DailyItemSales::StoreId)
                            .col(DailyItemSales::BusinessDate)
                            .col(DailyItemSales::ItemId),
                    )
                    .to_owned(),
            )
            .await?;
        // Per store and business day: sales net of refunds, and the sales
        // made that day (later refunded ones included).
        manager
            .create_table(
                Table::create()
                    .table(DailySales::Table)
                    .if_not_exists()
                    .col(uuid(DailySales::StoreId))
                    .col(date(DailySales::BusinessDate))
                    .col(big_integer(DailySales::SalesVolume))
                    .col(integer(DailySales::OrderCount))
                    .primary_key(
                        Index::create()
                            .col(DailySales::StoreId)
                            .col(DailySales::BusinessDate),
                    )
                    .to_owned(),
            )
            .await?;
        // One row per store: every change to a store's figures locks it
        // first, so a rebuild and the live consumer never interleave.
        manager
            .create_table(
                Table::create()
                    .table(StoreLedgers::Table)
                    .if_not_exists()
                    .col(pk_uuid(StoreLedgers::StoreId))
                    .col(timestamp_with_time_zone(StoreLedgers::UpdatedAt))
                    .col(timestamp_with_time_zone_null(StoreLedgers::RebuiltAt))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // A store's sales and refunds go with it, and a rebuild removes them.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_counted_sales_store ON counted_sales (store_id)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_counted_refunds_store ON counted_refunds (store_id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StoreLedgers::Table.into_iden(),
            DailySales::Table.into_iden(),
            DailyItemSales::Table.into_iden(),
            CountedRefunds::Table.into_iden(),
            CountedSales::Table.into_iden(),
            ItemCosts::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum ItemCosts {
    Table,
    StoreId,
    ItemId,
    Cost,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CountedSales {
    Table,
    SaleId,
    StoreId,
    BusinessDate,
    Amount,
}

#[derive(DeriveIden)]
enum CountedRefunds {
    Table,
    RefundId,
    StoreId,
    BusinessDate,
    Amount,
}

#[derive(DeriveIden)]
enum DailyItemSales {
    Table,
    StoreId,
    BusinessDate,
    ItemId,
    Quantity,
    SalesVolume,
    Name,
}

#[derive(DeriveIden)]
enum DailySales {
    Table,
    StoreId,
    BusinessDate,
    SalesVolume,
    OrderCount,
}

#[derive(DeriveIden)]
enum StoreLedgers {
    Table,
    StoreId,
    UpdatedAt,
    RebuiltAt,
}
