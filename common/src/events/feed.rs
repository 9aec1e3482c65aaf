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
    borrow::Cow,
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::broadcast::{self, error::RecvError};
use uuid::Uuid;

use super::{Delivery, EventBus, Happened, Latency, bus};
use crate::{Error, shutdown::Stop};

/// How an event becomes what subscribers get; none for events they do not
/// care about.
pub type Read<T> = fn(&Envelope<'_>) -> anyhow::Result<Option<T>>;

/// An event as a feed hears it: the envelope (the fields of
/// [`Event`](super::Event) a feed needs), the payload kept as the bytes it
/// came in. Only an event this replica's subscribers follow is read
/// further, and its payload straight into its type, without a JSON tree
/// between.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope<'a> {
    /// What happened, e.g. `OrderPaid`.
    #[serde(rename = "type", borrow)]
    pub event_type: Cow<'a, str>,
    /// The store it happened to.
    pub store_id: Uuid,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

impl Happened for Envelope<'_> {
    fn event_type(&self) -> &str {
        &self.event_type
    }

    fn store_id(&self) -> Uuid {
        self.store_id
    }

    fn occurred_at(&self) -> DateTime<Utc> {
        self.occurred_at
    }

    fn payload(&self) -> &RawValue {
        self.payload
    }
}

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

/// How long what a reader kept of a table answers without reading it
/// again, while the feed reads the bus. The feed is what keeps it right;
/// this only bounds how late a change is seen that was published while the
/// feed was away and reached the table after it came back.
pub const TRUSTED_FOR: Duration = Duration::from_secs(30);

/// When something a reader keeps was last confirmed, and in which of the
/// feed's readings ([`Feed::reading`]): read from a table, or heard.
#[derive(Debug, Clone, Copy, Default)]
pub struct Confirmed(Option<(u64, Instant)>);

impl Confirmed {
    /// Confirmed now, in `reading` (none: the feed was not reading the bus,
    /// and it answers for nothing).
    pub fn now_in(reading: Option<u64>) -> Self {
        Confirmed(reading.map(|r| (r, Instant::now())))
    }

    /// Whether it still answers in `reading`: confirmed in that reading,
    /// within [`TRUSTED_FOR`].
    pub fn answers_in(self, reading: u64) -> bool {
        self.0
            .is_some_and(|(r, at)| r == reading && at.elapsed() < TRUSTED_FOR)
    }
}

/// How many notices a reader of every store may fall behind before it
/// lags.
const EVERY_STORE_BACKLOG: usize = 1024;

/// How many notices a subscriber of one store may fall behind before it
/// lags. The feed lets a subscriber half this far behind run before it
/// goes on, so only one that cannot keep up (its connection stalled) gets
/// this far.
pub const ONE_STORE_BACKLOG: usize = 128;

/// Each followed store's channel, while it has subscribers.
type Stores<T> = Arc<Mutex<HashMap<Uuid, broadcast::Sender<Notice<T>>>>>;

/// One topic's events for this replica's subscribers.
pub struct Feed<T> {
    /// Every store's notices, for a reader of them all.
    every_store: broadcast::Sender<Notice<T>>,
    stores: Stores<T>,
    /// Whether the feed reads the bus now.
    live: Arc<AtomicBool>,
    /// How many times it started reading the bus.
    reads: Arc<AtomicU64>,
}

impl<T> Clone for Feed<T> {
    fn clone(&self) -> Self {
        Feed {
            every_store: self.every_store.clone(),
            stores: self.stores.clone(),
            live: self.live.clone(),
            reads: self.reads.clone(),
        }
    }
}

impl<T> Default for Feed<T> {
    fn default() -> Self {
        Feed {
            every_store: broadcast::channel(EVERY_STORE_BACKLOG).0,
            stores: Arc::default(),
            live: Arc::new(AtomicBool::new(false)),
            reads: Arc::new(AtomicU64::new(0)),
        }
    }
}

/// A subscriber of one store's notices. The store's channel goes when its
/// last subscriber does.
pub struct Follower<T> {
    notices: broadcast::Receiver<Notice<T>>,
    store_id: Uuid,
    stores: Stores<T>,
}

