//! What happens to a table's order. Every change is one transaction that
//! also writes its event to the outbox; concurrent terminals are serialised
//! by the order's `version` (a compare-and-set on every update) and by the
//! one-open-order-per-table index.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use salesync_common::{
    Error, Result,
    auth::Acting,
    events::{Event, outbox, outbox::OutboxSignal, topics},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    EntityTrait, QueryFilter, QueryOrder, TransactionTrait, sea_query::Expr,
};
use uuid::Uuid;

use crate::{
    db::{UQ_ORDERS_OPEN_TABLE, order_lines, orders},
    domain::{self, Line, Requested},
    snapshot::OrderSnapshot,
    upstream::Upstream,
};

/// Event types on `salesync.orders`; the payload is the order's snapshot.
pub mod event_types {
    pub const OPENED: &str = "OrderOpened";
    pub const CHANGED: &str = "OrderChanged";
    pub const CANCELLED: &str = "OrderCancelled";
    pub const PAID: &str = "OrderPaid";
}

/// How often a change is retried when another terminal changed the table first.
const ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Orders {
    db: DatabaseConnection,
    upstream: Upstream,
    outbox: OutboxSignal,
}

/// The result of one optimistic attempt.
enum Attempt {
    Done(OrderSnapshot),
    /// Another terminal changed the table in between: read again and retry.
    Raced,
}

impl Orders {
    pub fn new(db: DatabaseConnection, upstream: Upstream, outbox: OutboxSignal) -> Self {
        Orders {
            db,
            upstream,
            outbox,
        }
    }

    /// Opens the table's order, or adds to it.
    #[tracing::instrument(skip(self, caller, raw), fields(store_id = %caller.store_id))]
    pub async fn place(
        &self,
        caller: &Acting,
        table_no: i32,
        raw: &[(String, i32)],
    ) -> Result<OrderSnapshot> {
        let requested = domain::requested_lines(raw)?;
        if requested.is_empty() {
            return Err(Error::bad_input(
                "lines",
                "an order needs at least one line",
            ));
        }
        let (table_no, menu) = self.check_references(caller, table_no, &requested).await?;
        // Refuse what cannot be ordered before touching the database; these
        // are also the lines of a new order.
        let new_lines = domain::add_lines(&[], &requested, &menu)?;
        self.retrying(|| async {
            let txn = self.db.begin().await?;
            match find_open(&txn, caller.store_id, table_no).await? {
                None => {
                    let lines = new_lines.clone();
                    let now = now();
                    let order = orders::Model {
                        id: Uuid::now_v7(),
                        store_id: caller.store_id,
                        table_no,
                        status: orders::OPEN.to_string(),
                        total: domain::total(&lines)?,
                        version: 1,
                        opened_at: now,
                        updated_at: now,
                        closed_at: None,
                        sale_id: None,
                    };
                    let inserted = orders::ActiveModel::from(order.clone()).insert(&txn).await;
                    match inserted {
                        // Another terminal opened this table a moment ago: add to its order.
                        Err(e) if UQ_ORDERS_OPEN_TABLE.is_violated_by(&e) => {
                            return Ok(Attempt::Raced);
                        }
                        other => other?,
                    };
                    self.finish(txn, order, &lines, event_types::OPENED)
                        .await
                        .map(Attempt::Done)
                }
                Some(order) => {
                    let existing = load_lines(&txn, order.id).await?;
                    let lines = domain::add_lines(&existing, &requested, &menu)?;
                    self.update(txn, order, &lines, orders::OPEN, None, event_types::CHANGED)
                        .await
                }
            }
        })
        .await
    }

    /// Replaces the lines of the table's open order; no lines cancels it.
    #[tracing::instrument(skip(self, caller, raw), fields(store_id = %caller.store_id))]
    pub async fn set_lines(
        &self,
        caller: &Acting,
        table_no: i32,
        raw: &[(String, i32)],
        expected_version: Option<i32>,
    ) -> Result<OrderSnapshot> {
        let requested = domain::requested_lines(raw)?;
        if requested.is_empty() {
            return self.cancel(caller, table_no, expected_version).await;
        }
        let (table_no, menu) = self.check_references(caller, table_no, &requested).await?;
        self.retrying(|| async {
            let txn = self.db.begin().await?;
            let order = open_or_not_found(&txn, caller.store_id, table_no).await?;
            check_version(&order, expected_version)?;
            let existing = load_lines(&txn, order.id).await?;
            let lines = domain::replace_lines(&existing, &requested, &menu)?;
            let attempt = self
                .update(txn, order, &lines, orders::OPEN, None, event_types::CHANGED)
                .await?;
            stale_is_conflict(attempt, expected_version)
        })
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
        self.retrying(|| async {
            let txn = self.db.begin().await?;
            let order = open_or_not_found(&txn, caller.store_id, table_no).await?;
            check_version(&order, expected_version)?;
            let lines = load_lines(&txn, order.id).await?;
            let attempt = self
                .update(
                    txn,
                    order,
                    &lines,
                    orders::CANCELLED,
                    None,
                    event_types::CANCELLED,
                )
                .await?;
            stale_is_conflict(attempt, expected_version)
        })
        .await
    }

