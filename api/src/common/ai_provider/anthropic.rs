//! Anthropic's Messages REST API: JSON answers through a forced tool whose input schema the
//! caller gives, retries with backoff on 429, 529 and 5xx (honouring `retry-after`), and the
//! API's refusals mapped to clear problems.

use std::time::Duration;

use base64::Engine;
use reqwest::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{json, Value};

use crate::http::problem::{ApiError, ApiResult, ProblemKind};

const ATTEMPTS: u32 = 3;
/// The API version this client speaks; the request and answer shapes below are its.
const VERSION: &str = "2023-06-01";

#[derive(Clone)]
pub struct Anthropic {
    http: reqwest::Client,
    base: url::Url,
    key: SecretString,
    pub model: String,
    /// The most the model may write; an answer cut there is a failure when a tool is forced.
    pub max_tokens: u32,
    /// The longest pause a `retry-after` header may impose between two attempts.
    pub max_retry_wait: Duration,
}

/// One piece of a prompt.
pub enum Part<'a> {
    Text(&'a str),
    /// `mime` is one of `image/jpeg`, `image/png`, `image/gif`, `image/webp`.
    Image {
        mime: &'a str,
        bytes: &'a [u8],
    },
    Pdf(&'a [u8]),
}

/// The tool the model is made to call: its input, matching `input_schema` (a JSON Schema whose
/// `type` is `object`), is the answer.
pub struct Tool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
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

/// Never the key, not even a hint of it.
impl std::fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Anthropic")
            .field("base", &self.base.as_str())
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("max_retry_wait", &self.max_retry_wait)
            .finish_non_exhaustive()
    }
}

impl Anthropic {
    pub fn new(base: url::Url, key: SecretString, model: String, timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(5))
            // The URL comes from the operator's configuration, never from a user.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a TLS backend is compiled in");
        Anthropic {
            http,
            base,
            key,
            model,
            max_tokens: 4096,
            max_retry_wait: Duration::from_secs(10),
        }
    }

    pub fn host(&self) -> String {
        self.base.host_str().unwrap_or_default().to_owned()
    }

    /// The model's text; with `tool`, the tool's input: a JSON document matching its schema.
    pub async fn generate(
        &self,
        system: Option<&str>,
        parts: &[Part<'_>],
        tool: Option<&Tool>,
    ) -> ApiResult<String> {
        let url = self
            .base
            .join("v1/messages")
            .map_err(|e| provider(format!("bad Anthropic URL: {e}")))?;
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let content: Vec<Value> = parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => json!({"type": "text", "text": text}),
                Part::Image { mime, bytes } => json!({"type": "image", "source": {
                    "type": "base64", "media_type": mime, "data": b64(bytes),
                }}),
                Part::Pdf(bytes) => json!({"type": "document", "source": {
                    "type": "base64", "media_type": "application/pdf", "data": b64(bytes),
                }}),
            })
            .collect();
        let mut body = json!({
            "model": self.model,
            "max_tokens": self.max_tokens,
            "temperature": 0,
            "messages": [{"role": "user", "content": content}],
        });
        if let Some(system) = system {
            body["system"] = json!(system);
        }
        if let Some(tool) = tool {
            body["tools"] = json!([{
                "name": tool.name,
                "description": tool.description,
                "input_schema": tool.input_schema,
            }]);
            body["tool_choice"] = json!({"type": "tool", "name": tool.name});
        }

        let mut last = provider("the AI provider did not answer");
        // What the last answer's `retry-after` asked for, in seconds.
        let mut asked: Option<u64> = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                let pause = match asked.take() {
                    Some(secs) => Duration::from_secs(secs).min(self.max_retry_wait),
                    None => Duration::from_millis(200 << attempt),
                };
                tokio::time::sleep(pause).await;
            }
            let sent = self
                .http
                .post(url.clone())
                .header("x-api-key", self.key.expose_secret())
                .header("anthropic-version", VERSION)
                .json(&body)
                .send()
                .await;
            let res = match sent {
                Ok(res) => res,
                Err(e) => {
                    // Without the URL: it is harmless, but errors should not echo requests.
                    last = provider_failed(
                        "The AI provider could not be reached; try again later",
                        format!("anthropic unreachable: {}", e.without_url()),
                    );
                    continue;
                }
            };
            let status = res.status();
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(|v| v.trim().to_owned())
            };
            asked = header("retry-after").and_then(|v| v.parse().ok());
            let request_id = header("request-id").unwrap_or_default();
            let answer: Value = res.json().await.unwrap_or(Value::Null);
            // For the log only: the API's own words may name our account or key's limits.
            let why = format!(
                "anthropic answered {status}: {}: {} (request {request_id})",
                answer["error"]["type"].as_str().unwrap_or("-"),
                answer["error"]["message"].as_str().unwrap_or("-"),
            );
            match status {
                StatusCode::OK => return read(&answer, tool),
                StatusCode::TOO_MANY_REQUESTS => {
                    last = ApiError {
                        retry_after: Some(asked.unwrap_or(30).max(1)),
                        source: Some(anyhow::anyhow!(why)),
                        ..ApiError::new(
                            ProblemKind::AiQuota,
                            "The AI provider's quota is used up; try again later",
                        )
                    };
                }
                // 529 is Anthropic's "overloaded", 500 `api_error`, 504 `timeout_error`.
                s if s.is_server_error() => {
                    last = provider_failed("The AI provider failed; try again later", why);
                }
                StatusCode::PAYLOAD_TOO_LARGE => {
                    return Err(provider_failed(
                        "The input is too large for the AI provider",
                        why,
                    ));
                }
                _ => {
                    // 400, 401 (bad key), 403, 404 (unknown model): retrying cannot help.
                    return Err(provider_failed(
                        "The AI provider refused the request; the operator's log says why",
                        why,
                    ));
                }
            }
        }
        Err(last)
    }
}

/// The forced tool's input as JSON, or without a tool the text; or why there is none.
fn read(answer: &Value, tool: Option<&Tool>) -> ApiResult<String> {
    let stop = answer["stop_reason"].as_str().unwrap_or("-");
    if stop == "refusal" {
        return Err(ApiError::new(
            ProblemKind::AiBlocked,
            "The AI provider declined to answer",
        ));
    }
    let content = answer["content"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let Some(tool) = tool else {
        let text: String = content
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect();
        if text.is_empty() {
            return Err(provider_failed(
                "the AI provider answered without content",
                format!("anthropic answered without text (stop_reason {stop})"),
            ));
        }
        return Ok(text);
    };
    if stop == "max_tokens" {
        // The tool's input is cut off: whatever parses of it is not the answer.
        return Err(provider_failed(
            "The AI provider's answer was cut short",
            format!(
                "anthropic stopped at max_tokens while calling {}",
                tool.name
            ),
        ));
    }
    match content.iter().find(|b| b["type"] == "tool_use") {
        Some(call) if call["name"] == tool.name.as_str() && call["input"].is_object() => {
            Ok(call["input"].to_string())
        }
        Some(call) => Err(provider_failed(
            "the AI provider answered with something else than asked",
            format!(
                "anthropic called {} with a {} input instead of {}",
                call["name"],
                kind_of(&call["input"]),
                tool.name
            ),
        )),
        None => Err(provider_failed(
            "the AI provider answered without content",
            format!("anthropic did not call {} (stop_reason {stop})", tool.name),
        )),
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}
