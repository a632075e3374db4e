//! Google's side: the OAuth client (authorization code with PKCE, refresh; revocation) and the
//! three Gmail calls a sync needs. Every request goes through the outbound fetcher (a pinned
//! address, no redirects, timeouts, a cap on the answer); reads and refreshes are retried a few
//! times when Google is briefly unwell, a code exchange never (a code is good once).

use std::time::Duration;

use chrono::{DateTime, Utc};
use oauth2::{
    basic::{BasicClient, BasicErrorResponse, BasicErrorResponseType},
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet,
    EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError,
    Scope, TokenResponse, TokenUrl,
};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::{
    config::{Config, Google as Settings},
    outbound::{FetchError, Fetched, Fetcher, Policy},
};

/// Read-only access to the mailbox; the address comes from Gmail's profile, so no OpenID scope.
pub const SCOPE: &str = "https://www.googleapis.com/auth/gmail.readonly";
/// The INBOX messages a sync keeps.
pub const LATEST: usize = 30;
/// Attempts of a retried request, and the pause before the second.
const ATTEMPTS: u32 = 3;
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// Message reads in flight at once.
const PARALLEL_READS: usize = 5;
/// A whole sync's reads, retries included, end within this.
const SYNC_DEADLINE: Duration = Duration::from_secs(60);

type OAuth = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// Google refused the grant: access was withdrawn at Google, or the code is spent or wrong.
    #[error("Google refused the grant ({0})")]
    Refused(String),
    /// Google failed or answered what we cannot read: nothing the client can fix.
    #[error("{0}")]
    Upstream(String),
}

/// Tokens from a code exchange or a refresh.
pub struct Tokens {
    pub access: SecretString,
    /// Google sends one on consent (with `access_type=offline`, `prompt=consent`), rarely on a
    /// refresh.
    pub refresh: Option<SecretString>,
    /// What the user granted, when Google says (consent lets a user leave a scope unticked).
    pub scopes: Option<Vec<String>>,
}

/// One message's headers, as kept.
pub struct Message {
    pub gmail_id: String,
    pub thread_id: String,
    pub sender: String,
    pub subject: String,
    pub snippet: String,
    pub received_at: DateTime<Utc>,
}

pub struct Google<'a> {
    settings: &'a Settings,
    oauth: OAuth,
    fetcher: Fetcher,
}

/// Google's addresses are the operator's, not users': only the loopback switch of tests lets
/// them be plain http on this machine.
fn policy(config: &Config) -> Policy {
    Policy {
        allow_http: config.outbound_allow_loopback,
        allow_loopback: config.outbound_allow_loopback,
        max_redirects: 0,
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(15),
        max_body_bytes: 256 * 1024,
    }
}

fn upstream(e: impl std::fmt::Display) -> GoogleError {
    GoogleError::Upstream(e.to_string())
}

/// Whether an answer or a failure is worth another try.
fn transient(result: &Result<Fetched, FetchError>) -> bool {
    match result {
        Ok(fetched) => fetched.status.as_u16() == 429 || fetched.status.is_server_error(),
        Err(FetchError::Http(_)) => true,
        Err(_) => false,
    }
}

impl<'a> Google<'a> {
    /// Google as configured, or `None` when no client is.
    pub fn new(config: &'a Config) -> Option<Self> {
        let settings = config.google.as_ref()?;
        let oauth = BasicClient::new(ClientId::new(settings.client_id.clone()))
            .set_client_secret(ClientSecret::new(
                settings.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(AuthUrl::from_url(settings.auth_url.clone()))
            .set_token_uri(TokenUrl::from_url(settings.token_url.clone()))
            .set_redirect_uri(RedirectUrl::from_url(settings.redirect_url.clone()));
        Some(Self {
            settings,
            oauth,
            fetcher: Fetcher::new(policy(config)),
        })
    }

    /// Where to send the browser for consent, its state and the PKCE verifier to keep.
    pub fn consent_url(&self) -> (url::Url, CsrfToken, PkceCodeVerifier) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .oauth
            .authorize_url(CsrfToken::new_random)
            .add_scope(Scope::new(SCOPE.into()))
            .set_pkce_challenge(challenge)
            // A refresh token, and again on every reconnect (Google sends it on consent only).
            .add_extra_param("access_type", "offline")
            .add_extra_param("prompt", "consent")
            .url();
        (url, state, verifier)
    }

    /// One POST of the OAuth client, retried when `retry` and Google is briefly unwell.
    async fn send(
        &self,
        request: oauth2::HttpRequest,
        retry: bool,
    ) -> Result<oauth2::HttpResponse, FetchError> {
        let url = request.uri().to_string();
        let (parts, body) = request.into_parts();
        let mut attempt = 1;
        let fetched = loop {
            let result = self
                .fetcher
                .post(&url, parts.headers.clone(), body.clone())
                .await;
            if !retry || attempt >= ATTEMPTS || !transient(&result) {
                break result?;
            }
            tokio::time::sleep(FIRST_PAUSE * 2u32.pow(attempt - 1)).await;
            attempt += 1;
        };
        let mut response = oauth2::HttpResponse::new(fetched.body);
        *response.status_mut() = fetched.status;
        *response.headers_mut() = fetched.headers;
        Ok(response)
    }

    /// Trades the code Google sent back (with the verifier of its consent) for tokens.
    pub async fn exchange(
        &self,
        code: String,
        verifier: PkceCodeVerifier,
    ) -> Result<Tokens, GoogleError> {
        let once = |request| self.send(request, false);
        let answer = self
            .oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .request_async(&once)
            .await;
        tokens(answer)
    }

    /// A fresh access token from the kept refresh token.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, GoogleError> {
        let retried = |request| self.send(request, true);
        let token = RefreshToken::new(refresh_token.to_owned());
        let answer = self
            .oauth
            .exchange_refresh_token(&token)
            .request_async(&retried)
            .await;
        tokens(answer)
    }

