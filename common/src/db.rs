//! Each subgraph owns its database and reaches it through sea-orm only.
//! Tables whose rows belong to a store are [`StoreScoped`]: their queries
//! start from [`of_store`].
//!
//! [`connect_and_migrate`] creates the database when it does not exist yet
//! (a PostgreSQL database, or a SQLite file and its folder) and applies the
//! subgraph's migrations, so a fresh machine needs no manual set-up.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use sea_orm::{
    AccessMode, ColumnTrait, ConnectOptions, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IsolationLevel, QueryFilter, QueryResult,
    QueryTrait, Select, Statement, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use secrecy::{ExposeSecret, SecretString};
use uuid::Uuid;

/// A service's database connection pool, and a count of the SQL statements
/// it ran: the dataloader tests assert on it, and slow statements are logged.
#[derive(Clone)]
pub struct Database {
    /// Requests' connections.
    pub conn: DatabaseConnection,
    /// A few connections of background work's own (the outbox relay, the
    /// consumers, retention): events leave and arrive while requests queue
    /// for `conn`. On SQLite, `conn` itself (one writer at a time anyway).
    pub background: DatabaseConnection,
    pub statements: StatementCounter,
}

/// How many SQL statements requests have made a connection pool run.
/// Statements of background tasks (the outbox relay's polling, consumers)
/// are left out, so a test can measure what one request costs.
#[derive(Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

tokio::task_local! {
    static BACKGROUND: ();
}

/// Runs `task` as background work: its statements are not counted.
pub async fn in_background<F: std::future::Future>(task: F) -> F::Output {
    BACKGROUND.scope((), task).await
}

fn is_background() -> bool {
    BACKGROUND.try_with(|_| ()).is_ok()
}

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Statements slower than this are logged as warnings.
const SLOW_STATEMENT: Duration = Duration::from_millis(250);

/// Opens the service's database, creating it if missing, and migrates it.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &SecretString,
    pool: &PoolSettings,
) -> anyhow::Result<Database> {
    let mut conn = connect(url, pool).await?;
    M::up(&conn, None)
        .await
        .context("failed to apply database migrations")?;
    let statements = StatementCounter::default();
    let counter = statements.0.clone();
    conn.set_metric_callback(move |info| {
        if !is_background() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        warn_if_slow(info);
    });
    let background = if conn.get_database_backend() == DbBackend::Sqlite {
        conn.clone()
    } else {
        let (max, min) = pool.background();
        let mut background = open(url.expose_secret(), max, min).await?;
        background.set_metric_callback(warn_if_slow);
        background
    };
    Ok(Database {
        conn,
        background,
        statements,
    })
}

fn warn_if_slow(info: &sea_orm::metric::Info<'_>) {
    if info.elapsed > SLOW_STATEMENT {
        tracing::warn!(elapsed_ms = info.elapsed.as_millis() as u64, sql = %info.statement.sql, "slow SQL statement");
    }
}

/// `[pool]`: the connections a subgraph keeps to its database
/// (`SALESYNC_POOL__MAX_CONNECTIONS`, `__MIN_CONNECTIONS`,
/// `__BACKGROUND_CONNECTIONS`). With replicas, keep replicas x (max +
/// background) under the server's `max_connections`.
#[derive(Debug, Clone, Copy, Default, serde::Deserialize)]
#[serde(default)]
pub struct PoolSettings {
    /// Requests' connections, at most this many; unset, 16 on PostgreSQL
    /// and 4 on SQLite (one writer at a time there anyway).
    pub max_connections: Option<u32>,
    /// At least this many kept open; unset, 1.
    pub min_connections: Option<u32>,
    /// Background work's connections besides, at most this many (one kept
    /// open); unset, 2. None on SQLite, where background work shares the
    /// requests' pool.
    pub background_connections: Option<u32>,
}

