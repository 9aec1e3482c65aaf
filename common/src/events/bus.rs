//! The bus behind Kafka and the in-process implementation.

use std::time::Duration;

use async_trait::async_trait;

use crate::shutdown::Stop;

/// How a subscriber shares a topic with others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Members of one group share the events, each to one member, from the
    /// group's committed offset: read models, work queues. One group per subgraph.
    Group(String),
    /// This subscriber sees every event published from now on, whatever
    /// other replicas do: feeds for GraphQL subscriptions, what each
    /// replica must know.
    Broadcast(Latency),
}

/// How soon a broadcast subscriber must hear of an event. On a broker that
/// answers a waiting fetch only when the wait is over (tansu), hearing
/// sooner costs fetches while nothing happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    /// A person watches (a terminal's `tableChanged`): as soon as the bus
    /// allows (`live_fetch_wait_ms`).
    Live,
    /// Within about half a second (who may still act for a store).
    Relaxed,
}

/// A received message.
#[derive(Debug, Clone)]
pub struct Message {
    pub topic: String,
    pub key: Option<String>,
    pub payload: Vec<u8>,
    pub partition: i32,
    pub offset: i64,
    /// Published again after the bus lost its log: news to a consumer that
    /// never applied it, old news to a feed.
    pub replayed: bool,
    /// The generation of the topic's log it was published into
    /// ([`Outgoing::epoch`]).
    pub epoch: i64,
}

/// A message to publish.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub topic: &'a str,
    pub key: &'a str,
    pub payload: &'a [u8],
    /// Published again after the bus lost its log ([`Message::replayed`]).
    pub replayed: bool,
    /// The generation of the topic's log: 0 at first, raised by the relay
    /// each time it finds the log lost and publishes it again. A group's
    /// committed offset into an older generation may point past events of
    /// the new log, so a member that meets a newer generation reads the
    /// partition again from its start (applied events are skipped by id).
    pub epoch: i64,
}

/// Where a message landed: its partition and offset in the topic's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Creates the topics that do not exist yet.
    async fn ensure_topics(&self, topics: &[&str]) -> anyhow::Result<()>;
    /// Publishes every message of `batch` at once and waits until the bus
    /// has them all (acknowledged by the broker); their positions, in the
    /// batch's order. Messages of one key land in the batch's order. On an
    /// error some may have landed and others not.
    async fn publish_all(&self, batch: &[Outgoing<'_>]) -> anyhow::Result<Vec<Position>>;
    /// Publishes one message and waits until the bus has it.
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<Position> {
        let outgoing = Outgoing {
            topic,
            key,
            payload,
            replayed: false,
            epoch: 0,
        };
        let mut landed = self.publish_all(&[outgoing]).await?;
        Ok(landed.pop().expect("BUG: a position for every message"))
    }
    /// The offset the next message of each of `topic`'s partitions will get.
    async fn ends(&self, topic: &str) -> anyhow::Result<Vec<Position>>;
    /// Subscribes to one topic.
    async fn subscribe(
        &self,
        topic: &str,
        delivery: Delivery,
    ) -> anyhow::Result<Box<dyn Subscription>>;
    /// Whether the bus answers now, for `/ready`.
    async fn health(&self) -> Result<String, String>;
}

#[async_trait]
pub trait Subscription: Send {
    /// The next message; waits for one.
    async fn next(&mut self) -> anyhow::Result<Message>;
    /// Marks `message` and everything before it in its partition as done
    /// for the group. Until then, a restarted member receives it again.
    async fn commit(&mut self, message: &Message) -> anyhow::Result<()>;
    /// Delivers `partition` again from the start of its log.
    async fn rewind(&mut self, partition: i32) -> anyhow::Result<()>;
    /// How many messages of `message`'s partition come after it, as far as
    /// this subscriber knows without asking the bus; None when unknown.
    fn lag(&self, message: &Message) -> Option<i64>;
}

/// Subscribes, retrying every second while the bus is unreachable; None
/// when `stop` came first.
pub async fn subscribe_until_stopped(
    bus: &dyn EventBus,
    topic: &str,
    delivery: Delivery,
    stop: &mut Stop,
) -> Option<Box<dyn Subscription>> {
    loop {
        match bus.subscribe(topic, delivery.clone()).await {
            Ok(subscription) => return Some(subscription),
            Err(error) => {
                tracing::warn!(topic, error = ?error, "failed to subscribe; retrying");
                tokio::select! {
                    _ = stop.wait() => return None,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    }
}
