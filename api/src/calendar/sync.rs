//! Keeping a connection's cached days current: read the feed (outside any transaction), expand
//! the next [`DAYS`] of the user's zone, replace the cache in one transaction. Runs every
//! [`EVERY`] per connection as a `calendar.sync` job, and on demand.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use diesel::{
    sql_types::{Array, Bool, Bytea, Date, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use uuid::Uuid;

use super::{
    expand::{self, Occurrence, Status, When},
    feed::{self, Feed, Validators},
};
use crate::{
    common::{
        jobs::{
            queue::{enqueue, NewJob},
            worker::{JobContext, Registry},
        },
        zone::{today, user_zone},
    },
    config::Config,
    db::pool::{act_as, Conn, Db},
    http::problem::{ApiError, ApiResult},
    secrets::{KeyRing, Place},
    subscriptions::Plan,
};

pub const SYNC: &str = "calendar.sync";
/// How often a connection is read again.
pub const EVERY: Duration = Duration::minutes(30);
/// The days cached, from the user's today.
pub const DAYS: u32 = 7;
/// Occurrences kept of one feed's days (the rest, latest first, are dropped).
pub const MAX_EVENTS: usize = 2000;

/// Where a connection's URL is sealed.
pub fn place(user: &str) -> Place<'_> {
    Place {
        table: "auth.calendar_connections",
        column: "url",
        row: user,
    }
}

/// The key ring, or why this server cannot keep a calendar URL.
pub fn keys(config: &Config) -> ApiResult<&KeyRing> {
    config.secret_keys.as_deref().ok_or_else(|| {
        ApiError::new(
            crate::http::problem::ProblemKind::Conflict,
            "this server keeps no secrets (MINIME_SECRET_KEYS is not set), so it cannot keep a calendar URL",
        )
    })
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Bytea)]
    url: Vec<u8>,
    #[diesel(sql_type = Nullable<Text>)]
    etag: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    last_modified: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    window_start: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Text>)]
    time_zone: Option<String>,
}

/// The window a sync expands: the user's today and zone.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub from: NaiveDate,
    pub zone: Tz,
}

impl Window {
    pub async fn of(conn: &mut Conn, user: Uuid, at: DateTime<Utc>) -> ApiResult<Self> {
        let zone = user_zone(conn, user).await?;
        let from = today(conn, user, zone, at).await?;
        Ok(Self { from, zone })
    }
}

/// A feed read and expanded, ready to be kept.
pub struct Expanded {
    pub window: Window,
    pub occurrences: Vec<Occurrence>,
    pub validators: Validators,
}

/// Reads `url` and expands the window's days: the error is a sentence for the user.
pub async fn read(
    config: &Config,
    url: &str,
    window: Window,
    validators: Option<&Validators>,
) -> Result<Option<Expanded>, String> {
    let (text, validators) = match feed::read(config, url, validators).await? {
        Feed::Unchanged => return Ok(None),
        Feed::Read { text, validators } => (text, validators),
    };
    // Expanding a large feed is CPU work: off the request threads.
    let occurrences =
        tokio::task::spawn_blocking(move || expand::expand(&text, window.from, DAYS, window.zone))
            .await
            .map_err(|_| "the calendar could not be read".to_owned())?
            .map_err(|e| e.to_string())?;
    Ok(Some(Expanded {
        window,
        occurrences,
        validators,
    }))
}

fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// An occurrence's time as an instant (an all-day date begins at midnight in `zone`) and as the
/// calendar wrote it.
fn instant(when: &When, zone: Tz) -> (DateTime<Utc>, String) {
    match when {
        When::At(at) => (at.with_timezone(&Utc), at.to_rfc3339()),
        When::Date(d) => (
            crate::recurrence::place(*d, chrono::NaiveTime::MIN, zone),
            d.to_string(),
        ),
    }
}

