//! The rules of a sale: payments, refunds, statuses and summaries. No I/O.

use std::collections::BTreeMap;

use salesync_common::{Error, Result, input};
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// How a guest paid. One enum from the column to the API and the events.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    EnumIter,
    DeriveActiveEnum,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PaymentMethod {
    /// A card terminal.
    #[sea_orm(string_value = "CARD")]
    Card,
    /// Cash in the drawer.
    #[sea_orm(string_value = "CASH")]
    Cash,
    /// Anything else: vouchers, transfers.
    #[sea_orm(string_value = "OTHER")]
    Other,
}

// A sale's life in the database. Clients only ever see completed ones, as
// a SaleStatus; PENDING and ABANDONED are the checkout's own bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum SaleState {
    /// Written before the order is paid; recovery finishes or abandons it.
    #[sea_orm(string_value = "PENDING")]
    Pending,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    #[sea_orm(string_value = "PARTIALLY_REFUNDED")]
    PartiallyRefunded,
    #[sea_orm(string_value = "REFUNDED")]
    Refunded,
    /// The order could not be paid (it changed or closed): never will be.
    #[sea_orm(string_value = "ABANDONED")]
    Abandoned,
}

/// Where a sale stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum SaleStatus {
    /// Paid, nothing refunded.
    Completed,
    /// Some lines were given back.
    PartiallyRefunded,
    /// Everything was given back.
    Refunded,
}

impl SaleState {
    /// What a client sees; None while pending or once abandoned.
    pub fn status(self) -> Option<SaleStatus> {
        match self {
            SaleState::Completed => Some(SaleStatus::Completed),
            SaleState::PartiallyRefunded => Some(SaleStatus::PartiallyRefunded),
            SaleState::Refunded => Some(SaleStatus::Refunded),
            SaleState::Pending | SaleState::Abandoned => None,
        }
    }

    /// The states of a sale that happened (was paid).
    pub const PAID: [SaleState; 3] = [
        SaleState::Completed,
        SaleState::PartiallyRefunded,
        SaleState::Refunded,
    ];
}

/// The largest amount one payment may carry.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// One payment of a checkout, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewPayment {
    pub method: PaymentMethod,
    pub amount: i64,
    /// Cash handed over, at least the amount.
    pub tendered: Option<i64>,
}

impl NewPayment {
    pub fn parse(
        index: usize,
        method: PaymentMethod,
        amount: i64,
        tendered: Option<i64>,
    ) -> Result<Self> {
        let field = |name: &str| format!("input.payments[{index}].{name}");
        if !(1..=MAX_AMOUNT).contains(&amount) {
            return Err(Error::bad_input(field("amount"), "must be more than 0"));
        }
        if let Some(tendered) = tendered {
            if method != PaymentMethod::Cash {
                return Err(Error::bad_input(field("tendered"), "only cash is tendered"));
            }
            if !(amount..=MAX_AMOUNT).contains(&tendered) {
                return Err(Error::bad_input(
                    field("tendered"),
                    "must be at least the amount",
                ));
            }
        }
        Ok(NewPayment {
            method,
            amount,
            tendered,
        })
    }

    /// The change given back for cash.
    pub fn change(&self) -> Option<i64> {
        self.tendered.map(|t| t - self.amount)
    }
}

/// A checkout, checked: the table, the key and the payments.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub table_no: i32,
    pub key: String,
    pub payments: Vec<NewPayment>,
}

impl Checkout {
    pub fn new(table_no: i32, key: &str, payments: Vec<NewPayment>) -> Result<Self> {
        if payments.is_empty() {
            return Err(Error::bad_input(
                "input.payments",
                "a checkout needs at least one payment",
            ));
        }
        if payments.len() > 20 {
            return Err(Error::bad_input(
                "input.payments",
                "a checkout takes at most 20 payments",
            ));
        }
        Ok(Checkout {
            table_no,
            key: idempotency_key("input.idempotencyKey", key)?,
            payments,
        })
    }

