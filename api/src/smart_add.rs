//! Smart Add: tasks from a line of natural language, in the user's time zone and locale. Pure:
//! the same text, date and zone give the same drafts. One parser serves Smart Add and any
//! due-date string (`parse_due`).
//!
//! Understood: dates ("today", "tomorrow", "next fri", "in 3 days", "31/12" — "12/31" in en-US —,
//! "Dec 31", "2026-12-31", "end of month", "the 15th", "next week"), times ("5pm", "17:30",
//! "noon"), durations ("30m", "1h30", "2 hours"), recurrence ("every monday", "every 2 weeks",
//! "every last day of the month", "daily"), priority ("!1", "p1", "!high"), project ("#work"),
//! labels ("@phone"), energy ("~high", "low energy"). Several tasks: one per line, list item or
//! "; "-separated part. A bare weekday is the next such day, today included; "next" excludes today.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use regex::{Captures, Regex};
use serde::Serialize;
use utoipa::ToSchema;

use crate::recurrence::{place, Series};

/// Where in the input a field was read from (byte offsets into the whole input).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Span {
    pub field: &'static str,
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Draft {
    pub title: String,
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, example = "17:00:00")]
    pub due_time: Option<NaiveTime>,
    /// The instant, when a time was given (a time that does not exist that day moves forward).
    pub due_at: Option<DateTime<Utc>>,
    pub priority: Option<i16>,
    /// A project name, without `#`.
    pub project: Option<String>,
    pub labels: Vec<String>,
    pub estimate_minutes: Option<i32>,
    /// An RRULE, e.g. `FREQ=WEEKLY;BYDAY=MO`.
    pub recurrence: Option<String>,
    /// `low`, `medium` or `high`.
    pub energy: Option<String>,
    pub spans: Vec<Span>,
}

#[derive(Clone, Copy, Debug)]
pub struct Context {
    pub today: NaiveDate,
    pub zone: Tz,
    /// Numeric dates read month first (`en-US`) or day first (everyone else).
    pub month_first: bool,
}

impl Context {
    pub fn new(today: NaiveDate, zone: Tz, locale: &str) -> Self {
        Context {
            today,
            zone,
            month_first: locale.eq_ignore_ascii_case("en-us"),
        }
    }
}

const WEEKDAY: &str = r"(mon|monday|tue|tues|tuesday|wed|weds|wednesday|thu|thur|thurs|thursday|fri|friday|sat|saturday|sun|sunday)";
const MONTH: &str = r"(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december)";

fn re(pattern: &str) -> Regex {
    Regex::new(&pattern.replace("WEEKDAY", WEEKDAY).replace("MONTH", MONTH)).expect("valid pattern")
}

fn weekday(name: &str) -> Option<Weekday> {
    Some(match name.get(..3)? {
        "mon" => Weekday::Mon,
        "tue" => Weekday::Tue,
        "wed" => Weekday::Wed,
        "thu" => Weekday::Thu,
        "fri" => Weekday::Fri,
        "sat" => Weekday::Sat,
        "sun" => Weekday::Sun,
        _ => return None,
    })
}

fn month(name: &str) -> Option<u32> {
    let m = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    m.iter()
        .position(|p| name.starts_with(p))
        .map(|i| i as u32 + 1)
}

fn byday(day: Weekday) -> &'static str {
    ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.num_days_from_monday() as usize]
}

/// The first `day` on or after `from`.
fn on_or_after(from: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (7 + day.num_days_from_monday() - from.weekday().num_days_from_monday()) % 7;
    from + Duration::days(ahead.into())
}

