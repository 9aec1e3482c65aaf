//! What happens at the counter: checkouts, refunds, summaries and the day
//! close. Each use case owns its transaction and writes its event to the
//! outbox inside it.
//!
//! A checkout spans two subgraphs, so it is a sequence that any crash can
//! interrupt, and that recovery finishes:
//!
//! 1. read the table's open order (id, total, version) and check that the
//!    payments add up to its total; nothing is written if not;
//! 2. write the sale as PENDING, with its key, the order's id and version,
//!    and the payments (unique per key, and one live sale per order);
//! 3. ask the order subgraph to pay that order at that version with this
//!    sale's id (idempotent per sale id; a changed order is refused, and as
//!    versions only grow, a refused sale can never pay later);
//! 4. complete the sale with the paid order's lines, and its `SaleCompleted`
//!    event, in one transaction (a compare-and-set from PENDING).
//!
//! A retry with the same key, or recovery (at start-up and on a timer, for
//! sales pending longer than a grace period), repeats 3 and 4: if the order
//! was paid, 3 returns it; if it cannot be paid, the sale is ABANDONED.
//! So once the system recovers, every paid order has exactly one completed
//! sale and every completed sale a paid order.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{Duration, NaiveDate};
use salesync_common::{
    Error, Result,
    auth::Acting,
    clock::Clock,
    db::{Writes, by_ids, delete_of_store},
    events::{
        Event, outbox, outbox::OutboxSignal, store_access::StoreRows, store_copy::StoreCopy, topics,
    },
    shutdown::Stop,
    time::{BusinessCalendar, check_range},
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    config::{CheckoutStep, FaultSettings, RecoverySettings},
    db::{calendars, day_closes, payments, refunds, sale_lines, sales},
    domain::{
        self, Checkout, MethodTotals, PaymentMethod, RefundRequest, RefundedLine, SaleState,
        SoldLine,
    },
    events::{REFUND_MADE, RefundMade, SALE_COMPLETED, SaleCompleted, SaleHistory},
    upstream::{Calendar, PaidOrder, Payer, Upstream},
};

/// How often a refund is retried when another refund of the sale came first.
const ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Sales {
    db: DatabaseConnection,
    upstream: Upstream,
    outbox: OutboxSignal,
    clock: Clock,
    faults: FaultSettings,
    recovery: RecoverySettings,
    /// The `store_calendars` table, kept in memory in front of it.
    calendars: StoreCopy<Calendar>,
}

/// A sale with everything it shows.
#[derive(Debug, Clone)]
pub struct SaleView {
    pub sale: sales::Model,
    pub payments: Vec<payments::Model>,
    pub lines: Vec<sale_lines::Model>,
    pub refunds: Vec<refunds::Model>,
}

/// Gross sales, refunds and their methods over business days.
#[derive(Debug, Clone)]
pub struct Summary {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub gross_sales: i64,
    pub refunds: i64,
    pub sale_count: i32,
    pub refund_count: i32,
    pub by_method: Vec<(PaymentMethod, MethodTotals)>,
}

/// What was counted of one method at the day close, against what the books say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MethodCount {
    pub method: PaymentMethod,
    pub expected: i64,
    pub counted: i64,
    pub difference: i64,
}

impl Sales {
    pub fn new(
        db: DatabaseConnection,
        upstream: Upstream,
        outbox: OutboxSignal,
        clock: Clock,
        faults: FaultSettings,
        recovery: RecoverySettings,
        calendars: StoreCopy<Calendar>,
    ) -> Self {
        Sales {
            db,
            upstream,
            outbox,
            clock,
            faults,
            recovery,
            calendars,
        }
    }

