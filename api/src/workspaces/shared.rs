//! Shared workspaces (Pro and Max): create, read, rename, delete, hand over, and their members.
//! Membership drives the row-level security policies, so a removed member loses access with
//! the next request.

use actix_web::{delete, get, patch, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::workspace::Workspace;
use crate::common::fields;
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{
        pool::Conn,
        schema::{
            app::{workspace_members as m, workspaces as w},
            auth::users,
        },
    },
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    subscriptions::{self as plans, Plan},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create)
        .service(get_one)
        .service(rename)
        .service(remove)
        .service(transfer)
        .service(members)
        .service(remove_member);
}

pub fn owner_only(what: &str) -> ApiError {
    ApiError::new(ProblemKind::OwnerOnly, format!("Only the owner can {what}"))
}

/// The workspace, if the caller owns it: 404 for non-members, 403 for members.
pub async fn load_owned(conn: &mut Conn, id: Uuid, me: Uuid, what: &str) -> ApiResult<Workspace> {
    let ws = load(conn, id, me).await?;
    if ws.owner_id != me {
        return Err(owner_only(what));
    }
    Ok(ws)
}

/// The workspace as the caller sees it (404 when not a member).
pub async fn load(conn: &mut Conn, id: Uuid, me: Uuid) -> ApiResult<Workspace> {
    w::table
        .inner_join(m::table)
        .filter(w::id.eq(id))
        .filter(m::user_id.eq(me))
        .select((
            w::id,
            w::name,
            w::kind,
            m::role,
            w::owner_id,
            w::version,
            w::created_at,
        ))
        .first::<Workspace>(conn)
        .await
        .optional()?
        .ok_or_else(ApiError::not_found)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceInput {
    #[schema(example = "Family")]
    pub name: String,
}

/// Create a shared workspace (Pro and Max); you are its owner.
#[utoipa::path(
    tag = "workspaces",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Created", body = Workspace),
        (status = 403, description = "The plan does not include sharing (`/problems/plan-required`) or its limit is reached (`/problems/plan-limit`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/workspaces")]
pub async fn create(
    state: State,
    auth: Auth,
    body: Json<WorkspaceInput>,
) -> ApiResult<HttpResponse> {
    let mut errors = Vec::new();
    let name = fields::title("name", &body.name, 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let workspace = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let limits = Plan::of(conn, me.user_id).await?.limits();
                if !limits.shared_workspaces {
                    return Err(plans::required("Sharing a workspace"));
                }
                let owned: i64 = w::table
                    .filter(w::owner_id.eq(me.user_id))
                    .filter(w::kind.eq("shared"))
                    .count()
                    .get_result(conn)
                    .await?;
                if owned >= limits.max_owned_shared_workspaces {
                    return Err(plans::limit_reached(
                        "shared workspaces",
                        limits.max_owned_shared_workspaces,
                    ));
                }
                let id = Uuid::now_v7();
                diesel::insert_into(w::table)
                    .values((
                        w::id.eq(id),
                        w::name.eq(&name),
                        w::kind.eq("shared"),
                        w::owner_id.eq(me.user_id),
                        w::created_by.eq(me.user_id),
                    ))
                    .execute(conn)
                    .await?;
                diesel::insert_into(m::table)
                    .values((
                        m::workspace_id.eq(id),
                        m::user_id.eq(me.user_id),
                        m::role.eq("owner"),
                        m::created_by.eq(me.user_id),
                    ))
                    .execute(conn)
                    .await?;
                load(conn, id, me.user_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header(crate::http::etag::etag(workspace.version))
        .json(workspace))
}

/// One workspace you belong to.
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = Workspace),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/workspaces/{id}")]
pub async fn get_one(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let ws = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            load(conn, id, me.user_id).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::etag::etag(ws.version))
        .json(ws))
}

