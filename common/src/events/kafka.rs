//! The bus on Kafka, through rdkafka and the librdkafka it bundles.
//!
//! Publishing uses an idempotent producer, hands a batch over at once and
//! waits for the broker's acknowledgement of each message. Group
//! subscriptions commit offsets explicitly, after the handler's transaction
//! committed. Broadcast subscriptions join no group:
//! they assign every partition at its current end, so each replica sees
//! every event published after it subscribed.
//!
//! A group member resumes a little before its group's committed offset and
//! skips what the group had committed: tansu 0.6 answers a fetch from an
//! offset inside a record batch with the batches after it only, so a member
//! that resumed exactly there would lose the rest of that batch. Starting a
//! batch's length earlier reaches the batch's start.
//!
//! A consumer never outlives a broker outage: its owner drops it at the
//! first receive error and subscribes anew once the broker answers, and a
//! subscription first makes sure its topic exists. A broker that came back
//! empty has lost the topics, and librdkafka 2.12 crashes the process
//! (a null topic name in its metadata cache) when a consumer it kept fetches
//! a topic the broker no longer has. The consumers' slow reconnect gives
//! their owners the time to drop them first.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock},
    time::{Duration, Instant},
};

use anyhow::Context;
use async_trait::async_trait;
use rdkafka::{
    ClientConfig, Message as _, Offset, TopicPartitionList,
    admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
    client::{Client, ClientContext, DefaultClientContext},
    consumer::{
        BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol, StreamConsumer,
    },
    error::{KafkaError, RDKafkaErrorCode},
    message::{BorrowedMessage, Header, Headers, OwnedHeaders},
    producer::{FutureProducer, FutureRecord, Producer},
    types::RDKafkaRespErr,
    util::Timeout,
};
use uuid::Uuid;

use super::{
    KafkaSettings,
    bus::{Delivery, EventBus, Latency, Message, Outgoing, Position, Subscription},
};

const METADATA_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a message may wait for room in librdkafka's queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(10);
/// The header that marks a message published again after the broker lost it.
const REPLAY_HEADER: &str = "salesync-replay";
/// The header that carries a message's log generation ([`Outgoing::epoch`]),
/// where it is above 0.
const EPOCH_HEADER: &str = "salesync-epoch";
/// The most messages the producer puts in one record batch. A group member
/// resumes this many messages (less one) before its committed offset, which
/// reaches the start of the record batch that offset is in.
const MESSAGES_PER_BATCH: i64 = 100;
/// How long a member being assigned partitions waits for its group's
/// committed offsets.
const COMMITTED_TIMEOUT: Duration = Duration::from_secs(2);

pub struct KafkaBus {
    settings: KafkaSettings,
    client_id: String,
    producer: RwLock<(FutureProducer, Instant)>,
    /// One for the bus's life: librdkafka handles are costly to make and
    /// to tear down, and tearing one down while the broker is away is where
    /// librdkafka is least tested.
    admin: AdminClient<DefaultClientContext>,
}

impl KafkaBus {
    pub fn connect(settings: &KafkaSettings, service: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(!settings.brokers.is_empty(), "KAFKA_BROKERS is empty");
        let client_id = format!("salesync-{service}");
        let producer = new_producer(settings, &client_id)?;
        let admin = ClientConfig::new()
            .set("bootstrap.servers", &settings.brokers)
            .set("client.id", &client_id)
            .create()
            .context("failed to create the Kafka admin client")?;
        Ok(KafkaBus {
            settings: settings.clone(),
            client_id,
            producer: RwLock::new((producer, Instant::now())),
            admin,
        })
    }

