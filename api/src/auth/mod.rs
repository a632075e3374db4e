//! Accounts, credentials and sessions: everything under `/v1/auth`.

mod access_tokens;
pub mod cookies;
pub mod csrf;
pub mod email;
mod extractor;
pub mod jwt;
pub mod limits;
mod mailed_tokens;
mod mails;
pub mod pages;
pub mod password;
mod reset;
mod sessions;
mod signin;
mod signup;
pub mod tokens;

pub use email::normalize as normalize_email;
pub use extractor::{consent_needs_session, Access, Auth, Principal};

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
