//! The HTTP operations of web push.

use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every route of this capability.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(super::vapid::public_key)
        .service(super::subscription::subscribe)
        .service(super::subscription::list)
        .service(super::subscription::unsubscribe)
        .service(super::test_notification::send);
}
