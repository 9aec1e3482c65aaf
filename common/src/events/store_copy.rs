//! What a subgraph needs of a store's profile (a table count, a business
//! calendar), kept in memory in front of the table its consumer fills from
//! `salesync.stores`, so a write that needs it asks no database.
//!
//! The table stays what is kept for good: a consumer group applies every
//! profile event to it once, and a subgraph asks the store subgraph only
//! when no event brought a store yet. Each replica keeps in memory what it
//! read of the table and hears every profile event itself, on the feed
//! [`StoreAccess`](super::store_access::StoreAccess) reads. What it keeps
//! answers only while that feed reads the bus, in the reading it was
//! learned in, and for [`TRUSTED_FOR`](super::feed::TRUSTED_FOR) at most:
//! a change published while the feed was away reaches the table, and is
//! read from there.
//!
//! Every value carries the time it was true as of (an event's time, or the
//! time the store subgraph was asked), and the newer one always wins: an
//! old read never undoes what was heard.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard},
};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use tokio::sync::broadcast;
use uuid::Uuid;

use super::{
    feed::{Confirmed, Feed, Notice},
    store_access::{Profile, StoreNews},
};
use crate::{Result, shutdown::Stop};

/// Beyond this many stores, everything kept is forgotten.
const MAX_KEPT: usize = 100_000;

struct Kept<T> {
    value: T,
    /// What the value was true as of.
    at: DateTime<Utc>,
    confirmed: Confirmed,
}

/// A replica's copy of `T`, a part of each store's profile, kept in memory.
pub struct StoreCopy<T> {
    feed: Feed<StoreNews>,
    kept: Arc<Mutex<HashMap<Uuid, Kept<T>>>>,
}

impl<T> Clone for StoreCopy<T> {
    fn clone(&self) -> Self {
        StoreCopy {
            feed: self.feed.clone(),
            kept: self.kept.clone(),
        }
    }
}

