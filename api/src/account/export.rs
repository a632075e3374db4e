//! `GET /v1/account/export`: every row of the caller's, as one JSON document streamed from
//! database cursors in a single snapshot, so memory stays flat whatever the account's size.
//!
//! Shape: `{"manifest": {...}, "sections": {"profile": [...], "tasks": [...], ...},
//! "file_contents": [{"id", "sha256", "content_base64"}, ...], "complete": true}`; a file
//! whose object is gone from the store has `"content_base64": null, "missing": true`.
//! The manifest (format version, time, counts per section, what is left out and why) comes
//! first; `complete` comes last, so a cut-off download is recognisable.

use std::{
    sync::{Arc, LazyLock, Mutex},
    time::Duration,
};

use actix_web::{get, http::header, web::Bytes, HttpResponse};
use diesel::{
    sql_types::{BigInt, Text},
    QueryableByName,
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        files::FileStore,
        state::State,
    },
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, ProblemKind},
};

pub const FORMAT_VERSION: u32 = 1;
/// Rows per round trip to the database.
const BATCH: usize = 1_000;
/// Bytes handed to the client at a time; with the channel's two slots, what an export holds in
/// memory stays near a megabyte whatever its rows hold.
const CHUNK_BYTES: usize = 256 * 1024;

/// Workspace tables: every row of a workspace the caller owns, and every row they wrote in
/// shared ones.
const WORKSPACE_TABLES: &[(&str, &str)] = &[
    ("areas", "life_areas"),
    ("goals", "goals"),
    ("milestones", "milestones"),
    ("projects", "projects"),
    ("tasks", "tasks"),
    ("routines", "routines"),
    ("routine_completions", "routine_completions"),
    ("captures", "capture_items"),
    ("reviews", "reviews"),
    ("decisions", "decisions"),
    ("decision_options", "decision_options"),
    ("rules", "automation_rules"),
    ("rule_runs", "rule_runs"),
    ("focus_sessions", "focus_sessions"),
    ("day_plans", "day_plans"),
    ("day_plan_items", "day_plan_items"),
    ("ai_previews", "ai_previews"),
    ("clients", "clients"),
    ("business_jobs", "business_jobs"),
    ("invoices", "invoices"),
    ("invoice_payments", "invoice_payments"),
    ("credit_notes", "credit_notes"),
    // Each PDF as generated; `content` is its bytes in hex, `sha256` their digest.
    ("business_documents", "business_documents"),
    ("stripe_events", "stripe_events"),
    ("quotes", "quotes"),
    ("document_emails", "document_emails"),
    ("recurring_invoices", "recurring_invoices"),
    ("recurring_invoice_runs", "recurring_invoice_runs"),
    // The image's bytes in hex.
    ("business_logos", "business_logos"),
    ("expenses", "expenses"),
    ("vat_settings", "vat_settings"),
    ("bank_csv_mappings", "bank_csv_mappings"),
    ("bank_statements", "bank_statements"),
    ("bank_transactions", "bank_transactions"),
    // Questions to the business assistant, its answers and what each sent where.
    ("assistant_conversations", "assistant_conversations"),
    ("assistant_messages", "assistant_messages"),
];

/// Rows tied to a user that an export leaves out, and why. The export test fails for a table
/// holding user rows that is neither exported nor listed here.
pub const NOT_EXPORTED: &[(&str, &str)] = &[
    (
        "auth.refresh_tokens",
        "hashes of single-use secrets; the sessions they belong to are exported",
    ),
    (
        "auth.email_tokens",
        "hashes of single-use verification and reset links",
    ),
    (
        "auth.signin_failures",
        "failed sign-in counters, keyed by a hash of the address",
    ),
    (
        "ops.idempotency_keys",
        "a 24-hour cache of responses you already received",
    ),
    ("ops.rate_limits", "request counters"),
    (
        "auth.gmail_oauth_states",
        "a Gmail consent under way (10 minutes): a hash and a sealed one-time verifier",
    ),
    (
        "ops.jobs",
        "background work queued to act for you; what it changes is in the rows exported",
    ),
    (
        "auth.recovery_codes",
        "hashes of single-use recovery codes; how many are left is in the factors section",
    ),
    (
        "auth.pending_steps",
        "a sign-in or passkey ceremony under way (5 minutes): a hash and the server's half of the challenge",
    ),
];

