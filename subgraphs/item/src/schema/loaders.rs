//! Dataloaders: every lookup by id in one request (entity resolution, an
//! item's category, a category's items) is gathered into one SQL statement
//! per kind. Keys carry the caller's store, so a batch can never return
//! another store's rows.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use salesync_common::Error;
use uuid::Uuid;

use crate::{
    db::{categories, items},
    service::Menu,
};

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

/// Categories by id, deleted ones included (old orders still resolve them).
pub struct CategoryLoader(Menu);

impl Loader<Scoped> for CategoryLoader {
    type Value = categories::Model;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        let mut found = HashMap::new();
        for (store_id, ids) in by_store(keys) {
            for row in self.0.categories_by_ids(store_id, ids).await? {
                found.insert(
                    Scoped {
                        store_id,
                        id: row.id,
                    },
                    row,
                );
            }
        }
        Ok(found)
    }
}

/// Items by id, deleted ones included.
pub struct ItemLoader(Menu);

impl Loader<Scoped> for ItemLoader {
    type Value = items::Model;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        let mut found = HashMap::new();
        for (store_id, ids) in by_store(keys) {
            for row in self.0.items_by_ids(store_id, ids).await? {
                found.insert(
                    Scoped {
                        store_id,
                        id: row.id,
                    },
                    row,
                );
            }
        }
        Ok(found)
    }
}

/// A category's live items, in creation order, keyed by category id.
pub struct CategoryItemsLoader(Menu);

impl Loader<Scoped> for CategoryItemsLoader {
    type Value = Vec<items::Model>;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>, Self::Error> {
        let mut found: HashMap<Scoped, Vec<items::Model>> =
            keys.iter().map(|key| (*key, Vec::new())).collect();
        for (store_id, category_ids) in by_store(keys) {
            for row in self
                .0
                .live_items_in_categories(store_id, category_ids)
                .await?
            {
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
    pub fn new(menu: &Menu) -> Self {
        Loaders {
            categories: DataLoader::new(CategoryLoader(menu.clone()), tokio::spawn),
            items: DataLoader::new(ItemLoader(menu.clone()), tokio::spawn),
            category_items: DataLoader::new(CategoryItemsLoader(menu.clone()), tokio::spawn),
        }
    }
}
