//! Browser mode: the access token in an HttpOnly cookie, the refresh token in an HttpOnly
//! cookie scoped to /v1/auth, and a readable CSRF cookie for the double submit.
//!
//! Secure cookies (always in production) carry the browser-enforced name prefixes: `__Host-`
//! (Secure, Path=/, no Domain: no subdomain or plain-http page can set or shadow them) for the
//! access and CSRF cookies, and `__Secure-` for the refresh cookie, whose path is narrower.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};

use crate::config::Config;

pub const ACCESS: &str = "minime_access";
pub const REFRESH: &str = "minime_refresh";
pub const CSRF: &str = "minime_csrf";

/// The name a cookie has under this configuration.
pub fn name(config: &Config, plain: &'static str) -> &'static str {
    match (config.cookie_secure, plain) {
        (false, _) => plain,
        (true, ACCESS) => "__Host-minime_access",
        (true, CSRF) => "__Host-minime_csrf",
        (true, REFRESH) => "__Secure-minime_refresh",
        (true, other) => other,
    }
}

fn base(
    plain: &'static str,
    value: String,
    path: &'static str,
    config: &Config,
) -> Cookie<'static> {
    let name = name(config, plain);
    Cookie::build(name, value)
        .path(path)
        .secure(config.cookie_secure)
        .finish()
}

pub fn session(
    config: &Config,
    access: String,
    refresh: String,
    csrf: String,
) -> [Cookie<'static>; 3] {
    let mut access = base(ACCESS, access, "/", config);
    access.set_http_only(true);
    access.set_same_site(SameSite::Lax);
    access.set_max_age(CookieDuration::seconds(
        config.access_token_ttl.as_secs() as i64
    ));

    let mut refresh = base(REFRESH, refresh, "/v1/auth", config);
    refresh.set_http_only(true);
    refresh.set_same_site(SameSite::Strict);
    refresh.set_max_age(CookieDuration::seconds(config.session_ttl.as_secs() as i64));

    let mut csrf = base(CSRF, csrf, "/", config);
    csrf.set_same_site(SameSite::Lax);
    csrf.set_max_age(CookieDuration::seconds(config.session_ttl.as_secs() as i64));
    [access, refresh, csrf]
}

pub fn cleared(config: &Config) -> [Cookie<'static>; 3] {
    [(ACCESS, "/"), (REFRESH, "/v1/auth"), (CSRF, "/")].map(|(name, path)| {
        let mut cookie = base(name, String::new(), path, config);
        cookie.make_removal();
        cookie
    })
}
