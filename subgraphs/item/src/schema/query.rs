use std::{collections::HashSet, sync::Arc};

use async_graphql::{Context, ID, Object};
use salesync_common::{Error, Result, auth::CallerExt, input, loader::Scoped};
use uuid::Uuid;

use super::{
    ItemState,
    types::{Category, Item},
};

pub struct Query;

#[Object]
impl Query {
    /// The caller's live categories, in creation order.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        live_categories(ctx, ctx.store_id()?).await
    }

    /// One of the caller's categories, deleted ones included; null if none has this id.
    async fn category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's id.")] id: ID,
    ) -> Result<Option<Category>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&id, "category") else {
            return Ok(None);
        };
        load_category(ctx, Scoped { store_id, id }).await
    }

    /// The caller's live items, in creation order.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<Item>> {
        live_items(ctx, ctx.store_id()?).await
    }

    /// One of the caller's items, deleted ones included; null if none has this id.
    async fn item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
    ) -> Result<Option<Item>> {
        let store_id = ctx.store_id()?;
        let Ok(id) = input::id(&id, "item") else {
            return Ok(None);
        };
        load_item(ctx, Scoped { store_id, id }).await
    }

    /// Resolves a `Store` reference to its menu: only the caller's own store.
    #[graphql(entity)]
    async fn find_store_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<StoreMenu> {
        Ok(StoreMenu {
            store_id: ctx.own_store(&id)?,
        })
    }

    /// Resolves a `Category` reference of the caller's store.
    #[graphql(entity)]
    async fn find_category_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Category> {
        let key = Scoped {
            store_id: ctx.store_id()?,
            id: input::id(&id, "category")?,
        };
        load_category(ctx, key)
            .await?
            .ok_or_else(|| Error::not_found("no such category"))
    }

    /// Resolves an `Item` reference of the caller's store (deleted ones too:
    /// past orders name them).
    #[graphql(entity)]
    async fn find_item_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Item> {
        let key = Scoped {
            store_id: ctx.store_id()?,
            id: input::id(&id, "item")?,
        };
        load_item(ctx, key)
            .await?
            .ok_or_else(|| Error::not_found("no such item"))
    }
}

/// A store's menu, as this subgraph contributes it to `Store`.
pub struct StoreMenu {
    store_id: Uuid,
}

/// A store (owned by the store subgraph); here, its menu.
#[Object(name = "Store")]
impl StoreMenu {
    /// The store's opaque id.
    async fn id(&self) -> ID {
        ID(self.store_id.to_string())
    }

    /// The menu's live categories, in creation order.
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        live_categories(ctx, self.store_id).await
    }

    /// The menu's live items, in creation order.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<Item>> {
        live_items(ctx, self.store_id).await
    }
}

async fn live_categories(ctx: &Context<'_>, store_id: Uuid) -> Result<Vec<Category>> {
    let menu = &ctx.data_unchecked::<ItemState>().menu;
    if !ctx.look_ahead().field("items").exists() {
        let rows = menu.live_categories(store_id).await?;
        return Ok(rows.into_iter().map(Category::from).collect());
    }
    Ok(menu
        .live_menu(store_id)
        .await?
        .into_iter()
        .map(|(category, items)| Category {
            known_items: Some(items.into()),
            ..Category::from(category)
        })
        .collect())
}

async fn live_items(ctx: &Context<'_>, store_id: Uuid) -> Result<Vec<Item>> {
    let state = ctx.data_unchecked::<ItemState>();
    let rows = state.menu.live_items(store_id).await?;
    let mut items: Vec<Item> = rows.into_iter().map(Item::from).collect();
    if ctx.look_ahead().field("category").exists() {
        attach_categories(state, store_id, &mut items).await?;
    }
    Ok(items)
}

/// Loads the categories of `items` in one statement and hands each item its
/// own, so a long list asking for `category` does not depend on how many
/// lookups happen to fall into one dataloader batch.
async fn attach_categories(state: &ItemState, store_id: Uuid, items: &mut [Item]) -> Result<()> {
    let keys: HashSet<Scoped> = items
        .iter()
        .map(|item| Scoped {
            store_id,
            id: item.category_id,
        })
        .collect();
    let categories = state.loaders.categories.load_many(keys).await?;
    for item in items {
        let key = Scoped {
            store_id,
            id: item.category_id,
        };
        item.known_category = categories.get(&key).cloned().map(|c| Arc::new(c.into()));
    }
    Ok(())
}

async fn load_category(ctx: &Context<'_>, key: Scoped) -> Result<Option<Category>> {
    let state = ctx.data_unchecked::<ItemState>();
    Ok(state
        .loaders
        .categories
        .load_one(key)
        .await?
        .map(Category::from))
}

async fn load_item(ctx: &Context<'_>, key: Scoped) -> Result<Option<Item>> {
    let state = ctx.data_unchecked::<ItemState>();
    Ok(state.loaders.items.load_one(key).await?.map(Item::from))
}
