use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::{Error, Result, input, loader::Scoped, scalars::Money};
use uuid::Uuid;

use super::ItemState;
use crate::{
    db::{categories, items},
    domain::{self, ItemChanges, Name, NewItem},
};

/// A section of the menu, such as "Drinks".
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Category {
    /// The category's opaque id.
    pub id: ID,
    /// The category's name, unique among the store's live categories.
    pub name: String,
    /// When the category was created.
    pub created_at: DateTime<Utc>,
    /// Whether the category was deleted. Deleted categories leave the menu
    /// but still resolve for past orders and reports.
    pub deleted: bool,
    #[graphql(skip)]
    pub key: Scoped,
    /// The live items, when the list that produced this category loaded
    /// them (shared: cloning a category does not copy them).
    #[graphql(skip)]
    pub known_items: Option<Arc<[items::Model]>>,
}

#[ComplexObject]
impl Category {
    /// The category's live items, in creation order.
    async fn items(&self, ctx: &Context<'_>) -> Result<Vec<Item>> {
        let rows = match &self.known_items {
            Some(rows) => rows.to_vec(),
            None => ctx
                .data_unchecked::<ItemState>()
                .loaders
                .category_items
                .load_one(self.key)
                .await?
                .unwrap_or_default(),
        };
        // These items' category is this one: hand it down, one copy for
        // all of them, instead of loading it again.
        let category = Arc::new(Category {
            known_items: None,
            ..self.clone()
        });
        Ok(rows
            .into_iter()
            .map(|row| Item {
                known_category: Some(category.clone()),
                ..Item::from(row)
            })
            .collect())
    }
}

impl From<categories::Model> for Category {
    fn from(row: categories::Model) -> Self {
        Category {
            id: ID(row.id.to_string()),
            name: row.name,
            created_at: row.created_at,
            deleted: row.deleted_at.is_some(),
            key: Scoped {
                store_id: row.store_id,
                id: row.id,
            },
            known_items: None,
        }
    }
}

/// Something on the menu that can be ordered.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Item {
    /// The item's opaque id.
    pub id: ID,
    /// The item's name, unique among its category's live items.
    pub name: String,
    /// The current price. Orders keep the price they were placed at.
    pub price: Money,
    /// What the guest should know about the item.
    pub description: Option<String>,
    /// Whether the item is out of stock: it stays on the menu but cannot be ordered.
    pub sold_out: bool,
    /// When the item was created.
    pub created_at: DateTime<Utc>,
    /// Whether the item was deleted. Deleted items leave the menu but still
    /// resolve for past orders and reports.
    pub deleted: bool,
    #[graphql(skip)]
    pub store_id: Uuid,
    #[graphql(skip)]
    pub category_id: Uuid,
    /// The category, when the item was reached through it.
    #[graphql(skip)]
    pub known_category: Option<Arc<Category>>,
}

#[ComplexObject]
impl Item {
    /// The category the item is listed under.
    async fn category(&self, ctx: &Context<'_>) -> Result<Category> {
        if let Some(category) = &self.known_category {
            return Ok(Category::clone(category));
        }
        let state = ctx.data_unchecked::<ItemState>();
        let key = Scoped {
            store_id: self.store_id,
            id: self.category_id,
        };
        state
            .loaders
            .categories
            .load_one(key)
            .await?
            .map(Category::from)
            .ok_or_else(|| Error::internal(anyhow::anyhow!("item {} has no category", self.id.0)))
    }
}

impl From<items::Model> for Item {
    fn from(row: items::Model) -> Self {
        Item {
            id: ID(row.id.to_string()),
            name: row.name,
            price: Money(row.price),
            description: row.description,
            sold_out: row.sold_out,
            created_at: row.created_at,
            deleted: row.deleted_at.is_some(),
            store_id: row.store_id,
            category_id: row.category_id,
            known_category: None,
        }
    }
}

/// A new menu item.
#[derive(Debug, InputObject)]
pub struct CreateItemInput {
    /// The category to list it under: one of the caller's live categories.
    pub category_id: ID,
    /// 1–100 characters, unique within the category.
    pub name: String,
    /// 0 to 100,000,000 in the currency's smallest unit.
    pub price: Money,
    /// Up to 500 characters.
    pub description: Option<String>,
}

/// Changes to an item; absent fields stay as they are.
#[derive(Debug, InputObject)]
pub struct UpdateItemInput {
    /// A new name, unique within the item's category.
    pub name: Option<String>,
    /// A new price. Existing orders keep theirs.
    pub price: Option<Money>,
    /// A new description; an empty string removes it.
    pub description: Option<String>,
    /// Moves the item to another of the caller's live categories.
    pub category_id: Option<ID>,
    /// Marks the item sold out (true) or available again (false).
    pub sold_out: Option<bool>,
}

impl TryFrom<CreateItemInput> for NewItem {
    type Error = Error;

    fn try_from(input: CreateItemInput) -> Result<Self> {
        Ok(NewItem {
            name: Name::parse("input.name", &input.name)?,
            price: domain::price("input.price", input.price)?,
            description: match &input.description {
                Some(raw) => domain::description("input.description", raw)?,
                None => None,
            },
            category_id: input::id(&input.category_id, "category")?,
        })
    }
}

impl TryFrom<UpdateItemInput> for ItemChanges {
    type Error = Error;

    fn try_from(input: UpdateItemInput) -> Result<Self> {
        Ok(ItemChanges {
            name: input
                .name
                .map(|name| Name::parse("input.name", &name))
                .transpose()?,
            price: input
                .price
                .map(|price| domain::price("input.price", price))
                .transpose()?,
            description: input
                .description
                .map(|raw| domain::description("input.description", &raw))
                .transpose()?,
            category_id: input
                .category_id
                .map(|id| input::id(&id, "category"))
                .transpose()?,
            sold_out: input.sold_out,
        })
    }
}
