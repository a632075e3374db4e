//! The routes of this capability, registered in one place.

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(super::signup::signup)
        .service(super::signup::verify_email)
        .service(super::signup::resend_verification)
        .service(super::signin::signin)
        .service(super::signin::refresh)
        .service(super::signin::signout)
        .service(super::reset::request_reset)
        .service(super::reset::confirm_reset)
        .service(super::reset::change_password)
        .service(super::sessions::list_sessions)
        .service(super::sessions::revoke_session)
        .service(super::access_tokens::create_token)
        .service(super::access_tokens::list_tokens)
        .service(super::access_tokens::revoke_token);
    super::factors::configure(cfg);
}
