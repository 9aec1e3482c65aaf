//! `salesync-store [serve|migrate|sdl]`: the store subgraph alone, as a
//! container runs it.

#[global_allocator]
static ALLOCATOR: salesync_common::Allocator = salesync_common::Allocator;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    salesync_common::app::main::<salesync_store::Store>().await
}