    fn producer(&self) -> FutureProducer {
        self.producer
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// After a failed publish, starts over with a new producer (at most every
    /// few seconds). An idempotent producer whose broker lost its state (a
    /// broker restarted from empty storage, a fenced producer id) can stay
    /// stuck; a new one gets a new producer id. The outbox still holds the
    /// events, so nothing is lost, and consumers skip any duplicate.
    fn renew_producer(&self) {
        let mut current = self.producer.write().unwrap_or_else(|e| e.into_inner());
        if current.1.elapsed() < Duration::from_secs(5) {
            return;
        }
        match new_producer(&self.settings, &self.client_id) {
            Ok(producer) => {
                tracing::info!("replaced the Kafka producer after a failed publish");
                *current = (producer, Instant::now());
            }
            Err(error) => tracing::warn!(error = ?error, "failed to create a new Kafka producer"),
        }
    }

    /// A failed publish: renews the producer and names the topic.
    fn failed(&self, error: KafkaError, topic: &str) -> anyhow::Error {
        self.renew_producer();
        anyhow::Error::new(error).context(format!("failed to publish to {topic}"))
    }

    fn topic(&self, topic: &str) -> String {
        format!("{}{topic}", self.settings.namespace)
    }

    fn consumer(
        &self,
        group: &str,
        reset: &str,
        latency: Latency,
    ) -> anyhow::Result<KafkaConsumer> {
        ClientConfig::new()
            .set("bootstrap.servers", &self.settings.brokers)
            .set("client.id", &self.client_id)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", reset)
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // A topic created after the consumer subscribed (the broker was
            // down at start-up) is found within seconds, not minutes.
            .set("topic.metadata.refresh.interval.ms", "5000")
            // After losing the broker, wait before reconnecting: its owner
            // drops this consumer meanwhile (see the module's notes).
            .set("reconnect.backoff.ms", "3000")
            .set("reconnect.backoff.max.ms", "10000")
            .set("fetch.wait.max.ms", fetch_wait_ms(latency, &self.settings))
            .create_with_context(Resume::default())
            .context("failed to create a Kafka consumer")
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn ensure_topics(&self, topics: &[&str]) -> anyhow::Result<()> {
        let admin = &self.admin;
        let names: Vec<String> = topics.iter().map(|t| self.topic(t)).collect();
        let new: Vec<NewTopic> = names
            .iter()
            .map(|name| {
                NewTopic::new(
                    name,
                    self.settings.partitions,
                    TopicReplication::Fixed(self.settings.replication_factor),
                )
            })
            .collect();
        let options = AdminOptions::new()
            .operation_timeout(Some(Timeout::After(METADATA_TIMEOUT)))
            .request_timeout(Some(Timeout::After(METADATA_TIMEOUT)));
        // Bounded: with no broker, librdkafka would otherwise wait a minute,
        // and a subgraph's start-up with it.
        let results =
            tokio::time::timeout(2 * METADATA_TIMEOUT, admin.create_topics(&new, &options))
                .await
                .context("no broker answered while creating Kafka topics")?
                .context("failed to create Kafka topics")?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => anyhow::bail!("failed to create topic {topic}: {code}"),
            }
        }
        Ok(())
    }

    /// Hands every message of `batch` to librdkafka before waiting for any:
    /// they travel together, in as few requests as the broker allows, and
    /// the idempotent producer keeps each partition's messages in order.
    async fn publish_all(&self, batch: &[Outgoing<'_>]) -> anyhow::Result<Vec<Position>> {
        let producer = self.producer();
        let topics: Vec<String> = batch.iter().map(|m| self.topic(m.topic)).collect();
        let queued_by = Instant::now() + QUEUE_TIMEOUT;
        let mut deliveries = Vec::with_capacity(batch.len());
        for (message, topic) in batch.iter().zip(&topics) {
            let mut record = FutureRecord::to(topic)
                .key(message.key)
                .payload(message.payload);
            let mut headers = OwnedHeaders::new();
            if message.replayed {
                headers = headers.insert(Header {
                    key: REPLAY_HEADER,
                    value: Some("1"),
                });
            }
            if message.epoch > 0 {
                headers = headers.insert(Header {
                    key: EPOCH_HEADER,
                    value: Some(&message.epoch.to_string()),
                });
            }
            if headers.count() > 0 {
                record = record.headers(headers);
            }
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => break deliveries.push(delivery),
                    // librdkafka's queue is full: wait for it to drain.
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                        if Instant::now() < queued_by =>
                    {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((error, _)) => return Err(self.failed(error, topic)),
                }
            }
        }
        let mut landed = Vec::with_capacity(deliveries.len());
        for (delivery, topic) in deliveries.into_iter().zip(&topics) {
            match delivery.await {
                Ok(Ok(delivered)) => landed.push(Position {
                    partition: delivered.partition,
                    offset: delivered.offset,
                }),
                Ok(Err((error, _))) => return Err(self.failed(error, topic)),
                Err(_) => anyhow::bail!("the Kafka producer went away while publishing to {topic}"),
            }
        }
        Ok(landed)
    }

