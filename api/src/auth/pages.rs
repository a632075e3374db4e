//! `GET`/`POST /verify-email` and `/reset-password`: the pages the mailed links open when there
//! is no separate web app (`MINIME_APP_URL` is this server). They are for people, not programs,
//! so they stay out of the OpenAPI document: it is the contract of the JSON API that the SDK is
//! generated from and the fuzzer checks, where every error is problem+json, and these answer
//! HTML. Each form post runs the same function, under the same rate limit, as its JSON endpoint
//! under `/v1/auth`, which programs keep using.
//!
//! A `GET` only shows a form and never uses the token: mail scanners and link previews open
//! links before the recipient does.
//!
//! No CSRF token on these forms: each already carries a single-use secret from the mail, which a
//! forging site cannot know, and the pages neither read nor set cookies, so a forged post cannot
//! act with the visitor's session — at most it spends a link the forger received themselves, on
//! their own account. The JSON API keeps its own CSRF check for cookie sessions, unchanged.

use std::sync::LazyLock;

use actix_web::{
    http::{header, StatusCode},
    web, HttpMessage, HttpRequest, HttpResponse,
};
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::{reset, signup};
use crate::{
    common::state::State,
    http::problem::{ApiError, ProblemKind},
};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/verify-email")
            .route(web::get().to(verify_page))
            .route(web::post().to(verify_submit)),
    )
    .service(
        web::resource("/reset-password")
            .route(web::get().to(reset_page))
            .route(web::post().to(reset_submit)),
    );
}

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}\
input,button{font:inherit;padding:.45rem .8rem}input{display:block;width:100%;box-sizing:border-box;margin:.3rem 0 1rem}\
.problem{color:#a40e26}";

/// Nothing may load or run but the inline style above (by its hash), and forms post only here.
static CSP: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'"
    )
});

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `body` is HTML already: every text put into it went through `escape`.
fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let title = escape(title);
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, CSP.as_str()))
        // The address holds a live token: no cache keeps it, no referrer carries it away.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex\">\
             <title>{title} · minime</title><style>{STYLE}</style></head>\n\
             <body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n"
        ))
}

fn query_token(req: &HttpRequest) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(name, _)| name == "token")
        .map(|(_, value)| value.into_owned())
        .filter(|token| !token.is_empty())
}

fn no_token() -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "This link is incomplete",
        "<p>The link has no token. Open the link from the mail exactly as it is, or copy all of it \
         into the address bar.</p>",
    )
}

#[derive(Default)]
struct Form {
    token: Option<String>,
    new_password: Option<String>,
}

fn not_a_form() -> HttpResponse {
    page(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "This form was not sent as a form",
        "<p>Send it as <code>application/x-www-form-urlencoded</code>; programs use the JSON \
         endpoints under <code>/v1/auth</code>.</p>",
    )
}

/// `None` when the body is not a form.
fn form(req: &HttpRequest, body: &[u8]) -> Option<Form> {
    if !req
        .content_type()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    {
        return None;
    }
    let mut form = Form::default();
    for (name, value) in url::form_urlencoded::parse(body) {
        let slot = match &*name {
            "token" => &mut form.token,
            "new_password" => &mut form.new_password,
            _ => continue,
        };
        slot.get_or_insert_with(|| value.into_owned());
    }
    form.token = form.token.filter(|token| !token.is_empty());
    Some(form)
}

fn field_label(field: &str) -> &str {
    match field {
        "new_password" => "The new password",
        "token" => "The link",
        other => other,
    }
}

fn in_words(error: &ApiError) -> String {
    if error.kind == ProblemKind::Validation && !error.errors.is_empty() {
        return error
            .errors
            .iter()
            .map(|e| format!("{} {}.", field_label(&e.field), e.message))
            .collect::<Vec<_>>()
            .join(" ");
    }
    match error.kind {
        ProblemKind::InvalidToken => format!(
            "{}. Ask for a new mail and open the link in the newest one.",
            error.detail
        ),
        ProblemKind::RateLimited => format!(
            "There were too many attempts from your network. {}.",
            error.detail
        ),
        _ => format!("{}.", error.detail),
    }
}

