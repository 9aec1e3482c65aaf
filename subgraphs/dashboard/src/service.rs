//! The dashboard's use cases: setting item costs, the reports, counting
//! sales and refunds into the read model, and rebuilding it.
//!
//! The read model is changed in one place, [`Dashboard::count`], which
//! first locks the store's ledger row and then records each sale and refund
//! by its own id: the live consumer, a rebuild and a store's deletion never
//! interleave, and nothing is counted twice, however often an event
//! arrives, or for a store that is gone. Consulting results take the same
//! lock, so none outlives its store either.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::NaiveDate;
use salesync_common::{
    Error, Result,
    auth::Acting,
    clock::Clock,
    db::{Snapshot, delete_of_store},
    events::store_access::StoreRows,
    time::check_range,
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use crate::{
    db::{consulting_results, counted, daily_item_sales, daily_sales, item_costs, store_ledgers},
    domain::{
        self, ConsultingUpdate, DailyVolume, DayDelta, RefundFact, SalesReport, SoldFact, Tally,
    },
    upstream::Upstream,
};

#[derive(Clone)]
pub struct Dashboard {
    db: DatabaseConnection,
    upstream: Upstream,
    clock: Clock,
}

/// What a rebuild counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Rebuilt {
    pub stores: usize,
    pub sales: u64,
    pub refunds: u64,
}

impl Dashboard {
    pub fn new(db: DatabaseConnection, upstream: Upstream, clock: Clock) -> Self {
        Dashboard {
            db,
            upstream,
            clock,
        }
    }

    // ---- costs ----

    /// Sets the unit cost of the caller's items, all or none: every item
    /// must be the caller's and live (one call to the item subgraph), else
    /// NOT_FOUND and nothing is written.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, count = costs.len()))]
    pub async fn set_costs(&self, caller: &Acting, costs: Vec<(Uuid, i64)>) -> Result<()> {
        let costs = domain::cost_list(costs)?;
        let ids: Vec<Uuid> = costs.iter().map(|(id, _)| *id).collect();
        let live = self.upstream.live_items(caller, &ids).await?;
        if let Some(missing) = ids.iter().find(|id| !live.contains(id)) {
            return Err(Error::not_found(format!("no such item: {missing}")));
        }
        item_costs::set(&self.db, caller.store_id, &costs, self.clock.now()).await
    }

    /// The store's costs of these items; items without one are absent.
    pub async fn costs(&self, store_id: Uuid, item_ids: Vec<Uuid>) -> Result<Vec<(Uuid, i64)>> {
        Ok(item_costs::of_items(&self.db, store_id, item_ids)
            .await?
            .into_iter()
            .map(|row| (row.item_id, row.cost))
            .collect())
    }

    // ---- reports: the read model only, never another subgraph ----