    /// The payments must add up to exactly the order's total.
    pub fn check_covers(&self, total: i64) -> Result<()> {
        let paid: i64 = self.payments.iter().map(|p| p.amount).sum();
        if paid != total {
            return Err(Error::bad_input(
                "input.payments",
                format!("the payments add up to {paid}; the order's total is {total}"),
            ));
        }
        Ok(())
    }

    /// A digest of what was asked: the same key with other input differs.
    pub fn digest(&self) -> String {
        digest(&(self.table_no, &self.payments))
    }
}

/// A client's idempotency key: one line, 1–100 characters.
pub fn idempotency_key(field: &str, raw: &str) -> Result<String> {
    input::single_line(field, raw, 100)
}

fn digest(value: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(value).expect("BUG: plain data always serializes");
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A line of a sale as the refund rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoldLine {
    pub line_id: Uuid,
    pub item_id: Uuid,
    pub unit_price: i64,
    pub quantity: i32,
    pub refunded: i32,
}

/// What a refund gives back of one sale line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundedLine {
    pub line_id: Uuid,
    pub item_id: Uuid,
    pub quantity: i32,
    pub amount: i64,
}

/// A refund, checked.
#[derive(Debug, Clone)]
pub struct RefundRequest {
    pub sale_id: Uuid,
    pub key: String,
    /// None: all that is left.
    pub lines: Option<Vec<(Uuid, i32)>>,
    pub method: Option<PaymentMethod>,
    pub reason: Option<String>,
}

impl RefundRequest {
    pub fn digest(&self) -> String {
        digest(&(self.sale_id, &self.lines, self.method, &self.reason))
    }
}

/// Which lines a refund gives back. With no request, all that is left (a
/// fully refunded sale is `CONFLICT`); otherwise each item's quantity,
/// taken from its lines in order, never more than is left.
pub fn allocate_refund(
    sold: &[SoldLine],
    requested: Option<&[(Uuid, i32)]>,
) -> Result<Vec<RefundedLine>> {
    let left = |line: &SoldLine| line.quantity - line.refunded;
    let give = |line: &SoldLine, quantity: i32| RefundedLine {
        line_id: line.line_id,
        item_id: line.item_id,
        quantity,
        amount: line.unit_price * i64::from(quantity),
    };
    let Some(requested) = requested else {
        let all: Vec<RefundedLine> = sold
            .iter()
            .filter(|line| left(line) > 0)
            .map(|line| give(line, left(line)))
            .collect();
        if all.is_empty() {
            return Err(Error::conflict("the sale is already fully refunded"));
        }
        return Ok(all);
    };
    if requested.is_empty() {
        return Err(Error::bad_input(
            "input.lines",
            "give at least one line, or leave lines out to refund all that is left",
        ));
    }
    if sold.iter().all(|line| left(line) == 0) {
        return Err(Error::conflict("the sale is already fully refunded"));
    }
    let mut wanted: BTreeMap<Uuid, (usize, i32)> = BTreeMap::new();
    for (index, (item_id, quantity)) in requested.iter().enumerate() {
        if !(1..=999).contains(quantity) {
            return Err(Error::bad_input(
                format!("input.lines[{index}].quantity"),
                "must be between 1 and 999",
            ));
        }
        wanted.entry(*item_id).or_insert((index, 0)).1 += quantity;
    }
    let mut refunded = Vec::new();
    for (item_id, (index, mut quantity)) in wanted {
        let lines: Vec<&SoldLine> = sold.iter().filter(|l| l.item_id == item_id).collect();
        if lines.is_empty() {
            return Err(Error::bad_input(
                format!("input.lines[{index}].itemId"),
                "this item is not on the sale",
            ));
        }
        let available: i32 = lines.iter().map(|l| left(l)).sum();
        if quantity > available {
            return Err(Error::bad_input(
                format!("input.lines[{index}].quantity"),
                format!("only {available} left to refund"),
            ));
        }
        for line in lines {
            let take = quantity.min(left(line));
            if take > 0 {
                refunded.push(give(line, take));
                quantity -= take;
            }
        }
    }
    Ok(refunded)
}

