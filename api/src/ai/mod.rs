//! AI-assisted features: every one answers a preview first, and nothing is written until the
//! user confirms it.

pub mod smart_add;