    /// Closes the table's open order as paid by `sale_id` and returns the
    /// authoritative order. Idempotent: paying again with the same sale
    /// returns the order that sale paid.
    #[tracing::instrument(skip(self))]
    pub async fn pay(&self, store_id: Uuid, table_no: i32, sale_id: Uuid) -> Result<OrderSnapshot> {
        self.retrying(|| async {
            let txn = self.db.begin().await?;
            if let Some(paid) = orders::Entity::find()
                .filter(orders::Column::StoreId.eq(store_id))
                .filter(orders::Column::SaleId.eq(sale_id))
                .one(&txn)
                .await?
            {
                let mut paid = with_lines(&txn, vec![paid]).await?;
                return Ok(Attempt::Done(paid.remove(0)));
            }
            let order = open_or_not_found(&txn, store_id, table_no).await?;
            let lines = load_lines(&txn, order.id).await?;
            self.update(
                txn,
                order,
                &lines,
                orders::PAID,
                Some(sale_id),
                event_types::PAID,
            )
            .await
        })
        .await
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
        let (store, menu) = tokio::try_join!(
            self.upstream.store(caller),
            self.upstream.menu(caller, &ids)
        )?;
        let table_no = domain::table_no("tableNo", table_no, store.table_count)?;
        if let Some(missing) = ids.iter().position(|id| !menu.contains_key(id)) {
            return Err(Error::not_found(format!(
                "no such item: lines[{missing}].itemId"
            )));
        }
        Ok((table_no, menu))
    }

    async fn retrying<F, Fut>(&self, attempt: F) -> Result<OrderSnapshot>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Attempt>>,
    {
        for _ in 0..ATTEMPTS {
            if let Attempt::Done(order) = attempt().await? {
                return Ok(order);
            }
        }
        Err(Error::conflict(
            "the table is being changed by another terminal; try again",
        ))
    }

    /// Writes `order` with `lines` if nobody changed it since it was read.
    async fn update(
        &self,
        txn: DatabaseTransaction,
        order: orders::Model,
        lines: &[Line],
        status: &str,
        sale_id: Option<Uuid>,
        event_type: &str,
    ) -> Result<Attempt> {
        let now = now();
        let closed_at: Option<DateTime<Utc>> = (status != orders::OPEN).then_some(now);
        let total = domain::total(lines)?;
        let updated = orders::Entity::update_many()
            .col_expr(orders::Column::Total, Expr::value(total))
            .col_expr(orders::Column::Status, Expr::value(status))
            .col_expr(orders::Column::Version, Expr::value(order.version + 1))
            .col_expr(orders::Column::UpdatedAt, Expr::value(now))
            .col_expr(orders::Column::ClosedAt, Expr::value(closed_at))
            .col_expr(orders::Column::SaleId, Expr::value(sale_id))
            .filter(orders::Column::Id.eq(order.id))
            .filter(orders::Column::Version.eq(order.version))
            .exec(&txn)
            .await?;
        if updated.rows_affected == 0 {
            return Ok(Attempt::Raced);
        }
        order_lines::Entity::delete_many()
            .filter(order_lines::Column::OrderId.eq(order.id))
            .exec(&txn)
            .await?;
        let order = orders::Model {
            total,
            status: status.to_string(),
            version: order.version + 1,
            updated_at: now,
            closed_at,
            sale_id,
            ..order
        };
        self.finish(txn, order, lines, event_type)
            .await
            .map(Attempt::Done)
    }

