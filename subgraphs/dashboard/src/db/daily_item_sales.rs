//! The `daily_item_sales` table: per store, business day and item, the
//! quantity sold and its sales volume, net of the refunds made that day.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use salesync_common::{
    Result,
    db::{excluded, of_store},
};
use sea_orm::{
    ActiveValue::Set,
    JoinType, QuerySelect,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait, Func, OnConflict},
};

use super::{item_costs, plus_excluded, sum_bigint};
use crate::domain::{ItemDelta, ItemTotals};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "daily_item_sales")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub business_date: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub quantity: i64,
    pub sales_volume: i64,
    pub name: Option<String>,
}

/// Each row's item cost, if one was set.
#[derive(Copy, Clone, Debug, EnumIter)]
pub enum Relation {
    Cost,
}

impl RelationTrait for Relation {
    fn def(&self) -> RelationDef {
        match self {
            Relation::Cost => Entity::belongs_to(item_costs::Entity)
                .from((Column::StoreId, Column::ItemId))
                .to((item_costs::Column::StoreId, item_costs::Column::ItemId))
                .into(),
        }
    }
}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, ItemId);

/// Adds `rows` to the store's figures.
pub async fn add<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    rows: &BTreeMap<(NaiveDate, Uuid), ItemDelta>,
) -> Result<()> {
    let rows: Vec<_> = rows.iter().collect();
    for chunk in rows.chunks(super::CHUNK) {
        Entity::insert_many(chunk.iter().map(|&(&(day, item_id), delta)| ActiveModel {
            store_id: Set(store_id),
            business_date: Set(day),
            item_id: Set(item_id),
            quantity: Set(delta.quantity),
            sales_volume: Set(delta.sales_volume),
            name: Set(delta.name.clone()),
        }))
        .on_conflict(
            OnConflict::columns([Column::StoreId, Column::BusinessDate, Column::ItemId])
                .value(Column::Quantity, plus_excluded(Entity, Column::Quantity))
                .value(
                    Column::SalesVolume,
                    plus_excluded(Entity, Column::SalesVolume),
                )
                // A refund (no name) keeps the name the item sold under.
                .value(
                    Column::Name,
                    Func::coalesce([excluded(Column::Name), Expr::col((Entity, Column::Name))]),
                )
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// `COALESCE(item_costs.cost, 0)`: an unset cost counts as 0.
fn unit_cost() -> Expr {
    Func::coalesce([
        Expr::col((item_costs::Entity, item_costs::Column::Cost)),
        Expr::val(0i64),
    ])
    .into()
}

/// Each item's quantity and sales volume over business days `from..=to`,
/// with its current unit cost: one statement.
pub async fn totals<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<ItemTotals>> {
    let rows: Vec<(Uuid, Option<String>, i64, i64, i64)> = of_store::<Entity>(store_id)
        .select_only()
        .column(Column::ItemId)
        .column_as(
            Expr::from(Func::max(Expr::col((Entity, Column::Name)))),
            "name",
        )
        .column_as(
            sum_bigint(Expr::col((Entity, Column::Quantity))),
            "quantity",
        )
        .column_as(
            sum_bigint(Expr::col((Entity, Column::SalesVolume))),
            "sales_volume",
        )
        .column_as(unit_cost(), "unit_cost")
        .join(JoinType::LeftJoin, Relation::Cost.def())
        .filter(Column::BusinessDate.between(from, to))
        .group_by(Column::ItemId)
        .group_by(Expr::col((item_costs::Entity, item_costs::Column::Cost)))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(
            |(item_id, name, quantity, sales_volume, unit_cost)| ItemTotals {
                item_id,
                name,
                quantity,
                sales_volume,
                unit_cost,
            },
        )
        .collect())
}

/// Quantity times current unit cost, summed over the rows a query groups
/// (zero for none): for joining `daily_item_sales` and its `Cost` relation.
pub(super) fn cost() -> Expr {
    Func::coalesce([
        sum_bigint(Expr::col((Entity, Column::Quantity)).mul(unit_cost())),
        Expr::val(0i64),
    ])
    .into()
}
