//! An in-process bus with Kafka's semantics, for the one-command run and
//! fast tests: a log per topic, committed offsets per group, redelivery of
//! what a member took but did not commit when the group's members change.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, OnceLock},
};

use async_trait::async_trait;
use tokio::sync::watch;

use super::bus::{Delivery, EventBus, Message, Outgoing, Position, Subscription};

/// One message in a topic's log.
struct Record {
    key: String,
    payload: Vec<u8>,
    replayed: bool,
    epoch: i64,
}

#[derive(Default)]
struct State {
    logs: HashMap<String, Vec<Record>>,
    groups: HashMap<(String, String), Group>,
}

#[derive(Default)]
struct Group {
    /// Everything before this offset is done.
    committed: usize,
    /// The next offset to hand out to a member.
    cursor: usize,
}

/// The in-process bus. Clones share one log.
#[derive(Clone)]
pub struct MemoryBus {
    state: Arc<Mutex<State>>,
    /// Bumped on every publish, so waiting subscribers wake up.
    published: watch::Sender<u64>,
}

impl fmt::Debug for MemoryBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MemoryBus")
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryBus {
    pub fn new() -> Self {
        MemoryBus {
            state: Arc::default(),
            published: watch::channel(0).0,
        }
    }

    /// The bus every subgraph of this process shares (the one-command run).
    pub fn process_wide() -> Self {
        static BUS: OnceLock<MemoryBus> = OnceLock::new();
        BUS.get_or_init(MemoryBus::new).clone()
    }

    /// Loses every log and committed offset, as a broker that came back
    /// from a restart without its storage; subscribers are not told (tests
    /// of what survives such a loss).
    pub fn lose_everything(&self) {
        *self.lock() = State::default();
    }

    fn append(&self, message: &Outgoing<'_>) -> Position {
        let offset = {
            let mut state = self.lock();
            let log = state.logs.entry(message.topic.to_string()).or_default();
            log.push(Record {
                key: message.key.to_string(),
                payload: message.payload.to_vec(),
                replayed: message.replayed,
                epoch: message.epoch,
            });
            log.len() - 1
        };
        self.published.send_modify(|n| *n += 1);
        Position {
            partition: 0,
            offset: offset as i64,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the log half-written
        // (every change is one push or one assignment), so poisoning is ignored.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl EventBus for MemoryBus {
    async fn ensure_topics(&self, topics: &[&str]) -> anyhow::Result<()> {
        let mut state = self.lock();
        for topic in topics {
            state.logs.entry((*topic).to_string()).or_default();
        }
        Ok(())
    }

    async fn publish_all(&self, batch: &[Outgoing<'_>]) -> anyhow::Result<Vec<Position>> {
        Ok(batch.iter().map(|m| self.append(m)).collect())
    }

    async fn ends(&self, topic: &str) -> anyhow::Result<Vec<Position>> {
        let end = self.lock().logs.get(topic).map_or(0, Vec::len);
        Ok(vec![Position {
            partition: 0,
            offset: end as i64,
        }])
    }

    async fn subscribe(
        &self,
        topic: &str,
        delivery: Delivery,
    ) -> anyhow::Result<Box<dyn Subscription>> {
        let mut state = self.lock();
        let end = state.logs.get(topic).map_or(0, Vec::len);
        let position = match &delivery {
            Delivery::Broadcast(_) => Cursor::Own(end),
            Delivery::Group(group) => {
                // A member joins: like a Kafka rebalance, delivery resumes
                // from the committed offset, so what was taken but not
                // committed is delivered again.
                let entry = state
                    .groups
                    .entry((topic.to_string(), group.clone()))
                    .or_default();
                entry.cursor = entry.committed;
                Cursor::Group(group.clone())
            }
        };
        Ok(Box::new(MemorySubscription {
            bus: self.clone(),
            topic: topic.to_string(),
            position,
            published: self.published.subscribe(),
        }))
    }

    async fn health(&self) -> Result<String, String> {
        Ok("in-process".to_string())
    }
}

enum Cursor {
    Own(usize),
    Group(String),
}

struct MemorySubscription {
    bus: MemoryBus,
    topic: String,
    position: Cursor,
    published: watch::Receiver<u64>,
}

impl MemorySubscription {
    fn take(&mut self) -> Option<Message> {
        let mut state = self.bus.lock();
        let State { logs, groups } = &mut *state;
        let log = logs.get(&self.topic)?;
        let offset = match &mut self.position {
            Cursor::Own(next) => next,
            // A bus that lost everything lost the group too: it starts over.
            Cursor::Group(group) => {
                &mut groups
                    .entry((self.topic.clone(), group.clone()))
                    .or_default()
                    .cursor
            }
        };
        if *offset > log.len() {
            // The log is shorter than it was (lost and begun again): read
            // the new one from its start, as Kafka's earliest reset does.
            *offset = 0;
        }
        let record = log.get(*offset)?;
        let message = Message {
            topic: self.topic.clone(),
            key: Some(record.key.clone()),
            payload: record.payload.clone(),
            partition: 0,
            offset: *offset as i64,
            replayed: record.replayed,
            epoch: record.epoch,
        };
        *offset += 1;
        Some(message)
    }
}

#[async_trait]
impl Subscription for MemorySubscription {
    async fn next(&mut self) -> anyhow::Result<Message> {
        loop {
            self.published.borrow_and_update();
            if let Some(message) = self.take() {
                return Ok(message);
            }
            self.published.changed().await?;
        }
    }

    async fn rewind(&mut self, _partition: i32) -> anyhow::Result<()> {
        match &mut self.position {
            Cursor::Own(next) => *next = 0,
            Cursor::Group(group) => {
                let mut state = self.bus.lock();
                if let Some(entry) = state.groups.get_mut(&(self.topic.clone(), group.clone())) {
                    entry.cursor = 0;
                }
            }
        }
        Ok(())
    }

    fn lag(&self, message: &Message) -> Option<i64> {
        let end = self.bus.lock().logs.get(&self.topic).map_or(0, Vec::len);
        Some((end as i64 - message.offset - 1).max(0))
    }

    async fn commit(&mut self, message: &Message) -> anyhow::Result<()> {
        if let Cursor::Group(group) = &self.position {
            let mut state = self.bus.lock();
            if let Some(entry) = state.groups.get_mut(&(self.topic.clone(), group.clone())) {
                entry.committed = entry.committed.max(message.offset as usize + 1);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Latency;

    async fn payloads(sub: &mut Box<dyn Subscription>, n: usize) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(sub.next().await.expect("message").payload);
        }
        out
    }

    #[tokio::test]
    async fn broadcast_subscribers_each_see_every_later_event() {
        let bus = MemoryBus::new();
        bus.publish("t", "k", b"before").await.expect("publish");
        let mut a = bus
            .subscribe("t", Delivery::Broadcast(Latency::Live))
            .await
            .expect("sub");
        let mut b = bus
            .subscribe("t", Delivery::Broadcast(Latency::Live))
            .await
            .expect("sub");
        bus.publish("t", "k", b"one").await.expect("publish");
        bus.publish("t", "k", b"two").await.expect("publish");
        assert_eq!(
            payloads(&mut a, 2).await,
            [b"one".to_vec(), b"two".to_vec()]
        );
        assert_eq!(
            payloads(&mut b, 2).await,
            [b"one".to_vec(), b"two".to_vec()]
        );
    }

    #[tokio::test]
    async fn a_group_shares_events_and_redelivers_what_was_not_committed() {
        let bus = MemoryBus::new();
        for n in 0..4u8 {
            bus.publish("t", "k", &[n]).await.expect("publish");
        }
        let group = Delivery::Group("g".into());
        let mut a = bus.subscribe("t", group.clone()).await.expect("sub");
        let first = a.next().await.expect("message");
        a.commit(&first).await.expect("commit");
        let second = a.next().await.expect("message");
        assert_eq!(second.payload, [1]);
        drop(a); // "crashes" before committing the second

        let mut b = bus.subscribe("t", group).await.expect("sub");
        assert_eq!(payloads(&mut b, 3).await, [vec![1], vec![2], vec![3]]);
    }
}
