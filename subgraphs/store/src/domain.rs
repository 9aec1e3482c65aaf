//! The store's rules, as types: each is built once by `parse`, and past that
//! point the value is known to be valid. No I/O here.

use chrono_tz::Tz;
use salesync_common::{Error, input};

/// A store about to sign up, every field checked.
#[derive(Debug)]
pub struct NewStore {
    pub username: Username,
    pub password: NewPassword,
    pub owner_name: String,
    pub phone: String,
    pub name: String,
    pub address: String,
    pub store_type: String,
    pub table_count: i32,
    pub timezone: String,
    pub currency: String,
}

/// Changes to a store's profile, every field checked; `None` keeps the value.
#[derive(Debug, Default)]
pub struct StoreChanges {
    pub owner_name: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    pub address: Option<String>,
    pub store_type: Option<String>,
    pub table_count: Option<i32>,
    pub timezone: Option<String>,
    pub closeout_hour: Option<i32>,
}

/// The owner's name and the store's name.
pub fn name(field: &str, raw: &str) -> Result<String, Error> {
    input::single_line(field, raw, 100)
}

/// A street address.
pub fn address(field: &str, raw: &str) -> Result<String, Error> {
    input::single_line(field, raw, 200)
}

/// What kind of business: "restaurant", "cafe".
pub fn store_type(field: &str, raw: &str) -> Result<String, Error> {
    input::single_line(field, raw, 50)
}