pub struct Section {
    pub name: &'static str,
    /// One JSON object per row, as text, in a stable order.
    pub sql: String,
}

fn mine(table: &str) -> String {
    format!(
        "SELECT to_jsonb(t)::text AS row FROM app.{table} t \
         WHERE t.workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) \
            OR t.created_by = app.current_user_id() \
         ORDER BY t.created_at, t.id"
    )
}

pub static SECTIONS: LazyLock<Vec<Section>> = LazyLock::new(|| {
    let me = "app.current_user_id()";
    let mut out = vec![
        Section {
            name: "profile",
            sql: format!("SELECT (to_jsonb(u) - 'password_hash')::text AS row FROM auth.users u WHERE u.id = {me}"),
        },
        Section {
            name: "admin_role",
            sql: format!("SELECT to_jsonb(a)::text AS row FROM auth.admins a WHERE a.user_id = {me}"),
        },
        Section {
            name: "sessions",
            sql: format!("SELECT to_jsonb(s)::text AS row FROM auth.sessions s WHERE s.user_id = {me} ORDER BY s.created_at, s.id"),
        },
        Section {
            name: "access_tokens",
            sql: format!("SELECT (to_jsonb(p) - 'token_hash')::text AS row FROM auth.personal_access_tokens p WHERE p.user_id = {me} ORDER BY p.created_at, p.id"),
        },
        Section {
            name: "totp_factor",
            // The secret is left out: it would let anyone make your codes.
            sql: format!("SELECT (to_jsonb(t) - 'secret' - 'last_step')::text AS row FROM auth.totp_factors t WHERE t.user_id = {me}"),
        },
        Section {
            name: "recovery_codes",
            sql: format!("SELECT jsonb_build_object('created_at', min(r.created_at), 'total', count(*), 'left', count(*) FILTER (WHERE r.used_at IS NULL), 'used_at', coalesce(jsonb_agg(r.used_at ORDER BY r.used_at) FILTER (WHERE r.used_at IS NOT NULL), '[]'))::text AS row FROM auth.recovery_codes r WHERE r.user_id = {me} HAVING count(*) > 0"),
        },
        Section {
            name: "passkeys",
            // The public key and counter are what the server checks a passkey with, not about
            // you; the credential id is kept so a passkey can be matched to an authenticator.
            sql: format!("SELECT (to_jsonb(p) - 'credential' || jsonb_build_object('credential_id', encode(p.credential_id, 'base64')))::text AS row FROM auth.passkeys p WHERE p.user_id = {me} ORDER BY p.created_at, p.id"),
        },
        Section {
            name: "push_subscriptions",
            // The auth secret is left out: with the endpoint it would let anyone encrypt to the device.
            sql: format!("SELECT (to_jsonb(p) - 'auth')::text AS row FROM auth.push_subscriptions p WHERE p.user_id = {me} ORDER BY p.created_at, p.id"),
        },
        Section {
            name: "calendar_connection",
            // The URL is left out: it is a capability to the calendar, kept sealed.
            sql: format!("SELECT (to_jsonb(c) - 'url')::text AS row FROM auth.calendar_connections c WHERE c.user_id = {me}"),
        },
        Section {
            name: "calendar_events",
            sql: format!("SELECT to_jsonb(e)::text AS row FROM auth.calendar_events e WHERE e.user_id = {me} ORDER BY e.position"),
        },
        Section {
            name: "gmail_account",
            // The refresh token is a credential to the mailbox, not data about you: whether it
            // is held is.
            sql: format!("SELECT ((to_jsonb(g) - 'refresh_token') || jsonb_build_object('connected', g.refresh_token IS NOT NULL))::text AS row FROM auth.gmail_accounts g WHERE g.user_id = {me}"),
        },
        Section {
            name: "gmail_messages",
            sql: format!("SELECT to_jsonb(m)::text AS row FROM auth.gmail_messages m WHERE m.user_id = {me} ORDER BY m.received_at DESC, m.gmail_id"),
        },
        Section {
            name: "settings",
            sql: format!("SELECT to_jsonb(s)::text AS row FROM app.rule_settings s WHERE s.user_id = {me}"),
        },
        Section {
            name: "onboarding",
            sql: format!("SELECT to_jsonb(o)::text AS row FROM app.onboarding_answers o WHERE o.user_id = {me}"),
        },
        Section {
            name: "workspaces",
            sql: "SELECT to_jsonb(w)::text AS row FROM app.workspaces w \
                  WHERE w.id = ANY ((SELECT app.member_workspace_ids())::uuid[]) ORDER BY w.created_at, w.id"
                .into(),
        },
        Section {
            name: "workspace_members",
            sql: format!("SELECT to_jsonb(m)::text AS row FROM app.workspace_members m \
                  WHERE m.workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) OR m.user_id = {me} \
                  ORDER BY m.created_at, m.workspace_id, m.user_id"),
        },
        Section {
            name: "workspace_invites",
            sql: format!("SELECT (to_jsonb(i) - 'token_hash')::text AS row FROM app.workspace_invites i \
                  WHERE i.workspace_id = ANY ((SELECT app.owned_workspace_ids())::uuid[]) \
                     OR i.created_by = {me} OR i.accepted_by = {me} ORDER BY i.created_at, i.id"),
        },
    ];
    out.extend(WORKSPACE_TABLES.iter().map(|(name, table)| Section {
        name,
        sql: mine(table),
    }));
    out.push(Section {
        name: "business_profiles",
        // The sealed bank details are left out; their masked forms stay.
        sql: mine("business_profiles").replace("to_jsonb(t)", "(to_jsonb(t) - 'bank_details')"),
    });
    out.push(Section {
        name: "stripe_accounts",
        // The sealed key and signing secrets are left out; the key's hint stays.
        sql: mine("stripe_accounts").replace(
            "to_jsonb(t)",
            "(to_jsonb(t) - 'api_key' - 'webhook_secret' - 'previous_webhook_secret')",
        ),
    });
    out.push(Section {
        name: "files",
        // The store's key is the server's own name for the object; the bytes follow the
        // sections, in `file_contents`.
        sql: mine("files").replace("to_jsonb(t)", "(to_jsonb(t) - 'store_key')"),
    });
    out.push(Section {
        name: "mail",
        // Bodies are left out: a mail still waiting may carry a live single-use link.
        sql: "SELECT m::text AS row FROM ops.my_mail() m".into(),
    });
    out
});

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    row: String,
}

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Where rows go, and how long a client may leave them unread.
struct Chunks {
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    idle: Duration,
}

