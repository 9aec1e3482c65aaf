//! The `daily_sales` table: per store and business day, the sales volume
//! net of the refunds made that day, and the sales made that day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use salesync_common::{Result, db::of_store};
use sea_orm::{
    ActiveValue::Set, FromQueryResult, JoinType, QuerySelect, entity::prelude::*,
    sea_query::OnConflict,
};

use super::{daily_item_sales, plus_excluded};
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

/// The day's rows of `daily_item_sales` (for joining; nothing is loaded
/// through it).
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Items,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Items => Entity::belongs_to(daily_item_sales::Entity)
                .from((Column::StoreId, Column::BusinessDate))
                .to((
                    daily_item_sales::Column::StoreId,
                    daily_item_sales::Column::BusinessDate,
                ))
                .into(),
        }
    }
}

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

/// One business day's figures with their cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromQueryResult)]
pub struct CostedDay {
    pub business_date: NaiveDate,
    pub sales_volume: i64,
    pub order_count: i32,
    /// Quantity times current unit cost, over the day's items.
    pub cost: i64,
}

/// The store's days with sales among `from..=to`, each with its cost: one
/// statement, so a day's volume and its cost are read at one moment.
pub async fn costed_in_range<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<CostedDay>> {
    Ok(of_store::<Entity>(store_id)
        .select_only()
        .column(Column::BusinessDate)
        .column(Column::SalesVolume)
        .column(Column::OrderCount)
        .column_as(daily_item_sales::cost(), "cost")
        .join(JoinType::LeftJoin, Relation::Items.def())
        .join(JoinType::LeftJoin, daily_item_sales::Relation::Cost.def())
        .filter(Column::BusinessDate.between(from, to))
        .group_by(Column::BusinessDate)
        .group_by(Column::SalesVolume)
        .group_by(Column::OrderCount)
        .into_model()
        .all(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use dashboard_migration::MigratorTrait;
    use salesync_common::testing::scratch_sqlite;

    use super::*;
    use crate::{
        db::{daily_item_sales, item_costs},
        domain::ItemDelta,
    };

    /// Each day's cost is its items' quantities times their current unit
    /// costs (none set: zero), on SQLite, the local run's database.
    #[tokio::test]
    async fn a_day_is_read_with_the_cost_of_its_items() {
        let db = scratch_sqlite("days").await;
        dashboard_migration::Migrator::up(&db, None)
            .await
            .expect("the schema");
        let (store, other) = (Uuid::new_v4(), Uuid::new_v4());
        let (tea, cake, soup) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).expect("a date");
        let sold = |quantity, sales_volume| ItemDelta {
            quantity,
            sales_volume,
            name: None,
        };
        let days = |figures: &[(u32, i64, i32)]| {
            figures
                .iter()
                .map(|&(d, sales_volume, order_count)| {
                    let delta = DayDelta {
                        sales_volume,
                        order_count,
                    };
                    (day(d), delta)
                })
                .collect::<BTreeMap<_, _>>()
        };
        for (store, tea_cost) in [(store, 1_000), (other, 2_000)] {
            add(&db, store, &days(&[(20, 14_000, 2), (21, 3_000, 1)]))
                .await
                .expect("days");
            let items = BTreeMap::from([
                ((day(20), tea), sold(3, 9_000)),
                ((day(20), cake), sold(1, 5_000)),
                ((day(21), soup), sold(1, 3_000)),
            ]);
            daily_item_sales::add(&db, store, &items)
                .await
                .expect("items");
            item_costs::set(&db, store, &[(tea, tea_cost), (cake, 2_500)], Utc::now())
                .await
                .expect("costs");
        }

        let read = costed_in_range(&db, store, day(19), day(21))
            .await
            .expect("read");
        let mut figures: Vec<_> = read
            .iter()
            .map(|d| (d.business_date, d.sales_volume, d.order_count, d.cost))
            .collect();
        figures.sort();
        assert_eq!(
            figures,
            [
                (day(20), 14_000, 2, 3 * 1_000 + 2_500),
                (day(21), 3_000, 1, 0)
            ]
        );
    }
}
