//! Invitations to a shared workspace: single-use tokens stored as hashes, expiring, optionally
//! bound to one email address (and then mailed to it).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    shared::{load, load_owned},
    workspace::Workspace,
};
use crate::{
    common::{
        extractor::{Access, Auth},
        limits as auth_limits,
        outbox::{self, queue::Mail},
        state::State,
    },
    db::{
        pool::Conn,
        schema::{
            app::{workspace_invites as i, workspace_members as m},
            auth::users,
        },
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    subscriptions::{self as plans, Plan},
    tokens,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_invite)
        .service(list)
        .service(revoke)
        .service(accept);
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteInput {
    /// Only this address may accept, and the invitation is mailed to it.
    #[schema(example = "bob@example.com", format = "email")]
    pub email: Option<String>,
    /// 1 to 30, default 7.
    #[schema(example = 7, minimum = 1, maximum = 30)]
    pub expires_in_days: Option<i64>,
}

#[derive(Serialize, ToSchema, Queryable)]
pub struct Invite {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub email: Option<String>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedInvite {
    #[serde(flatten)]
    pub invite: Invite,
    /// Shown once; give it to the invitee (it is also mailed when bound to an address).
    #[schema(example = "Jx2m0f6R3tVd8o1sZkq9bW4yP7cN5aLhE0uGiTrQ2nY")]
    pub token: String,
    /// Whether a mail went to the bound address: false without one, and when that address
    /// already received its hourly share of mail from this server (then pass the token on).
    pub mailed: bool,
}

/// Invite someone to a shared workspace (owner only). Each owner may create a limited number of
/// invitations a day (revoked ones count), and an address receives only so much mail an hour.
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created; the token is in this response only", body = CreatedInvite),
        (status = 403, description = "Only the owner may invite, on a plan with room for another member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A personal workspace takes no invitations", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many invitations created today", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/workspaces/{id}/invites")]
pub async fn create_invite(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<InviteInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let input = body.0;
    let email = match input.email {
        Some(e) => Some(crate::common::email::normalize("email", &e)?),
        None => None,
    };
    let days = input.expires_in_days.unwrap_or(7);
    if !(1..=30).contains(&days) {
        return Err(ApiError::field(
            "expires_in_days",
            "must be between 1 and 30",
        ));
    }
    let token = tokens::random_token(32);
    let hash = tokens::hash(&token);
    let st = state.clone();
    let link_token = token.clone();
    let (invite, mailed) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = load_owned(conn, id, me.user_id, "invite people").await?;
                may_invite(conn, &st, &ws, me.user_id).await?;
                let invite: Invite = diesel::insert_into(i::table)
                    .values((
                        i::id.eq(Uuid::now_v7()),
                        i::workspace_id.eq(id),
                        i::created_by.eq(me.user_id),
                        i::token_hash.eq(&hash),
                        i::email.eq(&email),
                        i::expires_at.eq(me.at + Duration::days(days)),
                    ))
                    .returning((
                        i::id,
                        i::workspace_id,
                        i::email,
                        i::expires_at,
                        i::created_at,
                    ))
                    .get_result(conn)
                    .await?;
                let Some(to) = email.as_deref() else {
                    return Ok((invite, false));
                };
                let letter = Invitation {
                    to,
                    workspace: &ws.name,
                    days,
                    token: &link_token,
                };
                let mailed = letter.send(conn, &st, me.user_id).await?;
                Ok((invite, mailed))
            }
            .scope_boxed()
        })
        .await?;
    state.jobs.wake();
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedInvite {
            invite,
            token,
            mailed,
        }))
}

/// A shared workspace on a plan that allows members, with room for one more, and the owner
/// within their invitation budget.
async fn may_invite(conn: &mut Conn, st: &State, ws: &Workspace, me: Uuid) -> ApiResult<()> {
    if ws.kind == "personal" {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            "Create a shared workspace to invite people",
        ));
    }
    let limits = Plan::of(conn, me).await?.limits();
    if !limits.shared_workspaces {
        return Err(plans::required("Inviting people"));
    }
    let members: i64 = m::table
        .filter(m::workspace_id.eq(ws.id))
        .count()
        .get_result(conn)
        .await?;
    let pending: i64 = i::table
        .filter(i::workspace_id.eq(ws.id))
        .filter(i::accepted_at.is_null())
        .filter(i::revoked_at.is_null())
        .filter(i::expires_at.gt(now))
        .count()
        .get_result(conn)
        .await?;
    if members + pending >= limits.max_members {
        return Err(plans::limit_reached(
            "members per workspace (pending invitations count)",
            limits.max_members,
        ));
    }
    let budget = st.config.rate_limits.invites_per_user;
    let key = format!("invite:user:{me}");
    if let Err(retry) = auth_limits::hit(conn, st.clock.now(), &key, budget).await? {
        return Err(ApiError::too_many(ProblemKind::RateLimited, retry));
    }
    Ok(())
}

