//! The user's own documents ([`Document`]): rule settings (`/v1/settings`) and onboarding
//! answers (`/v1/onboarding`).

use actix_web::{delete, get, patch, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::{
        document::{self, Document, Versioned},
        extractor::{consent_needs_session, Auth, Principal},
        fields,
        jobs::queue::{self, NewJob},
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{onboarding_answers as o, rule_settings as s},
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, FieldError},
    },
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_settings)
        .service(patch_settings)
        .service(reset_settings);
    cfg.service(get_onboarding)
        .service(patch_onboarding)
        .service(reset_onboarding);
}

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

/// Preferences the planner and notifications follow, all in the user's time zone.
#[derive(
    Clone, Debug, Deserialize, Serialize, ToSchema, Queryable, Selectable, Insertable, AsChangeset,
)]
#[diesel(table_name = s)]
pub struct Settings {
    /// When "today" begins: work after midnight but before this still counts as yesterday.
    #[schema(value_type = String, example = "03:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub day_starts_at: NaiveTime,
    #[schema(value_type = String, example = "09:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub work_start: NaiveTime,
    #[schema(value_type = String, example = "17:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub work_end: NaiveTime,
    /// Longest block the daily plan gives one task (15 to 480).
    #[schema(example = 90, minimum = 15, maximum = 480)]
    pub max_block_minutes: i32,
    #[schema(value_type = String, example = "09:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub high_energy_start: NaiveTime,
    #[schema(value_type = String, example = "12:00:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub high_energy_end: NaiveTime,
    /// Send the morning recap by web push.
    pub morning_recap: bool,
    #[schema(value_type = String, example = "07:30:00", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$")]
    pub morning_recap_at: NaiveTime,
    /// Consent to the AI features; off until you turn it on.
    pub ai_enabled: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            day_starts_at: crate::common::zone::default_day_start(),
            work_start: t(9, 0),
            work_end: t(17, 0),
            max_block_minutes: 90,
            high_energy_start: t(9, 0),
            high_energy_end: t(12, 0),
            morning_recap: false,
            morning_recap_at: t(7, 30),
            ai_enabled: false,
        }
    }
}

