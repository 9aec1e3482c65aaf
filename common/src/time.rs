//! Calendar days in a store's time zone: every `Date` in the API is a day
//! of the store's own calendar, never the server's.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{Error, Result};

/// The longest range a report or listing may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// The instants `[start, end)` covering the days `from..=to` in `timezone`.
/// `from` after `to`, or more than 366 days, is `BAD_USER_INPUT`.
pub fn day_range(
    timezone: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    if from > to {
        return Err(Error::bad_input("from", "must not be after `to`"));
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(Error::bad_input(
            "to",
            format!("the range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    let tz: Tz = timezone.parse().map_err(|_| {
        Error::internal(anyhow::anyhow!("stored time zone {timezone:?} is invalid"))
    })?;
    let end_day = to
        .checked_add_days(Days::new(1))
        .ok_or_else(|| Error::bad_input("to", "is out of range"))?;
    Ok((start_of_day(tz, from)?, start_of_day(tz, end_day)?))
}

/// The store's calendar day at `instant`.
pub fn local_day(timezone: &str, instant: DateTime<Utc>) -> Result<NaiveDate> {
    let tz: Tz = timezone.parse().map_err(|_| {
        Error::internal(anyhow::anyhow!("stored time zone {timezone:?} is invalid"))
    })?;
    Ok(instant.with_timezone(&tz).date_naive())
}

/// The first instant of `day` in `tz`. Where a DST change skips midnight,
/// the day starts at the first instant that exists.
fn start_of_day(tz: Tz, day: NaiveDate) -> Result<DateTime<Utc>> {
    let midnight = day.and_hms_opt(0, 0, 0).expect("BUG: midnight exists");
    (0..=3)
        .find_map(|hour| {
            tz.from_local_datetime(&(midnight + chrono::Duration::hours(hour)))
                .earliest()
        })
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| Error::internal(anyhow::anyhow!("no start of day {day} in {tz}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn a_seoul_day_starts_at_fifteen_utc_the_day_before() {
        let (start, end) =
            day_range("Asia/Seoul", day("2026-11-24"), day("2026-11-24")).expect("range");
        assert_eq!(start.to_rfc3339(), "2026-11-23T15:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-24T15:00:00+00:00");
    }

    #[test]
    fn ranges_are_ordered_and_at_most_366_days() {
        assert!(day_range("UTC", day("2026-02-02"), day("2026-02-01")).is_err());
        assert!(day_range("UTC", day("2025-01-01"), day("2026-01-01")).is_ok());
        assert!(day_range("UTC", day("2025-01-01"), day("2026-01-02")).is_err());
    }

    #[test]
    fn local_days_follow_the_time_zone() {
        let instant: DateTime<Utc> = "2026-11-23T16:00:00Z".parse().expect("instant");
        assert_eq!(
            local_day("Asia/Seoul", instant).expect("day"),
            day("2026-11-24")
        );
        assert_eq!(local_day("UTC", instant).expect("day"), day("2026-11-23"));
    }
}
