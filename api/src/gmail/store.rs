//! The rows of the integration (`auth.gmail_*`, row-level security: each user reaches only
//! their own) and the sealing of its secrets.

use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Array, BigInt, Bool, Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::google::Message;
use crate::{
    config::Config,
    db::pool::Conn,
    http::problem::{ApiError, ApiResult},
    secrets::{KeyRing, Place},
};

pub const ACCOUNTS: &str = "auth.gmail_accounts";
pub const STATES: &str = "auth.gmail_oauth_states";

/// Where a user's refresh token lives: bound into its ciphertext.
pub fn token_place(user: &str) -> Place<'_> {
    Place {
        table: ACCOUNTS,
        column: "refresh_token",
        row: user,
    }
}

/// Where a consent's PKCE verifier lives (the state's hash in hex).
pub fn verifier_place(state_hash_hex: &str) -> Place<'_> {
    Place {
        table: STATES,
        column: "verifier",
        row: state_hash_hex,
    }
}

pub fn keys(config: &Config) -> ApiResult<&KeyRing> {
    config
        .secret_keys
        .as_deref()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("no MINIME_SECRET_KEYS to seal with")))
}

/// The integration as the user sees it; never the token.
#[derive(Serialize, ToSchema, QueryableByName, Default)]
#[schema(example = json!({
    "connected": true, "address": "ada@gmail.com", "connected_at": "2026-12-01T09:00:00Z",
    "last_sync_at": "2026-12-01T09:05:00Z", "message_count": 30, "last_error": null
}))]
pub struct GmailStatus {
    /// Whether a mailbox is connected and its grant still holds.
    #[diesel(sql_type = Bool)]
    pub connected: bool,
    /// The connected mailbox (kept after Google withdrew access, until you disconnect).
    #[diesel(sql_type = Nullable<Text>)]
    pub address: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub connected_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Messages kept from the last sync.
    #[diesel(sql_type = BigInt)]
    #[schema(example = 30)]
    pub message_count: i64,
    /// Why the last sync failed, until one succeeds.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
}

