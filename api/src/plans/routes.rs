//! The routes of this capability, registered in one place.

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::plan::compute)
        .service(super::plan::get_plan);
    super::items::configure(cfg);
}
