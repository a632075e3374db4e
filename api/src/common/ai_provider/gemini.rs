//! Google's Gemini `generateContent` REST API: JSON answers constrained by a response schema,
//! retries with backoff on 429 and 5xx, and the API's refusals mapped to clear problems.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::http::problem::{ApiError, ApiResult, ProblemKind};

const ATTEMPTS: u32 = 3;

#[derive(Clone)]
pub struct Gemini {
    http: reqwest::Client,
    base: url::Url,
    key: SecretString,
    pub model: String,
}

/// One piece of a prompt.
pub enum Part<'a> {
    Text(&'a str),
    /// Bytes with their type: audio, an image or a PDF.
    Inline {
        mime: &'a str,
        bytes: &'a [u8],
    },
}

fn provider(detail: impl Into<String>) -> ApiError {
    ApiError::new(ProblemKind::AiProvider, detail)
}

/// A provider failure: the client learns that it failed, the log learns how. What the
/// provider said may name our account, key or configuration, none of it the caller's business.
fn provider_failed(detail: &str, why: String) -> ApiError {
    ApiError {
        source: Some(anyhow::anyhow!(why)),
        ..provider(detail)
    }
}

impl Gemini {
    pub fn new(base: url::Url, key: SecretString, model: String, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // The URL comes from the operator's configuration, never from a user.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend is compiled in");
        Gemini {
            http,
            base,
            key,
            model,
        }
    }

    pub fn host(&self) -> String {
        self.base.host_str().unwrap_or_default().to_owned()
    }

    /// The text of the first candidate; with `schema`, a JSON document matching it.
    pub async fn generate(&self, parts: &[Part<'_>], schema: Option<&Value>) -> ApiResult<String> {
        let url = self
            .base
            .join(&format!("v1beta/models/{}:generateContent", self.model))
            .map_err(|e| provider(format!("bad Gemini URL: {e}")))?;
        let parts: Vec<Value> = parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => json!({"text": text}),
                Part::Inline { mime, bytes } => json!({"inlineData": {
                    "mimeType": mime,
                    "data": base64::engine::general_purpose::STANDARD.encode(bytes),
                }}),
            })
            .collect();
        let mut config = json!({"temperature": 0});
        if let Some(schema) = schema {
            config["responseMimeType"] = json!("application/json");
            config["responseSchema"] = schema.clone();
        }
        let body =
            json!({"contents": [{"role": "user", "parts": parts}], "generationConfig": config});

        let mut last = provider("the AI provider did not answer");
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let sent = self
                .http
                .post(url.clone())
                .header("x-goog-api-key", self.key.expose_secret())
                .json(&body)
                .send()
                .await;
            let res = match sent {
                Ok(res) => res,
                Err(e) => {
                    // Without the URL: it is harmless, but errors should not echo requests.
                    last = provider_failed(
                        "The AI provider could not be reached; try again later",
                        format!("gemini unreachable: {}", e.without_url()),
                    );
                    continue;
                }
            };
            let status = res.status();
            let answer: Value = res.json().await.unwrap_or(Value::Null);
            let message = answer["error"]["message"].as_str().unwrap_or("").to_owned();
            match status {
                StatusCode::OK => return read(&answer),
                StatusCode::TOO_MANY_REQUESTS => {
                    last = ApiError {
                        retry_after: Some(30),
                        ..ApiError::new(
                            ProblemKind::AiQuota,
                            "The AI provider's quota is used up; try again later",
                        )
                    };
                }
                s if s.is_server_error() => {
                    last = provider_failed(
                        "The AI provider failed; try again later",
                        format!("gemini answered {s}: {message}"),
                    );
                }
                s => {
                    // 400, 403 (bad key), 404 (unknown model): retrying cannot help.
                    return Err(provider_failed(
                        "The AI provider refused the request; the operator's log says why",
                        format!("gemini answered {s}: {message}"),
                    ));
                }
            }
        }
        Err(last)
    }
}

/// The first candidate's text, or why there is none.
fn read(answer: &Value) -> ApiResult<String> {
    if let Some(reason) = answer["promptFeedback"]["blockReason"].as_str() {
        return Err(ApiError::new(
            ProblemKind::AiBlocked,
            format!("The AI provider blocked this input ({reason})"),
        ));
    }
    let candidate = &answer["candidates"][0];
    if let Some(reason) = candidate["finishReason"].as_str() {
        if matches!(
            reason,
            "SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "RECITATION"
        ) {
            return Err(ApiError::new(
                ProblemKind::AiBlocked,
                format!("The AI provider withheld its answer ({reason})"),
            ));
        }
    }
    let text: String = candidate["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default();
    if text.is_empty() {
        return Err(provider("the AI provider answered without content"));
    }
    Ok(text)
}