impl Settings {
    fn check(&self) -> Result<(), ApiError> {
        let mut errors = Vec::new();
        if self.work_end <= self.work_start {
            errors.push(FieldError {
                field: "work_end".into(),
                message: "must be after work_start".into(),
            });
        }
        if self.high_energy_end <= self.high_energy_start {
            errors.push(FieldError {
                field: "high_energy_end".into(),
                message: "must be after high_energy_start".into(),
            });
        }
        fields::range(
            "max_block_minutes",
            Some(self.max_block_minutes.into()),
            15,
            480,
            &mut errors,
        );
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

pub const GUIDANCE: &[&str] = &["minimal", "balanced", "guided"];
pub const AVAILABLE_TIME: &[&str] = &["under_1h", "1_2h", "2_4h", "over_4h"];
pub const ENERGY: &[&str] = &["low", "medium", "high"];

/// What the user told minime when starting: it shapes suggestions and the daily plan.
#[derive(Clone, Debug, Deserialize, Serialize, ToSchema)]
pub struct Onboarding {
    /// What the user most wants help with, in their words or from the app's choices.
    #[schema(value_type = Vec<fields::Label>, example = json!(["focus", "habits"]), max_items = 20)]
    pub primary_needs: Vec<String>,
    /// `minimal`, `balanced` or `guided`.
    #[schema(example = "balanced")]
    pub guidance_level: String,
    /// Time available for planned work on a typical day: `under_1h`, `1_2h`, `2_4h`, `over_4h`.
    #[schema(example = "2_4h")]
    pub available_time: String,
    /// `low`, `medium` or `high`.
    #[schema(example = "medium")]
    pub default_energy: String,
    /// Whether onboarding is finished (stamps `completed_at`).
    pub completed: bool,
    /// When onboarding was finished; set by the server.
    #[serde(default, skip_deserializing)]
    #[schema(read_only)]
    pub completed_at: Option<DateTime<Utc>>,
}

impl Default for Onboarding {
    fn default() -> Self {
        Onboarding {
            primary_needs: Vec::new(),
            guidance_level: "balanced".into(),
            available_time: "1_2h".into(),
            default_energy: "medium".into(),
            completed: false,
            completed_at: None,
        }
    }
}

impl Onboarding {
    fn check(mut self) -> Result<Self, ApiError> {
        let mut errors = Vec::new();
        self.primary_needs = fields::labels("primary_needs", Some(self.primary_needs), &mut errors);
        fields::one_of(
            "guidance_level",
            Some(self.guidance_level.clone()),
            GUIDANCE,
            "",
            &mut errors,
        );
        fields::one_of(
            "available_time",
            Some(self.available_time.clone()),
            AVAILABLE_TIME,
            "",
            &mut errors,
        );
        fields::one_of(
            "default_energy",
            Some(self.default_energy.clone()),
            ENERGY,
            "",
            &mut errors,
        );
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(ApiError::validation(errors))
        }
    }
}

/// The job kind queued when the acting user's settings or time zone change, in the same
/// transaction: what follows the user's clock (the morning recap) plans anew.
pub const CHANGED: &str = "settings.changed";

pub async fn changed(conn: &mut Conn) -> ApiResult<()> {
    let (user, at) = crate::db::pool::acting(conn).await?;
    if let Some(user) = user {
        let mut job = NewJob::new(CHANGED, at);
        job.user_id = Some(user);
        queue::enqueue(conn, job).await?;
    }
    Ok(())
}

/// Consent to the AI features, kept in the settings row (created with the defaults if missing).
pub async fn set_ai_enabled(conn: &mut Conn, user: Uuid, enabled: bool) -> ApiResult<()> {
    let defaults = Settings {
        ai_enabled: enabled,
        ..Settings::default()
    };
    diesel::insert_into(s::table)
        .values((s::user_id.eq(user), &defaults))
        .on_conflict(s::user_id)
        .do_update()
        .set((
            s::ai_enabled.eq(enabled),
            s::version.eq(s::version + 1),
            s::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn load_settings(conn: &mut Conn, user: Uuid) -> ApiResult<(Settings, i32)> {
    document::load(conn, user).await
}

pub async fn load_onboarding(conn: &mut Conn, user: Uuid) -> ApiResult<(Onboarding, i32)> {
    document::load(conn, user).await
}

impl Document for Settings {
    async fn load(conn: &mut Conn, user: Uuid) -> ApiResult<Option<(Self, i32)>> {
        Ok(s::table
            .find(user)
            .select((Settings::as_select(), s::version))
            .first(conn)
            .await
            .optional()?)
    }

    async fn store(conn: &mut Conn, user: Uuid, next: &Self) -> ApiResult<i32> {
        let version = diesel::insert_into(s::table)
            .values((s::user_id.eq(user), next))
            .on_conflict(s::user_id)
            .do_update()
            .set((next, s::version.eq(s::version + 1), s::updated_at.eq(now)))
            .returning(s::version)
            .get_result(conn)
            .await?;
        changed(conn).await?;
        Ok(version)
    }

    async fn remove(conn: &mut Conn, user: Uuid) -> ApiResult<()> {
        diesel::delete(s::table.find(user)).execute(conn).await?;
        Ok(())
    }

    fn accept(self, current: &Self, me: &Principal, _: DateTime<Utc>) -> ApiResult<Self> {
        self.check()?;
        if self.ai_enabled != current.ai_enabled {
            consent_needs_session(me)?;
        }
        Ok(self)
    }

    fn may_reset(current: &Self, me: &Principal) -> ApiResult<()> {
        if current.ai_enabled {
            consent_needs_session(me)?;
        }
        Ok(())
    }
}

type OnboardingRow = (
    Vec<String>,
    String,
    String,
    String,
    Option<DateTime<Utc>>,
    i32,
);

impl Document for Onboarding {
    const READ_ONLY: &'static [(&'static str, &'static str)] =
        &[("completed_at", "set `completed` instead")];

    async fn load(conn: &mut Conn, user: Uuid) -> ApiResult<Option<(Self, i32)>> {
        let row: Option<OnboardingRow> = o::table
            .find(user)
            .select((
                o::primary_needs,
                o::guidance_level,
                o::available_time,
                o::default_energy,
                o::completed_at,
                o::version,
            ))
            .first(conn)
            .await
            .optional()?;
        Ok(row.map(
            |(
                primary_needs,
                guidance_level,
                available_time,
                default_energy,
                completed_at,
                version,
            )| {
                let answers = Onboarding {
                    primary_needs,
                    guidance_level,
                    available_time,
                    default_energy,
                    completed: completed_at.is_some(),
                    completed_at,
                };
                (answers, version)
            },
        ))
    }

    async fn store(conn: &mut Conn, user: Uuid, next: &Self) -> ApiResult<i32> {
        let values = (
            o::primary_needs.eq(&next.primary_needs),
            o::guidance_level.eq(&next.guidance_level),
            o::available_time.eq(&next.available_time),
            o::default_energy.eq(&next.default_energy),
            o::completed_at.eq(next.completed_at),
        );
        Ok(diesel::insert_into(o::table)
            .values((o::user_id.eq(user), values))
            .on_conflict(o::user_id)
            .do_update()
            .set((values, o::version.eq(o::version + 1), o::updated_at.eq(now)))
            .returning(o::version)
            .get_result(conn)
            .await?)
    }

    async fn remove(conn: &mut Conn, user: Uuid) -> ApiResult<()> {
        diesel::delete(o::table.find(user)).execute(conn).await?;
        Ok(())
    }

    fn accept(self, current: &Self, _: &Principal, at: DateTime<Utc>) -> ApiResult<Self> {
        let mut next = self.check()?;
        // Finishing stamps the moment once; answering again later keeps it.
        next.completed_at = next.completed.then(|| current.completed_at.unwrap_or(at));
        Ok(next)
    }
}

/// Your rule settings (the defaults until you change one).
#[utoipa::path(
    tag = "account",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Settings; `ETag` carries the version", body = Versioned<Settings>)),
)]
#[get("/settings")]
pub async fn get_settings(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    document::get::<Settings>(&state, &auth).await
}

/// Change settings (merge patch); the whole result is checked.
#[utoipa::path(
    tag = "account",
    params(("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = Settings, content_type = "application/merge-patch+json", description = "Any subset of the fields"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Versioned<Settings>),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/settings")]
pub async fn patch_settings(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    document::patch::<Settings>(&state, &auth, &req, body).await
}

/// Return to the default settings.
#[utoipa::path(tag = "account", security(("bearer" = []), ("cookie" = [])), responses((status = 204, description = "Back to defaults")))]
#[delete("/settings")]
pub async fn reset_settings(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    document::reset::<Settings>(&state, &auth).await
}

/// Your onboarding answers (the defaults until you answer).
#[utoipa::path(
    tag = "account",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Answers; `ETag` carries the version", body = Versioned<Onboarding>)),
)]
#[get("/onboarding")]
pub async fn get_onboarding(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    document::get::<Onboarding>(&state, &auth).await
}

/// Answer or change onboarding questions (merge patch).
#[utoipa::path(
    tag = "account",
    params(("If-Match" = Option<String>, Header, description = "The ETag you last saw")),
    request_body(content = Onboarding, content_type = "application/merge-patch+json", description = "Any subset of the fields"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Updated", body = Versioned<Onboarding>),
        (status = 412, description = "Changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/onboarding")]
pub async fn patch_onboarding(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    document::patch::<Onboarding>(&state, &auth, &req, body).await
}

/// Forget the onboarding answers.
#[utoipa::path(tag = "account", security(("bearer" = []), ("cookie" = [])), responses((status = 204, description = "Back to defaults")))]
#[delete("/onboarding")]
pub async fn reset_onboarding(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    document::reset::<Onboarding>(&state, &auth).await
}
