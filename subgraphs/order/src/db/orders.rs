//! The `orders` table and its queries. Every query is scoped to one store.

use chrono::{DateTime, Utc};
use salesync_common::{
    Result,
    db::{ReadByPosition, is_fixed, of_store},
};
use sea_orm::{
    Iterable, QueryOrder, QueryTrait, SelectTwo,
    entity::prelude::*,
    sea_query::{Expr, InsertStatement, UpdateStatement},
};

use super::order_lines;
use crate::domain::OrderStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub store_id: Uuid,
    pub table_no: i32,
    pub status: OrderStatus,
    pub total: i64,
    pub version: i32,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub sale_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::order_lines::Entity")]
    Lines,
}

impl Related<order_lines::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Lines.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

/// An order and its lines, in the order they were rung up.
pub type WithLines = (Model, Vec<order_lines::Model>);

salesync_common::read_by_position!(
    id: Id,
    store_id: StoreId,
    table_no: TableNo,
    status: Status,
    total: Total,
    version: Version,
    opened_at: OpenedAt,
    updated_at: UpdatedAt,
    closed_at: ClosedAt,
    sale_id: SaleId,
);

salesync_common::store_scoped!(StoreId, Id);

/// The table's open order with its lines, if any: one statement.
pub async fn open_at_table<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    table_no: i32,
) -> Result<Option<WithLines>> {
    Ok(grouped(joined(db, open_at_table_query(store_id, table_no)).await?).pop())
}

/// Every open order of the store with its lines, by table number: one
/// statement.
pub async fn open_of_store<C: ConnectionTrait>(db: &C, store_id: Uuid) -> Result<Vec<WithLines>> {
    Ok(grouped(joined(db, open_of_store_query(store_id)).await?))
}

/// The query of [`open_at_table`], which the index of open tables
/// (`uq_orders_open_table`) serves in every plan: each change of an order
/// runs it, and it must not grow with the orders the store has closed.
pub fn open_at_table_query(
    store_id: Uuid,
    table_no: i32,
) -> SelectTwo<Entity, order_lines::Entity> {
    with_lines(open(store_id).filter(Column::TableNo.eq(table_no)))
}

/// The query of [`open_of_store`]: the open-tables screen's, served by the
/// same index.
pub fn open_of_store_query(store_id: Uuid) -> SelectTwo<Entity, order_lines::Entity> {
    with_lines(open(store_id).order_by_asc(Column::TableNo))
}

/// The store's open orders, as the index of open tables names them.
fn open(store_id: Uuid) -> Select<Entity> {
    of_store::<Entity>(store_id).filter(is_fixed(Column::Status, OrderStatus::Open))
}

/// `orders` joined to their lines (an order's row once per line), each
/// order's lines in position order after whatever order `orders` has.
fn with_lines(orders: Select<Entity>) -> SelectTwo<Entity, order_lines::Entity> {
    orders
        .find_also_related(order_lines::Entity)
        .order_by_asc(order_lines::Column::Position)
}

/// Runs a query of orders joined to their lines and reads each row by
/// position: the order's columns, then the line's (none when the order has
/// no line), each in its entity's column order, as `find_also_related`
/// selects them. sea-orm's own reading looks up every column of every row
/// by its prefixed name, formatting the name first; with a dozen lines that
/// was a tenth of the instructions of a `placeOrder` in this subgraph.
async fn joined<C: ConnectionTrait>(
    db: &C,
    query: SelectTwo<Entity, order_lines::Entity>,
) -> Result<Vec<(Model, Option<order_lines::Model>)>> {
    let rows = db.query_all(query.as_query()).await?;
    let first_line_column = Column::iter().len();
    Ok(rows
        .iter()
        .map(|row| {
            Ok((
                Model::at(row, 0)?,
                order_lines::Model::optional_at(row, first_line_column)?,
            ))
        })
        .collect::<std::result::Result<_, DbErr>>()?)
}

/// The joined rows as orders with their lines, in the order the orders
/// first appear. An order's rows come one after another in both queries
/// above; any that did not would still join their order.
fn grouped(rows: Vec<(Model, Option<order_lines::Model>)>) -> Vec<WithLines> {
    let mut orders: Vec<WithLines> = Vec::new();
    for (order, line) in rows {
        let at = match orders.iter().rposition(|(o, _)| o.id == order.id) {
            Some(at) => at,
            None => {
                orders.push((order, Vec::new()));
                orders.len() - 1
            }
        };
        orders[at].1.extend(line);
    }
    orders
}

/// Orders opened in `[start, end)`, oldest first, optionally with one status.
pub async fn opened_between<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    status: Option<OrderStatus>,
) -> Result<Vec<Model>> {
    let mut query = of_store::<Entity>(store_id)
        .filter(Column::OpenedAt.gte(start))
        .filter(Column::OpenedAt.lt(end));
    if let Some(status) = status {
        query = query.filter(Column::Status.eq(status));
    }
    Ok(query
        .order_by_asc(Column::OpenedAt)
        .order_by_asc(Column::Id)
        .all(db)
        .await?)
}

/// The order a sale paid, if that sale paid one.
pub async fn paid_by<C: ConnectionTrait>(
    db: &C,
    store_id: Uuid,
    sale_id: Uuid,
) -> Result<Option<Model>> {
    Ok(of_store::<Entity>(store_id)
        .filter(Column::SaleId.eq(sale_id))
        .one(db)
        .await?)
}

/// Inserts a new open order. Its table's turn is held, so the table has no
/// other open order; the unique index on open tables makes sure.
pub fn insertion(order: &Model) -> InsertStatement {
    Entity::insert(ActiveModel::from(order.clone())).into_query()
}

/// Writes `next` over the order, read at the version before while the
/// table's turn was held: nobody can have changed it since, and the
/// version in the filter makes sure (the statement then writes no row).
pub fn update(next: &Model) -> UpdateStatement {
    Entity::update_many()
        .col_expr(Column::Total, Expr::value(next.total))
        .col_expr(Column::Status, Expr::value(next.status))
        .col_expr(Column::Version, Expr::value(next.version))
        .col_expr(Column::UpdatedAt, Expr::value(next.updated_at))
        .col_expr(Column::ClosedAt, Expr::value(next.closed_at))
        .col_expr(Column::SaleId, Expr::value(next.sale_id))
        .filter(Column::Id.eq(next.id))
        .filter(Column::Version.eq(next.version - 1))
        .into_query()
}
