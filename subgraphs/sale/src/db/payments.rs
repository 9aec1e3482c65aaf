//! The `sale_payments` table: how each sale was paid.

use salesync_common::Result;
use sea_orm::{QueryOrder, entity::prelude::*};

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

pub async fn insert<C: ConnectionTrait>(db: &C, payments: &[Model]) -> Result<()> {
    if !payments.is_empty() {
        Entity::insert_many(payments.iter().cloned().map(ActiveModel::from))
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
