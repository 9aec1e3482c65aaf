//! What makes a crate a runnable subgraph: the [`Subgraph`] trait, the
//! [`Builder`] that hands its parts what they need, the bound
//! [`Application`] it builds, and the [`main`] every subgraph binary runs
//! (`salesync-<name> [serve|migrate|sdl|<its own commands>]`).

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use anyhow::Context;
use axum::{Router, http::header::CONTENT_TYPE, response::IntoResponse, routing::get};
use sea_orm::DatabaseConnection;
use sea_orm_migration::MigratorTrait;
use serde::de::DeserializeOwned;

use crate::{
    auth::TokenVerifier,
    config::{Config, Layers, Settings},
    db::{Database, StatementCounter, connect_and_migrate, ping},
    events::{
        self, EventBus,
        consumer::{self, Handler},
        outbox::{self, OutboxSignal, Relay},
        store_access::{OnStoreAccess, StoreAccess, StoreRows},
        store_copy::StoreCopy,
    },
    metrics::Metrics,
    server::{Readiness, Server},
    shutdown::{self, Stop},
    telemetry,
};

/// One subgraph: its name, its own configuration, its database schema, its
/// API, and how its parts are put together.
pub trait Subgraph: 'static {
    /// `store`, `item`, ...: names its database, its consumer group, its logs.
    const NAME: &'static str;
    /// Where it listens unless `SALESYNC_PORT` says otherwise.
    const DEFAULT_PORT: u16;
    /// Its own configuration sections beside the shared settings.
    type Sections: DeserializeOwned + Default + Send + 'static;
    /// Its database schema.
    type Migrator: MigratorTrait;

    /// The federation SDL that `schema/<name>.graphql` holds.
    fn sdl() -> String;

    /// Builds the service, schema and routes from the opened parts.
    fn build(
        parts: Builder,
        sections: Self::Sections,
    ) -> impl Future<Output = anyhow::Result<Application>> + Send;

    /// Its own commands beside `serve`, `migrate` and `sdl` (the dashboard's
    /// `rebuild`), as `(name, what it does)`.
    const COMMANDS: &'static [(&'static str, &'static str)] = &[];

    /// Runs one of [`Subgraph::COMMANDS`] with the arguments after its name,
    /// from the same opened parts `build` gets.
    fn command(
        name: &str,
        args: Vec<String>,
        parts: Builder,
        sections: Self::Sections,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        let _ = (args, parts, sections);
        let name = name.to_string();
        async move { anyhow::bail!("{} has no command {name:?}", Self::NAME) }
    }
}

/// Reads `S`'s configuration from `layers`.
pub fn config<S: Subgraph>(layers: &Layers) -> anyhow::Result<Config<S::Sections>> {
    Config::load(layers, S::NAME, S::DEFAULT_PORT)
}

/// Opens `S`'s database (created and migrated if needed) and its event bus,
/// then lets `S` put its parts together and bind its port.
pub async fn build<S: Subgraph>(config: Config<S::Sections>) -> anyhow::Result<Application> {
    S::build(open::<S>(config.settings).await?, config.sections).await
}

async fn open<S: Subgraph>(settings: Settings) -> anyhow::Result<Builder> {
    let db = open_database::<S>(&settings)
        .await
        .with_context(|| format!("{} database", S::NAME))?;
    let bus = events::connect(&settings.bus, S::NAME).await?;
    Ok(Builder {
        metrics: Metrics::new(S::NAME),
        settings,
        store_access: StoreAccess::new(db.conn.clone()),
        db,
        bus,
        outbox: OutboxSignal::default(),
        consumers: Vec::new(),
        tasks: Vec::new(),
    })
}

async fn open_database<S: Subgraph>(settings: &Settings) -> anyhow::Result<Database> {
    let url = settings.database.url_for(S::NAME)?;
    connect_and_migrate::<S::Migrator>(&url, &settings.pool).await
}