pub async fn status(conn: &mut Conn) -> ApiResult<GmailStatus> {
    let rows: Vec<GmailStatus> = diesel::sql_query(
        "SELECT a.refresh_token IS NOT NULL AS connected, a.address, a.connected_at, \
                a.last_sync_at, a.last_error, \
                (SELECT count(*) FROM auth.gmail_messages) AS message_count \
         FROM auth.gmail_accounts a",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// A consent under way: its state's hash and the sealed verifier, for 10 minutes.
pub async fn keep_state(
    conn: &mut Conn,
    user: Uuid,
    state_hash: &[u8],
    sealed_verifier: Vec<u8>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::sql_query(
        "INSERT INTO auth.gmail_oauth_states (state_hash, user_id, verifier, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $4 + interval '10 minutes')",
    )
    .bind::<Bytea, _>(state_hash)
    .bind::<SqlUuid, _>(user)
    .bind::<Bytea, _>(sealed_verifier)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
pub struct TakenState {
    #[diesel(sql_type = SqlUuid)]
    pub user_id: Uuid,
    #[diesel(sql_type = Bytea)]
    pub verifier: Vec<u8>,
}

/// Uses a live state once: its user and sealed verifier, or `None` when unknown, used or
/// expired at `at`.
pub async fn take_state(
    conn: &mut Conn,
    state_hash: &[u8],
    at: DateTime<Utc>,
) -> ApiResult<Option<TakenState>> {
    Ok(
        diesel::sql_query("SELECT user_id, verifier FROM auth.gmail_take_state($1, $2)")
            .bind::<Bytea, _>(state_hash)
            .bind::<Timestamptz, _>(at)
            .load(conn)
            .await?
            .into_iter()
            .next(),
    )
}

/// Connects (or reconnects) the acting user's mailbox; messages of an earlier connection go.
pub async fn connect(
    conn: &mut Conn,
    user: Uuid,
    address: &str,
    sealed_token: Vec<u8>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    diesel::sql_query(
        "INSERT INTO auth.gmail_accounts (user_id, address, refresh_token, connected_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (user_id) DO UPDATE SET address = EXCLUDED.address, \
           refresh_token = EXCLUDED.refresh_token, connected_at = EXCLUDED.connected_at, \
           last_sync_at = NULL, last_error = NULL",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Text, _>(address.chars().take(320).collect::<String>())
    .bind::<Bytea, _>(sealed_token)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM auth.gmail_messages")
        .execute(conn)
        .await?;
    Ok(())
}

/// The connection a sync starts from: when it was made and its sealed token.
#[derive(QueryableByName)]
pub struct Connection {
    #[diesel(sql_type = Timestamptz)]
    pub connected_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub refresh_token: Option<Vec<u8>>,
}

pub async fn connection(conn: &mut Conn) -> ApiResult<Option<Connection>> {
    Ok(
        diesel::sql_query("SELECT connected_at, refresh_token FROM auth.gmail_accounts")
            .load(conn)
            .await?
            .into_iter()
            .next(),
    )
}

/// Replaces the kept messages with `messages`, if the connection a sync started from is still
/// the one there (a disconnect or reconnect meanwhile wins); whether it was.
pub async fn replace(
    conn: &mut Conn,
    user: Uuid,
    connected_at: DateTime<Utc>,
    messages: Vec<Message>,
    fresh_token: Option<Vec<u8>>,
    at: DateTime<Utc>,
) -> ApiResult<bool> {
    let n = diesel::sql_query(
        "UPDATE auth.gmail_accounts SET last_sync_at = $2, last_error = NULL, \
           refresh_token = coalesce($3, refresh_token) \
         WHERE connected_at = $1 AND refresh_token IS NOT NULL",
    )
    .bind::<Timestamptz, _>(connected_at)
    .bind::<Timestamptz, _>(at)
    .bind::<Nullable<Bytea>, _>(fresh_token)
    .execute(conn)
    .await?;
    if n == 0 {
        return Ok(false);
    }
    diesel::sql_query("DELETE FROM auth.gmail_messages")
        .execute(conn)
        .await?;
    let mut columns: [Vec<String>; 5] = Default::default();
    let mut received = Vec::with_capacity(messages.len());
    for m in messages {
        let [ids, threads, senders, subjects, snippets] = &mut columns;
        ids.push(m.gmail_id);
        threads.push(m.thread_id);
        senders.push(m.sender);
        subjects.push(m.subject);
        snippets.push(m.snippet);
        received.push(m.received_at);
    }
    let [ids, threads, senders, subjects, snippets] = columns;
    diesel::sql_query(
        "INSERT INTO auth.gmail_messages \
           (user_id, gmail_id, thread_id, sender, subject, snippet, received_at) \
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
                                  $7::timestamptz[]) \
         ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(user)
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<Text>, _>(threads)
    .bind::<Array<Text>, _>(senders)
    .bind::<Array<Text>, _>(subjects)
    .bind::<Array<Text>, _>(snippets)
    .bind::<Array<Timestamptz>, _>(received)
    .execute(conn)
    .await?;
    Ok(true)
}

/// Google refused the grant: the token and the messages go, the row says why.
pub async fn refused(conn: &mut Conn, connected_at: DateTime<Utc>, why: &str) -> ApiResult<()> {
    diesel::sql_query(
        "UPDATE auth.gmail_accounts SET refresh_token = NULL, last_error = $2 \
         WHERE connected_at = $1",
    )
    .bind::<Timestamptz, _>(connected_at)
    .bind::<Text, _>(why.chars().take(500).collect::<String>())
    .execute(conn)
    .await?;
    diesel::sql_query("DELETE FROM auth.gmail_messages")
        .execute(conn)
        .await?;
    Ok(())
}

/// A sync failed for a reason Google's side owns; the kept messages stay.
pub async fn failed(conn: &mut Conn, connected_at: DateTime<Utc>, why: &str) -> ApiResult<()> {
    diesel::sql_query("UPDATE auth.gmail_accounts SET last_error = $2 WHERE connected_at = $1")
        .bind::<Timestamptz, _>(connected_at)
        .bind::<Text, _>(why.chars().take(500).collect::<String>())
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes the connection, its token and (by cascade) every kept message; whether there was one.
pub async fn remove(conn: &mut Conn) -> ApiResult<bool> {
    let n = diesel::sql_query("DELETE FROM auth.gmail_accounts")
        .execute(conn)
        .await?;
    Ok(n > 0)
}

#[derive(QueryableByName)]
struct Sealed {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Bytea)]
    sealed: Vec<u8>,
}

#[derive(QueryableByName)]
struct Swapped {
    #[diesel(sql_type = Bool)]
    done: bool,
}

/// Every refresh token and pending verifier sealed under the ring's sealing key (`minime secrets
/// rotate`); how many were sealed anew. Each is swapped only if unchanged since it was read.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    let all: Vec<Sealed> = diesel::sql_query("SELECT kind, key, sealed FROM auth.gmail_sealed()")
        .load(conn)
        .await?;
    let mut resealed = 0;
    for secret in all {
        let place = match secret.kind.as_str() {
            "refresh_token" => token_place(&secret.key),
            _ => verifier_place(&secret.key),
        };
        let fresh = keys.reseal(place, &secret.sealed).map_err(|e| {
            ApiError::internal(anyhow::anyhow!("{} {}: {e}", secret.kind, secret.key))
        })?;
        let Some(fresh) = fresh else { continue };
        let swapped: Swapped =
            diesel::sql_query("SELECT auth.gmail_reseal($1, $2, $3, $4) AS done")
                .bind::<Text, _>(&secret.kind)
                .bind::<Text, _>(&secret.key)
                .bind::<Bytea, _>(&secret.sealed)
                .bind::<Bytea, _>(fresh)
                .get_result(conn)
                .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}
