//! The rules of a table's order. No I/O here.

use std::collections::HashMap;

use salesync_common::{Error, input};
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

// One enum from the database column to the GraphQL enum and the events: a
// stored value outside it fails to load instead of passing as OPEN.
/// Where a table's order stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum OrderStatus {
    /// Being served: lines can still change.
    #[sea_orm(string_value = "OPEN")]
    Open,
    /// Paid by a sale; closed.
    #[sea_orm(string_value = "PAID")]
    Paid,
    /// Cancelled before payment; closed.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// What happens to an order, and so its new status and the event it
/// publishes on `salesync.orders`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Opened,
    Changed,
    Cancelled,
    Paid { sale_id: Uuid },
}

impl Change {
    pub fn status(self) -> OrderStatus {
        match self {
            Change::Opened | Change::Changed => OrderStatus::Open,
            Change::Cancelled => OrderStatus::Cancelled,
            Change::Paid { .. } => OrderStatus::Paid,
        }
    }

    /// The event type: `OrderOpened`, `OrderChanged`, `OrderCancelled`, `OrderPaid`.
    pub fn event_type(self) -> &'static str {
        match self {
            Change::Opened => "OrderOpened",
            Change::Changed => "OrderChanged",
            Change::Cancelled => "OrderCancelled",
            Change::Paid { .. } => "OrderPaid",
        }
    }

    /// The sale that paid the order, once paid.
    pub fn sale_id(self) -> Option<Uuid> {
        match self {
            Change::Paid { sale_id } => Some(sale_id),
            _ => None,
        }
    }
}

/// Quantities per line.
pub const MAX_QUANTITY: i32 = 999;
/// Lines per order.
pub const MAX_LINES: usize = 200;

/// A table number, 1 to the store's table count.
pub fn table_no(field: &str, value: i32, table_count: i32) -> Result<i32, Error> {
    if (1..=table_count).contains(&value) {
        Ok(value)
    } else {
        Err(Error::bad_input(
            field,
            format!("must be a table from 1 to {table_count}"),
        ))
    }
}

/// One requested line: an item and how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requested {
    pub item_id: Uuid,
    pub quantity: i32,
}