impl PoolSettings {
    fn max_for(&self, sqlite: bool) -> u32 {
        self.max_connections
            .unwrap_or(if sqlite { 4 } else { 16 })
            .max(1)
    }

    fn min_for(&self, sqlite: bool) -> u32 {
        self.min_connections.unwrap_or(1).min(self.max_for(sqlite))
    }

    /// At most and at least how many connections background work keeps.
    fn background(&self) -> (u32, u32) {
        (self.background_connections.unwrap_or(2).max(1), 1)
    }
}

/// A pooled connection idle this long is tested (a ping) before it is
/// handed out; one used more recently is handed out as it is.
///
/// The pool always tests a connection when it takes it back, so a
/// connection used within this time was alive a moment ago: testing it again
/// would cost every transaction a round trip to the server for nothing. A
/// connection the server closed while it sat idle (a restart, a failover, an
/// idle timeout: each takes longer than this) is replaced before a request
/// meets it. One closed within this time of its last use fails the single
/// statement that meets it, as a statement under way at that moment would.
pub const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(1);

/// Opens the database at `url`, creating it first if it does not exist.
pub async fn connect(
    url: &SecretString,
    pool: &PoolSettings,
) -> anyhow::Result<DatabaseConnection> {
    let raw = url.expose_secret();
    let sqlite = raw.starts_with("sqlite:");
    if sqlite {
        create_sqlite_folder(raw)?;
    } else {
        create_postgres_database_if_missing(raw).await?;
    }
    open(raw, pool.max_for(sqlite), pool.min_for(sqlite)).await
}

/// A pool of `min` to `max` connections to the existing database at `raw`.
async fn open(raw: &str, max: u32, min: u32) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(raw.to_string());
    options
        .max_connections(max)
        .min_connections(min)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_WHEN_IDLE_FOR)
        .sqlx_logging(false);
    let db = sea_orm::Database::connect(options)
        .await
        .context("failed to connect to the database")?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Several terminals write at once: WAL lets readers continue while one
        // writer commits, and the busy timeout queues writers instead of failing.
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA busy_timeout = 5000",
            "PRAGMA foreign_keys = ON",
        ] {
            db.execute_unprepared(pragma)
                .await
                .with_context(|| format!("failed to set {pragma}"))?;
        }
    }
    Ok(db)
}

fn create_sqlite_folder(raw: &str) -> anyhow::Result<()> {
    let path = raw
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default();
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("failed to create {}", parent.display()))?;
    }
    Ok(())
}

/// PostgreSQL has no `CREATE DATABASE IF NOT EXISTS`; connect to the server's
/// `postgres` database, look, and create. Two replicas starting at once may
/// both try: the loser's "already exists" error is fine.
async fn create_postgres_database_if_missing(raw: &str) -> anyhow::Result<()> {
    let mut url = url::Url::parse(raw).context("database URL is not a valid URL")?;
    let name = url.path().trim_start_matches('/').to_string();
    anyhow::ensure!(
        !name.is_empty(),
        "the database URL names no database: {}",
        url.host_str().unwrap_or_default()
    );
    anyhow::ensure!(
        name.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
        "database name {name:?} must be letters, digits, '_' or '-'"
    );
    url.set_path("/postgres");
    let mut options = ConnectOptions::new(url.to_string());
    options
        .max_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    let admin = sea_orm::Database::connect(options)
        .await
        .context("failed to connect to the PostgreSQL server")?;
    let exists = admin
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 FROM pg_database WHERE datname = $1",
            [name.clone().into()],
        ))
        .await
        .context("failed to look for the database")?
        .is_some();
    if !exists
        && let Err(e) = admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await
        && !e.to_string().contains("already exists")
    {
        return Err(e).with_context(|| format!("failed to create database {name}"));
    }
    admin.close().await.ok();
    Ok(())
}

/// Whether the database answers: the readiness probe.
pub async fn ping(db: &DatabaseConnection) -> Result<(), String> {
    db.ping().await.map_err(|e| format!("database: {e}"))
}