    async fn ends(&self, topic: &str) -> anyhow::Result<Vec<Position>> {
        let producer = self.producer();
        let name = self.topic(topic);
        tokio::task::spawn_blocking(move || partition_ends(producer.client(), &name))
            .await
            .context("reading the topic's ends panicked")?
    }

    async fn subscribe(
        &self,
        topic: &str,
        delivery: Delivery,
    ) -> anyhow::Result<Box<dyn Subscription>> {
        // After an outage the broker may be back without the topic.
        self.ensure_topics(&[topic]).await?;
        let name = self.topic(topic);
        let consumer = match &delivery {
            Delivery::Group(group) => {
                let consumer = self.consumer(
                    &format!("{}{group}", self.settings.namespace),
                    "earliest",
                    Latency::Relaxed,
                )?;
                consumer
                    .subscribe(&[&name])
                    .with_context(|| format!("failed to subscribe to {name}"))?;
                consumer
            }
            Delivery::Broadcast(latency) => {
                // A group id is required by librdkafka, but nothing joins or
                // commits it. The partitions are assigned at their end below;
                // the reset applies only when that offset stops existing (a
                // broker that came back empty), and then the new log is read
                // from its start: every event since the broker returned.
                let consumer = self.consumer(
                    &format!("salesync-broadcast-{}", Uuid::new_v4()),
                    "earliest",
                    *latency,
                )?;
                let consumer = Arc::new(consumer);
                let assigned = consumer.clone();
                let topic_name = name.clone();
                tokio::task::spawn_blocking(move || assign_at_end(&assigned, &topic_name))
                    .await
                    .context("assigning partitions panicked")??;
                Arc::into_inner(consumer).expect("BUG: the blocking task has finished")
            }
        };
        Ok(Box::new(KafkaSubscription {
            consumer: Some(Arc::new(consumer)),
            namespace: self.settings.namespace.clone(),
            c_topic: std::ffi::CString::new(name.as_str()).context("a topic name holds a NUL")?,
            topic: name,
            commits: matches!(delivery, Delivery::Group(_)),
        }))
    }

    async fn health(&self) -> Result<String, String> {
        let producer = self.producer();
        tokio::task::spawn_blocking(move || {
            producer
                .client()
                .fetch_metadata(None, Timeout::After(METADATA_TIMEOUT))
                .map(|m| format!("{} broker(s)", m.brokers().len()))
                .map_err(|e| format!("kafka: {e}"))
        })
        .await
        .unwrap_or_else(|e| Err(format!("kafka: {e}")))
    }
}

/// How long a fetch may wait at the broker for new messages. A broker that
/// does not answer a waiting fetch as soon as a message arrives (tansu 0.6
/// waits the whole time) adds up to this much to every event's delivery.
/// Read models, work and relaxed feeds keep librdkafka's default, which asks
/// little of the broker; live feeds wait `live_fetch_wait_ms`.
fn fetch_wait_ms(latency: Latency, settings: &KafkaSettings) -> String {
    match latency {
        Latency::Relaxed => "500".to_string(),
        Latency::Live => settings.live_fetch_wait_ms.clamp(1, 500).to_string(),
    }
}

