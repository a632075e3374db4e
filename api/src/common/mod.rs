//! The shared core: what every capability stands on, above the plumbing (`config`, `db`,
//! `http`, `tokens`): the application state, the request's principal and the extractor whose
//! `tx()` opens every row-level-security transaction, credentials' primitives (JWTs, CSRF,
//! cookies, password hashing), rate limits, the resource life cycle and its field types,
//! idempotency, the mail outbox and the user's zone and day. It imports plumbing only.

pub mod ai_provider;
pub mod assurance;
pub mod cookies;
pub mod csrf;
pub mod document;
pub mod email;
pub mod extractor;
pub mod fields;
pub mod files;
pub mod idempotency;
pub mod jobs;
pub mod jwt;
pub mod limits;
pub mod outbox;
pub mod password;
pub mod resource;
pub mod server_secrets;
pub mod state;
pub mod zone;
