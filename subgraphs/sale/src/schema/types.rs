use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use salesync_common::{
    Error, Result,
    loader::Scoped,
    scalars::{Date, Money},
};
use uuid::Uuid;

use super::SaleState;
use crate::{
    db::{day_closes, refunds},
    domain::{PaymentMethod, SaleStatus},
    service::{MethodCount as Counted, SaleView, Summary},
};

/// A paid table: what was sold, how it was paid, and what came back.
pub struct Sale(pub Arc<SaleView>);

#[Object]
impl Sale {
    /// The sale's opaque id.
    async fn id(&self) -> ID {
        ID(self.0.sale.id.to_string())
    }

    /// The order this sale paid.
    async fn order(&self) -> Order {
        Order {
            id: self.0.sale.order_id,
        }
    }

    /// What was sold, as the order had it when it was paid.
    async fn lines(&self) -> Vec<SaleLine> {
        self.0
            .lines
            .iter()
            .map(|l| SaleLine {
                item: ItemRef {
                    id: ID(l.item_id.to_string()),
                },
                name: l.name.clone(),
                unit_price: Money(l.unit_price),
                quantity: l.quantity,
                refunded_quantity: l.refunded_quantity,
                amount: Money(l.amount),
            })
            .collect()
    }

    /// The order's total, paid by the payments.
    async fn amount(&self) -> Money {
        Money(self.0.sale.amount)
    }

    /// How it was paid: one payment, or several (split between card and
    /// cash, or between guests' cards).
    async fn payments(&self) -> Vec<Payment> {
        self.0
            .payments
            .iter()
            .map(|p| Payment {
                method: p.method,
                amount: Money(p.amount),
                tendered: p.tendered.map(Money),
                change: p.change.map(Money),
            })
            .collect()
    }

    /// What was given back, oldest first.
    async fn refunds(&self) -> Result<Vec<Refund>> {
        self.0.refunds.iter().map(Refund::try_from).collect()
    }

    /// The sum of the refunds.
    async fn refunded_amount(&self) -> Money {
        Money(self.0.sale.refunded_amount)
    }

    async fn status(&self) -> Result<SaleStatus> {
        self.0.sale.status.status().ok_or_else(|| {
            Error::internal(anyhow::anyhow!(
                "sale {} is not a paid sale",
                self.0.sale.id
            ))
        })
    }

    /// The store's business day of the payment.
    async fn business_date(&self) -> Result<Date> {
        self.0.sale.business_date.map(Date).ok_or_else(|| {
            Error::internal(anyhow::anyhow!("paid sale {} has no day", self.0.sale.id))
        })
    }

    /// When the order was paid.
    async fn paid_at(&self) -> Result<DateTime<Utc>> {
        self.0.sale.paid_at.ok_or_else(|| {
            Error::internal(anyhow::anyhow!("paid sale {} has no time", self.0.sale.id))
        })
    }
}

/// One line of a sale.
#[derive(SimpleObject)]
pub struct SaleLine {
    /// The menu item (resolved by the item subgraph; deleted items still resolve).
    pub item: ItemRef,
    /// The item's name when it was ordered.
    pub name: String,
    /// The price it was ordered at.
    pub unit_price: Money,
    /// How many were sold.
    pub quantity: i32,
    /// How many of them were refunded.
    pub refunded_quantity: i32,
    /// Unit price times quantity.
    pub amount: Money,
}

/// One payment of a sale.
#[derive(SimpleObject)]
pub struct Payment {
    pub method: PaymentMethod,
    pub amount: Money,
    /// Cash handed over.
    pub tendered: Option<Money>,
    /// Cash given back: tendered minus amount.
    pub change: Option<Money>,
}

