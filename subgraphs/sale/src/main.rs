//! `salesync-sale [serve|migrate|sdl]`: the sale subgraph alone, as a
//! container runs it.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    salesync_common::app::main::<salesync_sale::Sale>().await
}