/// A refund's method when none is given: that of the sale's largest payment.
pub fn default_refund_method(payments: &[(PaymentMethod, i64)]) -> PaymentMethod {
    payments
        .iter()
        .fold(
            None::<(PaymentMethod, i64)>,
            |best, &(method, amount)| match best {
                Some((_, top)) if top >= amount => best,
                _ => Some((method, amount)),
            },
        )
        .map(|(method, _)| method)
        .unwrap_or(PaymentMethod::Card)
}

/// The state after a refund: everything given back, or some.
pub fn state_after_refund(sold: &[SoldLine]) -> SaleState {
    if sold.iter().all(|l| l.refunded >= l.quantity) {
        SaleState::Refunded
    } else {
        SaleState::PartiallyRefunded
    }
}

/// Sales and refunds per payment method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MethodTotals {
    pub sales: i64,
    pub refunds: i64,
    /// Payments taken with the method.
    pub count: i32,
}

impl MethodTotals {
    pub fn net(&self) -> i64 {
        self.sales - self.refunds
    }
}

/// Totals per method of `payments` (method, amount) and `refunds` (method,
/// amount), every method present.
pub fn by_method(
    payments: impl IntoIterator<Item = (PaymentMethod, i64)>,
    refunds: impl IntoIterator<Item = (PaymentMethod, i64)>,
) -> BTreeMap<PaymentMethod, MethodTotals> {
    let mut totals: BTreeMap<PaymentMethod, MethodTotals> = [
        PaymentMethod::Card,
        PaymentMethod::Cash,
        PaymentMethod::Other,
    ]
    .into_iter()
    .map(|m| (m, MethodTotals::default()))
    .collect();
    for (method, amount) in payments {
        let entry = totals.entry(method).or_default();
        entry.sales += amount;
        entry.count += 1;
    }
    for (method, amount) in refunds {
        totals.entry(method).or_default().refunds += amount;
    }
    totals
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(item: Uuid, price: i64, quantity: i32, refunded: i32) -> SoldLine {
        SoldLine {
            line_id: Uuid::now_v7(),
            item_id: item,
            unit_price: price,
            quantity,
            refunded,
        }
    }

    #[test]
    fn payments_are_positive_and_only_cash_is_tendered() {
        assert!(NewPayment::parse(0, PaymentMethod::Card, 0, None).is_err());
        assert!(NewPayment::parse(0, PaymentMethod::Card, 100, Some(100)).is_err());
        assert!(NewPayment::parse(0, PaymentMethod::Cash, 100, Some(90)).is_err());
        let cash = NewPayment::parse(0, PaymentMethod::Cash, 8_500, Some(10_000)).expect("cash");
        assert_eq!(cash.change(), Some(1_500));
    }

    #[test]
    fn payments_must_add_up_to_the_total_exactly() {
        let split = Checkout::new(
            1,
            "k",
            vec![
                NewPayment::parse(0, PaymentMethod::Card, 6_000, None).expect("card"),
                NewPayment::parse(1, PaymentMethod::Cash, 3_000, None).expect("cash"),
            ],
        )
        .expect("checkout");
        assert!(split.check_covers(9_000).is_ok());
        assert!(split.check_covers(9_001).is_err());
        assert!(Checkout::new(1, "k", vec![]).is_err());
    }

    #[test]
    fn the_same_key_with_other_input_has_another_digest() {
        let pay = |amount| {
            Checkout::new(
                1,
                "k",
                vec![NewPayment::parse(0, PaymentMethod::Card, amount, None).expect("p")],
            )
            .expect("checkout")
        };
        assert_eq!(pay(100).digest(), pay(100).digest());
        assert_ne!(pay(100).digest(), pay(101).digest());
    }

    #[test]
    fn a_refund_takes_what_is_left_and_never_more() {
        let tea = Uuid::now_v7();
        let cake = Uuid::now_v7();
        // Tea ordered twice at two prices.
        let sold = vec![
            line(tea, 3_000, 2, 0),
            line(cake, 5_000, 1, 0),
            line(tea, 3_500, 1, 0),
        ];
        let three_teas = allocate_refund(&sold, Some(&[(tea, 3)])).expect("refund");
        assert_eq!(
            three_teas.iter().map(|l| l.amount).sum::<i64>(),
            6_000 + 3_500
        );
        assert!(matches!(
            allocate_refund(&sold, Some(&[(tea, 4)])),
            Err(Error::BadUserInput { field, .. }) if field == "input.lines[0].quantity"
        ));
        assert!(matches!(
            allocate_refund(&sold, Some(&[(Uuid::now_v7(), 1)])),
            Err(Error::BadUserInput { field, .. }) if field == "input.lines[0].itemId"
        ));
        let all = allocate_refund(&sold, None).expect("all");
        assert_eq!(
            all.iter().map(|l| l.amount).sum::<i64>(),
            6_000 + 5_000 + 3_500
        );
        let done = vec![line(tea, 3_000, 2, 2)];
        assert!(matches!(
            allocate_refund(&done, None),
            Err(Error::Conflict(_))
        ));
        assert!(matches!(
            allocate_refund(&done, Some(&[(tea, 1)])),
            Err(Error::Conflict(_))
        ));
        assert_eq!(state_after_refund(&done), SaleState::Refunded);
        assert_eq!(state_after_refund(&sold), SaleState::PartiallyRefunded);
    }

    #[test]
    fn a_refund_defaults_to_the_largest_payments_method() {
        assert_eq!(
            default_refund_method(&[(PaymentMethod::Cash, 3_000), (PaymentMethod::Card, 6_000)]),
            PaymentMethod::Card
        );
        assert_eq!(
            default_refund_method(&[(PaymentMethod::Cash, 5_000), (PaymentMethod::Card, 5_000)]),
            PaymentMethod::Cash,
            "the first of equals"
        );
    }

    #[test]
    fn totals_per_method_net_refunds() {
        let totals = by_method(
            [
                (PaymentMethod::Card, 6_000),
                (PaymentMethod::Cash, 3_000),
                (PaymentMethod::Card, 1_000),
            ],
            [(PaymentMethod::Card, 2_000)],
        );
        let card = totals[&PaymentMethod::Card];
        assert_eq!(
            (card.sales, card.refunds, card.net(), card.count),
            (7_000, 2_000, 5_000, 2)
        );
        assert_eq!(totals[&PaymentMethod::Other], MethodTotals::default());
    }
}

