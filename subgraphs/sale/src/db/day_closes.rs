//! The `day_closes` table: one Z-report per store and business day.

use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::{Error, Result, db::of_store};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "day_closes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub business_date: NaiveDate,
    pub closed_at: DateTime<Utc>,
    /// `Vec<MethodCount>` as JSON.
    pub methods: String,
    pub sales_volume: i64,
    pub sale_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, BusinessDate);

pub async fn find<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    day: NaiveDate,
) -> Result<Option<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::BusinessDate.eq(day))
        .one(db)
        .await?)
}

/// Records the close; a day already closed is `CONFLICT` (the primary key decides).
pub async fn insert<C: ConnectionTrait>(db: &C, close: &Model) -> Result<()> {
    match ActiveModel::from(close.clone()).insert(db).await {
        Ok(_) => Ok(()),
        Err(e)
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) =>
        {
            Err(Error::conflict("this business day is already closed"))
        }
        Err(e) => Err(e.into()),
    }
}
