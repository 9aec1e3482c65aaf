//! The `items` table and its queries.

use chrono::{DateTime, Utc};
use salesync_common::{Error, Result, db::all_by_position};
use sea_orm::{ActiveValue::Set, IntoActiveModel, entity::prelude::*, sea_query::Expr};

use super::{MenuTable, UQ_ITEMS_CATEGORY_NAME, live_of_store};
use crate::domain::{ItemChanges, NewItem};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub category_id: Uuid,
    pub name: String,
    pub price: i64,
    pub description: Option<String>,
    pub sold_out: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, Id);

salesync_common::read_by_position!(
    id: Id,
    store_id: StoreId,
    category_id: CategoryId,
    name: Name,
    price: Price,
    description: Description,
    sold_out: SoldOut,
    created_at: CreatedAt,
    updated_at: UpdatedAt,
    deleted_at: DeletedAt,
);

impl MenuTable for Entity {
    const WHAT: &'static str = "item";
    fn deleted_at() -> Column {
        Column::DeletedAt
    }
    fn created_at() -> Column {
        Column::CreatedAt
    }
}

/// The live items of these categories of the store, in creation order.
pub async fn live_in_categories<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    category_ids: Vec<Uuid>,
) -> Result<Vec<Model>> {
    all_by_position(
        db,
        live_of_store::<Entity>(store_id).filter(Column::CategoryId.is_in(category_ids)),
    )
    .await
}

pub async fn insert<C: ConnectionTrait>(db: &C, store_id: Uuid, item: NewItem) -> Result<Model> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        category_id: Set(item.category_id),
        name: Set(item.name.into_inner()),
        price: Set(item.price),
        description: Set(item.description),
        sold_out: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(name_conflict)
}

pub async fn update<C: ConnectionTrait>(
    db: &C,
    item: Model,
    changes: ItemChanges,
) -> Result<Model> {
    let mut row = item.into_active_model();
    if let Some(name) = changes.name {
        row.name = Set(name.into_inner());
    }
    if let Some(price) = changes.price {
        row.price = Set(price);
    }
    if let Some(description) = changes.description {
        row.description = Set(description);
    }
    if let Some(sold_out) = changes.sold_out {
        row.sold_out = Set(sold_out);
    }
    if let Some(category_id) = changes.category_id {
        row.category_id = Set(category_id);
    }
    row.updated_at = Set(Utc::now());
    row.update(db).await.map_err(name_conflict)
}

pub async fn soft_delete<C: ConnectionTrait>(
    db: &C,
    item: Model,
    now: DateTime<Utc>,
) -> Result<Model> {
    let mut row = item.into_active_model();
    row.deleted_at = Set(Some(now));
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

/// Marks every live item of a category deleted.
pub async fn soft_delete_in_category<C: ConnectionTrait>(
    db: &C,
    category_id: Uuid,
    now: DateTime<Utc>,
) -> Result<()> {
    Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(now))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::CategoryId.eq(category_id))
        .filter(Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

fn name_conflict(error: DbErr) -> Error {
    if UQ_ITEMS_CATEGORY_NAME.is_violated_by(&error) {
        Error::conflict("this category already has an item with this name")
    } else {
        error.into()
    }
}
