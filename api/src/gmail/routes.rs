//! The HTTP operations of the Gmail integration.

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route of this capability.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(super::connect::authorize_gmail)
        .service(super::connect::gmail_callback)
        .service(super::mailbox::gmail_status)
        .service(super::mailbox::sync_gmail)
        .service(super::mailbox::list_gmail_messages)
        .service(super::mailbox::disconnect_gmail);
}
