//! `salesync-store [serve|migrate|sdl]`: the store subgraph alone, as a
//! container runs it.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    salesync_common::app::main::<salesync_store::Store>().await
}