async fn send(out: &Chunks, bytes: Vec<u8>) -> ApiResult<()> {
    match tokio::time::timeout(out.idle, out.tx.send(Ok(Bytes::from(bytes)))).await {
        Ok(Ok(())) => Ok(()),
        // The client went away: end the transaction.
        Ok(Err(_)) => Err(ApiError::new(
            ProblemKind::BadRequest,
            "client disconnected",
        )),
        // A client that stops reading must not hold a connection and a snapshot for long.
        Err(_) => Err(ApiError::new(
            ProblemKind::BadRequest,
            "client stopped reading",
        )),
    }
}

/// Seconds a refused export should wait before asking again.
const RETRY_AFTER_SECS: u64 = 30;

/// Rows per section, in the export's snapshot.
pub async fn count(conn: &mut Conn) -> ApiResult<serde_json::Map<String, serde_json::Value>> {
    let mut counts = serde_json::Map::new();
    for s in SECTIONS.iter() {
        let c: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM ({}) x", s.sql))
            .get_result(conn)
            .await?;
        counts.insert(s.name.into(), c.n.into());
    }
    Ok(counts)
}

async fn stream(
    conn: &mut Conn,
    me: Principal,
    store: &FileStore,
    out: Chunks,
    ready: oneshot::Sender<ApiResult<()>>,
) -> ApiResult<()> {
    let user_id = me.user_id;
    let counts = match begin(conn, user_id, out.idle).await? {
        Begun::Counted(counts) => counts,
        Begun::Busy(problem) => {
            let _ = ready.send(Err(problem));
            return Ok(());
        }
        Begun::Failed(e) => {
            let _ = ready.send(Err(e));
            return Err(ApiError::internal(anyhow::anyhow!(
                "export failed before it began"
            )));
        }
    };
    let _ = ready.send(Ok(()));
    let manifest = json!({
        "format": "minime-export",
        "format_version": FORMAT_VERSION,
        "exported_at": me.at,
        "user_id": user_id,
        "counts": counts,
        "not_included": NOT_EXPORTED.iter().map(|(t, why)| (t.to_string(), json!(why))).collect::<serde_json::Map<_, _>>(),
    });
    let mut head = b"{\"manifest\":".to_vec();
    head.extend(serde_json::to_vec(&manifest).map_err(ApiError::internal)?);
    head.extend(b",\"sections\":{");
    send(&out, head).await?;
    for (n, s) in SECTIONS.iter().enumerate() {
        stream_section(conn, &out, n, s).await?;
    }
    send(&out, b"},\"file_contents\":[".to_vec()).await?;
    stream_files(conn, &out, store).await?;
    send(&out, b"],\"complete\":true}".to_vec()).await
}

