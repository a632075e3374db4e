//! The cached occurrences: listed at `GET /v1/calendar/events`, shown in Today, and given to the
//! planner as busy time.

use actix_web::{get, web::Query, HttpResponse};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use diesel::{
    sql_types::{Bool, Nullable, Text, Timestamptz},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
        zone::user_zone,
    },
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, Problem},
    recurrence::place,
};

/// One occurrence of an event of your calendar.
#[derive(Clone, Debug, Serialize, ToSchema, QueryableByName)]
pub struct CalendarEvent {
    #[diesel(sql_type = Text)]
    #[schema(example = "7kukuqrfedlm2f9t0vvnm2k1c8@google.com")]
    pub uid: String,
    /// For an occurrence of a recurring event: the start it has in the series.
    #[diesel(sql_type = Nullable<Text>)]
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    pub recurrence_id: Option<String>,
    #[diesel(sql_type = Text)]
    #[schema(example = "Standup")]
    pub summary: String,
    /// As the calendar has it: RFC 3339 with the event's own offset, or a date (all-day).
    #[diesel(sql_type = Text)]
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    pub start: String,
    #[diesel(sql_type = Text)]
    #[schema(example = "2026-12-01T09:15:00+01:00")]
    pub end: String,
    /// The same as instants (an all-day date begins at midnight in your time zone).
    #[diesel(sql_type = Timestamptz)]
    pub starts_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub ends_at: DateTime<Utc>,
    #[diesel(sql_type = Bool)]
    pub all_day: bool,
    #[diesel(sql_type = Text)]
    #[schema(value_type = EventStatus)]
    pub status: String,
    /// Whether it takes time from your plan: timed, not cancelled, not marked free.
    #[diesel(sql_type = Bool)]
    pub busy: bool,
}

/// An occurrence's `STATUS` (the database keeps only these three).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

const COLUMNS: &str = "uid, recurrence_id, summary, start_text AS start, end_text AS \"end\", \
                       starts_at, ends_at, all_day, status, busy";

/// The acting user's occurrences overlapping `[from, to)`, by start.
pub async fn between(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<CalendarEvent>> {
    Ok(diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM auth.calendar_events \
         WHERE starts_at < $2 AND (ends_at > $1 OR (ends_at = starts_at AND starts_at >= $1)) \
         ORDER BY starts_at, position"
    ))
    .bind::<Timestamptz, _>(from)
    .bind::<Timestamptz, _>(to)
    .load(conn)
    .await?)
}

/// The occurrences of one local day, which begins at `start` and ends at `end`: timed ones that
/// overlap it, all-day ones whose dates include `date`.
pub async fn of_day(
    conn: &mut Conn,
    date: NaiveDate,
    zone: chrono_tz::Tz,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
) -> ApiResult<Vec<CalendarEvent>> {
    let midnight = place(date, NaiveTime::MIN, zone);
    let mut events = between(conn, start.min(midnight), end).await?;
    events.retain(|e| {
        if e.all_day {
            e.starts_at <= midnight && midnight < e.ends_at
        } else {
            e.starts_at < end
                && (e.ends_at > start || (e.ends_at == e.starts_at && e.starts_at >= start))
        }
    });
    // All-day first, as calendars show them.
    events.sort_by_key(|e| (!e.all_day, e.starts_at));
    Ok(events)
}

/// The busy spans of the acting user's calendar overlapping `[from, to)`.
pub async fn busy(
    conn: &mut Conn,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> ApiResult<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
    Ok(between(conn, from, to)
        .await?
        .into_iter()
        .filter(|e| e.busy && e.ends_at > e.starts_at)
        .map(|e| (e.starts_at, e.ends_at))
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Range {
    /// The first local date (default: every cached day).
    #[param(value_type = Option<String>, example = "2026-12-01")]
    pub from: Option<NaiveDate>,
    /// The last local date, included.
    #[param(value_type = Option<String>, example = "2026-12-07")]
    pub to: Option<NaiveDate>,
}

fn far_future() -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + chrono::Duration::days(365 * 1000)
}

#[derive(Serialize, ToSchema)]
pub struct CalendarEvents {
    #[schema(example = "Europe/Berlin")]
    pub time_zone: String,
    pub items: Vec<CalendarEvent>,
}

/// `GET /v1/calendar/events`
#[utoipa::path(
    tag = "integrations", summary = "The events of your calendar's next days.",
    description = "The cached occurrences of your connected calendar (the next 7 days of your time \
                   zone, as of its last reading), recurring events expanded, by start. Cancelled \
                   occurrences are listed with `status: cancelled`; only `busy` ones take time \
                   from your plan. Empty when no calendar is connected.",
    params(Range),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The occurrences", body = CalendarEvents),
        (status = 422, description = "`to` before `from`, or a date outside 1900–9998 (`/problems/validation`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/calendar/events")]
pub async fn list(state: State, auth: Auth, range: Query<Range>) -> ApiResult<HttpResponse> {
    let Range { from, to } = range.into_inner();
    for (name, date) in [("from", from), ("to", to)] {
        if date.is_some_and(|d| !(1900..=9998).contains(&d.year())) {
            return Err(ApiError::field(
                name,
                "must be a date between 1900 and 9998",
            ));
        }
    }
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(ApiError::field("to", "must not be before from"));
        }
    }
    let answer = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let zone = user_zone(conn, me.user_id).await?;
                // Without a bound, every cached day (the cache holds a week).
                let start = from.map_or(DateTime::UNIX_EPOCH, |d| place(d, NaiveTime::MIN, zone));
                let end = to
                    .and_then(|d| d.succ_opt())
                    .map_or(far_future(), |d| place(d, NaiveTime::MIN, zone));
                Ok(CalendarEvents {
                    time_zone: zone.name().to_owned(),
                    items: between(conn, start, end).await?,
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}
