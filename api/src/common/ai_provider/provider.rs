use crate::config::{AiProvider, Config};

/// The provider the server is configured with.
#[derive(Clone)]
pub enum Provider {
    Local,
    Gemini(super::gemini::Gemini),
}

impl Provider {
    pub fn from_config(config: &Config) -> Self {
        match &config.ai {
            AiProvider::Local => Provider::Local,
            AiProvider::Gemini {
                base_url,
                api_key,
                model,
            } => Provider::Gemini(super::gemini::Gemini::new(
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