/// One moment of the database for several reads: what one request shows
/// (the reports of a dashboard query) agrees with itself even while writes
/// commit between its reads. A read-only transaction,
/// repeatable-read on PostgreSQL (SQLite's deferred transaction reads one
/// snapshot from its first read on), begun at the first read, so a request
/// that reads nothing through it costs nothing; rolled back when the last
/// handle goes (the connection's pool sends the rollback before it hands
/// the connection out again). Its reads take turns on one connection.
#[derive(Clone)]
pub struct Snapshot(Arc<SnapshotInner>);

struct SnapshotInner {
    db: DatabaseConnection,
    txn: tokio::sync::OnceCell<DatabaseTransaction>,
}

impl Snapshot {
    /// A snapshot of `db`, taken at its first read.
    pub fn new(db: DatabaseConnection) -> Self {
        Snapshot(Arc::new(SnapshotInner {
            db,
            txn: tokio::sync::OnceCell::new(),
        }))
    }

    /// The connection to read the snapshot through.
    pub async fn reader(&self) -> crate::Result<&DatabaseTransaction> {
        let db = &self.0.db;
        Ok(self
            .0
            .txn
            .get_or_try_init(|| async {
                match db.get_database_backend() {
                    // SQLite has neither setting, and warns of each.
                    DbBackend::Sqlite => db.begin().await,
                    _ => {
                        db.begin_with_config(
                            Some(IsolationLevel::RepeatableRead),
                            Some(AccessMode::ReadOnly),
                        )
                        .await
                    }
                }
            })
            .await?)
    }
}

/// A table whose rows each belong to one store. Every query on it starts
/// from [`of_store`], so no query can forget the store.
pub trait StoreScoped: EntityTrait {
    fn store_column() -> Self::Column;
    fn id_column() -> Self::Column;
}

/// Declares the `Entity` of a sea-orm entity module [`StoreScoped`], by the
/// names of its store and id columns: `store_scoped!(StoreId, Id);`
#[macro_export]
macro_rules! store_scoped {
    ($store:ident, $id:ident) => {
        impl $crate::db::StoreScoped for Entity {
            fn store_column() -> Column {
                Column::$store
            }
            fn id_column() -> Column {
                Column::$id
            }
        }
    };
}

/// A model read from a row by the positions of its columns. sea-orm reads
/// a model by looking up each column of each row by its name (in a join,
/// a prefixed name it formats first); on the reads every request makes
/// that lookup was a sixth of a menu read's instructions (two dozen items)
/// and a tenth of a `placeOrder`'s (an order with a dozen lines). Implement
/// it with [`read_by_position!`]; run a query with [`all_by_position`], or,
/// for a join, read each entity's columns from where they start in the row.
pub trait ReadByPosition: Sized {
    /// The model whose columns start at `first` of `row`, in the order of
    /// its entity's `Column` enum (the order `find()` selects them in).
    fn at(row: &QueryResult, first: usize) -> Result<Self, DbErr>;
}

/// Implements [`ReadByPosition`] for the `Model` of a sea-orm entity
/// module, naming each field's column: `read_by_position!(id: Id, name:
/// Name)`. The struct literal it builds makes the compiler check that every
/// field is read; debug builds compare every row [`all_by_position`] reads
/// with sea-orm's reading of it by name, so a field paired with another
/// column of its type fails the tests.
#[macro_export]
macro_rules! read_by_position {
    ($($field:ident: $column:ident),+ $(,)?) => {
        impl $crate::db::ReadByPosition for Model {
            fn at(
                row: &::sea_orm::QueryResult,
                first: usize,
            ) -> ::std::result::Result<Self, ::sea_orm::DbErr> {
                Ok(Model {
                    $($field: row.try_get_by_index(first + Column::$column as usize)?,)+
                })
            }
        }
    };
}

