//! `GET /v1/assistant`: answers to a fixed set of questions, computed from the caller's own rows
//! (no AI involved), each with the rows it used so that the answer can be checked.

use std::collections::BTreeMap;

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{focus_sessions as f, reviews as rv, routine_completions as rc, tasks as t},
    },
    http::problem::ApiResult,
    planner::day::Item,
    recurrence::place,
    today::{self, Context},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(ask);
}

/// A goal with no completed task or milestone for this many days is stalled.
pub const STALL_DAYS: i64 = 14;
/// Rows listed with one answer (figures count them all).
pub const MAX_ROWS: usize = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Question {
    /// What should I do next? The first recommendation of Today.
    WhatNext,
    /// What is overdue? Open tasks due before today, oldest first.
    Overdue,
    /// How did my week go? The last seven days: tasks completed, routines kept, focus time, reviews.
    Week,
    /// Which goals are stalled? Active goals without a completed task or milestone for 14 days.
    StalledGoals,
}

const ALL: [Question; 4] = [
    Question::WhatNext,
    Question::Overdue,
    Question::Week,
    Question::StalledGoals,
];

/// A row an answer used.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Used {
    /// `task`, `routine_completion`, `focus_session`, `review` or `goal`.
    #[schema(example = "task")]
    pub kind: &'static str,
    pub id: Uuid,
    pub title: Option<String>,
    /// What about this row mattered.
    #[schema(example = "due 2026-11-20")]
    pub detail: String,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Answer {
    pub question: Question,
    /// The answer in a sentence or two.
    pub answer: String,
    /// The numbers behind the answer.
    pub figures: BTreeMap<String, i64>,
    /// The rows the answer used (at most 50).
    pub rows: Vec<Used>,
}