    /// Ends the grant at Google (RFC 7009: revoking the refresh token ends its access tokens).
    /// Sent by hand: the crate refuses a revocation endpoint that is not https, which the
    /// operator's configuration may name (a local stand-in for Google).
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), GoogleError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded"),
        );
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", refresh_token)
            .finish()
            .into_bytes();
        let url = self.settings.revoke_url.as_str();
        let mut attempt = 1;
        let fetched = loop {
            let result = self.fetcher.post(url, headers.clone(), body.clone()).await;
            if attempt >= ATTEMPTS || !transient(&result) {
                break result.map_err(upstream)?;
            }
            tokio::time::sleep(FIRST_PAUSE * 2u32.pow(attempt - 1)).await;
            attempt += 1;
        };
        match fetched.status.as_u16() {
            200 => Ok(()),
            // Google answers 400 `invalid_token` for a grant that is already gone.
            400 => Err(GoogleError::Refused("the grant was already gone".into())),
            status => Err(upstream(format!(
                "Google answered {status} to the revocation"
            ))),
        }
    }

    /// A Gmail API GET with the access token, retried when Google is briefly unwell.
    async fn gmail<T: serde::de::DeserializeOwned>(
        &self,
        access: &SecretString,
        path_and_query: &str,
    ) -> Result<T, GoogleError> {
        let base = self.settings.gmail_api_url.as_str().trim_end_matches('/');
        let url = format!("{base}/{path_and_query}");
        let mut headers = HeaderMap::new();
        let mut bearer = HeaderValue::from_str(&format!("Bearer {}", access.expose_secret()))
            .map_err(|_| upstream("Google sent an access token that is not a header value"))?;
        bearer.set_sensitive(true);
        headers.insert(AUTHORIZATION, bearer);
        let mut attempt = 1;
        let fetched = loop {
            let result = self.fetcher.get_with(&url, headers.clone()).await;
            if attempt >= ATTEMPTS || !transient(&result) {
                break result.map_err(upstream)?;
            }
            tokio::time::sleep(FIRST_PAUSE * 2u32.pow(attempt - 1)).await;
            attempt += 1;
        };
        match fetched.status.as_u16() {
            200 => serde_json::from_slice(&fetched.body)
                .map_err(|e| upstream(format!("Gmail answered what we cannot read: {e}"))),
            // The access token was just made: a 401 means the grant went away meanwhile.
            401 => Err(GoogleError::Refused(
                "Gmail refused the access token".into(),
            )),
            status => Err(upstream(format!("Gmail answered {status}"))),
        }
    }

    /// The mailbox's address.
    pub async fn address(&self, access: &SecretString) -> Result<String, GoogleError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Profile {
            email_address: String,
        }
        let profile: Profile = self.gmail(access, "users/me/profile").await?;
        Ok(clip(&profile.email_address, 320))
    }

    /// The latest INBOX messages, newest first, with their headers.
    pub async fn latest(&self, access: &SecretString) -> Result<Vec<Message>, GoogleError> {
        tokio::time::timeout(SYNC_DEADLINE, self.read_latest(access))
            .await
            .unwrap_or_else(|_| Err(upstream("Gmail took too long to answer")))
    }

    async fn read_latest(&self, access: &SecretString) -> Result<Vec<Message>, GoogleError> {
        use futures_util::{StreamExt, TryStreamExt};
        #[derive(Deserialize)]
        struct Listed {
            #[serde(default)]
            messages: Vec<Ref>,
        }
        #[derive(Deserialize)]
        struct Ref {
            id: String,
        }
        let listed: Listed = self
            .gmail(
                access,
                &format!("users/me/messages?labelIds=INBOX&maxResults={LATEST}"),
            )
            .await?;
        futures_util::stream::iter(listed.messages.into_iter().take(LATEST))
            .map(|m| self.message(access, m.id))
            .buffered(PARALLEL_READS)
            .try_collect()
            .await
    }

    async fn message(&self, access: &SecretString, id: String) -> Result<Message, GoogleError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Metadata {
            id: String,
            #[serde(default)]
            thread_id: String,
            #[serde(default)]
            snippet: String,
            internal_date: Option<String>,
            #[serde(default)]
            payload: Payload,
        }
        #[derive(Deserialize, Default)]
        struct Payload {
            #[serde(default)]
            headers: Vec<Header>,
        }
        #[derive(Deserialize)]
        struct Header {
            name: String,
            value: String,
        }
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(upstream("Gmail listed a message id we do not use in a URL"));
        }
        let m: Metadata = self
            .gmail(
                access,
                &format!(
                    "users/me/messages/{id}?format=metadata&metadataHeaders=Subject\
                     &metadataHeaders=From&metadataHeaders=Date"
                ),
            )
            .await?;
        let header = |name: &str| {
            m.payload
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| h.value.clone())
        };
        let received_at = m
            .internal_date
            .as_deref()
            .and_then(|ms| ms.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis)
            .or_else(|| {
                header("Date")
                    .and_then(|d| DateTime::parse_from_rfc2822(&d).ok())
                    .map(|d| d.with_timezone(&Utc))
            })
            .ok_or_else(|| upstream(format!("Gmail gave message {id} no date")))?;
        Ok(Message {
            sender: clip(&header("From").unwrap_or_default(), 500),
            subject: clip(&header("Subject").unwrap_or_default(), 1000),
            snippet: clip(&unescape(&m.snippet), 1000),
            thread_id: clip(&m.thread_id, 64),
            gmail_id: clip(&m.id, 64),
            received_at,
        })
    }
}

