//! The `sale_payments` table: how each sale was paid.

use salesync_common::{Result, db::Writes};
use sea_orm::{QueryOrder, QueryTrait, entity::prelude::*};

use crate::domain::PaymentMethod;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sale_payments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub sale_id: Uuid,
    pub position: i32,
    pub method: PaymentMethod,
    pub amount: i64,
    pub tendered: Option<i64>,
    pub change: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Inserts a sale's payments, with the rest of the change's `writes`.
pub fn insert(writes: &mut Writes, payments: &[Model]) {
    if !payments.is_empty() {
        writes.push(
            Entity::insert_many(payments.iter().cloned().map(ActiveModel::from)).into_query(),
        );
    }
}

pub async fn of_sales<C: ConnectionTrait>(db: &C, sale_ids: Vec<Uuid>) -> Result<Vec<Model>> {
    Ok(Entity::find()
        .filter(Column::SaleId.is_in(sale_ids))
        .order_by_asc(Column::Position)
        .all(db)
        .await?)
}
