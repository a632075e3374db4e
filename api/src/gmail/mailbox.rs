//! A connected mailbox: its status, the sync on demand, the kept messages, and disconnecting.
//! Requests to Google happen between transactions, never inside one.

use actix_web::{delete, get, post, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Text, Timestamptz},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use secrecy::ExposeSecret;
use serde::Serialize;
use utoipa::ToSchema;

use super::{
    connect::{google, plan_required},
    google::GoogleError,
    store::{self, GmailStatus},
};
use crate::{
    common::{
        extractor::{Access, Auth},
        state::State,
    },
    http::{
        pagination::Page,
        problem::{ApiError, ApiResult, Problem, ProblemKind},
    },
    subscriptions::Plan,
};

/// `GET /v1/integrations/gmail`
#[utoipa::path(
    tag = "integrations", summary = "Your Gmail connection.",
    description = "Whether a mailbox is connected, which, when it was last synced and how many \
                   messages are kept. The token is never shown. After Google withdrew access, \
                   `connected` is false and `last_error` says so until you reconnect.",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The connection (all empty when none)", body = GmailStatus)),
)]
#[get("/integrations/gmail")]
pub async fn gmail_status(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let answer = auth
        .tx(&state.db, Access::Read, |conn, _| {
            store::status(conn).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(answer))
}

fn not_connected() -> ApiError {
    ApiError::new(
        ProblemKind::IntegrationDisconnected,
        "No Gmail mailbox is connected: connect one first",
    )
}

fn reconnect() -> ApiError {
    ApiError::new(
        ProblemKind::IntegrationDisconnected,
        "Google withdrew access to the mailbox: connect it again",
    )
}

/// Where a sync starts: the connection and its token, or why there is none to use.
enum Start {
    Sync {
        connected_at: DateTime<Utc>,
        refresh: Vec<u8>,
    },
    /// The plan went below Max: the connection was deleted, its token is revoked next.
    Downgraded(Option<Vec<u8>>),
}

/// `POST /v1/integrations/gmail/sync`
#[utoipa::path(
    tag = "integrations", summary = "Fetch the latest INBOX messages now.",
    description = "Reads the sender, subject, snippet and date of the latest 30 INBOX messages \
                   (never a body) and replaces the kept ones with them. If your plan is no \
                   longer Max, the connection is deleted with its messages (403). If Google \
                   withdrew access, the token and messages are deleted and the answer asks you \
                   to reconnect (409).",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Synced", body = GmailStatus),
        (status = 403, description = "Not the Max plan (`/problems/plan-required`), a read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "No mailbox is connected, or Google withdrew access: connect again (`/problems/integration-disconnected`); or this server has no Google client (`/problems/integration-not-configured`)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/integration-disconnected", "title": "The integration is not connected", "status": 409, "detail": "Google withdrew access to the mailbox: connect it again"})),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
        (status = 502, description = "Google failed (`/problems/integration-provider`); the kept messages stay", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/integration-provider", "title": "The integration's provider failed", "status": 502, "detail": "Gmail answered 500"})),
    ),
)]
#[post("/integrations/gmail/sync")]
pub async fn sync_gmail(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let google = google(&state.config)?;
    let keys = store::keys(&state.config)?;
    let (user, start) = auth
        .tx(&state.db, Access::Write, |conn, me| {
            async move {
                let Some(connection) = store::connection(conn).await? else {
                    return Err(not_connected());
                };
                if !Plan::of(conn, me.user_id).await?.limits().email {
                    store::remove(conn).await?;
                    return Ok((me.user_id, Start::Downgraded(connection.refresh_token)));
                }
                match connection.refresh_token {
                    Some(refresh) => Ok((
                        me.user_id,
                        Start::Sync {
                            connected_at: connection.connected_at,
                            refresh,
                        },
                    )),
                    None => Err(reconnect()),
                }
            }
            .scope_boxed()
        })
        .await?;
    let place = user.to_string();
    let (connected_at, sealed) = match start {
        Start::Sync {
            connected_at,
            refresh,
        } => (connected_at, refresh),
        Start::Downgraded(sealed) => {
            if let Some(token) = sealed.and_then(|s| keys.open(store::token_place(&place), &s).ok())
            {
                let _ = google.revoke(&String::from_utf8_lossy(&token)).await;
            }
            return Err(plan_required());
        }
    };
    let refresh = keys
        .open(store::token_place(&place), &sealed)
        .map_err(|e| {
            ApiError::internal(anyhow::anyhow!(
                "a Gmail refresh token does not open with MINIME_SECRET_KEYS: {e}"
            ))
        })?;
    let refresh = String::from_utf8(refresh)
        .map_err(|_| ApiError::internal(anyhow::anyhow!("a Gmail refresh token is not text")))?;
    let fetched = match google.refresh(&refresh).await {
        Ok(tokens) => google
            .latest(&tokens.access)
            .await
            .map(|messages| (messages, tokens.refresh)),
        Err(e) => Err(e),
    };
    let at = state.clock.now();
    match fetched {
        Ok((messages, fresh)) => {
            let fresh =
                fresh.map(|t| keys.seal(store::token_place(&place), t.expose_secret().as_bytes()));
            let status = auth
                .tx(&state.db, Access::Write, move |conn, me| {
                    async move {
                        if !store::replace(conn, me.user_id, connected_at, messages, fresh, at)
                            .await?
                        {
                            return Err(not_connected());
                        }
                        store::status(conn).await
                    }
                    .scope_boxed()
                })
                .await?;
            Ok(HttpResponse::Ok().json(status))
        }
        Err(GoogleError::Refused(why)) => {
            let note = format!("Google withdrew access ({why}): connect the mailbox again");
            auth.tx(&state.db, Access::Write, move |conn, _| {
                async move { store::refused(conn, connected_at, &note).await }.scope_boxed()
            })
            .await?;
            Err(reconnect())
        }
        Err(GoogleError::Upstream(why)) => {
            tracing::warn!(%why, "a Gmail sync failed");
            let note = why.clone();
            auth.tx(&state.db, Access::Write, move |conn, _| {
                async move { store::failed(conn, connected_at, &note).await }.scope_boxed()
            })
            .await?;
            Err(ApiError::new(ProblemKind::IntegrationProvider, why))
        }
    }
}

