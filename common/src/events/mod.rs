//! Events between subgraphs.
//!
//! A subgraph writes its events into its own `outbox` table in the same
//! transaction as the change ([`outbox::enqueue`]); a relay publishes them to
//! the bus in order ([`outbox::Relay`]). Consumers apply each event once,
//! recording its id in `processed_events` in the same transaction as its
//! effect, and commit the bus offset only after that ([`consumer`]).
//!
//! The bus is Kafka ([`kafka::KafkaBus`]) when brokers are configured, else
//! an in-process bus with the same semantics ([`memory::MemoryBus`]) for the
//! one-command local run and fast tests.

pub mod bus;
pub mod consumer;
pub mod feed;
pub mod kafka;
pub mod memory;
pub mod migration;
pub mod outbox;
pub mod retention;
pub mod store_access;
pub mod store_copy;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::value::RawValue;
use uuid::Uuid;

pub use bus::{Delivery, EventBus, Latency, Message, Outgoing, Subscription};

/// The Kafka topics. `consulting` keeps the name the earlier system used.
pub mod topics {
    /// Order opened, changed, cancelled, paid.
    pub const ORDERS: &str = "salesync.orders";
    /// Sale completed or refunded.
    pub const SALES: &str = "salesync.sales";
    /// Consulting finished or failed (the seed's topic name).
    pub const CONSULTING: &str = "consulting";
    /// Store opened, updated, deleted.
    pub const STORES: &str = "salesync.stores";

    pub const ALL: [&str; 4] = [ORDERS, SALES, CONSULTING, STORES];
}

/// Event types on `salesync.stores`, which several subgraphs consume.
pub mod types {
    /// A store signed up; the payload is its profile (time zone, closeout hour, ...).
    pub const STORE_OPENED: &str = "StoreOpened";
    /// A store's profile changed; the payload is the whole new profile.
    pub const STORE_UPDATED: &str = "StoreUpdated";
    /// A store was deleted: every subgraph removes its data.
    pub const STORE_DELETED: &str = "StoreDeleted";
    /// A store's password changed: every subgraph refuses its tokens of an
    /// older generation than the payload's.
    pub const TOKENS_REVOKED: &str = "TokensRevoked";
}

/// The envelope of every event: JSON, keyed by store id on the bus.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Unique per event: consumers apply an id once.
    pub id: Uuid,
    /// What happened, e.g. `StoreDeleted`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The store it happened to; also the bus key, so one store's events stay in order.
    pub store_id: Uuid,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    /// Type-specific details, as the JSON text they were written as: an
    /// event is written once and read once into its payload's type, so
    /// neither side builds a JSON tree in between.
    pub payload: Box<RawValue>,
    /// The trace of the request that wrote it (W3C `traceparent`): its
    /// consumers continue that trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl Event {
    pub fn new(event_type: &str, store_id: Uuid, payload: impl Serialize) -> Self {
        Event {
            id: Uuid::now_v7(),
            event_type: event_type.to_string(),
            store_id,
            occurred_at: Utc::now(),
            payload: serde_json::value::to_raw_value(&payload)
                .expect("BUG: event payloads are plain data and always serialize"),
            traceparent: crate::telemetry::traceparent(),
        }
    }

    /// The bus key: the store id.
    pub fn key(&self) -> String {
        self.store_id.to_string()
    }
}

/// Two events are equal when every field is, the payload as written.
impl PartialEq for Event {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.event_type == other.event_type
            && self.store_id == other.store_id
            && self.occurred_at == other.occurred_at
            && self.payload.get() == other.payload.get()
            && self.traceparent == other.traceparent
    }
}

/// What a reader needs of an event, whether it has it whole ([`Event`]) or
/// as a feed hears it ([`feed::Envelope`]).
pub trait Happened {
    fn event_type(&self) -> &str;
    fn store_id(&self) -> Uuid;
    fn occurred_at(&self) -> DateTime<Utc>;
    /// The payload as the JSON text it was written as.
    fn payload(&self) -> &RawValue;

