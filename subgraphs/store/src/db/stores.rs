//! The `stores` table and its queries.

use chrono::{DateTime, Utc};
use salesync_common::{Error, Result};
use sea_orm::{ActiveValue::Set, IntoActiveModel, entity::prelude::*};

use super::UQ_STORES_USERNAME;
use crate::domain::{NewStore, StoreChanges};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "stores")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub password_hash: String,
    pub owner_name: String,
    pub phone: String,
    pub name: String,
    pub address: String,
    pub store_type: String,
    pub table_count: i32,
    pub timezone: String,
    pub currency: String,
    /// The local hour at which the business day turns, 0-23.
    pub closeout_hour: i32,
    /// The generation new tokens carry; older ones are refused.
    pub token_generation: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

pub async fn by_username<C: ConnectionTrait>(db: &C, username: &str) -> Result<Option<Model>> {
    Ok(Entity::find()
        .filter(Column::Username.eq(username))
        .one(db)
        .await?)
}

/// Inserts a new store; a taken username is `CONFLICT` (the unique index
/// decides, so two sign-ups racing for one name cannot both win).
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    store: NewStore,
    password_hash: String,
) -> Result<Model> {
    let now = Utc::now();
    ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(store.username.as_str().to_string()),
        password_hash: Set(password_hash),
        owner_name: Set(store.owner_name),
        phone: Set(store.phone),
        name: Set(store.name),
        address: Set(store.address),
        store_type: Set(store.store_type),
        table_count: Set(store.table_count),
        timezone: Set(store.timezone),
        currency: Set(store.currency),
        closeout_hour: Set(0),
        token_generation: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|e| {
        if UQ_STORES_USERNAME.is_violated_by(&e) {
            Error::conflict("this username is taken")
        } else {
            Error::from(e)
        }
    })
}

/// Applies `changes` to `store`.
pub async fn update<C: ConnectionTrait>(
    db: &C,
    store: Model,
    changes: StoreChanges,
) -> Result<Model> {
    let mut row = store.into_active_model();
    let StoreChanges {
        owner_name,
        phone,
        name,
        address,
        store_type,
        table_count,
        timezone,
        closeout_hour,
    } = changes;
    if let Some(v) = owner_name {
        row.owner_name = Set(v);
    }
    if let Some(v) = phone {
        row.phone = Set(v);
    }
    if let Some(v) = name {
        row.name = Set(v);
    }
    if let Some(v) = address {
        row.address = Set(v);
    }
    if let Some(v) = store_type {
        row.store_type = Set(v);
    }
    if let Some(v) = table_count {
        row.table_count = Set(v);
    }
    if let Some(v) = timezone {
        row.timezone = Set(v);
    }
    if let Some(v) = closeout_hour {
        row.closeout_hour = Set(v);
    }
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

/// Sets the password and starts a new token generation.
pub async fn set_password_hash<C: ConnectionTrait>(
    db: &C,
    store: Model,
    password_hash: String,
) -> Result<Model> {
    let generation = store.token_generation + 1;
    let mut row = store.into_active_model();
    row.password_hash = Set(password_hash);
    row.token_generation = Set(generation);
    row.updated_at = Set(Utc::now());
    Ok(row.update(db).await?)
}

pub async fn delete<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<()> {
    Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}