/// Runs `select`, which selects every column of its entity as `find()`
/// does, and reads each row by position.
pub async fn all_by_position<E, C>(db: &C, select: Select<E>) -> crate::Result<Vec<E::Model>>
where
    E: EntityTrait,
    E::Model: ReadByPosition + PartialEq,
    C: ConnectionTrait,
{
    let rows = db.query_all(select.as_query()).await?;
    let models = rows
        .iter()
        .map(|row| E::Model::at(row, 0))
        .collect::<Result<Vec<_>, DbErr>>()?;
    #[cfg(debug_assertions)]
    for (row, model) in rows.iter().zip(&models) {
        use sea_orm::FromQueryResult;
        let by_name = E::Model::from_query_result(row, "")?;
        assert!(
            by_name == *model,
            "read by position, a row of {} is not what reading it by name gives",
            E::default().table_name()
        );
    }
    Ok(models)
}

/// In an upsert's `ON CONFLICT DO UPDATE`, the value the insert tried to
/// write to `column` (`excluded.<column>`, in PostgreSQL and SQLite alike).
pub fn excluded(column: impl sea_orm::sea_query::IntoIden) -> sea_orm::sea_query::Expr {
    sea_orm::sea_query::Expr::col((sea_orm::sea_query::Alias::new("excluded"), column))
}

/// `column = 'value'`, the value written into the statement instead of
/// bound to it: for a query a partial index serves, whose predicate names
/// that value (`WHERE status = 'OPEN'`). The planner uses such an index only
/// where it can prove the predicate, and with the value bound it cannot in
/// the generic plan PostgreSQL keeps for a prepared statement after its
/// fifth run: every statement of a pooled connection then scans all of the
/// store's rows, ever more of them as the store grows. For a value of our
/// own enum, never for client input.
pub fn is_fixed<C, V>(column: C, value: V) -> sea_orm::sea_query::Expr
where
    C: ColumnTrait,
    V: sea_orm::ActiveEnum,
{
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::col(column.as_column_ref()).eq(Expr::Constant(value.to_value().into()))
}

/// The rows of `store_id`: the start of every query on a store-scoped table.
pub fn of_store<E: StoreScoped>(store_id: Uuid) -> Select<E> {
    E::find().filter(E::store_column().eq(store_id))
}

/// The store's rows with these ids (others' ids find nothing).
pub fn with_ids<E: StoreScoped>(store_id: Uuid, ids: Vec<Uuid>) -> Select<E> {
    of_store::<E>(store_id).filter(E::id_column().is_in(ids))
}

/// The store's rows with these ids, read (others' ids find nothing).
pub async fn by_ids<E: StoreScoped, C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    ids: Vec<Uuid>,
) -> crate::Result<Vec<E::Model>> {
    Ok(with_ids::<E>(store_id, ids).all(db).await?)
}

/// Writes of one transaction sent together: on PostgreSQL as one statement
/// (each write a data-modifying `WITH` query), on SQLite one after another.
/// A change that writes its row, its lines and its outbox event so pays
/// one round trip for them instead of three; every statement costs the
/// subgraph and the database more than the rows it writes.
///
/// The writes must not depend on each other: on PostgreSQL they all see the
/// database as it was before the statement, so none may touch a row another
/// writes or read what another writes. Their order is kept on SQLite only.
#[derive(Default)]
pub struct Writes(Vec<Write>);

/// One of [`Writes`].
pub enum Write {
    Insert(sea_orm::sea_query::InsertStatement),
    Update(sea_orm::sea_query::UpdateStatement),
    Delete(sea_orm::sea_query::DeleteStatement),
}

impl From<sea_orm::sea_query::InsertStatement> for Write {
    fn from(statement: sea_orm::sea_query::InsertStatement) -> Self {
        Write::Insert(statement)
    }
}

