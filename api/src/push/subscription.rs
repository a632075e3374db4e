//! Subscriptions: one row per browser that asked for notifications, stored against the account
//! (`auth.push_subscriptions`, row-level security: each user reaches only their own). The
//! endpoint is an address a user gives us, so it is judged like every such address
//! (`outbound.rs`) before it is kept, and again before each push.

use std::time::Duration;

use actix_web::{delete, get, http::header, post, web::Path, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{BigInt, Bool, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::vapid::BASE64URL;
use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        state::State,
    },
    config::Config,
    db::pool::Conn,
    http::{
        json::Json,
        pagination::Page,
        problem::{ApiError, ApiResult, FieldError, Problem, ProblemKind},
    },
    outbound::{FetchError, Fetcher, Policy},
};
use base64::Engine;

/// Devices one account may subscribe; a new one beyond answers 409.
pub const MAX_PER_USER: i64 = 20;
const MAX_ENDPOINT_CHARS: usize = 2048;
/// How long judging an endpoint (resolving its host) may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// What requests to push services may do: the configured loopback switch (tests) is the only
/// way to reach a local address, and a redirect is never followed.
pub fn policy(config: &Config) -> Policy {
    Policy {
        allow_http: config.outbound_allow_loopback,
        allow_loopback: config.outbound_allow_loopback,
        max_redirects: 0,
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(15),
        max_body_bytes: 64 * 1024,
    }
}

/// The browser's `PushSubscription.toJSON()`.
#[derive(Deserialize, ToSchema)]
#[schema(example = json!({
    "endpoint": "https://fcm.googleapis.com/fcm/send/dpH5lCsTSSM:APA91bHqjZxM0VImWWqDRN7U0a3AycjUf4O-byuxb_wJsKRaKvV_iKw56s16ekq6FUqoCF7k2nqmZIffg6vf5Yn3HrmDtQf7lA5uDIRvH7S7aA0JtsN5nsO9zcL2",
    "expirationTime": null,
    "keys": {
        "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
        "auth": "BTBZMqHH6r4Tts7J_aSIgg"
    }
}))]
pub struct SubscribeRequest {
    /// The push service's URL for this browser: https, at most 2,048 characters, and its host
    /// must resolve to public addresses only.
    #[schema(max_length = 2048)]
    pub endpoint: String,
    /// When the browser will end the subscription (milliseconds since the epoch), if it says;
    /// not stored: a push to an ended subscription answers 404 or 410 and removes it.
    #[serde(rename = "expirationTime", default)]
    pub expiration_time: Option<f64>,
    pub keys: SubscribeKeys,
}

#[derive(Deserialize, ToSchema)]
pub struct SubscribeKeys {
    /// The browser's P-256 public key, uncompressed (65 bytes), in base64url.
    pub p256dh: String,
    /// The browser's 16-byte authentication secret, in base64url.
    pub auth: String,
}

