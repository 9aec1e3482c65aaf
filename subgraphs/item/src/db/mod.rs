//! The item subgraph's tables and their queries, through sea-orm only.
//! Every query is scoped to one store.

pub mod categories;
pub mod items;

use salesync_common::{
    Error, Result,
    db::{StoreScoped, of_store},
    error::UniqueIndex,
};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, Select};
use uuid::Uuid;

/// The menu's tables: rows belong to a store, are deleted softly (they stay
/// for past orders) and are listed in creation order.
pub trait MenuTable: StoreScoped {
    /// What one row is, for `NOT_FOUND`: "no such category".
    const WHAT: &'static str;
    fn deleted_at() -> Self::Column;
    fn created_at() -> Self::Column;
}

/// The store's live rows, in creation order: add filters, then run it.
pub fn live_of_store<E: MenuTable>(store_id: Uuid) -> Select<E> {
    of_store::<E>(store_id)
        .filter(E::deleted_at().is_null())
        .order_by_asc(E::created_at())
        .order_by_asc(E::id_column())
}

/// A live row of the store, or `NOT_FOUND` (another store's id included).
pub async fn live<E: MenuTable, C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    id: Uuid,
) -> Result<E::Model> {
    of_store::<E>(store_id)
        .filter(E::id_column().eq(id))
        .filter(E::deleted_at().is_null())
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found(format!("no such {}", E::WHAT)))
}

/// Live category names are unique per store, case-insensitively.
pub const UQ_CATEGORIES_STORE_NAME: UniqueIndex = UniqueIndex {
    name: "uq_categories_store_name",
    table: "categories",
    columns: &["store_id", "lower(name)"],
};

/// Live item names are unique per category, case-insensitively.
pub const UQ_ITEMS_CATEGORY_NAME: UniqueIndex = UniqueIndex {
    name: "uq_items_category_name",
    table: "items",
    columns: &["category_id", "lower(name)"],
};
