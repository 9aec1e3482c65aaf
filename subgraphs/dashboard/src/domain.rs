//! The dashboard's rules, free of I/O: what a sale or a refund adds to the
//! read model ([`Tally`]), costs and their limits, and how a report and the
//! daily volumes are made from the read model's rows.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use salesync_common::{Error, Result, consulting::ConsultingStatus};
use serde::Serialize;
use uuid::Uuid;

/// The largest unit cost: the largest price an item can have.
pub const MAX_COST: i64 = 100_000_000;

/// The most costs one `setItemCosts` sets.
pub const MAX_COSTS_PER_CALL: usize = 500;

/// A unit cost, checked: 0 to [`MAX_COST`].
pub fn cost(field: &str, value: i64) -> Result<i64> {
    if (0..=MAX_COST).contains(&value) {
        Ok(value)
    } else {
        Err(Error::bad_input(
            field,
            format!("must be between 0 and {MAX_COST}"),
        ))
    }
}

/// A list of costs to set, checked: not empty, not too long, one per item.
pub fn cost_list(costs: Vec<(Uuid, i64)>) -> Result<Vec<(Uuid, i64)>> {
    if costs.is_empty() {
        return Err(Error::bad_input("costs", "name at least one item"));
    }
    if costs.len() > MAX_COSTS_PER_CALL {
        return Err(Error::bad_input(
            "costs",
            format!("at most {MAX_COSTS_PER_CALL} items per call"),
        ));
    }
    let mut seen = HashSet::new();
    for (item_id, _) in &costs {
        if !seen.insert(*item_id) {
            return Err(Error::bad_input(
                "costs",
                format!("item {item_id} is named twice"),
            ));
        }
    }
    Ok(costs)
}

/// A sale as the dashboard counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldFact {
    pub sale_id: Uuid,
    pub business_date: NaiveDate,
    pub amount: i64,
    /// `(item, quantity, amount)` per line.
    pub lines: Vec<(Uuid, i64, i64)>,
    /// The name each item sold under.
    pub names: Vec<(Uuid, String)>,
}

/// A refund as the dashboard counts it: on the day it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundFact {
    pub refund_id: Uuid,
    pub business_date: NaiveDate,
    pub amount: i64,
    /// `(item, quantity, amount)` per refunded line.
    pub lines: Vec<(Uuid, i64, i64)>,
}

/// What sales and refunds add to a store's read model: per business day
/// and item, quantity and sales volume; per business day, sales volume and
/// sales made. A refund adds negative amounts to the day it was made on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub items: BTreeMap<(NaiveDate, Uuid), ItemDelta>,
    pub days: BTreeMap<NaiveDate, DayDelta>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemDelta {
    pub quantity: i64,
    pub sales_volume: i64,
    /// The name it sold under, if a sale (not only refunds) touched it.
    pub name: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayDelta {
    pub sales_volume: i64,
    pub order_count: i32,
}

impl Tally {
    pub fn add_sale(&mut self, sale: &SoldFact) {
        for &(item_id, quantity, amount) in &sale.lines {
            let row = self.items.entry((sale.business_date, item_id)).or_default();
            row.quantity += quantity;
            row.sales_volume += amount;
        }
        for (item_id, name) in &sale.names {
            if let Some(row) = self.items.get_mut(&(sale.business_date, *item_id)) {
                row.name = Some(name.clone());
            }
        }
        let day = self.days.entry(sale.business_date).or_default();
        day.sales_volume += sale.amount;
        day.order_count += 1;
    }

    pub fn add_refund(&mut self, refund: &RefundFact) {
        for &(item_id, quantity, amount) in &refund.lines {
            let row = self
                .items
                .entry((refund.business_date, item_id))
                .or_default();
            row.quantity -= quantity;
            row.sales_volume -= amount;
        }
        self.days
            .entry(refund.business_date)
            .or_default()
            .sales_volume -= refund.amount;
    }

    pub fn of_sale(sale: &SoldFact) -> Self {
        let mut tally = Tally::default();
        tally.add_sale(sale);
        tally
    }

    pub fn of_refund(refund: &RefundFact) -> Self {
        let mut tally = Tally::default();
        tally.add_refund(refund);
        tally
    }
}

/// One item's figures over a range, as the read model holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTotals {
    pub item_id: Uuid,
    /// The name it sold under in the range; none when only refunded in it.
    pub name: Option<String>,
    pub quantity: i64,
    pub sales_volume: i64,
    /// The item's current unit cost; 0 when none was set.
    pub unit_cost: i64,
}

/// One line of a sales report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemSales {
    pub item_id: Uuid,
    pub name: Option<String>,
    pub quantity: i64,
    pub sales_volume: i64,
    pub cost: i64,
    pub profit: i64,
}

