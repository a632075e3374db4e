//! Second factors and passkeys: authenticator apps (TOTP), recovery codes and WebAuthn
//! credentials, the challenge step of a password sign-in, and re-authentication before
//! sensitive actions.

mod list;
mod mfa;
mod passkey_signin;
mod passkeys;
mod proof;
mod reauthenticate;
mod recovery;
pub mod steps;
pub mod totp;
pub mod webauthn;

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder};
use serde::Serialize;

use crate::common::assurance::{self, AuthMethod};
use crate::{
    common::{extractor::Principal, limits, state::State},
    db::pool::Conn,
    http::{client_ip::client_ip, problem::ApiResult},
};

/// Registers every route of this capability.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list::list_factors)
        .service(totp::enrol_totp)
        .service(totp::confirm_totp)
        .service(totp::remove_totp)
        .service(recovery::regenerate)
        .service(passkeys::registration_options)
        .service(passkeys::register_passkey)
        .service(passkeys::list_passkeys)
        .service(passkeys::rename_passkey)
        .service(passkeys::remove_passkey)
        .service(passkey_signin::passkey_options)
        .service(passkey_signin::passkey_signin)
        .service(mfa::mfa_passkey_options)
        .service(mfa::complete_mfa)
        .service(reauthenticate::reauthentication_options)
        .service(reauthenticate::reauthenticate);
}

/// Codes and challenges per client IP (`MINIME_RATE_LIMIT_FACTORS`, 15 a minute).
async fn limit(state: &State, req: &HttpRequest) -> ApiResult<()> {
    let ip = client_ip(req, state.config.proxies);
    limits::enforce(
        &state.db,
        state.clock.now(),
        format!("factors:ip:{}", ip.key()),
        state.config.rate_limits.factors,
    )
    .await
}

/// The session just proved a new factor: it counts as strongly authenticated now (a passkey
/// session stays one).
async fn strengthen(conn: &mut Conn, me: &Principal, with: AuthMethod) -> ApiResult<()> {
    let Some(session_id) = me.session_id else {
        return Ok(());
    };
    let current: String = {
        use crate::db::schema::auth::sessions;
        use diesel::prelude::*;
        use diesel_async::RunQueryDsl;
        sessions::table
            .find(session_id)
            .select(sessions::auth_method)
            .first(conn)
            .await?
    };
    let method = match AuthMethod::parse(&current) {
        AuthMethod::Passkey => AuthMethod::Passkey,
        _ => with,
    };
    assurance::mark(conn, session_id, method, me.at).await
}

/// A factor went: recovery codes go with the last one, and every other session ends.
async fn factor_removed(conn: &mut Conn, me: &Principal) -> ApiResult<()> {
    if !assurance::enrolled(conn, me.user_id).await? {
        recovery::remove_all(conn, me.user_id).await?;
    }
    end_other_sessions(conn, me).await
}

/// An answer holding a secret or a challenge: never cached.
fn no_store(mut builder: HttpResponseBuilder, body: &impl Serialize) -> HttpResponse {
    builder
        .insert_header(("Cache-Control", "no-store"))
        .json(body)
}

/// A factor was enrolled or removed: every other session of the account ends, so a session
/// opened before the change (perhaps by whoever made the user change it) cannot outlive it.
async fn end_other_sessions(conn: &mut Conn, me: &Principal) -> ApiResult<()> {
    super::sessions::revoke_all(conn, me.user_id, me.session_id, "factors_changed").await
}
