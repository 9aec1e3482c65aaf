//! What happens to a table's order. Every change is one transaction that
//! also writes its event to the outbox. Terminals at one table take turns:
//! each change first takes the table's turn (a lock, [`table_turns`]),
//! so an addition always succeeds however many terminals touch the table,
//! and only a caller that sent an `expectedVersion` can be told its view is
//! stale.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use salesync_common::{
    Error, Result,
    auth::Acting,
    clock::Clock,
    db::{Write, Writes, by_ids, delete_of_store},
    events::{
        Event, outbox, outbox::OutboxSignal, store_access::StoreRows, store_copy::StoreCopy, topics,
    },
};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use uuid::Uuid;

use crate::{
    db::{self, order_lines, orders, store_facts, table_turns},
    domain::{self, Change, Line, OrderStatus, Requested},
    snapshot::OrderSnapshot,
    upstream::{StoreFacts, Upstream},
};

#[derive(Clone)]
pub struct Orders {
    db: DatabaseConnection,
    upstream: Upstream,
    outbox: OutboxSignal,
    clock: Clock,
    /// The `store_facts` table, kept in memory in front of it.
    facts: StoreCopy<StoreFacts>,
}

impl Orders {
    pub fn new(
        db: DatabaseConnection,
        upstream: Upstream,
        outbox: OutboxSignal,
        clock: Clock,
        facts: StoreCopy<StoreFacts>,
    ) -> Self {
        Orders {
            db,
            upstream,
            outbox,
            clock,
            facts,
        }
    }

    /// The current time at the database's precision (microseconds), so the
    /// order a change returns, its event and a later read all agree.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Opens the table's order, or adds to it.
    #[tracing::instrument(skip(self, caller, requested), fields(store_id = %caller.store_id))]
    pub async fn place(
        &self,
        caller: &Acting,
        table_no: i32,
        requested: &[Requested],
    ) -> Result<OrderSnapshot> {
        if requested.is_empty() {
            return Err(Error::bad_input(
                "lines",
                "an order needs at least one line",
            ));
        }
        let (table_no, menu) = self.check_references(caller, table_no, requested).await?;
        // Refuse what cannot be ordered before touching the database; these
        // are also the lines of a new order.
        let new_lines = domain::add_lines(&[], requested, &menu)?;
        let txn = self.turn_at(caller.store_id, table_no).await?;
        match orders::open_at_table(&txn, caller.store_id, table_no).await? {
            None => self.open(txn, caller.store_id, table_no, &new_lines).await,
            Some((order, stored)) => {
                let lines = domain::add_lines(&as_lines(&stored), requested, &menu)?;
                self.update(txn, order, stored, &lines, Change::Changed)
                    .await
            }
        }
    }

    /// Replaces the lines of the table's open order; no lines cancels it.
    #[tracing::instrument(skip(self, caller, requested), fields(store_id = %caller.store_id))]
    pub async fn set_lines(
        &self,
        caller: &Acting,
        table_no: i32,
        requested: &[Requested],
        expected_version: Option<i32>,
    ) -> Result<OrderSnapshot> {
        if requested.is_empty() {
            return self.cancel(caller, table_no, expected_version).await;
        }
        let (table_no, menu) = self.check_references(caller, table_no, requested).await?;
        let txn = self.turn_at(caller.store_id, table_no).await?;
        let (order, stored) = open_or_not_found(&txn, caller.store_id, table_no).await?;
        check_version(&order, expected_version)?;
        let lines = domain::replace_lines(&as_lines(&stored), requested, &menu)?;
        self.update(txn, order, stored, &lines, Change::Changed)
            .await
    }

    /// Cancels the table's open order.
    #[tracing::instrument(skip(self, caller), fields(store_id = %caller.store_id))]
    pub async fn cancel(
        &self,
        caller: &Acting,
        table_no: i32,
        expected_version: Option<i32>,
    ) -> Result<OrderSnapshot> {
        let txn = self.turn_at(caller.store_id, table_no).await?;
        let (order, stored) = open_or_not_found(&txn, caller.store_id, table_no).await?;
        check_version(&order, expected_version)?;
        let lines = as_lines(&stored);
        self.update(txn, order, stored, &lines, Change::Cancelled)
            .await
    }

