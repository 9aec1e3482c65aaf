//! The `sale_lines` table: what each sale sold, and how much of it came back.

use salesync_common::{Result, db::Writes};
use sea_orm::{
    QueryOrder, QueryTrait,
    entity::prelude::*,
    sea_query::{CaseStatement, Expr, ExprTrait},
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

/// Inserts a sale's lines, with the rest of the change's `writes`.
pub fn insert(writes: &mut Writes, lines: &[Model]) {
    if !lines.is_empty() {
        writes.push(Entity::insert_many(lines.iter().cloned().map(ActiveModel::from)).into_query());
    }
}

pub async fn of_sales<C: ConnectionTrait>(db: &C, sale_ids: Vec<Uuid>) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::SaleId.is_in(sale_ids))
        .order_by_asc(Column::Position)
        .all(db)
        .await?)
}

/// Adds to lines' refunded quantities, `(line, quantity)` each line once,
/// with the rest of the change's `writes`: one statement for them all.
pub fn add_refunded(writes: &mut Writes, given: &[(Uuid, i32)]) {
    if given.is_empty() {
        return;
    }
    let added = given
        .iter()
        .fold(CaseStatement::new(), |added, (line_id, quantity)| {
            added.case(Column::Id.eq(*line_id), *quantity)
        })
        .finally(0);
    writes.push(
        Entity::update_many()
            .col_expr(
                Column::RefundedQuantity,
                Expr::col(Column::RefundedQuantity).add(added),
            )
            .filter(Column::Id.is_in(given.iter().map(|(line_id, _)| *line_id)))
            .into_query(),
    );
}