    /// Pays the table's open order with `checkout`'s payments.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, table_no = checkout.table_no))]
    pub async fn checkout(&self, caller: &Acting, checkout: Checkout) -> Result<SaleView> {
        let digest = checkout.digest();
        // A key seen before is rare (a retry), so it is looked up only when
        // this checkout cannot go ahead as a new one: the table has no open
        // order (the same key may have paid it a moment ago), the payments
        // do not cover it (the table may hold a newer order since), or the
        // key is taken when the sale is written.
        let order = match self.upstream.open_order(caller, checkout.table_no).await? {
            Some(order) => checkout.check_covers(order.total).map(|()| order),
            None => Err(Error::not_found(format!(
                "table {} has no open order",
                checkout.table_no
            ))),
        };
        let order = match order {
            Ok(order) => order,
            Err(refused) => {
                return self
                    .seen_before(caller, &checkout.key, &digest, refused)
                    .await;
            }
        };

        let now = self.clock.now();
        let sale = sales::Model {
            id: Uuid::now_v7(),
            store_id: caller.store_id,
            idempotency_key: checkout.key.clone(),
            request_hash: digest.clone(),
            table_no: checkout.table_no,
            order_id: order.id,
            order_version: order.version,
            amount: order.total,
            refunded_amount: 0,
            status: SaleState::Pending,
            version: 1,
            business_date: None,
            paid_at: None,
            created_at: now,
            updated_at: now,
        };
        let rows: Vec<payments::Model> = checkout
            .payments
            .iter()
            .enumerate()
            .map(|(position, p)| payments::Model {
                id: Uuid::now_v7(),
                sale_id: sale.id,
                position: position as i32,
                method: p.method,
                amount: p.amount,
                tendered: p.tendered,
                change: p.change(),
            })
            .collect();
        let txn = self.db.begin().await?;
        let mut writes = Writes::default();
        writes.push(sales::pending(&sale));
        payments::insert(&mut writes, &rows);
        match writes.exec(&txn).await {
            Ok(_) => {}
            Err(e) if sales::taken(&e) => {
                txn.rollback().await?;
                // The same key came in at once (resume it), or another
                // checkout is paying this order.
                let paying = Error::conflict("another checkout is paying this table's order");
                return self
                    .seen_before(caller, &checkout.key, &digest, paying)
                    .await;
            }
            Err(e) => return Err(e.into()),
        }
        txn.commit().await?;
        self.fault(CheckoutStep::Pending)?;
        self.pay_and_complete(Payer::Client(caller), Some(caller), sale, rows)
            .await
    }

    /// The sale of a key seen before, whatever state the first call left it
    /// in; `otherwise` when the key is new.
    async fn seen_before(
        &self,
        caller: &Acting,
        key: &str,
        digest: &str,
        otherwise: Error,
    ) -> Result<SaleView> {
        let Some(sale) = sales::by_key(&self.db, caller.store_id, key).await? else {
            return Err(otherwise);
        };
        if sale.request_hash != digest {
            return Err(Error::conflict(
                "this idempotency key was used for another checkout",
            ));
        }
        match sale.status {
            SaleState::Pending => {
                self.finish_pending(Payer::Client(caller), Some(caller), sale)
                    .await
            }
            SaleState::Abandoned => Err(Error::conflict(
                "this checkout could not pay the order, which changed or closed; check out again with a new key",
            )),
            _ => self.view(sale).await,
        }
    }

    /// Steps 3 and 4 for a sale an earlier call left pending (a retry's,
    /// or recovery's): its payments are read back first.
    async fn finish_pending(
        &self,
        payer: Payer<'_>,
        caller: Option<&Acting>,
        sale: sales::Model,
    ) -> Result<SaleView> {
        let payments = payments::of_sales(&self.db, vec![sale.id]).await?;
        self.pay_and_complete(payer, caller, sale, payments).await
    }

    /// Steps 3 and 4. A refusal to pay abandons the sale for good; any other
    /// failure leaves it pending for a retry or recovery.
    async fn pay_and_complete(
        &self,
        payer: Payer<'_>,
        caller: Option<&Acting>,
        sale: sales::Model,
        payments: Vec<payments::Model>,
    ) -> Result<SaleView> {
        // The fault switch stops a client's request, as a crash would;
        // recovery is what runs after the restart.
        let faults_apply = matches!(payer, Payer::Client(_));
        let order = (sale.order_id, sale.order_version);
        let paid = match self
            .upstream
            .pay(payer, sale.table_no, sale.id, order)
            .await
        {
            Ok(paid) => paid,
            Err(refused @ (Error::NotFound(_) | Error::Conflict(_))) => {
                sales::settle(
                    &self.db,
                    sale.id,
                    SaleState::Abandoned,
                    None,
                    self.clock.now(),
                )
                .await?;
                tracing::info!(sale_id = %sale.id, "abandoned a checkout whose order could not be paid");
                return Err(refused);
            }
            Err(other) => return Err(other),
        };
        if faults_apply {
            self.fault(CheckoutStep::Paid)?;
        }
        self.complete(caller, sale, payments, paid).await
    }

