//! `salesync-item [serve|migrate|sdl]`: the item subgraph alone, as a
//! container runs it.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    salesync_common::app::main::<salesync_item::Item>().await
}
