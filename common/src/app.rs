//! What makes a crate a runnable subgraph: the [`Subgraph`] trait, the
//! bound [`Application`] it builds, and the [`main`] every subgraph binary
//! runs (`salesync-<name> [serve|migrate|sdl]`).

use std::future::Future;

use axum::Router;
use sea_orm_migration::MigratorTrait;

use crate::{
    config::{Layers, Settings},
    db::{Database, StatementCounter, connect_and_migrate, ping},
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

/// A subgraph, bound and ready to run.
pub struct Application {
    server: Server,
    statements: StatementCounter,
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
            async move { ping(&conn).await }
        });
        let server = Server::bind(&settings.host, settings.port, routes, readiness).await?;
        tracing::info!(subgraph = settings.service, address = %server.address(), "listening");
        Ok(Application {
            server,
            statements: db.statements.clone(),
        })
    }

    pub fn port(&self) -> u16 {
        self.server.port()
    }

    /// The SQL statements this subgraph has run so far.
    pub fn statements(&self) -> StatementCounter {
        self.statements.clone()
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        self.server.run_until_stopped(shutdown).await
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
