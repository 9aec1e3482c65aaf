//! The `sales` table and its queries.

use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::{
    Result,
    db::{is_fixed, of_store},
};
use sea_orm::{
    QueryOrder, QuerySelect, QueryTrait,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait, InsertStatement, UpdateStatement},
};

use super::{UQ_SALES_ORDER_LIVE, UQ_SALES_STORE_KEY};
use crate::domain::SaleState;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub idempotency_key: String,
    pub request_hash: String,
    pub table_no: i32,
    pub order_id: Uuid,
    pub order_version: i32,
    pub amount: i64,
    pub refunded_amount: i64,
    pub status: SaleState,
    pub version: i32,
    pub business_date: Option<NaiveDate>,
    pub paid_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, Id);

/// Inserts a pending sale. It fails, as [`taken`] tells, where another
/// checkout holds this key or this order (the unique indexes decide).
pub fn pending(sale: &Model) -> InsertStatement {
    Entity::insert(ActiveModel::from(sale.clone())).into_query()
}

/// Whether the writes of a checkout failed because another checkout holds
/// its key or its order.
pub fn taken(e: &DbErr) -> bool {
    UQ_SALES_STORE_KEY.is_violated_by(e) || UQ_SALES_ORDER_LIVE.is_violated_by(e)
}

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

pub async fn by_id<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Model>> {
    Ok(Entity::find_by_id(id).one(db).await?)
}

/// Moves a pending sale on: to COMPLETED once paid, or ABANDONED. False
/// when it was no longer pending (another request or recovery got there first).
pub async fn settle<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    state: SaleState,
    paid: Option<(NaiveDate, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let updated = db.execute(&settling(id, state, paid, now)).await?;
    Ok(updated.rows_affected() == 1)
}

/// The statement of [`settle`]: it writes no row when the sale was no
/// longer pending.
pub fn settling(
    id: Uuid,
    state: SaleState,
    paid: Option<(NaiveDate, DateTime<Utc>)>,
    now: DateTime<Utc>,
) -> UpdateStatement {
    Entity::update_many()
        .col_expr(Column::Status, Expr::value(state))
        .col_expr(Column::BusinessDate, Expr::value(paid.map(|p| p.0)))
        .col_expr(Column::PaidAt, Expr::value(paid.map(|p| p.1)))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(SaleState::Pending))
        .into_query()
}

/// Records a refund on the sale if it is still at `version`: the statement
/// writes no row when another refund came first.
pub fn refunding(
    sale: &Model,
    refunded_amount: i64,
    state: SaleState,
    now: DateTime<Utc>,
) -> UpdateStatement {
    Entity::update_many()
        .col_expr(Column::RefundedAmount, Expr::value(refunded_amount))
        .col_expr(Column::Status, Expr::value(state))
        .col_expr(Column::Version, Expr::value(sale.version + 1))
        .col_expr(Column::UpdatedAt, Expr::value(now))
        .filter(Column::Id.eq(sale.id))
        .filter(Column::Version.eq(sale.version))
        .into_query()
}

/// Every store's sales still pending since before `cutoff`: recovery's work.
pub async fn pending_before<C: ConnectionTrait>(
    db: &C,
    cutoff: DateTime<Utc>,
) -> Result<Vec<Model>> {
    Ok(pending_before_query(cutoff).all(db).await?)
}

/// The query of [`pending_before`], which the index of pending sales
/// (`ix_sales_pending`) serves in every plan: recovery runs it every half
/// minute, and it must not grow with the sales completed.
pub fn pending_before_query(cutoff: DateTime<Utc>) -> Select<Entity> {
    Entity::find()
        .filter(is_fixed(Column::Status, SaleState::Pending))
        .filter(Column::CreatedAt.lt(cutoff))
        .order_by_asc(Column::CreatedAt)
}

/// The store's paid sales of business days `from..=to`, oldest first.
pub async fn paid_on_days<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::Status.is_in(SaleState::PAID))
        .filter(Column::BusinessDate.between(from, to))
        .order_by_asc(Column::PaidAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// A page of the store's paid sales, in id order, after `after`.
pub async fn paid_after<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Model>> {
    let mut query = of_store::<Entity>(store_id).filter(Column::Status.is_in(SaleState::PAID));
    if let Some(after) = after {
        query = query.filter(Column::Id.gt(after));
    }
    Ok(query.order_by_asc(Column::Id).limit(limit).all(db).await?)
}

/// Every store that has a paid sale.
pub async fn stores_with_sales<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>> {
    Ok(Entity::find()
        .select_only()
        .column(Column::StoreId)
        .distinct()
        .filter(Column::Status.is_in(SaleState::PAID))
        .into_tuple()
        .all(db)
        .await?)
}

/// The store's paid sales of these orders.
pub async fn paid_for_orders<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    order_ids: Vec<Uuid>,
) -> Result<Vec<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::Status.is_in(SaleState::PAID))
        .filter(Column::OrderId.is_in(order_ids))
        .all(db)
        .await?)
}