impl<T> Follower<T> {
    /// The store's next notice; `Lagged` when this subscriber fell too far
    /// behind, `Closed` when the feed is gone.
    pub async fn recv(&mut self) -> Result<Notice<T>, RecvError> {
        self.notices.recv().await
    }
}

impl<T> Drop for Follower<T> {
    fn drop(&mut self) {
        let mut stores = lock(&self.stores);
        // This follower's receiver still counts: one left means none after it.
        if stores
            .get(&self.store_id)
            .is_some_and(|sender| sender.receiver_count() <= 1)
        {
            stores.remove(&self.store_id);
        }
    }
}

/// Whether a channel's slowest subscriber is more than half its backlog
/// behind and not yet past it: worth letting run. One past it has stalled
/// (its connection does not take what it is sent), and is not waited for.
fn falling_behind<T>(channel: &broadcast::Sender<T>, backlog: usize) -> bool {
    let queued = channel.len();
    queued > backlog / 2 && queued < backlog
}

fn lock<T>(stores: &Stores<T>) -> MutexGuard<'_, HashMap<Uuid, broadcast::Sender<Notice<T>>>> {
    stores
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Send + Sync + 'static> Feed<T> {
    /// Every store's notices from now on, also while the feed is not live:
    /// for a reader that keeps what it hears of every store.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice<T>> {
        self.every_store.subscribe()
    }

    /// `store_id`'s notices from now on, also while the feed is not live
    /// (a subscriber that can fall back on what is kept).
    pub fn subscribe_to(&self, store_id: Uuid) -> Follower<T> {
        let notices = lock(&self.stores)
            .entry(store_id)
            .or_insert_with(|| broadcast::channel(ONE_STORE_BACKLOG).0)
            .subscribe();
        Follower {
            notices,
            store_id,
            stores: self.stores.clone(),
        }
    }

    /// `store_id`'s notices from now on, for a subscriber that has only the
    /// feed: refused while the feed is not reading the bus, since what
    /// happens then would never reach it.
    pub fn follow(&self, store_id: Uuid) -> crate::Result<Follower<T>> {
        let follower = self.subscribe_to(store_id);
        if self.is_live() {
            Ok(follower)
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
                    Ok(message) => {
                        if self.forward(topic, read, &message.payload) {
                            // The bus hands over a whole fetch without
                            // waiting (hundreds of one store's events after
                            // a busy moment), and a subscriber woken on this
                            // thread runs only once the feed waits: a burst
                            // longer than a backlog would cut off
                            // subscribers that were keeping up.
                            tokio::task::yield_now().await;
                        }
                    }
                    Err(error) => break error,
                }
            };
            self.live.store(false, Ordering::SeqCst);
            self.interrupt();
            tracing::warn!(topic, error = ?error, "the feed lost the bus; its subscribers were told, and it subscribes again");
            drop(subscription);
            tokio::select! {
                _ = stop.wait() => return,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
    }

    /// Tells the event's subscribers here, if it has any; whether one of
    /// them is [`falling_behind`], and should be let run.
    fn forward(&self, topic: &str, read: Read<T>, payload: &[u8]) -> bool {
        let heard = match serde_json::from_slice::<Envelope>(payload) {
            Ok(heard) => heard,
            Err(error) => {
                tracing::warn!(topic, error = ?error, "skipping an event");
                return false;
            }
        };
        // Every replica hears every store's events; most have nobody here
        // to tell, and are not read further.
        let store = lock(&self.stores)
            .get(&heard.store_id)
            .filter(|store| store.receiver_count() > 0)
            .cloned();
        if store.is_none() && self.every_store.receiver_count() == 0 {
            return false;
        }
        match read(&heard) {
            Ok(Some(item)) => {
                let notice = Notice::Event(Arc::new(item));
                // A channel whose subscribers are gone since takes nothing,
                // and has nobody to wait for.
                let mut behind = self.every_store.send(notice.clone()).is_ok()
                    && falling_behind(&self.every_store, EVERY_STORE_BACKLOG);
                if let Some(store) = store {
                    behind |=
                        store.send(notice).is_ok() && falling_behind(&store, ONE_STORE_BACKLOG);
                }
                behind
            }
            Ok(None) => false,
            Err(error) => {
                tracing::warn!(topic, error = ?error, "skipping an event");
                false
            }
        }
    }

    /// Tells every subscriber that events may have been missed.
    fn interrupt(&self) {
        let _ = self.every_store.send(Notice::Interrupted);
        for store in lock(&self.stores).values() {
            let _ = store.send(Notice::Interrupted);
        }
    }

    /// How many stores have subscribers on this replica.
    #[cfg(test)]
    fn followed_stores(&self) -> usize {
        lock(&self.stores).len()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::{
        events::{Event, Outgoing, memory::MemoryBus, topics},
        shutdown,
    };

    fn read(event: &Envelope<'_>) -> anyhow::Result<Option<String>> {
        Ok(Some(event.event_type.to_string()))
    }

    /// A feed of a fresh in-process bus, run until the trigger; returns
    /// once the feed reads the bus.
    async fn run_on_a_bus(
        feed: &Feed<String>,
    ) -> (
        Arc<dyn EventBus>,
        shutdown::Trigger,
        tokio::task::JoinHandle<()>,
    ) {
        run_reading(feed, read).await
    }

    /// The same, reading each event with `read`.
    async fn run_reading(
        feed: &Feed<String>,
        read: Read<String>,
    ) -> (
        Arc<dyn EventBus>,
        shutdown::Trigger,
        tokio::task::JoinHandle<()>,
    ) {
        let bus: Arc<dyn EventBus> = Arc::new(MemoryBus::new());
        let (trigger, stop) = shutdown::channel();
        let running =
            tokio::spawn(
                feed.clone()
                    .run(bus.clone(), topics::ORDERS, Latency::Live, read, stop),
            );
        while !feed.is_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        (bus, trigger, running)
    }

    /// An event of `kind` at `store`, as the bus carries it.
    fn json(kind: &str, store: Uuid) -> Vec<u8> {
        serde_json::to_vec(&Event::new(kind, store, serde_json::json!({}))).expect("json")
    }

    fn outgoing(payload: &[u8], replayed: bool) -> Outgoing<'_> {
        Outgoing {
            topic: topics::ORDERS,
            key: "k",
            payload,
            replayed,
            epoch: 0,
        }
    }

    #[tokio::test]
    async fn a_feed_refuses_followers_until_it_reads_the_bus_then_forwards() {
        let feed = Feed::<String>::default();
        let store = Uuid::new_v4();
        assert!(feed.follow(store).is_err(), "not live before it runs");
        let (bus, trigger, running) = run_on_a_bus(&feed).await;
        let mut follower = feed.follow(store).expect("live");
        bus.publish(topics::ORDERS, "k", &json("Opened", store))
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
    async fn only_events_of_a_store_someone_here_follows_are_read_and_straight_into_their_type() {
        static READS: AtomicUsize = AtomicUsize::new(0);
        #[derive(Deserialize)]
        struct Dish {
            name: String,
        }
        fn dish(event: &Envelope<'_>) -> anyhow::Result<Option<String>> {
            READS.fetch_add(1, Ordering::SeqCst);
            Ok(Some(event.payload_as::<Dish>()?.name))
        }
        let feed = Feed::<String>::default();
        let (bus, trigger, running) = run_reading(&feed, dish).await;
        let (followed, elsewhere) = (Uuid::new_v4(), Uuid::new_v4());
        let mut follower = feed.follow(followed).expect("live");
        let event = |store, name| {
            let event = Event::new("Served", store, serde_json::json!({ "name": name }));
            serde_json::to_vec(&event).expect("json")
        };
        let (unheard, heard) = (event(elsewhere, "soup"), event(followed, "stew"));
        bus.publish_all(&[outgoing(&unheard, false), outgoing(&heard, false)])
            .await
            .expect("publish");
        match follower.recv().await.expect("a notice") {
            Notice::Event(item) => assert_eq!(item.as_str(), "stew"),
            Notice::Interrupted => panic!("not interrupted"),
        }
        assert_eq!(
            READS.load(Ordering::SeqCst),
            1,
            "the event of a store nobody here follows was not read"
        );
        trigger.stop();
        running.await.expect("the feed ends");
    }

    #[tokio::test]
    async fn a_feed_skips_events_published_again_after_the_bus_lost_them() {
        let feed = Feed::<String>::default();
        let (bus, trigger, running) = run_on_a_bus(&feed).await;
        let store = Uuid::new_v4();
        let mut follower = feed.follow(store).expect("live");
        let (old, new) = (json("Old", store), json("New", store));
        bus.publish_all(&[outgoing(&old, true), outgoing(&new, false)])
            .await
            .expect("publish");
        match follower.recv().await.expect("a notice") {
            Notice::Event(item) => assert_eq!(item.as_str(), "New", "the replay was skipped"),
            Notice::Interrupted => panic!("not interrupted"),
        }
        trigger.stop();
        running.await.expect("the feed ends");
    }

    #[tokio::test]
    async fn a_follower_hears_its_own_store_only_and_others_cannot_push_it_behind() {
        let feed = Feed::<String>::default();
        let (bus, trigger, running) = run_on_a_bus(&feed).await;
        let (quiet, busy) = (Uuid::new_v4(), Uuid::new_v4());
        let mut quiet_follower = feed.follow(quiet).expect("live");
        let mut every_store = feed.subscribe();
        // More of another store's events than one store's backlog holds.
        let busy_events: Vec<_> = (0..ONE_STORE_BACKLOG + 10)
            .map(|_| json("Busy", busy))
            .collect();
        let own = json("Own", quiet);
        let mut messages: Vec<_> = busy_events.iter().map(|p| outgoing(p, false)).collect();
        messages.push(outgoing(&own, false));
        bus.publish_all(&messages).await.expect("publish");
        match quiet_follower.recv().await {
            Ok(Notice::Event(item)) => assert_eq!(item.as_str(), "Own", "only its own store"),
            other => panic!("expected its own event, got {other:?}"),
        }
        match every_store.recv().await {
            Ok(Notice::Event(item)) => assert_eq!(item.as_str(), "Busy", "every store's reader"),
            other => panic!("expected the first event, got {other:?}"),
        }
        trigger.stop();
        running.await.expect("the feed ends");
    }

    #[tokio::test]
    async fn a_store_is_followed_until_its_last_follower_leaves() {
        let feed = Feed::<String>::default();
        let store = Uuid::new_v4();
        let first = feed.subscribe_to(store);
        let second = feed.subscribe_to(store);
        let other = feed.subscribe_to(Uuid::new_v4());
        assert_eq!(feed.followed_stores(), 2);
        drop(first);
        assert_eq!(
            feed.followed_stores(),
            2,
            "one follower of the store is left"
        );
        drop(second);
        assert_eq!(
            feed.followed_stores(),
            1,
            "the store's channel went with its last follower"
        );
        drop(other);
        assert_eq!(feed.followed_stores(), 0);
    }

    #[test]
    fn a_subscriber_is_let_run_from_half_its_backlog_behind_until_it_stalls_past_it() {
        let (channel, _stalled) = broadcast::channel(8);
        let let_run: Vec<bool> = (0..12)
            .map(|n| {
                channel.send(n).expect("a subscriber");
                falling_behind(&channel, 8)
            })
            .collect();
        let expected = [false, false, false, false, true, true, true];
        assert_eq!(let_run[..7], expected, "let run past half its backlog");
        assert!(
            let_run[7..].iter().all(|run| !run),
            "not waited for once its backlog is full"
        );
    }

    #[tokio::test]
    async fn an_interruption_reaches_every_store_followed() {
        let feed = Feed::<String>::default();
        let mut followers: Vec<_> = (0..3).map(|_| feed.subscribe_to(Uuid::new_v4())).collect();
        let mut every_store = feed.subscribe();
        feed.interrupt();
        for follower in &mut followers {
            assert!(matches!(follower.recv().await, Ok(Notice::Interrupted)));
        }
        assert!(matches!(every_store.recv().await, Ok(Notice::Interrupted)));
    }
}
