//! Subscription plans (Free, Pro, Max) and what each allows, in one place. Plans change only through `minime admin
//! set-plan` (billing is not connected), never through the API.

use actix_web::get;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{pool::Conn, schema::auth::users},
    http::problem::{ApiError, ApiResult, ProblemKind},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    Free,
    Pro,
    Max,
}

#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
pub struct Limits {
    /// Create shared workspaces and invite people (Pro and Max).
    pub shared_workspaces: bool,
    /// Shared workspaces one may own.
    pub max_owned_shared_workspaces: i64,
    /// Members of one shared workspace, pending invites included.
    pub max_members: i64,
    /// Connect an iCal calendar (Pro and Max).
    pub calendar: bool,
    /// Connect Gmail (Max).
    pub email: bool,
    /// The business module: profile, clients, jobs, invoices, credit notes, payments and Stripe
    /// (every plan: a sole trader's books are not a premium).
    pub business: bool,
}

pub const PLANS: &[&str] = &["free", "pro", "max"];

impl Plan {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "free" => Some(Plan::Free),
            "pro" => Some(Plan::Pro),
            "max" => Some(Plan::Max),
            _ => None,
        }
    }

    pub fn limits(self) -> Limits {
        match self {
            Plan::Free => Limits {
                shared_workspaces: false,
                max_owned_shared_workspaces: 0,
                max_members: 1,
                calendar: false,
                email: false,
                business: true,
            },
            Plan::Pro => Limits {
                shared_workspaces: true,
                max_owned_shared_workspaces: 5,
                max_members: 10,
                calendar: true,
                email: false,
                business: true,
            },
            Plan::Max => Limits {
                shared_workspaces: true,
                max_owned_shared_workspaces: 20,
                max_members: 50,
                calendar: true,
                email: true,
                business: true,
            },
        }
    }

    pub async fn of(conn: &mut Conn, user_id: Uuid) -> ApiResult<Plan> {
        let name: String = users::table
            .find(user_id)
            .select(users::plan)
            .first(conn)
            .await?;
        Ok(Plan::parse(&name).unwrap_or(Plan::Free))
    }
}

#[derive(Serialize, ToSchema)]
pub struct PlanInfo {
    #[schema(example = "pro")]
    pub name: &'static str,
    pub limits: Limits,
}

#[derive(Serialize, ToSchema)]
pub struct PlanList {
    pub items: Vec<PlanInfo>,
}

/// The plans and what each allows (your own plan is in `GET /v1/me`). Daily plans are under `/v1/plans`.
#[utoipa::path(tag = "account", responses((status = 200, description = "Every plan with its limits", body = PlanList)))]
#[get("/subscription-plans")]
pub async fn list_plans() -> actix_web::HttpResponse {
    let items = [("free", Plan::Free), ("pro", Plan::Pro), ("max", Plan::Max)]
        .into_iter()
        .map(|(name, plan)| PlanInfo {
            name,
            limits: plan.limits(),
        })
        .collect();
    actix_web::HttpResponse::Ok().json(PlanList { items })
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_plans);
}

pub fn required(feature: &str) -> ApiError {
    ApiError::new(
        ProblemKind::PlanRequired,
        format!("{feature} needs the Pro or Max plan"),
    )
}

pub fn limit_reached(what: &str, max: i64) -> ApiError {
    ApiError::new(
        ProblemKind::PlanLimit,
        format!("Your plan allows {max} {what}"),
    )
}
