//! The AI provider the server is configured with: the built-in offline one, Google's Gemini
//! REST API, or Anthropic's Messages API, each through its own HTTP client. Which features use
//! it, and with what consent, is the `ai` capability's business.

pub mod anthropic;
pub mod gemini;
pub mod provider;
