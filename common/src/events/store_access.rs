//! Who may still act for a store, as every subgraph learns it from
//! `salesync.stores`:
//!
//! - `StoreDeleted`: the subgraph removes the store's rows and lists the
//!   store in `deleted_stores`; its tokens are refused from then on, so a
//!   deleted store never writes again anywhere (nothing would remove it).
//! - `TokensRevoked` (after a password change): the store's tokens carry a
//!   generation (`gen`); the subgraph raises the store's floor in
//!   `token_floors`, and tokens below it are refused.
//!
//! A token stays signed until it expires; these two tables are what make a
//! signed token worthless sooner. The token verifier reads both in one
//! statement ([`check`]).

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{
    ActiveValue::Set,
    ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Event, consumer::Handler, types};
use crate::db::excluded;

/// A subgraph's rows of one store, removed when the store is deleted.
#[async_trait]
pub trait StoreRows: Send + Sync + 'static {
    /// Removes every row of `store_id` in `txn`; returns how many.
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> crate::Result<u64>;
}

/// The payload of `TokensRevoked`: tokens of an older generation than this
/// no longer act for the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokensRevoked {
    pub generation: i64,
}

/// The consumer of `StoreDeleted` and `TokensRevoked`: each applied in one
/// transaction with the event's id.
pub struct OnStoreAccess<R> {
    name: String,
    rows: R,
}

impl<R: StoreRows> OnStoreAccess<R> {
    /// The consumer of subgraph `service`.
    pub fn new(service: &str, rows: R) -> Self {
        OnStoreAccess {
            name: format!("{service}.store-access"),
            rows,
        }
    }
}

#[async_trait]
impl<R: StoreRows> Handler for OnStoreAccess<R> {
    fn name(&self) -> &str {
        &self.name
    }

    async fn handle(&self, txn: &DatabaseTransaction, event: &Event) -> anyhow::Result<()> {
        match event.event_type.as_str() {
            types::STORE_DELETED => {
                record_deleted(txn, event.store_id).await?;
                let removed = self.rows.remove(txn, event.store_id).await?;
                tracing::info!(consumer = %self.name, store_id = %event.store_id, removed, "removed a deleted store's rows");
            }
            types::TOKENS_REVOKED => {
                let revoked: TokensRevoked = serde_json::from_value(event.payload.clone())?;
                raise_floor(txn, event.store_id, revoked.generation).await?;
                tracing::info!(consumer = %self.name, store_id = %event.store_id, generation = revoked.generation, "refusing the store's older tokens");
            }
            _ => {}
        }
        Ok(())
    }
}

/// The `deleted_stores` table.
pub mod deleted {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "deleted_stores")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub store_id: Uuid,
        pub deleted_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `token_floors` table: per store, the oldest token generation still
/// accepted.
pub mod floors {
    use chrono::{DateTime, Utc};
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "token_floors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub store_id: Uuid,
        pub min_generation: i64,
        pub updated_at: DateTime<Utc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records `store_id` as deleted (again is fine).
pub async fn record_deleted<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<(), DbErr> {
    deleted::Entity::insert(deleted::ActiveModel {
        store_id: Set(store_id),
        deleted_at: Set(Utc::now()),
    })
    .on_conflict_do_nothing_on([deleted::Column::StoreId])
    .exec(db)
    .await?;
    Ok(())
}

/// Whether `store_id` was deleted.
pub async fn is_deleted<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<bool, DbErr> {
    Ok(deleted::Entity::find_by_id(store_id)
        .one(db)
        .await?
        .is_some())
}

/// Refuses `store_id`'s tokens older than `generation`. The floor only
/// rises: a late or repeated event never lowers it.
pub async fn raise_floor<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    generation: i64,
) -> Result<(), DbErr> {
    use floors::Column;
    let mut on_conflict = OnConflict::column(Column::StoreId);
    on_conflict
        .update_columns([Column::MinGeneration, Column::UpdatedAt])
        .action_and_where(
            Expr::col((floors::Entity, Column::MinGeneration)).lt(excluded(Column::MinGeneration)),
        );
    floors::Entity::insert(floors::ActiveModel {
        store_id: Set(store_id),
        min_generation: Set(generation),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(on_conflict)
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Whether a token of `generation` still acts for `store_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Granted,
    Deleted,
    Revoked,
}

#[derive(FromQueryResult)]
struct AccessRow {
    deleted: i64,
    min_generation: Option<i64>,
}

/// Checks a token's store and generation against both tables in one
/// statement: this runs on every authenticated request.
pub async fn check<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    generation: i64,
) -> Result<Access, DbErr> {
    let deleted = Query::select()
        .expr(Expr::col(deleted::Column::StoreId).count())
        .from(deleted::Entity)
        .and_where(Expr::col(deleted::Column::StoreId).eq(store_id))
        .to_owned();
    let floor = Query::select()
        .column(floors::Column::MinGeneration)
        .from(floors::Entity)
        .and_where(Expr::col(floors::Column::StoreId).eq(store_id))
        .to_owned();
    let statement = Query::select()
        .expr_as(
            Expr::SubQuery(None, Box::new(deleted.into())),
            Alias::new("deleted"),
        )
        .expr_as(
            Expr::SubQuery(None, Box::new(floor.into())),
            Alias::new("min_generation"),
        )
        .to_owned();
    let row = AccessRow::find_by_statement(db.get_database_backend().build(&statement))
        .one(db)
        .await?;
    Ok(match row {
        Some(AccessRow { deleted, .. }) if deleted > 0 => Access::Deleted,
        Some(AccessRow {
            min_generation: Some(floor),
            ..
        }) if generation < floor => Access::Revoked,
        _ => Access::Granted,
    })
}
