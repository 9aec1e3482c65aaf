//! Dataloaders: every lookup by id in one request (entity resolution, an
//! item's category, a category's items) is gathered into one SQL statement
//! per kind, scoped to the caller's store.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use salesync_common::{
    Error, Result,
    loader::{ByIds, FetchByIds, Scoped, by_ids, by_store},
};
use uuid::Uuid;

use crate::{
    db::{categories, items},
    service::Menu,
};

/// Categories by id, deleted ones included (old orders still resolve them).
pub struct Categories(Menu);

impl FetchByIds for Categories {
    type Value = categories::Model;

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<categories::Model>> {
        self.0.categories_by_ids(store_id, ids).await
    }

    fn id_of(row: &categories::Model) -> Uuid {
        row.id
    }
}

/// Items by id, deleted ones included.
pub struct Items(Menu);

impl FetchByIds for Items {
    type Value = items::Model;

    async fn fetch(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<items::Model>> {
        self.0.items_by_ids(store_id, ids).await
    }

    fn id_of(row: &items::Model) -> Uuid {
        row.id
    }
}

/// A category's live items, in creation order, keyed by category id.
pub struct CategoryItemsLoader(Menu);

impl Loader<Scoped> for CategoryItemsLoader {
    type Value = Vec<items::Model>;
    type Error = Error;

    async fn load(&self, keys: &[Scoped]) -> Result<HashMap<Scoped, Self::Value>> {
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
    pub categories: DataLoader<ByIds<Categories>>,
    pub items: DataLoader<ByIds<Items>>,
    pub category_items: DataLoader<CategoryItemsLoader>,
}

impl Loaders {
    pub fn new(menu: &Menu) -> Self {
        Loaders {
            categories: by_ids(Categories(menu.clone())),
            items: by_ids(Items(menu.clone())),
            category_items: DataLoader::new(CategoryItemsLoader(menu.clone()), tokio::spawn),
        }
    }
}