impl From<sea_orm::sea_query::UpdateStatement> for Write {
    fn from(statement: sea_orm::sea_query::UpdateStatement) -> Self {
        Write::Update(statement)
    }
}

impl From<sea_orm::sea_query::DeleteStatement> for Write {
    fn from(statement: sea_orm::sea_query::DeleteStatement) -> Self {
        Write::Delete(statement)
    }
}

/// What [`Writes::exec`] wrote: the rows of each write, by the number
/// [`Writes::push`] gave it.
#[derive(Debug, PartialEq, Eq)]
pub struct Written(Vec<u64>);

impl Written {
    pub fn rows(&self, write: usize) -> u64 {
        self.0[write]
    }
}

impl Writes {
    /// Adds a write; returns its number in [`Written`].
    pub fn push(&mut self, write: impl Into<Write>) -> usize {
        self.0.push(write.into());
        self.0.len() - 1
    }

    /// Runs the writes with `db` (the transaction they belong to).
    pub async fn exec<C: ConnectionTrait>(self, db: &C) -> Result<Written, DbErr> {
        match db.get_database_backend() {
            DbBackend::Postgres => self.exec_as_one(db).await,
            _ => self.exec_in_turn(db).await,
        }
    }

    async fn exec_in_turn<C: ConnectionTrait>(self, db: &C) -> Result<Written, DbErr> {
        let mut rows = Vec::with_capacity(self.0.len());
        for write in &self.0 {
            let done = match write {
                Write::Insert(statement) => db.execute(statement).await?,
                Write::Update(statement) => db.execute(statement).await?,
                Write::Delete(statement) => db.execute(statement).await?,
            };
            rows.push(done.rows_affected());
        }
        Ok(Written(rows))
    }

    /// `WITH w0 AS (… RETURNING 1), w1 AS (…) SELECT (SELECT count(*) FROM
    /// w0), (SELECT count(*) FROM w1), …`: PostgreSQL runs every
    /// data-modifying `WITH` query to completion, and the counts are the
    /// rows each wrote.
    async fn exec_as_one<C: ConnectionTrait>(self, db: &C) -> Result<Written, DbErr> {
        use sea_orm::sea_query::{Alias, CommonTableExpression, Expr, Query, WithClause};

        let count = self.0.len();
        if count == 0 {
            return Ok(Written(Vec::new()));
        }
        let one = || Query::returning().expr(Expr::cust("1"));
        let mut with = WithClause::new();
        let mut counts = Query::select();
        for (at, write) in self.0.into_iter().enumerate() {
            let name = format!("w{at}");
            let mut cte = CommonTableExpression::new();
            cte.table_name(Alias::new(&name));
            match write {
                Write::Insert(mut statement) => {
                    statement.returning(one());
                    cte.query(statement)
                }
                Write::Update(mut statement) => {
                    statement.returning(one());
                    cte.query(statement)
                }
                Write::Delete(mut statement) => {
                    statement.returning(one());
                    cte.query(statement)
                }
            };
            with.cte(cte);
            counts.expr(Expr::cust(format!("(SELECT count(*) FROM {name})")));
        }
        let row = db
            .query_one(&with.query(counts))
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("the counts of the writes".into()))?;
        let rows = (0..count)
            .map(|at| row.try_get_by_index::<i64>(at).map(|n| n as u64))
            .collect::<Result<_, _>>()?;
        Ok(Written(rows))
    }
}