fn tokens<E: std::error::Error + 'static>(
    answer: Result<oauth2::basic::BasicTokenResponse, RequestTokenError<E, BasicErrorResponse>>,
) -> Result<Tokens, GoogleError> {
    match answer {
        Ok(t) => Ok(Tokens {
            access: SecretString::from(t.access_token().secret().clone()),
            refresh: t
                .refresh_token()
                .map(|r| SecretString::from(r.secret().clone())),
            scopes: t
                .scopes()
                .map(|s| s.iter().map(|s| s.to_string()).collect()),
        }),
        Err(RequestTokenError::ServerResponse(r))
            if *r.error() == BasicErrorResponseType::InvalidGrant =>
        {
            Err(GoogleError::Refused(r.error().to_string()))
        }
        Err(e) => Err(upstream(describe(&e))),
    }
}

/// What went wrong, without a body that might echo a secret back.
fn describe<E: std::error::Error + 'static>(
    e: &RequestTokenError<E, BasicErrorResponse>,
) -> String {
    match e {
        RequestTokenError::ServerResponse(r) => format!("Google answered {}", r.error()),
        RequestTokenError::Request(e) => format!("Google could not be reached: {e}"),
        RequestTokenError::Parse(e, _) => format!("Google answered what we cannot read: {e}"),
        RequestTokenError::Other(e) => format!("Google answered unexpectedly: {e}"),
    }
}

/// At most `max` characters, without NUL (which no text column holds).
pub fn clip(text: &str, max: usize) -> String {
    text.chars().filter(|c| *c != '\0').take(max).collect()
}

/// Gmail's snippets are HTML-escaped text.
fn unescape(snippet: &str) -> String {
    snippet
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    /// `base64url(sha256(verifier))`: what the consent URL carries as `code_challenge`.
    fn challenge_of(verifier: &str) -> String {
        use sha2::Digest;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier))
    }

    #[test]
    fn clipped_text_holds_no_nul() {
        assert_eq!(clip("a\0bcd", 3), "abc");
    }

    #[test]
    fn snippets_are_unescaped_once() {
        assert_eq!(
            unescape("Tom &amp; Jerry&#39;s &lt;b&gt; &amp;lt;"),
            "Tom & Jerry's <b> &lt;"
        );
    }

    #[test]
    fn the_consent_url_asks_for_offline_read_only_access_with_pkce() {
        let config = crate::config::Config::from_vars(
            &[
                ("DATABASE_URL", "postgres://postgres@db/minime"),
                ("MINIME_GOOGLE_CLIENT_ID", "cid"),
                ("MINIME_GOOGLE_CLIENT_SECRET", "secret"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        )
        .unwrap();
        let google = Google::new(&config).unwrap();
        let (url, state, verifier) = google.consent_url();
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["scope"], SCOPE);
        assert_eq!(q["access_type"], "offline");
        assert_eq!(q["prompt"], "consent");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"], challenge_of(verifier.secret()));
        assert_eq!(&q["state"], state.secret());
        assert!(!q.contains_key("client_secret"));
    }
}
