use actix_web::{get, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::{
        pool::{act_as, Conn},
        schema::app::{workspace_members as members, workspaces},
    },
    http::{
        pagination::{Cursor, Page, PageParams, Paging},
        problem::ApiResult,
    },
};

/// Creates the user's personal workspace; the transaction acts as that user, so the
/// row-level security policies check the insert like any other.
pub async fn create_personal(conn: &mut Conn, user_id: Uuid) -> ApiResult<Uuid> {
    act_as(conn, user_id).await?;
    let id = Uuid::now_v7();
    diesel::insert_into(workspaces::table)
        .values((
            workspaces::id.eq(id),
            workspaces::name.eq("Personal"),
            workspaces::kind.eq("personal"),
            workspaces::owner_id.eq(user_id),
            workspaces::created_by.eq(user_id),
        ))
        .execute(conn)
        .await?;
    diesel::insert_into(members::table)
        .values((
            members::workspace_id.eq(id),
            members::user_id.eq(user_id),
            members::role.eq("owner"),
            members::created_by.eq(user_id),
        ))
        .execute(conn)
        .await?;
    Ok(id)
}

#[derive(Serialize, ToSchema, Queryable)]
pub struct Workspace {
    pub id: Uuid,
    #[schema(example = "Personal")]
    pub name: String,
    /// `personal` or `shared`.
    #[schema(example = "personal")]
    pub kind: String,
    /// The caller's role: `owner` or `member`.
    #[schema(example = "owner")]
    pub role: String,
    pub owner_id: Uuid,
    pub version: i32,
    pub created_at: DateTime<Utc>,
}

/// Workspaces the caller belongs to, newest first.
#[utoipa::path(
    tag = "workspaces",
    params(PageParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The caller's workspaces", body = Page<Workspace>)),
)]
#[get("/workspaces")]
pub async fn list_workspaces(state: State, auth: Auth, page: Paging) -> ApiResult<HttpResponse> {
    let page = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let query = workspaces::table
                    .inner_join(members::table)
                    .filter(members::user_id.eq(me.user_id))
                    .into_boxed();
                let items: Vec<Workspace> =
                    crate::keyset!(query, workspaces, page.after, page.fetch())
                        .select((
                            workspaces::id,
                            workspaces::name,
                            workspaces::kind,
                            members::role,
                            workspaces::owner_id,
                            workspaces::version,
                            workspaces::created_at,
                        ))
                        .load(conn)
                        .await?;
                Ok(Page::from_rows(items, &page, |w: &Workspace| Cursor {
                    created_at: w.created_at,
                    id: w.id,
                }))
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(page))
}