/// Removes every row of a deleted store; returns how many.
pub async fn delete_of_store<E: StoreScoped, C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
) -> crate::Result<u64> {
    let deleted = E::delete_many()
        .filter(E::store_column().eq(store_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set, Database, EntityTrait, QueryOrder, Schema};

    use super::*;

    /// An entity over the test's own `notes` table, its model reading each
    /// field from the column named beside it.
    macro_rules! notes_entity {
        ($($field:ident: $column:ident),+) => {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "notes")]
            pub struct Model {
                #[sea_orm(primary_key, auto_increment = false)]
                pub id: i32,
                pub title: String,
                pub body: String,
                pub pinned: Option<i64>,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            impl ActiveModelBehavior for ActiveModel {}

            crate::read_by_position!($($field: $column),+);
        };
    }

    /// Every field paired with its own column.
    mod notes {
        notes_entity!(id: Id, title: Title, body: Body, pinned: Pinned);
    }

    /// The same table with two fields of one type swapped.
    mod swapped_notes {
        notes_entity!(id: Id, title: Body, body: Title, pinned: Pinned);
    }

    async fn notes() -> DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.expect("sqlite");
        let table = Schema::new(DbBackend::Sqlite).create_table_from_entity(notes::Entity);
        db.execute(&table).await.expect("create table");
        for (id, title, body, pinned) in [
            (1, "soup", "hot", Some(3)),
            (2, "tea", "green", None),
            (3, "cake", "", Some(-1)),
        ] {
            notes::ActiveModel {
                id: Set(id),
                title: Set(title.into()),
                body: Set(body.into()),
                pinned: Set(pinned),
            }
            .insert(&db)
            .await
            .expect("insert");
        }
        db
    }

    #[tokio::test]
    async fn rows_read_by_position_are_what_reading_by_name_gives() {
        let db = notes().await;
        let query = notes::Entity::find().order_by_desc(notes::Column::Id);
        let by_name = query.clone().all(&db).await.expect("read by name");
        let by_position = all_by_position(&db, query).await.expect("read by position");
        assert_eq!(by_position, by_name);
        assert_eq!(by_position.len(), 3);
        assert_eq!(by_position[1].pinned, None, "a null stays a null");
    }

    #[tokio::test]
    async fn writes_sent_together_report_the_rows_each_wrote() {
        use sea_orm::sea_query::{Expr, Query};

        let db = notes().await;
        let mut writes = Writes::default();
        let added = writes.push(
            Query::insert()
                .into_table(notes::Entity)
                .columns([notes::Column::Id, notes::Column::Title, notes::Column::Body])
                .values_panic([4.into(), "bread".into(), "warm".into()])
                .to_owned(),
        );
        let changed = writes.push(
            notes::Entity::update_many()
                .col_expr(notes::Column::Body, Expr::value("cold"))
                .filter(notes::Column::Id.is_in([1, 3]))
                .into_query(),
        );
        let none = writes.push(
            notes::Entity::update_many()
                .col_expr(notes::Column::Body, Expr::value("lost"))
                .filter(notes::Column::Id.eq(99))
                .into_query(),
        );
        let removed = writes.push(
            notes::Entity::delete_many()
                .filter(notes::Column::Id.eq(2))
                .into_query(),
        );
        let written = writes.exec(&db).await.expect("the writes");
        assert_eq!(
            [added, changed, none, removed].map(|write| written.rows(write)),
            [1, 2, 0, 1]
        );
        let left: Vec<(i32, String)> = notes::Entity::find()
            .order_by_asc(notes::Column::Id)
            .all(&db)
            .await
            .expect("the notes")
            .into_iter()
            .map(|note| (note.id, note.body))
            .collect();
        assert_eq!(
            left,
            [(1, "cold".into()), (3, "cold".into()), (4, "warm".into())]
        );
        assert_eq!(
            Writes::default().exec(&db).await.expect("nothing"),
            Written(Vec::new())
        );
    }

    /// Release builds trust the pairing; debug builds, which run the
    /// tests, check it on every row.
    #[cfg(debug_assertions)]
    #[tokio::test]
    #[should_panic(expected = "a row of notes is not what reading it by name gives")]
    async fn a_field_read_from_another_column_fails_in_debug_builds() {
        let db = notes().await;
        let _ = all_by_position(&db, swapped_notes::Entity::find()).await;
    }
}
