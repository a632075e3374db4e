use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
    },
    db::{
        pool::Conn,
        schema::app::{capture_items, focus_sessions, reviews as t, routine_completions, tasks},
    },
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

pub const KINDS: &[&str] = &["daily", "weekly"];
const ANSWERS_MAX: usize = 30;
const QUESTION_CHARS: usize = 100;
const ANSWER_CHARS: usize = 5000;

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    kind: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    answers: serde_json::Value,
    stats: serde_json::Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What happened in the workspace during the period, counted in UTC days: a task completed
/// at 23:30 in Berlin on Monday counts for Monday only if that is still Monday in UTC.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewStats {
    /// Tasks whose `completed_at` falls in the period.
    #[schema(example = 12)]
    pub tasks_completed: i64,
    /// Whole minutes of the stopped focus sessions that started in the period.
    #[schema(example = 240)]
    pub focus_minutes: i64,
    /// Routine occurrences in the period marked `done`.
    #[schema(example = 9)]
    pub routines_done: i64,
    /// Captures created in the period.
    #[schema(example = 17)]
    pub captures_created: i64,
}

#[derive(Serialize, ToSchema)]
pub struct Review {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    /// `daily` or `weekly`.
    #[schema(example = "weekly")]
    pub kind: String,
    #[schema(example = "2026-11-23")]
    pub period_start: NaiveDate,
    /// The same day for daily reviews, six days later for weekly ones.
    #[schema(example = "2026-11-29")]
    pub period_end: NaiveDate,
    /// Question → answer.
    #[schema(example = json!({"What went well?": "Shipped the garden plan", "What to drop?": "Late e-mail"}))]
    pub answers: BTreeMap<String, String>,
    /// Computed by the server on every write; read-only.
    pub stats: ReviewStats,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// `daily` or `weekly`.
    #[schema(example = "weekly")]
    pub kind: String,
    #[schema(example = "2026-11-23")]
    pub period_start: NaiveDate,
    /// Follows from `kind` and `period_start`; when sent, it must match: the same day for
    /// daily reviews, `period_start` + 6 days for weekly ones.
    #[schema(example = "2026-11-29")]
    pub period_end: Option<NaiveDate>,
    /// Question → answer: up to 30, questions 1 to 100 characters, answers up to 5000.
    #[schema(example = json!({"What went well?": "Shipped the garden plan"}))]
    pub answers: Option<BTreeMap<String, String>>,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t)]
