//! `/healthz` (the process answers) and `/readyz` (database reachable, migrations current).

use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    common::state::State,
    db::migrate::embedded_versions,
    http::problem::{ApiError, ApiResult, ProblemKind},
};

#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Liveness: answers while the process runs, whatever the database does.
#[utoipa::path(tag = "health", responses((status = 200, description = "Alive", body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// Readiness: the database answers and every migration this build knows is applied.
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Database unreachable or migrations pending", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/readyz")]
pub async fn readyz(state: State) -> ApiResult<HttpResponse> {
    let applied = state.db.ping().await?;
    let pending: Vec<String> = embedded_versions()
        .into_iter()
        .filter(|v| !applied.contains(v))
        .collect();
    if !pending.is_empty() {
        return Err(ApiError {
            retry_after: Some(5),
            ..ApiError::new(
                ProblemKind::Unavailable,
                format!(
                    "{} migrations are pending: run minime migrate",
                    pending.len()
                ),
            )
        });
    }
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}
