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
    let mut day = Day::new(input);
    // Routines keep their time; untimed ones are placed like tasks, after them.
    let mut routines = input.routines.clone();
    routines.sort_by_key(|r| (r.time, r.id));
    for r in routines.iter().filter(|r| r.time.is_some()) {
        day.place_timed_routine(r);
    }
    day.place_tasks();
    for r in routines.iter().filter(|r| r.time.is_none()) {
        day.place_untimed_routine(r);
    }
    let mut out = day.out;
    out.blocks.sort_by_key(|b| (b.start, b.end));
    out
}

/// The day being planned: what is taken, the time left to give, and what has been decided.
struct Day<'a> {
    input: &'a PlanInput,
    window: Span,
    high: Span,
    taken: Vec<Span>,
    budget: i64,
    out: Plan,
}

/// The free part of the working window, kept rather than rebuilt: it changes only when
/// something is placed.
struct Room {
    spans: Vec<Span>,
    minutes: i64,
}

impl<'a> Day<'a> {
    fn new(input: &'a PlanInput) -> Self {
        let at = |t: NaiveTime| place(input.date, t, input.zone);
        let window = (at(input.work_start), at(input.work_end));
        let mut taken: Vec<Span> = input.busy.clone();
        if let Some(now) = input.not_before.filter(|now| *now > window.0) {
            taken.push((window.0, now));
        }
        Day {
            input,
            window,
            high: (at(input.high_energy_start), at(input.high_energy_end)),
            taken,
            budget: i64::from(input.available_minutes),
            out: Plan::default(),
        }
    }

    fn unplanned(&mut self, item: Item, reason: String) {
        self.out.unplanned.push(Unplanned { item, reason });
    }

    fn block(&mut self, item: Item, span: Span, reason: String) {
        self.taken.push(span);
        self.out.blocks.push(Block {
            item,
            start: span.0,
            end: span.1,
            reason,
        });
    }

    /// Planned after the working window has ended: nothing more fits in it today.
    fn day_is_over(&self) -> Option<String> {
        self.input
            .not_before
            .is_some_and(|now| now >= self.window.1)
            .then(|| {
                format!(
                    "the working day ({}–{}) is over",
                    self.input.work_start.format("%H:%M"),
                    self.input.work_end.format("%H:%M")
                )
            })
    }

    fn place_timed_routine(&mut self, r: &RoutineIn) {
        let start = place(
            self.input.date,
            r.time.unwrap_or(self.input.work_start),
            self.input.zone,
        );
        let span = (
            start,
            start + Duration::minutes(i64::from(r.minutes.max(1))),
        );
        let item = Item::Routine(r.id);
        if self.input.not_before.is_some_and(|now| span.0 < now) {
            self.unplanned(item, "its time has already passed".into());
        } else if self.taken.iter().any(|(s, e)| *s < span.1 && *e > span.0) {
            self.unplanned(
                item,
                "its time overlaps a busy block or another routine".into(),
            );
        } else if minutes(&span) > self.budget {
            self.unplanned(item, "the day's available time is used up".into());
        } else {
            self.budget -= minutes(&span);
            self.block(item, span, "routine at its usual time".into());
        }
    }

    fn place_tasks(&mut self) {
        let spans = subtract(&[self.window], &self.taken);
        let mut room = Room {
            minutes: spans.iter().map(minutes).sum(),
            spans,
        };
        let mut tasks: Vec<&TaskIn> = self.input.tasks.iter().collect();
        tasks.sort_by_key(|t| (urgency(t, self.input.date).0, t.priority, t.due, t.id));
        for task in tasks {
            if let Err(reason) = self.place_task(task, &mut room) {
                self.unplanned(Item::Task(task.id), reason);
            }
        }
    }

