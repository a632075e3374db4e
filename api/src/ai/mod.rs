//! AI-assisted features: every one answers a preview first, and nothing is written until the
//! user confirms it (`previews.rs`). AI is off until the user turns it on (`ai_enabled` in
//! `PATCH /v1/me`); `GET /v1/ai/disclosure` says which fields each feature sends to which
//! provider, and every preview records exactly what was sent.

pub mod assistant;
pub mod assistant_intent;
pub mod documents;
pub mod features;
pub mod heuristics;
pub mod job_pricing;
pub mod preview_store;
pub mod previews;
pub mod pricing;
pub mod receipt_text;
pub mod routes;
pub mod transcriptions;
