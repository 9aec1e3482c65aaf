use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .if_not_exists()
                    // UUIDv7: unguessable, and ordered by creation time, which
                    // is the order menus are listed in.
                    .col(pk_uuid(Categories::Id))
                    // The store is owned by another subgraph, so there is no
                    // foreign key: every query filters on it instead.
                    .col(uuid(Categories::StoreId))
                    .col(string_len(Categories::Name, 100))
                    .col(timestamp_with_time_zone(Categories::CreatedAt))
                    .col(timestamp_with_time_zone(Categories::UpdatedAt))
                    // Soft deletion: null while live. Past orders and reports
                    // still resolve a deleted category's items.
                    .col(timestamp_with_time_zone_null(Categories::DeletedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Items::Table)
                    .if_not_exists()
                    .col(pk_uuid(Items::Id))
                    .col(uuid(Items::StoreId))
                    .col(uuid(Items::CategoryId))
                    .col(string_len(Items::Name, 100))
                    // Money: an integer in the currency's smallest unit.
                    .col(big_integer(Items::Price))
                    .col(string_len_null(Items::Description, 500))
                    .col(boolean(Items::SoldOut).default(false))
                    .col(timestamp_with_time_zone(Items::CreatedAt))
                    .col(timestamp_with_time_zone(Items::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Items::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_items_category")
                            .from(Items::Table, Items::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .check(Expr::col(Items::Price).gte(0))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Names are unique among live rows only (a deleted "Drinks" does not
        // block a new one), and case-insensitively ("drinks" clashes with
        // "Drinks"). Partial expression indexes, same syntax on PostgreSQL and
        // SQLite; the subgraph turns a violation into CONFLICT by index name.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_categories_store_name \
             ON categories (store_id, lower(name)) WHERE deleted_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_items_category_name \
             ON items (category_id, lower(name)) WHERE deleted_at IS NULL",
        )
        .await?;
        // The menu is read per store in creation order; a category's items
        // by category.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_categories_store ON categories (store_id, id)",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX IF NOT EXISTS ix_items_store ON items (store_id, id)")
            .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS ix_items_category ON items (category_id, id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Items::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Categories::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Categories {
    Table,
    Id,
    StoreId,
    Name,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum Items {
    Table,
    Id,
    StoreId,
    CategoryId,
    Name,
    Price,
    Description,
    SoldOut,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}