fn new_producer(settings: &KafkaSettings, client_id: &str) -> anyhow::Result<FutureProducer> {
    ClientConfig::new()
        .set("bootstrap.servers", &settings.brokers)
        .set("client.id", client_id)
        // Retries never duplicate or reorder a store's events.
        .set("enable.idempotence", "true")
        .set("acks", "all")
        // Give up on one attempt after this long; the outbox keeps the
        // event and the relay tries again, so nothing is lost.
        .set("message.timeout.ms", "10000")
        .set("linger.ms", "2")
        // Events that piled up leave in record batches of up to this many
        // (group members resume with that in mind: see `Resume`).
        .set("batch.num.messages", MESSAGES_PER_BATCH.to_string())
        .create()
        .context("failed to create the Kafka producer")
}

/// The offset the next message of each of `topic`'s partitions will get
/// (blocking).
fn partition_ends<C: ClientContext>(
    client: &Client<C>,
    topic: &str,
) -> anyhow::Result<Vec<Position>> {
    let metadata = client
        .fetch_metadata(Some(topic), Timeout::After(METADATA_TIMEOUT))
        .with_context(|| format!("failed to read the partitions of {topic}"))?;
    let mut ends = Vec::new();
    for partition in metadata
        .topics()
        .iter()
        .flat_map(|t| t.partitions().iter().map(|p| p.id()))
    {
        let (_, high) = client
            .fetch_watermarks(topic, partition, Timeout::After(METADATA_TIMEOUT))
            .with_context(|| format!("failed to read the end of {topic}/{partition}"))?;
        ends.push(Position {
            partition,
            offset: high,
        });
    }
    Ok(ends)
}

/// Assigns every partition of `topic` at its current end offset.
fn assign_at_end(consumer: &KafkaConsumer, topic: &str) -> anyhow::Result<()> {
    let mut assignment = TopicPartitionList::new();
    for end in partition_ends(consumer.client(), topic)? {
        assignment.add_partition_offset(topic, end.partition, Offset::Offset(end.offset))?;
    }
    anyhow::ensure!(assignment.count() > 0, "topic {topic} has no partitions");
    consumer
        .assign(&assignment)
        .context("failed to assign partitions")
}

type KafkaConsumer = StreamConsumer<Resume>;

/// Where each partition's group members resume. On being assigned a
/// partition, a member reads its group's committed offset and starts
/// [`MESSAGES_PER_BATCH`] − 1 messages before it (tansu 0.6 would give a
/// fetch from inside a record batch nothing of that batch), then skips
/// what lies before the committed offset.
#[derive(Default)]
struct Resume {
    /// By partition, the group's committed offset, until the member reads
    /// past it.
    committed: Mutex<HashMap<i32, i64>>,
}

impl Resume {
    fn committed(&self) -> std::sync::MutexGuard<'_, HashMap<i32, i64>> {
        self.committed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves each partition of `assigned` back from its committed offset,
    /// remembering that offset. Where the group's offsets cannot be read,
    /// the partitions are read from their start: everything is delivered
    /// again and consumers skip what they applied, but nothing is lost.
    fn start_before_committed(
        &self,
        consumer: &BaseConsumer<Self>,
        assigned: &mut TopicPartitionList,
    ) {
        let committed = match consumer.committed_offsets(assigned.clone(), COMMITTED_TIMEOUT) {
            Ok(committed) => committed,
            Err(error) => {
                tracing::warn!(error = %error, "failed to read the group's committed offsets; reading the assigned partitions from their start");
                for (topic, partition) in partitions(assigned) {
                    let _ = assigned.set_partition_offset(&topic, partition, Offset::Beginning);
                }
                return;
            }
        };
        let mut remembered = self.committed();
        for element in committed.elements() {
            let Offset::Offset(offset) = element.offset() else {
                continue;
            };
            if offset <= 0 {
                continue;
            }
            let start = (offset - (MESSAGES_PER_BATCH - 1)).max(0);
            let moved = assigned.set_partition_offset(
                element.topic(),
                element.partition(),
                Offset::Offset(start),
            );
            if moved.is_ok() {
                remembered.insert(element.partition(), offset);
            }
        }
    }

