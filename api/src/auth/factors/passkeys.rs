//! Registering and managing passkeys: `POST /v1/auth/passkeys/registration`,
//! `POST|GET /v1/auth/passkeys`, `PATCH|DELETE /v1/auth/passkeys/{id}`.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential};

use super::{
    recovery,
    steps::{self, Kind, NewStep},
    totp::FactorConfirmed,
    webauthn::{self, to_state},
};
use crate::common::assurance::{self, AuthMethod};
use crate::{
    auth::issue::SessionMode,
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::schema::auth::{passkeys, users},
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};

const MAX_PASSKEYS: i64 = 20;

/// A WebAuthn ceremony's options for the browser, and the token that names its server half.
#[derive(Serialize, ToSchema)]
pub struct PasskeyOptions {
    /// Send it back with the browser's answer. Single use, 5 minutes.
    #[schema(example = "Jq3n0Vb6cT9yHwE3uPzA6jD5fM0oKiVnQ2s4qGk0X2v")]
    pub token: String,
    /// `{"publicKey": …}` as WebAuthn's JSON form (binary fields in base64url): what
    /// `PublicKeyCredential.parseCreationOptionsFromJSON` / `parseRequestOptionsFromJSON` take.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyInfo {
    pub id: Uuid,
    #[schema(example = "MacBook Touch ID")]
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether the passkey may be synced between devices (WebAuthn's backup eligibility).
    pub backup_eligible: bool,
    /// Whether it is synced now.
    pub backed_up: bool,
    /// Set when its signature counter went backwards: it may have been copied and is refused.
    pub possibly_cloned_at: Option<DateTime<Utc>>,
}

type Row = (
    Uuid,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    bool,
    bool,
    Option<DateTime<Utc>>,
);

fn info(row: Row) -> PasskeyInfo {
    let (id, name, created_at, last_used_at, backup_eligible, backed_up, possibly_cloned_at) = row;
    PasskeyInfo {
        id,
        name,
        created_at,
        last_used_at,
        backup_eligible,
        backed_up,
        possibly_cloned_at,
    }
}

macro_rules! columns {
    () => {
        (
            passkeys::id,
            passkeys::name,
            passkeys::created_at,
            passkeys::last_used_at,
            passkeys::backup_eligible,
            passkeys::backup_state,
            passkeys::possibly_cloned_at,
        )
    };
}

fn checked_name(name: &str) -> ApiResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

/// Start registering a passkey: options for `navigator.credentials.create`. With a factor
/// already enrolled, needs a recent second factor.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Creation options and their token", body = PasskeyOptions),
        (status = 403, description = "A recent second factor is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account has 20 passkeys already", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many challenges from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/passkeys/registration")]
pub async fn registration_options(
    state: State,
    auth: Auth,
    req: HttpRequest,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let relying_party = state.webauthn.clone();
    let options = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                assurance::require_recent_strong(conn, &me).await?;
                let existing: Vec<Vec<u8>> = passkeys::table
                    .filter(passkeys::user_id.eq(me.user_id))
                    .select(passkeys::credential_id)
                    .load(conn)
                    .await?;
                if existing.len() as i64 >= MAX_PASSKEYS {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        format!(
                            "An account keeps at most {MAX_PASSKEYS} passkeys; remove one first"
                        ),
                    ));
                }
                let (email, display): (String, Option<String>) = users::table
                    .find(me.user_id)
                    .select((users::email, users::display_name))
                    .first(conn)
                    .await?;
                let exclude = existing.into_iter().collect();
                let (options, registration) = relying_party
                    .start_passkey_registration(
                        me.user_id,
                        &email,
                        display.as_deref().unwrap_or(&email),
                        Some(exclude),
                    )
                    .map_err(|e| ApiError::internal(anyhow::anyhow!("WebAuthn: {e}")))?;
                let mut options = serde_json::to_value(options).map_err(ApiError::internal)?;
                // A passkey must name its account by itself, so that signing in needs no email.
                if let Some(selection) = options
                    .pointer_mut("/publicKey/authenticatorSelection")
                    .and_then(|v| v.as_object_mut())
                {
                    selection.insert("residentKey".into(), "required".into());
                    selection.insert("requireResidentKey".into(), true.into());
                }
                let token = NewStep {
                    kind: Kind::PasskeyRegistration,
                    user_id: Some(me.user_id),
                    session_id: me.session_id,
                    state: Some(to_state(&registration)?),
                    mode: SessionMode::Token,
                }
                .keep(conn, me.at)
                .await?;
                Ok(PasskeyOptions { token, options })
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(HttpResponse::Ok(), &options))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterPasskey {
    /// The token of the registration options.
    pub token: String,
    /// 1 to 100 characters, to tell passkeys apart.
    #[schema(example = "MacBook Touch ID", min_length = 1, max_length = 100)]
    pub name: String,
    /// The browser's answer (`PublicKeyCredential.toJSON()` of `navigator.credentials.create`).
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredPasskey {
    pub passkey: PasskeyInfo,
    #[serde(flatten)]
    pub confirmed: FactorConfirmed,
}

/// Finish registering a passkey. Every other session ends; this one counts as strongly
/// authenticated. Recovery codes come with the account's first factor.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Registered", body = RegisteredPasskey),
        (status = 400, description = "The registration token is unknown, used or expired (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 401, description = "The authenticator's answer was refused (`/problems/passkey-refused`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "This passkey is registered already", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name that is empty or too long", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts from this client", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/passkeys")]
pub async fn register_passkey(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<RegisterPasskey>,
) -> ApiResult<HttpResponse> {
    super::limit(&state, &req).await?;
    let body = body.0;
    let name = checked_name(&body.name)?;
    let answer: RegisterPublicKeyCredential = webauthn::answer("credential", body.credential)?;
    let relying_party = state.webauthn.clone();
    let registered = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let step = steps::peek(conn, &body.token, Kind::PasskeyRegistration, me.at).await?;
                if step.user_id != Some(me.user_id) || step.session_id != me.session_id {
                    return Err(ApiError::new(
                        ProblemKind::InvalidToken,
                        "This registration was started by another session",
                    ));
                }
                steps::take(conn, &body.token, Kind::PasskeyRegistration, me.at).await?;
                let registration: PasskeyRegistration = step.ceremony()?;
                let passkey = relying_party
                    .finish_passkey_registration(&answer, &registration)
                    .map_err(|e| {
                        ApiError::new(
                            ProblemKind::PasskeyRefused,
                            format!("The authenticator's answer was refused: {e}"),
                        )
                    })?;
                let credential_id: &[u8] = passkey.cred_id().as_ref();
                let stored = serde_json::to_value(&passkey).map_err(ApiError::internal)?;
                let row: Row = diesel::insert_into(passkeys::table)
                    .values((
                        passkeys::id.eq(Uuid::now_v7()),
                        passkeys::user_id.eq(me.user_id),
                        passkeys::credential_id.eq(credential_id),
                        passkeys::name.eq(name),
                        passkeys::credential.eq(stored),
                        passkeys::backup_eligible.eq(answer_flag(&passkey, true)),
                        passkeys::backup_state.eq(answer_flag(&passkey, false)),
                        passkeys::created_at.eq(me.at),
                    ))
                    .on_conflict_do_nothing()
                    .returning(columns!())
                    .get_result(conn)
                    .await
                    .optional()?
                    .ok_or_else(|| {
                        ApiError::new(ProblemKind::Conflict, "This passkey is registered already")
                    })?;
                let recovery_codes = recovery::issue_if_none(conn, me.user_id, me.at).await?;
                super::strengthen(conn, &me, AuthMethod::PasswordPasskey).await?;
                super::end_other_sessions(conn, &me).await?;
                Ok(RegisteredPasskey {
                    passkey: info(row),
                    confirmed: FactorConfirmed { recovery_codes },
                })
            }
            .scope_boxed()
        })
        .await?;
    Ok(super::no_store(HttpResponse::Created(), &registered))
}

