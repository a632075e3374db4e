//! Previews as every AI feature keeps them: the row, what was sent to which provider, and a
//! model's JSON answer read back. The features build their proposals on these; confirming and
//! discarding is `previews`.

use actix_web::HttpResponse;
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::features::feature;
use crate::{
    common::{
        ai_provider::provider::{Input, Provider},
        extractor::{Access, Auth},
        state::State,
    },
    db::{pool::Conn, schema::app::ai_previews as p},
    http::problem::{ApiError, ApiResult, ProblemKind},
};

/// How long a preview waits for its answer.
pub const TTL_MINUTES: i64 = 15;
/// Tasks one confirmation may create.
pub const MAX_TASKS: usize = 50;

/// A proposal waiting for your answer.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub id: Uuid,
    pub workspace_id: Uuid,
    #[schema(example = "smart-add")]
    pub feature: String,
    /// `local`, `gemini` or `anthropic`.
    pub provider: String,
    /// `pending`, `confirmed` or `discarded`.
    pub status: String,
    /// Smart Add: `{"tasks": [draft…]}` (each field with the span of the input it was read
    /// from); steps: `{"task_id", "tasks": [{"title"}]}`; project tasks: `{"project_id",
    /// "tasks": [{"title"}]}`; plan explanation: `{"date", "text"}`; transcription: `{"text"}`.
    #[schema(value_type = Object)]
    pub proposal: Value,
    /// Exactly what was sent, to whom (`provider`, `to`, `left_server`, `fields`).
    #[schema(value_type = Object)]
    pub sent: Value,
    pub expires_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// After confirmation: what was created.
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
}

type PreviewRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    Value,
    Value,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<Value>,
);

fn preview_of(row: PreviewRow) -> Preview {
    let (
        id,
        workspace_id,
        feature,
        provider,
        status,
        proposal,
        sent,
        expires_at,
        answered_at,
        result,
    ) = row;
    Preview {
        id,
        workspace_id,
        feature,
        provider,
        status,
        proposal,
        sent,
        expires_at,
        answered_at,
        result,
    }
}

pub(super) async fn load(conn: &mut Conn, id: Uuid, lock: bool) -> ApiResult<Preview> {
    let cols = (
        p::id,
        p::workspace_id,
        p::feature,
        p::provider,
        p::status,
        p::proposal,
        p::sent,
        p::expires_at,
        p::answered_at,
        p::result,
    );
    let row: Option<PreviewRow> = if lock {
        p::table
            .find(id)
            .select(cols)
            .for_update()
            .first(conn)
            .await
    } else {
        p::table.find(id).select(cols).first(conn).await
    }
    .optional()?;
    row.map(preview_of).ok_or_else(ApiError::not_found)
}

/// The record of a request: the disclosed fields, with their values.
pub(super) fn record(feature_name: &str, provider: &Provider, fields: Map<String, Value>) -> Value {
    debug_assert_eq!(
        fields.keys().map(String::as_str).collect::<Vec<_>>().len(),
        feature(feature_name).sends.len()
    );
    json!({
        "provider": provider.name(),
        "to": provider.destination(),
        "left_server": !matches!(provider, Provider::Local),
        "fields": fields,
    })
}

pub(super) async fn store(
    state: &State,
    auth: &Auth,
    workspace_id: Uuid,
    feature_name: &'static str,
    sent: Value,
    proposal: Value,
) -> ApiResult<HttpResponse> {
    let provider = state.ai.name();
    let preview = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let id = Uuid::now_v7();
                diesel::insert_into(p::table)
                    .values((
                        p::id.eq(id),
                        p::workspace_id.eq(workspace_id),
                        p::created_by.eq(me.user_id),
                        p::feature.eq(feature_name),
                        p::provider.eq(provider),
                        p::sent.eq(&sent),
                        p::proposal.eq(&proposal),
                        p::expires_at.eq(me.at + Duration::minutes(TTL_MINUTES)),
                    ))
                    .execute(conn)
                    .await?;
                load(conn, id, false).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Created().json(preview))
}

/// Stores a preview made elsewhere (transcriptions).
pub async fn store_public(
    state: &State,
    auth: &Auth,
    workspace_id: Uuid,
    feature_name: &'static str,
    sent: Value,
    proposal: Value,
) -> ApiResult<HttpResponse> {
    store(state, auth, workspace_id, feature_name, sent, proposal).await
}

pub(super) fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A JSON answer from the provider, or a clear problem when it is not one.
pub fn json_answer(text: &str) -> ApiResult<Value> {
    serde_json::from_str(text).map_err(|_| {
        ApiError::new(
            ProblemKind::AiProvider,
            "The AI provider's answer was not the JSON asked for",
        )
    })
}

/// A model's JSON answer to a text prompt (callers handle the built-in provider themselves).
pub async fn model_json(ai: &Provider, prompt: &str, schema: &Value) -> ApiResult<Value> {
    match ai.json(&[Input::Text(prompt)], schema).await? {
        Some(text) => json_answer(&text),
        None => Err(ApiError::internal(anyhow::anyhow!(
            "the built-in provider has no model to ask"
        ))),
    }
}