/// Parses requested lines: ids must be ids, quantities 1–999; the same item
/// twice is one line with the quantities added.
pub fn requested_lines(raw: &[(String, i32)]) -> Result<Vec<Requested>, Error> {
    let mut lines: Vec<Requested> = Vec::new();
    for (index, (id, quantity)) in raw.iter().enumerate() {
        let item_id = input::id(id, "item")?;
        if !(1..=MAX_QUANTITY).contains(quantity) {
            return Err(Error::bad_input(
                format!("lines[{index}].quantity"),
                format!("must be between 1 and {MAX_QUANTITY}"),
            ));
        }
        match lines.iter_mut().find(|l| l.item_id == item_id) {
            Some(line) => line.quantity += quantity,
            None => lines.push(Requested {
                item_id,
                quantity: *quantity,
            }),
        }
    }
    check_quantities(lines.iter().map(|l| l.quantity))?;
    if lines.len() > MAX_LINES {
        return Err(Error::bad_input(
            "lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    Ok(lines)
}

fn check_quantities(quantities: impl IntoIterator<Item = i32>) -> Result<(), Error> {
    if quantities.into_iter().any(|q| q > MAX_QUANTITY) {
        return Err(Error::bad_input(
            "lines",
            format!("at most {MAX_QUANTITY} of one item per order"),
        ));
    }
    Ok(())
}

/// A line of an order, with the name and price it was ordered at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub item_id: Uuid,
    pub name: String,
    pub unit_price: i64,
    pub quantity: i32,
}

impl Line {
    pub fn amount(&self) -> Result<i64, Error> {
        self.unit_price
            .checked_mul(i64::from(self.quantity))
            .ok_or_else(|| Error::bad_input("lines", "the amount is too large"))
    }
}

/// What the menu says about an item now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    pub name: String,
    pub price: i64,
    pub sold_out: bool,
    pub deleted: bool,
}

impl MenuItem {
    /// Whether more of it may be ordered now.
    pub fn orderable(&self, index: usize) -> Result<(), Error> {
        let field = format!("lines[{index}].itemId");
        if self.deleted {
            return Err(Error::bad_input(
                field,
                format!("{} is no longer on the menu", self.name),
            ));
        }
        if self.sold_out {
            return Err(Error::bad_input(
                field,
                format!("{} is sold out", self.name),
            ));
        }
        Ok(())
    }
}

/// Adds `requested` to `existing`: more of an item at the same price merges
/// into its line; at a new menu price it becomes a line of its own, so what
/// was already ordered keeps its price.
pub fn add_lines(
    existing: &[Line],
    requested: &[Requested],
    menu: &HashMap<Uuid, MenuItem>,
) -> Result<Vec<Line>, Error> {
    let mut lines = existing.to_vec();
    for (index, request) in requested.iter().enumerate() {
        let item = menu
            .get(&request.item_id)
            .ok_or_else(|| Error::not_found("no such item"))?;
        item.orderable(index)?;
        match lines
            .iter_mut()
            .find(|l| l.item_id == request.item_id && l.unit_price == item.price)
        {
            Some(line) => line.quantity += request.quantity,
            None => lines.push(Line {
                item_id: request.item_id,
                name: item.name.clone(),
                unit_price: item.price,
                quantity: request.quantity,
            }),
        }
    }
    check_lines(&lines)?;
    Ok(lines)
}

/// Replaces the lines with `requested`. An item already on the order keeps
/// the name and price it was ordered at; only items that are new, or whose
/// quantity grows, must be orderable now.
pub fn replace_lines(
    existing: &[Line],
    requested: &[Requested],
    menu: &HashMap<Uuid, MenuItem>,
) -> Result<Vec<Line>, Error> {
    let mut lines = Vec::new();
    for (index, request) in requested.iter().enumerate() {
        let item = menu
            .get(&request.item_id)
            .ok_or_else(|| Error::not_found("no such item"))?;
        let ordered: i32 = existing
            .iter()
            .filter(|l| l.item_id == request.item_id)
            .map(|l| l.quantity)
            .sum();
        if request.quantity > ordered {
            item.orderable(index)?;
        }
        let (name, unit_price) = existing
            .iter()
            .find(|l| l.item_id == request.item_id)
            .map(|l| (l.name.clone(), l.unit_price))
            .unwrap_or_else(|| (item.name.clone(), item.price));
        lines.push(Line {
            item_id: request.item_id,
            name,
            unit_price,
            quantity: request.quantity,
        });
    }
    check_lines(&lines)?;
    Ok(lines)
}

fn check_lines(lines: &[Line]) -> Result<(), Error> {
    if lines.len() > MAX_LINES {
        return Err(Error::bad_input(
            "lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    let mut per_item: HashMap<Uuid, i32> = HashMap::new();
    for line in lines {
        *per_item.entry(line.item_id).or_default() += line.quantity;
    }
    check_quantities(per_item.into_values())
}

/// The order's total: the sum of its lines' amounts.
pub fn total(lines: &[Line]) -> Result<i64, Error> {
    lines.iter().try_fold(0i64, |sum, line| {
        sum.checked_add(line.amount()?)
            .ok_or_else(|| Error::bad_input("lines", "the total is too large"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_decides_the_status_and_the_event() {
        let sale_id = Uuid::now_v7();
        assert_eq!(
            (Change::Opened.status(), Change::Opened.event_type()),
            (OrderStatus::Open, "OrderOpened")
        );
        assert_eq!(Change::Cancelled.status(), OrderStatus::Cancelled);
        let paid = Change::Paid { sale_id };
        assert_eq!(
            (paid.status(), paid.sale_id()),
            (OrderStatus::Paid, Some(sale_id))
        );
        assert_eq!(Change::Changed.sale_id(), None);
    }

    #[test]
    fn statuses_travel_as_upper_case_names() {
        assert_eq!(
            serde_json::to_value(OrderStatus::Cancelled).ok(),
            Some(serde_json::json!("CANCELLED"))
        );
    }

    fn menu(entries: &[(Uuid, i64, bool)]) -> HashMap<Uuid, MenuItem> {
        entries
            .iter()
            .map(|(id, price, sold_out)| {
                (
                    *id,
                    MenuItem {
                        name: format!("item {price}"),
                        price: *price,
                        sold_out: *sold_out,
                        deleted: false,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_same_item_twice_is_one_line() {
        let id = Uuid::new_v4();
        let lines = requested_lines(&[(id.to_string(), 2), (id.to_string(), 3)]).expect("lines");
        assert_eq!(
            lines,
            [Requested {
                item_id: id,
                quantity: 5
            }]
        );
    }

    #[test]
    fn quantities_are_one_to_999_per_item() {
        let id = Uuid::new_v4().to_string();
        assert!(requested_lines(&[(id.clone(), 0)]).is_err());
        assert!(requested_lines(&[(id.clone(), 1000)]).is_err());
        assert!(requested_lines(&[(id.clone(), 500), (id, 500)]).is_err());
    }

    #[test]
    fn an_order_has_at_most_200_lines() {
        let raw: Vec<(String, i32)> = (0..=MAX_LINES)
            .map(|_| (Uuid::new_v4().to_string(), 1))
            .collect();
        assert!(requested_lines(&raw[..MAX_LINES]).is_ok());
        assert!(requested_lines(&raw).is_err());
    }

    #[test]
    fn a_malformed_item_id_is_not_found() {
        assert!(matches!(
            requested_lines(&[("x".into(), 1)]),
            Err(Error::NotFound(_))
        ));
    }

    #[test]
    fn more_of_an_item_at_a_new_price_is_a_new_line() {
        let id = Uuid::new_v4();
        let existing = vec![Line {
            item_id: id,
            name: "Tea".into(),
            unit_price: 3000,
            quantity: 1,
        }];
        let lines = add_lines(
            &existing,
            &[Requested {
                item_id: id,
                quantity: 2,
            }],
            &menu(&[(id, 3500, false)]),
        )
        .expect("lines");
        assert_eq!(lines.len(), 2);
        assert_eq!((lines[0].unit_price, lines[0].quantity), (3000, 1));
        assert_eq!((lines[1].unit_price, lines[1].quantity), (3500, 2));
        assert_eq!(total(&lines).expect("total"), 3000 + 7000);
    }

    #[test]
    fn sold_out_items_cannot_be_added_but_stay_when_kept() {
        let id = Uuid::new_v4();
        let sold_out = menu(&[(id, 3000, true)]);
        assert!(
            add_lines(
                &[],
                &[Requested {
                    item_id: id,
                    quantity: 1
                }],
                &sold_out
            )
            .is_err()
        );
        let existing = vec![Line {
            item_id: id,
            name: "Tea".into(),
            unit_price: 2500,
            quantity: 2,
        }];
        let kept = replace_lines(
            &existing,
            &[Requested {
                item_id: id,
                quantity: 1,
            }],
            &sold_out,
        )
        .expect("kept");
        assert_eq!(kept[0].unit_price, 2500, "the ordered price stays");
        assert!(
            replace_lines(
                &existing,
                &[Requested {
                    item_id: id,
                    quantity: 3
                }],
                &sold_out
            )
            .is_err()
        );
    }
}

/// An order's rules against hostile input: any ids and quantities, and the
/// largest amounts, never panic or overflow.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use salesync_common::testing::accepted_or_refused;

    use super::*;

    /// The menu's largest price (the item subgraph refuses more).
    const LARGEST_PRICE: i64 = 100_000_000;

    fn raw_line() -> impl Strategy<Value = (String, i32)> {
        (
            prop_oneof![
                any::<String>(),
                Just(Uuid::new_v4().to_string()),
                Just(Uuid::nil().to_string())
            ],
            any::<i32>(),
        )
    }

    proptest! {
        #[test]
        fn requested_lines_are_ids_with_1_to_999_each(raw in prop::collection::vec(raw_line(), 0..8)) {
            match requested_lines(&raw) {
                Ok(lines) => {
                    prop_assert!(lines.iter().all(|l| (1..=MAX_QUANTITY).contains(&l.quantity)));
                }
                // A text that is no id names no item.
                Err(Error::NotFound(_)) => {}
                Err(Error::BadUserInput { field, .. }) => prop_assert!(field.starts_with("lines"), "{field}"),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }

        #[test]
        fn any_price_and_quantity_is_an_amount_or_a_clear_error(price in any::<i64>(), quantity in any::<i32>()) {
            let line = Line { item_id: Uuid::nil(), name: "x".into(), unit_price: price, quantity };
            accepted_or_refused(line.amount(), "lines");
        }

        #[test]
        fn the_largest_order_totals_without_overflow(count in 1usize..=MAX_LINES) {
            let line = Line { item_id: Uuid::nil(), name: "x".into(), unit_price: LARGEST_PRICE, quantity: MAX_QUANTITY };
            let lines = vec![line; count];
            prop_assert_eq!(
                total(&lines).expect("fits in 64 bits"),
                LARGEST_PRICE * i64::from(MAX_QUANTITY) * count as i64
            );
        }

        #[test]
        fn table_numbers(value in any::<i32>(), count in 1i32..100) {
            if let Some(table) = accepted_or_refused(table_no("tableNo", value, count), "tableNo") {
                prop_assert!((1..=count).contains(&table));
            }
        }
    }
}
