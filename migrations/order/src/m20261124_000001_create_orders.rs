use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Orders::Table)
                    .if_not_exists()
                    .col(pk_uuid(Orders::Id))
                    .col(uuid(Orders::StoreId))
                    .col(integer(Orders::TableNo))
                    // OPEN, PAID or CANCELLED.
                    .col(string_len(Orders::Status, 16))
                    // Money: computed by the server from the lines, never sent by a client.
                    .col(big_integer(Orders::Total))
                    // Bumped by every change: a terminal that sends the version it
                    // read learns whether the order changed since.
                    .col(integer(Orders::Version))
                    .col(timestamp_with_time_zone(Orders::OpenedAt))
                    .col(timestamp_with_time_zone(Orders::UpdatedAt))
                    // Null while open.
                    .col(timestamp_with_time_zone_null(Orders::ClosedAt))
                    // The sale that paid the order; null unless PAID. Unique so a
                    // retried payment finds the order it already paid.
                    .col(uuid_null(Orders::SaleId))
                    .check(Expr::col(Orders::Total).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OrderLines::Table)
                    .if_not_exists()
                    .col(pk_uuid(OrderLines::Id))
                    .col(uuid(OrderLines::OrderId))
                    // The item lives in the item subgraph: no foreign key; the
                    // name and price as ordered are copied here.
                    .col(uuid(OrderLines::ItemId))
                    .col(integer(OrderLines::Position))
                    .col(string_len(OrderLines::Name, 100))
                    .col(big_integer(OrderLines::UnitPrice))
                    .col(integer(OrderLines::Quantity))
                    .col(big_integer(OrderLines::Amount))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_order_lines_order")
                            .from(OrderLines::Table, OrderLines::OrderId)
                            .to(Orders::Table, Orders::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(OrderLines::Quantity).between(1, 999))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // At most one open order per table. Terminals take the table's turn
        // before changing its order (table_turns), so none collides here;
        // the index makes sure.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_orders_open_table \
             ON orders (store_id, table_no) WHERE status = 'OPEN'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_orders_sale ON orders (sale_id) WHERE sale_id IS NOT NULL",
        )
        .await?;
        // Listings by day and status.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_orders_store_opened ON orders (store_id, opened_at)",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_order_lines_order ON order_lines (order_id, position)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OrderLines::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Orders::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Orders {
    Table,
    Id,
    StoreId,
    TableNo,
    Status,
    Total,
    Version,
    OpenedAt,
    UpdatedAt,
    ClosedAt,
    SaleId,
}

#[derive(DeriveIden)]
enum OrderLines {
    Table,
    Id,
    OrderId,
    ItemId,
    Position,
    Name,
    UnitPrice,
    Quantity,
    Amount,
}