/// Replaces the user's cached occurrences and records a successful read.
pub async fn keep(
    conn: &mut Conn,
    user: Uuid,
    expanded: &Expanded,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::sql_query("DELETE FROM auth.calendar_events WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    let zone = expanded.window.zone;
    let mut rows = Rows::default();
    for (n, o) in expanded.occurrences.iter().take(MAX_EVENTS).enumerate() {
        let (starts_at, start_text) = instant(&o.start, zone);
        let (ends_at, end_text) = instant(&o.end, zone);
        rows.position.push(n as i32);
        rows.uid.push(cut(&o.uid, 1000));
        rows.recurrence_id
            .push(o.recurrence_id.as_deref().map(|r| cut(r, 100)));
        rows.starts_at.push(starts_at);
        rows.ends_at.push(ends_at.max(starts_at));
        rows.start_text.push(start_text);
        rows.end_text.push(end_text);
        rows.all_day.push(o.all_day);
        rows.summary.push(cut(&o.summary, 1000));
        rows.status.push(
            match o.status {
                Status::Confirmed => "confirmed",
                Status::Tentative => "tentative",
                Status::Cancelled => "cancelled",
            }
            .to_owned(),
        );
        rows.busy.push(o.busy());
    }
    diesel::sql_query(
        "INSERT INTO auth.calendar_events (user_id, position, uid, recurrence_id, starts_at, ends_at, \
                start_text, end_text, all_day, summary, status, busy) \
         SELECT $1, * FROM unnest($2::int[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], \
                $7::text[], $8::text[], $9::bool[], $10::text[], $11::text[], $12::bool[])",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<Integer>, _>(rows.position)
    .bind::<Array<Text>, _>(rows.uid)
    .bind::<Array<Nullable<Text>>, _>(rows.recurrence_id)
    .bind::<Array<Timestamptz>, _>(rows.starts_at)
    .bind::<Array<Timestamptz>, _>(rows.ends_at)
    .bind::<Array<Text>, _>(rows.start_text)
    .bind::<Array<Text>, _>(rows.end_text)
    .bind::<Array<Bool>, _>(rows.all_day)
    .bind::<Array<Text>, _>(rows.summary)
    .bind::<Array<Text>, _>(rows.status)
    .bind::<Array<Bool>, _>(rows.busy)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "UPDATE auth.calendar_connections SET etag = $2, last_modified = $3, window_start = $4, \
                time_zone = $5, last_sync_at = $6, last_error = NULL, last_error_at = NULL \
         WHERE user_id = $1",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Nullable<Text>, _>(&expanded.validators.etag)
    .bind::<Nullable<Text>, _>(&expanded.validators.last_modified)
    .bind::<Date, _>(expanded.window.from)
    .bind::<Text, _>(expanded.window.zone.name())
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Default)]
struct Rows {
    position: Vec<i32>,
    uid: Vec<String>,
    recurrence_id: Vec<Option<String>>,
    starts_at: Vec<DateTime<Utc>>,
    ends_at: Vec<DateTime<Utc>>,
    start_text: Vec<String>,
    end_text: Vec<String>,
    all_day: Vec<bool>,
    summary: Vec<String>,
    status: Vec<String>,
    busy: Vec<bool>,
}

/// What a sync did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Read (or unchanged) and kept.
    Synced,
    /// The feed could not be read or understood: the cache stays, the error is recorded.
    Failed(String),
    /// No connection (any more): nothing to do.
    NotConnected,
    /// The plan no longer includes calendars: the connection and its events were deleted.
    Disconnected,
}

/// What the first transaction of a sync found.
enum Found {
    Nothing,
    Downgraded,
    Read {
        url: String,
        window: Window,
        validators: Option<Validators>,
    },
}