/// Rename a workspace (owner only).
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Renamed", body = Workspace),
        (status = 403, description = "Only the owner may rename", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[patch("/workspaces/{id}")]
pub async fn rename(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<WorkspaceInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let mut errors = Vec::new();
    let name = fields::title("name", &body.name, 200, &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let ws = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                load_owned(conn, id, me.user_id, "rename the workspace").await?;
                diesel::update(w::table.find(id))
                    .set((
                        w::name.eq(name),
                        w::version.eq(w::version + 1),
                        w::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                load(conn, id, me.user_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(crate::http::etag::etag(ws.version))
        .json(ws))
}

/// Delete a shared workspace and everything in it (owner only; the personal one stays).
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted with all its rows"),
        (status = 403, description = "Only the owner may delete", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The personal workspace cannot be deleted", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/workspaces/{id}")]
pub async fn remove(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = load_owned(conn, id, me.user_id, "delete the workspace").await?;
            if ws.kind == "personal" {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "The personal workspace goes only with the account",
                ));
            }
            diesel::delete(w::table.find(id)).execute(conn).await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// A member who becomes the owner; you stay as a member.
    pub user_id: Uuid,
}

/// Hand the workspace over to another member (owner only).
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The workspace under its new owner", body = Workspace),
        (status = 403, description = "Only the owner may transfer, and the new owner's plan must allow sharing", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "A personal workspace cannot change owner", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/workspaces/{id}/transfer")]
pub async fn transfer(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: Json<TransferInput>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let to = body.0.user_id;
    let ws = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let ws = load_owned(conn, id, me.user_id, "transfer the workspace").await?;
                if ws.kind == "personal" {
                    return Err(ApiError::new(
                        ProblemKind::Conflict,
                        "A personal workspace cannot change hands",
                    ));
                }
                let member: i64 = m::table
                    .filter(m::workspace_id.eq(id))
                    .filter(m::user_id.eq(to))
                    .count()
                    .get_result(conn)
                    .await?;
                if member == 0 || to == me.user_id {
                    return Err(ApiError::field(
                        "user_id",
                        "is not another member of this workspace",
                    ));
                }
                if !Plan::of(conn, to).await?.limits().shared_workspaces {
                    return Err(plans::required("Owning a shared workspace"));
                }
                // Roles first, while the caller still owns the workspace (the policies check it).
                diesel::update(
                    m::table
                        .filter(m::workspace_id.eq(id))
                        .filter(m::user_id.eq(to)),
                )
                .set(m::role.eq("owner"))
                .execute(conn)
                .await?;
                diesel::update(
                    m::table
                        .filter(m::workspace_id.eq(id))
                        .filter(m::user_id.eq(me.user_id)),
                )
                .set(m::role.eq("member"))
                .execute(conn)
                .await?;
                diesel::update(w::table.find(id))
                    .set((
                        w::owner_id.eq(to),
                        w::version.eq(w::version + 1),
                        w::updated_at.eq(now),
                    ))
                    .execute(conn)
                    .await?;
                load(conn, id, me.user_id).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(ws))
}

#[derive(Serialize, ToSchema, Queryable)]
pub struct Member {
    pub user_id: Uuid,
    /// `owner` or `member`.
    #[schema(example = "member")]
    pub role: String,
    #[schema(example = "Bob")]
    pub display_name: Option<String>,
    #[schema(example = "bob@example.com")]
    pub email: String,
    pub joined_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Members {
    pub items: Vec<Member>,
}

/// The members of a workspace you belong to.
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Members, owner first", body = Members),
        (status = 404, description = "No such workspace, or you are not a member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/workspaces/{id}/members")]
pub async fn members(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let items = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                load(conn, id, me.user_id).await?;
                let items: Vec<Member> = m::table
                    .inner_join(users::table.on(users::id.eq(m::user_id)))
                    .filter(m::workspace_id.eq(id))
                    .order((m::role.desc(), m::created_at))
                    .select((
                        m::user_id,
                        m::role,
                        users::display_name,
                        users::email,
                        m::created_at,
                    ))
                    .load(conn)
                    .await?;
                Ok(items)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(Members { items }))
}

/// Remove a member (owner), or leave (your own id). The owner cannot leave before handing over.
#[utoipa::path(
    tag = "workspaces",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Removed; access ends with the next request"),
        (status = 403, description = "Only the owner may remove others", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such workspace or member", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "The owner must transfer the workspace before leaving", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/workspaces/{id}/members/{user_id}")]
pub async fn remove_member(
    state: State,
    auth: Auth,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (id, user) = path.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let ws = load(conn, id, me.user_id).await?;
            let is_owner = ws.owner_id == me.user_id;
            if user == ws.owner_id {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "The owner must transfer the workspace before leaving it",
                ));
            }
            if user != me.user_id && !is_owner {
                return Err(owner_only("remove other members"));
            }
            let n = diesel::delete(
                m::table
                    .filter(m::workspace_id.eq(id))
                    .filter(m::user_id.eq(user)),
            )
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