/// A subscribed device, without what would let anyone push to it (the full endpoint and keys).
#[derive(Serialize, ToSchema)]
pub struct PushSubscription {
    pub id: Uuid,
    /// The push service this browser uses: its endpoint's origin.
    #[schema(example = "https://fcm.googleapis.com")]
    pub push_service: String,
    /// Named from the browser's User-Agent when it subscribed.
    #[schema(example = "Chrome on Linux")]
    pub device: String,
    pub created_at: DateTime<Utc>,
    /// When a notification last reached the push service.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Why the last delivery failed, until one succeeds.
    #[schema(example = "the push service answered 403 Forbidden")]
    pub last_error: Option<String>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    endpoint: String,
    #[diesel(sql_type = Text)]
    device: String,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_used_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

impl From<Row> for PushSubscription {
    fn from(row: Row) -> Self {
        let push_service = url::Url::parse(&row.endpoint)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        Self {
            id: row.id,
            push_service,
            device: row.device,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            last_error: row.last_error,
        }
    }
}

/// A subscription whose every field was checked.
struct Checked {
    endpoint: String,
    p256dh: Vec<u8>,
    auth: Vec<u8>,
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// Why the endpoint is not one we would send to, if it is not.
async fn endpoint_problem(endpoint: &str, policy: &Policy) -> Option<String> {
    if endpoint.chars().count() > MAX_ENDPOINT_CHARS {
        return Some(format!("must be at most {MAX_ENDPOINT_CHARS} characters"));
    }
    let url = match url::Url::parse(endpoint) {
        Ok(url) => url,
        Err(e) => return Some(format!("is not a URL: {e}")),
    };
    let fetcher = Fetcher::new(policy.clone());
    match tokio::time::timeout(CHECK_TIMEOUT, fetcher.checked_address(&url)).await {
        Err(_) => Some(format!(
            "{} did not resolve in time",
            url.host_str().unwrap_or("")
        )),
        Ok(Ok(_)) => None,
        Ok(Err(FetchError::Forbidden { host, addr, why })) => Some(format!(
            "{host} resolves to {addr}, which is {why}: push services are on the public internet"
        )),
        Ok(Err(FetchError::Url(why))) => Some(format!("is not an address we send to: {why}")),
        Ok(Err(e)) => Some(e.to_string()),
    }
}

/// Every problem of the request at once, or the subscription to keep.
async fn check(body: SubscribeRequest, policy: &Policy) -> ApiResult<Checked> {
    let mut errors = Vec::new();
    if let Some(problem) = endpoint_problem(&body.endpoint, policy).await {
        errors.push(field("endpoint", problem));
    }
    let p256dh = BASE64URL.decode(body.keys.p256dh.trim()).ok();
    let point_ok = p256dh
        .as_ref()
        .is_some_and(|k| k.len() == 65 && k[0] == 4 && p256::PublicKey::from_sec1_bytes(k).is_ok());
    if !point_ok {
        errors.push(field(
            "keys.p256dh",
            "must be an uncompressed P-256 public key (65 bytes) in base64url",
        ));
    }
    let auth = BASE64URL.decode(body.keys.auth.trim()).ok();
    if auth.as_ref().is_none_or(|a| a.len() != 16) {
        errors.push(field("keys.auth", "must be 16 bytes in base64url"));
    }
    match (errors.is_empty(), p256dh, auth) {
        (true, Some(p256dh), Some(auth)) => Ok(Checked {
            endpoint: body.endpoint,
            p256dh,
            auth,
        }),
        _ => Err(ApiError::validation(errors)),
    }
}

/// "Firefox on Android", from a User-Agent; rough on purpose: it only helps a person tell their
/// devices apart.
pub fn device_name(user_agent: &str) -> String {
    let has = |s: &str| user_agent.contains(s);
    let browser = if has("Edg/") || has("EdgA/") || has("EdgiOS/") {
        "Edge"
    } else if has("OPR/") || has("Opera") {
        "Opera"
    } else if has("SamsungBrowser/") {
        "Samsung Internet"
    } else if has("Firefox/") || has("FxiOS/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") || has("CriOS/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else {
        "A browser"
    };
    let system = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPad") || has("iPod") {
        "iOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("Windows") {
        "Windows"
    } else if has("Linux") || has("X11") {
        "Linux"
    } else {
        "an unknown system"
    };
    let name = format!("{browser} on {system}");
    name.chars().take(100).collect()
}

#[derive(QueryableByName)]
struct Known {
    #[diesel(sql_type = BigInt)]
    others: i64,
    #[diesel(sql_type = Bool)]
    known: bool,
}

/// Keeps the subscription, or renews the one with the same endpoint; whether it is new.
async fn keep(
    conn: &mut Conn,
    me: Principal,
    sub: Checked,
    device: String,
) -> ApiResult<(PushSubscription, bool)> {
    // A user's subscribes one at a time, so that two at once cannot pass the limit together.
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('push:' || $1::text))")
        .bind::<SqlUuid, _>(me.user_id)
        .execute(conn)
        .await?;
    let known: Known = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE endpoint <> $1) AS others, \
                coalesce(bool_or(endpoint = $1), false) AS known \
         FROM auth.push_subscriptions",
    )
    .bind::<Text, _>(&sub.endpoint)
    .get_result(conn)
    .await?;
    if !known.known && known.others >= MAX_PER_USER {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            format!("{MAX_PER_USER} devices are subscribed already; remove one first"),
        ));
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO auth.push_subscriptions (id, user_id, endpoint, p256dh, auth, device, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (user_id, endpoint) DO UPDATE \
           SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth, device = EXCLUDED.device, last_error = NULL \
         RETURNING id, endpoint, device, created_at, last_used_at, last_error",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(me.user_id)
    .bind::<Text, _>(sub.endpoint)
    .bind::<Bytea, _>(sub.p256dh)
    .bind::<Bytea, _>(sub.auth)
    .bind::<Text, _>(device)
    .bind::<Timestamptz, _>(me.at)
    .get_result(conn)
    .await?;
    Ok((row.into(), !known.known))
}

/// `POST /v1/push/subscriptions`
#[utoipa::path(
    tag = "push", summary = "Subscribe this browser to notifications.",
    description = "Send the browser's `PushSubscription.toJSON()` as it is. The endpoint must be an \
                   https URL whose host resolves to public addresses; the keys are checked to be a \
                   P-256 point and a 16-byte secret. Subscribing an endpoint you have already \
                   subscribed renews its keys (200). The device is named from the User-Agent. At \
                   most 20 devices per account.",
    request_body = SubscribeRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "Subscribed", body = PushSubscription),
        (status = 200, description = "Already subscribed: keys renewed", body = PushSubscription),
        (status = 403, description = "A read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "20 devices are subscribed already (`/problems/conflict`)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/conflict", "title": "The request conflicts with the current state", "status": 409, "detail": "20 devices are subscribed already; remove one first"})),
        (status = 422, description = "An endpoint we would not send to, or keys that are not keys (`/problems/validation`)", body = Problem, content_type = "application/problem+json",
         example = json!({"type": "/problems/validation", "title": "The request has invalid fields", "status": 422, "detail": "endpoint: is not an address we send to: the scheme http: is not allowed",
                          "errors": [{"field": "endpoint", "message": "is not an address we send to: the scheme http: is not allowed"}]})),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/push/subscriptions")]
pub async fn subscribe(
    state: State,
    auth: Auth,
    req: HttpRequest,
    body: Json<SubscribeRequest>,
) -> ApiResult<HttpResponse> {
    let device = device_name(
        req.headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    // Resolved before the transaction opens: a slow name server must not hold a connection.
    let checked = check(body.0, &policy(&state.config)).await?;
    let (sub, created) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            keep(conn, me, checked, device).scope_boxed()
        })
        .await?;
    let mut response = if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(response
        .insert_header((
            header::LOCATION,
            format!("/v1/push/subscriptions/{}", sub.id),
        ))
        .json(sub))
}

