#![allow(
    dead_code,
    reason = "a test crate's module: the fake speaks the whole protocol, tests use part of it"
)]

//! A loopback fake of Anthropic's Messages API (`POST /v1/messages`, version 2023-06-01): it
//! checks the key, the version header and the request's shape as the real API does, records
//! every request (the key's value left out), and answers from a scripted queue.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use actix_web::{http::StatusCode, web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use serde_json::{json, Value};

/// What the fake answers to the next valid request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200: the forced tool called with this input (`stop_reason: "tool_use"`).
    Success(Value),
    /// 200: one text block (`stop_reason: "end_turn"`).
    Text(String),
    /// 429 `rate_limit_error` with `retry-after: {retry_after}`.
    RateLimited { retry_after: u64 },
    /// 529 `overloaded_error`.
    Overloaded,
    /// 200 with `stop_reason: "refusal"` and no content.
    Refusal,
    /// 200: the forced tool called with this input, cut off (`stop_reason: "max_tokens"`).
    MaxTokens(Value),
    /// Any other error: `status` with an error object of this `type`.
    Error { status: u16, kind: &'static str },
}

/// One request as received; `x-api-key` reads `[matches]` or `[wrong]`, never its value.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

struct State {
    key: String,
    replies: VecDeque<Reply>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct FakeAnthropic {
    addr: std::net::SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FakeAnthropic {
    /// Listens on a free loopback port; call it inside a Tokio runtime.
    pub fn start(key: &str) -> Self {
        let state = Arc::new(Mutex::new(State {
            key: key.to_owned(),
            replies: VecDeque::new(),
            requests: Vec::new(),
        }));
        let data = web::Data::new(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                // The API's own limit for a Messages request.
                .app_data(web::PayloadConfig::new(32 << 20))
                .default_service(web::to(messages))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        tokio::spawn(server.run());
        FakeAnthropic { addr, state }
    }

    /// The base URL to configure the client with.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Queues answers, one per valid request, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.lock().unwrap().replies.extend(replies);
    }

    /// Every request so far, invalid ones included.
    pub fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }

    /// Scripted answers not given yet.
    pub fn pending(&self) -> usize {
        self.state.lock().unwrap().replies.len()
    }
}

/// Anthropic's error shape; `request_id` matches the `request-id` header.
fn error(status: u16, kind: &str, message: &str, n: usize) -> HttpResponse {
    let id = format!("req_fake{n:06}");
    HttpResponse::build(StatusCode::from_u16(status).unwrap())
        .insert_header(("request-id", id.clone()))
        .json(
            json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": id}),
        )
}

fn invalid(message: impl AsRef<str>, n: usize) -> HttpResponse {
    error(400, "invalid_request_error", message.as_ref(), n)
}

async fn messages(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<Mutex<State>>>,
) -> HttpResponse {
    let mut state = state.lock().unwrap();
    let key = req.headers().get("x-api-key").map(|v| v.as_bytes());
    let key_ok = key == Some(state.key.as_bytes());
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = match name.as_str() {
                "x-api-key" if key_ok => "[matches]".to_owned(),
                "x-api-key" => "[wrong]".to_owned(),
                _ => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str().to_owned(), value)
        })
        .collect();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    state.requests.push(Request {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        headers,
        body: parsed.clone().unwrap_or(Value::Null),
    });
    let n = state.requests.len();

    if req.path() != "/v1/messages" {
        return error(404, "not_found_error", "Not Found", n);
    }
    if req.method() != actix_web::http::Method::POST {
        return error(405, "invalid_request_error", "Method Not Allowed", n);
    }
    match key {
        None => {
            return error(
                401,
                "authentication_error",
                "x-api-key header is required",
                n,
            )
        }
        Some(_) if !key_ok => {
            return error(401, "authentication_error", "invalid x-api-key", n);
        }
        Some(_) => {}
    }
    match req.headers().get("anthropic-version").map(|v| v.as_bytes()) {
        None => return invalid("anthropic-version: header is required", n),
        Some(b"2023-06-01" | b"2023-01-01") => {}
        Some(_) => return invalid("anthropic-version: invalid version", n),
    }
    let json_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !json_type {
        return invalid("content-type: must be application/json", n);
    }
    let Some(body) = parsed else {
        return invalid("There was an issue with the request body: invalid JSON", n);
    };
    let forced = match check(&body) {
        Ok(forced) => forced,
        Err(message) => return invalid(message, n),
    };
    let Some(reply) = state.replies.pop_front() else {
        return error(500, "api_error", "the fake has no scripted reply", n);
    };

    let message = |content: Value, stop: &str| {
        let out = content.to_string().len() / 4 + 1;
        HttpResponse::Ok()
            .insert_header(("request-id", format!("req_fake{n:06}")))
            .json(json!({
                "id": format!("msg_fake{n:06}"),
                "type": "message",
                "role": "assistant",
                "model": body["model"],
                "content": content,
                "stop_reason": stop,
                "stop_sequence": null,
                "usage": {"input_tokens": body.to_string().len() / 4 + 1, "output_tokens": out,
                    "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0},
            }))
    };
    let call = |input: Value, stop: &str| match &forced {
        Some(name) => message(
            json!([{"type": "tool_use", "id": format!("toolu_fake{n:06}"), "name": name, "input": input}]),
            stop,
        ),
        // A model cannot call a tool it was not offered: the test scripted the wrong reply.
        None => error(
            500,
            "api_error",
            "the fake was scripted a tool call for a request without tools",
            n,
        ),
    };
    match reply {
        Reply::Success(input) => call(input, "tool_use"),
        Reply::MaxTokens(input) => call(input, "max_tokens"),
        Reply::Text(text) => message(json!([{"type": "text", "text": text}]), "end_turn"),
        Reply::Refusal => message(json!([]), "refusal"),
        Reply::RateLimited { retry_after } => {
            let mut res = error(429, "rate_limit_error", "This request would exceed the rate limit for your organization of 50 requests per minute.", n);
            res.headers_mut().insert(
                actix_web::http::header::RETRY_AFTER,
                retry_after.to_string().parse().unwrap(),
            );
            res
        }
        Reply::Overloaded => error(529, "overloaded_error", "Overloaded", n),
        Reply::Error { status, kind } => error(status, kind, "scripted error", n),
    }
}

