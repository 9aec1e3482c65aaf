//! `salesync-dashboard [serve|migrate|sdl|rebuild]`: the dashboard subgraph
//! alone, as a container runs it.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    salesync_common::app::main::<salesync_dashboard::Dashboard>().await
}
