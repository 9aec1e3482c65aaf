//! The `order_lines` table and its queries.

use std::collections::HashMap;

use salesync_common::{
    Result,
    db::{ReadByPosition, Writes},
};
use sea_orm::{QueryOrder, QueryTrait, entity::prelude::*, sea_query::Expr};

use crate::domain::Line;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_lines")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub order_id: Uuid,
    pub item_id: Uuid,
    pub position: i32,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
    pub amount: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::orders::Entity",
        from = "Column::OrderId",
        to = "super::orders::Column::Id"
    )]
    Order,
}

impl Related<super::orders::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Order.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}

salesync_common::read_by_position!(
    id: Id,
    order_id: OrderId,
    item_id: ItemId,
    position: Position,
    name: Name,
    unit_price: UnitPrice,
    quantity: Quantity,
    amount: Amount,
);

impl Model {
    /// The line whose columns start at `first` of `row`, none where a left
    /// join found no line (its id is null).
    pub(super) fn optional_at(
        row: &QueryResult,
        first: usize,
    ) -> std::result::Result<Option<Self>, DbErr> {
        let id: Option<Uuid> = row.try_get_by_index(first + Column::Id as usize)?;
        id.map(|_| Self::at(row, first)).transpose()
    }
}

/// The lines of several orders, in one statement, by order id.
pub async fn of_orders<C: ConnectionTrait>(
    db: &C,
    order_ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, Vec<Model>>> {
    let mut lines: HashMap<Uuid, Vec<Model>> = HashMap::new();
    for line in Entity::find()
        .filter(Column::OrderId.is_in(order_ids))
        .order_by_asc(Column::Position)
        .all(db)
        .await?
    {
        lines.entry(line.order_id).or_default().push(line);
    }
    Ok(lines)
}

/// Makes the order's stored lines (`stored`, in position order) into
/// `lines`, with writes added to the change's `writes`, and returns the
/// rows as they will be. Only what differs is written: a terminal adding a
/// dish or paying the order leaves the other lines' rows alone, rather than
/// leaving dead copies of all of them for the vacuum and the index. The
/// writes touch different rows (removed, changed in place, new), so they
/// can go out in one statement.
pub fn rewrite(
    writes: &mut Writes,
    order_id: Uuid,
    stored: Vec<Model>,
    lines: &[Line],
) -> Result<Vec<Model>> {
    let plan = plan(order_id, stored, lines, Uuid::now_v7)?;
    if !plan.delete.is_empty() {
        writes.push(
            Entity::delete_many()
                .filter(Column::Id.is_in(plan.delete))
                .into_query(),
        );
    }
    if let Some(row) = plan.update {
        writes.push(
            Entity::update_many()
                .col_expr(Column::ItemId, Expr::value(row.item_id))
                .col_expr(Column::Name, Expr::value(row.name))
                .col_expr(Column::UnitPrice, Expr::value(row.unit_price))
                .col_expr(Column::Quantity, Expr::value(row.quantity))
                .col_expr(Column::Amount, Expr::value(row.amount))
                .filter(Column::Id.eq(row.id))
                .into_query(),
        );
    }
    if !plan.insert.is_empty() {
        writes
            .push(Entity::insert_many(plan.insert.into_iter().map(ActiveModel::from)).into_query());
    }
    Ok(plan.rows)
}

/// The statements that turn stored rows into lines.
#[derive(Debug, PartialEq)]
struct Plan {
    /// Every row afterwards, in position order.
    rows: Vec<Model>,
    delete: Vec<Uuid>,
    update: Option<Model>,
    insert: Vec<Model>,
}

/// Position by position: a line equal to its row keeps it; rows past the
/// last line go and lines past the last row come. A changed line updates
/// its row in place when it is the only write (the usual quantity bump);
/// otherwise changed lines replace their rows within the one delete and
/// the one insert, instead of an update each.
fn plan(
    order_id: Uuid,
    stored: Vec<Model>,
    lines: &[Line],
    mut new_id: impl FnMut() -> Uuid,
) -> Result<Plan> {
    let mut rows = Vec::with_capacity(lines.len());
    let mut changed = Vec::new();
    let mut plan = Plan {
        rows: Vec::new(),
        delete: Vec::new(),
        update: None,
        insert: Vec::new(),
    };
    let mut stored = stored.into_iter();
    for (position, line) in lines.iter().enumerate() {
        let row = Model {
            id: Uuid::nil(),
            order_id,
            item_id: line.item_id,
            position: position as i32,
            name: line.name.clone(),
            unit_price: line.unit_price,
            quantity: line.quantity,
            amount: line.amount()?,
        };
        match stored.next() {
            Some(old) if says_the_same(&old, &row) => rows.push(old),
            Some(old) => {
                changed.push((old.id, rows.len()));
                rows.push(Model { id: old.id, ..row });
            }
            None => {
                let row = Model {
                    id: new_id(),
                    ..row
                };
                plan.insert.push(row.clone());
                rows.push(row);
            }
        }
    }
    plan.delete.extend(stored.map(|old| old.id));
    match changed.as_slice() {
        [] => {}
        [(_, at)] if plan.delete.is_empty() && plan.insert.is_empty() => {
            plan.update = Some(rows[*at].clone());
        }
        _ => {
            for (old_id, at) in changed {
                plan.delete.push(old_id);
                rows[at].id = new_id();
                plan.insert.push(rows[at].clone());
            }
        }
    }
    plan.rows = rows;
    Ok(plan)
}

/// Whether `row` says what `old` says, ids aside.
fn says_the_same(old: &Model, row: &Model) -> bool {
    Model {
        id: old.id,
        ..row.clone()
    } == *old
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(item: u128, quantity: i32) -> Line {
        Line {
            item_id: Uuid::from_u128(item),
            name: format!("dish {item}"),
            unit_price: 1_000,
            quantity,
        }
    }

    /// Rows as `lines` would have been written before, with ids 100, 101, ...
    fn stored(order_id: Uuid, lines: &[Line]) -> Vec<Model> {
        let mut next = 100;
        plan(order_id, Vec::new(), lines, || {
            next += 1;
            Uuid::from_u128(next - 1)
        })
        .expect("a plan")
        .rows
    }

    fn plan_of(stored: Vec<Model>, lines: &[Line]) -> Plan {
        let mut next = 900;
        plan(Uuid::from_u128(7), stored, lines, || {
            next += 1;
            Uuid::from_u128(next - 1)
        })
        .expect("a plan")
    }

    fn ids(rows: &[Model]) -> Vec<u128> {
        rows.iter().map(|r| r.id.as_u128()).collect()
    }

    #[test]
    fn a_new_order_inserts_every_line_in_position_order() {
        let plan = plan_of(Vec::new(), &[line(1, 2), line(2, 1)]);
        assert_eq!(ids(&plan.insert), [900, 901]);
        assert_eq!(plan.rows, plan.insert);
        assert_eq!(
            plan.rows
                .iter()
                .map(|r| (r.position, r.amount))
                .collect::<Vec<_>>(),
            [(0, 2_000), (1, 1_000)]
        );
        assert!(plan.delete.is_empty() && plan.update.is_none());
    }

    #[test]
    fn paying_or_cancelling_writes_no_line() {
        let lines = [line(1, 2), line(2, 1)];
        let rows = stored(Uuid::from_u128(7), &lines);
        let plan = plan_of(rows.clone(), &lines);
        assert_eq!(plan.rows, rows);
        assert!(plan.insert.is_empty() && plan.delete.is_empty() && plan.update.is_none());
    }

    #[test]
    fn a_new_dish_inserts_one_row_and_keeps_the_others() {
        let rows = stored(Uuid::from_u128(7), &[line(1, 2), line(2, 1)]);
        let plan = plan_of(rows, &[line(1, 2), line(2, 1), line(3, 1)]);
        assert_eq!(ids(&plan.insert), [900]);
        assert_eq!(plan.insert[0].position, 2);
        assert_eq!(ids(&plan.rows), [100, 101, 900]);
        assert!(plan.delete.is_empty() && plan.update.is_none());
    }

    #[test]
    fn one_more_of_a_dish_updates_its_row_in_place() {
        let rows = stored(Uuid::from_u128(7), &[line(1, 2), line(2, 1)]);
        let plan = plan_of(rows, &[line(1, 2), line(2, 3)]);
        let updated = plan.update.expect("an update");
        assert_eq!((updated.id.as_u128(), updated.quantity), (101, 3));
        assert_eq!(updated.amount, 3_000);
        assert_eq!(ids(&plan.rows), [100, 101]);
        assert!(plan.insert.is_empty() && plan.delete.is_empty());
    }

    #[test]
    fn several_changed_lines_are_replaced_in_one_delete_and_one_insert() {
        let rows = stored(Uuid::from_u128(7), &[line(1, 1), line(2, 1), line(3, 1)]);
        let plan = plan_of(rows, &[line(4, 1), line(2, 1), line(5, 2)]);
        assert_eq!(
            plan.delete
                .iter()
                .map(|id| id.as_u128())
                .collect::<Vec<_>>(),
            [100, 102]
        );
        assert_eq!(ids(&plan.insert), [900, 901]);
        assert_eq!(ids(&plan.rows), [900, 101, 901]);
        assert_eq!(plan.rows[2].item_id, Uuid::from_u128(5));
        assert!(plan.update.is_none());
    }

    #[test]
    fn fewer_lines_delete_the_rows_past_the_last() {
        let rows = stored(Uuid::from_u128(7), &[line(1, 1), line(2, 1), line(3, 1)]);
        let plan = plan_of(rows, &[line(1, 1), line(3, 4)]);
        // Position 1 changed and position 2 went: the change rides on the
        // delete and insert already needed.
        assert_eq!(
            plan.delete
                .iter()
                .map(|id| id.as_u128())
                .collect::<Vec<_>>(),
            [102, 101]
        );
        assert_eq!(ids(&plan.insert), [900]);
        assert_eq!(ids(&plan.rows), [100, 900]);
        assert_eq!((plan.rows[1].position, plan.rows[1].quantity), (1, 4));
    }
}
