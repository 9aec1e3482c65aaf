//! What makes a crate a runnable subgraph: the [`Subgraph`] trait, the
//! bound [`Application`] it builds, and the [`main`] every subgraph binary
//! runs (`salesync-<name> [serve|migrate|sdl]`).

use std::{future::Future, pin::Pin, sync::Arc, time::Duration};

use axum::Router;
use sea_orm_migration::MigratorTrait;
use tokio::sync::watch;

use crate::{
    config::{Layers, Settings},
    db::{Database, StatementCounter, connect_and_migrate, ping},
    events::{
        self, EventBus,
        consumer::{self, Handler},
        outbox::{self, OutboxSignal, Relay},
    },
    server::{Readiness, Server, shutdown_signal},
    telemetry,
};

/// One subgraph: how it is configured, migrated, described and built.
pub trait Subgraph {
    /// Its configuration: the shared settings plus its own sections.
    type Config: Send + 'static;
    /// Its database schema.
    type Migrator: MigratorTrait;

    fn config(layers: &Layers) -> anyhow::Result<Self::Config>;
    fn settings(config: &Self::Config) -> &Settings;
    /// The federation SDL that `schema/<name>.graphql` holds.
    fn sdl() -> String;
    /// Connects, migrates, binds: everything but serving.
    fn build(config: Self::Config) -> impl Future<Output = anyhow::Result<Application>> + Send;

    /// Opens the subgraph's own database and applies its migrations.
    fn database(settings: &Settings) -> impl Future<Output = anyhow::Result<Database>> + Send {
        async move {
            let url = settings.database.url_for(settings.service)?;
            connect_and_migrate::<Self::Migrator>(&url).await
        }
    }
}

/// Tells background tasks that the application is stopping.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl From<watch::Receiver<bool>> for Stop {
    /// Stops once the sender sends `true`.
    fn from(receiver: watch::Receiver<bool>) -> Self {
        Stop(receiver)
    }
}

impl Stop {
    /// Resolves once stopping began (or whoever could signal it is gone).
    pub async fn wait(&mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

type Task = Box<dyn FnOnce(Stop) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A subgraph, bound and ready to run.
pub struct Application {
    server: Server,
    statements: StatementCounter,
    tasks: Vec<(&'static str, Task)>,
}

impl Application {
    /// Binds `routes` with the probes; `/ready` checks the database and `readiness`.
    pub async fn bind(
        settings: &Settings,
        routes: Router,
        db: &Database,
        readiness: Readiness,
    ) -> anyhow::Result<Self> {
        let conn = db.conn.clone();
        let readiness = readiness.check("database", move || {
            let conn = conn.clone();
            async move { ping(&conn).await.map(|()| "ok".to_string()) }
        });
        let server = Server::bind(&settings.host, settings.port, routes, readiness).await?;
        tracing::info!(subgraph = settings.service, address = %server.address(), "listening");
        Ok(Application {
            server,
            statements: db.statements.clone(),
            tasks: Vec::new(),
        })
    }

    /// A task that runs beside the server (an outbox relay, a consumer)
    /// and ends when it is told to stop.
    pub fn with_task<F, Fut>(mut self, name: &'static str, task: F) -> Self
    where
        F: FnOnce(Stop) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.tasks.push((
            name,
            Box::new(move |stop| Box::pin(crate::db::in_background(task(stop)))),
        ));
        self
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The SQL statements this subgraph has run so far.
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
        let (stop_tx, stop_rx) = watch::channel(false);
        let tasks: Vec<_> = self
            .tasks
            .into_iter()
            .map(|(name, task)| {
                tracing::debug!(task = name, "starting background task");
                tokio::spawn(task(Stop(stop_rx.clone())))
            })
            .collect();
        let result = self
            .server
            .run_until_stopped(async move {
                shutdown.await;
                let _ = stop_tx.send(true);
            })
            .await;
        let _ =
            tokio::time::timeout(Duration::from_secs(5), futures::future::join_all(tasks)).await;
        result
    }
}

/// A subgraph's events: the bus, its outbox and relay, its consumers.
#[derive(Clone)]
pub struct Events {
    pub bus: Arc<dyn EventBus>,
    /// Call `notify()` after committing a transaction that enqueued events.
    pub outbox: OutboxSignal,
    db: Database,
}

impl Events {
    /// Connects to the configured bus (creating missing topics).
    pub async fn connect(settings: &Settings, db: &Database) -> anyhow::Result<Self> {
        Ok(Events {
            bus: events::connect(&settings.bus, settings.service).await?,
            outbox: OutboxSignal::default(),
            db: db.clone(),
        })
    }

    /// Adds the broker and the outbox backlog to `/ready`. Neither makes the
    /// service unready: with the outbox, writes stay safe while Kafka is away.
    fn readiness(&self, readiness: Readiness) -> Readiness {
        let bus = self.bus.clone();
        let conn = self.db.conn.clone();
        readiness
            .report("broker", move || {
                let bus = bus.clone();
                async move { bus.health().await }
            })
            .report("outbox_backlog", move || {
                let conn = conn.clone();
                async move {
                    outbox::backlog(&conn)
                        .await
                        .map(|n| n.to_string())
                        .map_err(|e| format!("outbox: {e}"))
                }
            })
    }

    /// Binds `routes` with `/ready` reporting the events too, and runs the
    /// outbox relay and `consumers` beside the server.
    pub async fn bind(
        &self,
        settings: &Settings,
        routes: Router,
        consumers: Vec<(&'static str, String, Arc<dyn Handler>)>,
    ) -> anyhow::Result<Application> {
        let app = Application::bind(
            settings,
            routes,
            &self.db,
            self.readiness(Readiness::default()),
        )
        .await?;
        Ok(self.attach(app, consumers))
    }

    /// A token verifier for this subgraph that also refuses the stores it
    /// learned were deleted (`deleted_stores`, filled from `StoreDeleted`).
    pub fn token_verifier(&self, settings: &Settings) -> crate::auth::TokenVerifier {
        crate::auth::TokenVerifier::remote(&settings.auth)
            .refusing_deleted_stores(self.db.conn.clone())
    }

    /// Runs the outbox relay and the given consumers beside the server.
    fn attach(
        &self,
        mut app: Application,
        consumers: Vec<(&'static str, String, Arc<dyn Handler>)>,
    ) -> Application {
        let relay = Relay::new(self.db.conn.clone(), self.bus.clone(), self.outbox.clone());
        app = app.with_task("outbox-relay", move |stop| relay.run(stop));
        for (topic, group, handler) in consumers {
            let bus = self.bus.clone();
            let conn = self.db.conn.clone();
            app = app.with_task("consumer", move |stop| {
                consumer::run(bus, conn, topic, group, handler, stop)
            });
        }
        app
    }
}

/// The `main` of every subgraph binary.
pub async fn main<S: Subgraph>() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if command == "sdl" {
        print!("{}", S::sdl());
        return Ok(());
    }
    let config = S::config(&Layers::load()?)?;
    telemetry::init(S::settings(&config).log_format);
    match command.as_str() {
        "serve" => {
            S::build(config)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        "migrate" => S::database(S::settings(&config)).await.map(|_| ()),
        other => anyhow::bail!("unknown command {other:?}: use serve, migrate or sdl"),
    }
}
