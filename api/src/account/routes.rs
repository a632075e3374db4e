//! The routes of this capability, registered in one place.

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::me::get_me).service(super::me::patch_me);
    cfg.service(super::export::export)
        .service(super::delete::delete_account_route);
    super::preferences::configure(cfg);
}
