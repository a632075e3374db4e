//! `GET /v1/today`: the user's local today (after the day boundary) — its plan (the stored one,
//! or a preview computed now), what is overdue and due, the routines of the day, and the next
//! few things to do with the reason for each.

use std::collections::HashSet;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        resource::resolve_workspace,
        state::State,
        zone::user_zone,
    },
    db::{pool::Conn, schema::app::tasks as t},
    http::problem::ApiResult,
    planner::day::Item,
    plans::{
        self,
        plan::{DayPlan, WorkspaceParam},
    },
    recurrence::place,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(today);
}

/// How many recommendations Today gives.
pub const RECOMMENDATIONS: usize = 3;
/// How many overdue or due tasks Today lists (the counts are exact).
pub const LISTED: i64 = 50;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct TaskBrief {
    pub id: Uuid,
    pub title: String,
    pub priority: i16,
    pub due_date: Option<NaiveDate>,
    pub scheduled_date: Option<NaiveDate>,
    pub energy: Option<String>,
    pub estimate_minutes: Option<i32>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RoutineToday {
    pub id: Uuid,
    pub title: String,
    #[schema(value_type = Option<String>, example = "07:30:00")]
    pub time_of_day: Option<NaiveTime>,
    /// The instant, when the routine has a time of day.
    pub at: Option<DateTime<Utc>>,
    /// `done` or `skipped` once recorded for today; `null` while open.
    pub outcome: Option<String>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Recommendation {
    pub item: Item,
    pub title: String,
    /// Why this, and why now.
    #[schema(
        example = "next in your plan at 10:30: due today, priority 1; in your high-energy hours"
    )]
    pub reason: String,
    /// When the plan has it, the block's start.
    pub start: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct Today {
    /// Your today: it begins at `day_starts_at` in your time zone, not at midnight.
    #[schema(example = "2026-11-26")]
    pub date: NaiveDate,
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// The instant today began.
    pub day_started_at: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub plan: DayPlan,
    pub overdue_count: i64,
    /// Most urgent first (at most 50).
    pub overdue: Vec<TaskBrief>,
    pub due_today_count: i64,
    pub due_today: Vec<TaskBrief>,
    pub routines: Vec<RoutineToday>,
    /// The day's events of your connected calendar (all-day first); busy ones are kept free of
    /// planned work. Empty without a calendar.
    pub events: Vec<crate::calendar::events::CalendarEvent>,
    pub recommendations: Vec<Recommendation>,
}

/// Open tasks due before `date` (`overdue`) or on it: the exact count and the first [`LISTED`].
pub async fn tasks_due(
    conn: &mut Conn,
    workspace_id: Uuid,
    date: NaiveDate,
    overdue: bool,
) -> ApiResult<(i64, Vec<TaskBrief>)> {
    let open = t::workspace_id
        .eq(workspace_id)
        .and(t::status.eq_any(["todo", "in_progress"]));
    let count: i64 = if overdue {
        t::table
            .filter(open.clone())
            .filter(t::due_date.lt(date))
            .count()
            .get_result(conn)
            .await?
    } else {
        t::table
            .filter(open.clone())
            .filter(t::due_date.eq(date))
            .count()
            .get_result(conn)
            .await?
    };
    let query = t::table
        .filter(open)
        .order((t::due_date.asc(), t::priority.asc(), t::id.asc()))
        .limit(LISTED)
        .select((
            t::id,
            t::title,
            t::priority,
            t::due_date,
            t::scheduled_date,
            t::energy,
            t::estimate_minutes,
        ))
        .into_boxed();
    let query = if overdue {
        query.filter(t::due_date.lt(date))
    } else {
        query.filter(t::due_date.eq(date))
    };
    #[allow(clippy::type_complexity)]
    let rows: Vec<(
        Uuid,
        String,
        i16,
        Option<NaiveDate>,
        Option<NaiveDate>,
        Option<String>,
        Option<i32>,
    )> = query.load(conn).await?;
    let briefs = rows
        .into_iter()
        .map(
            |(id, title, priority, due_date, scheduled_date, energy, estimate_minutes)| TaskBrief {
                id,
                title,
                priority,
                due_date,
                scheduled_date,
                energy,
                estimate_minutes,
            },
        )
        .collect();
    Ok((count, briefs))
}

async fn routines_today(
    conn: &mut Conn,
    workspace_id: Uuid,
    date: NaiveDate,
    zone: chrono_tz::Tz,
) -> ApiResult<Vec<RoutineToday>> {
    let mut out: Vec<RoutineToday> = crate::routines::due::on(conn, workspace_id, date, zone)
        .await?
        .into_iter()
        .map(|r| RoutineToday {
            id: r.id,
            title: r.title,
            time_of_day: r.time_of_day,
            at: r.time_of_day.map(|t| place(date, t, zone)),
            outcome: r.outcome,
        })
        .collect();
    out.sort_by_key(|r| (r.time_of_day.is_none(), r.time_of_day, r.id));
    Ok(out)
}

/// The next things to do: the plan's coming task blocks in time order, then the most urgent
/// tasks the plan could not hold.
pub fn recommend(plan: &DayPlan, now: DateTime<Utc>, zone: chrono_tz::Tz) -> Vec<Recommendation> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for block in &plan.blocks {
        let (Some(start), Some(end)) = (block.start, block.end) else {
            continue;
        };
        if end <= now || !matches!(block.item, Item::Task(_)) {
            continue;
        }
        if !seen.insert(block.item) {
            continue;
        }
        let when = if start <= now {
            "now in your plan".to_owned()
        } else {
            format!(
                "next in your plan at {}",
                start.with_timezone(&zone).format("%H:%M")
            )
        };
        out.push(Recommendation {
            item: block.item,
            title: block.title.clone(),
            reason: format!("{when}: {}", block.reason),
            start: Some(start),
        });
    }
    // Then what the plan could not hold: urgent work first, then the rest in the plan's order;
    // tasks waiting for a later day or for their steps are not candidates.
    for urgent_only in [true, false] {
        for line in &plan.unplanned {
            if out.len() >= RECOMMENDATIONS {
                break;
            }
            let urgent = ["overdue,", "due today,", "scheduled for today,"]
                .iter()
                .any(|w| line.reason.starts_with(w));
            let waiting = line.reason.starts_with("scheduled for ")
                || line.reason.starts_with("planned through");
            if !matches!(line.item, Item::Task(_)) || waiting || (urgent_only && !urgent) {
                continue;
            }
            if seen.insert(line.item) {
                let why = if urgent { ", but it is urgent" } else { "" };
                out.push(Recommendation {
                    item: line.item,
                    title: line.title.clone(),
                    reason: format!("not in today's plan ({}){why}", line.reason),
                    start: None,
                });
            }
        }
    }
    out.truncate(RECOMMENDATIONS);
    out
}

