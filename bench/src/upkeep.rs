//! What autovacuum would do, on a server that has it off.
//!
//! PostgreSQL's autovacuum clears the dead rows every change leaves and
//! analyzes each table as it grows; a new analysis also makes every pooled
//! connection plan its statements again. A server without it (the one CI
//! and these benchmarks use sets `autovacuum = off`) keeps, for as long as
//! a benchmark runs, plans made while the tables were empty and an ever
//! longer trail of dead rows: not the server `docs/deploy.md` asks
//! operators to run. There the system's databases are vacuumed and
//! analyzed every [`EVERY`] instead, in the background.

use std::time::Duration;

use salesync_tests::TestSystem;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// As often as autovacuum visits a busy database (its `autovacuum_naptime`
/// is a minute, spread over the databases it has to visit).
pub const EVERY: Duration = Duration::from_secs(30);

/// How the benchmark's server is kept: by its own autovacuum, or by a task
/// of the benchmark's, which stops when this is dropped.
pub struct Upkeep(Option<tokio::task::JoinHandle<()>>);

impl Upkeep {
    /// Where the server has autovacuum off, vacuums and analyzes each of
    /// `subgraphs`' databases every [`EVERY`] until dropped.
    pub async fn start(system: &TestSystem, subgraphs: &[&str]) -> anyhow::Result<Upkeep> {
        let Some(first) = subgraphs.first() else {
            return Ok(Upkeep(None));
        };
        let first = system.database(first).await;
        let setting = first
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SHOW autovacuum",
            ))
            .await?
            .map(|row| row.try_get_by_index::<String>(0))
            .transpose()?;
        if setting.as_deref() != Some("off") {
            return Ok(Upkeep(None));
        }
        let mut databases = vec![first];
        for subgraph in &subgraphs[1..] {
            databases.push(system.database(subgraph).await);
        }
        Ok(Upkeep(Some(tokio::spawn(vacuum_every(databases)))))
    }

    /// One line for a report's list of conditions.
    pub fn describe(&self) -> String {
        match self.0 {
            None => "PostgreSQL's own autovacuum".to_string(),
            Some(_) => format!(
                "autovacuum is off on this server, so the benchmark vacuums and analyzes every \
                 database of the system every {} s, as autovacuum would",
                EVERY.as_secs()
            ),
        }
    }
}

impl Drop for Upkeep {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

async fn vacuum_every(databases: Vec<DatabaseConnection>) {
    loop {
        tokio::time::sleep(EVERY).await;
        for db in &databases {
            // VACUUM cannot run in a transaction: sent as a simple query.
            if let Err(error) = db.execute_unprepared("VACUUM (ANALYZE)").await {
                eprintln!("upkeep stopped: {error}");
                return;
            }
        }
    }
}
