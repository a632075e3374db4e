//! The signed-in user's own profile: `/v1/me`.

mod me;
pub mod profile;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(me::get_me).service(me::patch_me);
}