/// The problem the JSON endpoint would answer, as a page with the same status.
fn problem_page(req: &HttpRequest, error: &ApiError) -> HttpResponse {
    let status = error.kind.status();
    let mut body = format!("<p class=\"problem\">{}</p>", escape(&in_words(error)));
    if status.is_server_error() {
        if let Some(source) = &error.source {
            tracing::error!(error = %format!("{source:#}"), problem = error.kind.type_path(), "page request failed");
        }
        if let Some(id) = req.extensions().get::<tracing_actix_web::RequestId>() {
            body.push_str(&format!(
                "<p>If you report this, quote {}.</p>",
                escape(&id.to_string())
            ));
        }
    }
    let title = match error.kind {
        ProblemKind::InvalidToken => "This link does not work",
        ProblemKind::RateLimited => "Too many attempts",
        ProblemKind::Validation => "Please check what you entered",
        kind => kind.title(),
    };
    let mut response = page(status, title, &body);
    if let Some(secs) = error.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
    }
    response
}

fn verify_form(token: &str) -> String {
    format!(
        "<p>Press the button to confirm this address for your minime account. It also sets the \
         password chosen in the sign-up that sent the mail.</p>\n\
         <form method=\"post\" action=\"/verify-email\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\">Confirm my email</button></form>",
        escape(token)
    )
}

async fn verify_page(req: HttpRequest) -> HttpResponse {
    match query_token(&req) {
        Some(token) => page(StatusCode::OK, "Confirm your email", &verify_form(&token)),
        None => no_token(),
    }
}

async fn verify_submit(state: State, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(form) = form(&req, &body) else {
        return not_a_form();
    };
    let Some(token) = form.token else {
        return no_token();
    };
    match signup::use_verification_token(&state, &req, token).await {
        Ok(()) => page(
            StatusCode::OK,
            "Your email is confirmed",
            "<p>Sign in with this address and the password you chose when you signed up. \
             Links from older mails no longer work.</p>",
        ),
        Err(error) => problem_page(&req, &error),
    }
}

fn reset_form(token: &str, problem: Option<&ApiError>) -> String {
    let problem = problem.map_or_else(String::new, |e| {
        format!("<p class=\"problem\">{}</p>\n", escape(&in_words(e)))
    });
    format!(
        "{problem}<p>Choose a new password for your minime account: at least 10 characters and hard \
         to guess (a few unusual words work well). Every session and access token of the account \
         ends when it is set.</p>\n\
         <form method=\"post\" action=\"/reset-password\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <label for=\"new_password\">New password</label>\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" \
         required minlength=\"10\" maxlength=\"256\">\
         <button type=\"submit\">Set the password</button></form>",
        escape(token)
    )
}

async fn reset_page(req: HttpRequest) -> HttpResponse {
    match query_token(&req) {
        Some(token) => page(
            StatusCode::OK,
            "Choose a new password",
            &reset_form(&token, None),
        ),
        None => no_token(),
    }
}

async fn reset_submit(state: State, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(form) = form(&req, &body) else {
        return not_a_form();
    };
    let Some(token) = form.token else {
        return no_token();
    };
    let new_password = form.new_password.unwrap_or_default();
    // JSON bodies refuse NUL before they reach a handler; a password with one set here could
    // never be typed into the JSON sign-in.
    let outcome = if new_password.contains('\0') {
        Err(ApiError::field(
            "new_password",
            "must not contain the NUL character (U+0000)",
        ))
    } else {
        reset::use_reset_token(&state, &req, token.clone(), new_password).await
    };
    match outcome {
        Ok(()) => page(
            StatusCode::OK,
            "Your password is changed",
            "<p>Every session and access token of the account has ended. Sign in with the new \
             password.</p>",
        ),
        // The token is still unused: the form comes back for another try.
        Err(error) if error.kind == ProblemKind::Validation => page(
            error.kind.status(),
            "Choose another password",
            &reset_form(&token, Some(&error)),
        ),
        Err(error) => problem_page(&req, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_leaves_no_markup() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&amp;</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;"
        );
    }
}
