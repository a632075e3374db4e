//! The signed-in user's own documents: profile (`/v1/me`), settings, onboarding answers, and
//! the data rights: export (`/v1/account/export`) and deletion (`DELETE /v1/account`).

mod delete;
pub mod export;
mod me;
pub mod preferences;
pub mod profile;
pub mod routes;
