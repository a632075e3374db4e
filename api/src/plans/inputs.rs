//! What the planner is given, read from the caller's own rows: open tasks, the routines due that
//! day, focus history, settings and onboarding answers, in the user's time zone.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::{
    prelude::*,
    sql_types::{Int4, Nullable, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    account::preferences::{self, Settings},
    common::zone::user_zone,
    db::{pool::Conn, schema::app::tasks as t},
    http::problem::ApiResult,
    planner::day::{Energy, Item, PlanInput, RoutineIn, TaskIn},
    recurrence::place,
};

/// Open tasks considered for one plan; beyond this the lowest-ranked are not read.
pub const MAX_TASKS: i64 = 5_000;
/// A routine without a duration takes this long.
pub const ROUTINE_MINUTES: u32 = 15;
/// Without focus history, a task without an estimate takes this long.
pub const DEFAULT_ESTIMATE: u32 = 30;

/// The planner's input plus what the answer needs to be readable.
pub struct Loaded {
    pub input: PlanInput,
    pub settings: Settings,
    pub titles: HashMap<Item, String>,
}

pub fn energy(value: &str) -> Option<Energy> {
    match value {
        "low" => Some(Energy::Low),
        "medium" => Some(Energy::Medium),
        "high" => Some(Energy::High),
        _ => None,
    }
}

/// The open tasks not yet settled, with what focus sessions already spent on each; their titles
/// go into `titles`.
async fn open_tasks(
    conn: &mut Conn,
    req: &Request<'_>,
    default_energy: Option<Energy>,
    titles: &mut HashMap<Item, String>,
) -> ApiResult<Vec<TaskIn>> {
    let rows: Vec<TaskCols> = t::table
        .filter(t::workspace_id.eq(req.workspace_id))
        .filter(t::status.eq_any(["todo", "in_progress"]))
        .order((
            t::due_date.asc().nulls_last(),
            t::priority.asc(),
            t::id.asc(),
        ))
        .limit(MAX_TASKS)
        .select((
            t::id,
            t::title,
            t::priority,
            t::due_date,
            t::scheduled_date,
            t::energy,
            t::estimate_minutes,
            t::parent_id,
        ))
        .load(conn)
        .await?;
    let with_open_steps: HashSet<Uuid> = rows.iter().filter_map(|row| row.7).collect();
    let focused = focused_minutes(conn, req.workspace_id).await?;
    let mut tasks = Vec::with_capacity(rows.len());
    for (id, title, priority, due, scheduled, task_energy, estimate, _) in rows {
        let item = Item::Task(id);
        if req.settled.contains(&item) {
            continue;
        }
        titles.insert(item, title);
        tasks.push(TaskIn {
            id,
            priority,
            due,
            scheduled,
            energy: task_energy.as_deref().and_then(energy).or(default_energy),
            estimate_minutes: estimate.map(|m| m.max(1) as u32),
            focused_minutes: focused.get(&id).copied().unwrap_or(0),
            has_open_steps: with_open_steps.contains(&id),
        });
    }
    Ok(tasks)
}

/// Minutes spent in finished focus sessions, per task of the workspace.
async fn focused_minutes(conn: &mut Conn, workspace_id: Uuid) -> ApiResult<HashMap<Uuid, u32>> {
    Ok(diesel::sql_query(
        "SELECT task_id, (sum(extract(epoch FROM ended_at - started_at)) / 60)::int4 AS minutes \
         FROM app.focus_sessions WHERE workspace_id = $1 AND task_id IS NOT NULL AND ended_at IS NOT NULL \
         GROUP BY task_id",
    )
    .bind::<SqlUuid, _>(workspace_id)
    .load::<Focused>(conn)
    .await?
    .into_iter()
    .map(|f| (f.task_id, f.minutes.max(0) as u32))
    .collect())
}