type Task = Box<dyn FnOnce(Stop) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A subgraph's parts while it is being put together: its settings, its
/// database, its event bus and outbox, the consumers and background tasks
/// it runs. [`Builder::serve`] binds it.
pub struct Builder {
    metrics: Metrics,
    settings: Settings,
    store_access: StoreAccess,
    db: Database,
    bus: Arc<dyn EventBus>,
    outbox: OutboxSignal,
    consumers: Vec<(&'static str, Arc<dyn Handler>)>,
    tasks: Vec<(&'static str, Task)>,
}

impl Builder {
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// What it counts, served at `/metrics`; `graphql::routes` counts the
    /// schema's operations in it.
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The subgraph's own database.
    pub fn db(&self) -> DatabaseConnection {
        self.db.conn.clone()
    }

    /// Call `notify()` after committing a transaction that enqueued events.
    pub fn outbox(&self) -> OutboxSignal {
        self.outbox.clone()
    }

    pub fn bus(&self) -> Arc<dyn EventBus> {
        self.bus.clone()
    }

    /// Verifies callers against the store subgraph's published keys, and
    /// refuses the tokens of stores this subgraph learned were deleted and
    /// the revoked tokens of the others (see [`Builder::store_access`]).
    pub fn token_verifier(&self) -> TokenVerifier {
        TokenVerifier::remote(&self.settings.auth).checking_store_access(self.store_access())
    }

    /// Which stores were deleted and which tokens revoked: the tables
    /// [`Builder::follow_store_access`] fills (or the store subgraph
    /// itself), kept in memory and told of each change by a feed that
    /// [`Builder::serve`] runs.
    pub fn store_access(&self) -> StoreAccess {
        self.store_access.clone()
    }

    /// A copy of `T`, a part of each store's profile, kept in memory in
    /// front of the table a consumer of `salesync.stores` fills; it hears
    /// profiles on the same feed as [`Builder::store_access`]. Run it as a
    /// [`Builder::task`].
    pub fn store_copy<T: DeserializeOwned + Clone + Send + 'static>(&self) -> StoreCopy<T> {
        StoreCopy::new(self.store_access.feed())
    }

    /// Applies every event on `topic` once, as a member of the consumer
    /// group named after the handler (the subgraph's replicas share them).
    pub fn consume(mut self, topic: &'static str, handler: impl Handler) -> Self {
        self.consumers.push((topic, Arc::new(handler)));
        self
    }

    /// When a store is deleted, lists it (its tokens are refused from then
    /// on) and removes its `rows`; when its tokens are revoked, refuses the
    /// older ones: what every subgraph but the store's does.
    pub fn follow_store_access(self, rows: impl StoreRows) -> Self {
        let handler = OnStoreAccess::new(self.settings.service, rows);
        self.consume(events::topics::STORES, handler)
    }

    /// A task that runs beside the server (a feed for subscriptions) and
    /// ends when it is told to stop.
    pub fn task<F, Fut>(mut self, name: &'static str, task: F) -> Self
    where
        F: FnOnce(Stop) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push(background_task(name, task));
        self
    }

    /// Binds `routes` with the probes, and the outbox relay and consumers
    /// beside them. `/ready` fails without the database; it shows the broker
    /// and the outbox backlog, which do not make the service unready: with
    /// the outbox, writes stay safe while Kafka is away.
    pub async fn serve(self, routes: Router) -> anyhow::Result<Application> {
        let Builder {
            metrics,
            settings,
            store_access,
            db,
            bus,
            outbox,
            consumers,
            tasks,
        } = self;
        let conn = db.conn.clone();
        let readiness = Readiness::default()
            .check("database", {
                let conn = conn.clone();
                move || {
                    let conn = conn.clone();
                    async move { ping(&conn).await.map(|()| "ok".to_string()) }
                }
            })
            .report("broker", {
                let bus = bus.clone();
                move || {
                    let bus = bus.clone();
                    async move { bus.health().await }
                }
            })
            .report("outbox_backlog", {
                let conn = conn.clone();
                move || {
                    let conn = conn.clone();
                    async move {
                        outbox::backlog(&conn)
                            .await
                            .map(|n| n.to_string())
                            .map_err(|e| format!("outbox: {e}"))
                    }
                }
            });
        let routes = routes.route(
            "/metrics",
            get({
                let (metrics, conn) = (metrics.clone(), conn.clone());
                move || scrape(metrics.clone(), conn.clone())
            }),
        );
        let server = Server::bind(&settings.host, settings.port, routes, readiness).await?;
        tracing::info!(subgraph = settings.service, address = %server.address(), "listening");

        let mut tasks = tasks;
        tasks.push(background_task("store-access", {
            let bus = bus.clone();
            move |stop| store_access.run(bus, stop)
        }));
        // Background work has connections of its own: events leave and
        // arrive while requests queue for theirs.
        let background = db.background.clone();
        let relay = Relay::new(background.clone(), bus.clone(), outbox);
        tasks.push(background_task("outbox-relay", move |stop| relay.run(stop)));
        let (retention, clock, consumes) = (
            settings.retention,
            settings.clock.clone(),
            !consumers.is_empty(),
        );
        tasks.push(background_task("retention", {
            let conn = background.clone();
            move |stop| events::retention::run(conn, clock, retention, consumes, stop)
        }));
        for (topic, handler) in consumers {
            let (bus, conn, metrics) = (bus.clone(), background.clone(), metrics.clone());
            // A group per consumer: two consumers of one topic in one
            // subgraph each see every event; replicas of one consumer share.
            let group = handler.name().to_string();
            tasks.push(background_task("consumer", move |stop| {
                consumer::run(bus, conn, topic, group, handler, metrics, stop)
            }));
        }
        Ok(Application {
            server,
            statements: db.statements,
            tasks,
        })
    }
}

/// `/metrics`: the counters, and the outbox backlog as it is now.
async fn scrape(metrics: Metrics, conn: DatabaseConnection) -> impl IntoResponse {
    match outbox::backlog(&conn).await {
        Ok(backlog) => metrics.outbox_backlog(backlog),
        Err(error) => tracing::warn!(error = %error, "metrics: failed to count the outbox"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics.render(),
    )
}

/// A named background task. Its SQL statements are not counted as requests'.
fn background_task<F, Fut>(name: &'static str, task: F) -> (&'static str, Task)
where
    F: FnOnce(Stop) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    (
        name,
        Box::new(move |stop| Box::pin(crate::db::in_background(task(stop)))),
    )
}

/// A subgraph, bound and ready to run.
pub struct Application {
    server: Server,
    statements: StatementCounter,
    tasks: Vec<(&'static str, Task)>,
}

impl Application {
    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The SQL statements this subgraph's requests have run so far.
    pub fn statements(&self) -> StatementCounter {
        self.statements.clone()
    }

