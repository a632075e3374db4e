//! The HTTP operations of the Gmail integration.

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route of this capability.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(super::connect::authorize)
        .service(super::connect::callback)
        .service(super::mailbox::gmail_status)
        .service(super::mailbox::sync)
        .service(super::mailbox::list_messages)
        .service(super::mailbox::disconnect);
}