/// `GET /v1/push/subscriptions`
#[utoipa::path(
    tag = "push", summary = "List your subscribed devices.",
    description = "Every device subscribed to your notifications, newest first, in one page (there \
                   are at most 20): its push service, name, when it last got a notification and why \
                   the last one failed. Endpoints and keys are never shown.",
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "Your devices; `next_cursor` is always null", body = Page<PushSubscription>)),
)]
#[get("/push/subscriptions")]
pub async fn list(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    let items: Vec<PushSubscription> = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let rows: Vec<Row> = diesel::sql_query(
                    "SELECT id, endpoint, device, created_at, last_used_at, last_error \
                     FROM auth.push_subscriptions ORDER BY created_at DESC, id DESC",
                )
                .load(conn)
                .await?;
                Ok(rows.into_iter().map(PushSubscription::from).collect())
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// `DELETE /v1/push/subscriptions/{id}`
#[utoipa::path(
    tag = "push", summary = "Unsubscribe a device.",
    description = "The device gets no more notifications from this account. Call \
                   `PushSubscription.unsubscribe()` in the browser too.",
    params(("id" = Uuid, Path, description = "Subscription id")),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Unsubscribed"),
        (status = 403, description = "A read-only token, or a cookie request without X-CSRF-Token", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such subscription of yours", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many writes (`/problems/rate-limited`); retry after `Retry-After`", body = Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/push/subscriptions/{id}")]
pub async fn unsubscribe(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            if remove(conn, id).await? {
                Ok(())
            } else {
                Err(ApiError::not_found())
            }
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Removes one of the acting user's subscriptions; whether there was one.
pub async fn remove(conn: &mut Conn, id: Uuid) -> ApiResult<bool> {
    let n = diesel::sql_query("DELETE FROM auth.push_subscriptions WHERE id = $1")
        .bind::<SqlUuid, _>(id)
        .execute(conn)
        .await?;
    Ok(n > 0)
}

/// Where a push goes and how it is encrypted.
#[derive(QueryableByName)]
pub struct Target {
    #[diesel(sql_type = Text)]
    pub endpoint: String,
    #[diesel(sql_type = Bytea)]
    pub p256dh: Vec<u8>,
    #[diesel(sql_type = Bytea)]
    pub auth: Vec<u8>,
}

/// One of the acting user's subscriptions, to push to.
pub async fn target(conn: &mut Conn, id: Uuid) -> ApiResult<Option<Target>> {
    Ok(diesel::sql_query(
        "SELECT endpoint, p256dh, auth FROM auth.push_subscriptions WHERE id = $1",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await?
    .into_iter()
    .next())
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The acting user's subscriptions.
pub async fn ids(conn: &mut Conn) -> ApiResult<Vec<Uuid>> {
    let rows: Vec<Id> =
        diesel::sql_query("SELECT id FROM auth.push_subscriptions ORDER BY created_at, id")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// Records how a delivery went: `Ok` at `at` (the error cleared), or the error.
pub async fn record(
    conn: &mut Conn,
    id: Uuid,
    outcome: Result<DateTime<Utc>, String>,
) -> ApiResult<()> {
    match outcome {
        Ok(at) => diesel::sql_query(
            "UPDATE auth.push_subscriptions SET last_used_at = $2, last_error = NULL WHERE id = $1",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(at)
        .execute(conn)
        .await?,
        Err(error) => {
            diesel::sql_query("UPDATE auth.push_subscriptions SET last_error = $2 WHERE id = $1")
                .bind::<SqlUuid, _>(id)
                .bind::<Text, _>(error.chars().take(500).collect::<String>())
                .execute(conn)
                .await?
        }
    };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_named_from_their_user_agent() {
        for (ua, name) in [
            ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36", "Chrome on Linux"),
            ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0", "Edge on Windows"),
            ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15", "Safari on macOS"),
            ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "Safari on iOS"),
            ("Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0", "Firefox on Android"),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "Firefox on Linux"),
            ("curl/8.5.0", "A browser on an unknown system"),
            ("", "A browser on an unknown system"),
        ] {
            assert_eq!(device_name(ua), name, "{ua}");
        }
    }
}
