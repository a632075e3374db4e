//! Voice → text: `POST /v1/ai/transcriptions` with the recording as the body. Gemini takes audio
//! input; the offline provider cannot transcribe and says so.

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use futures_util::StreamExt;
use serde_json::json;

use super::features::require_consent;
use crate::common::ai_provider::{gemini::Part, provider::Provider};
use crate::{
    common::{
        extractor::{Access, Auth},
        resource::resolve_workspace,
        state::State,
    },
    http::problem::{ApiError, ApiResult, ProblemKind},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(transcribe);
}

pub const AUDIO_TYPES: &[&str] = &[
    "audio/webm",
    "audio/ogg",
    "audio/mpeg",
    "audio/mp3",
    "audio/wav",
    "audio/x-wav",
    "audio/mp4",
    "audio/aac",
    "audio/flac",
];

/// Transcribe a voice recording (at most `MINIME_AI_MAX_AUDIO_BYTES`, 10 MiB by default; WebM,
/// Ogg, MP3, WAV, MP4/AAC or FLAC). The text comes back as a preview with nothing to apply;
/// use it as the text of a Smart Add preview.
#[utoipa::path(
    tag = "ai",
    request_body(content = Vec<u8>, content_type = "audio/webm", description = "The recording"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The text, as a preview whose proposal is `{\"text\"}`", body = super::preview_store::Preview),
        (status = 403, description = "AI is off", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 413, description = "The recording is too large", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not an audio type listed above", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 501, description = "The offline provider cannot transcribe (`/problems/ai-offline`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/transcriptions")]
pub async fn transcribe(
    state: State,
    auth: Auth,
    req: HttpRequest,
    mut payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let mime = audio_type(&req)?;
    let workspace_id = auth
        .tx(&state.db, Access::Write, |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                resolve_workspace(conn, me.user_id, None).await
            }
            .scope_boxed()
        })
        .await?;
    let Provider::Gemini(gemini) = &state.ai else {
        return Err(ApiError::new(
            ProblemKind::AiOffline,
            "Transcription needs Gemini (MINIME_AI_PROVIDER=gemini); this server's AI provider cannot hear audio",
        ));
    };
    let audio = read_recording(&mut payload, state.config.ai_max_audio_bytes).await?;
    let text = gemini
        .generate(
            &[
                Part::Inline {
                    mime: &mime,
                    bytes: &audio,
                },
                Part::Text("Transcribe this voice note word for word. Answer with the text only."),
            ],
            None,
        )
        .await?;
    let fields = serde_json::Map::from_iter([(
        "audio".to_owned(),
        json!({"content_type": mime, "bytes": audio.len()}),
    )]);
    let sent = json!({
        "provider": state.ai.name(),
        "to": state.ai.destination(),
        "left_server": true,
        "fields": fields,
    });
    super::preview_store::store_public(
        &state,
        &auth,
        workspace_id,
        "transcription",
        sent,
        json!({"text": text.trim()}),
    )
    .await
}

/// The recording's audio type, without parameters; one of [`AUDIO_TYPES`].
fn audio_type(req: &HttpRequest) -> ApiResult<String> {
    let mime = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if !AUDIO_TYPES.contains(&mime.as_str()) {
        return Err(ApiError::new(
            ProblemKind::UnsupportedMediaType,
            format!("Send the recording as one of: {}", AUDIO_TYPES.join(", ")),
        ));
    }
    Ok(mime)
}

/// The whole recording, refused as soon as it grows over `limit` bytes.
async fn read_recording(payload: &mut web::Payload, limit: usize) -> ApiResult<Vec<u8>> {
    let mut audio = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| {
            ApiError::new(ProblemKind::BadRequest, "The recording could not be read")
        })?;
        if audio.len() + chunk.len() > limit {
            return Err(ApiError::new(
                ProblemKind::PayloadTooLarge,
                format!("A recording may have at most {limit} bytes (MINIME_AI_MAX_AUDIO_BYTES)"),
            ));
        }
        audio.extend_from_slice(&chunk);
    }
    if audio.is_empty() {
        return Err(ApiError::field("body", "is empty: send the recording"));
    }
    Ok(audio)
}