/// The backup flags webauthn-rs recorded for a new passkey.
fn answer_flag(passkey: &webauthn_rs::prelude::Passkey, eligible: bool) -> bool {
    let stored = serde_json::to_value(passkey).unwrap_or_default();
    let key = if eligible {
        "backup_eligible"
    } else {
        "backup_state"
    };
    stored
        .pointer(&format!("/cred/{key}"))
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

#[derive(Serialize, ToSchema)]
pub struct PasskeyList {
    pub items: Vec<PasskeyInfo>,
}

/// The account's passkeys, newest first.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Passkeys", body = PasskeyList)),
)]
#[get("/auth/passkeys")]
pub async fn list_passkeys(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let rows: Vec<Row> = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                Ok(passkeys::table
                    .filter(passkeys::user_id.eq(me.user_id))
                    .order((passkeys::created_at.desc(), passkeys::id.desc()))
                    .select(columns!())
                    .load(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(PasskeyList {
        items: rows.into_iter().map(info).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenamePasskey {
    #[schema(example = "Work laptop", min_length = 1, max_length = 100)]
    pub name: String,
}

/// Rename a passkey.
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path, description = "Passkey id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Renamed", body = PasskeyInfo),
        (status = 404, description = "No such passkey of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A name that is empty or too long", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/auth/passkeys/{id}")]
pub async fn rename_passkey(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<RenamePasskey>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let name = checked_name(&body.0.name)?;
    let row: Row = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                diesel::update(passkeys::table.find(id))
                    .filter(passkeys::user_id.eq(me.user_id))
                    .set(passkeys::name.eq(name))
                    .returning(columns!())
                    .get_result(conn)
                    .await
                    .optional()?
                    .ok_or_else(ApiError::not_found)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(info(row)))
}

/// Remove a passkey. Needs a recent second factor; every other session ends.
#[utoipa::path(
    tag = "auth",
    params(("id" = Uuid, Path, description = "Passkey id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "A recent second factor is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such passkey of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/auth/passkeys/{id}")]
pub async fn remove_passkey(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Account, move |conn, me| {
        async move {
            assurance::require_recent_strong(conn, &me).await?;
            let n = diesel::delete(passkeys::table.find(id))
                .filter(passkeys::user_id.eq(me.user_id))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            super::factor_removed(conn, &me).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