/// A sales report over business days `from..=to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalesReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sales_volume: i64,
    pub cost: i64,
    pub profit: i64,
    pub items: Vec<ItemSales>,
}

/// The report: cost is quantity times the current unit cost, profit is
/// sales volume minus cost; highest sales volume first (then most sold,
/// then by id, so the order is stable). Items whose sales were all refunded
/// within the range leave no line.
pub fn sales_report(from: NaiveDate, to: NaiveDate, totals: Vec<ItemTotals>) -> SalesReport {
    let mut items: Vec<ItemSales> = totals
        .into_iter()
        .filter(|t| t.quantity != 0 || t.sales_volume != 0)
        .map(|t| {
            let cost = t.quantity * t.unit_cost;
            ItemSales {
                item_id: t.item_id,
                name: t.name,
                quantity: t.quantity,
                sales_volume: t.sales_volume,
                cost,
                profit: t.sales_volume - cost,
            }
        })
        .collect();
    items.sort_by(|a, b| {
        b.sales_volume
            .cmp(&a.sales_volume)
            .then(b.quantity.cmp(&a.quantity))
            .then(a.item_id.cmp(&b.item_id))
    });
    SalesReport {
        from,
        to,
        sales_volume: items.iter().map(|i| i.sales_volume).sum(),
        cost: items.iter().map(|i| i.cost).sum(),
        profit: items.iter().map(|i| i.profit).sum(),
        items,
    }
}

/// One business day's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyVolume {
    pub date: NaiveDate,
    pub sales_volume: i64,
    pub profit: i64,
    pub order_count: i32,
}

/// One row per business day of `from..=to`, zero where nothing was sold:
/// `days` are each day's sales volume and sales made, with its quantities
/// times their current unit costs.
pub fn daily_volumes(
    from: NaiveDate,
    to: NaiveDate,
    days: &HashMap<NaiveDate, (DayDelta, i64)>,
) -> Vec<DailyVolume> {
    from.iter_days()
        .take_while(|day| *day <= to)
        .map(|date| {
            let (day, cost) = days.get(&date).copied().unwrap_or_default();
            DailyVolume {
                date,
                sales_volume: day.sales_volume,
                profit: day.sales_volume - cost,
                order_count: day.order_count,
            }
        })
        .collect()
}

/// A consulting request's result, as the latest `consulting` event told it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultingUpdate {
    pub store_id: Uuid,
    pub request_id: Uuid,
    pub status: ConsultingStatus,
    pub content: Option<String>,
    pub error: Option<String>,
    pub completed_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub at: DateTime<Utc>,
}