fn last_of_month(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap_or(date);
    first
        .checked_add_months(Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(date)
}

fn number(word: &str) -> Option<u32> {
    match word {
        "a" | "an" | "one" => Some(1),
        "two" => Some(2),
        "three" => Some(3),
        "four" => Some(4),
        "five" => Some(5),
        "six" => Some(6),
        "seven" => Some(7),
        "ten" => Some(10),
        n => n.parse().ok().filter(|n| *n <= 1000),
    }
}

/// A day and month without a year: this year's, or next year's once it has passed.
fn upcoming(today: NaiveDate, month: u32, day: u32, year: Option<i32>) -> Option<NaiveDate> {
    match year {
        Some(y) => NaiveDate::from_ymd_opt(if y < 100 { 2000 + y } else { y }, month, day),
        None => {
            let this = NaiveDate::from_ymd_opt(today.year(), month, day);
            match this {
                Some(d) if d >= today => Some(d),
                _ => NaiveDate::from_ymd_opt(today.year() + 1, month, day),
            }
        }
    }
}

type Rule = (Regex, fn(&Captures, &Context) -> Option<Found>);

enum Found {
    Date(NaiveDate),
    Time(NaiveTime),
    Minutes(i32),
    Rule(String),
    Priority(i16),
    Energy(&'static str),
}

static RECURRENCE: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        (
            re(r"\bevery\s+last\s+day\s+of\s+(?:the\s+)?month\b"),
            |_, _| Some(Found::Rule("FREQ=MONTHLY;BYMONTHDAY=-1".into())),
        ),
        (
            re(
                r"\bevery\s+(first|second|third|fourth|last|1st|2nd|3rd|4th)\s+WEEKDAY(?:\s+of\s+(?:the\s+|each\s+|every\s+)?month)?\b",
            ),
            |c, _| {
                let n = match &c[1] {
                    "first" | "1st" => 1,
                    "second" | "2nd" => 2,
                    "third" | "3rd" => 3,
                    "fourth" | "4th" => 4,
                    _ => -1,
                };
                Some(Found::Rule(format!(
                    "FREQ=MONTHLY;BYDAY={n}{}",
                    byday(weekday(&c[2])?)
                )))
            },
        ),
        (
            re(
                r"\bevery\s+(\d{1,2})(?:st|nd|rd|th)?\s+(?:day\s+)?of\s+(?:the\s+|each\s+|every\s+)?month\b",
            ),
            |c, _| {
                let d: u32 = c[1].parse().ok().filter(|d| (1..=31).contains(d))?;
                Some(Found::Rule(format!("FREQ=MONTHLY;BYMONTHDAY={d}")))
            },
        ),
        (
            re(r"\bevery\s+(\d+|other)\s+(day|days|week|weeks|month|months|year|years)\b"),
            |c, _| {
                let n: u32 = if &c[1] == "other" {
                    2
                } else {
                    c[1].parse().ok().filter(|n| (1..=365).contains(n))?
                };
                let freq = match &c[2][..1] {
                    "d" => "DAILY",
                    "w" => "WEEKLY",
                    "m" => "MONTHLY",
                    _ => "YEARLY",
                };
                Some(Found::Rule(if n == 1 {
                    format!("FREQ={freq}")
                } else {
                    format!("FREQ={freq};INTERVAL={n}")
                }))
            },
        ),
        (
            re(r"\bevery\s+(weekday|workday)s?\b|\bweekdays\b"),
            |_, _| Some(Found::Rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR".into())),
        ),
        (re(r"\bevery\s+weekend\b"), |_, _| {
            Some(Found::Rule("FREQ=WEEKLY;BYDAY=SA,SU".into()))
        }),
        (
            re(r"\bevery\s+WEEKDAY(?:\s*(?:,|and|&)\s*WEEKDAY)*\b"),
            |c, _| {
                let days: Vec<&str> = c[0]
                    .split(|ch: char| !ch.is_ascii_alphabetic())
                    .filter_map(weekday)
                    .map(byday)
                    .collect();
                Some(Found::Rule(format!("FREQ=WEEKLY;BYDAY={}", days.join(","))))
            },
        ),
        (
            re(r"\b(?:every\s+(day|week|month|year)|(daily|weekly|monthly|yearly|annually))\b"),
            |c, _| {
                let word = c.get(1).or(c.get(2))?.as_str();
                let freq = match &word[..1] {
                    "d" => "DAILY",
                    "w" => "WEEKLY",
                    "m" => "MONTHLY",
                    _ => "YEARLY",
                };
                Some(Found::Rule(format!("FREQ={freq}")))
            },
        ),
    ]
});

