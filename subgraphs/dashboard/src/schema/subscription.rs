use std::{sync::Arc, time::Duration};

use async_graphql::{Context, ID, Subscription};
use futures::{Stream, stream};
use salesync_common::{
    Error, Result,
    auth::CallerExt,
    events::feed::{Follower, Notice},
    input,
};
use tokio::sync::broadcast::error::RecvError;
use uuid::Uuid;

use super::{DashboardState, types::ConsultingResult};
use crate::{domain::ConsultingUpdate, service::Dashboard};

/// How long a subscription waits for the first news of a request it does
/// not know yet (the client subscribed right after asking) before it is
/// NOT_FOUND.
const FIRST_NEWS_WITHIN: Duration = Duration::from_secs(15);

/// How often a waiting subscription also reads what is kept.
const RECHECK_EVERY: Duration = Duration::from_millis(500);

pub struct Subscription;

#[Subscription]
impl Subscription {
    /// One of the caller's consulting requests as it goes: progress while
    /// the advice is written (the text so far, at a bounded rate), then the
    /// result, then the subscription completes. Subscribed after the end,
    /// it delivers the result at once. Another store's request is NOT_FOUND.
    async fn consulting_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consulting request's id.")] request_id: ID,
    ) -> Result<impl Stream<Item = ConsultingResult> + use<>> {
        let store_id = ctx.store_id()?;
        let request_id = input::id(&request_id, "consulting request")?;
        let state = ctx.data_unchecked::<DashboardState>();
        // Listen before reading what is kept, so nothing falls between.
        let feed = state.consulting.subscribe_to(store_id);
        let kept = state
            .dashboard
            .consulting_result(store_id, request_id)
            .await?;
        let mut watch = Watch {
            feed,
            dashboard: state.dashboard.clone(),
            store_id,
            request_id,
            seen: None,
            first: None,
        };
        let first = match kept {
            Some(kept) => kept,
            None => tokio::time::timeout(FIRST_NEWS_WITHIN, watch.news())
                .await
                .ok()
                .flatten()
                .ok_or_else(|| Error::not_found("no such consulting request"))?,
        };
        watch.first = Some(first);
        Ok(stream::unfold(watch, |mut watch| async move {
            let update = watch.next().await?;
            Some((ConsultingResult::from(update.as_ref()), watch))
        }))
    }
}

/// One subscriber's view of one request.
struct Watch {
    feed: Follower<ConsultingUpdate>,
    dashboard: Dashboard,
    store_id: Uuid,
    request_id: Uuid,
    /// What the subscriber was sent last.
    seen: Option<Arc<ConsultingUpdate>>,
    first: Option<ConsultingUpdate>,
}

impl Watch {
    /// The next news for the subscriber; none once it was sent the end.
    async fn next(&mut self) -> Option<Arc<ConsultingUpdate>> {
        if self.seen.as_ref().is_some_and(|s| s.status.is_final()) {
            return None;
        }
        loop {
            let update = match self.first.take() {
                Some(first) => first,
                None => self.news().await?,
            };
            if update.is_news_after(self.seen.as_deref()) {
                let update = Arc::new(update);
                self.seen = Some(update.clone());
                return Some(update);
            }
        }
    }

    /// The next event of the request from this replica's feed, or what is
    /// kept, when that is further on than what the subscriber saw: the feed
    /// and the kept results are fed by two consumers, so an event may reach
    /// the feed before this subscriber listened and the table only after it
    /// read it. None when the feed closed.
    async fn news(&mut self) -> Option<ConsultingUpdate> {
        loop {
            tokio::select! {
                received = self.feed.recv() => match received {
                    Ok(Notice::Event(update)) if update.request_id == self.request_id => {
                        return Some(update.as_ref().clone());
                    }
                    Ok(Notice::Event(_)) => {}
                    // Too slow to keep up, or the feed lost the broker: what
                    // is kept (its own consumer catches up) replaces what was
                    // missed, so this subscription need not end.
                    Ok(Notice::Interrupted) | Err(RecvError::Lagged(_)) => {
                        if let Some(kept) = self.kept_news().await {
                            return Some(kept);
                        }
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = tokio::time::sleep(RECHECK_EVERY) => {
                    if let Some(kept) = self.kept_news().await {
                        return Some(kept);
                    }
                }
            }
        }
    }

    /// What is kept, if it is news to the subscriber.
    async fn kept_news(&self) -> Option<ConsultingUpdate> {
        let kept = self
            .dashboard
            .consulting_result(self.store_id, self.request_id)
            .await
            .ok()??;
        kept.is_news_after(self.seen.as_deref()).then_some(kept)
    }
}
