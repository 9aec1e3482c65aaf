//! The whole system on one machine, and the schema export.
//!
//! [`subgraphs`] is the one list of subgraphs: the one-command run, the
//! schema export (and so the router's default URLs, which the composition
//! writes into the supergraph) and the test harness all read it.
//!
//! Every subgraph runs in this process on its own port, exactly as it would
//! alone; the router runs as a child process (`salesync-router`, built beside
//! this binary), because Hive Router owns its own runtime.

pub mod demo;

use std::path::{Path, PathBuf};

use futures::future::BoxFuture;
use salesync_common::{
    app::{self, Application, Subgraph},
    config::{Layers, Settings},
};
use serde_json::json;

/// Builds one subgraph from the layers, with the shared settings adjusted.
pub type BuildFn =
    fn(&Layers, &dyn Fn(&mut Settings)) -> BoxFuture<'static, anyhow::Result<Application>>;

/// One subgraph of the system.
pub struct Entry {
    pub name: &'static str,
    pub default_port: u16,
    /// Its federation SDL, as `schema/<name>.graphql` holds it.
    pub sdl: fn() -> String,
    /// Reads its configuration from the layers, lets `adjust` change the
    /// shared settings (the test harness gives each system its own bus),
    /// then builds and binds it.
    pub build: BuildFn,
}

/// Every subgraph, in the order they start: a subgraph starts after those
/// it asks on its callers' behalf.
pub fn subgraphs() -> Vec<Entry> {
    vec![
        entry::<salesync_store::Store>(),
        entry::<salesync_item::Item>(),
        entry::<salesync_order::Order>(),
        entry::<salesync_sale::Sale>(),
        entry::<salesync_dashboard::Dashboard>(),
        entry::<salesync_consulting::Consulting>(),
    ]
}

fn entry<S: Subgraph>() -> Entry {
    Entry {
        name: S::NAME,
        default_port: S::DEFAULT_PORT,
        sdl: S::sdl,
        build: build::<S>,
    }
}

fn build<S: Subgraph>(
    layers: &Layers,
    adjust: &dyn Fn(&mut Settings),
) -> BoxFuture<'static, anyhow::Result<Application>> {
    let config = app::config::<S>(layers).map(|mut config| {
        adjust(&mut config.settings);
        config
    });
    Box::pin(async move { app::build::<S>(config?).await })
}

impl Entry {
    /// Its GraphQL URL on this machine at `port`.
    pub fn url(&self, port: u16) -> String {
        format!("http://127.0.0.1:{port}/graphql")
    }
}

/// The repository root, found from the working directory or this crate.
pub fn repo_root() -> PathBuf {
    let from_cwd = std::env::current_dir()
        .ok()
        .filter(|d| d.join("schema").is_dir());
    from_cwd.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The router process, pointed at the subgraphs in `urls` (name, GraphQL
/// URL): `<NAME>_URL` for each, which `router.config.yaml` reads for every
/// subgraph; the store's JWKS for tokens; the repository's config file.
pub fn router_command(router_bin: &Path, urls: &[(&str, String)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(router_bin);
    command.env(
        "ROUTER_CONFIG_FILE_PATH",
        repo_root().join("router/router.config.yaml"),
    );
    for (name, url) in urls {
        command.env(format!("{}_URL", name.to_uppercase()), url);
        if *name == salesync_store::Store::NAME {
            command.env(
                "JWKS_URL",
                url.replace("/graphql", "/.well-known/jwks.json"),
            );
        }
    }
    command
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    dies_with_parent(&mut command);
    command
}

/// Makes the process `command` starts die with the thread that starts it.
/// `kill_on_drop` covers every ending that drops the handle; this covers
/// the one that does not: the parent killed outright (SIGKILL, a test
/// runner's timeout), which would otherwise leave a router or subgraph
/// running with its port taken. Linux only; elsewhere a no-op.
pub fn dies_with_parent(command: &mut tokio::process::Command) -> &mut tokio::process::Command {
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs in the child between fork and exec, and only
    // calls prctl, which is async-signal-safe; it touches no memory of the
    // parent's.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    command
}

/// Writes `schema/<name>.graphql` for every subgraph from the code, and
/// `schema/subgraphs.json`: the names and default URLs the composition
/// writes into the supergraph.
pub fn export_sdl(schema_dir: &Path) -> anyhow::Result<()> {
    let mut list = Vec::new();
    for subgraph in subgraphs() {
        let path = schema_dir.join(format!("{}.graphql", subgraph.name));
        std::fs::write(&path, (subgraph.sdl)())?;
        println!("wrote {}", path.display());
        list.push(json!({ "name": subgraph.name, "url": subgraph.url(subgraph.default_port) }));
    }
    let path = schema_dir.join("subgraphs.json");
    std::fs::write(&path, format!("{:#}\n", serde_json::Value::Array(list)))?;
    println!("wrote {}", path.display());
    Ok(())
}