    /// Inserts the lines, writes the event, commits, wakes the relay.
    async fn finish(
        &self,
        txn: DatabaseTransaction,
        order: orders::Model,
        lines: &[Line],
        event_type: &str,
    ) -> Result<OrderSnapshot> {
        let rows = lines
            .iter()
            .enumerate()
            .map(|(position, line)| {
                Ok(order_lines::Model {
                    id: Uuid::now_v7(),
                    order_id: order.id,
                    item_id: line.item_id,
                    position: position as i32,
                    name: line.name.clone(),
                    unit_price: line.unit_price,
                    quantity: line.quantity,
                    amount: line.amount()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if !rows.is_empty() {
            order_lines::Entity::insert_many(
                rows.iter().cloned().map(order_lines::ActiveModel::from),
            )
            .exec(&txn)
            .await?;
        }
        let snapshot = OrderSnapshot::from_rows(order, rows);
        let event = Event::new(event_type, snapshot.store_id, &snapshot);
        outbox::enqueue(&txn, topics::ORDERS, &event).await?;
        txn.commit().await?;
        self.outbox.notify();
        Ok(snapshot)
    }

    // ---- reads ----

    pub async fn open_order(&self, store_id: Uuid, table_no: i32) -> Result<Option<OrderSnapshot>> {
        let order = find_open(&self.db, store_id, table_no).await?;
        Ok(with_lines(&self.db, order.into_iter().collect())
            .await?
            .pop())
    }

    pub async fn open_orders(&self, store_id: Uuid) -> Result<Vec<OrderSnapshot>> {
        let rows = orders::Entity::find()
            .filter(orders::Column::StoreId.eq(store_id))
            .filter(orders::Column::Status.eq(orders::OPEN))
            .order_by_asc(orders::Column::TableNo)
            .all(&self.db)
            .await?;
        with_lines(&self.db, rows).await
    }

    pub async fn between(
        &self,
        store_id: Uuid,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        status: Option<&str>,
    ) -> Result<Vec<OrderSnapshot>> {
        let mut query = orders::Entity::find()
            .filter(orders::Column::StoreId.eq(store_id))
            .filter(orders::Column::OpenedAt.gte(start))
            .filter(orders::Column::OpenedAt.lt(end));
        if let Some(status) = status {
            query = query.filter(orders::Column::Status.eq(status));
        }
        let rows = query
            .order_by_asc(orders::Column::OpenedAt)
            .order_by_asc(orders::Column::Id)
            .all(&self.db)
            .await?;
        with_lines(&self.db, rows).await
    }

    /// Orders of `store_id` by id, with their lines: two statements.
    pub async fn by_ids(&self, store_id: Uuid, ids: Vec<Uuid>) -> Result<Vec<OrderSnapshot>> {
        let rows = orders::Entity::find()
            .filter(orders::Column::StoreId.eq(store_id))
            .filter(orders::Column::Id.is_in(ids))
            .all(&self.db)
            .await?;
        with_lines(&self.db, rows).await
    }
}

/// The current time at the database's precision (microseconds), so the
/// order a change returns, its event and a later read all agree.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Attaches lines to orders with one statement for all of them.
async fn with_lines<C: ConnectionTrait>(
    db: &C,
    rows: Vec<orders::Model>,
) -> Result<Vec<OrderSnapshot>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut lines: HashMap<Uuid, Vec<order_lines::Model>> = HashMap::new();
    for line in order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.is_in(rows.iter().map(|o| o.id)))
        .all(db)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    Ok(rows
        .into_iter()
        .map(|order| {
            let order_lines = lines.remove(&order.id).unwrap_or_default();
            OrderSnapshot::from_rows(order, order_lines)
        })
        .collect())
}

async fn find_open<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    table_no: i32,
) -> Result<Option<orders::Model>> {
    Ok(orders::Entity::find()
        .filter(orders::Column::StoreId.eq(store_id))
        .filter(orders::Column::TableNo.eq(table_no))
        .filter(orders::Column::Status.eq(orders::OPEN))
        .one(db)
        .await?)
}

async fn open_or_not_found<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    table_no: i32,
) -> Result<orders::Model> {
    find_open(db, store_id, table_no)
        .await?
        .ok_or_else(|| Error::not_found(format!("table {table_no} has no open order")))
}

async fn load_lines<C: ConnectionTrait>(db: &C, order_id: Uuid) -> Result<Vec<Line>> {
    Ok(order_lines::Entity::find()
        .filter(order_lines::Column::OrderId.eq(order_id))
        .order_by_asc(order_lines::Column::Position)
        .all(db)
        .await?
        .into_iter()
        .map(|l| Line {
            item_id: l.item_id,
            name: l.name,
            unit_price: l.unit_price,
            quantity: l.quantity,
        })
        .collect())
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

/// With an expected version, losing a race means the caller's view is stale.
fn stale_is_conflict(attempt: Attempt, expected_version: Option<i32>) -> Result<Attempt> {
    match (attempt, expected_version) {
        (Attempt::Raced, Some(expected)) => Err(Error::conflict(format!(
            "the order changed on another terminal (version {expected} expected); reload it"
        ))),
        (attempt, _) => Ok(attempt),
    }
}
