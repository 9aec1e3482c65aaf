//! `salesync-store [serve|migrate|sdl]`: runs the store subgraph alone (one
//! process, as in a container), applies its migrations, or prints its SDL.

use salesync_common::{config::Layers, server::shutdown_signal, telemetry};
use salesync_store::{Application, config::StoreConfig, migrate, schema};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    if command == "sdl" {
        print!("{}", schema::sdl());
        return Ok(());
    }
    let config = StoreConfig::from_layers(&Layers::load()?)?;
    telemetry::init(config.settings.log_format);
    match command.as_str() {
        "serve" => {
            Application::build(config)
                .await?
                .run_until_stopped(shutdown_signal())
                .await
        }
        "migrate" => migrate(&config).await,
        other => anyhow::bail!("unknown command {other:?}: use serve, migrate or sdl"),
    }
}