    /// Whether the message at `offset` of `partition` lies before the
    /// group's committed offset, so the group had it: when the partition's
    /// end reaches that offset. An offset past the end was committed into
    /// a log the broker has lost since; the message is then news.
    fn had(&self, partition: i32, offset: i64, end: impl FnOnce() -> Option<i64>) -> bool {
        let mut committed = self.committed();
        let Some(&at) = committed.get(&partition) else {
            return false;
        };
        if offset < at && end().is_some_and(|end| end >= at) {
            return true;
        }
        committed.remove(&partition);
        false
    }

    fn forget(&self, partition: i32) {
        self.committed().remove(&partition);
    }
}

fn partitions(list: &TopicPartitionList) -> Vec<(String, i32)> {
    list.elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect()
}

impl ClientContext for Resume {}

impl ConsumerContext for Resume {
    /// As librdkafka's own handling, with the offsets moved on assignment.
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        assignment: &mut TopicPartitionList,
    ) {
        let cooperative = matches!(
            consumer.rebalance_protocol(),
            RebalanceProtocol::Cooperative
        );
        let done = match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                self.start_before_committed(consumer, assignment);
                if cooperative {
                    consumer.incremental_assign(assignment)
                } else {
                    consumer.assign(assignment)
                }
            }
            _ => {
                if err != RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS {
                    tracing::warn!(error = ?err, "the Kafka group's rebalance failed");
                }
                for (_, partition) in partitions(assignment) {
                    self.forget(partition);
                }
                if cooperative {
                    consumer.incremental_unassign(assignment)
                } else {
                    consumer.unassign()
                }
            }
        };
        if let Err(error) = done {
            tracing::warn!(error = %error, "failed to apply the Kafka group's new assignment");
        }
    }
}

struct KafkaSubscription {
    /// Always set until dropped.
    consumer: Option<Arc<KafkaConsumer>>,
    namespace: String,
    /// The topic's name at the broker (with the namespace).
    topic: String,
    /// The same, for librdkafka's C interface.
    c_topic: std::ffi::CString,
    commits: bool,
}

impl KafkaSubscription {
    fn consumer(&self) -> &Arc<KafkaConsumer> {
        self.consumer
            .as_ref()
            .expect("BUG: the consumer is only taken when dropped")
    }

    /// The partition's end as the last fetch reported it: librdkafka keeps
    /// it, and nothing is asked of the broker. (A fetch's end counts every
    /// message; tansu 0.6's answer to a request for the end, which
    /// `partition_ends` makes, stops after the first of the last batch.)
    fn cached_end(&self, partition: i32) -> Option<i64> {
        let (mut low, mut high) = (-1_i64, -1_i64);
        // SAFETY: the client pointer lives as long as `self.consumer`, which
        // this borrow keeps; the topic is a NUL-terminated string that
        // outlives the call; librdkafka only writes the two integers, and
        // answers from what its last fetch cached, without blocking.
        let error = unsafe {
            rdkafka::bindings::rd_kafka_get_watermark_offsets(
                self.consumer().client().native_ptr(),
                self.c_topic.as_ptr(),
                partition,
                &mut low,
                &mut high,
            )
        };
        let ok = error == rdkafka::bindings::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR;
        (ok && high >= 0).then_some(high)
    }

    fn message(&self, received: &BorrowedMessage<'_>) -> Message {
        let topic = received.topic();
        let header = |name: &str| {
            received
                .headers()
                .and_then(|headers| headers.iter().find(|h| h.key == name))
                .and_then(|h| h.value)
        };
        Message {
            topic: topic
                .strip_prefix(&self.namespace)
                .unwrap_or(topic)
                .to_string(),
            key: received
                .key()
                .map(|k| String::from_utf8_lossy(k).into_owned()),
            payload: received.payload().unwrap_or_default().to_vec(),
            partition: received.partition(),
            offset: received.offset(),
            replayed: header(REPLAY_HEADER).is_some(),
            epoch: header(EPOCH_HEADER)
                .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
                .unwrap_or(0),
        }
    }
}

