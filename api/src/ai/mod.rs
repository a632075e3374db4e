//! AI-assisted features: every one answers a preview first, and nothing is written until the
//! user confirms it (`previews.rs`). AI is off until the user turns it on (`ai_enabled` in
//! `PATCH /v1/me`); `GET /v1/ai/disclosure` says which fields each feature sends to which
//! provider, and every preview records exactly what was sent.

pub mod gemini;
pub mod heuristics;
pub mod previews;
pub mod smart_add;
pub mod transcriptions;

use actix_web::{get, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    account::preferences,
    auth::{Access, Auth},
    config::{AiProvider, Config},
    db::Conn,
    http::{ApiError, ApiResult, ProblemKind},
    state::State,
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(disclosure);
    previews::configure(cfg);
    transcriptions::configure(cfg);
}

/// The provider the server is configured with.
#[derive(Clone)]
pub enum Provider {
    Local,
    Gemini(gemini::Gemini),
}

impl Provider {
    pub fn from_config(config: &Config) -> Self {
        match &config.ai {
            AiProvider::Local => Provider::Local,
            AiProvider::Gemini {
                base_url,
                api_key,
                model,
            } => Provider::Gemini(gemini::Gemini::new(
                base_url.clone(),
                api_key.clone(),
                model.clone(),
                config.ai_timeout,
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Gemini(_) => "gemini",
        }
    }

    pub fn destination(&self) -> String {
        match self {
            Provider::Local => "the built-in offline provider: nothing leaves this server".into(),
            Provider::Gemini(g) => format!("Google Gemini ({}, model {})", g.host(), g.model),
        }
    }
}

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
    /// `local` or `gemini`.
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