#[derive(Serialize, ToSchema)]
pub struct Answers {
    #[schema(example = "2026-11-26")]
    pub date: NaiveDate,
    pub items: Vec<Answer>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AskParams {
    /// One question; without it, every question is answered.
    pub question: Option<Question>,
    /// Default: your personal workspace.
    pub workspace_id: Option<Uuid>,
}

fn plural(n: i64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

async fn what_next(conn: &mut Conn, user_id: Uuid, c: &Context) -> ApiResult<Answer> {
    let plan = today::plan_of_today(conn, user_id, c).await?;
    let recs = today::recommend(&plan, c.now, c.zone);
    let mut figures = BTreeMap::new();
    figures.insert("planned_blocks".into(), plan.blocks.len() as i64);
    figures.insert("unplanned".into(), plan.unplanned.len() as i64);
    let (answer, rows) = match <[_]>::first(&recs) {
        Some(r) => (
            format!("Do “{}” next — {}.", r.title, r.reason),
            recs.iter()
                .map(|r| Used {
                    kind: "task",
                    id: match r.item {
                        Item::Task(id) | Item::Routine(id) => id,
                    },
                    title: Some(r.title.clone()),
                    detail: r.reason.clone(),
                })
                .collect(),
        ),
        None => (
            "Nothing is left in today's plan; add a task or compute the plan again.".into(),
            Vec::new(),
        ),
    };
    Ok(Answer {
        question: Question::WhatNext,
        answer,
        figures,
        rows,
    })
}

async fn overdue(conn: &mut Conn, c: &Context) -> ApiResult<Answer> {
    let rows: Vec<(Uuid, String, Option<NaiveDate>, i16)> = t::table
        .filter(t::workspace_id.eq(c.workspace_id))
        .filter(t::status.eq_any(["todo", "in_progress"]))
        .filter(t::due_date.lt(c.date))
        .order((t::due_date.asc(), t::priority.asc(), t::id.asc()))
        .select((t::id, t::title, t::due_date, t::priority))
        .load(conn)
        .await?;
    let count = rows.len() as i64;
    let answer = match <[_]>::first(&rows) {
        None => "Nothing is overdue.".to_owned(),
        Some((_, title, due, _)) => {
            let due = due.unwrap_or(c.date);
            format!(
                "{} overdue; the oldest, “{title}”, was due on {due} ({} ago).",
                plural(count, "task is", "tasks are"),
                plural((c.date - due).num_days(), "day", "days"),
            )
        }
    };
    Ok(Answer {
        question: Question::Overdue,
        answer,
        figures: BTreeMap::from([("overdue_tasks".into(), count)]),
        rows: rows
            .into_iter()
            .take(MAX_ROWS)
            .map(|(id, title, due, priority)| Used {
                kind: "task",
                id,
                title: Some(title),
                detail: format!(
                    "due {}, priority {priority}",
                    due.map(|d| d.to_string()).unwrap_or_default()
                ),
            })
            .collect(),
    })
}

async fn week(conn: &mut Conn, user_id: Uuid, c: &Context) -> ApiResult<Answer> {
    let first = c.date - Duration::days(6);
    let week = Week::load(conn, user_id, c, first).await?;
    let done = week
        .completions
        .iter()
        .filter(|(_, _, o)| o == "done")
        .count() as i64;
    let skipped = week.completions.len() as i64 - done;
    let focus_minutes: i64 = week
        .sessions
        .iter()
        .filter_map(|(_, s, e)| Some((*e.as_ref()? - *s).num_minutes()))
        .sum();
    let mut answer = format!(
        "From {first} to {}: you completed {}, kept your routines {done} of {} times, and focused {} h {} min in {}.",
        c.date,
        plural(week.completed.len() as i64, "task", "tasks"),
        done + skipped,
        focus_minutes / 60,
        focus_minutes % 60,
        plural(week.sessions.len() as i64, "session", "sessions"),
    );
    match week.reviews.iter().find(|r| r.1 == "weekly") {
        Some((_, _, s, e)) => answer.push_str(&format!(
            " Your weekly review for {s} to {e} is among the rows."
        )),
        None => answer.push_str(" No weekly review covers these days yet."),
    }
    let figures = BTreeMap::from([
        ("tasks_completed".into(), week.completed.len() as i64),
        ("routines_done".into(), done),
        ("routines_skipped".into(), skipped),
        ("focus_minutes".into(), focus_minutes),
        ("focus_sessions".into(), week.sessions.len() as i64),
        ("reviews".into(), week.reviews.len() as i64),
    ]);
    let mut rows = week.into_rows(c.zone);
    rows.truncate(MAX_ROWS);
    Ok(Answer {
        question: Question::Week,
        answer,
        figures,
        rows,
    })
}

/// The rows of the last seven days: tasks completed, routine outcomes, finished focus sessions
/// and the reviews covering them, newest first.
struct Week {
    completed: Vec<(Uuid, String, Option<DateTime<Utc>>)>,
    completions: Vec<(Uuid, NaiveDate, String)>,
    sessions: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)>,
    reviews: Vec<(Uuid, String, NaiveDate, NaiveDate)>,
}

impl Week {
    async fn load(
        conn: &mut Conn,
        user_id: Uuid,
        c: &Context,
        first: NaiveDate,
    ) -> ApiResult<Self> {
        let from = place(first, c.day_starts_at, c.zone);
        let completed = t::table
            .filter(t::workspace_id.eq(c.workspace_id))
            .filter(t::completed_at.ge(from))
            .filter(t::completed_at.le(c.now))
            .order((t::completed_at.desc(), t::id.asc()))
            .select((t::id, t::title, t::completed_at))
            .load(conn)
            .await?;
        let completions = rc::table
            .filter(rc::workspace_id.eq(c.workspace_id))
            .filter(rc::occurrence_date.between(first, c.date))
            .order((rc::occurrence_date.desc(), rc::id.asc()))
            .select((rc::id, rc::occurrence_date, rc::outcome))
            .load(conn)
            .await?;
        let sessions = f::table
            .filter(f::created_by.eq(user_id))
            .filter(f::started_at.ge(from))
            .filter(f::ended_at.is_not_null())
            .order((f::started_at.desc(), f::id.asc()))
            .select((f::id, f::started_at, f::ended_at))
            .load(conn)
            .await?;
        let reviews = rv::table
            .filter(rv::workspace_id.eq(c.workspace_id))
            .filter(rv::period_end.ge(first))
            .filter(rv::period_start.le(c.date))
            .order((rv::period_end.desc(), rv::id.asc()))
            .select((rv::id, rv::kind, rv::period_start, rv::period_end))
            .load(conn)
            .await?;
        Ok(Week {
            completed,
            completions,
            sessions,
            reviews,
        })
    }

