use async_graphql::{Context, Subscription};
use futures::{Stream, StreamExt};
use salesync_common::{Result, auth::CallerExt};
use tokio_stream::wrappers::BroadcastStream;

use super::{OrderState, types::Order};

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every change to the caller's orders (opened, changed, cancelled,
    /// paid), from any terminal and any replica: keeps every terminal's
    /// floor plan current.
    async fn table_changed(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = Order>> {
        let store_id = ctx.store_id()?;
        let state = ctx.data_unchecked::<OrderState>();
        Ok(
            BroadcastStream::new(state.feed.subscribe()).filter_map(move |change| async move {
                // A subscriber too slow to keep up skips what it missed (Lagged).
                match change {
                    Ok(order) if order.store_id == store_id => Some(Order(order)),
                    _ => None,
                }
            }),
        )
    }
}