    /// A snapshot of the read model, for reports that must agree: read
    /// through one, a sale is counted in all of them or in none.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.db.clone())
    }

    pub async fn sales_report(
        &self,
        at: &Snapshot,
        store_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<SalesReport> {
        check_range(from, to)?;
        let totals = daily_item_sales::totals(at.reader().await?, store_id, from, to).await?;
        Ok(domain::sales_report(from, to, totals))
    }

    /// Each business day of `from..=to` with its sales and profit, a day's
    /// figures and its cost read in one statement.
    pub async fn daily_volumes(
        &self,
        at: &Snapshot,
        store_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<DailyVolume>> {
        check_range(from, to)?;
        let days = daily_sales::costed_in_range(at.reader().await?, store_id, from, to).await?;
        let days: HashMap<NaiveDate, (DayDelta, i64)> = days
            .into_iter()
            .map(|d| {
                let delta = DayDelta {
                    sales_volume: d.sales_volume,
                    order_count: d.order_count,
                };
                (d.business_date, (delta, d.cost))
            })
            .collect();
        Ok(domain::daily_volumes(from, to, &days))
    }

    // ---- consulting results ----

    /// The store's latest result of a consulting request, if one arrived.
    pub async fn consulting_result(
        &self,
        store_id: Uuid,
        request_id: Uuid,
    ) -> Result<Option<ConsultingUpdate>> {
        Ok(consulting_results::find(&self.db, store_id, request_id)
            .await?
            .map(|row| ConsultingUpdate {
                store_id: row.store_id,
                request_id: row.request_id,
                status: row.status,
                content: row.content,
                error: row.error,
                completed_at: row.completed_at,
                at: row.updated_at,
            }))
    }

    /// Keeps a consulting result unless a later one is kept already, under
    /// the store's ledger lock like its figures: none is kept for a deleted
    /// store.
    pub async fn keep_consulting(
        &self,
        txn: &DatabaseTransaction,
        update: &ConsultingUpdate,
    ) -> Result<()> {
        if !store_ledgers::lock(txn, update.store_id, self.clock.now(), false).await? {
            return Ok(());
        }
        consulting_results::keep(
            txn,
            &consulting_results::Model {
                request_id: update.request_id,
                store_id: update.store_id,
                status: update.status,
                stage: update.status.stage(),
                content: update.content.clone(),
                error: update.error.clone(),
                completed_at: update.completed_at,
                updated_at: update.at,
            },
        )
        .await
    }

    // ---- the read model ----

    /// Counts a sale, once: a sale counted before changes nothing.
    pub async fn count_sale(
        &self,
        txn: &DatabaseTransaction,
        store_id: Uuid,
        sale: &SoldFact,
    ) -> Result<()> {
        self.count_all(txn, store_id, std::slice::from_ref(sale), &[])
            .await
            .map(|_| ())
    }

    /// Counts the store's sales, and its refunds on the day each was made,
    /// each once: one counted before, or given twice, is counted once.
    /// Returns how many were new.
    pub async fn count_all(
        &self,
        txn: &DatabaseTransaction,
        store_id: Uuid,
        sales: &[SoldFact],
        refunds: &[RefundFact],
    ) -> Result<(u64, u64)> {
        self.count(txn, store_id, sales, refunds, false).await
    }

    /// Adds what was not counted yet of `sales` and `refunds` to the
    /// store's figures, holding the store's ledger lock: whatever their
    /// number, at most five statements (the lock, the counted sales, the
    /// counted refunds, the items' and the days' figures; none for what is
    /// empty). A deleted store's late events
    /// count nothing (its ledger is closed). Returns how many were new.
    async fn count(
        &self,
        txn: &DatabaseTransaction,
        store_id: Uuid,
        sales: &[SoldFact],
        refunds: &[RefundFact],
        rebuilding: bool,
    ) -> Result<(u64, u64)> {
        if !store_ledgers::lock(txn, store_id, self.clock.now(), rebuilding).await? {
            return Ok((0, 0));
        }
        let rows: Vec<counted::Counted> = sales
            .iter()
            .map(|s| (s.sale_id, s.business_date, s.amount))
            .collect();
        let mut new = counted::sales(txn, store_id, &rows).await?;
        let new_sales: Vec<&SoldFact> = sales.iter().filter(|s| new.remove(&s.sale_id)).collect();
        let rows: Vec<counted::Counted> = refunds
            .iter()
            .map(|r| (r.refund_id, r.business_date, r.amount))
            .collect();
        let mut new = counted::refunds(txn, store_id, &rows).await?;
        let new_refunds: Vec<&RefundFact> = refunds
            .iter()
            .filter(|r| new.remove(&r.refund_id))
            .collect();
        let mut tally = Tally::default();
        for sale in &new_sales {
            tally.add_sale(sale);
        }
        for refund in &new_refunds {
            tally.add_refund(refund);
        }
        daily_item_sales::add(txn, store_id, &tally.items).await?;
        daily_sales::add(txn, store_id, &tally.days).await?;
        Ok((new_sales.len() as u64, new_refunds.len() as u64))
    }

    /// Rebuilds the read model from the sale subgraph's paid sales and
    /// refunds: of `store`, or of every store when `None` (those with sales,
    /// and those the read model has figures of). Each store is rebuilt in
    /// one transaction that holds its ledger lock: reports see the old
    /// figures or the new, and the live consumer waits, then finds every
    /// sale it brings already counted.
    pub async fn rebuild(&self, store: Option<Uuid>) -> Result<Rebuilt> {
        let stores = match store {
            Some(store) => vec![store],
            None => {
                let mut stores = self.upstream.stores_with_sales().await?;
                stores.extend(store_ledgers::stores(&self.db).await?);
                stores.sort();
                stores.dedup();
                stores
            }
        };
        let mut rebuilt = Rebuilt::default();
        for store_id in stores {
            let (sales, refunds) = self.rebuild_store(store_id).await?;
            tracing::info!(%store_id, sales, refunds, "store rebuilt");
            rebuilt.stores += 1;
            rebuilt.sales += sales;
            rebuilt.refunds += refunds;
        }
        Ok(rebuilt)
    }

    async fn rebuild_store(&self, store_id: Uuid) -> Result<(u64, u64)> {
        let txn = self.db.begin().await?;
        if !store_ledgers::lock(&txn, store_id, self.clock.now(), true).await? {
            // Deleted: nothing to count.
            return Ok((0, 0));
        }
        self.forget(&txn, store_id).await?;
        let mut sales = Vec::new();
        let mut refunds = Vec::new();
        let mut after = None;
        loop {
            let page = self.upstream.sale_history(store_id, after).await?;
            for paid in &page.sales {
                sales.push(SoldFact::from(&paid.completed));
                refunds.extend(paid.refunds.iter().map(RefundFact::from));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let counted = self.count(&txn, store_id, &sales, &refunds, true).await?;
        txn.commit().await?;
        Ok(counted)
    }

    /// Removes the store's figures, its costs kept.
    async fn forget(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        Ok(
            delete_of_store::<counted::sales::Entity, _>(txn, store_id).await?
                + delete_of_store::<counted::refunds::Entity, _>(txn, store_id).await?
                + delete_of_store::<daily_item_sales::Entity, _>(txn, store_id).await?
                + delete_of_store::<daily_sales::Entity, _>(txn, store_id).await?,
        )
    }
}

/// A deleted store's costs, figures and consulting results go with it. Its
/// ledger is closed first, taking the lock every count takes: a count under
/// way commits before the figures are removed, and none comes after.
#[async_trait]
impl StoreRows for Dashboard {
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        store_ledgers::close(txn, store_id, self.clock.now()).await?;
        Ok(self.forget(txn, store_id).await?
            + delete_of_store::<item_costs::Entity, _>(txn, store_id).await?
            + delete_of_store::<consulting_results::Entity, _>(txn, store_id).await?)
    }
}
