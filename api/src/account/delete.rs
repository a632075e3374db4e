//! `DELETE /v1/account`: re-authenticated with the password, removes the caller's rows in one
//! transaction (`app.delete_account` in SQL: the workspaces they own, their rows everywhere else,
//! found through the catalogue's foreign keys, then the user) and answers a receipt of what went
//! and of what changed in rows of other people that stay.

use std::collections::BTreeMap;

use actix_web::{delete, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{prelude::*, sql_types::Jsonb};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::{
        cookies,
        extractor::{Access, Auth},
        limits,
        state::State,
    },
    db::schema::auth::users,
    http::{
        client_ip::client_ip,
        json::Json,
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
};

#[derive(Clone, Copy, Debug, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkspaceChoice {
    /// Hand it to the longest-standing member whose plan allows owning it.
    Transfer,
    /// Delete it with everything in it, for every member.
    Delete,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccount {
    /// Your password, again.
    #[schema(example = "tangerine-Orbit-4417-lamp")]
    pub password: String,
    /// What becomes of each shared workspace you own that has other members, by workspace id.
    #[serde(default)]
    #[schema(example = json!({"0195f1d2-7c4e-7b51-9d0e-5b1f3c2a4d6e": "transfer"}))]
    pub workspaces: BTreeMap<Uuid, WorkspaceChoice>,
}

/// What was removed, and what changed in rows of other people that stay.
#[derive(Serialize, ToSchema)]
pub struct DeletionReceipt {
    pub user_id: Uuid,
    pub deleted_at: DateTime<Utc>,
    /// Rows removed per table (`schema.table`), each counted by the statement that removed it:
    /// yours everywhere, every row of the workspaces deleted with you, invitations and mail
    /// addressed to you, and blocks of other people's day plans that pointed at your tasks or
    /// routines. Tables without removed rows are left out.
    #[schema(example = json!({"app.tasks": 120, "auth.sessions": 2, "auth.users": 1}))]
    pub removed: BTreeMap<String, i64>,
    /// Rows of other people that stay but no longer point at yours, per table: a subtask under
    /// your task becomes a top-level task, a task in your project leaves it, an invitation you
    /// accepted no longer names you.
    #[schema(example = json!({"app.tasks": 1, "app.workspace_invites": 1}))]
    pub detached: BTreeMap<String, i64>,
    /// Rows of yours kept because rows of other people cannot stand without them (a goal with
    /// someone else's milestone, a routine with someone else's completion), and rows naming you
    /// as creator of a workspace that stays: each now belongs to the workspace's owner.
    #[schema(example = json!({"app.goals": 1}))]
    pub handed_over: BTreeMap<String, i64>,
    pub workspaces_deleted: Vec<Uuid>,
    pub workspaces_transferred: Vec<Uuid>,
}

#[derive(Deserialize)]
struct Outcome {
    #[serde(default)]
    pending: Vec<Pending>,
    #[serde(default)]
    removed: BTreeMap<String, i64>,
    #[serde(default)]
    detached: BTreeMap<String, i64>,
    #[serde(default)]
    handed_over: BTreeMap<String, i64>,
    #[serde(default)]
    workspaces_deleted: Vec<Uuid>,
    #[serde(default)]
    workspaces_transferred: Vec<Transferred>,
}

#[derive(Deserialize)]
struct Pending {
    workspace_id: Uuid,
    name: String,
    other_members: i64,
    message: String,
}

#[derive(Deserialize)]
struct Transferred {
    workspace_id: Uuid,
}

diesel::define_sql_function!(#[sql_name = "app.delete_account"] fn delete_account(decisions: Jsonb) -> Nullable<Jsonb>);

/// Delete my account: the workspaces you own with all their data, every row you wrote in shared
/// ones, sessions, tokens, settings, mail, invitations addressed to you — then the account
/// itself. Nothing of other people's goes: their rows under yours are detached, or keep the row
/// of yours they need, handed to the workspace's owner. Shared workspaces you own that have other
/// members need a choice each (`transfer` or `delete`); without one nothing is deleted and the
/// answer lists them.
#[utoipa::path(
    tag = "account",
    request_body = DeleteAccount,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Deleted; the receipt lists what went", body = DeletionReceipt),
        (status = 403, description = "Access tokens cannot delete the account; with a second factor enrolled, a recent one is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Shared workspaces with other members need a choice; `errors` lists them", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong password", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Locked after failed attempts (`/problems/account-locked`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/account")]
pub async fn delete_account_route(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<DeleteAccount>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let (address, stored) = auth
        .tx(&state.db, Access::Account, |conn, me| {
            async move {
                crate::common::assurance::require_recent_strong(conn, &me).await?;
                Ok(users::table
                    .find(me.user_id)
                    .select((users::email, users::password_hash))
                    .first::<(String, String)>(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    // Wrong passwords here count toward the sign-in lockout: a stolen session must not
    // become a way to guess the password.
    let attempt = limits::Attempt::new(&address, &client_ip(&req, state.config.proxies));
    if !limits::verify_password(&state, attempt, SecretString::from(body.password), stored).await? {
        return Err(ApiError::field("password", "is not your password"));
    }
    let decisions = serde_json::to_value(&body.workspaces).map_err(ApiError::internal)?;
    let (user_id, outcome) = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let raw: Option<serde_json::Value> = diesel::select(delete_account(decisions))
                    .get_result(conn)
                    .await?;
                let outcome: Outcome =
                    serde_json::from_value(raw.unwrap_or_default()).map_err(ApiError::internal)?;
                if outcome.pending.is_empty() {
                    limits::forget_failures(conn, &address).await?;
                }
                Ok((me.user_id, outcome))
            }
            .scope_boxed()
        })
        .await?;
    if !outcome.pending.is_empty() {
        return Err(choices_needed(outcome.pending));
    }
    Ok(receipt(&state, user_id, outcome))
}

/// The shared workspaces with other members that need a choice before anything is deleted.
fn choices_needed(pending: Vec<Pending>) -> ApiError {
    let errors = pending
        .into_iter()
        .map(|p| FieldError {
            field: format!("workspaces.{}", p.workspace_id),
            message: format!(
                "“{}” ({} other members) {}",
                p.name, p.other_members, p.message
            ),
        })
        .collect();
    ApiError {
        errors,
        ..ApiError::new(
            ProblemKind::Conflict,
            "Choose transfer or delete for each shared workspace you own that has other members",
        )
    }
}

/// What went, with the session cookies of the account that is gone cleared.
fn receipt(state: &State, user_id: Uuid, outcome: Outcome) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    for cookie in cookies::cleared(&state.config) {
        response.cookie(cookie);
    }
    response.json(DeletionReceipt {
        user_id,
        deleted_at: state.clock.now(),
        removed: outcome.removed,
        detached: outcome.detached,
        handed_over: outcome.handed_over,
        workspaces_deleted: outcome.workspaces_deleted,
        workspaces_transferred: outcome
            .workspaces_transferred
            .into_iter()
            .map(|t| t.workspace_id)
            .collect(),
    })
}
