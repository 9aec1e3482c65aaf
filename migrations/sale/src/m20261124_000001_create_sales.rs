use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sales::Table)
                    .if_not_exists()
                    .col(pk_uuid(Sales::Id))
                    .col(uuid(Sales::StoreId))
                    // What the client called the checkout: a retry with the
                    // same key finds this row (unique per store, below).
                    .col(string_len(Sales::IdempotencyKey, 100))
                    // A digest of the request, so the same key with other
                    // input is told apart from a retry.
                    .col(string_len(Sales::RequestHash, 64))
                    .col(integer(Sales::TableNo))
                    // The order and the version of it that was read: the
                    // order subgraph pays only that version.
                    .col(uuid(Sales::OrderId))
                    .col(integer(Sales::OrderVersion))
                    .col(big_integer(Sales::Amount))
                    .col(big_integer(Sales::RefundedAmount))
                    // PENDING until the order is paid, then COMPLETED (and
                    // later refunded), or ABANDONED when it cannot be paid.
                    .col(string_len(Sales::Status, 24))
                    // Every change is a compare-and-set on it.
                    .col(integer(Sales::Version))
                    // Null while pending: set when the order was paid.
                    .col(date_null(Sales::BusinessDate))
                    .col(timestamp_with_time_zone_null(Sales::PaidAt))
                    .col(timestamp_with_time_zone(Sales::CreatedAt))
                    .col(timestamp_with_time_zone(Sales::UpdatedAt))
                    .check(Expr::col(Sales::Amount).gte(0))
                    .check(Expr::col(Sales::RefundedAmount).between(0, Expr::col(Sales::Amount)))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Decides concurrent checkouts with one key: one row wins.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_sales_store_key ON sales (store_id, idempotency_key)",
        )
        .await?;
        // One sale per order, whatever the keys: the second is refused.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_sales_order_live ON sales (order_id) WHERE status <> 'ABANDONED'",
        )
        .await?;
        // Listings and summaries by business day; recovery by status.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_sales_store_day ON sales (store_id, business_date)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_sales_pending ON sales (created_at) WHERE status = 'PENDING'",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SalePayments::Table)
                    .if_not_exists()
                    .col(pk_uuid(SalePayments::Id))
                    .col(uuid(SalePayments::SaleId))
                    .col(integer(SalePayments::Position))
                    .col(string_len(SalePayments::Method, 16))
                    .col(big_integer(SalePayments::Amount))
                    // Cash handed over, and the change given back; null otherwise.
                    .col(big_integer_null(SalePayments::Tendered))
                    .col(big_integer_null(SalePayments::Change))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sale_payments_sale")
                            .from(SalePayments::Table, SalePayments::SaleId)
                            .to(Sales::Table, Sales::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(SalePayments::Amount).gt(0))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_sale_payments_sale ON sale_payments (sale_id)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(SaleLines::Table)
                    .if_not_exists()
                    .col(pk_uuid(SaleLines::Id))
                    .col(uuid(SaleLines::SaleId))
                    .col(integer(SaleLines::Position))
                    .col(uuid(SaleLines::ItemId))
                    .col(string_len(SaleLines::Name, 100))
                    .col(big_integer(SaleLines::UnitPrice))
                    .col(integer(SaleLines::Quantity))
                    .col(integer(SaleLines::RefundedQuantity))
                    .col(big_integer(SaleLines::Amount))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sale_lines_sale")
                            .from(SaleLines::Table, SaleLines::SaleId)
                            .to(Sales::Table, Sales::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    // Never more refunded than sold, even for a write that
                    // bypasses the service.
                    .check(
                        Expr::col(SaleLines::RefundedQuantity)
                            .between(0, Expr::col(SaleLines::Quantity)),
                    )
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_sale_lines_sale ON sale_lines (sale_id)",
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Refunds::Table)
                    .if_not_exists()
                    .col(pk_uuid(Refunds::Id))
                    .col(uuid(Refunds::SaleId))
                    .col(uuid(Refunds::StoreId))
                    .col(string_len(Refunds::IdempotencyKey, 100))
                    .col(string_len(Refunds::RequestHash, 64))
                    .col(big_integer(Refunds::Amount))
                    .col(string_len(Refunds::Method, 16))
                    .col(text_null(Refunds::Reason))
                    // The refunded lines as JSON: written once, never changed.
                    .col(text(Refunds::Lines))
                    .col(date(Refunds::BusinessDate))
                    .col(timestamp_with_time_zone(Refunds::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_refunds_sale")
                            .from(Refunds::Table, Refunds::SaleId)
                            .to(Sales::Table, Sales::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(Refunds::Amount).gte(0))
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_refunds_store_key ON refunds (store_id, idempotency_key)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_refunds_store_day ON refunds (store_id, business_date)",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX IF NOT EXISTS ix_refunds_sale ON refunds (sale_id)")
            .await?;

        // The Z-report: once per store and business day (the primary key
        // refuses a second close).
        manager
            .create_table(
                Table::create()
                    .table(DayCloses::Table)
                    .if_not_exists()
                    .col(uuid(DayCloses::StoreId))
                    .col(date(DayCloses::BusinessDate))
                    .col(timestamp_with_time_zone(DayCloses::ClosedAt))
                    // Expected and counted per method, as JSON.
                    .col(text(DayCloses::Methods))
                    .col(big_integer(DayCloses::SalesVolume))
                    .col(integer(DayCloses::SaleCount))
                    .primary_key(
                        Index::create()
                            .col(DayCloses::StoreId)
                            .col(DayCloses::BusinessDate),
                    )
                    .to_owned(),
            )
            .await?;

        // Each store's time zone and closeout hour, copied from the store
        // subgraph's StoreOpened / StoreUpdated events.
        manager
            .create_table(
                Table::create()
                    .table(StoreCalendars::Table)
                    .if_not_exists()
                    .col(pk_uuid(StoreCalendars::StoreId))
                    .col(string_len(StoreCalendars::Timezone, 64))
                    .col(integer(StoreCalendars::CloseoutHour))
                    .col(timestamp_with_time_zone(StoreCalendars::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StoreCalendars::Table.into_iden(),
            DayCloses::Table.into_iden(),
            Refunds::Table.into_iden(),
            SaleLines::Table.into_iden(),
            SalePayments::Table.into_iden(),
            Sales::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Sales {
    Table,
    Id,
    StoreId,
    IdempotencyKey,
    RequestHash,
    TableNo,
    OrderId,
    OrderVersion,
    Amount,
    RefundedAmount,
    Status,
    Version,
    BusinessDate,
    PaidAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SalePayments {
    Table,
    Id,
    SaleId,
    Position,
    Method,
    Amount,
    Tendered,
    Change,
}

#[derive(DeriveIden)]
enum SaleLines {
    Table,
    Id,
    SaleId,
    Position,
    ItemId,
    Name,
    UnitPrice,
    Quantity,
    RefundedQuantity,
    Amount,
}

#[derive(DeriveIden)]
enum Refunds {
    Table,
    Id,
    SaleId,
    StoreId,
    IdempotencyKey,
    RequestHash,
    Amount,
    Method,
    Reason,
    Lines,
    BusinessDate,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DayCloses {
    Table,
    StoreId,
    BusinessDate,
    ClosedAt,
    Methods,
    SalesVolume,
    SaleCount,
}

#[derive(DeriveIden)]
enum StoreCalendars {
    Table,
    StoreId,
    Timezone,
    CloseoutHour,
    UpdatedAt,
}
