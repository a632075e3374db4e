//! When a `schedule` rule fires: its time on its weekdays in the owner's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use crate::recurrence::place;

/// The instant a schedule fires on `date`, if it fires that day: `time` in `zone`, read with the
/// offset before the gap when clocks go forward over it (so as far past the gap as it was into
/// it), the first of the two when they go back.
pub fn fire_at(
    date: NaiveDate,
    time: &str,
    days: &[i64],
    zone: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    let weekday = i64::from(date.weekday().number_from_monday());
    if !days.contains(&weekday) {
        return None;
    }
    let time = NaiveTime::parse_from_str(time, "%H:%M").ok()?;
    Some(place(date, time, zone))
}

/// The schedule's first local date and instant at or after `after`.
pub fn next_fire(
    time: &str,
    days: &[i64],
    zone: chrono_tz::Tz,
    after: DateTime<Utc>,
) -> Option<(NaiveDate, DateTime<Utc>)> {
    let today = after.with_timezone(&zone).date_naive();
    (-1..=8)
        .map(|d| today + Duration::days(d))
        .filter_map(|date| Some((date, fire_at(date, time, days, zone)?)))
        .find(|(_, instant)| *instant >= after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn schedules_fire_at_their_local_time_across_daylight_saving_changes() {
        let london = chrono_tz::Europe::London;
        let all = [1, 2, 3, 4, 5, 6, 7];
        let date = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Winter: 07:30 is 07:30 UTC; summer: 06:30 UTC.
        assert_eq!(
            fire_at(date("2027-01-04"), "07:30", &all, london),
            Some(utc("2027-01-04T07:30:00Z"))
        );
        assert_eq!(
            fire_at(date("2027-06-07"), "07:30", &all, london),
            Some(utc("2027-06-07T06:30:00Z"))
        );
        // 2027-03-28 01:30 does not exist in London (01:00 GMT jumps to 02:00 BST): read in GMT,
        // the offset before the gap, it fires at 02:30 BST.
        assert_eq!(
            fire_at(date("2027-03-28"), "01:30", &all, london),
            Some(utc("2027-03-28T01:30:00Z"))
        );
        assert_eq!(
            fire_at(date("2027-03-28"), "01:59", &all, london),
            Some(utc("2027-03-28T01:59:00Z"))
        );
        // 2027-10-31 01:30 happens twice: the first one counts, and it fires once.
        assert_eq!(
            fire_at(date("2027-10-31"), "01:30", &all, london),
            Some(utc("2027-10-31T00:30:00Z"))
        );
        assert_eq!(
            next_fire("01:30", &all, london, utc("2027-10-31T00:31:00Z")),
            Some((date("2027-11-01"), utc("2027-11-01T01:30:00Z")))
        );
        // Only on its days: 2027-01-04 is a Monday.
        assert_eq!(fire_at(date("2027-01-04"), "07:30", &[2, 3], london), None);
        assert_eq!(
            next_fire("07:30", &[3], london, utc("2027-01-04T08:00:00Z")),
            Some((date("2027-01-06"), utc("2027-01-06T07:30:00Z")))
        );
        // Later today when its time has not come yet.
        assert_eq!(
            next_fire("07:30", &all, london, utc("2027-01-04T07:00:00Z")),
            Some((date("2027-01-04"), utc("2027-01-04T07:30:00Z")))
        );
    }
}
