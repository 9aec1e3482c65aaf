//! The whole system on one machine, and the schema export.
//!
//! Every subgraph runs in this process on its own port, exactly as it would
//! alone; the router runs as a child process (`salesync-router`, built beside
//! this binary), because Hive Router owns its own runtime.

use std::path::{Path, PathBuf};

/// One subgraph: its name, default port and SDL.
pub struct Subgraph {
    pub name: &'static str,
    pub port: u16,
    pub sdl: fn() -> String,
}

/// Every subgraph, in the order of `schema/subgraphs.json`.
pub fn subgraphs() -> Vec<Subgraph> {
    vec![
        Subgraph {
            name: "store",
            port: salesync_store::config::DEFAULT_PORT,
            sdl: salesync_store::schema::sdl,
        },
        Subgraph {
            name: "item",
            port: salesync_item::config::DEFAULT_PORT,
            sdl: salesync_item::schema::sdl,
        },
        Subgraph {
            name: "order",
            port: salesync_order::config::DEFAULT_PORT,
            sdl: salesync_order::schema::sdl,
        },
    ]
}

/// The repository root, found from the working directory or this crate.
pub fn repo_root() -> PathBuf {
    let from_cwd = std::env::current_dir()
        .ok()
        .filter(|d| d.join("schema").is_dir());
    from_cwd.unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The router process, pointed at the subgraphs in `urls` (name, GraphQL
/// URL): `<NAME>_URL` for each, the store's JWKS for tokens, and the
/// repository's `router/router.config.yaml`.
pub fn router_command(router_bin: &Path, urls: &[(&str, String)]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(router_bin);
    command.env(
        "ROUTER_CONFIG_FILE_PATH",
        repo_root().join("router/router.config.yaml"),
    );
    for (name, url) in urls {
        command.env(format!("{}_URL", name.to_uppercase()), url);
        if *name == "store" {
            command.env(
                "JWKS_URL",
                url.replace("/graphql", "/.well-known/jwks.json"),
            );
        }
    }
    command
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    command
}

/// Writes `schema/<name>.graphql` for every subgraph from the code.
pub fn export_sdl(schema_dir: &Path) -> anyhow::Result<()> {
    for subgraph in subgraphs() {
        let path = schema_dir.join(format!("{}.graphql", subgraph.name));
        std::fs::write(&path, (subgraph.sdl)())?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
