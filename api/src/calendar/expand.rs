//! iCalendar (RFC 5545) text to the occurrences of a window of days. Pure: no I/O.
//!
//! The rules, in the order they apply:
//! - Every event is read in its own zone: a `TZID` is an IANA name, a Windows name (Outlook,
//!   Exchange; mapped with CLDR's table in `windows_zones`), a vendor-prefixed IANA name
//!   (`/mozilla.org/…/Europe/Berlin`), or the name of a `VTIMEZONE` of the file, which is then
//!   read from its `X-LIC-LOCATION` or, failing that, from its own `STANDARD`/`DAYLIGHT` rules.
//!   A `TZID` none of these explain is read in the user's zone. `Z` times are UTC; floating
//!   times are read in the user's zone. A calendar's `X-WR-TIMEZONE` (Google) makes its UTC and
//!   floating times wall-clock times of that zone, as Google's own clients read them.
//! - Local times go through [`crate::recurrence::place`], the product's one DST rule: a time in
//!   a gap is read with the offset before it (RFC 5545 §3.3.5), and a generated instance that
//!   falls into a gap is kept (RFC 5545 §3.3.10 would drop it), as calendar clients do.
//! - `RRULE`s are expanded on wall-clock times by the `rrule` crate; `RDATE` adds instances,
//!   `EXDATE` removes them (a date-valued `EXDATE` removes the instances of that day). `UNTIL`
//!   is inclusive: a UTC `UNTIL` bounds the instant, a date bounds the local date.
//! - A `RECURRENCE-ID` event replaces the instance it names, wherever either of them lies, so
//!   an override can move an instance into or out of the window; the latest `SEQUENCE` wins,
//!   and an override older than its series stands only while the series still has the
//!   instance (a series edited later may have dropped it). A date-time `RECURRENCE-ID` names
//!   the instance of that day in an all-day series (Outlook and Google write them so).
//!   `RANGE=THISANDFUTURE` moves every later instance by the same shift and gives them its
//!   length and text.
//! - The length is `DTEND` − `DTSTART` on the wall clock, or `DURATION` (days on the wall
//!   clock, hours exactly), or one day for all-day events and nothing for timed ones.
//! - A timed occurrence is in the window when it overlaps it (an instant one when it starts in
//!   it); an all-day one when its dates overlap the window's dates.
//! - Cancelled occurrences are returned with their status; they and `TRANSP:TRANSPARENT` ones
//!   are never busy. An end before the start is read the other way round.
//! - A file that is not iCalendar, an event without `DTSTART`, a value that is not a date, a
//!   `DURATION` or an `RRULE` that cannot be read: an [`ExpandError`] naming the event and the
//!   property. Unknown properties are ignored, and so are components other than calendars,
//!   events, to-dos, journals, free/busy, time zones and alarms (with all they contain).
//!
//! A series is scanned for at most [`MAX_SCAN`] instances from its start, so a rule repeating
//! every minute for decades cannot stall expansion; later instances are not seen. A whole file
//! may scan at most [`MAX_FILE_SCAN`] instances and take at most [`TIME_LIMIT`]: past either, it
//! is refused as too complex, so that no calendar can hold a server's CPU.

use std::collections::{HashMap, HashSet};
use std::io::BufReader;

use chrono::{
    DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, SecondsFormat,
    TimeZone, Utc,
};
use chrono_tz::Tz;
use ical::parser::ical::component::{IcalEvent, IcalTimeZone};
use ical::property::Property;
use rrule::{RRule, Unvalidated};
use serde::Serialize;

use super::windows_zones;

/// The instances of one series scanned at most, from its start.
pub const MAX_SCAN: usize = 100_000;
/// The instances of all series of one file scanned at most.
pub const MAX_FILE_SCAN: usize = 2_000_000;
/// How long expanding one file may take.
pub const TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

/// When an occurrence starts or ends: a day for all-day events, else an instant with the offset
/// it has in its own zone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum When {
    Date(NaiveDate),
    At(DateTime<FixedOffset>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Confirmed,
    Tentative,
    Cancelled,
}

/// One occurrence of an event within the window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Occurrence {
    pub uid: String,
    /// The original start of a recurring instance (RFC 3339, or a date for all-day series).
    pub recurrence_id: Option<String>,
    pub start: When,
    pub end: When,
    pub summary: String,
    pub all_day: bool,
    pub status: Status,
    /// `TRANSP:TRANSPARENT`: shown, never busy.
    #[serde(skip)]
    pub transparent: bool,
}

impl Occurrence {
    /// Whether it blocks time in the planner: timed, not cancelled, not transparent.
    pub fn busy(&self) -> bool {
        !self.all_day && !self.transparent && self.status != Status::Cancelled
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExpandError {
    #[error("not an iCalendar file: {0}")]
    Parse(String),
}

fn bad(message: impl Into<String>) -> ExpandError {
    ExpandError::Parse(message.into())
}

/// The occurrences that overlap `[from, from + days)` in `zone` (floating times are read in
/// `zone`), sorted by start.
pub fn expand(
    ics: &str,
    from: NaiveDate,
    days: u32,
    zone: Tz,
) -> Result<Vec<Occurrence>, ExpandError> {
    // Values are read up to year 9999: the window is held within years 1 to 10000, where every
    // zone conversion stays inside chrono's range.
    let (first_day, last_day) = (
        NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN),
        NaiveDate::from_ymd_opt(10_000, 1, 1).unwrap_or(NaiveDate::MAX),
    );
    let from = from.clamp(first_day, last_day);
    let to = from
        .checked_add_days(chrono::Days::new(u64::from(days)))
        .map_or(last_day, |to| to.min(last_day));
    let mut events = Vec::new();
    let mut zones = Vec::new();
    let mut seen_calendar = false;
    let mut calendar_zone = None;
    let known = without_unknown_components(ics);
    for calendar in ical::IcalParser::new(BufReader::new(known.as_bytes())) {
        let calendar = calendar.map_err(|e| bad(e.to_string()))?;
        seen_calendar = true;
        calendar_zone = calendar_zone.or_else(|| {
            property(&calendar.properties, "X-WR-TIMEZONE")
                .and_then(|p| p.value.as_deref())
                .and_then(iana)
        });
        events.extend(calendar.events);
        zones.extend(calendar.timezones);
    }
    if !seen_calendar {
        return Err(bad("no BEGIN:VCALENDAR"));
    }
    let zones = Zones::new(zone, calendar_zone, &zones);
    let window = Window {
        from,
        to,
        start: zones.place(Zone::Iana(zone), from.and_time(NaiveTime::MIN)),
        end: zones.place(Zone::Iana(zone), to.and_time(NaiveTime::MIN)),
    };

    let events = events
        .iter()
        .map(|e| Event::read(e, &zones))
        .collect::<Result<Vec<_>, _>>()?;

    // Overrides by UID, built once: each instance of a series looks its own up by key.
    let mut overrides: HashMap<&str, Overrides> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        let Some(rid) = &event.recurrence_id else {
            continue;
        };
        let entry = overrides.entry(event.uid.as_str()).or_default();
        let key = zones.key(rid.at);
        match entry.exact.get(&key) {
            Some(&j) if events[j].sequence > event.sequence => {}
            _ => {
                entry.exact.insert(key, i);
            }
        }
        if let Time::Local(t, _) = rid.at {
            // All-day series named by a time (Outlook, Google): the day is meant.
            entry.days.entry(t.date()).or_insert(i);
        }
        if rid.this_and_future {
            entry.future.push((zones.instant(rid.at), i));
        }
    }
    for o in overrides.values_mut() {
        o.future.sort();
    }
    // A repeated master (the same UID and no RECURRENCE-ID) keeps only its latest SEQUENCE;
    // events without a UID are all their own.
    let mut masters: HashMap<&str, usize> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        if event.recurrence_id.is_none() && !event.uid.is_empty() {
            match masters.get(event.uid.as_str()) {
                Some(&j) if events[j].sequence > event.sequence => {}
                _ => {
                    masters.insert(event.uid.as_str(), i);
                }
            }
        }
    }

    let mut out = Vec::new();
    for (i, event) in events.iter().enumerate() {
        if let Some(rid) = &event.recurrence_id {
            let winner = overrides
                .get(event.uid.as_str())
                .and_then(|o| o.exact.get(&zones.key(rid.at)));
            if winner != Some(&i) {
                continue;
            }
            let master = masters.get(event.uid.as_str()).map(|&m| &events[m]);
            // Named as the series names its instances.
            let original = match (master.and_then(|m| m.start), rid.at) {
                (Some(Time::Local(_, zone)), t @ Time::Local(..)) => {
                    Time::Local(zones.wall(t, zone), zone)
                }
                (Some(Time::Date(_)), Time::Local(t, _)) => Time::Date(t.date()),
                (_, t) => t,
            };
            let start = event.start.unwrap_or(rid.at);
            let occurrence = event.occurrence(start, None, Some(original), &zones);
            if !window.holds(&occurrence, &zones) {
                continue;
            }
            // An override older than its series' latest version stands only while the series
            // still has the instance it names.
            let outdated = match master {
                Some(m) if m.sequence > event.sequence => !m.produces(rid.at, &zones)?,
                _ => false,
            };
            if !outdated {
                out.push(occurrence);
            }
        } else if event.uid.is_empty() || masters.get(event.uid.as_str()) == Some(&i) {
            let empty = Overrides::default();
            let own = overrides.get(event.uid.as_str()).unwrap_or(&empty);
            event.expand_into(&events, own, &window, &zones, &mut out)?;
        }
    }
    out.sort_by_cached_key(|o| {
        (
            zones.sort_key(&o.start),
            o.uid.clone(),
            zones.sort_key(&o.end),
        )
    });
    Ok(out)
}