impl ConsultingUpdate {
    /// Whether it moves a client who saw `seen` forward: a later stage, or
    /// newer progress. An end is final.
    pub fn is_news_after(&self, seen: Option<&ConsultingUpdate>) -> bool {
        match seen {
            None => true,
            Some(seen) => {
                let (stage, seen_stage) = (self.status.stage(), seen.status.stage());
                stage > seen_stage
                    || (stage == seen_stage && !seen.status.is_final() && self.at > seen.at)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn costs_are_between_zero_and_the_largest_price() {
        assert_eq!(cost("cost", 0).ok(), Some(0));
        assert_eq!(cost("cost", MAX_COST).ok(), Some(MAX_COST));
        assert_eq!(
            cost("cost", -1).unwrap_err().code().as_str(),
            "BAD_USER_INPUT"
        );
        assert!(cost("cost", MAX_COST + 1).is_err());
    }

    #[test]
    fn a_cost_list_names_each_item_once() {
        assert!(cost_list(vec![]).is_err());
        assert!(cost_list(vec![(id(1), 5), (id(1), 6)]).is_err());
        assert!(cost_list(vec![(id(1), 5); MAX_COSTS_PER_CALL + 1]).is_err());
        assert_eq!(cost_list(vec![(id(1), 5)]).unwrap(), vec![(id(1), 5)]);
    }

    #[test]
    fn a_refund_takes_its_lines_out_of_its_own_day() {
        let mut tally = Tally::of_sale(&SoldFact {
            sale_id: id(9),
            business_date: day(1),
            amount: 30_000,
            lines: vec![(id(1), 2, 20_000), (id(2), 1, 10_000)],
            names: vec![(id(1), "Bibimbap".into()), (id(2), "Tea".into())],
        });
        tally.add_refund(&RefundFact {
            refund_id: id(10),
            business_date: day(2),
            amount: 10_000,
            lines: vec![(id(1), 1, 10_000)],
        });
        assert_eq!(
            tally.items[&(day(1), id(1))],
            ItemDelta {
                quantity: 2,
                sales_volume: 20_000,
                name: Some("Bibimbap".into())
            }
        );
        assert_eq!(
            tally.items[&(day(2), id(1))],
            ItemDelta {
                quantity: -1,
                sales_volume: -10_000,
                name: None
            }
        );
        assert_eq!(
            tally.days[&day(1)],
            DayDelta {
                sales_volume: 30_000,
                order_count: 1
            }
        );
        // The refund is no new sale.
        assert_eq!(
            tally.days[&day(2)],
            DayDelta {
                sales_volume: -10_000,
                order_count: 0
            }
        );
    }

    #[test]
    fn a_report_costs_at_the_current_cost_and_sorts_by_sales_volume() {
        let report = sales_report(
            day(1),
            day(2),
            vec![
                ItemTotals {
                    item_id: id(1),
                    name: None,
                    quantity: 3,
                    sales_volume: 9_000,
                    unit_cost: 1_000,
                },
                ItemTotals {
                    item_id: id(2),
                    name: None,
                    quantity: 1,
                    sales_volume: 12_000,
                    unit_cost: 0,
                },
                // Sold and refunded within the range: no line.
                ItemTotals {
                    item_id: id(3),
                    name: None,
                    quantity: 0,
                    sales_volume: 0,
                    unit_cost: 500,
                },
            ],
        );
        let lines: Vec<(Uuid, i64, i64)> = report
            .items
            .iter()
            .map(|i| (i.item_id, i.cost, i.profit))
            .collect();
        assert_eq!(lines, vec![(id(2), 0, 12_000), (id(1), 3_000, 6_000)]);
        assert_eq!(
            (report.sales_volume, report.cost, report.profit),
            (21_000, 3_000, 18_000)
        );
    }

    #[test]
    fn daily_volumes_fill_every_day_of_the_range() {
        let days = HashMap::from([(
            day(2),
            (
                DayDelta {
                    sales_volume: 5_000,
                    order_count: 2,
                },
                1_500,
            ),
        )]);
        let rows = daily_volumes(day(1), day(3), &days);
        assert_eq!(rows.len(), 3);
        assert_eq!(
            rows[1],
            DailyVolume {
                date: day(2),
                sales_volume: 5_000,
                profit: 3_500,
                order_count: 2
            }
        );
        assert_eq!((rows[0].sales_volume, rows[0].order_count), (0, 0));
        assert_eq!(rows[2].date, day(3));
    }

    fn update(status: ConsultingStatus, second: u32) -> ConsultingUpdate {
        ConsultingUpdate {
            store_id: id(1),
            request_id: id(2),
            status,
            content: None,
            error: None,
            completed_at: None,
            at: format!("2026-11-24T10:00:{second:02}Z").parse().unwrap(),
        }
    }

    #[test]
    fn consulting_results_only_move_forward() {
        let running = update(ConsultingStatus::Running, 5);
        let done = update(ConsultingStatus::Completed, 6);
        assert!(running.is_news_after(None));
        assert!(running.is_news_after(Some(&update(ConsultingStatus::Pending, 9))));
        assert!(update(ConsultingStatus::Running, 6).is_news_after(Some(&running)));
        assert!(!update(ConsultingStatus::Running, 4).is_news_after(Some(&running)));
        assert!(done.is_news_after(Some(&running)));
        // Progress that arrives after the end changes nothing.
        assert!(!update(ConsultingStatus::Running, 9).is_news_after(Some(&done)));
        assert!(!update(ConsultingStatus::Failed, 9).is_news_after(Some(&done)));
    }
}

/// Costs against hostile input.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use salesync_common::testing::accepted_or_refused;

    use super::*;

    proptest! {
        #[test]
        fn a_cost_is_0_to_the_largest(value in any::<i64>()) {
            if let Some(cost) = accepted_or_refused(cost("cost", value), "cost") {
                prop_assert!((0..=MAX_COST).contains(&cost));
            }
        }

        /// Its costs were each checked by `cost` already.
        #[test]
        fn a_cost_list_is_short_and_names_each_item_once(
            raw in prop::collection::vec((0u8..4, 0..=MAX_COST), 0..8)
        ) {
            let ids: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
            let costs = raw.into_iter().map(|(i, c)| (ids[usize::from(i)], c)).collect();
            if let Some(list) = accepted_or_refused(cost_list(costs), "costs") {
                let distinct: std::collections::HashSet<_> = list.iter().map(|(id, _)| id).collect();
                prop_assert_eq!(distinct.len(), list.len());
                prop_assert!(!list.is_empty() && list.len() <= MAX_COSTS_PER_CALL);
            }
        }
    }
}
