//! The consulting use cases: a request is stored and answered at once
//! (`PENDING`); workers take requests in the background, write the advice
//! and publish how it goes on `consulting`, each change with its event in
//! one transaction.
//!
//! A worker owns a request by a lease it renews while it writes. A request
//! whose worker died (a crash, a restart) is left `RUNNING` with a lapsed
//! lease, and is taken again: at start-up, then every `poll_seconds`.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use chrono::{NaiveDate, TimeDelta};
use futures::StreamExt;
use salesync_common::{
    Error, Result,
    clock::Clock,
    db::{by_ids, delete_of_store},
    events::{Event, outbox, outbox::OutboxSignal, store_access::StoreRows, topics},
    shutdown::Stop,
    time::check_range,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};
use uuid::Uuid;

use crate::{
    analyst,
    config::{ModelSettings, WorkerSettings},
    db::requests,
    domain::{self, ConsultingStatus, Language, Report},
    events::{
        CONSULTING_COMPLETED, CONSULTING_FAILED, CONSULTING_PROGRESS, CONSULTING_REQUESTED,
        ConsultingCompleted, ConsultingFailed, ConsultingProgress, ConsultingRequested,
    },
    model::Model,
    upstream::Upstream,
};

/// The name recorded for advice the built-in analyst writes.
pub const ANALYST: &str = "salesync-analyst";

/// How many requests `consultingRequests` lists.
const LISTED: u64 = 100;

#[derive(Clone)]
pub struct Consulting {
    db: DatabaseConnection,
    outbox: OutboxSignal,
    clock: Clock,
    upstream: Upstream,
    model: Option<Model>,
    model_settings: ModelSettings,
    worker: WorkerSettings,
    wake: Arc<Notify>,
}

impl Consulting {
    pub fn new(
        db: DatabaseConnection,
        outbox: OutboxSignal,
        clock: Clock,
        upstream: Upstream,
        model_settings: ModelSettings,
        worker: WorkerSettings,
    ) -> Self {
        let model = model_settings.api_key.as_ref().map(|key| {
            Model::new(
                key,
                model_settings.base_url.as_deref(),
                &model_settings.name,
            )
        });
        Consulting {
            db,
            outbox,
            clock,
            upstream,
            model,
            model_settings,
            worker,
            wake: Arc::new(Notify::new()),
        }
    }

    /// The model that writes new advice.
    fn model_name(&self) -> String {
        self.model
            .as_ref()
            .map_or_else(|| ANALYST.to_string(), |m| m.name.clone())
    }

    /// Stores a request for advice on `from..=to` and answers at once.
    #[tracing::instrument(skip(self))]
    pub async fn request(
        &self,
        store_id: Uuid,
        (from, to): (NaiveDate, NaiveDate),
        language: Language,
    ) -> Result<requests::Model> {
        check_range(from, to)?;
        let request = requests::Model {
            id: Uuid::now_v7(),
            store_id,
            from_date: from,
            to_date: to,
            language,
            status: ConsultingStatus::Pending,
            content: None,
            error: None,
            model: self.model_name(),
            lease_until: None,
            attempts: 0,
            requested_at: self.clock.now(),
            completed_at: None,
        };
        let txn = self.db.begin().await?;
        requests::insert(&txn, &request).await?;
        publish(
            &txn,
            CONSULTING_REQUESTED,
            store_id,
            ConsultingRequested {
                request_id: request.id,
                from,
                to,
            },
        )
        .await?;
        txn.commit().await?;
        self.outbox.notify();
        self.wake.notify_one();
        Ok(request)
    }