    /// Closes the table's open order as paid by `sale_id` and returns the
    /// authoritative order. Only the order `(id, version)` the sale read is
    /// paid: a change since is `CONFLICT`, and since versions only grow, a
    /// sale that failed so can never pay later. Idempotent: paying again
    /// with the same sale returns the order that sale paid.
    #[tracing::instrument(skip(self))]
    pub async fn pay(
        &self,
        store_id: Uuid,
        table_no: i32,
        sale_id: Uuid,
        (order_id, version): (Uuid, i32),
    ) -> Result<OrderSnapshot> {
        // The turn first, then the reads: a retry of the same sale that
        // waited for the turn sees the payment it waited for, and returns
        // it instead of finding the table closed.
        let txn = self.turn_at(store_id, table_no).await?;
        let open = orders::open_at_table(&txn, store_id, table_no).await?;
        // While the sale's order is open, no sale has paid it; otherwise
        // (rarely: a retry, or recovery) this sale may be the one that did.
        let (order, stored) = match open {
            Some((order, stored)) if order.id == order_id => (order, stored),
            open => {
                if let Some(paid) = orders::paid_by(&txn, store_id, sale_id).await? {
                    let mut paid = db::snapshots(&txn, vec![paid]).await?;
                    return Ok(paid.remove(0));
                }
                open.ok_or_else(|| no_open_order(table_no))?
            }
        };
        if order.id != order_id || order.version != version {
            return Err(Error::conflict(
                "the table's order changed since it was read; check out again",
            ));
        }
        let lines = as_lines(&stored);
        self.update(txn, order, stored, &lines, Change::Paid { sale_id })
            .await
    }

    /// Begins a transaction holding the table's turn: other changes to the
    /// table wait until it ends.
    async fn turn_at(&self, store_id: Uuid, table_no: i32) -> Result<DatabaseTransaction> {
        let txn = self.db.begin().await?;
        table_turns::take(&txn, store_id, table_no).await?;
        Ok(txn)
    }

    /// What orders need of the caller's store: the copy its events keep
    /// (from memory while it answers), else (its event has not arrived yet)
    /// asked of the store subgraph.
    pub async fn store_facts(&self, caller: &Acting) -> Result<StoreFacts> {
        let read = store_facts::find(&self.db, caller.store_id);
        match self.facts.get_or_read(caller.store_id, read).await? {
            Some(copy) => Ok(copy),
            None => self.ask_store(caller).await,
        }
    }

    /// Asks the store subgraph, and keeps the answer unless a newer event
    /// arrived meanwhile.
    async fn ask_store(&self, caller: &Acting) -> Result<StoreFacts> {
        let reading = self.facts.reading();
        let asked = self.upstream.store(caller).await?;
        // Event times are the wall clock's, so this is too.
        let at = Utc::now();
        store_facts::upsert(&self.db, caller.store_id, &asked, at).await?;
        Ok(self.facts.learn(caller.store_id, asked, at, reading))
    }

    /// Validates the table against the store and looks every item up at the
    /// item subgraph, before anything is written.
    async fn check_references(
        &self,
        caller: &Acting,
        table_no: i32,
        requested: &[Requested],
    ) -> Result<(i32, HashMap<Uuid, domain::MenuItem>)> {
        let ids: Vec<Uuid> = requested.iter().map(|r| r.item_id).collect();
        let (store, menu) =
            tokio::try_join!(self.store_facts(caller), self.upstream.menu(caller, &ids))?;
        let table_no = match domain::table_no("tableNo", table_no, store.table_count) {
            Ok(table_no) => table_no,
            // The copy can lag a change the owner made a moment ago: ask
            // the store subgraph before refusing the table.
            Err(refused) => {
                let asked = self.ask_store(caller).await?;
                domain::table_no("tableNo", table_no, asked.table_count).map_err(|_| refused)?
            }
        };
        if let Some(missing) = ids.iter().position(|id| !menu.contains_key(id)) {
            return Err(Error::not_found(format!(
                "no such item: lines[{missing}].itemId"
            )));
        }
        Ok((table_no, menu))
    }

    /// Opens a new order at the table (whose turn `txn` holds).
    async fn open(
        &self,
        txn: DatabaseTransaction,
        store_id: Uuid,
        table_no: i32,
        lines: &[Line],
    ) -> Result<OrderSnapshot> {
        let now = self.now();
        let order = orders::Model {
            id: Uuid::now_v7(),
            store_id,
            table_no,
            status: OrderStatus::Open,
            total: domain::total(lines)?,
            version: 1,
            opened_at: now,
            updated_at: now,
            closed_at: None,
            sale_id: None,
        };
        let write = orders::insertion(&order).into();
        self.finish(txn, write, order, Vec::new(), lines, Change::Opened)
            .await
    }

