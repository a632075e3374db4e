use std::sync::Arc;

use crate::{ai, auth, config::Config, db::Db, outbox};

/// Shared by every worker; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub hasher: auth::password::Hasher,
    pub jwt: auth::jwt::Keys,
    pub csrf: auth::csrf::CsrfKey,
    pub outbox: outbox::Notifier,
    pub ai: ai::Provider,
    /// Exports running on this instance: each holds a pooled connection while it streams.
    pub exports: Arc<tokio::sync::Semaphore>,
}

pub type State = actix_web::web::Data<AppState>;
