use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{check_link, Ctx, Link, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::tasks as t},
    http::problem::{ApiError, ApiResult, FieldError},
    keyset, recurrence,
};

pub const STATUSES: &[&str] = &["todo", "in_progress", "done", "cancelled"];
pub const ENERGIES: &[&str] = &["low", "medium", "high"];
/// Steps may nest this deep below a top-level task.
const MAX_DEPTH: usize = 5;

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub title: String,
    pub notes: Option<String>,
    pub status: String,
    pub priority: i16,
    pub energy: Option<String>,
    pub estimate_minutes: Option<i32>,
    pub due_date: Option<NaiveDate>,
    pub due_time: Option<NaiveTime>,
    pub due_time_zone: Option<String>,
    pub scheduled_date: Option<NaiveDate>,
    pub parent_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub position: i32,
    pub labels: Vec<String>,
    pub recurrence: Option<String>,
    pub recurrence_start: Option<NaiveDate>,
    pub reset_steps: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Call the dentist")]
    pub title: String,
    pub notes: Option<String>,
    /// `todo`, `in_progress`, `done` or `cancelled`.
    #[schema(example = "todo")]
    pub status: String,
    /// 1 (highest) to 4.
    #[schema(example = 2)]
    pub priority: i16,
    /// `low`, `medium` or `high`.
    #[schema(example = "low")]
    pub energy: Option<String>,
    #[schema(example = 15)]
    pub estimate_minutes: Option<i32>,
    #[schema(example = "2026-12-01")]
    pub due_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, example = "17:30:00")]
    pub due_time: Option<NaiveTime>,
    /// IANA zone that fixes the due time; null means it floats with the user's zone.
    #[schema(example = "Europe/Berlin")]
    pub due_time_zone: Option<String>,
    /// The instant the task is due, when its time is fixed to a zone.
    pub due_at: Option<DateTime<Utc>>,
    pub scheduled_date: Option<NaiveDate>,
    pub parent_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub position: i32,
    #[schema(example = json!(["phone"]))]
    pub labels: Vec<String>,
    /// RRULE in the user's time zone, starting at the due date.
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO")]
    pub recurrence: Option<String>,
    /// The series' first date (set from the due date when the rule or the due date is set).
    pub recurrence_start: Option<NaiveDate>,
    /// Whether completing an occurrence reopens the task's steps.
    pub reset_steps: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    pub workspace_id: Option<Uuid>,
    #[schema(example = "Call the dentist")]
    pub title: String,
    pub notes: Option<String>,
    #[schema(example = "todo")]
    pub status: Option<String>,
    /// 1 (highest) to 4, default 4.
    #[schema(example = 2, minimum = 1, maximum = 4)]
    pub priority: Option<i16>,
    #[schema(example = "low")]
    pub energy: Option<String>,
    /// 1 to 1440.
    #[schema(example = 15, minimum = 1, maximum = 1440)]
    pub estimate_minutes: Option<i32>,
    #[schema(example = "2026-12-01")]
    pub due_date: Option<NaiveDate>,
    /// `HH:MM` (seconds optional); needs `due_date`.
    #[schema(value_type = Option<String>, example = "17:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub due_time: Option<NaiveTime>,
    #[schema(example = "Europe/Berlin")]
    pub due_time_zone: Option<String>,
    /// The due date (and time) in plain words, read in your time zone and locale like Smart Add
    /// ("tomorrow 5pm", "next fri", "31/12", "end of month"); it replaces `due_date` and
    /// `due_time`. Write-only: never part of an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(write_only, example = "next fri 5pm")]
    pub due: Option<String>,
    pub scheduled_date: Option<NaiveDate>,
    pub parent_id: Option<Uuid>,
    pub project_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    pub position: Option<i32>,
    /// Up to 20 distinct labels, each 1 to 50 characters.
    #[schema(value_type = Option<Vec<fields::Label>>, example = json!(["phone"]), max_items = 20)]
    pub labels: Option<Vec<String>>,
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO")]
    pub recurrence: Option<String>,
    pub reset_steps: Option<bool>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t, treat_none_as_null = true)]