/// Money given back for some of a sale's lines.
#[derive(SimpleObject)]
pub struct Refund {
    /// The refund's opaque id.
    pub id: ID,
    /// The sum of its lines.
    pub amount: Money,
    /// How the money went back.
    pub method: PaymentMethod,
    pub lines: Vec<RefundLine>,
    /// Why, as the staff wrote it.
    pub reason: Option<String>,
    /// The store's business day of the refund, whatever the sale's was.
    pub business_date: Date,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<&refunds::Model> for Refund {
    type Error = Error;

    fn try_from(refund: &refunds::Model) -> Result<Self> {
        Ok(Refund {
            id: ID(refund.id.to_string()),
            amount: Money(refund.amount),
            method: refund.method,
            lines: SaleView::refund_lines(refund)?
                .into_iter()
                .map(|l| RefundLine {
                    item: ItemRef {
                        id: ID(l.item_id.to_string()),
                    },
                    quantity: l.quantity,
                    amount: Money(l.amount),
                })
                .collect(),
            reason: refund.reason.clone(),
            business_date: Date(refund.business_date),
            created_at: refund.created_at,
        })
    }
}

/// What one refund gave back of one item.
#[derive(SimpleObject)]
pub struct RefundLine {
    pub item: ItemRef,
    pub quantity: i32,
    pub amount: Money,
}

/// A menu item, owned by the item subgraph.
#[derive(SimpleObject)]
#[graphql(name = "Item", unresolvable = "id")]
pub struct ItemRef {
    /// The item's opaque id.
    pub id: ID,
}

/// A table's order (owned by the order subgraph); here, its sale.
pub struct Order {
    pub id: Uuid,
}

#[Object]
impl Order {
    /// The order's opaque id.
    async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// The sale that paid the order; null while unpaid.
    async fn sale(&self, ctx: &Context<'_>) -> Result<Option<Sale>> {
        use salesync_common::auth::CallerExt;
        let key = Scoped {
            store_id: ctx.store_id()?,
            id: self.id,
        };
        let state = ctx.data_unchecked::<SaleState>();
        Ok(state.by_order.load_one(key).await?.map(Sale))
    }
}

/// Sales, refunds and what they netted per payment method.
#[derive(SimpleObject)]
pub struct MethodTotal {
    pub method: PaymentMethod,
    /// Payments taken with it.
    pub sales: Money,
    /// Refunds paid back with it.
    pub refunds: Money,
    /// Sales minus refunds.
    pub net: Money,
    /// How many payments used it.
    pub count: i32,
}

/// Sales over a range of business days.
#[derive(SimpleObject)]
pub struct SalesSummary {
    pub from: Date,
    pub to: Date,
    /// Every sale of those days.
    pub gross_sales: Money,
    /// Every refund made on those days.
    pub refunds: Money,
    /// Gross sales minus refunds.
    pub sales_volume: Money,
    pub sale_count: i32,
    pub refund_count: i32,
    /// Card, cash and other, each listed.
    pub by_method: Vec<MethodTotal>,
}

impl From<Summary> for SalesSummary {
    fn from(s: Summary) -> Self {
        SalesSummary {
            from: Date(s.from),
            to: Date(s.to),
            gross_sales: Money(s.gross_sales),
            refunds: Money(s.refunds),
            sales_volume: Money(s.gross_sales - s.refunds),
            sale_count: s.sale_count,
            refund_count: s.refund_count,
            by_method: s
                .by_method
                .into_iter()
                .map(|(method, t)| MethodTotal {
                    method,
                    sales: Money(t.sales),
                    refunds: Money(t.refunds),
                    net: Money(t.net()),
                    count: t.count,
                })
                .collect(),
        }
    }
}

/// One method at the day close: what the books expected and what was counted.
#[derive(SimpleObject)]
pub struct MethodCount {
    pub method: PaymentMethod,
    /// Sales minus refunds of the day with this method.
    pub expected: Money,
    pub counted: Money,
    /// Counted minus expected: negative when money is missing.
    pub difference: Money,
}

/// A business day's close (the Z-report).
#[derive(SimpleObject)]
pub struct DayClose {
    pub business_date: Date,
    pub closed_at: DateTime<Utc>,
    pub methods: Vec<MethodCount>,
    /// Sales minus refunds of the day.
    pub sales_volume: Money,
    pub sale_count: i32,
}

impl TryFrom<day_closes::Model> for DayClose {
    type Error = Error;

    fn try_from(close: day_closes::Model) -> Result<Self> {
        let methods: Vec<Counted> = serde_json::from_str(&close.methods).map_err(|e| {
            Error::internal(anyhow::Error::new(e).context("stored day close methods"))
        })?;
        Ok(DayClose {
            business_date: Date(close.business_date),
            closed_at: close.closed_at,
            methods: methods
                .into_iter()
                .map(|m| MethodCount {
                    method: m.method,
                    expected: Money(m.expected),
                    counted: Money(m.counted),
                    difference: Money(m.difference),
                })
                .collect(),
            sales_volume: Money(close.sales_volume),
            sale_count: close.sale_count,
        })
    }
}

/// One payment of a checkout.
#[derive(InputObject)]
pub struct PaymentInput {
    pub method: PaymentMethod,
    /// More than 0.
    pub amount: Money,
    /// Cash handed over, at least the amount; the sale records the change.
    pub tendered: Option<Money>,
}

/// Pays a table's open order.
#[derive(InputObject)]
pub struct CheckoutInput {
    /// The table whose open order is paid.
    pub table_no: i32,
    /// Chosen by the terminal, one per checkout: a retry with the same key
    /// returns the same sale and never charges twice. 1–100 characters.
    pub idempotency_key: String,
    /// One or several payments adding up exactly to the order's total.
    pub payments: Vec<PaymentInput>,
}

/// An item and how many of it to refund.
#[derive(InputObject)]
pub struct RefundLineInput {
    pub item_id: ID,
    /// 1–999, at most what is left of the item on the sale.
    pub quantity: i32,
}

/// Gives back some or all of a sale.
#[derive(InputObject)]
pub struct RefundInput {
    pub sale_id: ID,
    /// One per refund: a retry with the same key refunds once.
    pub idempotency_key: String,
    /// What to give back; leave out to refund all that is left.
    pub lines: Option<Vec<RefundLineInput>>,
    /// How the money goes back; default: the method of the sale's largest payment.
    pub method: Option<PaymentMethod>,
    /// Why, up to 500 characters.
    pub reason: Option<String>,
}

/// What was counted of one payment method at the day close.
#[derive(InputObject)]
pub struct CountedInput {
    pub method: PaymentMethod,
    /// 0 or more.
    pub amount: Money,
}
