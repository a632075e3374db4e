use secrecy::SecretString;
use serde_json::{Map, Value};

use super::{anthropic, gemini};
use crate::{
    config::{AiProvider, Config},
    http::problem::ApiResult,
};

/// The provider the server is configured with.
#[derive(Clone)]
pub enum Provider {
    Local,
    Gemini(gemini::Gemini),
    Anthropic(anthropic::Anthropic),
}

/// One piece of what a feature sends to a model.
pub enum Input<'a> {
    Text(&'a str),
    /// A PDF, or a PNG, JPEG or WebP image.
    File {
        mime: &'a str,
        bytes: &'a [u8],
    },
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
            AiProvider::Anthropic {
                base_url,
                api_key,
                model,
            } => Provider::Anthropic(anthropic::Anthropic::new(
                base_url.clone(),
                SecretString::clone(api_key),
                model.clone(),
                config.ai_timeout,
            )),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Provider::Local => "local",
            Provider::Gemini(_) => "gemini",
            Provider::Anthropic(_) => "anthropic",
        }
    }

    pub fn destination(&self) -> String {
        match self {
            Provider::Local => "the built-in offline provider: nothing leaves this server".into(),
            Provider::Gemini(g) => format!("Google Gemini ({}, model {})", g.host(), g.model),
            Provider::Anthropic(a) => {
                format!("Anthropic Claude ({}, model {})", a.host(), a.model)
            }
        }
    }

    pub fn is_local(&self) -> bool {
        matches!(self, Provider::Local)
    }

    /// A model's JSON answer shaped by `schema` (written in Gemini's OpenAPI form: `OBJECT`,
    /// `STRING`, `nullable`; turned into JSON Schema for Claude's forced tool), or `None` from
    /// the built-in provider, whose callers compute the answer themselves.
    pub async fn json(&self, parts: &[Input<'_>], schema: &Value) -> ApiResult<Option<String>> {
        match self {
            Provider::Local => Ok(None),
            Provider::Gemini(g) => {
                let parts: Vec<gemini::Part> = parts
                    .iter()
                    .map(|p| match p {
                        Input::Text(t) => gemini::Part::Text(t),
                        Input::File { mime, bytes } => gemini::Part::Inline { mime, bytes },
                    })
                    .collect();
                g.generate(&parts, Some(schema)).await.map(Some)
            }
            Provider::Anthropic(a) => {
                let parts: Vec<anthropic::Part> = parts
                    .iter()
                    .map(|p| match p {
                        Input::Text(t) => anthropic::Part::Text(t),
                        Input::File {
                            mime: "application/pdf",
                            bytes,
                        } => anthropic::Part::Pdf(bytes),
                        Input::File { mime, bytes } => anthropic::Part::Image { mime, bytes },
                    })
                    .collect();
                let tool = anthropic::Tool {
                    name: "answer".into(),
                    description: "Give the answer in exactly this shape.".into(),
                    input_schema: json_schema(schema),
                };
                a.generate(None, &parts, Some(&tool)).await.map(Some)
            }
        }
    }
}

/// Gemini's OpenAPI-subset schema as standard JSON Schema: lower-case types, and `nullable`
/// as a `null` alternative of the type.
pub fn json_schema(schema: &Value) -> Value {
    match schema {
        Value::Object(m) => {
            let nullable = m.get("nullable").and_then(Value::as_bool) == Some(true);
            let mut out = Map::new();
            for (k, v) in m {
                match k.as_str() {
                    "nullable" => {}
                    "type" => {
                        let t = Value::String(v.as_str().unwrap_or("string").to_lowercase());
                        out.insert(
                            k.clone(),
                            if nullable {
                                Value::Array(vec![t, Value::String("null".into())])
                            } else {
                                t
                            },
                        );
                    }
                    "properties" => {
                        let props = v
                            .as_object()
                            .map(|p| {
                                p.iter()
                                    .map(|(name, s)| (name.clone(), json_schema(s)))
                                    .collect()
                            })
                            .unwrap_or_default();
                        out.insert(k.clone(), Value::Object(props));
                    }
                    "items" => {
                        out.insert(k.clone(), json_schema(v));
                    }
                    _ => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            if nullable {
                if let Some(Value::Array(e)) = out.get_mut("enum") {
                    e.push(Value::Null);
                }
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn gemini_schemas_become_json_schema() {
        let gemini = json!({"type": "OBJECT", "properties": {
            "title": {"type": "STRING"},
            "energy": {"type": "STRING", "nullable": true, "enum": ["low", "high"]},
            "labels": {"type": "ARRAY", "items": {"type": "STRING"}},
        }, "required": ["title"]});
        assert_eq!(
            super::json_schema(&gemini),
            json!({"type": "object", "properties": {
                "title": {"type": "string"},
                "energy": {"type": ["string", "null"], "enum": ["low", "high", null]},
                "labels": {"type": "array", "items": {"type": "string"}},
            }, "required": ["title"]})
        );
    }
}
