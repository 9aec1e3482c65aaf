//! The menu's rules, as types built once by `parse`. No I/O here.

use salesync_common::{Error, scalars::Money};
use uuid::Uuid;

/// A category or item name: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

impl Name {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim();
        if value.is_empty() {
            return Err(Error::bad_input(field, "must not be empty"));
        }
        if value.chars().count() > 100 {
            return Err(Error::bad_input(field, "must be at most 100 characters"));
        }
        Ok(Name(value.to_string()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// An item description: at most 500 characters; blank means none.
pub fn description(field: &str, raw: Option<&str>) -> Result<Option<String>, Error> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > 500 {
        return Err(Error::bad_input(field, "must be at most 500 characters"));
    }
    Ok(Some(value.to_string()))
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

/// An id from a client. Ids are opaque: one that is not a UUID names nothing
/// the caller has, exactly like an unknown one.
pub fn id(raw: &str, what: &str) -> Result<Uuid, Error> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::not_found(format!("no such {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
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
        assert_eq!(description("d", Some("  ")).ok(), Some(None));
        assert!(description("d", Some(&"x".repeat(501))).is_err());
    }

    #[test]
    fn a_malformed_id_is_not_found() {
        assert!(matches!(id("42", "item"), Err(Error::NotFound(_))));
    }
}