    /// Places one task whole, or says why it stays out of today's plan.
    fn place_task(&mut self, task: &TaskIn, room: &mut Room) -> Result<(), String> {
        let date = self.input.date;
        if let Some(day) = task.scheduled.filter(|d| *d > date) {
            if task.due.is_none_or(|due| due > date) {
                return Err(format!("scheduled for {day}"));
            }
        }
        if task.has_open_steps {
            return Err("planned through its open steps".into());
        }
        let label = urgency(task, date).1;
        let left_out = |why: &str| format!("{label}, priority {}: {why}", task.priority);
        if let Some(over) = self.day_is_over() {
            return Err(left_out(&over));
        }
        let estimate = task
            .estimate_minutes
            .unwrap_or(self.input.default_estimate_minutes)
            .max(1);
        // Work already done in focus sessions shrinks what is left, down to a short block.
        let left_minutes = estimate
            .saturating_sub(task.focused_minutes)
            .max(estimate.min(15));
        let need = i64::from(left_minutes);
        if need > self.budget {
            return Err(left_out("more than the day's remaining available time"));
        }
        let no_room = "no room left in the working hours around busy blocks";
        if need > room.minutes {
            return Err(left_out(no_room));
        }
        let high_energy = task.energy == Some(Energy::High);
        let (in_high, outside_high) = self.split_by_energy(&room.spans);
        let pieces = if high_energy {
            self.cut(need, in_high.iter().chain(&outside_high))
        } else {
            self.cut(need, outside_high.iter().chain(&in_high))
        }
        .ok_or_else(|| left_out(no_room))?;
        // Free high-energy time before a piece of other work was passed over on purpose.
        let skipped_high = in_high.first().map(|s| s.0);

        self.budget -= need;
        room.spans = subtract(&room.spans, &pieces);
        room.minutes -= need;
        let why = if left_minutes < estimate {
            format!("{label}, {left_minutes} of {estimate} min left after focus sessions")
        } else {
            label.to_owned()
        };
        let total = pieces.len();
        for (n, piece) in pieces.into_iter().enumerate() {
            let place = self.where_and_why(piece, high_energy, skipped_high);
            let part = if total > 1 {
                format!(" (part {} of {total})", n + 1)
            } else {
                String::new()
            };
            let reason = format!("{why}, priority {}{part}; {place}", task.priority);
            self.block(Item::Task(task.id), piece, reason);
        }
        Ok(())
    }

    /// The free spans inside the high-energy hours, and those outside them.
    fn split_by_energy(&self, free: &[Span]) -> (Vec<Span>, Vec<Span>) {
        let (window, high) = (self.window, self.high);
        let in_high = subtract(free, &[(window.0, high.0), (high.1, window.1)]);
        (in_high, subtract(free, &[high]))
    }

    /// `need` minutes cut into blocks no longer than the maximum, from the spans in order of
    /// preference; `None` when they do not hold it all.
    fn cut<'s>(&self, need: i64, spans: impl Iterator<Item = &'s Span>) -> Option<Vec<Span>> {
        let max_block = i64::from(self.input.max_block_minutes.max(5));
        let mut left = need;
        let mut pieces: Vec<Span> = Vec::new();
        for span in spans {
            let mut start = span.0;
            while left > 0 && minutes(&(start, span.1)) > 0 {
                let len = left.min(max_block).min(minutes(&(start, span.1)));
                pieces.push((start, start + Duration::minutes(len)));
                left -= len;
                start += Duration::minutes(len);
            }
            if left == 0 {
                return Some(pieces);
            }
        }
        None
    }

    /// Why a piece of a task sits where it does.
    fn where_and_why(
        &self,
        piece: Span,
        high_energy: bool,
        skipped_high: Option<DateTime<Utc>>,
    ) -> &'static str {
        let in_high = piece.0 >= self.high.0 && piece.1 <= self.high.1;
        match (high_energy, in_high) {
            (true, true) => "in your high-energy hours",
            (true, false) => "high-energy work, outside the high-energy hours (they were full)",
            (false, true) => "in your high-energy hours (the other working hours were full)",
            (false, false) if skipped_high.is_some_and(|s| s < piece.0) => {
                "outside your high-energy hours, kept free for high-energy work"
            }
            (false, false) => "in the first free slot",
        }
    }

    fn place_untimed_routine(&mut self, r: &RoutineIn) {
        let item = Item::Routine(r.id);
        if let Some(over) = self.day_is_over() {
            return self.unplanned(item, over);
        }
        let need = i64::from(r.minutes.max(1));
        let slot = subtract(&[self.window], &self.taken)
            .into_iter()
            .find(|s| minutes(s) >= need);
        match slot {
            Some(s) if need <= self.budget => {
                self.budget -= need;
                let span = (s.0, s.0 + Duration::minutes(need));
                self.block(
                    item,
                    span,
                    "routine without a set time, in the first free slot".into(),
                );
            }
            _ => self.unplanned(item, "no room left for this routine today".into()),
        }
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
