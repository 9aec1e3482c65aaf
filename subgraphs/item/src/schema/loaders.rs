//! Dataloaders: every lookup by id in one request (entity resolution, an
//! item's category, a category's items) is gathered into one SQL statement
//! per kind. Keys carry the caller's store, so a batch can never return
//! another store's rows.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use salesync_common::Error;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::db::{categories, items};

/// An id as seen by one store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scoped {
    pub store_id: Uuid,
    pub id: Uuid,
}

/// Groups keys by store: one statement per store in the batch (in practice one).
fn by_store(keys: &[Scoped]) -> HashMap<Uuid, Vec<Uuid>> {
    let mut grouped: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for key in keys {
        grouped.entry(key.store_id).or_default().push(key.id);
    }
    grouped
}

/// Rows of `E` by id, for the stores in `keys`: one statement per store.
async fn rows_by_id<E>(
    db: &DatabaseConnection,
    keys: &[Scoped],
    store_column: E::Column,
    id_column: E::Column,
    id_of: fn(&E::Model) -> Uuid,
) -> Result<HashMap<Scoped, E::Model>, Error>
where
    E: EntityTrait,
{
    let mut found = HashMap::new();
    for (store_id, ids) in by_store(keys) {
        let rows = E::find()
            .filter(store_column.eq(store_id))
            .filter(id_column.is_in(ids))
            .all(db)
            .await?;
        found.extend(rows.into_iter().map(|row| {
            (
                Scoped {
                    store_id,
                    id: id_of(&row),
                },
                row,
            )
        }));
    }
    Ok(found)
}

/// Categories by id, deleted ones included (old orders still resolve them).
pub struct CategoryLoader(pub DatabaseConnection);

impl Loader<Scoped> for CategoryLoader {
    type Value = categories::Model;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        rows_by_id::<categories::Entity>(
            &self.0,
            keys,
            categories::Column::StoreId,
            categories::Column::Id,
            |row| row.id,
        )
        .await
    }
}

/// Items by id, deleted ones included.
pub struct ItemLoader(pub DatabaseConnection);

impl Loader<Scoped> for ItemLoader {
    type Value = items::Model;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        rows_by_id::<items::Entity>(
            &self.0,
            keys,
            items::Column::StoreId,
            items::Column::Id,
            |row| row.id,
        )
        .await
    }
}

/// A category's live items, in creation order, keyed by category id.
pub struct CategoryItemsLoader(pub DatabaseConnection);

impl Loader<Scoped> for CategoryItemsLoader {
    type Value = Vec<items::Model>;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        let mut found: HashMap<Scoped, Vec<items::Model>> =
            keys.iter().map(|key| (*key, Vec::new())).collect();
        for (store_id, category_ids) in by_store(keys) {
            let rows = items::Entity::find()
                .filter(items::Column::StoreId.eq(store_id))
                .filter(items::Column::CategoryId.is_in(category_ids))
                .filter(items::Column::DeletedAt.is_null())
                .order_by_asc(items::Column::CreatedAt)
                .order_by_asc(items::Column::Id)
                .all(&self.0)
                .await?;
            for row in rows {
                let key = Scoped {
                    store_id,
                    id: row.category_id,
                };
                found.entry(key).or_default().push(row);
            }
        }
        Ok(found)
    }
}

/// The loaders of one schema, shared by all its requests. No cache: each
/// load reads current rows; batching happens within the short delay.
pub struct Loaders {
    pub categories: DataLoader<CategoryLoader>,
    pub items: DataLoader<ItemLoader>,
    pub category_items: DataLoader<CategoryItemsLoader>,
}

impl Loaders {
    pub fn new(db: &DatabaseConnection) -> Self {
        Loaders {
            categories: DataLoader::new(CategoryLoader(db.clone()), tokio::spawn),
            items: DataLoader::new(ItemLoader(db.clone()), tokio::spawn),
            category_items: DataLoader::new(CategoryItemsLoader(db.clone()), tokio::spawn),
        }
    }
}
