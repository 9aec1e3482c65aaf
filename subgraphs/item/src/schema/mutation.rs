use async_graphql::{Context, ID, Object};
use chrono::Utc;
use salesync_common::{Error, Result, auth::CallerExt};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    ItemState,
    types::{Category, CreateItemInput, Item, UpdateItemInput},
};
use crate::{
    db::{UQ_CATEGORIES_STORE_NAME, UQ_ITEMS_CATEGORY_NAME, categories, items},
    domain::{self, Name},
};

pub struct Mutation;

#[Object]
impl Mutation {
    /// Adds a category to the menu.
    #[tracing::instrument(skip_all)]
    async fn create_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1–100 characters, unique among the store's categories.")] name: String,
    ) -> Result<Category> {
        let state = ctx.data_unchecked::<ItemState>();
        let store_id = ctx.store_id()?;
        let name = Name::parse("name", &name)?;
        let now = Utc::now();
        let row = categories::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(store_id),
            name: Set(name.into_inner()),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
        }
        .insert(&state.db)
        .await
        .map_err(category_conflict)?;
        Ok(row.into())
    }

    /// Renames one of the caller's categories.
    #[tracing::instrument(skip_all)]
    async fn rename_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's id.")] id: ID,
        #[graphql(desc = "1–100 characters, unique among the store's categories.")] name: String,
    ) -> Result<Category> {
        let state = ctx.data_unchecked::<ItemState>();
        let row = live_category(&state.db, ctx.store_id()?, &id).await?;
        let name = Name::parse("name", &name)?;
        let mut row = row.into_active_model();
        row.name = Set(name.into_inner());
        row.updated_at = Set(Utc::now());
        Ok(row
            .update(&state.db)
            .await
            .map_err(category_conflict)?
            .into())
    }

    /// Removes a category and its items from the menu. Past orders still
    /// resolve them.
    #[tracing::instrument(skip_all)]
    async fn delete_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The category's id.")] id: ID,
    ) -> Result<ID> {
        let state = ctx.data_unchecked::<ItemState>();
        let category = live_category(&state.db, ctx.store_id()?, &id).await?;
        let now = Utc::now();
        let txn = state.db.begin().await?;
        items::Entity::update_many()
            .col_expr(items::Column::DeletedAt, Expr::value(now))
            .col_expr(items::Column::UpdatedAt, Expr::value(now))
            .filter(items::Column::CategoryId.eq(category.id))
            .filter(items::Column::DeletedAt.is_null())
            .exec(&txn)
            .await?;
        let mut row = category.into_active_model();
        row.deleted_at = Set(Some(now));
        row.updated_at = Set(now);
        let row = row.update(&txn).await?;
        txn.commit().await?;
        Ok(ID(row.id.to_string()))
    }

    /// Adds an item to one of the caller's categories.
    #[tracing::instrument(skip_all)]
    async fn create_item(&self, ctx: &Context<'_>, input: CreateItemInput) -> Result<Item> {
        let state = ctx.data_unchecked::<ItemState>();
        let store_id = ctx.store_id()?;
        let name = Name::parse("input.name", &input.name)?;
        let price = domain::price("input.price", input.price)?;
        let description = domain::description("input.description", input.description.as_deref())?;
        let category = live_category(&state.db, store_id, &input.category_id).await?;
        let now = Utc::now();
        let row = items::ActiveModel {
            id: Set(Uuid::now_v7()),
            store_id: Set(store_id),
            category_id: Set(category.id),
            name: Set(name.into_inner()),
            price: Set(price),
            description: Set(description),
            sold_out: Set(false),
            created_at: Set(now),
            updated_at: Set(now),
            deleted_at: Set(None),
        }
        .insert(&state.db)
        .await
        .map_err(item_conflict)?;
        Ok(row.into())
    }

    /// Changes one of the caller's items: name, price, description, category
    /// or the sold-out flag.
    #[tracing::instrument(skip_all)]
    async fn update_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
        input: UpdateItemInput,
    ) -> Result<Item> {
        let state = ctx.data_unchecked::<ItemState>();
        let store_id = ctx.store_id()?;
        let item = live_item(&state.db, store_id, &id).await?;
        let mut row = item.into_active_model();
        if let Some(name) = &input.name {
            row.name = Set(Name::parse("input.name", name)?.into_inner());
        }
        if let Some(price) = input.price {
            row.price = Set(domain::price("input.price", price)?);
        }
        if let Some(description) = &input.description {
            row.description = Set(domain::description("input.description", Some(description))?);
        }
        if let Some(sold_out) = input.sold_out {
            row.sold_out = Set(sold_out);
        }
        if let Some(category_id) = &input.category_id {
            row.category_id = Set(live_category(&state.db, store_id, category_id).await?.id);
        }
        row.updated_at = Set(Utc::now());
        Ok(row.update(&state.db).await.map_err(item_conflict)?.into())
    }

    /// Removes an item from the menu. Past orders still resolve it.
    #[tracing::instrument(skip_all)]
    async fn delete_item(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The item's id.")] id: ID,
    ) -> Result<ID> {
        let state = ctx.data_unchecked::<ItemState>();
        let item = live_item(&state.db, ctx.store_id()?, &id).await?;
        let now = Utc::now();
        let mut row = item.into_active_model();
        row.deleted_at = Set(Some(now));
        row.updated_at = Set(now);
        let row = row.update(&state.db).await?;
        Ok(ID(row.id.to_string()))
    }
}

/// A live category of the store, or NOT_FOUND (another store's id included).
async fn live_category(
    db: &DatabaseConnection,
    store_id: Uuid,
    id: &ID,
) -> Result<categories::Model> {
    let id = domain::id(id, "category")?;
    categories::Entity::find_by_id(id)
        .filter(categories::Column::StoreId.eq(store_id))
        .filter(categories::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("no such category"))
}

/// A live item of the store, or NOT_FOUND.
async fn live_item(db: &DatabaseConnection, store_id: Uuid, id: &ID) -> Result<items::Model> {
    let id = domain::id(id, "item")?;
    items::Entity::find_by_id(id)
        .filter(items::Column::StoreId.eq(store_id))
        .filter(items::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or_else(|| Error::not_found("no such item"))
}

fn category_conflict(error: DbErr) -> Error {
    if UQ_CATEGORIES_STORE_NAME.is_violated_by(&error) {
        Error::conflict("the menu already has a category with this name")
    } else {
        error.into()
    }
}

fn item_conflict(error: DbErr) -> Error {
    if UQ_ITEMS_CATEGORY_NAME.is_violated_by(&error) {
        Error::conflict("this category already has an item with this name")
    } else {
        error.into()
    }
}