const FIELDS: &[&str] = &[
    "model",
    "max_tokens",
    "messages",
    "system",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "stream",
    "metadata",
    "tools",
    "tool_choice",
    "thinking",
    "service_tier",
];

/// The request's shape as the API validates it; with tools, the name of the forced one (this
/// fake insists on a forced tool, which the API itself does not).
fn check(body: &Value) -> Result<Option<String>, String> {
    let Some(fields) = body.as_object() else {
        return Err("body: Input should be an object".into());
    };
    if let Some(extra) = fields.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!("{extra}: Extra inputs are not permitted"));
    }
    if body["model"].as_str().is_none_or(str::is_empty) {
        return Err("model: Field required".into());
    }
    match body["max_tokens"].as_u64() {
        Some(1..) => {}
        Some(0) => return Err("max_tokens: Input should be greater than or equal to 1".into()),
        None => return Err("max_tokens: Field required".into()),
    }
    if let Some(t) = body.get("temperature") {
        if !t.as_f64().is_some_and(|t| (0.0..=1.0).contains(&t)) {
            return Err("temperature: Input should be between 0 and 1".into());
        }
    }
    if let Some(system) = body.get("system") {
        let ok = system.is_string()
            || system.as_array().is_some_and(|blocks| {
                blocks
                    .iter()
                    .all(|b| b["type"] == "text" && b["text"].is_string())
            });
        if !ok {
            return Err("system: Input should be a valid string".into());
        }
    }
    let messages = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or("messages: at least one message is required")?;
    if messages[0]["role"] != "user" {
        return Err("messages: first message must use the \"user\" role".into());
    }
    for (i, m) in messages.iter().enumerate() {
        if m["role"] != "user" && m["role"] != "assistant" {
            return Err(format!(
                "messages.{i}.role: Input should be 'user' or 'assistant'"
            ));
        }
        match &m["content"] {
            Value::String(s) if !s.is_empty() => {}
            Value::Array(blocks) if !blocks.is_empty() => {
                for (j, b) in blocks.iter().enumerate() {
                    block(b).map_err(|e| format!("messages.{i}.content.{j}: {e}"))?;
                }
            }
            _ => {
                return Err(format!(
                    "messages.{i}: all messages must have non-empty content"
                ))
            }
        }
    }

    let tools = match body.get("tools") {
        None => {
            if body.get("tool_choice").is_some() {
                return Err("tool_choice may only be specified while providing tools".into());
            }
            return Ok(None);
        }
        Some(tools) => tools
            .as_array()
            .ok_or("tools: Input should be a valid list")?,
    };
    let mut names = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let name = t["name"].as_str().unwrap_or_default();
        let valid = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-');
        if !valid {
            return Err(format!(
                "tools.{i}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
            ));
        }
        if names.contains(&name) {
            return Err("tools: Tool names must be unique.".into());
        }
        names.push(name);
        if t.get("description").is_some_and(|d| !d.is_string()) {
            return Err(format!(
                "tools.{i}.description: Input should be a valid string"
            ));
        }
        if t["input_schema"]["type"] != "object" {
            return Err(format!(
                "tools.{i}.input_schema.type: Input should be 'object'"
            ));
        }
    }
    let choice = &body["tool_choice"];
    if choice["type"] != "tool" {
        return Err("tool_choice: this fake expects {\"type\": \"tool\", \"name\": ...}".into());
    }
    match choice["name"].as_str() {
        Some(name) if names.contains(&name) => Ok(Some(name.to_owned())),
        _ => Err("tool_choice.name: Tool not found in the list of tools".into()),
    }
}

/// One content block of a user message: text, a base64 image or a base64 PDF.
fn block(b: &Value) -> Result<(), String> {
    let base64 = |media: &[&str]| {
        let source = &b["source"];
        if source["type"] != "base64" {
            return Err("source.type: this fake knows only 'base64'".to_owned());
        }
        if !source["media_type"]
            .as_str()
            .is_some_and(|m| media.contains(&m))
        {
            return Err(format!(
                "source.media_type: Input should be one of {media:?}"
            ));
        }
        let data = source["data"].as_str().unwrap_or_default();
        match base64::engine::general_purpose::STANDARD.decode(data) {
            Ok(bytes) if !bytes.is_empty() => Ok(()),
            _ => Err("source.data: invalid base64 data".to_owned()),
        }
    };
    match b["type"].as_str() {
        Some("text") if b["text"].as_str().is_some_and(|t| !t.is_empty()) => Ok(()),
        Some("text") => Err("text content blocks must be non-empty".into()),
        Some("image") => base64(&["image/jpeg", "image/png", "image/gif", "image/webp"]),
        Some("document") => base64(&["application/pdf"]),
        _ => Err("type: Input tag does not match any of the expected tags".into()),
    }
}