static DATES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        (re(r"\b(\d{4})-(\d{2})-(\d{2})\b"), |c, _| {
            NaiveDate::from_ymd_opt(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?)
                .map(Found::Date)
        }),
        (
            re(r"\b(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}|\d{2}))?\b"),
            |c, ctx| {
                let (a, b): (u32, u32) = (c[1].parse().ok()?, c[2].parse().ok()?);
                let (m, d) = if ctx.month_first { (a, b) } else { (b, a) };
                upcoming(
                    ctx.today,
                    m,
                    d,
                    c.get(3).and_then(|y| y.as_str().parse().ok()),
                )
                .map(Found::Date)
            },
        ),
        (
            re(r"\bMONTH\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?\b"),
            |c, ctx| {
                upcoming(
                    ctx.today,
                    month(&c[1])?,
                    c[2].parse().ok()?,
                    c.get(3).and_then(|y| y.as_str().parse().ok()),
                )
                .map(Found::Date)
            },
        ),
        (
            re(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?MONTH\b\.?(?:,?\s+(\d{4}))?"),
            |c, ctx| {
                upcoming(
                    ctx.today,
                    month(&c[2])?,
                    c[1].parse().ok()?,
                    c.get(3).and_then(|y| y.as_str().parse().ok()),
                )
                .map(Found::Date)
            },
        ),
        (re(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), |_, ctx| {
            Some(Found::Date(ctx.today + Duration::days(2)))
        }),
        (re(r"\b(today|tonight|tod)\b"), |_, ctx| {
            Some(Found::Date(ctx.today))
        }),
        (re(r"\b(tomorrow|tmrw|tmr|tomorow)\b"), |_, ctx| {
            Some(Found::Date(ctx.today + Duration::days(1)))
        }),
        (
            re(
                r"\bin\s+(\d+|a|an|one|two|three|four|five|six|seven|ten)\s+(day|days|week|weeks|month|months|year|years)\b",
            ),
            |c, ctx| {
                let n = number(&c[1])?;
                Some(Found::Date(match &c[2][..1] {
                    "d" => ctx.today + Duration::days(n.into()),
                    "w" => ctx.today + Duration::weeks(n.into()),
                    "m" => ctx.today.checked_add_months(Months::new(n))?,
                    _ => ctx.today.checked_add_months(Months::new(n * 12))?,
                }))
            },
        ),
        (
            re(r"\b(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+)?month\b|\beom\b"),
            |_, ctx| Some(Found::Date(last_of_month(ctx.today))),
        ),
        (
            re(r"\b(?:by\s+)?(?:the\s+)?end\s+of\s+(?:the\s+)?week\b|\beow\b"),
            |_, ctx| Some(Found::Date(on_or_after(ctx.today, Weekday::Fri))),
        ),
        (re(r"\bnext\s+week\b"), |_, ctx| {
            Some(Found::Date(on_or_after(
                ctx.today + Duration::days(1),
                Weekday::Mon,
            )))
        }),
        (re(r"\bnext\s+month\b"), |_, ctx| {
            ctx.today
                .with_day(1)?
                .checked_add_months(Months::new(1))
                .map(Found::Date)
        }),
        (re(r"\b(?:this\s+)?weekend\b"), |_, ctx| {
            Some(Found::Date(on_or_after(ctx.today, Weekday::Sat)))
        }),
        (re(r"\b(next\s+)?WEEKDAY\b"), |c, ctx| {
            let day = weekday(&c[2])?;
            let from = if c.get(1).is_some() {
                ctx.today + Duration::days(1)
            } else {
                ctx.today
            };
            Some(Found::Date(on_or_after(from, day)))
        }),
        (
            re(r"\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b"),
            |c, ctx| {
                let d: u32 = c[1].parse().ok()?;
                let this = ctx.today.with_day(d).filter(|x| *x >= ctx.today);
                this.or_else(|| {
                    ctx.today
                        .with_day(1)?
                        .checked_add_months(Months::new(1))?
                        .with_day(d)
                })
                .map(Found::Date)
            },
        ),
    ]
});

