//! The item subgraph's tables and their queries, through sea-orm only.
//! Every query is scoped to one store.

pub mod categories;
pub mod items;

use salesync_common::error::UniqueIndex;

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
