//! Business days: every `Date` in the API is a day of the store's own
//! calendar, never the server's. A store's business day runs from its
//! closeout hour (local, 0–23) to the same hour the next day, so a bar with
//! closeout hour 4 counts its 01:30 sale for the evening before.

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::{Error, Result};

/// The longest range a report or listing may cover.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A range of days `from..=to` as clients may ask for it: in order, and at
/// most 366 days (`BAD_USER_INPUT` otherwise).
pub fn check_range(from: NaiveDate, to: NaiveDate) -> Result<()> {
    if from > to {
        return Err(Error::bad_input("from", "must not be after `to`"));
    }
    if (to - from).num_days() + 1 > MAX_RANGE_DAYS {
        return Err(Error::bad_input(
            "to",
            format!("the range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok(())
}

/// Where a store's days are counted: its time zone and closeout hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessCalendar {
    tz: Tz,
    closeout_hour: u32,
}

impl BusinessCalendar {
    /// From the store's stored values; a stored value out of range is an
    /// internal error (the store subgraph validates both).
    pub fn new(timezone: &str, closeout_hour: i32) -> Result<Self> {
        let tz: Tz = timezone.parse().map_err(|_| {
            Error::internal(anyhow::anyhow!("stored time zone {timezone:?} is invalid"))
        })?;
        let closeout_hour = u32::try_from(closeout_hour)
            .ok()
            .filter(|h| *h < 24)
            .ok_or_else(|| {
                Error::internal(anyhow::anyhow!(
                    "stored closeout hour {closeout_hour} is not 0-23"
                ))
            })?;
        Ok(BusinessCalendar { tz, closeout_hour })
    }

    /// The business day `instant` belongs to: the local date of the instant
    /// minus the closeout hour.
    pub fn business_date(&self, instant: DateTime<Utc>) -> NaiveDate {
        (instant.with_timezone(&self.tz).naive_local()
            - Duration::hours(i64::from(self.closeout_hour)))
        .date()
    }

    /// The instants `[start, end)` of the business days `from..=to`.
    /// `from` after `to`, or more than 366 days, is `BAD_USER_INPUT`.
    pub fn range(&self, from: NaiveDate, to: NaiveDate) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
        check_range(from, to)?;
        let end_day = to
            .checked_add_days(Days::new(1))
            .ok_or_else(|| Error::bad_input("to", "is out of range"))?;
        Ok((self.start_of(from)?, self.start_of(end_day)?))
    }

    /// The first instant of business day `day`. Where a DST change skips
    /// the closeout hour, the day starts at the first instant that exists.
    fn start_of(&self, day: NaiveDate) -> Result<DateTime<Utc>> {
        let turn = day
            .and_hms_opt(self.closeout_hour, 0, 0)
            .expect("BUG: the closeout hour is 0-23");
        (0..=3)
            .find_map(|hour| {
                self.tz
                    .from_local_datetime(&(turn + Duration::hours(hour)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| Error::internal(anyhow::anyhow!("no start of day {day} in {}", self.tz)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("instant")
    }

    fn calendar(tz: &str, hour: i32) -> BusinessCalendar {
        BusinessCalendar::new(tz, hour).expect("calendar")
    }

    #[test]
    fn a_seoul_day_starts_at_fifteen_utc_the_day_before() {
        let (start, end) = calendar("Asia/Seoul", 0)
            .range(day("2026-11-24"), day("2026-11-24"))
            .expect("range");
        assert_eq!(start, at("2026-11-23T15:00:00Z"));
        assert_eq!(end, at("2026-11-24T15:00:00Z"));
    }

    #[test]
    fn with_closeout_at_four_half_past_one_belongs_to_the_evening_before() {
        let bar = calendar("Asia/Seoul", 4);
        // 01:30 and 04:30 on the 25th in Seoul.
        assert_eq!(
            bar.business_date(at("2026-11-24T16:30:00Z")),
            day("2026-11-24")
        );
        assert_eq!(
            bar.business_date(at("2026-11-24T19:30:00Z")),
            day("2026-11-25")
        );
        let (start, end) = bar
            .range(day("2026-11-24"), day("2026-11-24"))
            .expect("range");
        assert_eq!(
            start,
            at("2026-11-23T19:00:00Z"),
            "04:00 on the 24th in Seoul"
        );
        assert_eq!(end, at("2026-11-24T19:00:00Z"));
    }

    #[test]
    fn another_time_zone_has_its_own_days() {
        let instant = at("2026-11-23T16:00:00Z");
        assert_eq!(
            calendar("Asia/Seoul", 0).business_date(instant),
            day("2026-11-24")
        );
        assert_eq!(calendar("UTC", 0).business_date(instant), day("2026-11-23"));
        assert_eq!(
            calendar("America/New_York", 0).business_date(instant),
            day("2026-11-23")
        );
    }

    #[test]
    fn a_day_whose_closeout_hour_a_dst_change_skips_starts_when_time_resumes() {
        // Paris skipped 02:00-03:00 on 2026-03-29.
        let (start, _) = calendar("Europe/Paris", 2)
            .range(day("2026-03-29"), day("2026-03-29"))
            .expect("range");
        assert_eq!(start, at("2026-03-29T01:00:00Z"), "03:00 CEST");
    }

    #[test]
    fn ranges_are_ordered_and_at_most_366_days() {
        let utc = calendar("UTC", 0);
        assert!(utc.range(day("2026-02-02"), day("2026-02-01")).is_err());
        assert!(utc.range(day("2025-01-01"), day("2026-01-01")).is_ok());
        assert!(utc.range(day("2025-01-01"), day("2026-01-02")).is_err());
    }

    #[test]
    fn stored_values_out_of_range_are_refused() {
        assert!(BusinessCalendar::new("Mars/Olympus", 0).is_err());
        assert!(BusinessCalendar::new("UTC", 24).is_err());
        assert!(BusinessCalendar::new("UTC", -1).is_err());
    }
}