/// Reads the user's feed and keeps what it says, as the user (row-level security applies).
pub async fn run(db: &Db, config: &Config, user: Uuid, at: DateTime<Utc>) -> ApiResult<Outcome> {
    let found = db
        .tx_as(user, |conn| {
            async move {
                let stored: Option<Stored> = diesel::sql_query(
                    "SELECT url, etag, last_modified, window_start, time_zone \
                     FROM auth.calendar_connections WHERE user_id = $1",
                )
                .bind::<SqlUuid, _>(user)
                .get_result(conn)
                .await
                .map(Some)
                .or_else(|e| match e {
                    diesel::result::Error::NotFound => Ok(None),
                    e => Err(e),
                })?;
                let Some(stored) = stored else {
                    return Ok(Found::Nothing);
                };
                if !Plan::of(conn, user).await?.limits().calendar {
                    disconnect(conn, user).await?;
                    return Ok(Found::Downgraded);
                }
                let ring = keys(config)?;
                let url = ring
                    .open(place(&user.to_string()), &stored.url)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("the calendar URL: {e}")))?;
                let url = String::from_utf8(url)
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("the calendar URL: {e}")))?;
                let window = Window::of(conn, user, at).await?;
                // The same days in the same zone: an unchanged feed says nothing new.
                let same = stored.window_start == Some(window.from)
                    && stored.time_zone.as_deref() == Some(window.zone.name());
                let validators = same.then_some(Validators {
                    etag: stored.etag,
                    last_modified: stored.last_modified,
                });
                Ok(Found::Read {
                    url,
                    window,
                    validators,
                })
            }
            .scope_boxed()
        })
        .await?;
    let (url, window, validators) = match found {
        Found::Nothing => return Ok(Outcome::NotConnected),
        Found::Downgraded => return Ok(Outcome::Disconnected),
        Found::Read {
            url,
            window,
            validators,
        } => (url, window, validators),
    };
    let read = read(config, &url, window, validators.as_ref()).await;
    let sealed_for = url;
    db.tx_as(user, move |conn| {
        async move {
            // Disconnected, or connected to another feed, while this one was read.
            if !same_url(conn, config, user, &sealed_for).await? {
                return Ok(Outcome::NotConnected);
            }
            match read {
                Ok(Some(expanded)) => {
                    keep(conn, user, &expanded, at).await?;
                    Ok(Outcome::Synced)
                }
                Ok(None) => {
                    diesel::sql_query(
                        "UPDATE auth.calendar_connections SET last_sync_at = $2, last_error = NULL, \
                                last_error_at = NULL WHERE user_id = $1",
                    )
                    .bind::<SqlUuid, _>(user)
                    .bind::<Timestamptz, _>(at)
                    .execute(conn)
                    .await?;
                    Ok(Outcome::Synced)
                }
                Err(why) => {
                    diesel::sql_query(
                        "UPDATE auth.calendar_connections SET last_error = $2, last_error_at = $3 \
                         WHERE user_id = $1",
                    )
                    .bind::<SqlUuid, _>(user)
                    .bind::<Text, _>(cut(&why, 500))
                    .bind::<Timestamptz, _>(at)
                    .execute(conn)
                    .await?;
                    Ok(Outcome::Failed(why))
                }
            }
        }
        .scope_boxed()
    })
    .await
}

#[derive(QueryableByName)]
struct SealedUrl {
    #[diesel(sql_type = Bytea)]
    url: Vec<u8>,
}

/// Whether the user's connection still points at `url`.
async fn same_url(conn: &mut Conn, config: &Config, user: Uuid, url: &str) -> ApiResult<bool> {
    let row: Option<SealedUrl> = diesel::sql_query(
        "SELECT url FROM auth.calendar_connections WHERE user_id = $1 FOR UPDATE",
    )
    .bind::<SqlUuid, _>(user)
    .load(conn)
    .await?
    .pop();
    let Some(row) = row else { return Ok(false) };
    let opened = keys(config)?
        .open(place(&user.to_string()), &row.url)
        .map_err(|e| ApiError::internal(anyhow::anyhow!("the calendar URL: {e}")))?;
    Ok(opened == url.as_bytes())
}