    /// Serves and runs the background tasks until `shutdown`; then stops
    /// accepting, lets requests in flight finish and gives tasks a few
    /// seconds to end.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (trigger, stop) = shutdown::channel();
        let tasks: Vec<_> = self
            .tasks
            .into_iter()
            .map(|(name, task)| {
                tracing::debug!(task = name, "starting background task");
                tokio::spawn(task(stop.clone()))
            })
            .collect();
        let result = self
            .server
            .run_until_stopped(async move {
                shutdown.await;
                trigger.stop();
            })
            .await;
        let _ =
            tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(tasks)).await;
        result
    }
}

/// The `main` of every subgraph binary.
pub async fn main<S: Subgraph>() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| "serve".into());
    if command == "sdl" {
        print!("{}", S::sdl());
        return Ok(());
    }
    let config = config::<S>(&Layers::load()?)?;
    telemetry::init(S::NAME, config.settings.log_format);
    let result = run_command::<S>(&command, args.collect(), config).await;
    // Whatever ends the process says why, in the log (as JSON in production).
    match &result {
        Ok(()) => tracing::info!(subgraph = S::NAME, %command, "exiting"),
        Err(error) => {
            tracing::error!(subgraph = S::NAME, %command, error = ?error, "exiting on an error")
        }
    }
    result
}

async fn run_command<S: Subgraph>(
    command: &str,
    args: Vec<String>,
    config: Config<S::Sections>,
) -> anyhow::Result<()> {
    match command {
        "serve" => {
            build::<S>(config)
                .await?
                .run_until_stopped(shutdown::signal())
                .await
        }
        "migrate" => open_database::<S>(&config.settings).await.map(|_| ()),
        own if S::COMMANDS.iter().any(|(name, _)| *name == own) => {
            let parts = open::<S>(config.settings).await?;
            S::command(own, args, parts, config.sections).await
        }
        other => {
            let mut known = vec!["serve", "migrate", "sdl"];
            known.extend(S::COMMANDS.iter().map(|(name, _)| *name));
            anyhow::bail!("unknown command {other:?}: use one of {}", known.join(", "))
        }
    }
}
