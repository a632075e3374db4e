use std::collections::{HashMap, HashSet};

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::{dsl::now, prelude::*, upsert::excluded};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        resource::resolve_workspace,
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{day_plan_items as i, day_plans as p, routines, tasks},
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, FieldError},
    },
    planner::{
        self,
        day::{Item, Plan},
    },
};

/// How far ahead a plan may be made.
pub const MAX_DAYS_AHEAD: i64 = 366;
pub const MAX_BUSY: usize = 200;

/// Time taken by something outside minime (a meeting, a calendar event).
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusyBlock {
    #[schema(example = "2026-11-26T12:00:00Z")]
    pub start: DateTime<Utc>,
    #[schema(example = "2026-11-26T13:00:00Z")]
    pub end: DateTime<Utc>,
    #[schema(example = "Lunch with Sam")]
    pub title: Option<String>,
}

/// One line of a plan: a block of time for a task or routine, or an item that did not fit.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PlanLine {
    /// The block's id, for accepting or rejecting it; `null` for items that did not fit (there
    /// is nothing to answer) and in a preview that is not stored.
    pub id: Option<Uuid>,
    pub item: Item,
    pub title: String,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// Why this item, and why here (or why it did not fit).
    #[schema(example = "overdue, priority 1; in your high-energy hours")]
    pub reason: String,
    /// `proposed`, `accepted`, `rejected`, or `unplanned` (did not fit).
    #[schema(example = "proposed")]
    pub status: String,
}

/// The plan of one local date.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DayPlan {
    /// `null` for a preview that is not stored.
    pub id: Option<Uuid>,
    pub workspace_id: Uuid,
    #[schema(example = "2026-11-26")]
    pub date: NaiveDate,
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    /// The working window of that date, as instants.
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// Planned work the day may hold (from onboarding's available time, within the window).
    pub available_minutes: u32,
    /// Minutes taken by blocks that are not rejected.
    pub planned_minutes: u32,
    pub computed_at: DateTime<Utc>,
    /// Whether this plan is stored (`POST /v1/plans`) or only previewed.
    pub stored: bool,
    pub busy: Vec<BusyBlock>,
    /// Proposed and accepted blocks, in time order; they never overlap.
    pub blocks: Vec<PlanLine>,
    pub unplanned: Vec<PlanLine>,
    /// Lines you rejected: their time is free again and they are not proposed again.
    pub rejected: Vec<PlanLine>,
}

impl PlanLine {
    /// An item that did not fit: no time, no id (there is nothing to answer).
    fn unfit(item: Item, title: String, reason: String) -> Self {
        PlanLine {
            id: None,
            item,
            title,
            start: None,
            end: None,
            reason,
            status: "unplanned".into(),
        }
    }
}

impl DayPlan {
    fn finish(mut self) -> Self {
        self.blocks.sort_by_key(|b| (b.start, b.end, b.id));
        self.planned_minutes = self
            .blocks
            .iter()
            .filter_map(|b| Some((b.end? - b.start?).num_minutes().max(0) as u32))
            .sum();
        self
    }
}

/// Turns the planner's answer into lines with titles.
fn lines(plan: Plan, titles: &HashMap<Item, String>) -> (Vec<PlanLine>, Vec<PlanLine>) {
    let title = |item: &Item| titles.get(item).cloned().unwrap_or_default();
    let blocks = plan
        .blocks
        .into_iter()
        .map(|b| PlanLine {
            id: None,
            title: title(&b.item),
            item: b.item,
            start: Some(b.start),
            end: Some(b.end),
            reason: b.reason,
            status: "proposed".into(),
        })
        .collect();
    let unplanned = plan
        .unplanned
        .into_iter()
        .map(|u| PlanLine::unfit(u.item, title(&u.item), u.reason))
        .collect();
    (blocks, unplanned)
}

/// The plan for `date` as it would be computed now, without storing anything.
pub async fn preview(
    conn: &mut Conn,
    user_id: Uuid,
    workspace_id: Uuid,
    date: NaiveDate,
    at: DateTime<Utc>,
) -> ApiResult<DayPlan> {
    let settled = HashSet::new();
    let loaded = super::inputs::load(
        conn,
        super::inputs::Request {
            user_id,
            workspace_id,
            date,
            now: at,
            busy: Vec::new(),
            settled: &settled,
        },
    )
    .await?;
    let input = &loaded.input;
    let (blocks, unplanned) = lines(planner::day::plan(input), &loaded.titles);
    Ok(DayPlan {
        id: None,
        workspace_id,
        date,
        time_zone: input.zone.name().to_owned(),
        window_start: crate::recurrence::place(date, input.work_start, input.zone),
        window_end: crate::recurrence::place(date, input.work_end, input.zone),
        available_minutes: input.available_minutes,
        planned_minutes: 0,
        computed_at: at,
        stored: false,
        busy: Vec::new(),
        blocks,
        unplanned,
        rejected: Vec::new(),
    }
    .finish())
}

