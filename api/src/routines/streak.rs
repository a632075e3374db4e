//! Streaks of a routine, from its scheduled dates and what was recorded for them. Pure.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Skipped,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Streak {
    /// Done occurrences in a row up to today; skips neither break nor extend it, and today's
    /// occurrence does not break it while the day lasts.
    pub current: u32,
    pub longest: u32,
    pub done_total: u32,
}

/// `scheduled` holds the series' dates up to and including `today`, ascending.
pub fn compute(
    scheduled: &[NaiveDate],
    recorded: &HashMap<NaiveDate, Outcome>,
    today: NaiveDate,
) -> Streak {
    let mut streak = Streak::default();
    let mut run = 0;
    for date in scheduled.iter().filter(|d| **d <= today) {
        match recorded.get(date) {
            Some(Outcome::Done) => {
                run += 1;
                streak.done_total += 1;
                streak.longest = streak.longest.max(run);
            }
            Some(Outcome::Skipped) => {}
            None if *date == today => {}
            None => run = 0,
        }
    }
    streak.current = run;
    streak
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(n: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap() + chrono::Duration::days(n)
    }

    #[test]
    fn misses_break_skips_do_not_and_today_is_open() {
        let dates: Vec<NaiveDate> = (0..6).map(day).collect();
        let rec = HashMap::from([
            (day(0), Outcome::Done),
            (day(1), Outcome::Done),
            (day(3), Outcome::Done),
            (day(4), Outcome::Skipped),
        ]);
        // Day 2 was missed; day 5 is today and still open.
        assert_eq!(
            compute(&dates, &rec, day(5)),
            Streak {
                current: 1,
                longest: 2,
                done_total: 3
            }
        );
        // A day later, day 5 was missed.
        let dates: Vec<NaiveDate> = (0..7).map(day).collect();
        assert_eq!(compute(&dates, &rec, day(6)).current, 0);
    }

    proptest! {
        #[test]
        fn streak_bounds(outcomes in prop::collection::vec(0u8..3, 0..60)) {
            let dates: Vec<NaiveDate> = (0..outcomes.len() as i64).map(day).collect();
            let rec: HashMap<NaiveDate, Outcome> = outcomes.iter().enumerate().filter_map(|(i, o)| match o {
                0 => Some((day(i as i64), Outcome::Done)),
                1 => Some((day(i as i64), Outcome::Skipped)),
                _ => None,
            }).collect();
            let today = day(outcomes.len() as i64);
            let s = compute(&dates, &rec, today);
            let done = outcomes.iter().filter(|o| **o == 0).count() as u32;
            prop_assert_eq!(s.done_total, done);
            prop_assert!(s.current <= s.longest && s.longest <= done);
            if outcomes.iter().all(|o| *o == 0) {
                prop_assert_eq!(s.current, done);
            }
        }
    }
}
