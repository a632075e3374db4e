//! Connecting a mailbox: `POST /v1/integrations/gmail/authorize` starts Google's consent, and
//! Google sends the browser back to `GET /v1/integrations/gmail/callback`, which keeps the
//! refresh token and sends the browser on to the web app's settings.

use actix_web::{get, http::header, post, web::Query, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use oauth2::PkceCodeVerifier;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

use super::{
    google::{Google, GoogleError},
    store,
};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    config::Config,
    http::problem::{ApiError, ApiResult, Problem, ProblemKind},
    subscriptions::Plan,
};

/// Google as configured, or the 409 that says this server has no Google client.
pub fn google(config: &Config) -> ApiResult<Google<'_>> {
    Google::new(config).ok_or_else(|| {
        ApiError::new(
            ProblemKind::IntegrationNotConfigured,
            "Gmail is not set up on this server (MINIME_GOOGLE_CLIENT_ID)",
        )
    })
}

/// Gmail is Max only (`subscriptions::required` speaks of Pro or Max).
pub fn plan_required() -> ApiError {
    ApiError::new(ProblemKind::PlanRequired, "Gmail needs the Max plan")
}

/// Refuses every plan below Max.
pub async fn require_max(conn: &mut crate::db::pool::Conn, user: uuid::Uuid) -> ApiResult<()> {
    if Plan::of(conn, user).await?.limits().email {
        Ok(())
    } else {
        Err(plan_required())
    }
}

#[derive(Serialize, ToSchema)]
pub struct Consent {
    /// Send the browser here; Google brings it back to the callback within 10 minutes.
    #[schema(
        example = "https://accounts.google.com/o/oauth2/v2/auth?response_type=code&client_id=123.apps.googleusercontent.com&state=5Jq1M2sRk0bWQ2z1mB7n1w&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=https%3A%2F%2Fminime.example%2Fv1%2Fintegrations%2Fgmail%2Fcallback&scope=https%3A%2F%2Fwww.googleapis.com%2Fauth%2Fgmail.readonly&access_type=offline&prompt=consent"
    )]
    pub url: String,
}

fn hash(state: &str) -> Vec<u8> {
    Sha256::digest(state.as_bytes()).to_vec()
}

/// `POST /v1/integrations/gmail/authorize`
#[utoipa::path(
    tag = "integrations", summary = "Start connecting a Gmail mailbox.",
    description = "Answers Google's consent page for read-only access to your mail. Send the \
                   browser there: after consent Google sends it to \
                   `/v1/integrations/gmail/callback`, which connects the mailbox and goes on to \
                   the web app's `/settings/integrations`. The consent must come back within 10 \
                   minutes and works once. Connecting again replaces the mailbox. Max plan.",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Google's consent page", body = Consent),
        (status = 403, description = "Not the Max plan (`/problems/plan-required`), a read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/plan-required", "title": "Your plan does not include this feature", "status": 403, "detail": "Gmail needs the Max plan"})),
        (status = 409, description = "This server has no Google client (`/problems/integration-not-configured`)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/integration-not-configured", "title": "This integration is not configured on this server", "status": 409, "detail": "Gmail is not set up on this server (MINIME_GOOGLE_CLIENT_ID)"})),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/integrations/gmail/authorize")]
pub async fn authorize_gmail(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let google = google(&state.config)?;
    let keys = store::keys(&state.config)?;
    let (url, csrf, verifier) = google.consent_url();
    let state_hash = hash(csrf.secret());
    let sealed = keys.seal(
        store::verifier_place(&hex::encode(&state_hash)),
        verifier.secret().as_bytes(),
    );
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            require_max(conn, me.user_id).await?;
            store::keep_state(conn, me.user_id, &state_hash, sealed, me.at).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Ok().json(Consent { url: url.into() }))
}

/// What Google adds to the callback address.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Callback {
    /// The authorization code (absent when consent was refused).
    pub code: Option<String>,
    /// The state the consent started with.
    pub state: Option<String>,
    /// Google's reason when there is no code, e.g. `access_denied`.
    pub error: Option<String>,
}

/// Why a connection failed, as the web app is told.
#[derive(Clone, Copy)]
enum Failure {
    Denied,
    InvalidState,
    PlanRequired,
    Google,
}

impl Failure {
    fn reason(self) -> &'static str {
        match self {
            Failure::Denied => "denied",
            Failure::InvalidState => "invalid_state",
            Failure::PlanRequired => "plan_required",
            Failure::Google => "google",
        }
    }
}

