//! The HTTP operations of the calendar integration.

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route of this capability.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(super::connection::connect)
        .service(super::connection::show)
        .service(super::connection::sync_now)
        .service(super::connection::disconnect)
        .service(super::events::list);
}
