//! The `categories` table and its queries.

use chrono::{DateTime, Utc};
use salesync_common::{Error, Result};
use sea_orm::{ActiveValue::Set, IntoActiveModel, entity::prelude::*};

use super::{MenuTable, UQ_CATEGORIES_STORE_NAME};
use crate::domain::Name;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "categories")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub name: String,
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
    name: Name,
    created_at: CreatedAt,
    updated_at: UpdatedAt,
    deleted_at: DeletedAt,
);

impl MenuTable for Entity {
    const WHAT: &'static str = "category";
    fn deleted_at() -> Column {
        Column::DeletedAt
    }
    fn created_at() -> Column {
        Column::CreatedAt
    }
}

pub async fn insert<C: ConnectionTrait>(db: &C, store_id: Uuid, name: Name) -> Result<Model> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        store_id: Set(store_id),
        name: Set(name.into_inner()),
        created_at: Set(now),
        updated_at: Set(now),
        deleted_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(name_conflict)
}

pub async fn rename<C: ConnectionTrait>(db: &C, category: Model, name: Name) -> Result<Model> {
    let mut row = category.into_active_model();
    row.name = Set(name.into_inner());
    row.updated_at = Set(Utc::now());
    row.update(db).await.map_err(name_conflict)
}

pub async fn soft_delete<C: ConnectionTrait>(
    db: &C,
    category: Model,
    now: DateTime<Utc>,
) -> Result<Model> {
    let mut row = category.into_active_model();
    row.deleted_at = Set(Some(now));
    row.updated_at = Set(now);
    Ok(row.update(db).await?)
}

fn name_conflict(error: DbErr) -> Error {
    if UQ_CATEGORIES_STORE_NAME.is_violated_by(&error) {
        Error::conflict("the menu already has a category with this name")
    } else {
        error.into()
    }
}