    /// The payload as its type.
    fn payload_as<P: DeserializeOwned>(&self) -> serde_json::Result<P> {
        serde_json::from_str(self.payload().get())
    }
}

impl Happened for Event {
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
        &self.payload
    }
}

/// Where events travel.
#[derive(Clone, Debug)]
pub enum BusTarget {
    /// A Kafka cluster (`KAFKA_BROKERS`).
    Kafka(KafkaSettings),
    /// The in-process bus every subgraph of this process shares (the
    /// one-command run): made when the first subgraph is built.
    InProcess,
    /// An in-process bus of its own: tests run several systems in one process.
    Isolated(memory::MemoryBus),
}

/// How to reach Kafka.
#[derive(Clone, Debug, Deserialize)]
#[serde(default)]
pub struct KafkaSettings {
    /// Comma-separated `host:port` list.
    pub brokers: String,
    /// Prefixed to every topic and consumer group: lets several systems
    /// share one cluster (tests do). Empty in production.
    pub namespace: String,
    /// Partitions of topics created at start-up.
    pub partitions: i32,
    /// Replication factor of topics created at start-up.
    pub replication_factor: i32,
    /// How long a feed's fetch (what GraphQL subscriptions hear) may wait
    /// at the broker, in ms. A broker that answers a waiting fetch only
    /// when the wait is over (tansu 0.6) adds up to this much to every
    /// live update; a shorter wait costs a fetch per feed that often.
    pub live_fetch_wait_ms: u32,
}

impl Default for KafkaSettings {
    fn default() -> Self {
        KafkaSettings {
            brokers: String::new(),
            namespace: String::new(),
            partitions: 3,
            replication_factor: 1,
            live_fetch_wait_ms: 20,
        }
    }
}

/// Connects to the configured bus and creates missing topics. A broker that
/// is down does not stop the subgraph from starting: it serves, its events
/// wait in the outbox, and the relay creates the topics once it can.
pub async fn connect(target: &BusTarget, service: &str) -> anyhow::Result<Arc<dyn EventBus>> {
    let bus: Arc<dyn EventBus> = match target {
        BusTarget::Kafka(settings) => Arc::new(kafka::KafkaBus::connect(settings, service)?),
        BusTarget::InProcess => Arc::new(memory::MemoryBus::process_wide()),
        BusTarget::Isolated(bus) => Arc::new(bus.clone()),
    };
    if let Err(error) = bus.ensure_topics(&topics::ALL).await {
        tracing::warn!(error = ?error, "could not create the topics now; will retry");
    }
    Ok(bus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_envelope_is_camel_case_json_with_a_type() {
        let store = Uuid::new_v4();
        let event = Event::new(types::STORE_DELETED, store, serde_json::json!({}));
        let json = serde_json::to_value(&event).expect("serializes");
        assert_eq!(json["type"], "StoreDeleted");
        assert_eq!(json["storeId"], store.to_string());
        assert!(json["occurredAt"].is_string());
        assert_eq!(json["payload"], serde_json::json!({}));
        assert_eq!(event.key(), store.to_string());
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Revoked {
        generation: i64,
        note: Option<String>,
    }

    #[test]
    fn an_event_reads_back_as_written_and_its_payload_into_its_type() {
        let revoked = Revoked {
            generation: 7,
            note: Some("a \"quoted\" note".into()),
        };
        let event = Event::new(types::TOKENS_REVOKED, Uuid::new_v4(), &revoked);
        assert_eq!(
            event.payload.get(),
            r#"{"generation":7,"note":"a \"quoted\" note"}"#
        );

        let text = serde_json::to_vec(&event).expect("serializes");
        let back: Event = serde_json::from_slice(&text).expect("parses");
        assert_eq!(back, event);
        assert_eq!(back.payload_as::<Revoked>().expect("its type"), revoked);
        assert!(
            back.payload_as::<Uuid>().is_err(),
            "not every type reads it"
        );
    }
}