type ItemRow = (
    Uuid,
    Option<Uuid>,
    Option<Uuid>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    String,
);

/// The stored plan's own row: id, time zone, window, available minutes, busy blocks, what did
/// not fit, and when it was computed.
type Head = (
    Uuid,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    i32,
    serde_json::Value,
    serde_json::Value,
    DateTime<Utc>,
);

/// The stored plan of `date`, if there is one.
pub async fn stored(
    conn: &mut Conn,
    user_id: Uuid,
    workspace_id: Uuid,
    date: NaiveDate,
) -> ApiResult<Option<DayPlan>> {
    let head: Option<Head> = p::table
        .filter(p::created_by.eq(user_id))
        .filter(p::workspace_id.eq(workspace_id))
        .filter(p::plan_date.eq(date))
        .select((
            p::id,
            p::time_zone,
            p::window_start,
            p::window_end,
            p::available_minutes,
            p::busy,
            p::unplanned,
            p::computed_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((id, time_zone, window_start, window_end, available, busy, unfit, computed_at)) = head
    else {
        return Ok(None);
    };
    let unfit: Vec<planner::day::Unplanned> = serde_json::from_value(unfit).unwrap_or_default();
    let rows: Vec<ItemRow> = i::table
        .filter(i::plan_id.eq(id))
        .order((i::position.asc(), i::id.asc()))
        .select((
            i::id,
            i::task_id,
            i::routine_id,
            i::start_at,
            i::end_at,
            i::reason,
            i::status,
        ))
        .load(conn)
        .await?;
    let titles = stored_titles(conn, &rows, &unfit).await?;
    let (blocks, rejected) = stored_lines(rows, &titles);
    let unplanned = unfit
        .into_iter()
        .map(|u| PlanLine::unfit(u.item, title_of(&titles, &u.item), u.reason))
        .collect();
    Ok(Some(
        DayPlan {
            id: Some(id),
            workspace_id,
            date,
            time_zone,
            window_start,
            window_end,
            available_minutes: available.max(0) as u32,
            planned_minutes: 0,
            computed_at,
            stored: true,
            busy: serde_json::from_value(busy).unwrap_or_default(),
            blocks,
            unplanned,
            rejected,
        }
        .finish(),
    ))
}

/// The item a stored line stands for: a task or a routine.
fn item_of(task: Option<Uuid>, routine: Option<Uuid>) -> Option<Item> {
    match (task, routine) {
        (Some(t), _) => Some(Item::Task(t)),
        (None, Some(r)) => Some(Item::Routine(r)),
        (None, None) => None,
    }
}

fn title_of(titles: &HashMap<Uuid, String>, item: &Item) -> String {
    match item {
        Item::Task(id) | Item::Routine(id) => titles.get(id).cloned().unwrap_or_default(),
    }
}

/// The titles of the tasks and routines a stored plan names, by id.
async fn stored_titles(
    conn: &mut Conn,
    rows: &[ItemRow],
    unfit: &[planner::day::Unplanned],
) -> ApiResult<HashMap<Uuid, String>> {
    let mut task_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.1).collect();
    let mut routine_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.2).collect();
    for u in unfit {
        match u.item {
            Item::Task(id) => task_ids.push(id),
            Item::Routine(id) => routine_ids.push(id),
        }
    }
    let mut titles: HashMap<Uuid, String> = tasks::table
        .filter(tasks::id.eq_any(&task_ids))
        .select((tasks::id, tasks::title))
        .load(conn)
        .await?
        .into_iter()
        .collect();
    titles.extend(
        routines::table
            .filter(routines::id.eq_any(&routine_ids))
            .select((routines::id, routines::title))
            .load::<(Uuid, String)>(conn)
            .await?,
    );
    Ok(titles)
}

/// The stored lines as blocks (proposed or accepted) and rejected lines.
fn stored_lines(
    rows: Vec<ItemRow>,
    titles: &HashMap<Uuid, String>,
) -> (Vec<PlanLine>, Vec<PlanLine>) {
    let (mut blocks, mut rejected) = (Vec::new(), Vec::new());
    for (line_id, task, routine, start, end, reason, status) in rows {
        let Some(item) = item_of(task, routine) else {
            continue;
        };
        let line = PlanLine {
            id: Some(line_id),
            title: title_of(titles, &item),
            item,
            start: Some(start),
            end: Some(end),
            reason,
            status,
        };
        match line.status.as_str() {
            "rejected" => rejected.push(line),
            _ => blocks.push(line),
        }
    }
    (blocks, rejected)
}

