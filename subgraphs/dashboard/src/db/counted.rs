//! The `counted_sales` and `counted_refunds` tables: each sale and refund
//! the read model has counted, once. Whether an event is applied is decided
//! here, by the sale's or refund's own id, so a redelivered event, a replay
//! and a rebuild that overlaps the live consumer never count one twice.

use std::collections::HashSet;

use chrono::NaiveDate;
use salesync_common::Result;
use sea_orm::{ActiveValue::Set, IntoActiveModel, entity::prelude::*, sea_query::OnConflict};

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

/// Records sales as counted; returns the ids of those that were new (a sale
/// counted before is left as it is).
pub async fn sales<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    rows: &[Counted],
) -> Result<HashSet<Uuid>> {
    let rows = rows
        .iter()
        .map(|&(sale_id, day, amount)| sales::ActiveModel {
            sale_id: Set(sale_id),
            store_id: Set(store_id),
            business_date: Set(day),
            amount: Set(amount),
        });
    insert_new(db, rows.collect(), sales::Column::SaleId).await
}

/// Records refunds as counted; returns the ids of those that were new.
pub async fn refunds<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    rows: &[Counted],
) -> Result<HashSet<Uuid>> {
    let rows = rows
        .iter()
        .map(|&(refund_id, day, amount)| refunds::ActiveModel {
            refund_id: Set(refund_id),
            store_id: Set(store_id),
            business_date: Set(day),
            amount: Set(amount),
        });
    insert_new(db, rows.collect(), refunds::Column::RefundId).await
}

/// Inserts `rows` but those whose `id` is there already, a thousand to a
/// statement; returns the ids inserted.
async fn insert_new<A, C>(
    db: &C,
    rows: Vec<A>,
    id: <A::Entity as EntityTrait>::Column,
) -> Result<HashSet<Uuid>>
where
    A: ActiveModelTrait + Clone + Send,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    <<A::Entity as EntityTrait>::PrimaryKey as PrimaryKeyTrait>::ValueType: Into<Uuid>,
    C: ConnectionTrait,
{
    let mut new = HashSet::with_capacity(rows.len());
    for chunk in rows.chunks(super::CHUNK) {
        let inserted = <A::Entity as EntityTrait>::insert_many(chunk.iter().cloned())
            .on_conflict(OnConflict::column(id).do_nothing().to_owned())
            .exec_with_returning_keys(db)
            .await?;
        new.extend(inserted.into_iter().map(Into::into));
    }
    Ok(new)
}
