//! The AI provider the server is configured with: the built-in offline one, or Google's
//! Gemini REST API through its own HTTP client. Which features use it, and with what consent,
//! is the `ai` capability's business.

pub mod gemini;
pub mod provider;