static TIMES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        (
            re(r"\b(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)"),
            |c, _| {
                let mut h: u32 = c[1].parse().ok().filter(|h| (1..=12).contains(h))?;
                let m: u32 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
                let pm = c[3].starts_with('p');
                if h == 12 {
                    h = 0;
                }
                NaiveTime::from_hms_opt(h + if pm { 12 } else { 0 }, m, 0).map(Found::Time)
            },
        ),
        (re(r"\b(?:at\s+)?([01]?\d|2[0-3]):([0-5]\d)\b"), |c, _| {
            NaiveTime::from_hms_opt(c[1].parse().ok()?, c[2].parse().ok()?, 0).map(Found::Time)
        }),
        (re(r"\b(?:at\s+)?noon\b|\bmidday\b"), |_, _| {
            NaiveTime::from_hms_opt(12, 0, 0).map(Found::Time)
        }),
        (re(r"\bat\s+(\d{1,2})\b"), |c, _| {
            NaiveTime::from_hms_opt(c[1].parse().ok().filter(|h: &u32| *h < 24)?, 0, 0)
                .map(Found::Time)
        }),
    ]
});

static DURATIONS: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        (
            re(
                r"\b(?:for\s+)?(\d+(?:\.\d+)?)\s*(?:h|hr|hrs|hour|hours)(?:\s*(\d+)\s*(?:m|min|mins|minutes)?)?\b",
            ),
            |c, _| {
                let hours: f64 = c[1].parse().ok()?;
                let extra: i32 = c.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
                Some(Found::Minutes((hours * 60.0).round() as i32 + extra))
            },
        ),
        (
            re(r"\b(?:for\s+)?(\d+)\s*(?:m|min|mins|minute|minutes)\b"),
            |c, _| c[1].parse().ok().map(Found::Minutes),
        ),
    ]
});

static MARKS: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        (re(r"(?:^|\s)(?:!|p)([1-4])\b"), |c, _| {
            c[1].parse().ok().map(Found::Priority)
        }),
        (re(r"(?:^|\s)!(urgent|high|medium|med|low)\b"), |c, _| {
            Some(Found::Priority(match &c[1] {
                "urgent" | "high" => 1,
                "medium" | "med" => 2,
                _ => 3,
            }))
        }),
        (
            re(r"(?:^|\s)~(low|medium|high)\b|\b(low|medium|high)[- ]energy\b"),
            |c, _| {
                Some(Found::Energy(match c.get(1).or(c.get(2))?.as_str() {
                    "low" => "low",
                    "medium" => "medium",
                    _ => "high",
                }))
            },
        ),
    ]
});

static PROJECT: LazyLock<Regex> = LazyLock::new(|| re(r"(?:^|\s)#([\w][\w-]*)"));
static LABEL: LazyLock<Regex> = LazyLock::new(|| re(r"(?:^|\s)@([\w][\w-]*)"));
static ITEM: LazyLock<Regex> = LazyLock::new(|| re(r"^\s*(?:[-*•]|\d+[.)]|\[ ?\])\s+"));
static DANGLING: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?:\s+(?:on|at|by|due|for|in|from|starting|every|,|-))+\s*$"));

struct Line<'a> {
    text: &'a str,
    lower: String,
    offset: usize,
    taken: Vec<(usize, usize)>,
}

