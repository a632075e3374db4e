//! The daily plan: which open tasks and routines go where on one local date, and why. Pure: the
//! same input always gives the same plan, and nothing here reads a clock or a database.
//!
//! Rules, in order: routines keep their time; the working window minus busy blocks is the room;
//! tasks go overdue first, then due today, scheduled today, the rest — each group by priority;
//! a task is placed whole or not at all, in blocks no longer than the maximum; high-energy work
//! goes into the high-energy hours when they have room, other work outside them first; the day
//! never takes more than the available time.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::recurrence::place;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Energy {
    Low,
    Medium,
    High,
}

#[derive(Clone, Debug)]
pub struct TaskIn {
    pub id: Uuid,
    pub priority: i16,
    pub due: Option<NaiveDate>,
    pub scheduled: Option<NaiveDate>,
    pub energy: Option<Energy>,
    pub estimate_minutes: Option<u32>,
    /// Minutes already spent on it in focus sessions: only the rest of the estimate is planned.
    pub focused_minutes: u32,
    /// Tasks with open steps are planned through their steps.
    pub has_open_steps: bool,
}

#[derive(Clone, Debug)]
pub struct RoutineIn {
    pub id: Uuid,
    pub time: Option<NaiveTime>,
    pub minutes: u32,
}

#[derive(Clone, Debug)]
pub struct PlanInput {
    pub date: NaiveDate,
    pub zone: Tz,
    pub work_start: NaiveTime,
    pub work_end: NaiveTime,
    pub high_energy_start: NaiveTime,
    pub high_energy_end: NaiveTime,
    pub available_minutes: u32,
    pub max_block_minutes: u32,
    pub default_estimate_minutes: u32,
    pub tasks: Vec<TaskIn>,
    pub routines: Vec<RoutineIn>,
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Nothing is placed before this instant (replanning a day that has begun).
    pub not_before: Option<DateTime<Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Item {
    Task(Uuid),
    Routine(Uuid),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Block {
    pub item: Item,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Why this item, and why here.
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Unplanned {
    pub item: Item,
    pub reason: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Plan {
    pub blocks: Vec<Block>,
    pub unplanned: Vec<Unplanned>,
}

type Span = (DateTime<Utc>, DateTime<Utc>);

/// `free` minus `taken`, as sorted, disjoint spans.
fn subtract(free: &[Span], taken: &[Span]) -> Vec<Span> {
    let mut out = Vec::new();
    for &(mut start, end) in free {
        let mut overlapping: Vec<&Span> = taken
            .iter()
            .filter(|(s, e)| *s < end && *e > start)
            .collect();
        overlapping.sort();
        for (s, e) in overlapping {
            if *s > start {
                out.push((start, *s));
            }
            start = start.max(*e);
        }
        if start < end {
            out.push((start, end));
        }
    }
    out
}

fn minutes(span: &Span) -> i64 {
    (span.1 - span.0).num_minutes()
}

fn urgency(task: &TaskIn, date: NaiveDate) -> (u8, &'static str) {
    match (task.due, task.scheduled) {
        (Some(due), _) if due < date => (0, "overdue"),
        (Some(due), _) if due == date => (1, "due today"),
        (_, Some(day)) if day == date => (2, "scheduled for today"),
        (Some(_), _) => (3, "due later"),
        _ => (4, "no date"),
    }
}

/// The user's current day: it begins at `day_starts_at` local time, not at midnight, so work
/// after midnight but before the boundary still belongs to the day before.
pub fn local_date(now: DateTime<Utc>, zone: Tz, day_starts_at: NaiveTime) -> NaiveDate {
    let local = now.with_timezone(&zone);
    let date = local.date_naive();
    if now < place(date, day_starts_at, zone) {
        date.pred_opt().unwrap_or(date)
    } else {
        date
    }
}

pub fn plan(input: &PlanInput) -> Plan {
    let at = |t: NaiveTime| place(input.date, t, input.zone);
    let mut out = Plan::default();
    let window = (at(input.work_start), at(input.work_end));
    let high = (at(input.high_energy_start), at(input.high_energy_end));
    let mut taken: Vec<Span> = input.busy.clone();
    let mut budget = i64::from(input.available_minutes);
    let passed = input.not_before.filter(|now| *now > window.0);
    if let Some(now) = passed {
        taken.push((window.0, now));
    }

    // Routines keep their time; untimed ones are placed like tasks, after them.
    let mut routines = input.routines.clone();
    routines.sort_by_key(|r| (r.time, r.id));
    for r in routines.iter().filter(|r| r.time.is_some()) {
        let start = at(r.time.unwrap_or(input.work_start));
        let span = (
            start,
            start + Duration::minutes(i64::from(r.minutes.max(1))),
        );
        let item = Item::Routine(r.id);
        if input.not_before.is_some_and(|now| span.0 < now) {
            out.unplanned.push(Unplanned {
                item,
                reason: "its time has already passed".into(),
            });
        } else if taken.iter().any(|(s, e)| *s < span.1 && *e > span.0) {
            out.unplanned.push(Unplanned {
                item,
                reason: "its time overlaps a busy block or another routine".into(),
            });
        } else if minutes(&span) > budget {
            out.unplanned.push(Unplanned {
                item,
                reason: "the day's available time is used up".into(),
            });
        } else {
            budget -= minutes(&span);
            taken.push(span);
            out.blocks.push(Block {
                item,
                start: span.0,
                end: span.1,
                reason: "routine at its usual time".into(),
            });
        }
    }

    // The free room changes only when something is placed, so it is kept rather than rebuilt.
    let mut room = subtract(&[window], &taken);
    let mut free: i64 = room.iter().map(minutes).sum();
    let mut tasks: Vec<&TaskIn> = input.tasks.iter().collect();
    tasks.sort_by_key(|t| (urgency(t, input.date).0, t.priority, t.due, t.id));
    let max_block = i64::from(input.max_block_minutes.max(5));
    for task in tasks {
        let item = Item::Task(task.id);
        if let Some(day) = task.scheduled.filter(|d| *d > input.date) {
            if task.due.is_none_or(|due| due > input.date) {
                out.unplanned.push(Unplanned {
                    item,
                    reason: format!("scheduled for {day}"),
                });
                continue;
            }
        }
        if task.has_open_steps {
            out.unplanned.push(Unplanned {
                item,
                reason: "planned through its open steps".into(),
            });
            continue;
        }
        let estimate = task
            .estimate_minutes
            .unwrap_or(input.default_estimate_minutes)
            .max(1);
        // Work already done in focus sessions shrinks what is left, down to a short block.
        let left_minutes = estimate
            .saturating_sub(task.focused_minutes)
            .max(estimate.min(15));
        let need = i64::from(left_minutes);
        if need > budget {
            out.unplanned.push(Unplanned {
                item,
                reason: format!(
                    "{}, priority {}: more than the day's remaining available time",
                    urgency(task, input.date).1,
                    task.priority
                ),
            });
            continue;
        }
        if need > free {
            out.unplanned.push(Unplanned {
                item,
                reason: format!(
                    "{}, priority {}: no room left in the working hours around busy blocks",
                    urgency(task, input.date).1,
                    task.priority
                ),
            });
            continue;
        }
        let high_energy = task.energy == Some(Energy::High);
        // Preferred spans first: the high-energy hours for high-energy work, the rest otherwise.
        let in_high = subtract(&room, &[(window.0, high.0), (high.1, window.1)]);
        let outside_high = subtract(&room, &[high]);
        let order: Vec<Span> = if high_energy {
            in_high.iter().chain(outside_high.iter()).copied().collect()
        } else {
            outside_high.iter().chain(in_high.iter()).copied().collect()
        };
        let mut left = need;
        let mut pieces: Vec<Span> = Vec::new();
        for span in order {
            let mut start = span.0;
            while left > 0 && minutes(&(start, span.1)) > 0 {
                let len = left.min(max_block).min(minutes(&(start, span.1)));
                pieces.push((start, start + Duration::minutes(len)));
                left -= len;
                start += Duration::minutes(len);
            }
            if left == 0 {
                break;
            }
        }
        let why = if left_minutes < estimate {
            format!(
                "{}, {left_minutes} of {estimate} min left after focus sessions",
                urgency(task, input.date).1
            )
        } else {
            urgency(task, input.date).1.to_owned()
        };
        if left > 0 {
            out.unplanned.push(Unplanned {
                item,
                reason: format!(
                    "{}, priority {}: no room left in the working hours around busy blocks",
                    urgency(task, input.date).1,
                    task.priority
                ),
            });
            continue;
        }
        budget -= need;
        room = subtract(&room, &pieces);
        free -= need;
        let total = pieces.len();
        for (n, piece) in pieces.into_iter().enumerate() {
            let place = if high_energy && piece.0 >= high.0 && piece.1 <= high.1 {
                "in your high-energy hours"
            } else if high_energy {
                "high-energy work, outside the high-energy hours (they were full)"
            } else {
                "in the first free slot"
            };
            let part = if total > 1 {
                format!(" (part {} of {total})", n + 1)
            } else {
                String::new()
            };
            taken.push(piece);
            out.blocks.push(Block {
                item,
                start: piece.0,
                end: piece.1,
                reason: format!("{why}, priority {}{part}; {place}", task.priority),
            });
        }
    }

    for r in routines.iter().filter(|r| r.time.is_none()) {
        let item = Item::Routine(r.id);
        let need = i64::from(r.minutes.max(1));
        let slot = subtract(&[window], &taken)
            .into_iter()
            .find(|s| minutes(s) >= need);
        match slot {
            Some(s) if need <= budget => {
                budget -= need;
                let span = (s.0, s.0 + Duration::minutes(need));
                taken.push(span);
                out.blocks.push(Block {
                    item,
                    start: span.0,
                    end: span.1,
                    reason: "routine without a set time, in the first free slot".into(),
                });
            }
            _ => out.unplanned.push(Unplanned {
                item,
                reason: "no room left for this routine today".into(),
            }),
        }
    }
    out.blocks.sort_by_key(|b| (b.start, b.end));
    out
}

#[cfg(test)]
mod tests;