    /// Step 4: the paid order's lines, the business day, the event.
    /// `payments` are the sale's, as step 2 wrote them.
    async fn complete(
        &self,
        caller: Option<&Acting>,
        sale: sales::Model,
        payments: Vec<payments::Model>,
        paid: PaidOrder,
    ) -> Result<SaleView> {
        if paid.id != sale.order_id || paid.total != sale.amount {
            return Err(Error::internal(anyhow::anyhow!(
                "sale {} paid order {} for {}, not order {} for {}",
                sale.id,
                paid.id,
                paid.total,
                sale.order_id,
                sale.amount
            )));
        }
        let calendar = self.calendar(sale.store_id, caller).await?;
        let now = self.clock.now();
        // The instant the order was paid, the same however often this runs.
        let paid_at = paid.closed_at.unwrap_or(now);
        let business_date = calendar.business_date(paid_at);
        let lines: Vec<sale_lines::Model> = paid
            .lines
            .iter()
            .enumerate()
            .map(|(position, line)| sale_lines::Model {
                id: Uuid::now_v7(),
                sale_id: sale.id,
                position: position as i32,
                item_id: line.item_id,
                name: line.name.clone(),
                unit_price: line.unit_price,
                quantity: line.quantity,
                refunded_quantity: 0,
                amount: line.amount,
            })
            .collect();

        let event = Event::new(
            SALE_COMPLETED,
            sale.store_id,
            SaleCompleted::of(&sale, (business_date, paid_at), &lines, &payments),
        );
        let txn = self.db.begin().await?;
        let mut writes = Writes::default();
        let sale_row = writes.push(sales::settling(
            sale.id,
            SaleState::Completed,
            Some((business_date, paid_at)),
            now,
        ));
        sale_lines::insert(&mut writes, &lines);
        writes.push(outbox::insertion(topics::SALES, &event));
        if writes.exec(&txn).await?.rows(sale_row) == 0 {
            // A retry or recovery completed it a moment ago: what was
            // written with it goes too.
            txn.rollback().await?;
            return self.reload(sale.id).await;
        }
        txn.commit().await?;
        self.outbox.notify();
        tracing::info!(sale_id = %sale.id, amount = sale.amount, "sale completed");
        // The sale as this transaction left it, without reading it back:
        // `settle` moved it from PENDING, which nothing else changes, and a
        // sale completed a moment ago has no refunds.
        Ok(SaleView {
            sale: sales::Model {
                status: SaleState::Completed,
                business_date: Some(business_date),
                paid_at: Some(paid_at),
                version: sale.version + 1,
                updated_at: now,
                ..sale
            },
            payments,
            lines,
            refunds: Vec::new(),
        })
    }

    /// Stops here when the fault switch names this step, as a crash would.
    fn fault(&self, step: CheckoutStep) -> Result<()> {
        if step != CheckoutStep::Never && self.faults.checkout_stop_after == step {
            return Err(Error::internal(anyhow::anyhow!(
                "fault injected after the {step:?} step"
            )));
        }
        Ok(())
    }

    /// The store's calendar: the copy events keep (from memory while it
    /// answers), else (a store whose event has not arrived yet) asked of
    /// the store subgraph and kept.
    async fn calendar(&self, store_id: Uuid, caller: Option<&Acting>) -> Result<BusinessCalendar> {
        let read = calendars::find_dated(&self.db, store_id);
        if let Some(copy) = self.calendars.get_or_read(store_id, read).await? {
            return BusinessCalendar::new(&copy.timezone, copy.closeout_hour);
        }
        let Some(caller) = caller else {
            return Err(Error::internal(anyhow::anyhow!(
                "no calendar of store {store_id} has arrived yet"
            )));
        };
        let reading = self.calendars.reading();
        let asked = self.upstream.calendar(caller).await?;
        let at = self.clock.now();
        calendars::upsert(&self.db, store_id, &asked.timezone, asked.closeout_hour, at).await?;
        let kept = self.calendars.learn(store_id, asked, at, reading);
        BusinessCalendar::new(&kept.timezone, kept.closeout_hour)
    }

