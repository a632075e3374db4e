//! `/v1/integrations/calendar`: connect a private iCal URL (Pro and Max), see how its reading
//! goes, read it now, disconnect. The URL is sealed at rest and never shown back, only its host.

use actix_web::{delete, get, post, put, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_types::{BigInt, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::sync::{self, Outcome, Window, DAYS};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::pool::Conn,
    http::{
        json::Json,
        problem::{ApiError, ApiResult, Problem, ProblemKind},
    },
    subscriptions::{required, Plan},
};

const MAX_URL_CHARS: usize = 2048;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://calendar.google.com/calendar/ical/ada%40example.com/private-0123456789abcdef/basic.ics"}))]
pub struct ConnectCalendar {
    /// The calendar's private iCal address (https; `webcal://` is read as https). It is read
    /// once to check it, then kept encrypted; it is never shown back.
    #[schema(max_length = 2048)]
    pub url: String,
}

/// How your calendar connection is doing. Never the URL: only its host.
#[derive(Serialize, ToSchema)]
pub struct CalendarStatus {
    pub connected: bool,
    #[schema(example = "calendar.google.com")]
    pub host: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    /// When the feed was last read successfully.
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Why the last reading failed, until one succeeds (the cached events stay meanwhile).
    #[schema(example = "the calendar server answered 404 Not Found")]
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    /// The first of the cached days (your today when it was read) and how many days.
    #[schema(value_type = Option<String>, example = "2026-12-01")]
    pub window_start: Option<NaiveDate>,
    #[schema(example = 7)]
    pub days: u32,
    /// Occurrences cached for those days.
    pub event_count: i64,
    /// When it is read again by itself.
    pub next_sync_at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Text)]
    host: String,
    #[diesel(sql_type = Timestamptz)]
    connected_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_sync_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_error_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<diesel::sql_types::Date>)]
    window_start: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    event_count: i64,
}

/// The acting user's connection status.
pub async fn status(conn: &mut Conn, at: DateTime<Utc>) -> ApiResult<CalendarStatus> {
    let row: Option<Row> = diesel::sql_query(
        "SELECT c.user_id, c.host, c.connected_at, c.last_sync_at, c.last_error, c.last_error_at, \
                c.window_start, (SELECT count(*) FROM auth.calendar_events e WHERE e.user_id = c.user_id) AS event_count \
         FROM auth.calendar_connections c",
    )
    .load(conn)
    .await?
    .pop();
    Ok(match row {
        Some(r) => CalendarStatus {
            connected: true,
            host: Some(r.host),
            connected_at: Some(r.connected_at),
            last_sync_at: r.last_sync_at,
            last_error: r.last_error,
            last_error_at: r.last_error_at,
            window_start: r.window_start,
            days: DAYS,
            event_count: r.event_count,
            next_sync_at: Some(sync::next_slot(r.user_id, at)),
        },
        None => CalendarStatus {
            connected: false,
            host: None,
            connected_at: None,
            last_sync_at: None,
            last_error: None,
            last_error_at: None,
            window_start: None,
            days: DAYS,
            event_count: 0,
            next_sync_at: None,
        },
    })
}

/// The URL to read and its host, or why it is not one.
fn checked_url(raw: &str) -> ApiResult<(String, String)> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(ApiError::field(
            "url",
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    // Calendar apps hand out webcal:// links for the same https resource.
    let raw = match raw.get(..9) {
        Some(scheme) if scheme.eq_ignore_ascii_case("webcal://") => {
            format!("https://{}", &raw[9..])
        }
        _ => raw.to_owned(),
    };
    let url =
        url::Url::parse(&raw).map_err(|e| ApiError::field("url", format!("is not a URL: {e}")))?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| ApiError::field("url", "has no host"))?
        .to_owned();
    Ok((url.into(), host))
}

/// May the acting user connect a calendar: their plan, then the server's keys.
async fn allowed(conn: &mut Conn, user: Uuid) -> ApiResult<()> {
    if !Plan::of(conn, user).await?.limits().calendar {
        return Err(required("a calendar connection (Pro and Max)"));
    }
    Ok(())
}

/// `PUT /v1/integrations/calendar`
#[utoipa::path(
    tag = "integrations", summary = "Connect a private iCal calendar (Pro and Max).",
    description = "The URL is read once, at once, and must give an iCalendar file: its events of \
                   the next 7 days of your time zone are cached, feed your plan as busy time and \
                   show in Today. The URL is then kept encrypted and never shown back (only its \
                   host). It is read again every 30 minutes (conditionally: an unchanged feed \
                   costs one `304`). Connecting another URL replaces the first and its events. \
                   The URL must be https (`webcal://` is read as https) and its host must resolve \
                   to public addresses; redirects are followed and checked the same way, and a \
                   feed over 10 MB is refused. Nothing is written to your calendar.",
    request_body = ConnectCalendar,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Connected and read", body = CalendarStatus),
        (status = 403, description = "Your plan has no calendar (`/problems/plan-required`), a read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This server keeps no secrets, so it cannot keep the URL (`/problems/conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a URL we read, or it did not give a calendar (`/problems/validation`)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/validation", "title": "The request has invalid fields", "status": 422, "detail": "url: the calendar server answered 404 Not Found",
                          "errors": [{"field": "url", "message": "the calendar server answered 404 Not Found"}]})),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[put("/integrations/calendar")]
