//! `salesync [run|demo|schema]`
//!
//! - `run` (default): every subgraph and the router, SQLite files under
//!   `./data` and the in-process bus unless `DATABASE_URL` / `KAFKA_BROKERS`
//!   say otherwise. Ctrl-C stops everything.
//! - `demo [--days N] [--orders N] [--username U] [--password P]`: a Korean
//!   restaurant with a menu and N days of orders, payments and refunds, on
//!   the same databases; run it while the system is stopped.
//! - `schema`: rewrites `schema/<subgraph>.graphql` from the code, then
//!   composes `schema/supergraph.graphql` (needs Node.js).

use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use salesync::{demo::DemoOptions, export_sdl, repo_root, router_command, subgraphs};
use salesync_common::{config::Layers, shutdown, telemetry};

#[global_allocator]
static ALLOCATOR: salesync_common::Allocator = salesync_common::Allocator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref().unwrap_or("run") {
        "run" => run().await,
        "demo" => demo().await,
        "schema" => schema(),
        other => anyhow::bail!("unknown command {other:?}: use run, demo or schema"),
    }
}

async fn demo() -> anyhow::Result<()> {
    let mut options = DemoOptions::default();
    let mut args = std::env::args().skip(2);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--days" => options.days = value()?.parse().context("--days: a number")?,
            "--orders" => {
                options.orders_per_day = value()?.parse().context("--orders: a number")?
            }
            "--username" => options.username = value()?,
            "--password" => options.password = value()?,
            other => anyhow::bail!(
                "unknown option {other:?}: use --days, --orders, --username or --password"
            ),
        }
    }
    let layers = Layers::load()?;
    // Quiet unless RUST_LOG says otherwise: the progress bar is the output.
    telemetry::init_with_default("demo", layers.service("launcher", 0)?.log_format, "warn");
    println!(
        "Creating a demo restaurant with {} days of orders...",
        options.days
    );
    let store = salesync::demo::create(&layers, &options).await?;
    println!(
        "  {} dishes, {} orders, {} refunds, {} to {}: {} won in all.",
        store.items,
        store.orders,
        store.refunds,
        store.first_day,
        store.last_day,
        store.daily_volume.values().sum::<i64>()
    );
    println!();
    println!("  Now run `scripts/run` and log in:");
    println!(
        "  mutation {{ login(username: \"{}\", password: \"{}\") {{ token }} }}",
        options.username, options.password
    );
    Ok(())
}

fn schema() -> anyhow::Result<()> {
    let root = repo_root();
    export_sdl(&root.join("schema"))?;
    let status = std::process::Command::new("node")
        .arg(root.join("schema/compose/compose.mjs"))
        .status()
        .context("failed to run node: install Node.js and `npm ci` in schema/compose")?;
    anyhow::ensure!(status.success(), "composition failed");
    println!("wrote {}", root.join("schema/supergraph.graphql").display());
    Ok(())
}

async fn run() -> anyhow::Result<()> {
    let layers = Layers::load()?;
    telemetry::init("launcher", layers.service("launcher", 0)?.log_format);

    let (trigger, stop) = shutdown::channel();
    let mut tasks = Vec::new();
    let mut urls = Vec::new();
    for subgraph in subgraphs() {
        // Each on its own default port: one `SALESYNC_PORT` cannot serve them all.
        let app = (subgraph.build)(&layers, &|settings| settings.port = subgraph.default_port)
            .await
            .with_context(|| format!("the {} subgraph did not start", subgraph.name))?;
        urls.push((subgraph.name, subgraph.url(app.port())));
        let mut stop = stop.clone();
        let name = subgraph.name;
        tasks.push(tokio::spawn(async move {
            let result = app
                .run_until_stopped(async move { stop.wait().await })
                .await;
            (name, result)
        }));
    }

    let mut router = start_router(&urls)?;
    let router_port = std::env::var("ROUTER_PORT").unwrap_or_else(|_| "4000".into());
    wait_until_ready(&format!("http://127.0.0.1:{router_port}/readiness")).await;
    println!();
    println!("  Salesync is up.");
    println!("  Playground:  http://127.0.0.1:{router_port}/graphql");
    for (name, url) in &urls {
        println!("  {name:<12} {url}");
    }
    println!("  Ctrl-C stops everything.");
    println!();

    // Whatever ends the run is logged: a signal, the router, or a subgraph
    // that stopped (or panicked) on its own, which stops the rest.
    let mut running = futures::stream::FuturesUnordered::from_iter(tasks);
    let outcome = tokio::select! {
        _ = shutdown::signal() => {
            tracing::info!("stopping on a signal");
            Ok(())
        }
        status = router.wait() => {
            tracing::error!(?status, "the router exited; stopping the subgraphs");
            Err(anyhow::anyhow!("the router exited: {status:?}"))
        }
        Some(ended) = running.next() => {
            let why = match ended {
                Ok((name, Ok(()))) => format!("the {name} subgraph stopped"),
                Ok((name, Err(error))) => format!("the {name} subgraph failed: {error:?}"),
                Err(panic) => format!("a subgraph panicked: {panic}"),
            };
            tracing::error!(%why, "stopping everything");
            Err(anyhow::anyhow!(why))
        }
    };
    let _ = router.start_kill();
    trigger.stop();
    // Open subscriptions would hold a graceful shutdown forever.
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(ended) = running.next().await {
            if let Ok((name, Err(error))) = ended {
                tracing::warn!(subgraph = name, error = ?error, "stopped with an error");
            }
        }
    })
    .await;
    tracing::info!("stopped");
    outcome
}

fn start_router(urls: &[(&str, String)]) -> anyhow::Result<tokio::process::Child> {
    let exe = std::env::current_exe()?;
    let router_bin = exe
        .parent()
        .map(|dir| dir.join("salesync-router"))
        .filter(|path| path.exists())
        .context("salesync-router not found beside this binary: run `cargo build --bins`")?;
    router_command(&router_bin, urls)
        .spawn()
        .context("failed to start the router")
}

async fn wait_until_ready(url: &str) {
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tracing::warn!(url, "the router is not ready yet");
}
