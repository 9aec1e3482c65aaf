//! The `sale_lines` table: what each sale sold, and how much of it came back.

use salesync_common::Result;
use sea_orm::{
    QueryOrder,
    entity::prelude::*,
    sea_query::{Expr, ExprTrait},
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    pub position: i32,
    pub item_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub refunded_quantity: i32,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

pub async fn insert<C: ConnectionTrait>(db: &C, lines: &[Model]) -> Result<()> {
    if !lines.is_empty() {
        Entity::insert_many(lines.iter().cloned().map(ActiveModel::from))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn of_sales<C: ConnectionTrait>(db: &C, sale_ids: Vec<Uuid>) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::SaleId.is_in(sale_ids))
        .order_by_asc(Column::Position)
        .all(db)
        .await?)
}

/// Adds `quantity` to a line's refunded quantity.
pub async fn add_refunded<C: ConnectionTrait>(db: &C, line_id: Uuid, quantity: i32) -> Result<()> {
    Entity::update_many()
        .col_expr(
            Column::RefundedQuantity,
            Expr::col(Column::RefundedQuantity).add(quantity),
        )
        .filter(Column::Id.eq(line_id))
        .exec(db)
        .await?;
    Ok(())
}