/// What a typical recent focus session took: a task without an estimate takes that long.
async fn typical_focus_minutes(
    conn: &mut Conn,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> ApiResult<Option<i32>> {
    Ok(diesel::sql_query(
        "SELECT (percentile_disc(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM ended_at - started_at)) / 60)::int4 AS minutes \
         FROM app.focus_sessions WHERE created_by = $1 AND ended_at IS NOT NULL \
         AND ended_at - started_at >= interval '5 minutes' AND started_at >= $2",
    )
    .bind::<SqlUuid, _>(user_id)
    .bind::<Timestamptz, _>(now - chrono::Duration::days(30))
    .get_result::<Median>(conn)
    .await?
    .minutes)
}

/// The routines due that day and not yet done, skipped or settled; their titles go into `titles`.
async fn due_routines(
    conn: &mut Conn,
    req: &Request<'_>,
    zone: Tz,
    titles: &mut HashMap<Item, String>,
) -> ApiResult<Vec<RoutineIn>> {
    let mut routines = Vec::new();
    for due in crate::routines::due::on(conn, req.workspace_id, req.date, zone).await? {
        let item = Item::Routine(due.id);
        if due.outcome.is_some() || req.settled.contains(&item) {
            continue;
        }
        titles.insert(item, due.title);
        routines.push(RoutineIn {
            id: due.id,
            time: due.time_of_day,
            minutes: due
                .duration_minutes
                .map_or(ROUTINE_MINUTES, |m| m.max(1) as u32),
        });
    }
    Ok(routines)
}

/// Minutes of planned work a day holds, from the onboarding bucket, never more than the window.
pub fn available_minutes(bucket: &str, window_minutes: u32) -> u32 {
    let minutes = match bucket {
        "under_1h" => 60,
        "1_2h" => 120,
        "2_4h" => 240,
        _ => window_minutes,
    };
    minutes.min(window_minutes)
}

#[derive(QueryableByName)]
struct Focused {
    #[diesel(sql_type = SqlUuid)]
    task_id: Uuid,
    #[diesel(sql_type = Int4)]
    minutes: i32,
}

#[derive(QueryableByName)]
struct Median {
    #[diesel(sql_type = Nullable<Int4>)]
    minutes: Option<i32>,
}

pub struct Request<'a> {
    pub user_id: Uuid,
    pub workspace_id: Uuid,
    pub date: NaiveDate,
    pub now: DateTime<Utc>,
    pub busy: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Items already settled in a stored plan (accepted or rejected): not planned again.
    pub settled: &'a HashSet<Item>,
}

type TaskCols = (
    Uuid,
    String,
    i16,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<String>,
    Option<i32>,
    Option<Uuid>,
);

pub async fn load(conn: &mut Conn, req: Request<'_>) -> ApiResult<Loaded> {
    let zone: Tz = user_zone(conn, req.user_id).await?;
    let (settings, _) = preferences::load_settings(conn, req.user_id).await?;
    let (onboarding, _) = preferences::load_onboarding(conn, req.user_id).await?;
    let default_energy = energy(&onboarding.default_energy);
    let mut titles = HashMap::new();
    let tasks = open_tasks(conn, &req, default_energy, &mut titles).await?;
    let typical = typical_focus_minutes(conn, req.user_id, req.now).await?;
    let routines = due_routines(conn, &req, zone, &mut titles).await?;

    let window = (
        place(req.date, settings.work_start, zone),
        place(req.date, settings.work_end, zone),
    );
    let window_minutes = (window.1 - window.0).num_minutes().max(0) as u32;
    // The connected calendar's busy time is taken, whatever the client sent.
    let mut busy = req.busy;
    busy.extend(crate::calendar::events::busy(conn, window.0, window.1).await?);
    let input = PlanInput {
        date: req.date,
        zone,
        work_start: settings.work_start,
        work_end: settings.work_end,
        high_energy_start: settings.high_energy_start,
        high_energy_end: settings.high_energy_end,
        available_minutes: available_minutes(&onboarding.available_time, window_minutes),
        max_block_minutes: settings.max_block_minutes.max(15) as u32,
        default_estimate_minutes: typical.map_or(DEFAULT_ESTIMATE, |m| m.clamp(5, 240) as u32),
        tasks,
        routines,
        busy,
        not_before: Some(req.now),
    };
    Ok(Loaded {
        input,
        settings,
        titles,
    })
}
