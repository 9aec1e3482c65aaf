//! The API's scalars, defined once so that every subgraph
//! exports them identically and the supergraph composes.
//! `DateTime` is async-graphql's own `chrono::DateTime<Utc>` scalar (RFC 3339).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// An amount in the smallest unit of the store's currency (won, cents):
/// always an integer, never a float. 64-bit inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }
}

/// An amount in the smallest unit of the store's currency (for KRW, won; for USD, cents). Always a whole number, serialized as a JSON number.
#[Scalar(name = "Money")]
impl ScalarType for Money {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::Number(n) => n
                .as_i64()
                .map(Money)
                .ok_or_else(|| InputValueError::custom("Money must be a whole number")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::Number(n) if n.is_i64())
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.into())
    }
}

/// A calendar day in the store's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub NaiveDate);

/// A calendar day in the store's time zone, formatted `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("Date must be YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_accepts_whole_numbers_only() {
        assert_eq!(Money::parse(Value::from(1500)).ok(), Some(Money(1500)));
        assert!(Money::parse(Value::from(15.5)).is_err());
        assert!(Money::parse(Value::from("1500")).is_err());
    }

    #[test]
    fn money_arithmetic_refuses_overflow() {
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(3).checked_mul(4), Some(Money(12)));
    }

    #[test]
    fn dates_are_iso_days() {
        let parsed = Date::parse(Value::from("2026-11-24")).ok();
        assert_eq!(
            parsed.map(|d| d.to_value()),
            Some(Value::from("2026-11-24"))
        );
        assert!(Date::parse(Value::from("24/11/2026")).is_err());
    }
}