impl<T: DeserializeOwned + Clone + Send + 'static> StoreCopy<T> {
    /// A copy that hears profiles on `feed` once [`StoreCopy::run`] runs.
    pub fn new(feed: Feed<StoreNews>) -> Self {
        StoreCopy {
            feed,
            kept: Arc::default(),
        }
    }

    /// Hears every profile on the feed until `stop`.
    pub async fn run(self, mut stop: Stop) {
        let mut notices = self.feed.subscribe();
        loop {
            tokio::select! {
                _ = stop.wait() => break,
                notice = notices.recv() => match notice {
                    Ok(Notice::Event(news)) => {
                        if let StoreNews::Profile(profile) = news.as_ref() {
                            self.hear(profile);
                        }
                    }
                    // What was kept is not confirmed past the reading it
                    // was learned in: `reading()` already tells.
                    Ok(Notice::Interrupted) => {}
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "a store copy fell behind its feed; reading the table again");
                        self.kept().clear();
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            }
        }
    }

    /// The store's value: the one kept while it answers, else `read` (the
    /// table, with the time its value was true as of), kept for the next
    /// call. `None` when the table has none.
    pub async fn get_or_read<F>(&self, store_id: Uuid, read: F) -> Result<Option<T>>
    where
        F: Future<Output = Result<Option<(T, DateTime<Utc>)>>>,
    {
        // The reading from before the table is asked: had the feed been
        // away meanwhile, what it says belongs to no reading.
        let reading = self.feed.reading();
        if let Some(reading) = reading
            && let Some(kept) = self.kept().get(&store_id)
            && kept.confirmed.answers_in(reading)
        {
            return Ok(Some(kept.value.clone()));
        }
        let Some((value, at)) = read.await? else {
            return Ok(None);
        };
        Ok(Some(self.learn(store_id, value, at, reading)))
    }

    /// The feed's current reading, to pass to [`StoreCopy::learn`] for a
    /// value asked after it.
    pub fn reading(&self) -> Option<u64> {
        self.feed.reading()
    }

    fn hear(&self, profile: &Profile) {
        match serde_json::from_value::<T>(profile.payload.clone()) {
            Ok(value) => {
                self.learn(profile.store_id, value, profile.at, self.feed.reading());
            }
            Err(error) => {
                tracing::warn!(store_id = %profile.store_id, error = %error, "a store profile this copy cannot read; reading the table instead");
                self.kept().remove(&profile.store_id);
            }
        }
    }

    /// Takes in `value`, true as of `at`, learned before `reading` ended
    /// (read from the table, heard, or asked of the store subgraph);
    /// returns the newest value kept.
    pub fn learn(&self, store_id: Uuid, value: T, at: DateTime<Utc>, reading: Option<u64>) -> T {
        let mut kept = self.kept();
        if kept.len() >= MAX_KEPT && !kept.contains_key(&store_id) {
            kept.clear();
        }
        let confirmed = Confirmed::now_in(reading);
        let entry = kept.entry(store_id).or_insert_with(|| Kept {
            value: value.clone(),
            at,
            confirmed,
        });
        if at > entry.at {
            entry.value = value;
            entry.at = at;
        }
        entry.confirmed = confirmed;
        entry.value.clone()
    }

    fn kept(&self) -> MutexGuard<'_, HashMap<Uuid, Kept<T>>> {
        self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use std::{
        sync::atomic::{AtomicUsize, Ordering},
        time::Duration,
    };

    use secrecy::SecretString;
    use serde::{Deserialize, Serialize};

    use super::*;
    use crate::{
        db::{PoolSettings, connect},
        events::{Event, EventBus, memory::MemoryBus, store_access::StoreAccess, topics, types},
        shutdown,
    };

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tables {
        table_count: i32,
    }

    /// A copy and the access its feed belongs to, on a fresh bus.
    async fn copy() -> (StoreCopy<Tables>, StoreAccess, Arc<dyn EventBus>) {
        let url = SecretString::from("sqlite::memory:".to_string());
        let db = connect(&url, &PoolSettings::default())
            .await
            .expect("a database");
        let access = StoreAccess::new(db);
        let copy = StoreCopy::new(access.feed());
        (copy, access, Arc::new(MemoryBus::new()))
    }

    /// Runs the feed and the copy until the trigger; returns once the feed
    /// reads the bus.
    async fn start(
        copy: &StoreCopy<Tables>,
        access: &StoreAccess,
        bus: &Arc<dyn EventBus>,
    ) -> shutdown::Trigger {
        let (trigger, stop) = shutdown::channel();
        tokio::spawn(copy.clone().run(stop.clone()));
        tokio::spawn(access.clone().run(bus.clone(), stop));
        until_live(copy, true).await;
        trigger
    }

    async fn until_live(copy: &StoreCopy<Tables>, live: bool) {
        while copy.reading().is_some() != live {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// A table that holds `tables` and counts its reads.
    struct Table {
        tables: Mutex<(Tables, DateTime<Utc>)>,
        reads: AtomicUsize,
    }

    impl Table {
        fn holding(count: i32, at: DateTime<Utc>) -> Self {
            Table {
                tables: Mutex::new((Tables { table_count: count }, at)),
                reads: AtomicUsize::new(0),
            }
        }

        fn write(&self, count: i32, at: DateTime<Utc>) {
            *self.tables.lock().expect("table") = (Tables { table_count: count }, at);
        }

        async fn read(&self) -> Result<Option<(Tables, DateTime<Utc>)>> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            Ok(Some(self.tables.lock().expect("table").clone()))
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    async fn count(copy: &StoreCopy<Tables>, store: Uuid, table: &Table) -> i32 {
        copy.get_or_read(store, table.read())
            .await
            .expect("read")
            .expect("kept")
            .table_count
    }

    async fn publish(bus: &Arc<dyn EventBus>, kind: &str, store: Uuid, count: i32) {
        let event = Event::new(kind, store, Tables { table_count: count });
        let payload = serde_json::to_vec(&event).expect("json");
        bus.publish(topics::STORES, &store.to_string(), &payload)
            .await
            .expect("published");
    }

    #[tokio::test]
    async fn a_live_feed_answers_from_memory_and_hears_each_profile_before_the_table_does() {
        let (copy, access, bus) = copy().await;
        let _trigger = start(&copy, &access, &bus).await;
        let store = Uuid::new_v4();
        let table = Table::holding(10, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 10);
        assert_eq!(count(&copy, store, &table).await, 10);
        assert_eq!(table.reads(), 1, "the second answer came from memory");

        publish(&bus, types::STORE_UPDATED, store, 20).await;
        for _ in 0..200 {
            if count(&copy, store, &table).await == 20 {
                assert_eq!(table.reads(), 1, "heard, not read");
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the copy never heard the profile");
    }

    #[tokio::test]
    async fn without_a_live_feed_every_call_reads_the_table() {
        let (copy, _access, _bus) = copy().await;
        let store = Uuid::new_v4();
        let table = Table::holding(10, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 10);
        table.write(12, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 12);
        assert_eq!(table.reads(), 2);
    }

    #[tokio::test]
    async fn what_was_kept_is_not_trusted_once_the_feed_lost_the_bus() {
        let (copy, access, bus) = copy().await;
        let store = Uuid::new_v4();
        let table = Table::holding(10, Utc::now());
        let first = start(&copy, &access, &bus).await;
        assert_eq!(count(&copy, store, &table).await, 10);

        // Away from the bus: a change now would not be heard.
        first.stop();
        until_live(&copy, false).await;
        table.write(14, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 14);

        // Reading again is a new reading: what the old one kept is unused.
        let _second = start(&copy, &access, &bus).await;
        table.write(16, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 16);
        assert_eq!(table.reads(), 3);
    }

    #[tokio::test]
    async fn the_newest_value_wins_whichever_arrives_last() {
        let (copy, _access, _bus) = copy().await;
        let store = Uuid::new_v4();
        let now = Utc::now();
        // Asked of the store subgraph just now...
        let kept = copy.learn(store, Tables { table_count: 30 }, now, None);
        assert_eq!(kept.table_count, 30);
        // ...then the table, which still holds an older value, is read:
        // the newer value stays.
        let table = Table::holding(10, now - chrono::Duration::seconds(5));
        assert_eq!(count(&copy, store, &table).await, 30);
        // A newer value in the table replaces it.
        table.write(40, now + chrono::Duration::seconds(5));
        assert_eq!(count(&copy, store, &table).await, 40);
    }

    #[tokio::test]
    async fn a_profile_the_copy_cannot_read_sends_it_back_to_the_table() {
        let (copy, access, bus) = copy().await;
        let _trigger = start(&copy, &access, &bus).await;
        let store = Uuid::new_v4();
        let table = Table::holding(10, Utc::now());
        assert_eq!(count(&copy, store, &table).await, 10);

        let event = Event::new(
            types::STORE_UPDATED,
            store,
            serde_json::json!({ "name": "x" }),
        );
        let payload = serde_json::to_vec(&event).expect("json");
        bus.publish(topics::STORES, &store.to_string(), &payload)
            .await
            .expect("published");
        table.write(11, Utc::now());
        for _ in 0..200 {
            if count(&copy, store, &table).await == 11 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the copy kept answering from memory");
    }
}
