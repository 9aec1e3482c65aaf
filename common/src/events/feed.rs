//! Feeds for GraphQL subscriptions: every event of a topic, read in
//! broadcast mode (every replica sees every event, whichever replica caused
//! it), turned into what subscribers want and sent to this replica's
//! subscribers. A subscriber filters what is its own; one too slow to keep
//! up is told it lagged.

use std::{sync::Arc, time::Duration};

use tokio::sync::broadcast;

use super::{Delivery, Event, EventBus, bus};
use crate::shutdown::Stop;

/// How an event becomes what subscribers get; none for events they do not
/// care about.
pub type Read<T> = fn(&Event) -> anyhow::Result<Option<T>>;

/// One topic's events for this replica's subscribers.
pub struct Feed<T>(broadcast::Sender<Arc<T>>);

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        Feed(self.0.clone())
    }
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed(broadcast::channel(1024).0)
    }
}

impl<T: Send + Sync + 'static> Feed<T> {
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<T>> {
        self.0.subscribe()
    }

    /// Reads `topic` in broadcast mode until `stop`.
    pub async fn run(
        self,
        bus: Arc<dyn EventBus>,
        topic: &'static str,
        read: Read<T>,
        mut stop: Stop,
    ) {
        let Some(mut subscription) =
            bus::subscribe_until_stopped(bus.as_ref(), topic, Delivery::Broadcast, &mut stop).await
        else {
            return;
        };
        let mut receive_failures = 0u32;
        loop {
            let message = tokio::select! {
                _ = stop.wait() => return,
                message = subscription.next() => message,
            };
            let message = match message {
                Ok(message) => {
                    receive_failures = 0;
                    message
                }
                Err(error) => {
                    // While the broker is away this repeats twice a second.
                    receive_failures += 1;
                    if receive_failures == 1 || receive_failures.is_multiple_of(60) {
                        tracing::warn!(topic, failures = receive_failures, error = ?error, "failed to receive; retrying");
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let item = serde_json::from_slice::<Event>(&message.payload)
                .map_err(anyhow::Error::from)
                .and_then(|event| read(&event));
            match item {
                // No subscriber right now is fine.
                Ok(Some(item)) => drop(self.0.send(Arc::new(item))),
                Ok(None) => {}
                Err(error) => tracing::warn!(topic, error = ?error, "skipping an event"),
            }
        }
    }
}
