//! Text and ids from clients, parsed once at the edge: past a resolver,
//! nothing sees a raw string.
//!
//! Control characters are refused in every text a person typed: a NUL byte
//! is not text (PostgreSQL refuses to store it), and the others only hide
//! what a name really says. Multi-line texts keep their line breaks and tabs.

use uuid::Uuid;

use crate::{Error, Result};

/// A required one-line text: trimmed, 1 to `max` characters, no control
/// characters. `field` names the argument in the error.
pub fn single_line(field: &str, raw: &str, max: usize) -> Result<String> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(Error::bad_input(field, "must not be empty"));
    }
    check(field, value, max, false)?;
    Ok(value.to_string())
}

/// An optional text that may span lines: trimmed, at most `max` characters;
/// blank means none.
pub fn multi_line(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    check(field, value, max, true)?;
    Ok(Some(value.to_string()))
}

fn check(field: &str, value: &str, max: usize, multi_line: bool) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let allowed = |c: char| multi_line && matches!(c, '\n' | '\r' | '\t');
    if value.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Error::bad_input(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

/// An id from a client. Ids are opaque: one that is not a UUID names nothing
/// the caller has, exactly like an unknown one (`NOT_FOUND`, "no such `what`").
pub fn id(raw: &str, what: &str) -> Result<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| Error::not_found(format!("no such {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(result: Result<impl std::fmt::Debug>) -> Option<String> {
        match result {
            Err(Error::BadUserInput { field, .. }) => Some(field),
            _ => None,
        }
    }

    #[test]
    fn one_line_texts_are_trimmed_required_and_bounded() {
        assert_eq!(
            single_line("n", "  Latte ", 100).ok().as_deref(),
            Some("Latte")
        );
        assert_eq!(field_of(single_line("n", "   ", 100)), Some("n".into()));
        assert!(single_line("n", &"가".repeat(100), 100).is_ok());
        assert!(single_line("n", &"가".repeat(101), 100).is_err());
    }

    #[test]
    fn control_characters_are_bad_input_naming_the_field() {
        for raw in ["Lat\0te", "Lat\u{7}te", "Latte\nTea", "Lat\u{1b}[31mte"] {
            assert_eq!(
                field_of(single_line("input.name", raw, 100)),
                Some("input.name".into()),
                "{raw:?}"
            );
        }
        assert_eq!(
            field_of(multi_line("input.description", Some("a\0b"), 500)),
            Some("input.description".into())
        );
    }

    #[test]
    fn multi_line_texts_keep_their_lines_and_blank_is_none() {
        assert_eq!(
            multi_line("d", Some(" one\n\ttwo "), 500).ok().flatten(),
            Some("one\n\ttwo".to_string())
        );
        assert_eq!(multi_line("d", Some("  "), 500).ok(), Some(None));
        assert_eq!(multi_line("d", None, 500).ok(), Some(None));
        assert!(multi_line("d", Some(&"x".repeat(501)), 500).is_err());
    }

    #[test]
    fn a_malformed_id_is_not_found() {
        assert!(matches!(id("42", "item"), Err(Error::NotFound(_))));
        let real = Uuid::now_v7();
        assert_eq!(id(&format!(" {real} "), "item").ok(), Some(real));
    }
}

/// Hostile text of every kind: any unicode, control characters, blanks,
/// and 100 kB strings.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::testing::accepted_or_refused;

    fn printable(value: &str, max: usize, multi_line: bool) -> bool {
        value == value.trim()
            && value.chars().count() <= max
            && !value
                .chars()
                .any(|c| c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t')))
    }

    proptest! {
        #[test]
        fn a_one_line_text_is_trimmed_printable_and_within_its_limit(raw in any::<String>(), max in 1usize..64) {
            if let Some(value) = accepted_or_refused(single_line("name", &raw, max), "name") {
                prop_assert!(!value.is_empty() && printable(&value, max, false), "{value:?}");
            }
        }

        #[test]
        fn a_multi_line_text_keeps_only_line_breaks_and_tabs(raw in any::<String>(), max in 1usize..64) {
            if let Some(Some(value)) = accepted_or_refused(multi_line("description", Some(&raw), max), "description") {
                prop_assert!(printable(&value, max, true), "{value:?}");
            }
        }

        #[test]
        fn a_100_kb_text_is_refused_whole_never_cut(fill in "[a-z가-힣]", n in 100_000usize..100_100) {
            let raw = fill.repeat(n);
            prop_assert!(accepted_or_refused(single_line("name", &raw, 100), "name").is_none());
            prop_assert!(accepted_or_refused(multi_line("description", Some(&raw), 500), "description").is_none());
        }

        #[test]
        fn any_text_is_an_id_or_names_nothing(raw in any::<String>()) {
            match id(&raw, "item") {
                Ok(parsed) => prop_assert_eq!(parsed, Uuid::parse_str(raw.trim()).expect("a UUID")),
                Err(Error::NotFound(message)) => prop_assert_eq!(message, "no such item"),
                Err(other) => prop_assert!(false, "{other:?}"),
            }
        }
    }
}
