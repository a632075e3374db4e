//! Recurring dates for tasks and routines: an RRULE (expanded by the `rrule` crate) on dates,
//! with an optional wall-clock time placed in the owner's time zone. Pure: no I/O.
//!
//! Rules recur at most daily; the time of day is a separate field, so a rule cannot carry
//! BYHOUR/BYMINUTE/BYSECOND. A monthly rule that starts on day 29-31 falls on the last day of
//! shorter months (never spilling into the next month), and a yearly rule from 29 February
//! falls on 28 February in common years.

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, Unvalidated};

/// At most this many occurrences per query.
pub const MAX_COUNT: usize = 366;

/// `?from=&count=` of a series' preview, for tasks and routines alike.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OccurrenceParams {
    /// First date to consider (default: a task's current due date, a routine's today).
    pub from: Option<NaiveDate>,
    /// How many (1 to 366, default 10).
    #[param(minimum = 1, maximum = 366)]
    pub count: Option<usize>,
}

impl OccurrenceParams {
    pub fn count(&self) -> Result<usize, crate::http::problem::ApiError> {
        match self.count {
            None => Ok(10),
            Some(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
            Some(_) => Err(crate::http::problem::ApiError::field(
                "count",
                format!("must be a whole number from 1 to {MAX_COUNT}"),
            )),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurrence {
    pub date: NaiveDate,
    /// The instant, when the series has a time of day.
    pub at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug)]
pub struct Series<'a> {
    pub rule: &'a str,
    pub start: NaiveDate,
    pub time: Option<NaiveTime>,
    pub zone: Tz,
}

/// Checks a rule on its own; the error says what is wrong in a sentence.
pub fn validate(rule: &str) -> Result<(), String> {
    let upper = rule.trim().to_ascii_uppercase();
    if upper.is_empty() || upper.len() > 500 {
        return Err("must be an RRULE of at most 500 characters, e.g. FREQ=WEEKLY;BYDAY=MO".into());
    }
    if upper.starts_with("RRULE:") || upper.contains("DTSTART") || upper.contains('\n') {
        return Err(
            "give only the rule's parts, e.g. FREQ=WEEKLY;BYDAY=MO (the start is the due date)"
                .into(),
        );
    }
    for part in ["BYHOUR", "BYMINUTE", "BYSECOND"] {
        if upper.contains(part) {
            return Err(format!(
                "{part} is not supported: set the time of day separately"
            ));
        }
    }
    let parsed: RRule<Unvalidated> = upper
        .parse()
        .map_err(|e| format!("is not a valid RRULE: {e}"))?;
    if matches!(
        parsed.get_freq(),
        Frequency::Hourly | Frequency::Minutely | Frequency::Secondly
    ) {
        return Err("may repeat at most daily".into());
    }
    // Building checks the rule against a start; any date serves.
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    anchor(&normalize(&upper, start), start)?;
    Ok(())
}

fn has_any(rule: &str, parts: &[&str]) -> bool {
    rule.split(';')
        .any(|p| parts.iter().any(|k| p.starts_with(&format!("{k}="))))
}

/// Month-end handling: the day of the start, or the last day of a shorter month.
fn normalize(rule: &str, start: NaiveDate) -> String {
    // Dates stand at noon UTC (see `anchor`), so UNTIL is read as the end of its day in UTC.
    let mut rule = rule
        .trim()
        .trim_end_matches(';')
        .to_ascii_uppercase()
        .split(';')
        .map(|part| match part.strip_prefix("UNTIL=") {
            Some(v) if v.len() == 8 => format!("UNTIL={v}T235959Z"),
            Some(v) if !v.ends_with('Z') => format!("UNTIL={v}Z"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";");
    let explicit = has_any(
        &rule,
        &[
            "BYMONTHDAY",
            "BYDAY",
            "BYSETPOS",
            "BYYEARDAY",
            "BYWEEKNO",
            "BYMONTH",
        ],
    );
    let freq = rule
        .split(';')
        .find_map(|p| p.strip_prefix("FREQ="))
        .unwrap_or("")
        .to_owned();
    if !explicit && freq == "MONTHLY" && start.day() >= 29 {
        let days: Vec<String> = (28..=start.day()).map(|d| d.to_string()).collect();
        rule.push_str(&format!(";BYMONTHDAY={};BYSETPOS=-1", days.join(",")));
    } else if !explicit && freq == "YEARLY" && start.month() == 2 && start.day() == 29 {
        rule.push_str(";BYMONTH=2;BYMONTHDAY=28,29;BYSETPOS=-1");
    }
    rule
}

fn until(rule: &str) -> Option<NaiveDate> {
    let upper = rule.to_ascii_uppercase();
    let value = upper
        .split(';')
        .find_map(|p| p.trim().strip_prefix("UNTIL="))?;
    NaiveDate::parse_from_str(value.get(..8)?, "%Y%m%d").ok()
}

/// The rule expanded on dates: noon UTC stands for a whole day, so zones cannot move a date.
fn anchor(rule: &str, start: NaiveDate) -> Result<rrule::RRuleSet, String> {
    let parsed: RRule<Unvalidated> = rule
        .parse()
        .map_err(|e| format!("is not a valid RRULE: {e}"))?;
    let noon = rrule::Tz::UTC.from_utc_datetime(&start.and_hms_opt(12, 0, 0).unwrap());
    parsed
        .build(noon)
        .map_err(|e| format!("is not a valid RRULE: {e}"))
}

/// The local date and time as an instant: an ambiguous time (clocks going back) is the first
/// of the two; a time that does not exist (clocks going forward) is read with the offset in
/// force before the gap, so it lands as far past the gap's end as it was past its start (New
/// York 02:30 on the day clocks go forward is 03:30 EDT). This is RFC 5545 §3.3.5's reading,
/// the one calendar clients use; §3.3.10 would drop such an instance of a recurrence, but
/// tasks, routines, rules, Smart Add and calendars all keep it, with this one rule.
pub fn place(date: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let local = date.and_time(time);
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // A day before the wall-clock time is before the gap: zones change offset at most
            // a few times a year.
            let before = zone
                .offset_from_utc_datetime(&(local - chrono::Duration::days(1)))
                .fix();
            (local - chrono::Duration::seconds(i64::from(before.local_minus_utc()))).and_utc()
        }
    }
}

impl Series<'_> {
    /// Up to `count` occurrences on or after `from`, skipping `except`.
    pub fn occurrences(
        &self,
        from: NaiveDate,
        count: usize,
        except: &[NaiveDate],
    ) -> Result<Vec<Occurrence>, String> {
        let count = count.min(MAX_COUNT);
        if until(self.rule).is_some_and(|end| end < self.start) {
            return Ok(Vec::new()); // the series ended before it began
        }
        let set = anchor(&normalize(self.rule, self.start), self.start)?;
        let mut out = Vec::with_capacity(count);
        // The iterator is lazy; bound the scan so that a rule with rare dates cannot spin.
        for dt in set.into_iter().take(100_000) {
            let date = dt.date_naive();
            if date < from || except.contains(&date) {
                continue;
            }
            out.push(Occurrence {
                date,
                at: self.time.map(|t| place(date, t, self.zone)),
            });
            if out.len() >= count {
                break;
            }
        }
        Ok(out)
    }

    /// Whether the series has an occurrence on `date` (an invalid rule has none).
    pub fn occurs_on(&self, date: NaiveDate) -> bool {
        self.occurrences(date, 1, &[])
            .is_ok_and(|o| o.first().is_some_and(|o| o.date == date))
    }

    /// The first occurrence strictly after `date`.
    pub fn next_after(
        &self,
        date: NaiveDate,
        except: &[NaiveDate],
    ) -> Result<Option<Occurrence>, String> {
        let Some(from) = date.succ_opt() else {
            return Ok(None);
        };
        Ok(self.occurrences(from, 1, except)?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn dates(rule: &str, start: NaiveDate, n: usize) -> Vec<NaiveDate> {
        let s = Series {
            rule,
            start,
            time: None,
            zone: Tz::UTC,
        };
        s.occurrences(start, n, &[])
            .unwrap()
            .into_iter()
            .map(|o| o.date)
            .collect()
    }

    #[test]
    fn month_end_clamps_and_never_overflows() {
        assert_eq!(
            dates("FREQ=MONTHLY", d(2027, 1, 31), 4),
            [
                d(2027, 1, 31),
                d(2027, 2, 28),
                d(2027, 3, 31),
                d(2027, 4, 30)
            ]
        );
        assert_eq!(
            dates("FREQ=MONTHLY", d(2028, 1, 30), 3),
            [d(2028, 1, 30), d(2028, 2, 29), d(2028, 3, 30)]
        );
        assert_eq!(
            dates("FREQ=MONTHLY;BYMONTHDAY=-1", d(2027, 1, 10), 2),
            [d(2027, 1, 31), d(2027, 2, 28)]
        );
        assert_eq!(
            dates("FREQ=YEARLY", d(2028, 2, 29), 3),
            [d(2028, 2, 29), d(2029, 2, 28), d(2030, 2, 28)]
        );
    }

    #[test]
    fn rules_that_are_not_ours_are_refused() {
        for bad in [
            "",
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9",
            "RRULE:FREQ=DAILY",
            "FREQ=SOMETIMES",
            "DTSTART:20260101\nRRULE:FREQ=DAILY",
        ] {
            assert!(validate(bad).is_err(), "{bad}");
        }
        for good in [
            "FREQ=DAILY",
            "freq=weekly;byday=mo,we",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=WEEKLY;INTERVAL=2;COUNT=5",
            "FREQ=DAILY;UNTIL=20271231",
        ] {
            assert!(validate(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn wall_clock_time_holds_across_dst() {
        let zone: Tz = "Europe/Berlin".parse().unwrap();
        let s = Series {
            rule: "FREQ=DAILY",
            start: d(2027, 3, 26),
            time: NaiveTime::from_hms_opt(9, 0, 0),
            zone,
        };
        let occ = s.occurrences(d(2027, 3, 26), 4, &[]).unwrap();
        let hours_utc: Vec<u32> = occ.iter().map(|o| o.at.unwrap().hour()).collect();
        // 09:00 in Berlin is 08:00 UTC before the switch on 28 March and 07:00 after.
        assert_eq!(hours_utc, [8, 8, 7, 7]);
        // 02:30 does not exist on the switch day: read with the offset before the gap (CET),
        // it is 03:30 CEST.
        let gap = place(
            d(2027, 3, 28),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            zone,
        );
        assert_eq!(
            gap.with_timezone(&zone).time(),
            NaiveTime::from_hms_opt(3, 30, 0).unwrap()
        );
        // RFC 5545 §3.3.5's own example: New York 02:30 on the day clocks go forward.
        let new_york: Tz = "America/New_York".parse().unwrap();
        let rfc = place(
            d(2007, 3, 11),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            new_york,
        );
        assert_eq!(rfc.to_rfc3339(), "2007-03-11T07:30:00+00:00");
        // 02:30 happens twice when clocks go back: the first one.
        let twice = place(
            d(2027, 10, 31),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
            zone,
        );
        assert_eq!(twice.hour(), 0);
    }

    const ZONES: &[&str] = &[
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
    ];
    const RULES: &[&str] = &[
        "FREQ=DAILY",
        "FREQ=DAILY;INTERVAL=3",
        "FREQ=WEEKLY;BYDAY=MO,TH",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;BYMONTHDAY=-1",
        "FREQ=MONTHLY;BYDAY=-1FR",
        "FREQ=YEARLY",
        "FREQ=WEEKLY;INTERVAL=2;COUNT=7",
        "FREQ=DAILY;UNTIL=20300101",
    ];

    proptest! {
        #[test]
        fn occurrences_hold_their_promises(
            rule in prop::sample::select(RULES),
            zone in prop::sample::select(ZONES),
            start_offset in 0i64..3000,
            from_offset in 0i64..400,
            hour in 0u32..24,
            minute in prop::sample::select(&[0u32, 15, 30, 45][..]),
            except_every in 2usize..6,
        ) {
            let start = d(2024, 1, 1) + chrono::Duration::days(start_offset);
            let from = start + chrono::Duration::days(from_offset);
            let zone: Tz = zone.parse().unwrap();
            let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap();
            let series = Series { rule, start, time: Some(time), zone };
            let all = series.occurrences(start, 60, &[]).unwrap();
            let except: Vec<NaiveDate> = all.iter().step_by(except_every).map(|o| o.date).collect();
            let got = series.occurrences(from, 30, &except).unwrap();

            for pair in got.windows(2) {
                prop_assert!(pair[0].date < pair[1].date, "strictly increasing");
                prop_assert!(pair[0].at.unwrap() < pair[1].at.unwrap());
            }
            for o in &got {
                prop_assert!(o.date >= from && o.date >= start);
                prop_assert!(!except.contains(&o.date), "EXDATE respected");
                let local = o.at.unwrap().with_timezone(&zone);
                prop_assert_eq!(local.date_naive(), o.date);
                // The wall-clock time holds (a repeated hour gives its first instance) unless it
                // falls into a DST gap, where it moves forward.
                match zone.from_local_datetime(&o.date.and_time(time)) {
                    LocalResult::None => prop_assert!(local.time() > time),
                    _ => prop_assert_eq!(local.time(), time),
                }
            }
            if rule.contains("COUNT=7") {
                prop_assert!(all.len() <= 7);
            }
            if rule.contains("UNTIL=20300101") {
                prop_assert!(got.iter().all(|o| o.date <= d(2030, 1, 1)));
            }
            if rule == "FREQ=MONTHLY" {
                // One per month, on the start's day or the month's last day.
                for pair in all.windows(2) {
                    let months = (pair[1].date.year() - pair[0].date.year()) * 12 + pair[1].date.month() as i32 - pair[0].date.month() as i32;
                    prop_assert_eq!(months, 1);
                }
                for o in &all {
                    let last = (o.date + chrono::Months::new(1)).with_day(1).unwrap().pred_opt().unwrap().day();
                    prop_assert_eq!(o.date.day(), start.day().min(last));
                }
            }
        }
    }

    const ALL_ZONES: &[&str] = &[
        "UTC",
        "Europe/Berlin",
        "Europe/London",
        "America/New_York",
        "America/Sao_Paulo",
        "America/Havana",
        "Australia/Sydney",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "Asia/Kolkata",
        "Asia/Tehran",
        "Pacific/Apia",
    ];

    proptest! {
        #[test]
        fn place_keeps_the_wall_clock_or_moves_it_by_the_gap(
            zone in prop::sample::select(ALL_ZONES),
            day in 0i64..(366 * 30),
            minute_of_day in 0u32..(24 * 60),
        ) {
            let zone: Tz = zone.parse().unwrap();
            let date = d(2000, 1, 1) + chrono::Duration::days(day);
            let time = NaiveTime::from_hms_opt(minute_of_day / 60, minute_of_day % 60, 0).unwrap();
            let input = date.and_time(time);
            let at = place(date, time, zone);
            let local = at.with_timezone(&zone).naive_local();
            match zone.from_local_datetime(&input) {
                LocalResult::Single(_) => prop_assert_eq!(local, input),
                LocalResult::Ambiguous(first, _) => {
                    prop_assert_eq!(local, input);
                    prop_assert_eq!(at, first.with_timezone(&Utc));
                }
                LocalResult::None => {
                    // The offset before the gap is in force a few hours before the result.
                    let offset = |t: DateTime<Utc>| {
                        i64::from(zone.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc())
                    };
                    let gap = offset(at) - offset(at - chrono::Duration::hours(3));
                    prop_assert!(gap > 0, "a gap moves clocks forward");
                    prop_assert_eq!(local, input + chrono::Duration::seconds(gap));
                }
            }
        }
    }
}