/// Payments and keys against hostile input: never a panic, an overflow or
/// an error other than `BAD_USER_INPUT`.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use salesync_common::testing::accepted_or_refused;

    use super::*;

    fn method() -> impl Strategy<Value = PaymentMethod> {
        prop_oneof![
            Just(PaymentMethod::Card),
            Just(PaymentMethod::Cash),
            Just(PaymentMethod::Other)
        ]
    }

    fn payment() -> impl Strategy<Value = (PaymentMethod, i64, Option<i64>)> {
        (method(), any::<i64>(), any::<Option<i64>>())
    }

    proptest! {
        #[test]
        fn a_payment_is_1_to_the_largest_and_cash_is_tendered_at_least_it(
            (method, amount, tendered) in payment()
        ) {
            if let Some(payment) = accepted_or_refused(NewPayment::parse(0, method, amount, tendered), "input.payments[0]") {
                prop_assert!((1..=MAX_AMOUNT).contains(&payment.amount));
                prop_assert!(payment.change().is_none_or(|c| c >= 0));
            }
        }

        #[test]
        fn a_checkout_of_any_payments_and_any_total_never_overflows(
            raw in prop::collection::vec(payment(), 0..25),
            key in any::<String>(),
            total in any::<i64>(),
        ) {
            let payments: Vec<NewPayment> = raw
                .into_iter()
                .enumerate()
                .filter_map(|(i, (m, a, t))| NewPayment::parse(i, m, a, t).ok())
                .collect();
            if let Some(checkout) = accepted_or_refused(Checkout::new(1, &key, payments), "input.") {
                accepted_or_refused(checkout.check_covers(total), "input.payments");
            }
        }
    }
}