#[derive(QueryableByName)]
struct StoredFile {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    store_key: String,
    #[diesel(sql_type = Text)]
    sha256: String,
}

/// The bytes of every exported file, one at a time, base64 in the JSON (so the archive stays one
/// document that any JSON reader opens), each with the SHA-256 the `files` section lists.
async fn stream_files(conn: &mut Conn, out: &Chunks, store: &FileStore) -> ApiResult<()> {
    use base64::Engine;
    let files: Vec<StoredFile> = diesel::sql_query(mine("files").replace(
        "to_jsonb(t)::text AS row",
        "t.id, t.store_key, encode(t.sha256, 'hex') AS sha256",
    ))
    .load(conn)
    .await?;
    for (n, file) in files.iter().enumerate() {
        let bytes = store
            .get(&file.store_key)
            .await
            .map_err(ApiError::internal)?;
        let mut chunk = Vec::with_capacity(bytes.as_ref().map_or(0, Vec::len) * 4 / 3 + 200);
        if n > 0 {
            chunk.push(b',');
        }
        chunk
            .extend(format!("{{\"id\":\"{}\",\"sha256\":\"{}\",", file.id, file.sha256).as_bytes());
        match bytes {
            Some(bytes) => {
                chunk.extend(b"\"content_base64\":\"");
                chunk.extend(
                    base64::engine::general_purpose::STANDARD
                        .encode(&bytes)
                        .as_bytes(),
                );
                chunk.extend(b"\"}");
            }
            // An object lost from the store is said to be lost, not passed off as empty.
            None => chunk.extend(b"\"content_base64\":null,\"missing\":true}"),
        }
        send(out, chunk).await?;
    }
    Ok(())
}

/// How an export's transaction began, before anything is streamed.
enum Begun {
    /// The account's lock is held and the rows are counted.
    Counted(serde_json::Map<String, serde_json::Value>),
    /// Another export of the account is running.
    Busy(ApiError),
    Failed(ApiError),
}

async fn begin(conn: &mut Conn, user_id: uuid::Uuid, idle: Duration) -> ApiResult<Begun> {
    // One export per account at a time, across every instance: the lock ends with the
    // transaction, however it ends.
    let locked: Locked = match diesel::sql_query(
        "SELECT pg_try_advisory_xact_lock(1701869940, hashtext($1)) AS locked",
    )
    .bind::<Text, _>(user_id.to_string())
    .get_result(conn)
    .await
    {
        Ok(l) => l,
        Err(e) => return Ok(Begun::Failed(e.into())),
    };
    if !locked.locked {
        return Ok(Begun::Busy(ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..ApiError::new(
                ProblemKind::Conflict,
                "An export of this account is already running; wait for it to finish",
            )
        }));
    }
    // A slow download keeps this transaction open between batches, but never idle for longer
    // than a client may leave a batch unread.
    let idle_ms = idle.as_millis() + 5_000;
    conn.batch_execute(&format!(
        "SET LOCAL idle_in_transaction_session_timeout = '{idle_ms}ms'; SET LOCAL statement_timeout = '120s'",
    ))
    .await?;
    Ok(match count(conn).await {
        Ok(counts) => Begun::Counted(counts),
        Err(e) => Begun::Failed(e),
    })
}

