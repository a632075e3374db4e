//! Accounts, credentials and sessions: everything under `/v1/auth`.

mod access_tokens;
mod mailed_tokens;
mod mails;
pub mod pages;
mod reset;
mod sessions;
mod signin;
mod signup;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(signup::signup)
        .service(signup::verify_email)
        .service(signup::resend_verification)
        .service(signin::signin)
        .service(signin::refresh)
        .service(signin::signout)
        .service(reset::request_reset)
        .service(reset::confirm_reset)
        .service(reset::change_password)
        .service(sessions::list_sessions)
        .service(sessions::revoke_session)
        .service(access_tokens::create_token)
        .service(access_tokens::list_tokens)
        .service(access_tokens::revoke_token);
}