/// The text without the components the parser refuses (`VAVAILABILITY`, RFC 9073's
/// `VLOCATION`, vendors' `X-` components): they say nothing about when events happen.
fn without_unknown_components(ics: &str) -> std::borrow::Cow<'_, str> {
    const KNOWN: &[&str] = &[
        "VCALENDAR",
        "VEVENT",
        "VTODO",
        "VJOURNAL",
        "VFREEBUSY",
        "VTIMEZONE",
        "STANDARD",
        "DAYLIGHT",
        "VALARM",
    ];
    let component = |line: &str, tag: &str| {
        let line = line.trim_end();
        line.get(..tag.len())
            .filter(|head| head.eq_ignore_ascii_case(tag))
            .map(|_| line[tag.len()..].trim().to_ascii_uppercase())
    };
    let unknown =
        |line: &str| component(line, "BEGIN:").is_some_and(|name| !KNOWN.contains(&name.as_str()));
    if !ics.lines().any(unknown) {
        return std::borrow::Cow::Borrowed(ics);
    }
    let mut out = String::with_capacity(ics.len());
    let mut depth = 0usize;
    for line in ics.split_inclusive('\n') {
        if depth > 0 {
            if component(line, "BEGIN:").is_some() {
                depth += 1;
            } else if component(line, "END:").is_some() {
                depth -= 1;
            }
        } else if unknown(line) {
            depth = 1;
        } else {
            out.push_str(line);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The overrides of one UID: by the instance they replace, and those that also replace every
/// later instance, by the instant of the instance they start from.
#[derive(Default)]
struct Overrides {
    exact: HashMap<Key, usize>,
    /// The days of the date-time ones.
    days: HashMap<NaiveDate, usize>,
    future: Vec<(DateTime<Utc>, usize)>,
}

/// What names an instance: its start instant, or its day for all-day series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Key {
    Date(NaiveDate),
    At(i64),
}

struct Window {
    from: NaiveDate,
    to: NaiveDate,
    start: DateTime<FixedOffset>,
    end: DateTime<FixedOffset>,
}

impl Window {
    fn holds(&self, o: &Occurrence, zones: &Zones) -> bool {
        match (&o.start, &o.end) {
            (When::Date(s), When::Date(e)) => overlaps(*s, *e, self.from, self.to),
            _ => {
                let (s, e) = (zones.instant(o.start.time()), zones.instant(o.end.time()));
                let (from, to) = (self.start.with_timezone(&Utc), self.end.with_timezone(&Utc));
                overlaps(s, e, from, to)
            }
        }
    }
}

/// `[start, end)` overlaps `[from, to)`; an empty span when it starts inside.
fn overlaps<T: Ord>(start: T, end: T, from: T, to: T) -> bool {
    if end <= start {
        start >= from && start < to
    } else {
        start < to && end > from
    }
}

/// A start or end as written: a day, or a wall-clock time in a zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Time {
    Date(NaiveDate),
    Local(NaiveDateTime, Zone),
}

