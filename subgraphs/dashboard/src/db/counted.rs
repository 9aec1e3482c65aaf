//! The `counted_sales` and `counted_refunds` tables: each sale and refund
//! the read model has counted, once. Whether an event is applied is decided
//! here, by the sale's or refund's own id, so a redelivered event, a replay
//! and a rebuild that overlaps the live consumer never count one twice.

use chrono::NaiveDate;
use salesync_common::Result;
use sea_orm::{ActiveValue::Set, entity::prelude::*, sea_query::OnConflict};

pub mod sales {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "counted_sales")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub sale_id: Uuid,
        pub store_id: Uuid,
        pub business_date: Date,
        pub amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    salesync_common::store_scoped!(StoreId, SaleId);
}

pub mod refunds {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "counted_refunds")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub refund_id: Uuid,
        pub store_id: Uuid,
        pub business_date: Date,
        pub amount: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    salesync_common::store_scoped!(StoreId, RefundId);
}

/// One counted sale or refund: its id, day and amount.
pub type Counted = (Uuid, NaiveDate, i64);

/// Records sales as counted; returns how many were new (a sale counted
/// before is left as it is).
pub async fn sales<C: ConnectionTrait>(db: &C, store_id: Uuid, rows: &[Counted]) -> Result<u64> {
    let mut new = 0;
    for chunk in rows.chunks(super::CHUNK) {
        new += sales::Entity::insert_many(chunk.iter().map(|&(sale_id, day, amount)| {
            sales::ActiveModel {
                sale_id: Set(sale_id),
                store_id: Set(store_id),
                business_date: Set(day),
                amount: Set(amount),
            }
        }))
        .on_conflict(
            OnConflict::column(sales::Column::SaleId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(new)
}

/// Records refunds as counted; returns how many were new.
pub async fn refunds<C: ConnectionTrait>(db: &C, store_id: Uuid, rows: &[Counted]) -> Result<u64> {
    let mut new = 0;
    for chunk in rows.chunks(super::CHUNK) {
        new += refunds::Entity::insert_many(chunk.iter().map(|&(refund_id, day, amount)| {
            refunds::ActiveModel {
                refund_id: Set(refund_id),
                store_id: Set(store_id),
                business_date: Set(day),
                amount: Set(amount),
            }
        }))
        .on_conflict(
            OnConflict::column(refunds::Column::RefundId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(new)
}
