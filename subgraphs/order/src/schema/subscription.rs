use async_graphql::{Context, Subscription};
use futures::{Stream, stream};
use salesync_common::{Error, Result, auth::CallerExt, events::feed::Notice};
use tokio::sync::broadcast::error::RecvError;

use super::{OrderState, types::Order};

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// Every change to the caller's orders (opened, changed, cancelled,
    /// paid), from any terminal and any replica: keeps every terminal's
    /// floor plan current. When changes may have been missed (the broker was
    /// away, or this subscriber fell too far behind), it ends with an error
    /// (`extensions.reason` `UNAVAILABLE`): subscribe again, then re-read
    /// `openOrders`. While the broker is away, subscribing is refused the
    /// same way.
    async fn table_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<impl Stream<Item = Result<Order>> + use<>> {
        let store_id = ctx.store_id()?;
        let state = ctx.data_unchecked::<OrderState>();
        let feed = state.feed.follow(store_id)?;
        Ok(stream::unfold(Some(feed), move |feed| async move {
            let mut feed = feed?;
            match feed.recv().await {
                Ok(Notice::Event(order)) => Some((Ok(Order(order)), Some(feed))),
                // Changes may be missing: say so, and end.
                Ok(Notice::Interrupted) | Err(RecvError::Lagged(_)) => {
                    Some((Err(Error::interrupted()), None))
                }
                Err(RecvError::Closed) => None,
            }
        }))
    }
}