    /// Finishes or abandons what crashes left pending: how many it
    /// settled, and how many are left for the next round.
    pub async fn recover(&self) -> Result<(usize, usize)> {
        let cutoff = self.clock.now() - Duration::seconds(self.recovery.grace_seconds);
        let (mut settled, mut left) = (0, 0);
        for sale in sales::pending_before(&self.db, cutoff).await? {
            let sale_id = sale.id;
            match self
                .finish_pending(Payer::Recovery(sale.store_id), None, sale)
                .await
            {
                Ok(_) | Err(Error::NotFound(_) | Error::Conflict(_)) => settled += 1,
                Err(error) => {
                    left += 1;
                    tracing::warn!(%sale_id, ?error, "could not settle a pending sale yet");
                }
            }
        }
        Ok((settled, left))
    }

    /// Recovers at start-up, then every interval, until `stop`; sooner
    /// while something could not be settled yet.
    pub async fn run_recovery(self, mut stop: Stop) {
        let interval = std::time::Duration::from_secs(self.recovery.interval_seconds.max(1));
        let soon = interval.min(std::time::Duration::from_secs(5));
        loop {
            let pause = match self.recover().await {
                Ok((settled, left)) => {
                    if settled > 0 {
                        tracing::info!(settled, "recovered pending sales");
                    }
                    if left > 0 { soon } else { interval }
                }
                Err(error) => {
                    tracing::warn!(?error, "sale recovery failed; will retry");
                    soon
                }
            };
            tokio::select! {
                _ = stop.wait() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Gives back lines of a sale, or all that is left.
    #[tracing::instrument(skip_all, fields(store_id = %caller.store_id, sale_id = %request.sale_id))]
    pub async fn refund(&self, caller: &Acting, request: RefundRequest) -> Result<SaleView> {
        let digest = request.digest();
        for _ in 0..ATTEMPTS {
            if let Some(done) = refunds::by_key(&self.db, caller.store_id, &request.key).await? {
                if done.request_hash != digest {
                    return Err(Error::conflict(
                        "this idempotency key was used for another refund",
                    ));
                }
                return self.reload(done.sale_id).await;
            }
            let view = self.paid_sale(caller.store_id, request.sale_id).await?;
            let mut sold: Vec<SoldLine> = view
                .lines
                .iter()
                .map(|l| SoldLine {
                    line_id: l.id,
                    item_id: l.item_id,
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    refunded: l.refunded_quantity,
                })
                .collect();
            let given = domain::allocate_refund(&sold, request.lines.as_deref())?;
            for back in &given {
                if let Some(line) = sold.iter_mut().find(|l| l.line_id == back.line_id) {
                    line.refunded += back.quantity;
                }
            }
            let amount: i64 = given.iter().map(|l| l.amount).sum();
            let method = request.method.unwrap_or_else(|| {
                let paid: Vec<(PaymentMethod, i64)> =
                    view.payments.iter().map(|p| (p.method, p.amount)).collect();
                domain::default_refund_method(&paid)
            });
            let now = self.clock.now();
            let business_date = self
                .calendar(caller.store_id, Some(caller))
                .await?
                .business_date(now);
            let refund = refunds::Model {
                id: Uuid::now_v7(),
                sale_id: view.sale.id,
                store_id: caller.store_id,
                idempotency_key: request.key.clone(),
                request_hash: digest.clone(),
                amount,
                method,
                reason: request.reason.clone(),
                lines: serde_json::to_string(&given).expect("BUG: refund lines always serialize"),
                business_date,
                created_at: now,
            };

            let state = domain::state_after_refund(&sold);
            let total = view.sale.refunded_amount + amount;
            let back: Vec<(Uuid, i32)> = given.iter().map(|l| (l.line_id, l.quantity)).collect();
            let event = Event::new(REFUND_MADE, caller.store_id, RefundMade::of(&refund, given));
            let txn = self.db.begin().await?;
            let mut writes = Writes::default();
            let sale_row = writes.push(sales::refunding(&view.sale, total, state, now));
            writes.push(refunds::insertion(&refund));
            sale_lines::add_refunded(&mut writes, &back);
            writes.push(outbox::insertion(topics::SALES, &event));
            let first = match writes.exec(&txn).await {
                Ok(written) => written.rows(sale_row) == 1,
                Err(e) if refunds::taken(&e) => false,
                Err(e) => return Err(e.into()),
            };
            if !first {
                // Another refund of this sale, or with this key, came first.
                txn.rollback().await?;
                continue;
            }
            txn.commit().await?;
            self.outbox.notify();
            return self.reload(view.sale.id).await;
        }
        Err(Error::conflict(
            "the sale is being refunded by another terminal; try again",
        ))
    }

    // ---- reads ----

    /// One of the store's sales that happened, or NOT_FOUND.
    pub async fn paid_sale(&self, store_id: Uuid, id: Uuid) -> Result<SaleView> {
        self.by_ids(store_id, vec![id])
            .await?
            .pop()
            .ok_or_else(|| Error::not_found("no such sale"))
    }

    /// The store's sales that happened, with these ids.
    pub async fn by_ids(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<SaleView>> {
        let rows = by_ids::<sales::Entity, _>(&self.db, store_id, ids).await?;
        self.views(
            rows.into_iter()
                .filter(|s| s.status.status().is_some())
                .collect(),
        )
        .await
    }

    /// The sales of these orders (each order has at most one).
    pub async fn of_orders(&self, store_id: Uuid, order_ids: Vec<Uuid>) -> Result<Vec<SaleView>> {
        let rows = sales::paid_for_orders(&self.db, store_id, order_ids).await?;
        self.views(rows).await
    }

    /// A page of the store's paid sales as their events told them, with
    /// their refunds, in id order after `after`: the dashboard rebuilds its
    /// read model from these.
    pub async fn history(
        &self,
        store_id: Uuid,
        after: Option<Uuid>,
        limit: u64,
    ) -> Result<Vec<SaleHistory>> {
        let rows = sales::paid_after(&self.db, store_id, after, limit).await?;
        self.views(rows)
            .await?
            .into_iter()
            .map(|view| {
                let (Some(day), Some(paid_at)) = (view.sale.business_date, view.sale.paid_at)
                else {
                    return Err(Error::internal(anyhow::anyhow!(
                        "paid sale {} has no business day",
                        view.sale.id
                    )));
                };
                let refunds = view
                    .refunds
                    .iter()
                    .map(|r| Ok(RefundMade::of(r, SaleView::refund_lines(r)?)))
                    .collect::<Result<Vec<_>>>()?;
                Ok(SaleHistory {
                    completed: SaleCompleted::of(
                        &view.sale,
                        (day, paid_at),
                        &view.lines,
                        &view.payments,
                    ),
                    refunds,
                })
            })
            .collect()
    }

    /// Every store with a paid sale.
    pub async fn stores_with_sales(&self) -> Result<Vec<Uuid>> {
        sales::stores_with_sales(&self.db).await
    }

    /// The store's sales of business days `from..=to`, oldest first.
    pub async fn on_days(
        &self,
        store_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SaleView>> {
        check_range(from, to)?;
        let rows = sales::paid_on_days(&self.db, store_id, from, to).await?;
        self.views(rows).await
    }

    pub async fn summary(&self, store_id: Uuid, from: NaiveDate, to: NaiveDate) -> Result<Summary> {
        check_range(from, to)?;
        let (sold, paid, refunded) = self.books(store_id, from, to).await?;
        Ok(Summary {
            from,
            to,
            gross_sales: sold.iter().map(|s| s.amount).sum(),
            refunds: refunded.iter().map(|r| r.amount).sum(),
            sale_count: sold.len() as i32,
            refund_count: refunded.len() as i32,
            by_method: domain::by_method(paid, refunded.iter().map(|r| (r.method, r.amount)))
                .into_iter()
                .collect(),
        })
    }

    pub async fn day_close(
        &self,
        store_id: Uuid,
        day: NaiveDate,
    ) -> Result<Option<day_closes::Model>> {
        day_closes::find(&self.db, store_id, day).await
    }

    /// The Z-report: what was counted per method against what the sales and
    /// refunds of the day say was taken. Once per day (`CONFLICT` after).
    #[tracing::instrument(skip_all, fields(%store_id, %day))]
    pub async fn close_day(
        &self,
        store_id: Uuid,
        day: NaiveDate,
        counted: HashMap<PaymentMethod, i64>,
    ) -> Result<day_closes::Model> {
        let (sold, paid, refunded) = self.books(store_id, day, day).await?;
        let refunds_total: i64 = refunded.iter().map(|r| r.amount).sum();
        let methods: Vec<MethodCount> =
            domain::by_method(paid, refunded.iter().map(|r| (r.method, r.amount)))
                .into_iter()
                .map(|(method, totals)| {
                    let counted = counted.get(&method).copied().unwrap_or(0);
                    MethodCount {
                        method,
                        expected: totals.net(),
                        counted,
                        difference: counted - totals.net(),
                    }
                })
                .collect();
        let close = day_closes::Model {
            store_id,
            business_date: day,
            closed_at: self.clock.now(),
            methods: serde_json::to_string(&methods).expect("BUG: counts always serialize"),
            sales_volume: sold.iter().map(|s| s.amount).sum::<i64>() - refunds_total,
            sale_count: sold.len() as i32,
        };
        day_closes::insert(&self.db, &close).await?;
        Ok(close)
    }

    /// The sales, their payments and the refunds of business days `from..=to`.
    async fn books(
        &self,
        store_id: Uuid,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(
        Vec<sales::Model>,
        Vec<(PaymentMethod, i64)>,
        Vec<refunds::Model>,
    )> {
        let sold = sales::paid_on_days(&self.db, store_id, from, to).await?;
        let paid = payments::of_sales(&self.db, sold.iter().map(|s| s.id).collect())
            .await?
            .into_iter()
            .map(|p| (p.method, p.amount))
            .collect();
        let refunded = refunds::on_days(&self.db, store_id, from, to).await?;
        Ok((sold, paid, refunded))
    }

    async fn reload(&self, id: Uuid) -> Result<SaleView> {
        let sale = sales::by_id(&self.db, id)
            .await?
            .ok_or_else(|| Error::internal(anyhow::anyhow!("sale {id} vanished")))?;
        self.view(sale).await
    }

    async fn view(&self, sale: sales::Model) -> Result<SaleView> {
        self.views(vec![sale])
            .await?
            .pop()
            .ok_or_else(|| Error::internal(anyhow::anyhow!("a loaded sale has no view")))
    }

    /// The sales with their payments, lines and refunds: three statements
    /// for any number of sales.
    async fn views(&self, rows: Vec<sales::Model>) -> Result<Vec<SaleView>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|s| s.id).collect();
        let mut payments = group(payments::of_sales(&self.db, ids.clone()).await?, |p| {
            p.sale_id
        });
        let mut lines = group(sale_lines::of_sales(&self.db, ids.clone()).await?, |l| {
            l.sale_id
        });
        let mut refunds = group(refunds::of_sales(&self.db, ids).await?, |r| r.sale_id);
        Ok(rows
            .into_iter()
            .map(|sale| SaleView {
                payments: payments.remove(&sale.id).unwrap_or_default(),
                lines: lines.remove(&sale.id).unwrap_or_default(),
                refunds: refunds.remove(&sale.id).unwrap_or_default(),
                sale,
            })
            .collect())
    }
}

fn group<T>(rows: Vec<T>, key: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<T>> {
    let mut grouped: HashMap<Uuid, Vec<T>> = HashMap::new();
    for row in rows {
        grouped.entry(key(&row)).or_default().push(row);
    }
    grouped
}

impl SaleView {
    /// The refunded lines of a refund.
    pub fn refund_lines(refund: &refunds::Model) -> Result<Vec<RefundedLine>> {
        serde_json::from_str(&refund.lines)
            .map_err(|e| Error::internal(anyhow::Error::new(e).context("stored refund lines")))
    }
}

/// A deleted store's sales go with it, for good (their payments, lines and
/// refunds with them), with its day closes and calendar.
#[async_trait]
impl StoreRows for Sales {
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        let sales = delete_of_store::<sales::Entity, _>(txn, store_id).await?;
        let closes = delete_of_store::<day_closes::Entity, _>(txn, store_id).await?;
        let calendars = delete_of_store::<calendars::Entity, _>(txn, store_id).await?;
        Ok(sales + closes + calendars)
    }
}
