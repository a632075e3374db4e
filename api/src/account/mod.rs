//! The signed-in user's own documents: profile (`/v1/me`), settings, onboarding answers.

mod me;
pub mod preferences;
pub mod profile;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(me::get_me).service(me::patch_me);
    preferences::configure(cfg);
}
