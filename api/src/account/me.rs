//! `GET /v1/me` and `PATCH /v1/me` (JSON merge patch, `If-Match` honoured).

use actix_web::{get, patch, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::profile;
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{pool::Conn, schema::auth::users},
    http::{
        etag,
        json::Json,
        problem::{ApiError, ApiResult, FieldError},
    },
};

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    #[schema(example = "ada@example.com")]
    pub email: String,
    pub email_verified: bool,
    #[schema(example = "Ada")]
    pub display_name: Option<String>,
    #[schema(example = "Europe/London")]
    pub time_zone: String,
    #[schema(example = "en-GB")]
    pub locale: String,
    /// ISO weekday the week starts on: 1 = Monday … 7 = Sunday.
    #[schema(example = 1, minimum = 1, maximum = 7)]
    pub week_start: i16,
    #[schema(example = "free")]
    pub plan: String,
    /// Consent to the AI features (off until you turn it on; also in `/v1/settings`).
    pub ai_enabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Also sent as the `ETag`.
    pub version: i32,
}

type Row = (
    Uuid,
    String,
    Option<DateTime<Utc>>,
    Option<String>,
    String,
    String,
    i16,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    i32,
);

async fn load(conn: &mut Conn, user_id: Uuid) -> ApiResult<Me> {
    let (
        id,
        email,
        verified,
        display_name,
        time_zone,
        locale,
        week_start,
        plan,
        created_at,
        updated_at,
        version,
    ): Row = users::table
        .find(user_id)
        .select((
            users::id,
            users::email,
            users::email_verified_at,
            users::display_name,
            users::time_zone,
            users::locale,
            users::week_start,
            users::plan,
            users::created_at,
            users::updated_at,
            users::version,
        ))
        .first(conn)
        .await?;
    let (settings, _) = super::preferences::load_settings(conn, user_id).await?;
    Ok(Me {
        ai_enabled: settings.ai_enabled,
        id,
        email,
        email_verified: verified.is_some(),
        display_name,
        time_zone,
        locale,
        week_start,
        plan,
        created_at,
        updated_at,
        version,
    })
}

fn respond(me: Me) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag::etag(me.version))
        .json(me)
}

/// The signed-in user's profile.
#[utoipa::path(
    tag = "account",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The profile; `ETag` carries its version", body = Me)),
)]
#[get("/me")]
pub async fn get_me(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let me = auth
        .tx(&state.db, Access::Read, |conn, me| {
            load(conn, me.user_id).scope_boxed()
        })
        .await?;
    Ok(respond(me))
}

/// `null` and absent differ in a merge patch: `Some(None)` clears, `None` keeps.
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// `null` removes the display name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "Ada L.")]
    pub display_name: Option<Option<String>>,
    #[schema(example = "America/New_York")]
    pub time_zone: Option<String>,
    #[schema(example = "en-US")]
    pub locale: Option<String>,
    #[schema(example = 7, minimum = 1, maximum = 7)]
    pub week_start: Option<i16>,
    /// Turn the AI features on or off (see `GET /v1/ai/disclosure` for what each one sends where).
    /// Consent is an account decision: only a signed-in session may change it, never a token.
    pub ai_enabled: Option<bool>,
}

/// Change profile fields (RFC 7396 merge patch). Send `If-Match` to avoid lost updates.
#[utoipa::path(
    tag = "account",
    security(("bearer" = []), ("cookie" = [])),
    request_body(content = MePatch, content_type = "application/merge-patch+json"),
    params(("If-Match" = Option<String>, Header, description = "The `ETag` you last saw")),
    responses(
        (status = 200, description = "The updated profile", body = Me),
        (status = 412, description = "The profile changed since that ETag", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/me")]
pub async fn patch_me(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<MePatch>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(&req)?;
    let patch = body.0;
    let ai_enabled = patch.ai_enabled;
    let changes = ProfileChanges::checked(patch)?;
    let me = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let current: i32 = users::table
                    .find(me.user_id)
                    .select(users::version)
                    .for_update()
                    .first(conn)
                    .await?;
                etag::check(expected, current)?;
                changes.write(conn, me.user_id).await?;
                if let Some(enabled) = ai_enabled {
                    crate::common::extractor::consent_needs_session(&me)?;
                    super::preferences::set_ai_enabled(conn, me.user_id, enabled).await?;
                    // The profile's representation changed, so its ETag must too.
                    diesel::update(users::table.find(me.user_id))
                        .set((
                            users::version.eq(users::version + 1),
                            users::updated_at.eq(now),
                        ))
                        .execute(conn)
                        .await?;
                }
                load(conn, me.user_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(respond(me))
}

/// The profile fields a patch changes, each checked.
#[derive(AsChangeset)]
#[diesel(table_name = users)]
struct ProfileChanges {
    display_name: Option<Option<String>>,
    time_zone: Option<String>,
    locale: Option<String>,
    week_start: Option<i16>,
}

impl ProfileChanges {
    fn checked(patch: MePatch) -> ApiResult<Self> {
        let mut errors: Vec<FieldError> = Vec::new();
        let display_name = patch
            .display_name
            .map(|v| v.and_then(|n| profile::display_name(n, &mut errors)));
        let time_zone = patch.time_zone.map(|z| profile::time_zone(z, &mut errors));
        let locale = patch.locale.map(|l| profile::locale(l, &mut errors));
        if patch.week_start.is_some_and(|w| !(1..=7).contains(&w)) {
            errors.push(FieldError {
                field: "week_start".into(),
                message: "must be 1 (Monday) to 7 (Sunday)".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(ProfileChanges {
            display_name,
            time_zone,
            locale,
            week_start: patch.week_start,
        })
    }

    /// Writes the changes, if there are any, as a new version of the profile.
    async fn write(self, conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
        if self.display_name.is_none()
            && self.time_zone.is_none()
            && self.locale.is_none()
            && self.week_start.is_none()
        {
            return Ok(());
        }
        let zone_changed = self.time_zone.is_some();
        diesel::update(users::table.find(user_id))
            .set((
                self,
                users::version.eq(users::version + 1),
                users::updated_at.eq(now),
            ))
            .execute(conn)
            .await?;
        if zone_changed {
            // What follows the user's clock (the morning recap) plans anew.
            super::preferences::changed(conn).await?;
        }
        Ok(())
    }
}