impl Line<'_> {
    fn free(&self, start: usize, end: usize) -> bool {
        self.taken.iter().all(|(s, e)| end <= *s || start >= *e)
    }

    /// The first match of `rules` not overlapping what was read already.
    fn take(
        &mut self,
        rules: &[Rule],
        ctx: &Context,
        field: &'static str,
        spans: &mut Vec<Span>,
    ) -> Option<Found> {
        for (regex, read) in rules {
            let lower = self.lower.clone();
            for c in regex.captures_iter(&lower) {
                let m = c.get(0)?;
                let (start, end) = trim(self.text, m.start(), m.end());
                if !self.free(start, end) {
                    continue;
                }
                if let Some(found) = read(&c, ctx) {
                    self.taken.push((start, end));
                    spans.push(Span {
                        field,
                        start: self.offset + start,
                        end: self.offset + end,
                        text: self.text[start..end].to_owned(),
                    });
                    return Some(found);
                }
            }
        }
        None
    }
}

/// A match without the whitespace its pattern may have eaten at the start.
fn trim(text: &str, start: usize, end: usize) -> (usize, usize) {
    let lead = text[start..end].len() - text[start..end].trim_start().len();
    (start + lead, end)
}

fn parse_line(text: &str, offset: usize, ctx: &Context) -> Option<Draft> {
    let mut line = Line {
        text,
        lower: text.to_ascii_lowercase(),
        offset,
        taken: Vec::new(),
    };
    let mut d = Draft::default();
    let mut spans = Vec::new();
    line.read_when_and_marks(ctx, &mut d, &mut spans);
    line.read_tags(&mut d, &mut spans);
    complete_due(&mut d, ctx)?;
    let title = line.title();
    if title.is_empty() {
        return None;
    }
    d.title = title;
    spans.sort_by_key(|s| s.start);
    d.spans = spans;
    Some(d)
}

impl Line<'_> {
    /// The repeat rule, due date and time, estimate, priority and energy marks.
    fn read_when_and_marks(&mut self, ctx: &Context, d: &mut Draft, spans: &mut Vec<Span>) {
        if let Some(Found::Rule(rule)) = self.take(&RECURRENCE, ctx, "recurrence", spans) {
            d.recurrence = Some(rule);
        }
        if let Some(Found::Date(date)) = self.take(&DATES, ctx, "due_date", spans) {
            d.due_date = Some(date);
        }
        if let Some(Found::Time(time)) = self.take(&TIMES, ctx, "due_time", spans) {
            d.due_time = Some(time);
        }
        if let Some(Found::Minutes(m)) = self.take(&DURATIONS, ctx, "estimate_minutes", spans) {
            d.estimate_minutes = Some(m).filter(|m| (1..=1440).contains(m));
        }
        for _ in 0..2 {
            match self.take(&MARKS, ctx, "marks", spans) {
                Some(Found::Priority(p)) => d.priority = Some(p),
                Some(Found::Energy(e)) => d.energy = Some(e.to_owned()),
                _ => {}
            }
        }
        for s in spans.iter_mut().filter(|s| s.field == "marks") {
            s.field = if s.text.contains('~') || s.text.contains("energy") {
                "energy"
            } else {
                "priority"
            };
        }
    }

    /// The `+project` (the first one) and `#labels` (each once).
    fn read_tags(&mut self, d: &mut Draft, spans: &mut Vec<Span>) {
        let text = self.text;
        for (regex, field) in [(&*PROJECT, "project"), (&*LABEL, "labels")] {
            for c in regex.captures_iter(text) {
                let (Some(all), Some(name)) = (c.get(0), c.get(1)) else {
                    continue;
                };
                let (start, end) = trim(text, all.start(), all.end());
                if !self.free(start, end) {
                    continue;
                }
                self.taken.push((start, end));
                spans.push(Span {
                    field,
                    start: self.offset + start,
                    end: self.offset + end,
                    text: text[start..end].to_owned(),
                });
                if field == "project" {
                    d.project.get_or_insert_with(|| name.as_str().to_owned());
                } else if !d.labels.iter().any(|l| l == name.as_str()) {
                    d.labels.push(name.as_str().to_owned());
                }
            }
        }
    }

    /// What was not read as a field, without the words left dangling around it.
    fn title(&mut self) -> String {
        let text = self.text;
        let mut title = String::new();
        let mut last = 0;
        self.taken.sort();
        for (s, e) in &self.taken {
            if *s > last {
                title.push_str(&text[last..*s]);
            }
            last = last.max(*e);
        }
        title.push_str(&text[last.min(text.len())..]);
        let mut title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        loop {
            let trimmed = DANGLING.replace(&title, "").to_string();
            if trimmed == title {
                break;
            }
            title = trimmed;
        }
        title
            .trim_matches(|c: char| c == ',' || c == '-' || c.is_whitespace())
            .to_owned()
    }
}

