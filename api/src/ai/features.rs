use actix_web::{get, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    account::preferences,
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// A feature and the fields it sends: the disclosure and the record of each request both come
/// from this table, so they cannot disagree.
pub struct Feature {
    pub name: &'static str,
    pub sends: &'static [&'static str],
    pub what: &'static str,
}

pub const FEATURES: &[Feature] = &[
    Feature {
        name: "smart-add",
        sends: &["text", "today", "time_zone", "locale"],
        what: "Turns a line of text into draft tasks",
    },
    Feature {
        name: "break-into-steps",
        sends: &["task.title", "task.notes"],
        what: "Proposes steps for one task",
    },
    Feature {
        name: "project-tasks",
        sends: &["project.title", "project.notes"],
        what: "Proposes tasks for one project",
    },
    Feature {
        name: "explain-plan",
        sends: &["plan.date", "plan.blocks", "plan.unplanned"],
        what: "Explains a daily plan from the planner's reasons (titles, times, reasons)",
    },
    Feature {
        name: "job-pricing",
        sends: &["description", "past_jobs"],
        what: "Suggests a fee for a described job from your own past jobs: their titles, fee kinds, quantities, rates, totals and dates, never a client's name or id",
    },
    Feature {
        name: "document-processing",
        sends: &["file"],
        what: "Reads a receipt or supplier invoice (the PDF or image itself) into a draft expense",
    },
    Feature {
        name: "business-assistant",
        sends: &["question", "figures"],
        what: "Answers a question about your business from figures computed here (totals and counts); the rows behind them stay on the server",
    },
    Feature {
        name: "transcription",
        sends: &["audio"],
        what: "Turns a voice recording into text",
    },
];

pub fn feature(name: &str) -> &'static Feature {
    FEATURES
        .iter()
        .find(|f| f.name == name)
        .expect("a known feature")
}

/// Refuses unless the user turned the AI features on.
pub async fn require_consent(conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
    let (settings, _) = preferences::load_settings(conn, user_id).await?;
    if settings.ai_enabled {
        Ok(())
    } else {
        Err(ApiError::new(
            ProblemKind::AiConsentRequired,
            "Turn the AI features on first: PATCH /v1/me with {\"ai_enabled\": true} (see GET /v1/ai/disclosure)",
        ))
    }
}

#[derive(Serialize, ToSchema)]
pub struct FeatureDisclosure {
    #[schema(example = "smart-add")]
    pub feature: &'static str,
    pub what: &'static str,
    /// Exactly the fields a request of this feature sends.
    pub sends: &'static [&'static str],
    /// Where they go.
    pub to: String,
}

#[derive(Serialize, ToSchema)]
pub struct Disclosure {
    /// Whether you turned the AI features on.
    pub enabled: bool,
    /// `local`, `gemini` or `anthropic`.
    pub provider: &'static str,
    pub features: Vec<FeatureDisclosure>,
    /// Where each request's record is kept.
    pub records: &'static str,
}

/// What each AI feature sends to which provider, and whether you turned AI on.
#[utoipa::path(
    tag = "ai",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The disclosure", body = Disclosure)),
)]
#[get("/ai/disclosure")]
pub async fn disclosure(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let enabled = auth
        .tx(&state.db, Access::Read, |conn, me| {
            async move {
                Ok(preferences::load_settings(conn, me.user_id)
                    .await?
                    .0
                    .ai_enabled)
            }
            .scope_boxed()
        })
        .await?;
    let to = state.ai.destination();
    Ok(HttpResponse::Ok().json(Disclosure {
        enabled,
        provider: state.ai.name(),
        features: FEATURES
            .iter()
            .map(|f| FeatureDisclosure {
                feature: f.name,
                what: f.what,
                sends: f.sends,
                to: to.clone(),
            })
            .collect(),
        records: "each preview keeps what was sent (its `sent` field) for your own export; the server log never does",
    }))
}