/// The web app's integration settings, told how it went.
fn back_to_app(config: &Config, outcome: Result<(), Failure>) -> HttpResponse {
    let mut url = config.app_url.clone();
    url.set_path("/settings/integrations");
    {
        let mut query = url.query_pairs_mut();
        query.clear();
        match outcome {
            Ok(()) => query.append_pair("gmail", "connected"),
            Err(failure) => query
                .append_pair("gmail", "error")
                .append_pair("reason", failure.reason()),
        };
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, url.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

/// `GET /v1/integrations/gmail/callback`
#[utoipa::path(
    tag = "integrations", summary = "Where Google sends the browser back after consent.",
    description = "Reached by the browser from Google, without our credential: the state names \
                   the user who started the consent (it is good once, for 10 minutes). Connects \
                   the mailbox and answers 303 to the web app: \
                   `/settings/integrations?gmail=connected`, or `?gmail=error&reason=` one of \
                   `denied` (consent refused, or reading mail left unticked), `invalid_state` \
                   (unknown, used or expired), `plan_required`, `google` (Google failed or sent \
                   no refresh token).",
    params(
        Callback,
        // Google adds these too; they are read from the grant, not from here.
        ("scope" = Option<String>, Query, description = "The scopes granted"),
        ("authuser" = Option<String>, Query, description = "Which of the browser's Google accounts"),
        ("prompt" = Option<String>, Query, description = "The prompt Google showed"),
        ("hd" = Option<String>, Query, description = "The Google Workspace domain, if any"),
        ("iss" = Option<String>, Query, description = "The issuer (RFC 9207)"),
        ("error_description" = Option<String>, Query, description = "More about `error`"),
        ("error_uri" = Option<String>, Query, description = "A page about `error`"),
    ),
    responses(
        (status = 303, description = "On to the web app",
         headers(("Location" = String, description = "e.g. https://minime.example/settings/integrations?gmail=connected"))),
        (status = 409, description = "This server has no Google client (`/problems/integration-not-configured`)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A query parameter Google does not send, or one holding NUL (`/problems/validation`)", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/integrations/gmail/callback")]
pub async fn gmail_callback(state: State, query: Query<Callback>) -> ApiResult<HttpResponse> {
    let google = google(&state.config)?;
    let Callback {
        code,
        state: csrf,
        error,
    } = query.into_inner();
    let outcome = connect(&state, &google, code, csrf, error).await?;
    Ok(back_to_app(&state.config, outcome))
}

/// The callback's work; an `Err` inside is a failure the web app is told about, outside one the
/// server could not handle.
async fn connect(
    state: &State,
    google: &Google<'_>,
    code: Option<String>,
    csrf: Option<String>,
    error: Option<String>,
) -> ApiResult<Result<(), Failure>> {
    let Some(csrf) = csrf.filter(|s| !s.is_empty() && s.len() <= 200) else {
        return Ok(Err(Failure::InvalidState));
    };
    let at = state.clock.now();
    let state_hash = hash(&csrf);
    // Taken even when consent was refused: a state works once, whatever came back.
    let taken = state
        .db
        .tx(|conn| store::take_state(conn, &state_hash, at).scope_boxed())
        .await?;
    let Some(taken) = taken else {
        return Ok(Err(Failure::InvalidState));
    };
    let code = match (code, error) {
        (Some(code), None) if !code.is_empty() => code,
        _ => return Ok(Err(Failure::Denied)),
    };
    let keys = store::keys(&state.config)?;
    let verifier = keys
        .open(
            store::verifier_place(&hex::encode(&state_hash)),
            &taken.verifier,
        )
        .ok()
        .and_then(|v| String::from_utf8(v).ok());
    let Some(verifier) = verifier else {
        tracing::warn!("a Gmail consent's verifier does not open with MINIME_SECRET_KEYS");
        return Ok(Err(Failure::InvalidState));
    };
    let tokens = match google.exchange(code, PkceCodeVerifier::new(verifier)).await {
        Ok(tokens) => tokens,
        Err(GoogleError::Refused(why)) => {
            tracing::info!(%why, "Google refused a Gmail authorization code");
            return Ok(Err(Failure::InvalidState));
        }
        Err(GoogleError::Upstream(why)) => {
            tracing::warn!(%why, "exchanging a Gmail authorization code failed");
            return Ok(Err(Failure::Google));
        }
    };
    let granted = tokens
        .scopes
        .as_ref()
        .is_none_or(|scopes| scopes.iter().any(|s| s == super::google::SCOPE));
    if !granted {
        // The user left reading mail unticked on the consent page: nothing to connect.
        if let Some(refresh) = &tokens.refresh {
            let _ = google.revoke(refresh.expose_secret()).await;
        }
        return Ok(Err(Failure::Denied));
    }
    let Some(refresh) = tokens.refresh else {
        tracing::warn!("Google sent no refresh token for a Gmail consent");
        return Ok(Err(Failure::Google));
    };
    let address = match google.address(&tokens.access).await {
        Ok(address) => address,
        Err(e) => {
            tracing::warn!(why = %e, "reading a connected Gmail profile failed");
            return Ok(Err(Failure::Google));
        }
    };
    let user = taken.user_id;
    let sealed = keys.seal(
        store::token_place(&user.to_string()),
        refresh.expose_secret().as_bytes(),
    );
    let kept = state
        .db
        .tx_as(user, move |conn| {
            async move {
                if require_max(conn, user).await.is_err() {
                    return Ok(false);
                }
                store::connect(conn, user, &address, sealed, at).await?;
                Ok(true)
            }
            .scope_boxed()
        })
        .await?;
    if kept {
        Ok(Ok(()))
    } else {
        // Consent was given, but the plan no longer allows it: the grant goes back.
        let _ = google.revoke(refresh.expose_secret()).await;
        Ok(Err(Failure::PlanRequired))
    }
}
