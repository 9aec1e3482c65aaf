//! The `order_lines` table and its queries.

use std::collections::HashMap;

use salesync_common::Result;
use sea_orm::{QueryOrder, entity::prelude::*};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub item_id: Uuid,
    pub position: i32,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One order's lines, in the order they were rung up.
pub async fn of_order<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::OrderId.eq(order_id))
        .order_by_asc(Column::Position)
        .all(db)
        .await?)
}

/// The lines of several orders, in one statement, by order id.
pub async fn of_orders<C: ConnectionTrait>(
    db: &C,
    order_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Model>>> {
    let mut lines: HashMap<Uuid, Vec<Model>> = HashMap::new();
    for line in Entity::find()
        .filter(Column::OrderId.is_in(order_ids))
        .order_by_asc(Column::Position)
        .all(db)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    Ok(lines)
}

/// Removes an order's lines (before writing its new ones).
pub async fn delete_of_order<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<()> {
    Entity::delete_many()
        .filter(Column::OrderId.eq(order_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert<C: ConnectionTrait>(db: &C, lines: &[Model]) -> Result<()> {
    if !lines.is_empty() {
        Entity::insert_many(lines.iter().cloned().map(ActiveModel::from))
            .exec(db)
            .await?;
    }
    Ok(())
}
