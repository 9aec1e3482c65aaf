use async_graphql::{Context, ID, Object};
use salesync_common::{Result, auth::CallerExt, input};

use super::{
    ItemState,
    types::{Category, CreateItemInput, Item, UpdateItemInput},
};
use crate::domain::Name;

pub struct Mutation;

#[Object]
impl Mutation {
    /// Adds a category to the menu.
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1–100 characters, unique among the store's categories.")] name: String,
    ) -> Result<Category> {
        let name = Name::parse("name", &name)?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        Ok(menu.create_category(ctx.store_id()?, name).await?.into())
    }

    /// Renames one of the caller's categories.
    async fn rename_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's id.")] id: ID,
        #[graphql(desc = "1–100 characters, unique among the store's categories.")] name: String,
    ) -> Result<Category> {
        let id = input::id(&id, "category")?;
        let name = Name::parse("name", &name)?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        Ok(menu
            .rename_category(ctx.store_id()?, id, name)
            .await?
            .into())
    }

    /// Removes a category and its items from the menu. Past orders still
    /// resolve them.
    async fn delete_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's id.")] id: ID,
    ) -> Result<ID> {
        let id = input::id(&id, "category")?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        let deleted = menu.delete_category(ctx.store_id()?, id).await?;
        Ok(ID(deleted.id.to_string()))
    }

    /// Adds an item to one of the caller's categories.
    async fn create_item(&self, ctx: &Context<'_>, input: CreateItemInput) -> Result<Item> {
        let item = input.try_into()?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        Ok(menu.create_item(ctx.store_id()?, item).await?.into())
    }

    /// Changes one of the caller's items: name, price, description, category
    /// or the sold-out flag.
    async fn update_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
        input: UpdateItemInput,
    ) -> Result<Item> {
        let id = input::id(&id, "item")?;
        let changes = input.try_into()?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        Ok(menu.update_item(ctx.store_id()?, id, changes).await?.into())
    }

    /// Removes an item from the menu. Past orders still resolve it.
    async fn delete_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
    ) -> Result<ID> {
        let id = input::id(&id, "item")?;
        let menu = &ctx.data_unchecked::<ItemState>().menu;
        let deleted = menu.delete_item(ctx.store_id()?, id).await?;
        Ok(ID(deleted.id.to_string()))
    }
}