pub async fn connect(
    state: State,
    auth: Auth,
    body: Json<ConnectCalendar>,
) -> ApiResult<HttpResponse> {
    let (url, host) = checked_url(&body.url)?;
    let config = state.config.clone();
    sync::keys(&config)?;
    let (user, at, window) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                allowed(conn, me.user_id).await?;
                let window = Window::of(conn, me.user_id, me.at).await?;
                Ok((me.user_id, me.at, window))
            }
            .scope_boxed()
        })
        .await?;
    // Read before any transaction opens: a slow calendar server must not hold a connection.
    let expanded = sync::read(&config, &url, window, None)
        .await
        .map_err(|why| ApiError::field("url", why))?
        .ok_or_else(|| {
            ApiError::field("url", "the calendar server answered 304 to a first read")
        })?;
    let config = state.config.clone();
    let status = state
        .db
        .tx_as(user, move |conn| {
            async move {
                allowed(conn, user).await?;
                let sealed =
                    sync::keys(&config)?.seal(sync::place(&user.to_string()), url.as_bytes());
                diesel::sql_query(
                    "INSERT INTO auth.calendar_connections (user_id, url, host, connected_at) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (user_id) DO UPDATE SET url = EXCLUDED.url, host = EXCLUDED.host, \
                        connected_at = EXCLUDED.connected_at, etag = NULL, last_modified = NULL",
                )
                .bind::<SqlUuid, _>(user)
                .bind::<Bytea, _>(sealed)
                .bind::<Text, _>(host)
                .bind::<Timestamptz, _>(at)
                .execute(conn)
                .await?;
                sync::keep(conn, user, &expanded, at).await?;
                sync::plant_next(conn, user, at).await?;
                status(conn, at).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(status))
}

/// `GET /v1/integrations/calendar`
#[utoipa::path(
    tag = "integrations", summary = "How your calendar connection is doing.",
    description = "Whether a calendar is connected, its host, when it was last read, why the last \
                   reading failed if it did, and how many occurrences are cached. Never the URL.",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The connection's status (`connected: false` when there is none)", body = CalendarStatus)),
)]
#[get("/integrations/calendar")]
pub async fn show(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let status = auth
        .tx(&state.db, Access::Read, |conn, me| {
            status(conn, me.at).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(status))
}

/// `POST /v1/integrations/calendar/sync`
#[utoipa::path(
    tag = "integrations", summary = "Read your calendar now.",
    description = "Reads the feed at once (conditionally when the cached days are still your \
                   next 7) and answers the status. When your plan no longer includes a calendar, \
                   the connection and its events are deleted and the answer is \
                   `/problems/plan-required`.",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Read; the status", body = CalendarStatus),
        (status = 403, description = "Your plan has no calendar (`/problems/plan-required`; the connection is gone), a read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No calendar is connected", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This server keeps no secrets (`/problems/conflict`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "The calendar could not be read (`/problems/calendar-unreachable`); the cached events stay and the status records why", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/calendar-unreachable", "title": "The calendar could not be read", "status": 502, "detail": "the calendar server answered 404 Not Found"})),
    ),
)]
#[post("/integrations/calendar/sync")]
pub async fn sync_now(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let (user, at) = auth
        .tx(&state.db, Access::Write, |_, me| {
            async move { Ok((me.user_id, me.at)) }.scope_boxed()
        })
        .await?;
    match sync::run(&state.db, &state.config, user, at).await? {
        Outcome::Synced => {}
        Outcome::Failed(why) => return Err(ApiError::new(ProblemKind::CalendarUnreachable, why)),
        Outcome::NotConnected => return Err(ApiError::not_found()),
        Outcome::Disconnected => {
            return Err(required(
                "a calendar connection (Pro and Max); it was disconnected",
            ))
        }
    }
    let status = state
        .db
        .tx_as(user, move |conn| status(conn, at).scope_boxed())
        .await?;
    Ok(HttpResponse::Ok().json(status))
}

/// `DELETE /v1/integrations/calendar`
#[utoipa::path(
    tag = "integrations", summary = "Disconnect your calendar.",
    description = "Deletes the URL and every cached event in one transaction; nothing is read \
                   again. Answers 204 whether or not a calendar was connected.",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 403, description = "A read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/integrations/calendar")]
pub async fn disconnect(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    auth.tx(&state.db, Access::Write, |conn, me| {
        async move { sync::disconnect(conn, me.user_id).await.map(|_| ()) }.scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