/// Deletes the connection and, with it, every cached event.
pub async fn disconnect(conn: &mut Conn, user: Uuid) -> ApiResult<bool> {
    let n = diesel::sql_query("DELETE FROM auth.calendar_connections WHERE user_id = $1")
        .bind::<SqlUuid, _>(user)
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// The next sync of `user` strictly after `after`: on a 30-minute grid shifted per user, so
/// connections do not all fetch at once and every process plants the same instant.
pub fn next_slot(user: Uuid, after: DateTime<Utc>) -> DateTime<Utc> {
    let every = EVERY.num_seconds();
    let shift = (user.as_u128() % every as u128) as i64;
    let t = after.timestamp() - shift;
    let next = (t.div_euclid(every) + 1) * every + shift;
    DateTime::from_timestamp(next, 0).unwrap_or(after)
}

/// Queues the user's next sync (once per slot, however often asked).
pub async fn plant_next(conn: &mut Conn, user: Uuid, after: DateTime<Utc>) -> ApiResult<()> {
    let run_at = next_slot(user, after);
    let mut job = NewJob::new(SYNC, run_at);
    job.user_id = Some(user);
    job.unique_key = Some(format!("{SYNC}:{user}:{}", run_at.timestamp()));
    enqueue(conn, job).await?;
    Ok(())
}

/// Adds the sync job's handler.
pub fn register(registry: Registry, config: &Config) -> Registry {
    let config = std::sync::Arc::new(config.clone());
    registry.add(SYNC, move |ctx| {
        let config = config.clone();
        async move { job(ctx, &config).await }
    })
}

/// The job: syncs, then plants the next one while the connection lasts.
pub async fn job(ctx: JobContext, config: &Config) -> anyhow::Result<()> {
    let user = ctx
        .job
        .user_id
        .ok_or_else(|| anyhow::anyhow!("{SYNC} needs the user as the job's user"))?;
    let now = ctx.clock.now();
    let outcome = run(&ctx.db, config, user, now)
        .await
        .map_err(|e| anyhow::anyhow!("calendar sync: {e}"))?;
    if let Outcome::Failed(why) = &outcome {
        tracing::info!(%user, why, "calendar: the feed could not be read");
    }
    if matches!(outcome, Outcome::Synced | Outcome::Failed(_)) {
        ctx.tx(move |conn| plant_next(conn, user, now).scope_boxed())
            .await
            .map_err(|e| anyhow::anyhow!("calendar: planting the next sync: {e}"))?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Connected {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
}

/// At start: every connection's next sync, in case a chain was broken.
pub async fn plant_all(db: &Db, at: DateTime<Utc>) -> ApiResult<()> {
    let users: Vec<Connected> = db
        .tx(|conn| {
            async move {
                Ok(
                    diesel::sql_query("SELECT user_id FROM ops.calendar_users()")
                        .load(conn)
                        .await?,
                )
            }
            .scope_boxed()
        })
        .await?;
    for Connected { user_id } in users {
        db.tx(move |conn| {
            async move {
                act_as(conn, user_id).await?;
                plant_next(conn, user_id, at).await
            }
            .scope_boxed()
        })
        .await?;
    }
    Ok(())
}

#[derive(QueryableByName)]
struct SealedOf {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Bytea)]
    url: Vec<u8>,
}

#[derive(QueryableByName)]
struct Swapped {
    #[diesel(sql_type = Bool)]
    done: bool,
}

/// Every calendar URL sealed under the ring's sealing key; how many were sealed anew.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    let all: Vec<SealedOf> =
        diesel::sql_query("SELECT user_id, url FROM ops.calendar_urls_sealed()")
            .load(conn)
            .await?;
    let mut resealed = 0;
    for row in all {
        let user = row.user_id.to_string();
        let fresh = keys
            .reseal(place(&user), &row.url)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("calendar URL of {user}: {e}")))?;
        let Some(fresh) = fresh else { continue };
        let swapped: Swapped =
            diesel::sql_query("SELECT ops.calendar_url_reseal($1, $2, $3) AS done")
                .bind::<SqlUuid, _>(row.user_id)
                .bind::<Bytea, _>(&row.url)
                .bind::<Bytea, _>(fresh)
                .get_result(conn)
                .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_thirty_minutes_apart_strictly_after_and_shifted_per_user() {
        let user = Uuid::now_v7();
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T10:07:13Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = next_slot(user, t0);
        assert!(a > t0 && a - t0 <= EVERY);
        assert_eq!(next_slot(user, a), a + EVERY);
        assert_eq!(next_slot(user, a - Duration::seconds(1)), a);
        let shifts: std::collections::HashSet<i64> = (0..50)
            .map(|_| next_slot(Uuid::new_v4(), t0).timestamp() % EVERY.num_seconds())
            .collect();
        assert!(shifts.len() > 10, "users share slots: {shifts:?}");
    }
}
