use std::sync::Arc;

use super::{ai_provider, csrf, jwt, password};
use crate::{clock::Clock, config::Config, db::pool::Db};

/// Shared by every worker; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub clock: Clock,
    pub hasher: password::Hasher,
    pub jwt: jwt::Keys,
    pub csrf: csrf::CsrfKey,
    /// Wakes the job workers (mail leaves at once).
    pub jobs: crate::common::jobs::worker::Wake,
    pub ai: ai_provider::provider::Provider,
    /// Exports running on this instance: each holds a pooled connection while it streams.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// Where uploaded files are kept.
    pub files: crate::common::files::FileStore,
    /// The WebAuthn relying party passkeys are registered with and checked by.
    pub webauthn: Arc<webauthn_rs::Webauthn>,
}

pub type State = actix_web::web::Data<AppState>;
