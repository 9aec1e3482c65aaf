//! The plan PostgreSQL keeps for a prepared statement, to check that an
//! index serves a query however the planner settles.
//!
//! A subgraph's connection pool prepares each statement once per connection
//! and runs it many times; after the fifth run PostgreSQL may keep one
//! generic plan for it, made without the values bound to it. An index a
//! custom plan would use can be out of that plan's reach (a partial index
//! whose predicate names a value the statement binds), and the statement
//! then reads every row of the store on every run.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait,
    sea_query::{PostgresQueryBuilder, QueryBuilder},
};

/// `EXPLAIN` of `statement`'s generic plan on `db`, sequential scans ruled
/// out so the plan names the index it would use: one line per plan node.
pub async fn generic_plan(db: &DatabaseConnection, statement: Statement) -> String {
    let arguments: Vec<String> = statement
        .values
        .iter()
        .flat_map(|values| values.0.iter())
        .map(|value| PostgresQueryBuilder.value_to_string(value))
        .collect();
    // One connection for the settings, the prepared statement and the plan.
    let txn = db.begin().await.expect("begin");
    txn.execute_unprepared(
        "SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL enable_seqscan = off",
    )
    .await
    .expect("the plan settings");
    txn.execute_unprepared(&format!("PREPARE salesync_plan AS {}", statement.sql))
        .await
        .expect("prepare");
    let explain = format!("EXPLAIN EXECUTE salesync_plan({})", arguments.join(", "));
    let rows = txn
        .query_all_raw(Statement::from_string(DbBackend::Postgres, explain))
        .await
        .expect("explain");
    // Prepared statements outlive transactions.
    txn.execute_unprepared("DEALLOCATE salesync_plan")
        .await
        .expect("deallocate");
    txn.rollback().await.expect("rollback");
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a plan line"))
        .collect::<Vec<_>>()
        .join("\n")
}