/// Closing a consumer blocks (it leaves its group, which waits for a
/// broker that may be away or a rebalance that may not end): done on a
/// thread of its own. Not the runtime's blocking pool, whose shutdown waits
/// for every task: a close that never ends would hold the process. Offsets
/// are committed before a consumer waits for its next message, so an
/// unfinished close loses nothing (an event applied and not committed is
/// delivered again and skipped).
impl Drop for KafkaSubscription {
    fn drop(&mut self) {
        let Some(consumer) = self.consumer.take() else {
            return;
        };
        // Where no thread can be made, the closure and the consumer with it
        // are dropped here.
        let _ = std::thread::Builder::new()
            .name("kafka-close".into())
            .spawn(move || drop(consumer));
    }
}

#[async_trait]
impl Subscription for KafkaSubscription {
    async fn next(&mut self) -> anyhow::Result<Message> {
        loop {
            let received = self.consumer().recv().await.context("failed to receive")?;
            let (partition, offset) = (received.partition(), received.offset());
            let end = || self.cached_end(partition);
            if !self.consumer().context().had(partition, offset, end) {
                return Ok(self.message(&received));
            }
        }
    }

    async fn rewind(&mut self, partition: i32) -> anyhow::Result<()> {
        let consumer = self.consumer().clone();
        consumer.context().forget(partition);
        let topic = self.topic.clone();
        tokio::task::spawn_blocking(move || {
            consumer.seek(
                &topic,
                partition,
                Offset::Beginning,
                Timeout::After(METADATA_TIMEOUT),
            )
        })
        .await
        .context("seeking panicked")?
        .with_context(|| format!("failed to read {} again from its start", self.topic))
    }

    fn lag(&self, message: &Message) -> Option<i64> {
        let end = self.cached_end(message.partition)?;
        Some((end - message.offset - 1).max(0))
    }

    async fn commit(&mut self, message: &Message) -> anyhow::Result<()> {
        if !self.commits {
            return Ok(());
        }
        let mut offsets = TopicPartitionList::new();
        offsets.add_partition_offset(
            &self.topic,
            message.partition,
            Offset::Offset(message.offset + 1),
        )?;
        let consumer = self.consumer().clone();
        tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync))
            .await
            .context("committing panicked")?
            .context("failed to commit the offset")
    }
}

#[cfg(test)]
mod tests {
    use super::Resume;

    fn resuming_at(partition: i32, committed: i64) -> Resume {
        let resume = Resume::default();
        resume.committed().insert(partition, committed);
        resume
    }

    #[test]
    fn a_member_skips_what_its_group_committed_and_then_nothing() {
        let resume = resuming_at(0, 10);
        assert!(resume.had(0, 1, || Some(12)));
        assert!(resume.had(0, 9, || Some(12)));
        assert!(
            !resume.had(0, 10, || Some(12)),
            "the first message not committed"
        );
        assert!(
            !resume.had(0, 3, || Some(12)),
            "past the committed offset once"
        );
    }

    #[test]
    fn a_partition_without_a_committed_offset_skips_nothing() {
        let resume = resuming_at(0, 10);
        assert!(!resume.had(1, 1, || Some(12)));
    }

    #[test]
    fn an_offset_past_the_logs_end_is_from_a_lost_log_and_skips_nothing() {
        let resume = resuming_at(0, 24);
        assert!(!resume.had(0, 1, || Some(16)));
        assert!(!resume.had(0, 2, || Some(30)), "forgotten");
        let unknown = resuming_at(0, 24);
        assert!(!unknown.had(0, 1, || None), "an unknown end proves nothing");
    }

    #[test]
    fn a_rewound_partition_skips_nothing() {
        let resume = resuming_at(0, 10);
        resume.forget(0);
        assert!(!resume.had(0, 1, || Some(12)));
    }
}
