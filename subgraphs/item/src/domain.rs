//! The menu's rules, as types built once by `parse`. No I/O here.

use salesync_common::{Error, input, scalars::Money};
use uuid::Uuid;

/// A category or item name: one line, trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        input::single_line(field, raw, 100).map(Name)
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An item description: at most 500 characters, lines allowed; blank means none.
pub fn description(field: &str, raw: &str) -> Result<Option<String>, Error> {
    input::multi_line(field, Some(raw), 500)
}

/// The largest price a menu item may have, in the currency's smallest unit.
pub const MAX_PRICE: i64 = 100_000_000;

/// A menu price: 0 (free) to 100,000,000.
pub fn price(field: &str, value: Money) -> Result<i64, Error> {
    if (0..=MAX_PRICE).contains(&value.0) {
        Ok(value.0)
    } else {
        Err(Error::bad_input(
            field,
            format!("must be between 0 and {MAX_PRICE}"),
        ))
    }
}

/// An item about to be added to a category, every field checked.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub category_id: Uuid,
    pub name: Name,
    pub price: i64,
    pub description: Option<String>,
}

/// Changes to an item, every field checked; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct ItemChanges {
    pub name: Option<Name>,
    pub price: Option<i64>,
    /// `Some(None)` removes the description.
    pub description: Option<Option<String>>,
    pub category_id: Option<Uuid>,
    pub sold_out: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_plain_text() {
        assert_eq!(
            Name::parse("n", "  Latte ")
                .map(Name::into_inner)
                .ok()
                .as_deref(),
            Some("Latte")
        );
        assert!(Name::parse("n", "  ").is_err());
        assert!(Name::parse("n", &"가".repeat(100)).is_ok());
        assert!(Name::parse("n", &"가".repeat(101)).is_err());
        assert!(matches!(
            Name::parse("input.name", "Lat\0te"),
            Err(Error::BadUserInput { field, .. }) if field == "input.name"
        ));
    }

    #[test]
    fn prices_are_zero_to_a_hundred_million() {
        assert_eq!(price("p", Money(0)).ok(), Some(0));
        assert_eq!(price("p", Money(MAX_PRICE)).ok(), Some(MAX_PRICE));
        assert!(price("p", Money(-1)).is_err());
        assert!(price("p", Money(MAX_PRICE + 1)).is_err());
    }

    #[test]
    fn blank_descriptions_are_none_and_long_ones_refused() {
        assert_eq!(description("d", "  ").ok(), Some(None));
        assert_eq!(
            description("d", "Hot.\nWith milk.")
                .ok()
                .flatten()
                .as_deref(),
            Some("Hot.\nWith milk.")
        );
        assert!(description("d", &"x".repeat(501)).is_err());
    }
}

/// The menu's rules against hostile input.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use salesync_common::testing::accepted_or_refused;

    use super::*;

    proptest! {
        #[test]
        fn prices_are_0_to_the_largest(value in any::<i64>()) {
            if let Some(price) = accepted_or_refused(price("input.price", Money(value)), "input.price") {
                prop_assert!((0..=MAX_PRICE).contains(&price));
            }
        }

        #[test]
        fn names_and_descriptions(raw in any::<String>()) {
            accepted_or_refused(Name::parse("name", &raw), "name");
            accepted_or_refused(description("description", &raw), "description");
        }
    }
}