pub struct Values {
    title: String,
    notes: Option<String>,
    status: String,
    priority: i16,
    energy: Option<String>,
    estimate_minutes: Option<i32>,
    due_date: Option<NaiveDate>,
    due_time: Option<NaiveTime>,
    due_time_zone: Option<String>,
    scheduled_date: Option<NaiveDate>,
    parent_id: Option<Uuid>,
    project_id: Option<Uuid>,
    area_id: Option<Uuid>,
    goal_id: Option<Uuid>,
    position: i32,
    labels: Vec<String>,
    recurrence: Option<String>,
    recurrence_start: Option<NaiveDate>,
    reset_steps: bool,
    completed_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskFilter {
    /// `todo`, `in_progress`, `done`, `cancelled`, or `open` for the first two.
    pub status: Option<String>,
    pub project_id: Option<Uuid>,
    pub area_id: Option<Uuid>,
    pub goal_id: Option<Uuid>,
    /// Steps of this task; `top_level=true` lists tasks without a parent.
    pub parent_id: Option<Uuid>,
    pub top_level: Option<bool>,
    pub label: Option<String>,
    /// Due on or before this date.
    pub due_before: Option<NaiveDate>,
    /// Due on or after this date.
    pub due_after: Option<NaiveDate>,
}

pub struct Tasks;

/// Where "tomorrow" is for this user: their zone, locale and day boundary (and the locale).
pub async fn due_context(
    conn: &mut Conn,
    user_id: Uuid,
    at: chrono::DateTime<Utc>,
) -> ApiResult<(crate::smart_add::Context, String)> {
    use crate::db::schema::auth::users;
    let (zone, locale): (String, String) = users::table
        .find(user_id)
        .select((users::time_zone, users::locale))
        .first(conn)
        .await?;
    let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::UTC);
    let today = crate::common::zone::today(conn, user_id, zone, at).await?;
    Ok((crate::smart_add::Context::new(today, zone, &locale), locale))
}

/// A free-text `due` ("tomorrow 5pm") becomes the due date and time it names.
async fn read_due_text(
    conn: &mut Conn,
    ctx: &Ctx,
    i: &mut TaskInput,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let Some(text) = i.due.take() else {
        return Ok(());
    };
    match crate::smart_add::parse_due(&text, &due_context(conn, ctx.user_id, ctx.at).await?.0) {
        Some((date, time)) => {
            i.due_date = Some(date);
            i.due_time = time;
            if time.is_none() {
                i.due_time_zone = None;
            }
        }
        None => errors.push(FieldError {
            field: "due".into(),
            message: "is not a due date minime understands, e.g. \"tomorrow 5pm\", \"next fri\", \"31/12\"".into(),
        }),
    }
    Ok(())
}

/// A due time needs a due date, and a time zone needs a due time it fixes.
fn check_due_time(i: &TaskInput, errors: &mut Vec<FieldError>) {
    if i.due_time.is_some() && i.due_date.is_none() {
        errors.push(FieldError {
            field: "due_time".into(),
            message: "needs a due_date".into(),
        });
    }
    if let Some(zone) = &i.due_time_zone {
        if i.due_time.is_none() {
            errors.push(FieldError {
                field: "due_time_zone".into(),
                message: "needs a due_time".into(),
            });
        }
        if zone.parse::<chrono_tz::Tz>().is_err() {
            errors.push(FieldError {
                field: "due_time_zone".into(),
                message: "is not an IANA time zone".into(),
            });
        }
    }
}

/// The normalised repeat rule, which must be valid and start from a due date.
fn check_recurrence(i: &TaskInput, errors: &mut Vec<FieldError>) -> Option<String> {
    let recurrence = i
        .recurrence
        .as_deref()
        .map(|r| r.trim().to_ascii_uppercase())
        .filter(|r| !r.is_empty());
    if let Some(rule) = &recurrence {
        if let Err(message) = recurrence::validate(rule) {
            errors.push(FieldError {
                field: "recurrence".into(),
                message,
            });
        } else if i.due_date.is_none() {
            errors.push(FieldError {
                field: "recurrence".into(),
                message: "needs a due_date to start from".into(),
            });
        }
    }
    recurrence
}

