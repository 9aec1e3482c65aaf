//! The `store_ledgers` table: one row per store that every change to the
//! store's figures and consulting results locks first (the live consumers
//! and a rebuild alike), so they never interleave with each other or with
//! the store's deletion. A deleted store's row stays, closed, so that
//! nothing is kept for it again.

use chrono::{DateTime, Utc};
use salesync_common::Result;
use sea_orm::{ActiveValue::Set, ExprTrait, entity::prelude::*, sea_query::OnConflict};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_ledgers")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    pub updated_at: DateTime<Utc>,
    pub rebuilt_at: Option<DateTime<Utc>>,
    /// When the store was deleted: its figures are gone and stay so.
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::store_scoped!(StoreId, StoreId);

/// Locks the store's rows until the transaction ends (an upsert holds the
/// row's lock), noting when they changed and, for a rebuild, that too.
/// False, and nothing written, when the store was deleted: the closed row
/// is read as it stands once its lock is ours, so a deletion that held it
/// meanwhile is seen, in this one statement.
pub async fn lock<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    now: DateTime<Utc>,
    rebuilding: bool,
) -> Result<bool> {
    let mut columns = vec![Column::UpdatedAt];
    if rebuilding {
        columns.push(Column::RebuiltAt);
    }
    let written = Entity::insert(ActiveModel {
        store_id: Set(store_id),
        updated_at: Set(now),
        rebuilt_at: Set(rebuilding.then_some(now)),
        deleted_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(Column::StoreId)
            .update_columns(columns)
            .action_and_where(Expr::col((Entity, Column::DeletedAt)).is_null())
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(written == 1)
}

/// Closes the store's ledger as the store is deleted, before its figures
/// are removed: holding the row's lock, so a count under way finishes
/// first (and its rows are removed with the rest) and a later one finds
/// the row closed.
pub async fn close<C: ConnectionTrait>(db: &C, store_id: Uuid, now: DateTime<Utc>) -> Result<()> {
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        updated_at: Set(now),
        rebuilt_at: Set(None),
        deleted_at: Set(Some(now)),
    })
    .on_conflict(
        OnConflict::column(Column::StoreId)
            .update_columns([Column::UpdatedAt, Column::DeletedAt])
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Every store the read model has figures of (deleted stores' are gone).
pub async fn stores<C: ConnectionTrait>(db: &C) -> Result<Vec<Uuid>> {
    Ok(Entity::find()
        .filter(Column::DeletedAt.is_null())
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.store_id)
        .collect())
}

#[cfg(test)]
mod tests {
    use dashboard_migration::MigratorTrait;
    use salesync_common::{events::store_access, testing::scratch_sqlite};
    use sea_orm::DatabaseConnection;

    use super::*;

    /// The dashboard's schema on SQLite (the local run's database), with
    /// `deleted` recorded as deleted before the ledgers' last migration.
    async fn database(deleted: Uuid) -> DatabaseConnection {
        let db = scratch_sqlite("ledgers").await;
        let all = dashboard_migration::Migrator::migrations().len() as u32;
        dashboard_migration::Migrator::up(&db, Some(all - 1))
            .await
            .expect("the schema before");
        store_access::record_deleted(&db, deleted)
            .await
            .expect("deleted");
        dashboard_migration::Migrator::up(&db, None)
            .await
            .expect("the last migration");
        db
    }

    #[tokio::test]
    async fn a_ledger_locks_until_its_store_is_deleted_and_never_after() {
        let deleted_before = Uuid::new_v4();
        let db = database(deleted_before).await;
        let now = Utc::now();
        let store = Uuid::new_v4();

        assert!(lock(&db, store, now, false).await.expect("lock"), "new");
        assert!(lock(&db, store, now, true).await.expect("lock"), "again");
        assert_eq!(stores(&db).await.expect("stores"), [store]);

        close(&db, store, now).await.expect("closed");
        assert!(!lock(&db, store, now, false).await.expect("lock"));
        assert!(!lock(&db, store, now, true).await.expect("lock"));
        let never_counted = Uuid::new_v4();
        close(&db, never_counted, now).await.expect("closed");
        assert!(!lock(&db, never_counted, now, false).await.expect("lock"));
        // A store deleted before the migration is closed by it.
        assert!(!lock(&db, deleted_before, now, false).await.expect("lock"));
        assert!(stores(&db).await.expect("stores").is_empty());
    }
}