pub struct Context {
    pub workspace_id: Uuid,
    pub zone: chrono_tz::Tz,
    pub date: NaiveDate,
    pub now: DateTime<Utc>,
    pub day_started_at: DateTime<Utc>,
    pub day_starts_at: NaiveTime,
}

/// Where "today" stands for the caller: zone, local date after the boundary, workspace.
pub async fn context(
    conn: &mut Conn,
    me: Principal,
    requested: Option<Uuid>,
) -> ApiResult<Context> {
    let (user_id, now) = (me.user_id, me.at);
    let workspace_id = resolve_workspace(conn, user_id, requested).await?;
    let zone = user_zone(conn, user_id).await?;
    let (settings, _) = crate::account::preferences::load_settings(conn, user_id).await?;
    let date = crate::planner::day::local_date(now, zone, settings.day_starts_at);
    Ok(Context {
        workspace_id,
        zone,
        date,
        now,
        day_started_at: place(date, settings.day_starts_at, zone),
        day_starts_at: settings.day_starts_at,
    })
}

/// The plan of today: the stored one, else a preview computed now.
pub async fn plan_of_today(conn: &mut Conn, user_id: Uuid, c: &Context) -> ApiResult<DayPlan> {
    match plans::plan::stored(conn, user_id, c.workspace_id, c.date).await? {
        Some(plan) => Ok(plan),
        None => plans::plan::preview(conn, user_id, c.workspace_id, c.date, c.now).await,
    }
}

/// Today at a glance: the plan (stored, or a preview computed now), overdue and due tasks, the
/// day's routines and what to do next — everything from your own data, in your time zone.
#[utoipa::path(
    tag = "plans",
    params(WorkspaceParam),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Today", body = Today)),
)]
#[get("/today")]
pub async fn today(
    state: State,
    auth: Auth,
    params: web::Query<WorkspaceParam>,
) -> ApiResult<HttpResponse> {
    let requested = params.workspace_id;
    let today = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let c = context(conn, me, requested).await?;
                let plan = plan_of_today(conn, me.user_id, &c).await?;
                let (overdue_count, overdue) =
                    tasks_due(conn, c.workspace_id, c.date, true).await?;
                let (due_today_count, due_today) =
                    tasks_due(conn, c.workspace_id, c.date, false).await?;
                let routines = routines_today(conn, c.workspace_id, c.date, c.zone).await?;
                let recommendations = recommend(&plan, c.now, c.zone);
                let day_end = place(c.date + chrono::Duration::days(1), c.day_starts_at, c.zone);
                let events = crate::calendar::events::of_day(
                    conn,
                    c.date,
                    c.zone,
                    (c.day_started_at, day_end),
                )
                .await?;
                Ok(Today {
                    date: c.date,
                    time_zone: c.zone.name().to_owned(),
                    day_started_at: c.day_started_at,
                    now: c.now,
                    plan,
                    overdue_count,
                    overdue,
                    due_today_count,
                    due_today,
                    routines,
                    events,
                    recommendations,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(today))
}