/// The parent, project, area and goal must be rows of the same workspace, without cycles.
async fn check_links(
    conn: &mut Conn,
    ctx: Ctx,
    i: &TaskInput,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let ws = ctx.workspace_id;
    check_link(conn, Link::Task, i.parent_id, ws, "parent_id", errors).await?;
    check_parent(conn, ctx.id, i.parent_id, errors).await?;
    check_link(conn, Link::Project, i.project_id, ws, "project_id", errors).await?;
    check_link(conn, Link::Area, i.area_id, ws, "area_id", errors).await?;
    check_link(conn, Link::Goal, i.goal_id, ws, "goal_id", errors).await
}

/// A series keeps its first date until its rule or due date is changed by hand.
fn series_start(
    current: Option<&Row>,
    recurrence: Option<&str>,
    due_date: Option<NaiveDate>,
) -> Option<NaiveDate> {
    match (recurrence, current) {
        (None, _) => None,
        (Some(rule), Some(row))
            if row.recurrence.as_deref() == Some(rule) && row.due_date == due_date =>
        {
            row.recurrence_start
        }
        (Some(_), _) => due_date,
    }
}

/// The instant of a due time fixed to a zone.
fn due_at(r: &Row) -> Option<DateTime<Utc>> {
    let zone: chrono_tz::Tz = r.due_time_zone.as_deref()?.parse().ok()?;
    Some(recurrence::place(r.due_date?, r.due_time?, zone))
}

/// Walks up from `parent` and fails if `id` is among its ancestors (a cycle) or nesting is
/// too deep.
async fn check_parent(
    conn: &mut Conn,
    id: Uuid,
    parent: Option<Uuid>,
    errors: &mut Vec<FieldError>,
) -> ApiResult<()> {
    let mut next = parent;
    let mut depth = 0;
    while let Some(current) = next {
        if current == id {
            errors.push(FieldError {
                field: "parent_id".into(),
                message: "would make the task its own step".into(),
            });
            return Ok(());
        }
        depth += 1;
        if depth > MAX_DEPTH {
            errors.push(FieldError {
                field: "parent_id".into(),
                message: format!("steps nest at most {MAX_DEPTH} deep"),
            });
            return Ok(());
        }
        next = t::table
            .find(current)
            .select(t::parent_id)
            .first(conn)
            .await
            .optional()?
            .flatten();
    }
    Ok(())
}