/// One section's rows as a JSON array, read through a cursor in batches and sent in chunks.
async fn stream_section(conn: &mut Conn, out: &Chunks, n: usize, s: &Section) -> ApiResult<()> {
    let mut chunk = Vec::with_capacity(64 * 1024);
    if n > 0 {
        chunk.push(b',');
    }
    chunk.extend(format!("\"{}\":[", s.name).as_bytes());
    conn.batch_execute(&format!(
        "DECLARE export_rows NO SCROLL CURSOR FOR {}",
        s.sql
    ))
    .await?;
    let mut first = true;
    loop {
        let rows: Vec<Line> = diesel::sql_query(format!("FETCH {BATCH} FROM export_rows"))
            .load(conn)
            .await?;
        for line in &rows {
            if !first {
                chunk.push(b',');
            }
            first = false;
            chunk.extend(line.row.as_bytes());
            // Bounded by bytes, not rows: a batch of long notes must not sit in memory whole.
            if chunk.len() >= CHUNK_BYTES {
                send(out, std::mem::take(&mut chunk)).await?;
            }
        }
        if rows.len() < BATCH {
            break;
        }
    }
    conn.batch_execute("CLOSE export_rows").await?;
    chunk.push(b']');
    send(out, chunk).await
}

/// Download my data: a JSON archive of every workspace entity attached to your account (every
/// row of the workspaces you own and every row you wrote in shared ones), your profile, sessions,
/// access tokens (without secrets), settings, onboarding answers, memberships, invitations and
/// mail sent to you (without bodies). Streamed in one database snapshot; `manifest.counts` says how
/// many rows each section holds and the document ends with `"complete": true`.
#[utoipa::path(
    tag = "account",
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The archive (streamed)", content_type = "application/json", body = Object),
        (status = 403, description = "Access tokens cannot download the account; sign in. With a second factor enrolled, a recent one is needed (`/problems/reauthentication-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "An export of this account is already running (`Retry-After` says when to ask again)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The server is busy with other exports (`Retry-After`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/account/export")]
pub async fn export(state: State, auth: Auth) -> ApiResult<HttpResponse> {
    // Exports hold a connection for as long as they stream: a few at a time leave the pool
    // to everyone else.
    let permit = state
        .exports
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError {
            retry_after: Some(RETRY_AFTER_SECS),
            ..ApiError::new(
                ProblemKind::Unavailable,
                "The server is busy with other exports; try again shortly",
            )
        })?;
    let (tx, rx) = mpsc::channel(2);
    let out = Chunks {
        tx,
        idle: state.config.exports.idle_timeout,
    };
    let (ready, started) = oneshot::channel();
    let ready = Arc::new(Mutex::new(Some(ready)));
    let db = state.db.clone();
    let store = state.files.clone();
    let pending = ready.clone();
    let task =
        actix_web::rt::spawn(async move {
            let _permit = permit;
            let result =
                auth
                    // An account action: sessions only, so a leaked access token cannot take everything.
                    .snapshot_tx(&db, Access::Account, move |conn, me| {
                        async move {
                            crate::common::assurance::require_recent_strong(conn, &me).await?;
                            let ready = pending.lock().ok().and_then(|mut r| r.take()).ok_or_else(
                                || ApiError::internal(anyhow::anyhow!("export started twice")),
                            )?;
                            stream(conn, me, &store, out, ready).await
                        }
                        .scope_boxed()
                    })
                    .await;
            if let Err(e) = result {
                match ready.lock().ok().and_then(|mut r| r.take()) {
                    Some(r) => {
                        let _ = r.send(Err(e));
                    }
                    // Headers are gone: the body stops short of `"complete": true`.
                    None => tracing::warn!(error = %e, "export cut short"),
                }
            }
        });
    match started.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            // The export never began: its connection and its slot are given back before the
            // answer, so a retry the client makes at once finds them free.
            let _ = task.await;
            return Err(e);
        }
        Err(_) => return Err(ApiError::internal(anyhow::anyhow!("export task ended"))),
    }
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let name = format!(
        "attachment; filename=\"minime-export-{}.json\"",
        state.clock.now().format("%Y-%m-%d")
    );
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CONTENT_DISPOSITION, name))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body))
}
