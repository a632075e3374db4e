//! The AI provider the server is configured with: the built-in offline one, or Google's
//! Gemini REST API through its own HTTP client. Which features use it, and with what consent,
//! is the `ai` capability's business.

pub mod gemini;

use crate::config::{AiProvider, Config};

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