impl When {
    fn time(&self) -> Time {
        match self {
            When::Date(d) => Time::Date(*d),
            When::At(t) => Time::Local(t.naive_utc(), Zone::Iana(Tz::UTC)),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Zone {
    Iana(Tz),
    /// A `VTIMEZONE` of the file read from its own rules, by index.
    Defined(usize),
}

/// An event's length.
#[derive(Clone, Copy, Debug)]
enum Length {
    Days(i64),
    /// On the wall clock (`DTEND` − `DTSTART`).
    Wall(Duration),
    /// `DURATION`: days on the wall clock, then an exact time.
    Nominal {
        days: i64,
        exact: Duration,
    },
}

#[derive(Clone, Copy, Debug)]
struct RecurrenceId {
    at: Time,
    this_and_future: bool,
}

struct Event {
    uid: String,
    summary: String,
    status: Status,
    transparent: bool,
    sequence: i64,
    start: Option<Time>,
    length: Length,
    rrules: Vec<String>,
    rdates: Vec<(Time, Option<Time>)>,
    exdates: Vec<Time>,
    recurrence_id: Option<RecurrenceId>,
}

fn property<'a>(props: &'a [Property], name: &str) -> Option<&'a Property> {
    props.iter().find(|p| p.name == name)
}

fn param<'a>(p: &'a Property, key: &str) -> Option<&'a str> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.first())
        .map(|v| v.trim())
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Event {
    fn read(e: &IcalEvent, zones: &Zones) -> Result<Event, ExpandError> {
        let props = &e.properties;
        let uid = property(props, "UID")
            .and_then(|p| p.value.clone())
            .unwrap_or_default();
        let context = |what: &str, err: String| {
            bad(format!(
                "event {}: {what}: {err}",
                if uid.is_empty() { "without UID" } else { &uid }
            ))
        };
        let time_of = |name: &str| -> Result<Option<Time>, ExpandError> {
            match property(props, name) {
                None => Ok(None),
                Some(p) => {
                    let value = p.value.as_deref().unwrap_or("");
                    zones
                        .time(p, value.trim())
                        .map(Some)
                        .map_err(|err| context(name, err))
                }
            }
        };
        let end = time_of("DTEND")?;
        let duration = match property(props, "DURATION").and_then(|p| p.value.as_deref()) {
            None => None,
            Some(v) => Some(parse_duration(v).ok_or_else(|| {
                context("DURATION", format!("{v:?} is not a duration like PT1H"))
            })?),
        };
        // A day that ends at a time of day, or lasts hours, starts at midnight.
        let start = match (time_of("DTSTART")?, end, duration) {
            (Some(Time::Date(d)), Some(Time::Local(_, zone)), _) => {
                Some(Time::Local(d.and_time(NaiveTime::MIN), zone))
            }
            (Some(Time::Date(d)), None, Some((_, exact))) if !exact.is_zero() => {
                Some(Time::Local(d.and_time(NaiveTime::MIN), zones.zone(None)))
            }
            (start, ..) => start,
        };
        let recurrence_id = match property(props, "RECURRENCE-ID") {
            None => None,
            Some(p) => Some(RecurrenceId {
                at: zones
                    .time(p, p.value.as_deref().unwrap_or("").trim())
                    .map_err(|err| context("RECURRENCE-ID", err))?,
                this_and_future: param(p, "RANGE")
                    .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE")),
            }),
        };
        if start.is_none() && recurrence_id.is_none() {
            return Err(context("DTSTART", "missing".into()));
        }
        let all_day = matches!(start.or(recurrence_id.map(|r| r.at)), Some(Time::Date(_)));
        let length = match (start, end, duration) {
            (Some(Time::Date(s)), Some(Time::Date(e)), _) => Length::Days((e - s).num_days()),
            (Some(s @ Time::Local(_, zone)), Some(e), _) => {
                let s = zones.wall(s, zone);
                let e = zones.wall(e, zone);
                Length::Wall(e - s)
            }
            (Some(Time::Date(_)), Some(Time::Local(..)), _) => Length::Days(1),
            (_, None, Some((days, exact))) if all_day => Length::Days(days + exact.num_days()),
            (_, None, Some((days, exact))) => Length::Nominal { days, exact },
            _ if all_day => Length::Days(1),
            _ => Length::Wall(Duration::zero()),
        };
        let mut rrules = Vec::new();
        let mut rdates = Vec::new();
        let mut exdates = Vec::new();
        for p in props {
            let value = p.value.as_deref().unwrap_or("").trim();
            match p.name.as_str() {
                "RRULE" if !value.is_empty() => rrules.push(value.to_ascii_uppercase()),
                "RDATE" | "EXDATE" => {
                    for item in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
                        let (first, second) = match item.split_once('/') {
                            Some((a, b)) => (a, Some(b)),
                            None => (item, None),
                        };
                        let at = zones.time(p, first).map_err(|err| context(&p.name, err))?;
                        if p.name == "EXDATE" {
                            exdates.push(at);
                            continue;
                        }
                        let until = match second {
                            None => None,
                            Some(b) if b.starts_with(['P', '+', '-']) => {
                                let (days, exact) = parse_duration(b).ok_or_else(|| {
                                    context("RDATE", format!("{b:?} is not a duration"))
                                })?;
                                Some(zones.add(at, days, exact))
                            }
                            Some(b) => Some(zones.time(p, b).map_err(|err| context("RDATE", err))?),
                        };
                        rdates.push((at, until));
                    }
                }
                _ => {}
            }
        }
        let text = |name: &str| {
            property(props, name)
                .and_then(|p| p.value.as_deref())
                .map(|v| unescape(v.trim()))
        };
        Ok(Event {
            summary: text("SUMMARY").unwrap_or_default(),
            status: match text("STATUS")
                .as_deref()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("CANCELLED") => Status::Cancelled,
                Some("TENTATIVE") => Status::Tentative,
                _ => Status::Confirmed,
            },
            transparent: text("TRANSP").is_some_and(|t| t.eq_ignore_ascii_case("TRANSPARENT")),
            sequence: text("SEQUENCE").and_then(|s| s.parse().ok()).unwrap_or(0),
            uid,
            start,
            length,
            rrules,
            rdates,
            exdates,
            recurrence_id,
        })
    }

    fn end_of(&self, start: Time, zones: &Zones) -> Time {
        match (start, self.length) {
            (Time::Date(d), Length::Days(n)) => Time::Date(d + Duration::days(n)),
            (Time::Date(d), _) => Time::Date(d + Duration::days(1)),
            (Time::Local(t, zone), Length::Wall(d)) => Time::Local(t + d, zone),
            (Time::Local(t, zone), Length::Days(n)) => Time::Local(t + Duration::days(n), zone),
            (at, Length::Nominal { days, exact }) => zones.add(at, days, exact),
        }
    }

    /// The occurrence starting at `start` (`end` when the instance brings its own).
    fn occurrence(
        &self,
        start: Time,
        end: Option<Time>,
        original: Option<Time>,
        zones: &Zones,
    ) -> Occurrence {
        let explicit = end.is_some();
        let end = match (start, end.unwrap_or_else(|| self.end_of(start, zones))) {
            (Time::Local(_, zone), Time::Date(d)) => Time::Local(d.and_time(NaiveTime::MIN), zone),
            (Time::Date(_), e @ Time::Local(_, zone)) => Time::Date(zones.wall(e, zone).date()),
            (_, e) => e,
        };
        let when = |t: Time| match t {
            Time::Date(d) => When::Date(d),
            Time::Local(..) => When::At(zones.at(t)),
        };
        let (written, (mut start, mut end)) = (start, (when(start), when(end)));
        // A start in a DST gap moved later: the event keeps its length.
        if let (Time::Local(t, _), When::At(s), Length::Wall(length), false) =
            (written, &start, self.length, explicit)
        {
            if s.naive_local() != t {
                end = When::At(*s + length);
            }
        }
        // An end before the start is taken as written the wrong way round.
        if zones.sort_key(&end) < zones.sort_key(&start) {
            std::mem::swap(&mut start, &mut end);
        }
        Occurrence {
            uid: self.uid.clone(),
            recurrence_id: original.map(|t| match t {
                Time::Date(d) => d.to_string(),
                Time::Local(..) => zones.at(t).to_rfc3339_opts(SecondsFormat::Secs, false),
            }),
            all_day: matches!(start, When::Date(_)),
            start,
            end,
            summary: self.summary.clone(),
            status: self.status,
            transparent: self.transparent,
        }
    }

    fn expand_into(
        &self,
        events: &[Event],
        overrides: &Overrides,
        window: &Window,
        zones: &Zones,
        out: &mut Vec<Occurrence>,
    ) -> Result<(), ExpandError> {
        let Some(start) = self.start else {
            return Ok(());
        };
        if self.rrules.is_empty() && self.rdates.is_empty() {
            let occurrence = self.occurrence(start, None, None, zones);
            if window.holds(&occurrence, zones) {
                out.push(occurrence);
            }
            return Ok(());
        }
        let excluded: HashSet<Key> = self.exdates.iter().map(|t| zones.key(*t)).collect();
        let excluded_days: HashSet<NaiveDate> = self
            .exdates
            .iter()
            .filter_map(|t| match (t, start) {
                (Time::Date(d), _) => Some(*d),
                // An all-day series excluded by a time (as Outlook writes it): that day.
                (Time::Local(t, _), Time::Date(_)) => Some(t.date()),
                (Time::Local(..), Time::Local(..)) => None,
            })
            .collect();
        let mut instances: Vec<(Time, Option<Time>)> = self.generate(start, window, zones)?;
        if self.rrules.is_empty() {
            // With RDATEs alone, the start is the first instance.
            instances.push((start, None));
        }
        instances.extend(self.rdates.iter().map(|&(at, end)| match (start, at) {
            (Time::Local(_, zone), Time::Local(..)) => {
                (Time::Local(zones.wall(at, zone), zone), end)
            }
            _ => (at, end),
        }));
        let mut seen = HashSet::new();
        for (at, end) in instances {
            let key = zones.key(at);
            if !seen.insert(key) || excluded.contains(&key) {
                continue;
            }
            let day = match at {
                Time::Date(d) => d,
                Time::Local(t, _) => t.date(),
            };
            if excluded_days.contains(&day) {
                continue;
            }
            let replaced = match at {
                Time::Date(d) => {
                    overrides.exact.contains_key(&key) || overrides.days.contains_key(&d)
                }
                Time::Local(t, _) => {
                    overrides.exact.contains_key(&key)
                        || overrides.exact.contains_key(&Key::Date(t.date()))
                }
            };
            if replaced {
                continue; // the override stands in its place
            }
            let instant = zones.instant(at);
            let future = overrides
                .future
                .partition_point(|(from, _)| *from <= instant);
            let occurrence = match future.checked_sub(1).map(|i| overrides.future[i]) {
                Some((from, i)) => {
                    let o = &events[i];
                    let shift = o
                        .start
                        .map_or(Duration::zero(), |s| zones.instant(s) - from);
                    let moved = match at {
                        Time::Date(d) => Time::Date(d + Duration::days(shift.num_days())),
                        Time::Local(t, zone) => Time::Local(t + shift, zone),
                    };
                    o.occurrence(moved, None, Some(at), zones)
                }
                None => self.occurrence(at, end, Some(at), zones),
            };
            if window.holds(&occurrence, zones) {
                out.push(occurrence);
            }
        }
        Ok(())
    }

    /// Whether the series (overrides aside) has the instance `original` names.
    fn produces(&self, original: Time, zones: &Zones) -> Result<bool, ExpandError> {
        let day = match original {
            Time::Date(d) => d,
            Time::Local(t, _) => t.date(),
        };
        let (from, to) = (day - Duration::days(1), day + Duration::days(2));
        let window = Window {
            from,
            to,
            start: zones.place(Zone::Iana(zones.user), from.and_time(NaiveTime::MIN)),
            end: zones.place(Zone::Iana(zones.user), to.and_time(NaiveTime::MIN)),
        };
        let mut found = Vec::new();
        self.expand_into(&[], &Overrides::default(), &window, zones, &mut found)?;
        let key = zones.key(original);
        Ok(found.iter().any(|o| match o.start {
            When::Date(d) => d == day,
            When::At(_) => zones.key(o.start.time()) == key,
        }))
    }

    /// The RRULE instances up to a day past the window, on the wall clock of the start's zone.
    fn generate(
        &self,
        start: Time,
        window: &Window,
        zones: &Zones,
    ) -> Result<Vec<(Time, Option<Time>)>, ExpandError> {
        let (naive, zone) = match start {
            Time::Date(d) => (d.and_time(NaiveTime::MIN), None),
            Time::Local(t, zone) => (t, Some(zone)),
        };
        let last = match zone {
            None => window.to.and_time(NaiveTime::MIN),
            Some(z) => zones.wall(Time::Local(window.end.naive_utc(), Zone::Iana(Tz::UTC)), z),
        } + Duration::days(1);
        let first = match zone {
            None => window.from.and_time(NaiveTime::MIN),
            Some(z) => zones.wall(
                Time::Local(window.start.naive_utc(), Zone::Iana(Tz::UTC)),
                z,
            ),
        } - Duration::days(1)
            - self.span();
        let error = |rule: &str, e: String| bad(format!("event {}: RRULE {rule:?}: {e}", self.uid));
        let mut out = Vec::new();
        for rule in &self.rrules {
            let (rule_text, until) = split_until(rule);
            let until = match until {
                None => None,
                Some(u) => Some(Until::read(u).ok_or_else(|| error(rule, format!("UNTIL {u:?}")))?),
            };
            let parsed: RRule<Unvalidated> = rule_text
                .parse()
                .map_err(|e: rrule::RRuleError| error(rule, e.to_string()))?;
            let anchor = rrule::Tz::UTC.from_utc_datetime(&naive);
            let set = parsed
                .build(anchor)
                .map_err(|e| error(rule, e.to_string()))?;
            for t in set.into_iter().take(MAX_SCAN) {
                zones.spend()?;
                let t = t.naive_utc();
                if t > last {
                    break;
                }
                let at = match zone {
                    None => Time::Date(t.date()),
                    Some(z) => Time::Local(t, z),
                };
                let within_until = match until {
                    None => true,
                    Some(Until::Date(u)) => t.date() <= u,
                    Some(Until::Utc(u)) => zones.instant(at).naive_utc() <= u,
                    Some(Until::Local(u)) => t <= u,
                };
                if !within_until {
                    break;
                }
                if t >= first {
                    out.push((at, None));
                }
            }
        }
        Ok(out)
    }

    /// An upper bound of the length, to start scanning early enough.
    fn span(&self) -> Duration {
        match self.length {
            Length::Days(n) => Duration::days(n.max(0)),
            Length::Wall(d) => d.max(Duration::zero()),
            Length::Nominal { days, exact } => (Duration::days(days) + exact).max(Duration::zero()),
        }
    }
}