    /// The store's requests with these ids.
    pub async fn by_ids(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<requests::Model>> {
        by_ids::<requests::Entity, _>(&self.db, store_id, ids).await
    }

    /// The store's latest requests, newest first.
    pub async fn latest(&self, store_id: Uuid) -> Result<Vec<requests::Model>> {
        requests::of_store_newest(&self.db, store_id, LISTED).await
    }

    // ---- the workers ----

    /// Takes requests as they come, `concurrency` at a time, until `stop`.
    pub async fn run_workers(self, mut stop: Stop) {
        let permits = Arc::new(Semaphore::new(self.worker.concurrency.max(1)));
        let poll = Duration::from_secs(self.worker.poll_seconds.max(1));
        loop {
            let free = permits.available_permits();
            let claimed = match free {
                0 => Vec::new(),
                _ => self.take(free).await.unwrap_or_else(|error| {
                    tracing::warn!(error = ?error, "failed to look for consulting requests");
                    Vec::new()
                }),
            };
            let taken = claimed.len();
            for request in claimed {
                let permit = permits.clone().try_acquire_owned();
                let worker = self.clone();
                let mut stop = stop.clone();
                tokio::spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        _ = worker.work(request) => {}
                        // Stopping mid-way leaves the request RUNNING; its
                        // lease lapses and a worker takes it again.
                        _ = stop.wait() => {}
                    }
                });
            }
            if taken == free && free > 0 {
                // Perhaps more are waiting.
                continue;
            }
            tokio::select! {
                _ = stop.wait() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Claims up to `n` requests for this worker.
    async fn take(&self, n: usize) -> Result<Vec<requests::Model>> {
        let now = self.clock.now();
        let lease = now + TimeDelta::seconds(self.worker.lease_seconds);
        let mut taken = Vec::new();
        for request in requests::claimable(&self.db, now, n as u64).await? {
            if requests::claim(&self.db, &request, lease).await? {
                taken.push(requests::Model {
                    status: ConsultingStatus::Running,
                    attempts: request.attempts + 1,
                    lease_until: Some(lease),
                    content: None,
                    ..request
                });
            }
        }
        Ok(taken)
    }

    /// Writes the advice of one claimed request and ends it.
    #[tracing::instrument(skip_all, fields(request_id = %request.id, store_id = %request.store_id))]
    async fn work(&self, request: requests::Model) {
        let outcome = match self
            .upstream
            .report(request.store_id, request.from_date, request.to_date)
            .await
        {
            Ok(report) => self.write(&request, &report).await,
            Err(error) => Err(format!(
                "the sales report could not be read: {}",
                error.client_message()
            )),
        };
        if let Err(reason) = &outcome {
            tracing::warn!(%reason, "consulting failed");
        }
        if let Err(error) = self.end(&request, outcome).await {
            // The lease lapses and another worker takes it again.
            tracing::error!(error = ?error, "failed to record the end of a consulting request");
        }
    }

    /// The advice: from the model when one is configured, else the analyst.
    async fn write(&self, request: &requests::Model, report: &Report) -> Result<String, String> {
        let Some(model) = &self.model else {
            return Ok(analyst::advise(report, request.language));
        };
        let prompt = domain::prompt(report, request.language);
        let timeout = Duration::from_secs(self.model_settings.timeout_seconds);
        let streamed = tokio::time::timeout(timeout, async {
            let mut stream = Box::pin(model.stream(&prompt).await?);
            let mut text = String::new();
            let interval = Duration::from_millis(self.model_settings.progress_interval_ms);
            let mut published = Instant::now();
            while let Some(piece) = stream.next().await {
                text.push_str(&piece?);
                if published.elapsed() >= interval && !text.is_empty() {
                    published = Instant::now();
                    self.progress(request, &text).await?;
                }
            }
            if text.trim().is_empty() {
                return Err("the model answered nothing".to_string());
            }
            Ok(text)
        })
        .await;
        match streamed {
            Ok(result) => result,
            Err(_) => Err(format!(
                "the model did not finish within {} seconds",
                self.model_settings.timeout_seconds
            )),
        }
    }

    /// Publishes the text so far and renews the lease.
    async fn progress(&self, request: &requests::Model, text: &str) -> Result<(), String> {
        let step = async {
            let lease = self.clock.now() + TimeDelta::seconds(self.worker.lease_seconds);
            let txn = self.db.begin().await?;
            if !requests::progress(&txn, request.id, request.attempts, text, lease).await? {
                return Err(Error::conflict("another worker took the request"));
            }
            publish(
                &txn,
                CONSULTING_PROGRESS,
                request.store_id,
                ConsultingProgress {
                    request_id: request.id,
                    content: text.to_string(),
                },
            )
            .await?;
            txn.commit().await?;
            self.outbox.notify();
            Ok(())
        };
        step.await.map_err(|e: Error| e.client_message())
    }

    /// Ends the request with its advice, or why there is none, and the
    /// event that says so; nothing when another attempt owns it now.
    async fn end(&self, request: &requests::Model, outcome: Result<String, String>) -> Result<()> {
        let now = self.clock.now();
        let (row, event) = match outcome {
            Ok(content) => (
                (ConsultingStatus::Completed, Some(content.clone()), None),
                Event::new(
                    CONSULTING_COMPLETED,
                    request.store_id,
                    ConsultingCompleted {
                        request_id: request.id,
                        content,
                        model: request.model.clone(),
                        completed_at: now,
                    },
                ),
            ),
            Err(reason) => (
                (ConsultingStatus::Failed, None, Some(reason.clone())),
                Event::new(
                    CONSULTING_FAILED,
                    request.store_id,
                    ConsultingFailed {
                        request_id: request.id,
                        error: reason,
                        completed_at: now,
                    },
                ),
            ),
        };
        let txn = self.db.begin().await?;
        if !requests::finish(&txn, request.id, request.attempts, row, now).await? {
            return Ok(());
        }
        outbox::enqueue(&txn, topics::CONSULTING, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(())
    }
}

async fn publish(
    txn: &DatabaseTransaction,
    event_type: &str,
    store_id: Uuid,
    payload: impl Serialize,
) -> Result<()> {
    let event = Event::new(event_type, store_id, payload);
    outbox::enqueue(txn, topics::CONSULTING, &event).await?;
    Ok(())
}

/// A deleted store's requests go with it.
#[async_trait]
impl StoreRows for Consulting {
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        delete_of_store::<requests::Entity, _>(txn, store_id).await
    }
}