    /// Writes `order`, whose lines are `stored`, with `lines` (the table's
    /// turn is `txn`'s).
    async fn update(
        &self,
        txn: DatabaseTransaction,
        order: orders::Model,
        stored: Vec<order_lines::Model>,
        lines: &[Line],
        change: Change,
    ) -> Result<OrderSnapshot> {
        let now = self.now();
        let status = change.status();
        let next = orders::Model {
            total: domain::total(lines)?,
            status,
            version: order.version + 1,
            updated_at: now,
            closed_at: (status != OrderStatus::Open).then_some(now),
            sale_id: change.sale_id(),
            ..order
        };
        let write = orders::update(&next).into();
        self.finish(txn, write, next, stored, lines, change).await
    }

    /// Writes the order (`write`), the lines that changed and the event,
    /// in one statement; commits; wakes the relay.
    async fn finish(
        &self,
        txn: DatabaseTransaction,
        write: Write,
        order: orders::Model,
        stored: Vec<order_lines::Model>,
        lines: &[Line],
        change: Change,
    ) -> Result<OrderSnapshot> {
        let mut writes = Writes::default();
        let order_row = writes.push(write);
        let rows = order_lines::rewrite(&mut writes, order.id, stored, lines)?;
        let snapshot = OrderSnapshot::from_rows(order, rows);
        let event = Event::new(change.event_type(), snapshot.store_id, &snapshot);
        writes.push(outbox::insertion(topics::ORDERS, &event));
        // The order's row, written at the version read under the table's
        // turn: nobody can have changed it since, and its filter makes sure.
        if writes.exec(&txn).await?.rows(order_row) != 1 {
            return Err(Error::internal(anyhow::anyhow!(
                "order {} changed while its table's turn was held",
                snapshot.id
            )));
        }
        txn.commit().await?;
        self.outbox.notify();
        Ok(snapshot)
    }

    // ---- reads ----

    pub async fn open_order(&self, store_id: Uuid, table_no: i32) -> Result<Option<OrderSnapshot>> {
        let open = orders::open_at_table(&self.db, store_id, table_no).await?;
        Ok(open.map(|(order, lines)| OrderSnapshot::from_rows(order, lines)))
    }

    pub async fn open_orders(&self, store_id: Uuid) -> Result<Vec<OrderSnapshot>> {
        let open = orders::open_of_store(&self.db, store_id).await?;
        Ok(open
            .into_iter()
            .map(|(order, lines)| OrderSnapshot::from_rows(order, lines))
            .collect())
    }

    pub async fn between(
        &self,
        store_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        status: Option<OrderStatus>,
    ) -> Result<Vec<OrderSnapshot>> {
        let rows = orders::opened_between(&self.db, store_id, start, end, status).await?;
        db::snapshots(&self.db, rows).await
    }

    /// Orders of `store_id` by id, with their lines: two statements.
    pub async fn by_ids(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<OrderSnapshot>> {
        let rows = by_ids::<orders::Entity, _>(&self.db, store_id, ids).await?;
        db::snapshots(&self.db, rows).await
    }
}

/// A deleted store's orders go with it, for good (their lines with them).
#[async_trait]
impl StoreRows for Orders {
    async fn remove(&self, txn: &DatabaseTransaction, store_id: Uuid) -> Result<u64> {
        // The tables' turns first, as every change takes its table's first.
        table_turns::close_store(txn, store_id).await?;
        delete_of_store::<store_facts::Entity, _>(txn, store_id).await?;
        delete_of_store::<orders::Entity, _>(txn, store_id).await
    }
}

async fn open_or_not_found(
    txn: &DatabaseTransaction,
    store_id: Uuid,
    table_no: i32,
) -> Result<orders::WithLines> {
    orders::open_at_table(txn, store_id, table_no)
        .await?
        .ok_or_else(|| no_open_order(table_no))
}

fn no_open_order(table_no: i32) -> Error {
    Error::not_found(format!("table {table_no} has no open order"))
}

/// An order's stored lines as the domain sees them.
fn as_lines(stored: &[order_lines::Model]) -> Vec<Line> {
    stored
        .iter()
        .map(|l| Line {
            item_id: l.item_id,
            name: l.name.clone(),
            unit_price: l.unit_price,
            quantity: l.quantity,
        })
        .collect()
}

fn check_version(order: &orders::Model, expected: Option<i32>) -> Result<()> {
    match expected {
        Some(expected) if expected != order.version => Err(Error::conflict(format!(
            "the order changed on another terminal (version {} now, {expected} expected); reload it",
            order.version
        ))),
        _ => Ok(()),
    }
}