    /// Every row, as the answer lists it.
    fn into_rows(self, zone: chrono_tz::Tz) -> Vec<Used> {
        self.completed
            .into_iter()
            .map(|(id, title, at)| Used {
                kind: "task",
                id,
                title: Some(title),
                detail: format!(
                    "completed {}",
                    at.map(|a| a.with_timezone(&zone).date_naive().to_string())
                        .unwrap_or_default()
                ),
            })
            .chain(
                self.completions
                    .into_iter()
                    .map(|(id, date, outcome)| Used {
                        kind: "routine_completion",
                        id,
                        title: None,
                        detail: format!("{outcome} on {date}"),
                    }),
            )
            .chain(self.sessions.into_iter().map(|(id, s, e)| Used {
                kind: "focus_session",
                id,
                title: None,
                detail: format!("{} min", e.map_or(0, |e| (e - s).num_minutes())),
            }))
            .chain(self.reviews.into_iter().map(|(id, kind, s, e)| Used {
                kind: "review",
                id,
                title: None,
                detail: format!("{kind} review, {s} to {e}"),
            }))
            .collect()
    }
}

#[derive(QueryableByName)]
struct GoalActivity {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_progress: Option<DateTime<Utc>>,
    #[diesel(sql_type = Int4)]
    open_tasks: i32,
}

async fn stalled_goals(conn: &mut Conn, c: &Context) -> ApiResult<Answer> {
    // Progress is a completed task (linked to the goal, or to one of its projects) or milestone.
    let goals: Vec<GoalActivity> = diesel::sql_query(
        "SELECT g.id, g.title, g.created_at, \
           greatest((SELECT max(t.completed_at) FROM app.tasks t \
                      WHERE t.goal_id = g.id OR t.project_id IN (SELECT p.id FROM app.projects p WHERE p.goal_id = g.id)), \
                    (SELECT max(m.completed_at) FROM app.milestones m WHERE m.goal_id = g.id)) AS last_progress, \
           (SELECT count(*) FROM app.tasks t WHERE t.status IN ('todo', 'in_progress') \
              AND (t.goal_id = g.id OR t.project_id IN (SELECT p.id FROM app.projects p WHERE p.goal_id = g.id)))::int4 AS open_tasks \
         FROM app.goals g WHERE g.workspace_id = $1 AND g.status = 'active' ORDER BY g.created_at, g.id",
    )
    .bind::<SqlUuid, _>(c.workspace_id)
    .load(conn)
    .await?;
    let active = goals.len() as i64;
    let cutoff = c.now - Duration::days(STALL_DAYS);
    let stalled: Vec<&GoalActivity> = goals
        .iter()
        .filter(|g| g.last_progress.unwrap_or(g.created_at) < cutoff)
        .collect();
    let answer = if stalled.is_empty() {
        format!(
            "None of your {} has stalled: each moved in the last {STALL_DAYS} days.",
            plural(active, "active goal", "active goals")
        )
    } else {
        let names: Vec<String> = stalled
            .iter()
            .take(3)
            .map(|g| format!("“{}”", g.title))
            .collect();
        format!(
            "{} of {} stalled (nothing completed for {STALL_DAYS} days): {}.",
            plural(stalled.len() as i64, "goal", "goals"),
            active,
            names.join(", ")
        )
    };
    let rows = stalled
        .iter()
        .take(MAX_ROWS)
        .map(|g| {
            let since = match g.last_progress {
                Some(at) => format!("last progress {}", at.with_timezone(&c.zone).date_naive()),
                None => format!(
                    "no progress since it was created on {}",
                    g.created_at.with_timezone(&c.zone).date_naive()
                ),
            };
            let next = if g.open_tasks == 0 {
                "; no open task moves it: add a next step"
            } else {
                ""
            };
            Used {
                kind: "goal",
                id: g.id,
                title: Some(g.title.clone()),
                detail: format!("{since}{next}"),
            }
        })
        .collect();
    Ok(Answer {
        question: Question::StalledGoals,
        answer,
        figures: BTreeMap::from([
            ("active_goals".into(), active),
            ("stalled_goals".into(), stalled.len() as i64),
        ]),
        rows,
    })
}

/// Answers from your own data to a fixed set of questions: `what_next`, `overdue`, `week` and
/// `stalled_goals`. Each answer lists the rows it used.
#[utoipa::path(
    tag = "plans",
    params(AskParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The answers", body = Answers)),
)]
#[get("/assistant")]
pub async fn ask(
    state: State,
    auth: Auth,
    params: web::Query<AskParams>,
) -> ApiResult<HttpResponse> {
    let AskParams {
        question,
        workspace_id,
    } = params.into_inner();
    let answers = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let c = today::context(conn, me, workspace_id).await?;
                let questions = question.map_or(ALL.to_vec(), |q| vec![q]);
                let mut items = Vec::new();
                for q in questions {
                    items.push(match q {
                        Question::WhatNext => what_next(conn, me.user_id, &c).await?,
                        Question::Overdue => overdue(conn, &c).await?,
                        Question::Week => week(conn, me.user_id, &c).await?,
                        Question::StalledGoals => stalled_goals(conn, &c).await?,
                    });
                }
                Ok(Answers {
                    date: c.date,
                    items,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(answers))
}
