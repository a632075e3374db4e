//! The routes of this capability, registered in one place.

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::console::stats)
        .service(super::console::users)
        .service(super::console::set_user_plan)
        .service(super::console::lock)
        .service(super::console::unlock)
        .service(super::console::sign_out)
        .service(super::console::audit);
}
