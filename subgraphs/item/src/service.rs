//! What a store does with its menu: each use case with its transaction.
//! The item subgraph publishes no events yet.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::Utc;
use salesync_common::{
    Result,
    db::{all_by_position, with_ids},
    events::store_access::StoreRows,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use crate::{
    db::{self, categories, items},
    domain::{ItemChanges, Name, NewItem},
};

/// The menus of every store, each change scoped to one store.
#[derive(Clone)]
pub struct Menu {
    db: DatabaseConnection,
}

impl Menu {
    pub fn new(db: DatabaseConnection) -> Self {
        Menu { db }
    }

    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn create_category(&self, store_id: Uuid, name: Name) -> Result<categories::Model> {
        categories::insert(&self.db, store_id, name).await
    }

    #[tracing::instrument(skip_all, fields(%store_id, %id))]
    pub async fn rename_category(
        &self,
        store_id: Uuid,
        id: Uuid,
        name: Name,
    ) -> Result<categories::Model> {
        let category = db::live::<categories::Entity, _>(&self.db, store_id, id).await?;
        categories::rename(&self.db, category, name).await
    }

    /// Deletes a category and its items together. Both stay resolvable for
    /// past orders and reports.
    #[tracing::instrument(skip_all, fields(%store_id, %id))]
    pub async fn delete_category(&self, store_id: Uuid, id: Uuid) -> Result<categories::Model> {
        let category = db::live::<categories::Entity, _>(&self.db, store_id, id).await?;
        let now = Utc::now();
        let txn = self.db.begin().await?;
        items::soft_delete_in_category(&txn, category.id, now).await?;
        let category = categories::soft_delete(&txn, category, now).await?;
        txn.commit().await?;
        Ok(category)
    }

    /// Adds an item to one of the store's live categories.
    #[tracing::instrument(skip_all, fields(%store_id))]
    pub async fn create_item(&self, store_id: Uuid, item: NewItem) -> Result<items::Model> {
        db::live::<categories::Entity, _>(&self.db, store_id, item.category_id).await?;
        items::insert(&self.db, store_id, item).await
    }

    #[tracing::instrument(skip_all, fields(%store_id, %id))]
    pub async fn update_item(
        &self,
        store_id: Uuid,
        id: Uuid,
        changes: ItemChanges,
    ) -> Result<items::Model> {
        let item = db::live::<items::Entity, _>(&self.db, store_id, id).await?;
        if let Some(category_id) = changes.category_id {
            db::live::<categories::Entity, _>(&self.db, store_id, category_id).await?;
        }
        items::update(&self.db, item, changes).await
    }

    #[tracing::instrument(skip_all, fields(%store_id, %id))]
    pub async fn delete_item(&self, store_id: Uuid, id: Uuid) -> Result<items::Model> {
        let item = db::live::<items::Entity, _>(&self.db, store_id, id).await?;
        items::soft_delete(&self.db, item, Utc::now()).await
    }

    // ---- reads ----

    pub async fn live_categories(&self, store_id: Uuid) -> Result<Vec<categories::Model>> {
        all_by_position(&self.db, db::live_of_store::<categories::Entity>(store_id)).await
    }

    pub async fn live_items(&self, store_id: Uuid) -> Result<Vec<items::Model>> {
        all_by_position(&self.db, db::live_of_store::<items::Entity>(store_id)).await
    }

    /// The live categories, each with its live items, all in creation
    /// order: the whole menu in two statements sent side by side, instead of
    /// the categories first and then their items.
    pub async fn live_menu(
        &self,
        store_id: Uuid,
    ) -> Result<Vec<(categories::Model, Vec<items::Model>)>> {
        let (categories, items) =
            tokio::try_join!(self.live_categories(store_id), self.live_items(store_id))?;
        let mut by_category: HashMap<Uuid, Vec<items::Model>> = HashMap::new();
        for item in items {
            by_category.entry(item.category_id).or_default().push(item);
        }
        Ok(categories
            .into_iter()
            .map(|category| {
                let items = by_category.remove(&category.id).unwrap_or_default();
                (category, items)
            })
            .collect())
    }

    /// The store's categories with these ids, deleted ones included.
    pub async fn categories_by_ids(
        &self,
        store_id: Uuid,
        ids: Vec<Uuid>,
    ) -> Result<Vec<categories::Model>> {
        all_by_position(&self.db, with_ids::<categories::Entity>(store_id, ids)).await
    }

    /// The store's items with these ids, deleted ones included.
    pub async fn items_by_ids(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<items::Model>> {
        all_by_position(&self.db, with_ids::<items::Entity>(store_id, ids)).await
    }

    pub async fn live_items_in_categories(
        &self,
        store_id: Uuid,
        category_ids: Vec<Uuid>,
    ) -> Result<Vec<items::Model>> {
        items::live_in_categories(&self.db, store_id, category_ids).await
    }
}

/// A deleted store's menu goes with it, for good.
#[async_trait]
impl StoreRows for Menu {
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        let items = salesync_common::db::delete_of_store::<items::Entity, _>(txn, store_id).await?;
        let categories =
            salesync_common::db::delete_of_store::<categories::Entity, _>(txn, store_id).await?;
        Ok(items + categories)
    }
}
