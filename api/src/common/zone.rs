//! The user's time zone and "today": the local date after their day boundary, which every
//! capability that speaks of days (tasks, routines, plans, Today) must agree on.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    db::{
        pool::Conn,
        schema::{app::rule_settings, auth::users},
    },
    http::problem::ApiResult,
};

/// When a day begins for someone who never said (settings' `day_starts_at`): a task done at
/// 01:30 still belongs to the evening before.
pub fn default_day_start() -> NaiveTime {
    NaiveTime::from_hms_opt(3, 0, 0).expect("a valid time")
}

pub async fn user_zone(conn: &mut Conn, user_id: Uuid) -> ApiResult<chrono_tz::Tz> {
    let zone: String = users::table
        .find(user_id)
        .select(users::time_zone)
        .first(conn)
        .await?;
    Ok(zone.parse().unwrap_or(chrono_tz::UTC))
}

/// The user's today in `zone`, after their day boundary (`day_starts_at`).
pub async fn today(
    conn: &mut Conn,
    user_id: Uuid,
    zone: chrono_tz::Tz,
    at: DateTime<Utc>,
) -> ApiResult<NaiveDate> {
    let starts_at: Option<NaiveTime> = rule_settings::table
        .find(user_id)
        .select(rule_settings::day_starts_at)
        .first(conn)
        .await
        .optional()?;
    Ok(crate::planner::day::local_date(
        at,
        zone,
        starts_at.unwrap_or_else(default_day_start),
    ))
}
