//! The `refunds` table: what was given back, when and how.

use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::{Result, db::of_store};
use sea_orm::{QueryOrder, QueryTrait, entity::prelude::*, sea_query::InsertStatement};

use super::UQ_REFUNDS_STORE_KEY;
use crate::domain::PaymentMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refunds")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    pub store_id: Uuid,
    pub idempotency_key: String,
    pub request_hash: String,
    pub amount: i64,
    pub method: PaymentMethod,
    pub reason: Option<String>,
    /// `Vec<RefundedLine>` as JSON.
    pub lines: String,
    pub business_date: NaiveDate,
    pub created_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, Id);

pub async fn by_key<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    key: &str,
) -> Result<Option<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

/// Inserts a refund. It fails, as [`taken`] tells, where another request
/// took its key first.
pub fn insertion(refund: &Model) -> InsertStatement {
    Entity::insert(ActiveModel::from(refund.clone())).into_query()
}

/// Whether the writes of a refund failed because another refund holds its
/// key.
pub fn taken(e: &DbErr) -> bool {
    UQ_REFUNDS_STORE_KEY.is_violated_by(e)
}

pub async fn of_sales<C: ConnectionTrait>(db: &C, sale_ids: Vec<Uuid>) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::SaleId.is_in(sale_ids))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}

/// The store's refunds of business days `from..=to`.
pub async fn on_days<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::BusinessDate.between(from, to))
        .order_by_asc(Column::CreatedAt)
        .all(db)
        .await?)
}
