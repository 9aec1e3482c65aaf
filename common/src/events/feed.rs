//! Feeds for GraphQL subscriptions: every event of a topic, read in
//! broadcast mode (every replica sees every event, whichever replica caused
//! it), turned into what subscribers want and sent to this replica's
//! subscribers. A subscriber filters what is its own.
//!
//! A feed that loses the bus cannot know what it missed, so it never goes
//! quiet: it tells its subscribers it was interrupted (they end with an
//! error the client acts on: subscribe again and re-read), refuses new
//! subscribers until it reads the bus again, then subscribes afresh at the
//! topic's end. A client that subscribed again after that and re-read the
//! state has missed nothing.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use tokio::sync::broadcast;

use super::{Delivery, Event, EventBus, Latency, bus};
use crate::{Error, shutdown::Stop};

/// How an event becomes what subscribers get; none for events they do not
/// care about.
pub type Read<T> = fn(&Event) -> anyhow::Result<Option<T>>;

/// What a feed's subscriber receives.
#[derive(Debug)]
pub enum Notice<T> {
    /// An event, as [`Read`] made it.
    Event(Arc<T>),
    /// The feed lost the bus: events may have been missed.
    Interrupted,
}

impl<T> Clone for Notice<T> {
    fn clone(&self) -> Self {
        match self {
            Notice::Event(item) => Notice::Event(item.clone()),
            Notice::Interrupted => Notice::Interrupted,
        }
    }
}

/// One topic's events for this replica's subscribers.
pub struct Feed<T> {
    notices: broadcast::Sender<Notice<T>>,
    /// Whether the feed reads the bus now.
    live: Arc<AtomicBool>,
    /// How many times it started reading the bus.
    reads: Arc<AtomicU64>,
}

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        Feed {
            notices: self.notices.clone(),
            live: self.live.clone(),
            reads: self.reads.clone(),
        }
    }
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed {
            notices: broadcast::channel(1024).0,
            live: Arc::new(AtomicBool::new(false)),
            reads: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl<T: Send + Sync + 'static> Feed<T> {
    /// Everything from now on, also while the feed is not live (a
    /// subscriber that can fall back on what is kept).
    pub fn subscribe(&self) -> broadcast::Receiver<Notice<T>> {
        self.notices.subscribe()
    }

    /// Everything from now on, for a subscriber that has only the feed:
    /// refused while the feed is not reading the bus, since what happens
    /// then would never reach it.
    pub fn follow(&self) -> crate::Result<broadcast::Receiver<Notice<T>>> {
        let receiver = self.notices.subscribe();
        if self.is_live() {
            Ok(receiver)
        } else {
            Err(Error::interrupted())
        }
    }

    /// Whether the feed reads the bus now.
    pub fn is_live(&self) -> bool {
        self.live.load(Ordering::SeqCst)
    }

    /// While the feed reads the bus, which of its readings this is: what
    /// was learned in one reading stays complete until it ends, and no
    /// longer (events in the gap were missed). `None` while it does not.
    pub fn reading(&self) -> Option<u64> {
        // Live first: a reading that ends and another that starts between
        // the two loads gives the newer number, never an older one.
        let live = self.is_live();
        live.then(|| self.reads.load(Ordering::SeqCst))
    }

    /// Reads `topic` in broadcast mode until `stop`; after the bus failed,
    /// interrupts the subscribers and subscribes again.
    pub async fn run(
        self,
        bus: Arc<dyn EventBus>,
        topic: &'static str,
        latency: Latency,
        read: Read<T>,
        mut stop: Stop,
    ) {
        loop {
            let Some(mut subscription) = bus::subscribe_until_stopped(
                bus.as_ref(),
                topic,
                Delivery::Broadcast(latency),
                &mut stop,
            )
            .await
            else {
                return;
            };
            self.reads.fetch_add(1, Ordering::SeqCst);
            self.live.store(true, Ordering::SeqCst);
            tracing::info!(topic, "the feed reads the bus");
            let error = loop {
                let message = tokio::select! {
                    _ = stop.wait() => {
                        self.live.store(false, Ordering::SeqCst);
                        return;
                    }
                    message = subscription.next() => message,
                };
                match message {
                    // Published again after the broker lost its log: its
                    // subscribers heard of it already, or re-read since.
                    Ok(message) if message.replayed => {}
                    Ok(message) => self.forward(topic, read, &message.payload),
                    Err(error) => break error,
                }
            };
            self.live.store(false, Ordering::SeqCst);
            // No subscriber right now is fine.
            let _ = self.notices.send(Notice::Interrupted);
            tracing::warn!(topic, error = ?error, "the feed lost the bus; its subscribers were told, and it subscribes again");
            drop(subscription);
            tokio::select! {
                _ = stop.wait() => return,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    fn forward(&self, topic: &str, read: Read<T>, payload: &[u8]) {
        let item = serde_json::from_slice::<Event>(payload)
            .map_err(anyhow::Error::from)
            .and_then(|event| read(&event));
        match item {
            // No subscriber right now is fine.
            Ok(Some(item)) => drop(self.notices.send(Notice::Event(Arc::new(item)))),
            Ok(None) => {}
            Err(error) => tracing::warn!(topic, error = ?error, "skipping an event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        events::{Outgoing, memory::MemoryBus, topics},
        shutdown,
    };

    fn read(event: &Event) -> anyhow::Result<Option<String>> {
        Ok(Some(event.event_type.clone()))
    }

    #[tokio::test]
    async fn a_feed_refuses_followers_until_it_reads_the_bus_then_forwards() {
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let feed = Feed::<String>::default();
        assert!(feed.follow().is_err(), "not live before it runs");
        let (trigger, stop) = shutdown::channel();
        let running =
            tokio::spawn(
                feed.clone()
                    .run(bus.clone(), topics::ORDERS, Latency::Live, read, stop),
            );
        while !feed.is_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut follower = feed.follow().expect("live");
        let event = Event::new("Opened", uuid::Uuid::new_v4(), serde_json::json!({}));
        bus.publish(
            topics::ORDERS,
            "k",
            &serde_json::to_vec(&event).expect("json"),
        )
        .await
        .expect("publish");
        match follower.recv().await.expect("a notice") {
            Notice::Event(item) => assert_eq!(item.as_str(), "Opened"),
            Notice::Interrupted => panic!("not interrupted"),
        }
        trigger.stop();
        running.await.expect("the feed ends");
        assert!(!feed.is_live());
    }

    #[tokio::test]
    async fn a_feed_skips_events_published_again_after_the_bus_lost_them() {
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let feed = Feed::<String>::default();
        let (trigger, stop) = shutdown::channel();
        let running =
            tokio::spawn(
                feed.clone()
                    .run(bus.clone(), topics::ORDERS, Latency::Live, read, stop),
            );
        while !feed.is_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut follower = feed.follow().expect("live");
        let json = |kind| {
            serde_json::to_vec(&Event::new(
                kind,
                uuid::Uuid::new_v4(),
                serde_json::json!({}),
            ))
            .expect("json")
        };
        let (old, new) = (json("Old"), json("New"));
        let message = |payload, replayed| Outgoing {
            topic: topics::ORDERS,
            key: "k",
            payload,
            replayed,
            epoch: 0,
        };
        bus.publish_all(&[message(&old, true), message(&new, false)])
            .await
            .expect("publish");
        match follower.recv().await.expect("a notice") {
            Notice::Event(item) => assert_eq!(item.as_str(), "New", "the replay was skipped"),
            Notice::Interrupted => panic!("not interrupted"),
        }
        trigger.stop();
        running.await.expect("the feed ends");
    }
}