pub struct Values {
    kind: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    answers: serde_json::Value,
    stats: serde_json::Value,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewFilter {
    /// Only `daily` or only `weekly` reviews.
    pub kind: Option<String>,
    /// Only reviews whose period starts on or after this date.
    pub from: Option<NaiveDate>,
    /// Only reviews whose period starts on or before this date.
    pub to: Option<NaiveDate>,
}

fn period_end(kind: &str, start: NaiveDate) -> Option<NaiveDate> {
    match kind {
        "daily" => Some(start),
        "weekly" => start.checked_add_days(Days::new(6)),
        _ => None,
    }
}

fn answers(raw: Option<BTreeMap<String, String>>, errors: &mut Vec<FieldError>) {
    let raw = raw.unwrap_or_default();
    if raw.len() > ANSWERS_MAX {
        errors.push(FieldError {
            field: "answers".into(),
            message: format!("at most {ANSWERS_MAX} answers"),
        });
    }
    for (question, answer) in &raw {
        let n = question.trim().chars().count();
        if n == 0 || question.chars().count() > QUESTION_CHARS {
            errors.push(FieldError {
                field: "answers".into(),
                message: format!("each question must be 1 to {QUESTION_CHARS} characters"),
            });
        } else if answer.chars().count() > ANSWER_CHARS {
            errors.push(FieldError {
                field: format!("answers.{question}"),
                message: format!("must be at most {ANSWER_CHARS} characters"),
            });
        }
    }
}

/// The period's figures for one workspace; the period runs from the start of `start` to the
/// end of `end`, in UTC.
async fn stats(
    conn: &mut Conn,
    workspace_id: Uuid,
    start: NaiveDate,
    end: NaiveDate,
) -> ApiResult<ReviewStats> {
    let from = start.and_time(NaiveTime::MIN).and_utc();
    let until = end
        .checked_add_days(Days::new(1))
        .unwrap_or(end)
        .and_time(NaiveTime::MIN)
        .and_utc();
    let (tasks_completed, routines_done, captures_created) = diesel::select((
        tasks::table
            .filter(tasks::workspace_id.eq(workspace_id))
            .filter(tasks::completed_at.ge(from))
            .filter(tasks::completed_at.lt(until))
            .count()
            .single_value(),
        routine_completions::table
            .filter(routine_completions::workspace_id.eq(workspace_id))
            .filter(routine_completions::outcome.eq("done"))
            .filter(routine_completions::occurrence_date.between(start, end))
            .count()
            .single_value(),
        capture_items::table
            .filter(capture_items::workspace_id.eq(workspace_id))
            .filter(capture_items::created_at.ge(from))
            .filter(capture_items::created_at.lt(until))
            .count()
            .single_value(),
    ))
    .get_result::<(Option<i64>, Option<i64>, Option<i64>)>(conn)
    .await?;
    // Summed here with the same rounding as each session's `actual_minutes`, so that the
    // figures add up for the reader.
    let sessions: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> = focus_sessions::table
        .filter(focus_sessions::workspace_id.eq(workspace_id))
        .filter(focus_sessions::started_at.ge(from))
        .filter(focus_sessions::started_at.lt(until))
        .filter(focus_sessions::ended_at.is_not_null())
        .select((focus_sessions::started_at, focus_sessions::ended_at))
        .load(conn)
        .await?;
    let focus_minutes = sessions
        .into_iter()
        .filter_map(|(started, ended)| crate::focus::session::actual_minutes(started, ended))
        .sum();
    Ok(ReviewStats {
        tasks_completed: tasks_completed.unwrap_or(0),
        focus_minutes,
        routines_done: routines_done.unwrap_or(0),
        captures_created: captures_created.unwrap_or(0),
    })
}

pub struct Reviews;

impl Resource for Reviews {
    const TABLE: &'static str = "app.reviews";
    type Row = Row;
    type Out = Review;
    type Input = ReviewInput;
    type Values = Values;
    type Filter = ReviewFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Review {
        Review {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            kind: r.kind,
            period_start: r.period_start,
            period_end: r.period_end,
            // Written only by `validate`, so these always parse.
            answers: serde_json::from_value(r.answers).unwrap_or_default(),
            stats: serde_json::from_value(r.stats).unwrap_or_default(),
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    /// `period_end` is left out: it follows from the kind and the start, so a patch that
    /// moves the start moves the end with it.
    fn input(r: &Row) -> ReviewInput {
        ReviewInput {
            workspace_id: Some(r.workspace_id),
            kind: r.kind.clone(),
            period_start: r.period_start,
            period_end: None,
            answers: serde_json::from_value(r.answers.clone()).ok(),
        }
    }

    fn input_workspace(input: &ReviewInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        input: ReviewInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let kind = fields::one_of("kind", Some(input.kind), KINDS, "daily", &mut errors);
        // Dates outside four-digit years are typing mistakes, and some would not fit
        // PostgreSQL's date range.
        if !(1..=9999).contains(&input.period_start.year()) {
            errors.push(FieldError {
                field: "period_start".into(),
                message: "must be a date in the years 1 to 9999".into(),
            });
        }
        let end = match period_end(&kind, input.period_start) {
            Some(expected) => {
                if input.period_end.is_some_and(|given| given != expected) {
                    errors.push(FieldError {
                        field: "period_end".into(),
                        message: format!("must be {expected} for a {kind} review"),
                    });
                }
                expected
            }
            None => input.period_end.unwrap_or(input.period_start),
        };
        answers(input.answers.clone(), &mut errors);
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        let stats = stats(conn, ctx.workspace_id, input.period_start, end).await?;
        Ok(Values {
            kind,
            period_start: input.period_start,
            period_end: end,
            answers: serde_json::to_value(input.answers.unwrap_or_default())
                .map_err(ApiError::internal)?,
            stats: serde_json::to_value(stats).map_err(ApiError::internal)?,
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<ReviewFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(kind) = q.filter.kind {
            query = query.filter(t::kind.eq(kind));
        }
        if let Some(from) = q.filter.from {
            query = query.filter(t::period_start.ge(from));
        }
        if let Some(to) = q.filter.to {
            query = query.filter(t::period_start.le(to));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_follow_the_kind() {
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(period_end("daily", monday), Some(monday));
        assert_eq!(
            period_end("weekly", monday),
            NaiveDate::from_ymd_opt(2026, 11, 29)
        );
        assert_eq!(period_end("monthly", monday), None);
    }

    #[test]
    fn answers_are_bounded() {
        let mut errors = Vec::new();
        answers(
            Some(BTreeMap::from([
                ("ok".into(), "fine".into()),
                ("long".into(), "x".repeat(5001)),
                ("".into(), "empty question".into()),
            ])),
            &mut errors,
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["answers", "answers.long"]);
        let many = (0..31).map(|i| (i.to_string(), String::new())).collect();
        answers(Some(many), &mut errors);
        assert_eq!(errors.last().unwrap().field, "answers");
    }
}