/// An `UNTIL` value: a last date, a last instant, or a last wall-clock time of the series' zone.
#[derive(Clone, Copy)]
enum Until {
    Date(NaiveDate),
    Utc(NaiveDateTime),
    Local(NaiveDateTime),
}

impl Until {
    fn read(text: &str) -> Option<Until> {
        if text.len() == 8 {
            return NaiveDate::parse_from_str(text, "%Y%m%d")
                .ok()
                .map(Until::Date);
        }
        match text.strip_suffix('Z') {
            Some(t) => NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S")
                .ok()
                .map(Until::Utc),
            None => NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
                .ok()
                .map(Until::Local),
        }
    }
}

/// The rule without its `UNTIL`, which is applied on the instances (the `rrule` crate wants it
/// in the start's zone, which wall-clock expansion does not have), and the `UNTIL` value.
fn split_until(rule: &str) -> (String, Option<&str>) {
    let mut until = None;
    let rest: Vec<&str> = rule
        .trim_start_matches("RRULE:")
        .split(';')
        .filter(|part| match part.strip_prefix("UNTIL=") {
            Some(v) => {
                until = Some(v);
                false
            }
            None => !part.is_empty(),
        })
        .collect();
    (rest.join(";"), until)
}

/// `DURATION` (RFC 5545 §3.3.6): whole days (weeks included) and the exact rest.
fn parse_duration(text: &str) -> Option<(i64, Duration)> {
    let text = text.trim();
    let (sign, text) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let text = text.strip_prefix(['P', 'p'])?;
    let (date_part, time_part) = match text.split_once(['T', 't']) {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut days = 0i64;
    let mut seconds = 0i64;
    let mut any = false;
    let mut number = String::new();
    for c in date_part.chars() {
        match c {
            '0'..='9' => number.push(c),
            'W' | 'w' | 'D' | 'd' => {
                let n: i64 = number.parse().ok()?;
                days = days.checked_add(if matches!(c, 'W' | 'w') {
                    n.checked_mul(7)?
                } else {
                    n
                })?;
                number.clear();
                any = true;
            }
            _ => return None,
        }
    }
    if !number.is_empty() {
        return None;
    }
    for c in time_part.unwrap_or("").chars() {
        match c {
            '0'..='9' => number.push(c),
            'H' | 'h' | 'M' | 'm' | 'S' | 's' => {
                let n: i64 = number.parse().ok()?;
                let unit = match c {
                    'H' | 'h' => 3600,
                    'M' | 'm' => 60,
                    _ => 1,
                };
                seconds = seconds.checked_add(n.checked_mul(unit)?)?;
                number.clear();
                any = true;
            }
            _ => return None,
        }
    }
    if !any || !number.is_empty() || days.abs() > 36_600 || seconds.abs() > 3_162_240_000 {
        return None;
    }
    Some((sign * days, Duration::seconds(sign * seconds)))
}

/// The zones of one file and the user's, and how times are read in them.
struct Zones {
    user: Tz,
    /// `X-WR-TIMEZONE` (Google): UTC and floating times are wall-clock times of this zone.
    calendar: Option<Tz>,
    by_id: HashMap<String, Zone>,
    defined: Vec<Defined>,
    /// Instances scanned so far, against [`MAX_FILE_SCAN`], and when [`TIME_LIMIT`] is up.
    scanned: std::cell::Cell<usize>,
    deadline: std::time::Instant,
}

impl Zones {
    fn new(user: Tz, calendar: Option<Tz>, definitions: &[IcalTimeZone]) -> Zones {
        let mut by_id = HashMap::new();
        let mut defined = Vec::new();
        for tz in definitions {
            let Some(id) = property(&tz.properties, "TZID").and_then(|p| p.value.as_deref()) else {
                continue;
            };
            let id = id.trim();
            let location = property(&tz.properties, "X-LIC-LOCATION")
                .and_then(|p| p.value.as_deref())
                .and_then(iana);
            let zone = match iana(id).or(location) {
                Some(z) => Zone::Iana(z),
                None => match Defined::read(tz) {
                    Some(d) => {
                        defined.push(d);
                        Zone::Defined(defined.len() - 1)
                    }
                    None => continue,
                },
            };
            by_id.insert(id.to_owned(), zone);
        }
        Zones {
            user,
            calendar,
            by_id,
            defined,
            scanned: std::cell::Cell::new(0),
            deadline: std::time::Instant::now() + TIME_LIMIT,
        }
    }

    /// Counts one scanned instance; an error once the file has cost too much.
    fn spend(&self) -> Result<(), ExpandError> {
        let n = self.scanned.get() + 1;
        self.scanned.set(n);
        if n > MAX_FILE_SCAN
            || (n.is_multiple_of(1024) && std::time::Instant::now() > self.deadline)
        {
            return Err(bad(format!(
                "its repeating events are too complex to expand (more than {MAX_FILE_SCAN} instances or {} seconds)",
                TIME_LIMIT.as_secs()
            )));
        }
        Ok(())
    }

    fn zone(&self, tzid: Option<&str>) -> Zone {
        match tzid {
            None => Zone::Iana(self.calendar.unwrap_or(self.user)),
            Some(id) => self
                .by_id
                .get(id)
                .copied()
                .or_else(|| iana(id).map(Zone::Iana))
                .unwrap_or(Zone::Iana(self.user)),
        }
    }

    /// A date or date-time value with the property's `TZID` and `VALUE`.
    fn time(&self, p: &Property, value: &str) -> Result<Time, String> {
        let is_date = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
            || (value.len() == 8 && !value.contains(['T', 't']));
        if is_date {
            return NaiveDate::parse_from_str(value, "%Y%m%d")
                .map(Time::Date)
                .map_err(|_| format!("{value:?} is not a date like 20261201"));
        }
        let (text, utc) = match value.strip_suffix(['Z', 'z']) {
            Some(t) => (t, true),
            None => (value, false),
        };
        let naive = NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S")
            .map_err(|_| format!("{value:?} is not a date-time like 20261201T090000"))?;
        Ok(if utc {
            match self.calendar {
                Some(tz) => Time::Local(tz.from_utc_datetime(&naive).naive_local(), Zone::Iana(tz)),
                None => Time::Local(naive, Zone::Iana(Tz::UTC)),
            }
        } else {
            Time::Local(naive, self.zone(param(p, "TZID")))
        })
    }

    /// The instant of a wall-clock time (dates: their start in the user's zone).
    fn at(&self, t: Time) -> DateTime<FixedOffset> {
        match t {
            Time::Date(d) => self.place(Zone::Iana(self.user), d.and_time(NaiveTime::MIN)),
            Time::Local(naive, zone) => self.place(zone, naive),
        }
    }

    fn instant(&self, t: Time) -> DateTime<Utc> {
        self.at(t).with_timezone(&Utc)
    }

    fn place(&self, zone: Zone, naive: NaiveDateTime) -> DateTime<FixedOffset> {
        match zone {
            Zone::Iana(tz) => crate::recurrence::place(naive.date(), naive.time(), tz)
                .with_timezone(&tz)
                .fixed_offset(),
            Zone::Defined(i) => self.defined[i].place(naive),
        }
    }

    /// The wall-clock time of `t` in `zone`.
    fn wall(&self, t: Time, zone: Zone) -> NaiveDateTime {
        match t {
            Time::Date(d) => d.and_time(NaiveTime::MIN),
            Time::Local(naive, z) if z == zone => naive,
            Time::Local(..) => {
                let utc = self.instant(t).naive_utc();
                match zone {
                    Zone::Iana(tz) => tz.from_utc_datetime(&utc).naive_local(),
                    Zone::Defined(i) => utc + self.defined[i].offset_at(utc),
                }
            }
        }
    }

    fn add(&self, t: Time, days: i64, exact: Duration) -> Time {
        match t {
            Time::Date(d) => Time::Date(d + Duration::days(days + exact.num_days())),
            Time::Local(naive, zone) => {
                let moved = self.place(zone, naive + Duration::days(days)) + exact;
                Time::Local(
                    self.wall(Time::Local(moved.naive_utc(), Zone::Iana(Tz::UTC)), zone),
                    zone,
                )
            }
        }
    }

    fn key(&self, t: Time) -> Key {
        match t {
            Time::Date(d) => Key::Date(d),
            Time::Local(..) => Key::At(self.instant(t).timestamp()),
        }
    }

    fn sort_key(&self, w: &When) -> DateTime<Utc> {
        match w {
            When::At(t) => t.with_timezone(&Utc),
            When::Date(_) => self.instant(w.time()),
        }
    }
}

/// An IANA zone from a name as calendars write it.
fn iana(id: &str) -> Option<Tz> {
    let id = id.trim().trim_matches('"');
    if let Ok(tz) = id.parse::<Tz>() {
        return Some(tz);
    }
    if let Some(tz) = windows_zones::iana(id).and_then(|z| z.parse().ok()) {
        return Some(tz);
    }
    // Vendor prefixes: /mozilla.org/20050126_1/Europe/Berlin, /citadel.org/…/Europe/Berlin.
    id.match_indices('/')
        .find_map(|(i, _)| id[i + 1..].parse::<Tz>().ok())
}

/// A `VTIMEZONE` read from its own `STANDARD` and `DAYLIGHT` rules: every onset up to 2200
/// (as a UTC time) with the offset it brings, sorted.
struct Defined {
    onsets: Vec<(NaiveDateTime, Duration)>,
    /// In force before the first onset.
    initial: Duration,
    /// Every offset it ever has, ascending.
    offsets: Vec<Duration>,
}

impl Defined {
    fn read(tz: &IcalTimeZone) -> Option<Defined> {
        let offset = |props: &[Property], name: &str| {
            property(props, name)
                .and_then(|p| p.value.as_deref())
                .and_then(parse_offset)
        };
        let local = |v: &str| NaiveDateTime::parse_from_str(v.trim(), "%Y%m%dT%H%M%S").ok();
        let mut onsets = Vec::new();
        for part in &tz.transitions {
            let props = &part.properties;
            let to = offset(props, "TZOFFSETTO")?;
            let from = offset(props, "TZOFFSETFROM").unwrap_or(to);
            let start = local(property(props, "DTSTART").and_then(|p| p.value.as_deref())?)?;
            let mut locals = vec![start];
            if let Some(rule) = property(props, "RRULE").and_then(|p| p.value.as_deref()) {
                let upper = rule.to_ascii_uppercase();
                let (text, until) = split_until(&upper);
                let until = until.and_then(|u| local(u.trim_end_matches('Z')));
                let parsed: RRule<Unvalidated> = text.parse().ok()?;
                let set = parsed
                    .build(rrule::Tz::UTC.from_utc_datetime(&start))
                    .ok()?;
                let end = NaiveDate::from_ymd_opt(2200, 1, 1)?.and_time(NaiveTime::MIN);
                locals = set
                    .into_iter()
                    .take(1000)
                    .map(|t| t.naive_utc())
                    .take_while(|t| *t < end && until.is_none_or(|u| *t <= u))
                    .collect();
            }
            for p in props.iter().filter(|p| p.name == "RDATE") {
                locals.extend(
                    p.value
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .filter_map(local),
                );
            }
            // An onset is written in the local time in force before it.
            onsets.extend(locals.into_iter().map(|t| (t - from, from, to)));
        }
        onsets.sort_by_key(|o| o.0);
        let initial = onsets.first()?.1;
        let mut offsets: Vec<Duration> = onsets.iter().map(|o| o.2).collect();
        offsets.push(initial);
        offsets.sort();
        offsets.dedup();
        Some(Defined {
            onsets: onsets.into_iter().map(|(t, _, to)| (t, to)).collect(),
            initial,
            offsets,
        })
    }

    fn offset_at(&self, utc: NaiveDateTime) -> Duration {
        let i = self.onsets.partition_point(|(t, _)| *t <= utc);
        i.checked_sub(1).map_or(self.initial, |i| self.onsets[i].1)
    }

    /// The same rule as [`crate::recurrence::place`]: the first of two, the offset before a gap.
    fn place(&self, local: NaiveDateTime) -> DateTime<FixedOffset> {
        let utc = self
            .offsets
            .iter()
            .map(|&o| local - o)
            .filter(|&u| u + self.offset_at(u) == local)
            .min()
            .unwrap_or_else(|| local - self.offset_at(local - Duration::days(1)));
        FixedOffset::east_opt(self.offset_at(utc).num_seconds() as i32)
            .unwrap_or_else(|| Utc.fix())
            .from_utc_datetime(&utc)
    }
}

/// `TZOFFSETTO` and `TZOFFSETFROM` values: `+0100`, `-0530`, `+013000`.
fn parse_offset(text: &str) -> Option<Duration> {
    let text = text.trim();
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits = &text[1..];
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i64 = digits[0..2].parse().ok()?;
    let m: i64 = digits[2..4].parse().ok()?;
    let s: i64 = digits.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(Duration::seconds(sign * (h * 3600 + m * 60 + s)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn calendar(body: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n")
    }

    fn event(lines: &str) -> String {
        format!("BEGIN:VEVENT\r\n{lines}END:VEVENT\r\n")
    }

    /// `(start, end)` as RFC 3339 or dates.
    fn spans(ics: &str, from: NaiveDate, days: u32, zone: &str) -> Vec<(String, String)> {
        let text = |w: &When| match w {
            When::Date(d) => d.to_string(),
            When::At(t) => t.to_rfc3339(),
        };
        expand(ics, from, days, zone.parse().unwrap())
            .unwrap()
            .iter()
            .map(|o| (text(&o.start), text(&o.end)))
            .collect()
    }

    fn pair(a: &str, b: &str) -> (String, String) {
        (a.to_owned(), b.to_owned())
    }

    #[test]
    fn zones_iana_windows_utc_and_floating() {
        let ics = calendar(&[
            event("UID:a\r\nDTSTART;TZID=Europe/Berlin:20270112T090000\r\nDTEND;TZID=Europe/Berlin:20270112T100000\r\n"),
            event("UID:b\r\nDTSTART;TZID=W. Europe Standard Time:20270112T110000\r\nDURATION:PT30M\r\n"),
            event("UID:c\r\nDTSTART;TZID=\"Eastern Standard Time\":20270112T090000\r\nDTEND;TZID=\"Eastern Standard Time\":20270112T093000\r\n"),
            event("UID:d\r\nDTSTART:20270112T120000Z\r\nDTEND:20270112T130000Z\r\n"),
            event("UID:e\r\nDTSTART:20270112T080000\r\nDTEND:20270112T083000\r\n"),
            event("UID:f\r\nDTSTART;TZID=/mozilla.org/20050126_1/America/Sao_Paulo:20270112T080000\r\n"),
        ].concat());
        assert_eq!(
            spans(&ics, d(2027, 1, 12), 1, "Asia/Tokyo"),
            [
                // The floating event is read in the user's zone (Tokyo) and comes first.
                pair("2027-01-12T08:00:00+09:00", "2027-01-12T08:30:00+09:00"),
                pair("2027-01-12T09:00:00+01:00", "2027-01-12T10:00:00+01:00"),
                pair("2027-01-12T11:00:00+01:00", "2027-01-12T11:30:00+01:00"),
                pair("2027-01-12T08:00:00-03:00", "2027-01-12T08:00:00-03:00"),
                pair("2027-01-12T12:00:00+00:00", "2027-01-12T13:00:00+00:00"),
                pair("2027-01-12T09:00:00-05:00", "2027-01-12T09:30:00-05:00"),
            ]
        );
        // The same day seen from New York: all but the Tokyo-floating one.
        let ny = spans(&ics, d(2027, 1, 12), 1, "America/New_York");
        assert!(ny.contains(&pair(
            "2027-01-12T09:00:00-05:00",
            "2027-01-12T09:30:00-05:00"
        )));
        assert!(ny.contains(&pair(
            "2027-01-12T08:00:00-03:00",
            "2027-01-12T08:00:00-03:00"
        )));
        assert!(ny.contains(&pair(
            "2027-01-12T08:00:00-05:00",
            "2027-01-12T08:30:00-05:00"
        )));
    }

    #[test]
    fn a_zone_known_only_by_its_vtimezone_is_read_from_its_rules() {
        let vtimezone = "BEGIN:VTIMEZONE\r\nTZID:Somewhere Central\r\n\
            BEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
            TZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\n\
            BEGIN:DAYLIGHT\r\nDTSTART:16010325T020000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n\
            TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";
        let ics = calendar(&format!(
            "{vtimezone}{}",
            event("UID:a\r\nDTSTART;TZID=Somewhere Central:20270326T023000\r\nDURATION:PT1H\r\nRRULE:FREQ=DAILY;COUNT=4\r\n")
        ));
        // Like Europe/Berlin: +01:00, then 02:30 in the gap of 28 March read as 03:30 +02:00.
        assert_eq!(
            spans(&ics, d(2027, 3, 26), 5, "UTC"),
            [
                pair("2027-03-26T02:30:00+01:00", "2027-03-26T03:30:00+01:00"),
                pair("2027-03-27T02:30:00+01:00", "2027-03-27T03:30:00+01:00"),
                pair("2027-03-28T03:30:00+02:00", "2027-03-28T04:30:00+02:00"),
                pair("2027-03-29T02:30:00+02:00", "2027-03-29T03:30:00+02:00"),
            ]
        );
        // An unknown TZID without a VTIMEZONE: the user's zone.
        let unknown = calendar(&event("UID:b\r\nDTSTART;TZID=Nowhere:20270105T090000\r\n"));
        assert_eq!(
            spans(&unknown, d(2027, 1, 5), 1, "Europe/Paris"),
            [pair(
                "2027-01-05T09:00:00+01:00",
                "2027-01-05T09:00:00+01:00"
            )]
        );
    }

    #[test]
    fn a_generated_instance_in_a_dst_gap_is_kept_past_the_gap() {
        let ics = calendar(&event(
            "UID:a\r\nDTSTART;TZID=America/New_York:20070310T023000\r\nDTEND;TZID=America/New_York:20070310T033000\r\nRRULE:FREQ=DAILY;COUNT=3\r\n",
        ));
        // RFC 5545 §3.3.5: 02:30 on 11 March 2007 is 03:30 EDT. §3.3.10 would drop it; we keep it.
        assert_eq!(
            spans(&ics, d(2007, 3, 10), 3, "America/New_York"),
            [
                pair("2007-03-10T02:30:00-05:00", "2007-03-10T03:30:00-05:00"),
                pair("2007-03-11T03:30:00-04:00", "2007-03-11T04:30:00-04:00"),
                pair("2007-03-12T02:30:00-04:00", "2007-03-12T03:30:00-04:00"),
            ]
        );
    }

    #[test]
    fn all_day_events_overlap_the_window_by_date() {
        let ics = calendar(
            &[
                event("UID:trip\r\nDTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270106\r\n"),
                event("UID:day\r\nDTSTART;VALUE=DATE:20270107\r\n"),
                event("UID:before\r\nDTSTART;VALUE=DATE:20270102\r\nDTEND;VALUE=DATE:20270105\r\n"),
            ]
            .concat(),
        );
        let got = expand(&ics, d(2027, 1, 5), 3, "Pacific/Auckland".parse().unwrap()).unwrap();
        let ids: Vec<&str> = got.iter().map(|o| o.uid.as_str()).collect();
        assert_eq!(ids, ["trip", "day"]);
        assert!(got.iter().all(|o| o.all_day && !o.busy()));
        assert_eq!(got[1].end, When::Date(d(2027, 1, 8)));
    }

    #[test]
    fn overrides_move_cancel_and_replace_instances() {
        let ics = calendar(&[
            event("UID:s\r\nSUMMARY:Standup\r\nDTSTART;TZID=Europe/Berlin:20270104T090000\r\nDTEND;TZID=Europe/Berlin:20270104T091500\r\nRRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR\r\nEXDATE;TZID=Europe/Berlin:20270111T090000\r\n"),
            // Wednesday's moves out of the window, Friday's is cancelled, and the Monday of the
            // week after moves into it.
            event("UID:s\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270113T090000\r\nDTSTART;TZID=Europe/Berlin:20270120T090000\r\nDTEND;TZID=Europe/Berlin:20270120T091500\r\nSUMMARY:Moved away\r\n"),
            event("UID:s\r\nRECURRENCE-ID:20270115T080000Z\r\nDTSTART;TZID=Europe/Berlin:20270115T090000\r\nDTEND;TZID=Europe/Berlin:20270115T091500\r\nSTATUS:CANCELLED\r\n"),
            event("UID:s\r\nRECURRENCE-ID;TZID=Europe/Berlin:20270118T090000\r\nDTSTART;TZID=Europe/Berlin:20270114T160000\r\nDTEND;TZID=Europe/Berlin:20270114T170000\r\nSUMMARY:Moved in\r\n"),
        ].concat());
        let got = expand(&ics, d(2027, 1, 11), 7, "Europe/Berlin".parse().unwrap()).unwrap();
        let seen: Vec<(String, &str, Status, Option<&str>)> = got
            .iter()
            .map(|o| match &o.start {
                When::At(t) => (
                    t.to_rfc3339(),
                    o.summary.as_str(),
                    o.status,
                    o.recurrence_id.as_deref(),
                ),
                When::Date(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            seen,
            [
                (
                    "2027-01-14T16:00:00+01:00".into(),
                    "Moved in",
                    Status::Confirmed,
                    Some("2027-01-18T09:00:00+01:00")
                ),
                (
                    "2027-01-15T09:00:00+01:00".into(),
                    "",
                    Status::Cancelled,
                    Some("2027-01-15T09:00:00+01:00")
                ),
            ]
        );
        assert!(got[0].busy() && !got[1].busy());
    }

    #[test]
    fn all_day_series_named_by_times_as_outlook_writes_them() {
        let ics = calendar(&[
            event("UID:o\r\nDTSTART;VALUE=DATE:20270104\r\nDTEND;VALUE=DATE:20270105\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;TZID=GMT Standard Time:20270105T000000\r\n"),
            event("UID:o\r\nRECURRENCE-ID;TZID=GMT Standard Time:20270106T000000\r\nDTSTART;VALUE=DATE:20270110\r\nDTEND;VALUE=DATE:20270111\r\n"),
        ].concat());
        let got = expand(&ics, d(2027, 1, 4), 7, Tz::UTC).unwrap();
        let days: Vec<(When, Option<&str>)> = got
            .iter()
            .map(|o| (o.start.clone(), o.recurrence_id.as_deref()))
            .collect();
        assert_eq!(
            days,
            [
                (When::Date(d(2027, 1, 4)), Some("2027-01-04")),
                (When::Date(d(2027, 1, 7)), Some("2027-01-07")),
                (When::Date(d(2027, 1, 8)), Some("2027-01-08")),
                (When::Date(d(2027, 1, 10)), Some("2027-01-06")),
            ]
        );
    }

    #[test]
    fn this_and_future_moves_every_later_instance() {
        let ics = calendar(&[
            event("UID:s\r\nSUMMARY:Old\r\nDTSTART:20270104T090000Z\r\nDTEND:20270104T100000Z\r\nRRULE:FREQ=DAILY;COUNT=6\r\n"),
            event("UID:s\r\nSUMMARY:New\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20270106T090000Z\r\nDTSTART:20270106T140000Z\r\nDTEND:20270106T143000Z\r\n"),
        ].concat());
        let got = expand(&ics, d(2027, 1, 4), 7, Tz::UTC).unwrap();
        let seen: Vec<(String, &str)> = got
            .iter()
            .map(|o| {
                (
                    serde_json::to_value(&o.start)
                        .unwrap()
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    o.summary.as_str(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("2027-01-04T09:00:00Z".into(), "Old"),
                ("2027-01-05T09:00:00Z".into(), "Old"),
                ("2027-01-06T14:00:00Z".into(), "New"),
                ("2027-01-07T14:00:00Z".into(), "New"),
                ("2027-01-08T14:00:00Z".into(), "New"),
                ("2027-01-09T14:00:00Z".into(), "New"),
            ]
        );
        assert_eq!(
            got[3].end,
            When::At("2027-01-07T14:30:00Z".parse().unwrap())
        );
    }

    #[test]
    fn transparent_events_are_shown_but_not_busy() {
        let ics = calendar(&event(
            "UID:t\r\nDTSTART:20270104T090000Z\r\nDTEND:20270104T100000Z\r\nTRANSP:TRANSPARENT\r\nSTATUS:TENTATIVE\r\nSUMMARY:Maybe\\, later\r\n",
        ));
        let got = expand(&ics, d(2027, 1, 4), 1, Tz::UTC).unwrap();
        assert_eq!(got.len(), 1);
        assert!(!got[0].busy());
        assert_eq!(got[0].status, Status::Tentative);
        assert_eq!(got[0].summary, "Maybe, later");
    }

    #[test]
    fn occurrences_serialise_as_the_cli_prints_them() {
        let ics = calendar(&[
            event("UID:a\r\nDTSTART;VALUE=DATE:20270104\r\nSUMMARY:Holiday\r\n"),
            event("UID:b\r\nDTSTART;TZID=Europe/Berlin:20270104T090000\r\nDTEND;TZID=Europe/Berlin:20270104T093000\r\nRRULE:FREQ=DAILY;COUNT=2\r\n"),
        ].concat());
        let got = expand(&ics, d(2027, 1, 4), 1, "Europe/Berlin".parse().unwrap()).unwrap();
        assert_eq!(
            serde_json::to_value(&got).unwrap(),
            serde_json::json!([
                {"uid": "a", "recurrence_id": null, "start": "2027-01-04", "end": "2027-01-05",
                 "summary": "Holiday", "all_day": true, "status": "confirmed"},
                {"uid": "b", "recurrence_id": "2027-01-04T09:00:00+01:00",
                 "start": "2027-01-04T09:00:00+01:00", "end": "2027-01-04T09:30:00+01:00",
                 "summary": "", "all_day": false, "status": "confirmed"},
            ])
        );
    }

    #[test]
    fn malformed_files_are_refused_with_a_reason() {
        let cases = [
            ("", "no BEGIN:VCALENDAR"),
            ("hello", "not an iCalendar file"),
            (
                &calendar(&event("UID:x\r\nSUMMARY:no start\r\n")),
                "event x: DTSTART: missing",
            ),
            (
                &calendar(&event("UID:x\r\nDTSTART:2027-01-04\r\n")),
                "not a date-time",
            ),
            (
                &calendar(&event(
                    "UID:x\r\nDTSTART:20270104T090000Z\r\nRRULE:FREQ=SOMETIMES\r\n",
                )),
                "event x: RRULE",
            ),
            (
                &calendar(&event(
                    "UID:x\r\nDTSTART:20270104T090000Z\r\nDURATION:1 hour\r\n",
                )),
                "DURATION",
            ),
        ];
        for (ics, reason) in cases {
            let err = expand(ics, d(2027, 1, 4), 7, Tz::UTC)
                .unwrap_err()
                .to_string();
            assert!(err.contains(reason), "{ics:?}: {err}");
        }
    }

    #[test]
    fn ten_thousand_events_expand_in_linear_time() {
        let mut body = String::new();
        for i in 0..10_000 {
            body.push_str(&event(&format!(
                "UID:e{i}\r\nDTSTART;TZID=Europe/Berlin:2027{:02}{:02}T090000\r\nDURATION:PT1H\r\n",
                1 + i % 12,
                1 + i % 28
            )));
            if i % 10 == 0 {
                body.push_str(&event(&format!(
                    "UID:s{i}\r\nDTSTART:20260105T100000Z\r\nDURATION:PT30M\r\nRRULE:FREQ=WEEKLY\r\n"
                )));
                body.push_str(&event(&format!(
                    "UID:s{i}\r\nRECURRENCE-ID:20270104T100000Z\r\nDTSTART:20270104T150000Z\r\nDURATION:PT30M\r\n"
                )));
            }
        }
        let ics = calendar(&body);
        let started = std::time::Instant::now();
        let got = expand(&ics, d(2027, 1, 1), 7, Tz::UTC).unwrap();
        // 7 days of single events a month apart, 1,000 weekly series with one moved instance.
        assert_eq!(got.iter().filter(|o| o.uid.starts_with('s')).count(), 1000);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }

    #[test]
    fn unknown_components_are_skipped() {
        let ics = calendar(&format!(
            "BEGIN:VAVAILABILITY\r\nBEGIN:AVAILABLE\r\nDTSTART:20270104T090000Z\r\nEND:AVAILABLE\r\nEND:VAVAILABILITY\r\n{}",
            event("UID:a\r\nDTSTART:20270104T090000Z\r\nBEGIN:VLOCATION\r\nNAME:Room 1\r\nEND:VLOCATION\r\nBEGIN:VALARM\r\nTRIGGER:-PT5M\r\nACTION:DISPLAY\r\nEND:VALARM\r\n")
        ));
        let got = expand(&ics, d(2027, 1, 4), 1, Tz::UTC).unwrap();
        assert_eq!(got.len(), 1);
    }

    const VALID: &str = "BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:X\r\nBEGIN:STANDARD\r\nDTSTART:16011028T030000\r\nRRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART;TZID=X:20270104T090000\r\nDTEND;TZID=X:20270104T100000\r\nRRULE:FREQ=DAILY;UNTIL=20270201T000000Z;BYDAY=MO,TU\r\nEXDATE;TZID=X:20270105T090000\r\nRDATE;VALUE=PERIOD:20270106T120000Z/PT1H\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:a\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20270111T080000Z\r\nDTSTART;VALUE=DATE:20270112\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn odd_rules_end_or_are_refused() {
        for rule in [
            "FREQ=SECONDLY",
            "FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
            "FREQ=YEARLY;BYWEEKNO=53;BYDAY=SU",
            "FREQ=MONTHLY;BYMONTHDAY=-1;BYSETPOS=-1",
            "FREQ=DAILY;COUNT=-1",
            "FREQ=WEEKLY;INTERVAL=0",
            "FREQ=DAILY;BYDAY=,",
            "FREQ=X",
        ] {
            let ics = calendar(&event(&format!(
                "UID:r\r\nDTSTART;TZID=Europe/Berlin:20270104T090000\r\nRRULE:{rule}\r\n"
            )));
            let _ = expand(&ics, d(2027, 1, 4), 31, Tz::UTC);
        }
    }

    #[test]
    fn a_file_whose_rules_cost_too_much_is_refused_in_bounded_time() {
        let events: String = (0..25)
            .map(|n| {
                event(&format!(
                    "UID:s{n}\r\nDTSTART:20200101T000000Z\r\nRRULE:FREQ=SECONDLY\r\n"
                ))
            })
            .collect();
        let started = std::time::Instant::now();
        let err = expand(&calendar(&events), d(2027, 1, 4), 7, Tz::UTC).unwrap_err();
        assert!(err.to_string().contains("too complex"), "{err}");
        assert!(started.elapsed() < TIME_LIMIT + std::time::Duration::from_secs(2));
    }

    #[test]
    fn any_window_is_safe() {
        for (from, days) in [
            (NaiveDate::MIN, u32::MAX),
            (NaiveDate::MAX, u32::MAX),
            (NaiveDate::MAX, 0),
            (d(9999, 12, 31), 3),
            (d(1, 1, 1), 0),
        ] {
            for zone in ["Pacific/Kiritimati", "Etc/GMT+12", "UTC"] {
                let _ = expand(VALID, from, days, zone.parse().unwrap());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn garbage_never_panics(text in "\\PC{0,300}") {
            let _ = expand(&text, d(2027, 1, 4), 7, Tz::UTC);
        }

        #[test]
        fn damaged_calendars_never_panic(
            cuts in prop::collection::vec((0usize..700, 0usize..40, "[A-Z0-9:;=,/+\\-TZ\r\n ]{0,12}"), 1..6),
            days in 0u32..400,
        ) {
            let mut text = VALID.to_owned();
            for (at, len, insert) in cuts {
                let at = at.min(text.len());
                let end = (at + len).min(text.len());
                text.replace_range(at..end, &insert);
            }
            let _ = expand(&text, d(2027, 1, 4), days, Tz::UTC);
        }
    }
}