impl Resource for Tasks {
    const TABLE: &'static str = "app.tasks";
    type Row = Row;
    type Out = Task;
    type Input = TaskInput;
    type Values = Values;
    type Filter = TaskFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Task {
        let due_at = due_at(&r);
        Task {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            title: r.title,
            notes: r.notes,
            status: r.status,
            priority: r.priority,
            energy: r.energy,
            estimate_minutes: r.estimate_minutes,
            due_date: r.due_date,
            due_time: r.due_time,
            due_time_zone: r.due_time_zone,
            due_at,
            scheduled_date: r.scheduled_date,
            parent_id: r.parent_id,
            project_id: r.project_id,
            area_id: r.area_id,
            goal_id: r.goal_id,
            position: r.position,
            labels: r.labels,
            recurrence: r.recurrence,
            recurrence_start: r.recurrence_start,
            reset_steps: r.reset_steps,
            completed_at: r.completed_at,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> TaskInput {
        TaskInput {
            workspace_id: Some(r.workspace_id),
            title: r.title.clone(),
            notes: r.notes.clone(),
            status: Some(r.status.clone()),
            priority: Some(r.priority),
            energy: r.energy.clone(),
            estimate_minutes: r.estimate_minutes,
            due_date: r.due_date,
            due_time: r.due_time,
            due_time_zone: r.due_time_zone.clone(),
            due: None,
            scheduled_date: r.scheduled_date,
            parent_id: r.parent_id,
            project_id: r.project_id,
            area_id: r.area_id,
            goal_id: r.goal_id,
            position: Some(r.position),
            labels: Some(r.labels.clone()),
            recurrence: r.recurrence.clone(),
            reset_steps: Some(r.reset_steps),
        }
    }

    fn input_workspace(input: &TaskInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        current: Option<&Row>,
        mut i: TaskInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        read_due_text(conn, &ctx, &mut i, &mut errors).await?;
        let title = fields::title("title", &i.title, 500, &mut errors);
        let notes = fields::text("notes", i.notes.take(), 20_000, &mut errors);
        let status = fields::one_of("status", i.status.take(), STATUSES, "todo", &mut errors);
        let priority = i.priority.unwrap_or(4);
        fields::range("priority", Some(priority.into()), 1, 4, &mut errors);
        let energy = i
            .energy
            .take()
            .map(|e| fields::one_of("energy", Some(e), ENERGIES, "", &mut errors));
        fields::range(
            "estimate_minutes",
            i.estimate_minutes.map(Into::into),
            1,
            1440,
            &mut errors,
        );
        check_due_time(&i, &mut errors);
        let recurrence = check_recurrence(&i, &mut errors);
        let labels = fields::labels("labels", i.labels.take(), &mut errors);
        check_links(conn, ctx, &i, &mut errors).await?;
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        // completed_at follows the status: set when it becomes done, kept while it stays done.
        let completed_at = (status == "done").then(|| {
            current
                .and_then(|c| c.completed_at)
                .unwrap_or_else(Utc::now)
        });
        let recurrence_start = series_start(current, recurrence.as_deref(), i.due_date);
        Ok(Values {
            title,
            notes,
            status,
            priority,
            energy,
            estimate_minutes: i.estimate_minutes,
            due_date: i.due_date,
            due_time: i.due_time,
            due_time_zone: i.due_time_zone,
            scheduled_date: i.scheduled_date,
            parent_id: i.parent_id,
            project_id: i.project_id,
            area_id: i.area_id,
            goal_id: i.goal_id,
            position: i.position.unwrap_or(0),
            labels,
            recurrence,
            recurrence_start,
            reset_steps: i.reset_steps.unwrap_or(true),
            completed_at,
        })
    }

    crate::row_queries!(t, Row, Values);

    /// A task that becomes done (created done, or patched to done): rules on `task_completed`
    /// run for it.
    async fn written(conn: &mut Conn, before: Option<&Row>, after: &Row) -> ApiResult<()> {
        if after.status == "done" && before.is_none_or(|b| b.status != "done") {
            crate::rules::events::record(
                conn,
                after.workspace_id,
                crate::rules::events::TASK_COMPLETED,
                after.id,
            )
            .await?;
        }
        Ok(())
    }

    async fn list(conn: &mut Conn, q: ListQuery<TaskFilter>) -> ApiResult<Vec<Row>> {
        let f = &q.filter;
        let mut query = t::table.select(Row::as_select()).into_boxed();
        match f.status.as_deref() {
            None => {}
            Some("open") => query = query.filter(t::status.eq_any(["todo", "in_progress"])),
            Some(s) if STATUSES.contains(&s) => query = query.filter(t::status.eq(s.to_owned())),
            Some(_) => {
                return Err(ApiError::field(
                    "status",
                    "must be todo, in_progress, done, cancelled or open",
                ))
            }
        }
        if let Some(id) = f.project_id {
            query = query.filter(t::project_id.eq(id));
        }
        if let Some(id) = f.area_id {
            query = query.filter(t::area_id.eq(id));
        }
        if let Some(id) = f.goal_id {
            query = query.filter(t::goal_id.eq(id));
        }
        if let Some(id) = f.parent_id {
            query = query.filter(t::parent_id.eq(id));
        }
        if f.top_level == Some(true) {
            query = query.filter(t::parent_id.is_null());
        }
        if let Some(label) = &f.label {
            query = query.filter(t::labels.contains(vec![label.clone()]));
        }
        if let Some(d) = f.due_before {
            query = query.filter(t::due_date.le(d));
        }
        if let Some(d) = f.due_after {
            query = query.filter(t::due_date.ge(d));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}