/// The invitation mail with its accept link.
struct Invitation<'a> {
    to: &'a str,
    workspace: &'a str,
    days: i64,
    token: &'a str,
}

impl Invitation<'_> {
    /// Queues the mail unless the address had its share of mail: answers whether it was queued.
    async fn send(&self, conn: &mut Conn, st: &State, me: Uuid) -> ApiResult<bool> {
        let per_address = st.config.rate_limits.mail_per_address;
        if !auth_limits::mail_allowed(conn, st.clock.now(), per_address, self.to).await? {
            return Ok(false);
        }
        let inviter: Option<String> = users::table
            .find(me)
            .select(users::display_name)
            .first(conn)
            .await?;
        let mut link = st.config.app_url.clone();
        link.set_path("/invites/accept");
        link.query_pairs_mut().append_pair("token", self.token);
        outbox::queue::enqueue(
            conn,
            Mail {
                user_id: Some(me),
                kind: "workspace_invite",
                to: self.to.to_owned(),
                subject: format!(
                    "You are invited to the minime workspace \"{}\"",
                    self.workspace
                ),
                body: format!(
                    "{} invited you to the shared workspace \"{}\" on minime.\n\nAccept within {} days:\n\n{link}\n",
                    inviter.as_deref().unwrap_or("Someone"),
                    self.workspace,
                    self.days,
                ),
            },
        )
        .await?;
        Ok(true)
    }
}

#[derive(Serialize, ToSchema)]
pub struct Invites {
    pub items: Vec<Invite>,
}

/// Pending invitations of a workspace (owner only).
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Pending invitations", body = Invites),
        (status = 403, description = "Only the owner sees invitations", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/workspaces/{id}/invites")]
pub async fn list(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let items = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                load_owned(conn, id, me.user_id, "see invitations").await?;
                Ok(i::table
                    .filter(i::workspace_id.eq(id))
                    .filter(i::accepted_at.is_null())
                    .filter(i::revoked_at.is_null())
                    .filter(i::expires_at.gt(now))
                    .order(i::created_at.desc())
                    .select((
                        i::id,
                        i::workspace_id,
                        i::email,
                        i::expires_at,
                        i::created_at,
                    ))
                    .load::<Invite>(conn)
                    .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(Invites { items }))
}

/// Withdraw an invitation (owner only).
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path), ("invite_id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 404, description = "No such pending invitation of a workspace you own", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/workspaces/{id}/invites/{invite_id}")]
pub async fn revoke(
    state: State,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, invite) = path.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            // Invitations are visible to the workspace's owner only (row-level security).
            let n = diesel::update(i::table.find(invite))
                .filter(i::workspace_id.eq(id))
                .filter(i::accepted_at.is_null())
                .filter(i::revoked_at.is_null())
                .set(i::revoked_at.eq(now))
                .execute(conn)
                .await?;
            if n == 0 {
                return Err(ApiError::not_found());
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// The token from the invitation.
    #[schema(example = "Jx2m0f6R3tVd8o1sZkq9bW4yP7cN5aLhE0uGiTrQ2nY")]
    pub token: String,
}

diesel::define_sql_function!(#[sql_name = "app.accept_invite"] fn accept_invite(token_hash: diesel::sql_types::Bytea, email: diesel::sql_types::Text) -> diesel::sql_types::Nullable<diesel::sql_types::Uuid>);

/// Join a workspace with an invitation token (single use; bound ones only for their address).
#[utoipa::path(
    tag = "workspaces",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "You are a member now", body = super::workspace::Workspace),
        (status = 400, description = "Unknown, used, withdrawn or expired invitation, or one for another address (`/problems/invalid-token`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/invites/accept")]
pub async fn accept(state: State, auth: Auth, body: Json<AcceptInput>) -> ApiResult<HttpResponse> {
    let hash = tokens::hash(&body.0.token);
    let ws = auth
        .tx(&state.db, Access::Account, move |conn, me| {
            async move {
                let email: String = users::table.find(me.user_id).select(users::email).first(conn).await?;
                let joined: Option<Uuid> = diesel::select(accept_invite(&hash, &email)).get_result(conn).await?;
                let id = joined.ok_or_else(|| {
                    ApiError::new(ProblemKind::InvalidToken, "This invitation is unknown, used, withdrawn, expired, or meant for another address")
                })?;
                load(conn, id, me.user_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(ws))
}