/// Computes the plan of `date` and stores it, keeping the lines already answered.
pub async fn recompute(
    conn: &mut Conn,
    user_id: Uuid,
    workspace_id: Uuid,
    date: NaiveDate,
    at: DateTime<Utc>,
    busy: Vec<BusyBlock>,
) -> ApiResult<DayPlan> {
    let plan_id = claim_plan(conn, user_id, workspace_id, date, at, &busy).await?;
    let answered = Answered::load(conn, plan_id).await?;
    let mut busy_spans: Vec<(DateTime<Utc>, DateTime<Utc>)> =
        busy.iter().map(|b| (b.start, b.end)).collect();
    busy_spans.extend(&answered.pinned);
    let mut loaded = super::inputs::load(
        conn,
        super::inputs::Request {
            user_id,
            workspace_id,
            date,
            now: at,
            busy: busy_spans,
            settled: &answered.settled,
        },
    )
    .await?;
    // Accepted blocks already spend part of the day's available time.
    let available = loaded.input.available_minutes;
    let pinned_minutes: i64 = answered
        .pinned
        .iter()
        .map(|(s, e)| (*e - *s).num_minutes())
        .sum();
    loaded.input.available_minutes = (i64::from(available) - pinned_minutes).max(0) as u32;
    let plan = planner::day::plan(&loaded.input);

    let head = (user_id, workspace_id, plan_id);
    replace_proposed(conn, head, &plan, answered.count).await?;
    let input = &loaded.input;
    // What did not fit is kept as the planner said it.
    let unfit = serde_json::to_value(&plan.unplanned).map_err(ApiError::internal)?;
    diesel::update(p::table.find(plan_id))
        .set((
            p::time_zone.eq(input.zone.name()),
            p::window_start.eq(crate::recurrence::place(date, input.work_start, input.zone)),
            p::window_end.eq(crate::recurrence::place(date, input.work_end, input.zone)),
            p::available_minutes.eq(available as i32),
            p::unplanned.eq(&unfit),
            p::computed_at.eq(at),
        ))
        .execute(conn)
        .await?;
    stored(conn, user_id, workspace_id, date)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// The plan's row for `date`, created or with its busy blocks replaced. The upsert locks the
/// row, so two recomputations of one day run one after the other.
async fn claim_plan(
    conn: &mut Conn,
    user_id: Uuid,
    workspace_id: Uuid,
    date: NaiveDate,
    at: DateTime<Utc>,
    busy: &[BusyBlock],
) -> ApiResult<Uuid> {
    let busy_json = serde_json::to_value(busy).map_err(ApiError::internal)?;
    Ok(diesel::insert_into(p::table)
        .values((
            p::id.eq(Uuid::now_v7()),
            p::workspace_id.eq(workspace_id),
            p::created_by.eq(user_id),
            p::plan_date.eq(date),
            p::time_zone.eq(""),
            p::window_start.eq(at),
            p::window_end.eq(at + Duration::minutes(1)),
            p::available_minutes.eq(0),
            p::busy.eq(&busy_json),
        ))
        .on_conflict((p::created_by, p::workspace_id, p::plan_date))
        .do_update()
        .set((
            p::busy.eq(excluded(p::busy)),
            p::version.eq(p::version + 1),
            p::updated_at.eq(now),
        ))
        .returning(p::id)
        .get_result(conn)
        .await?)
}

/// The lines of a plan already answered: they are not proposed again, and accepted blocks stay.
struct Answered {
    count: usize,
    settled: HashSet<Item>,
    pinned: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Answered {
    async fn load(conn: &mut Conn, plan_id: Uuid) -> ApiResult<Self> {
        type Line = (
            Option<Uuid>,
            Option<Uuid>,
            DateTime<Utc>,
            DateTime<Utc>,
            String,
        );
        let lines: Vec<Line> = i::table
            .filter(i::plan_id.eq(plan_id))
            .filter(i::status.eq_any(["accepted", "rejected"]))
            .select((i::task_id, i::routine_id, i::start_at, i::end_at, i::status))
            .load(conn)
            .await?;
        let mut settled = HashSet::new();
        let mut pinned = Vec::new();
        for (task, routine, start, end, status) in &lines {
            let Some(item) = item_of(*task, *routine) else {
                continue;
            };
            settled.insert(item);
            if status == "accepted" {
                pinned.push((*start, *end));
            }
        }
        Ok(Answered {
            count: lines.len(),
            settled,
            pinned,
        })
    }
}

/// Drops the proposed lines and writes the new plan's blocks after the answered ones.
async fn replace_proposed(
    conn: &mut Conn,
    (user_id, workspace_id, plan_id): (Uuid, Uuid, Uuid),
    plan: &Plan,
    answered: usize,
) -> ApiResult<()> {
    diesel::delete(i::table.filter(i::plan_id.eq(plan_id)))
        .filter(i::status.eq("proposed"))
        .execute(conn)
        .await?;
    let first = answered as i32;
    let new_rows: Vec<_> = plan
        .blocks
        .iter()
        .enumerate()
        .map(|(n, b)| {
            let (task, routine) = match b.item {
                Item::Task(id) => (Some(id), None),
                Item::Routine(id) => (None, Some(id)),
            };
            (
                i::id.eq(Uuid::now_v7()),
                i::workspace_id.eq(workspace_id),
                i::created_by.eq(user_id),
                i::plan_id.eq(plan_id),
                i::task_id.eq(task),
                i::routine_id.eq(routine),
                i::start_at.eq(b.start),
                i::end_at.eq(b.end),
                i::reason.eq(b.reason.as_str()),
                i::position.eq(first + n as i32),
            )
        })
        .collect();
    // Bind parameters are capped at 65,535 per statement; 10 per row.
    for chunk in new_rows.chunks(5_000) {
        diesel::insert_into(i::table)
            .values(chunk)
            .execute(conn)
            .await?;
    }
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComputePlan {
    /// The local date to plan (default: your today, after the day boundary).
    pub date: Option<NaiveDate>,
    /// Default: your personal workspace.
    pub workspace_id: Option<Uuid>,
    /// Time already taken that day (at most 200 blocks), e.g. from a calendar.
    #[serde(default)]
    pub busy: Vec<BusyBlock>,
}

fn check_busy(busy: &[BusyBlock]) -> ApiResult<()> {
    let mut errors = Vec::new();
    if busy.len() > MAX_BUSY {
        errors.push(FieldError {
            field: "busy".into(),
            message: format!("at most {MAX_BUSY} blocks"),
        });
    }
    for (n, b) in busy.iter().enumerate() {
        if b.end <= b.start {
            errors.push(FieldError {
                field: format!("busy.{n}.end"),
                message: "must be after start".into(),
            });
        } else if b.end - b.start > Duration::days(2) {
            errors.push(FieldError {
                field: format!("busy.{n}.end"),
                message: "a busy block lasts at most 48 hours".into(),
            });
        }
        if b.title.as_ref().is_some_and(|t| t.chars().count() > 200) {
            errors.push(FieldError {
                field: format!("busy.{n}.title"),
                message: "at most 200 characters".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Compute and store the plan of one date (today by default). Lines you already accepted keep
/// their place and lines you rejected are not proposed again; everything else is planned anew.
#[utoipa::path(
    tag = "plans",
    request_body = ComputePlan,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The stored plan", body = DayPlan),
        (status = 422, description = "A past date, a date over a year ahead, or a bad busy block", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/plans")]
pub async fn compute(state: State, auth: Auth, body: Json<ComputePlan>) -> ApiResult<HttpResponse> {
    let body = body.0;
    check_busy(&body.busy)?;
    let plan = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let at = me.at;
                let workspace_id = resolve_workspace(conn, me.user_id, body.workspace_id).await?;
                let zone = crate::common::zone::user_zone(conn, me.user_id).await?;
                let today = crate::common::zone::today(conn, me.user_id, zone, at).await?;
                let date = body.date.unwrap_or(today);
                if date < today {
                    return Err(ApiError::field(
                        "date",
                        format!("is before your today ({today}); past days cannot be planned"),
                    ));
                }
                if date > today + Duration::days(MAX_DAYS_AHEAD) {
                    return Err(ApiError::field(
                        "date",
                        format!("is more than {MAX_DAYS_AHEAD} days ahead"),
                    ));
                }
                recompute(conn, me.user_id, workspace_id, date, at, body.busy).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkspaceParam {
    /// Default: your personal workspace.
    pub workspace_id: Option<Uuid>,
}

/// The stored plan of one date.
#[utoipa::path(
    tag = "plans",
    params(("date" = NaiveDate, Path, example = "2026-11-26"), WorkspaceParam),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The stored plan", body = DayPlan),
        (status = 404, description = "No plan stored for that date", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/plans/{date}")]
pub async fn get_plan(
    state: State,
    auth: Auth,
    date: web::Path<NaiveDate>,
    params: web::Query<WorkspaceParam>,
) -> ApiResult<HttpResponse> {
    let date = date.into_inner();
    let requested = params.workspace_id;
    let plan = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let workspace_id = resolve_workspace(conn, me.user_id, requested).await?;
                stored(conn, me.user_id, workspace_id, date)
                    .await?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(plan))
}