/// A recurring task without a date is due on its first occurrence, a time without a date is
/// today's, and a date with a time is an instant in the user's zone. `None`: the rule has no
/// occurrence to start from.
fn complete_due(d: &mut Draft, ctx: &Context) -> Option<()> {
    if let (Some(rule), None) = (&d.recurrence, d.due_date) {
        let series = Series {
            rule,
            start: ctx.today,
            time: None,
            zone: ctx.zone,
        };
        d.due_date = series
            .occurrences(ctx.today, 1, &[])
            .ok()?
            .first()
            .map(|o| o.date);
    }
    if d.due_time.is_some() && d.due_date.is_none() {
        d.due_date = Some(ctx.today);
    }
    d.due_at = d
        .due_date
        .zip(d.due_time)
        .map(|(date, time)| place(date, time, ctx.zone));
    Some(())
}

/// Every task in `input`: one per line, list item or "; "-separated part.
pub fn parse(input: &str, ctx: &Context) -> Vec<Draft> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in input.split_inclusive('\n') {
        let mut part_offset = offset;
        for part in raw.split_inclusive(';') {
            let body = part.trim_end_matches(['\n', '\r', ';']);
            let lead = ITEM.find(body).map_or(0, |m| m.end());
            if let Some(d) = parse_line(&body[lead..], part_offset + lead, ctx) {
                out.push(d);
            }
            part_offset += part.len();
        }
        offset += raw.len();
    }
    out
}

/// A due date (and time) from a short phrase such as "next fri 5pm".
pub fn parse_due(input: &str, ctx: &Context) -> Option<(NaiveDate, Option<NaiveTime>)> {
    let draft = parse_line(&format!("x {input}"), 0, ctx)?;
    (draft.title == "x").then_some(())?;
    Some((draft.due_date?, draft.due_time))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx() -> Context {
        Context::new(
            NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            chrono_tz::Europe::Berlin,
            "en-GB",
        )
    }

    #[test]
    fn reads_every_field_and_where_it_came_from() {
        let d = &parse(
            "Call mum tomorrow 5pm for 30m !1 #family @phone ~low",
            &ctx(),
        )[0];
        assert_eq!(d.title, "Call mum");
        assert_eq!(d.due_date, NaiveDate::from_ymd_opt(2026, 11, 27));
        assert_eq!(d.due_time, NaiveTime::from_hms_opt(17, 0, 0));
        assert_eq!(d.estimate_minutes, Some(30));
        assert_eq!(d.priority, Some(1));
        assert_eq!(d.project.as_deref(), Some("family"));
        assert_eq!(d.labels, ["phone"]);
        assert_eq!(d.energy.as_deref(), Some("low"));
        let date = d.spans.iter().find(|s| s.field == "due_date").unwrap();
        assert_eq!(date.text, "tomorrow");
    }

    #[test]
    fn due_strings_alone() {
        assert_eq!(
            parse_due("next fri 5pm", &ctx()),
            Some((
                NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
                NaiveTime::from_hms_opt(17, 0, 0)
            ))
        );
        assert_eq!(parse_due("sometime", &ctx()), None);
    }

    proptest! {
        #[test]
        fn never_panics_and_spans_point_into_the_input(input in "\\PC{0,80}", day in 0i64..800) {
            let mut c = ctx();
            c.today += Duration::days(day);
            for d in parse(&input, &c) {
                prop_assert!(!d.title.is_empty());
                for s in &d.spans {
                    prop_assert_eq!(input.get(s.start..s.end), Some(s.text.as_str()));
                }
            }
        }
    }
}