/// A kept message: headers and Gmail's snippet, never a body.
#[derive(Serialize, ToSchema, QueryableByName)]
#[schema(example = json!({
    "gmail_id": "18c2f0a4b7e9d123", "thread_id": "18c2f0a4b7e9d123",
    "sender": "Grace Hopper <grace@example.com>", "subject": "Lunch on Friday?",
    "snippet": "Shall we try the new place by the harbour?", "received_at": "2026-12-01T08:41:00Z"
}))]
pub struct EmailMessage {
    /// Gmail's id of the message.
    #[diesel(sql_type = Text)]
    pub gmail_id: String,
    #[diesel(sql_type = Text)]
    pub thread_id: String,
    /// The From header as sent.
    #[diesel(sql_type = Text)]
    pub sender: String,
    #[diesel(sql_type = Text)]
    pub subject: String,
    /// Gmail's short excerpt of the text.
    #[diesel(sql_type = Text)]
    pub snippet: String,
    #[diesel(sql_type = Timestamptz)]
    pub received_at: DateTime<Utc>,
}

/// `GET /v1/email/messages`
#[utoipa::path(
    tag = "integrations", summary = "The messages kept from your last Gmail sync.",
    description = "At most 30, newest first, in one page. Empty until a sync; refreshed only by \
                   `POST /v1/integrations/gmail/sync`.",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "The kept messages; `next_cursor` is always null", body = Page<EmailMessage>)),
)]
#[get("/email/messages")]
pub async fn list_gmail_messages(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let items: Vec<EmailMessage> = auth
        .tx(&state.db, Access::Read, |conn, _| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT gmail_id, thread_id, sender, subject, snippet, received_at \
                     FROM auth.gmail_messages ORDER BY received_at DESC, gmail_id DESC",
                )
                .load(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Disconnected {
    /// Whether Google confirmed the end of the grant. Our copy is deleted either way; when
    /// false, remove minime at <https://myaccount.google.com/permissions> too.
    pub revoked: bool,
}

/// `DELETE /v1/integrations/gmail`
#[utoipa::path(
    tag = "integrations", summary = "Disconnect Gmail.",
    description = "Revokes the grant at Google, then deletes the token and every kept message. \
                   If Google cannot be reached (or the grant was already gone) ours is deleted \
                   all the same and `revoked` is false.",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Disconnected", body = Disconnected, example = json!({"revoked": true})),
        (status = 403, description = "A read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No mailbox is connected", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/integrations/gmail")]
pub async fn disconnect_gmail(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let keys = store::keys(&state.config)?;
    let (user, connection) = auth
        .tx(&state.db, Access::Write, |conn, me| {
            async move { Ok((me.user_id, store::connection(conn).await?)) }.scope_boxed()
        })
        .await?;
    let connection = connection.ok_or_else(ApiError::not_found)?;
    let token = connection
        .refresh_token
        .and_then(|sealed| {
            keys.open(store::token_place(&user.to_string()), &sealed)
                .ok()
        })
        .and_then(|t| String::from_utf8(t).ok());
    // Without a Google client configured any more, the grant cannot be revoked from here.
    let revoked = match (token, super::google::Google::new(&state.config)) {
        (Some(token), Some(google)) => match google.revoke(&token).await {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(why = %e, "revoking a Gmail grant failed; deleting ours anyway");
                false
            }
        },
        _ => false,
    };
    auth.tx(&state.db, Access::Write, |conn, _| {
        async move { store::remove(conn).await.map(|_| ()) }.scope_boxed()
    })
    .await?;
    Ok(HttpResponse::Ok().json(Disconnected { revoked }))
}
