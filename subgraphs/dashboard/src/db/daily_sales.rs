//! The `daily_sales` table: per store and business day, the sales volume
//! net of the refunds made that day, and the sales made that day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use salesync_common::{Result, db::of_store};
use sea_orm::{ActiveValue::Set, entity::prelude::*, sea_query::OnConflict};

use super::plus_excluded;
use crate::domain::DayDelta;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub business_date: Date,
    pub sales_volume: i64,
    pub order_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, StoreId);

/// Adds `days` to the store's figures.
pub async fn add<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    days: &BTreeMap<NaiveDate, DayDelta>,
) -> Result<()> {
    let days: Vec<_> = days.iter().collect();
    for chunk in days.chunks(super::CHUNK) {
        Entity::insert_many(chunk.iter().map(|&(&day, delta)| ActiveModel {
            store_id: Set(store_id),
            business_date: Set(day),
            sales_volume: Set(delta.sales_volume),
            order_count: Set(delta.order_count),
        }))
        .on_conflict(
            OnConflict::columns([Column::StoreId, Column::BusinessDate])
                .value(
                    Column::SalesVolume,
                    plus_excluded(Entity, Column::SalesVolume),
                )
                .value(
                    Column::OrderCount,
                    plus_excluded(Entity, Column::OrderCount),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// The store's days with sales among `from..=to`.
pub async fn in_range<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::BusinessDate.between(from, to))
        .all(db)
        .await?)
}
