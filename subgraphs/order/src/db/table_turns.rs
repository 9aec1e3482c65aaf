//! A table's turn: whoever changes a table's order takes its turn first and
//! holds it until its transaction ends, so terminals at one table wait for
//! each other and terminals at other tables do not.
//!
//! On PostgreSQL a turn is a transaction-scoped advisory lock, which writes
//! nothing: the table's lock, exclusive, under its store's lock, shared. A
//! store's removal takes the store's lock exclusively, so it waits for the
//! changes under way and the next ones wait for it. The lock keys are folded
//! from the store's id; two stores whose keys meet only wait for each other
//! at tables of the same number, never see each other's rows.
//!
//! On SQLite, which has one writer at a time, a turn is an upsert of the
//! table's row in `table_turns`: the write takes the database's write lock
//! at the start of the change, where a change that first read and then
//! wrote would find its read outdated. Every query is scoped to one store.

use salesync_common::Result;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, Statement,
    entity::prelude::*, sea_query::OnConflict,
};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "table_turns")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub store_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub table_no: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Waits for the table's turn and holds it until `txn` ends, in one
/// statement.
pub async fn take(txn: &DatabaseTransaction, store_id: Uuid, table_no: i32) -> Result<()> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let (store, tables) = keys(store_id);
        // The store's lock before the table's: a removal waiting for the
        // store's lock holds nothing a change waits for.
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock_shared($1), pg_advisory_xact_lock($2, $3)",
            [store.into(), tables.into(), table_no.into()],
        ))
        .await?;
        return Ok(());
    }
    Entity::insert(ActiveModel {
        store_id: Set(store_id),
        table_no: Set(table_no),
    })
    .on_conflict(
        OnConflict::columns([Column::StoreId, Column::TableNo])
            .update_column(Column::TableNo)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Waits until no change of the store's tables is under way, keeps the next
/// ones waiting until `txn` ends, and removes the store's tables. A store
/// going takes this first, so it waits its turn like every change rather
/// than deadlocking with a terminal.
pub async fn close_store(txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
    if txn.get_database_backend() == DbBackend::Postgres {
        let (store, _) = keys(store_id);
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [store.into()],
        ))
        .await?;
    }
    // Rows a turn left behind: SQLite's, and PostgreSQL's from before its
    // turns were locks.
    Ok(Entity::delete_many()
        .filter(Column::StoreId.eq(store_id))
        .exec(txn)
        .await?
        .rows_affected)
}

/// The store's advisory lock key (one 64-bit key) and the first half of its
/// tables' keys (two 32-bit keys, the table number the second): PostgreSQL
/// keeps the two kinds apart, so neither meets the other.
fn keys(store_id: Uuid) -> (i64, i32) {
    let (high, low) = store_id.as_u64_pair();
    let folded = high ^ low;
    (folded as i64, (folded ^ (folded >> 32)) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_differing_anywhere_in_their_ids_get_different_keys() {
        // Ids made in one millisecond share their first half (UUIDv7's
        // time); ids of another generator may share the second.
        let a = Uuid::from_u128(0x0190_a1b2_c3d4_7e5f_8a9b_0c1d_2e3f_4a5b);
        let b = Uuid::from_u128(0x0190_a1b2_c3d4_7e5f_8a9b_0c1d_2e3f_4a5c);
        let c = Uuid::from_u128(0x0190_a1b2_c3d5_7e5f_8a9b_0c1d_2e3f_4a5b);
        let (ka, kb, kc) = (keys(a), keys(b), keys(c));
        assert_ne!(ka.0, kb.0);
        assert_ne!(ka.0, kc.0);
        assert_ne!(ka.1, kb.1);
        assert_ne!(ka.1, kc.1);
        assert_eq!(keys(a), ka, "the same store, the same keys");
    }
}