/// A login name: 3–32 of `a-z 0-9 . _ -`, compared in lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let value = raw.trim().to_lowercase();
        let length = value.chars().count();
        if !(3..=32).contains(&length) {
            return Err(Error::bad_input(field, "must be 3 to 32 characters"));
        }
        if !value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
        {
            return Err(Error::bad_input(
                field,
                "may contain only letters a-z, digits and . _ -",
            ));
        }
        Ok(Username(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8 to 128 characters. The upper bound keeps Argon2's work
/// per request bounded. Never printed.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    pub fn parse(field: &str, raw: &str) -> Result<Self, Error> {
        let length = raw.chars().count();
        if length < 8 {
            return Err(Error::bad_input(field, "must be at least 8 characters"));
        }
        if length > 128 {
            return Err(Error::bad_input(field, "must be at most 128 characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err(Error::bad_input(
                field,
                "must not contain control characters",
            ));
        }
        Ok(NewPassword(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A phone number as people write it: digits with optional `+ - ( )` and spaces.
pub fn phone(field: &str, raw: &str) -> Result<String, Error> {
    let value = input::single_line(field, raw, 30)?;
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits < 3
        || !value
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '(' | ')' | ' '))
    {
        return Err(Error::bad_input(
            field,
            "must be a phone number: digits with optional + - ( ) and spaces",
        ));
    }
    Ok(value)
}

pub const DEFAULT_TABLE_COUNT: i32 = 12;
pub const DEFAULT_TIMEZONE: &str = "Asia/Seoul";
pub const DEFAULT_CURRENCY: &str = "KRW";

/// Tables on the floor: 1 to 500.
pub fn table_count(field: &str, value: i32) -> Result<i32, Error> {
    if (1..=500).contains(&value) {
        Ok(value)
    } else {
        Err(Error::bad_input(field, "must be between 1 and 500"))
    }
}

/// The local hour at which the business day turns: 0 (midnight) to 23.
pub fn closeout_hour(field: &str, value: i32) -> Result<i32, Error> {
    if (0..=23).contains(&value) {
        Ok(value)
    } else {
        Err(Error::bad_input(field, "must be an hour from 0 to 23"))
    }
}

/// An IANA time zone name such as `Asia/Seoul`.
pub fn timezone(field: &str, raw: &str) -> Result<String, Error> {
    raw.trim()
        .parse::<Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| Error::bad_input(field, "must be an IANA time zone such as Asia/Seoul"))
}

/// Active ISO 4217 currency codes.
const ISO_4217: &str = "AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL \
BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP \
GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF \
KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN \
NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD \
SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND \
VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// An ISO 4217 currency code such as `KRW`; accepted in any case.
pub fn currency(field: &str, raw: &str) -> Result<String, Error> {
    let code = raw.trim().to_uppercase();
    if code.len() == 3 && ISO_4217.split_ascii_whitespace().any(|c| c == code) {
        Ok(code)
    } else {
        Err(Error::bad_input(
            field,
            "must be an ISO 4217 currency code such as KRW",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(error: Error) -> String {
        match error {
            Error::BadUserInput { field, .. } => field,
            other => panic!("expected BAD_USER_INPUT, got {other:?}"),
        }
    }

    #[test]
    fn usernames_are_lower_case_and_limited() {
        assert_eq!(
            Username::parse("u", "  Kim.Bistro_1 ").map(|u| u.0).ok(),
            Some("kim.bistro_1".to_string())
        );
        for bad in ["ab", "a b c", "kim!", &"x".repeat(33), "한글이름"] {
            assert_eq!(
                Username::parse("input.username", bad).err().map(field_of),
                Some("input.username".to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn passwords_need_eight_characters() {
        assert!(NewPassword::parse("p", "1234567").is_err());
        assert!(NewPassword::parse("p", "12345678").is_ok());
        assert!(NewPassword::parse("p", &"x".repeat(129)).is_err());
        assert!(NewPassword::parse("p", "1234\u{0}5678").is_err());
    }

    #[test]
    fn names_are_trimmed_required_and_plain_text() {
        assert_eq!(name("n", "  Cafe  ").ok().as_deref(), Some("Cafe"));
        assert!(name("n", "   ").is_err());
        assert!(name("n", &"x".repeat(101)).is_err());
        assert_eq!(
            name("input.name", "Caf\0e").err().map(field_of),
            Some("input.name".to_string())
        );
        assert!(address("a", &"x".repeat(200)).is_ok());
        assert!(store_type("t", &"x".repeat(51)).is_err());
    }

    #[test]
    fn phones_look_like_phone_numbers() {
        assert!(phone("p", "+82 10-1234-5678").is_ok());
        assert!(phone("p", "call me").is_err());
    }

    #[test]
    fn table_counts_are_one_to_five_hundred() {
        assert!(table_count("t", 0).is_err());
        assert!(table_count("t", 1).is_ok());
        assert!(table_count("t", 500).is_ok());
        assert!(table_count("t", 501).is_err());
    }

    #[test]
    fn closeout_hours_are_zero_to_twenty_three() {
        assert!(closeout_hour("h", -1).is_err());
        assert_eq!(closeout_hour("h", 0).ok(), Some(0));
        assert_eq!(closeout_hour("h", 23).ok(), Some(23));
        assert!(closeout_hour("h", 24).is_err());
    }

    #[test]
    fn timezones_are_iana_names() {
        assert_eq!(
            timezone("tz", "Europe/Paris").ok().as_deref(),
            Some("Europe/Paris")
        );
        assert!(timezone("tz", "Mars/Olympus").is_err());
        assert!(timezone("tz", "+09:00").is_err());
    }

    #[test]
    fn currencies_are_iso_4217() {
        assert_eq!(currency("c", "usd").ok().as_deref(), Some("USD"));
        assert!(currency("c", "XXQ").is_err());
        assert!(currency("c", "WON").is_err());
    }
}

/// Every profile rule against hostile input: accepted values keep the rule,
/// everything else is `BAD_USER_INPUT` naming the field, never a panic.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use salesync_common::testing::accepted_or_refused;

    use super::*;

    proptest! {
        #[test]
        fn usernames(raw in any::<String>()) {
            if let Some(username) = accepted_or_refused(Username::parse("username", &raw), "username") {
                let value = username.as_str();
                prop_assert!((3..=32).contains(&value.len()));
                prop_assert!(value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c)));
            }
        }

        #[test]
        fn passwords(raw in any::<String>()) {
            if let Some(password) = accepted_or_refused(NewPassword::parse("password", &raw), "password") {
                prop_assert!((8..=128).contains(&password.expose().chars().count()));
            }
        }

        #[test]
        fn texts_of_the_profile(raw in any::<String>()) {
            accepted_or_refused(name("name", &raw), "name");
            accepted_or_refused(address("address", &raw), "address");
            accepted_or_refused(store_type("storeType", &raw), "storeType");
            accepted_or_refused(phone("phone", &raw), "phone");
            accepted_or_refused(timezone("timezone", &raw), "timezone");
            accepted_or_refused(currency("currency", &raw), "currency");
        }

        #[test]
        fn numbers_of_the_profile(value in any::<i32>()) {
            if let Some(count) = accepted_or_refused(table_count("tableCount", value), "tableCount") {
                prop_assert!(count >= 1);
            }
            if let Some(hour) = accepted_or_refused(closeout_hour("closeoutHour", value), "closeoutHour") {
                prop_assert!((0..=23).contains(&hour));
            }
        }
    }
}
