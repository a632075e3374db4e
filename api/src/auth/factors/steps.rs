//! Ceremonies that span two requests (a sign-in waiting for its second factor, WebAuthn
//! challenges), kept server-side under a single-use token whose SHA-256 alone is stored.

use chrono::{DateTime, Duration, Utc};
use diesel::{
    sql_types::{Bool, Bytea, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    auth::issue::SessionMode,
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, ProblemKind},
    tokens,
};

/// How long a ceremony may take: as long as WebAuthn's recommended authenticator timeout.
pub const LIFETIME: Duration = Duration::minutes(5);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Mfa,
    PasskeyRegistration,
    PasskeySignin,
    PasskeyReauthentication,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Mfa => "mfa",
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeySignin => "passkey_signin",
            Self::PasskeyReauthentication => "passkey_reauthentication",
        }
    }
}

/// A live step as it was kept.
#[derive(QueryableByName)]
pub struct Step {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub user_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub session_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub state: Option<serde_json::Value>,
    #[diesel(sql_type = Text)]
    mode: String,
}

impl Step {
    pub fn mode(&self) -> SessionMode {
        if self.mode == "cookie" {
            SessionMode::Cookie
        } else {
            SessionMode::Token
        }
    }

    /// The WebAuthn state this step holds.
    pub fn ceremony<T: serde::de::DeserializeOwned>(&self) -> ApiResult<T> {
        let state = self.state.clone().ok_or_else(|| {
            ApiError::new(
                ProblemKind::PasskeyRefused,
                "Ask for passkey options first: this step holds no challenge",
            )
        })?;
        serde_json::from_value(state).map_err(ApiError::internal)
    }
}

#[derive(QueryableByName)]
struct Done {
    #[diesel(sql_type = Bool)]
    done: bool,
}

/// What a new step is for and whom.
pub struct NewStep {
    pub kind: Kind,
    pub user_id: Option<Uuid>,
    pub session_id: Option<Uuid>,
    pub state: Option<serde_json::Value>,
    pub mode: SessionMode,
}

impl NewStep {
    /// Keeps the step and returns its token, which only the client holds.
    pub async fn keep(self, conn: &mut Conn, at: DateTime<Utc>) -> ApiResult<String> {
        let token = tokens::random_token(32);
        let mode = match self.mode {
            SessionMode::Token => "token",
            SessionMode::Cookie => "cookie",
        };
        diesel::sql_query("SELECT auth.step_keep($1, $2, $3, $4, $5, $6, $7)")
            .bind::<Bytea, _>(tokens::hash(&token))
            .bind::<Text, _>(self.kind.as_str())
            .bind::<Nullable<SqlUuid>, _>(self.user_id)
            .bind::<Nullable<SqlUuid>, _>(self.session_id)
            .bind::<Nullable<Jsonb>, _>(self.state)
            .bind::<Text, _>(mode)
            .bind::<Timestamptz, _>(at + LIFETIME)
            .execute(conn)
            .await?;
        Ok(token)
    }
}

fn gone() -> ApiError {
    ApiError::new(
        ProblemKind::InvalidToken,
        "This step is unknown, used or older than 5 minutes; start again",
    )
}

/// The live step of `token`, left in place (a wrong answer may be followed by a right one).
pub async fn peek(conn: &mut Conn, token: &str, kind: Kind, at: DateTime<Utc>) -> ApiResult<Step> {
    let found: Option<Step> = diesel::sql_query(
        "SELECT user_id, session_id, state, mode FROM auth.step_peek($1, $2, $3)",
    )
    .bind::<Bytea, _>(tokens::hash(token))
    .bind::<Text, _>(kind.as_str())
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?
    .into_iter()
    .next();
    found.ok_or_else(gone)
}

/// Uses the step up; of two concurrent answers only one gets past here.
pub async fn take(conn: &mut Conn, token: &str, kind: Kind, at: DateTime<Utc>) -> ApiResult<()> {
    let done: Done = diesel::sql_query("SELECT auth.step_take($1, $2, $3) AS done")
        .bind::<Bytea, _>(tokens::hash(token))
        .bind::<Text, _>(kind.as_str())
        .bind::<Timestamptz, _>(at)
        .get_result(conn)
        .await?;
    if done.done {
        Ok(())
    } else {
        Err(gone())
    }
}

/// Gives a live step a (new) WebAuthn challenge.
pub async fn challenge(
    conn: &mut Conn,
    token: &str,
    kind: Kind,
    state: serde_json::Value,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    let done: Done = diesel::sql_query("SELECT auth.step_challenge($1, $2, $3, $4) AS done")
        .bind::<Bytea, _>(tokens::hash(token))
        .bind::<Text, _>(kind.as_str())
        .bind::<Jsonb, _>(state)
        .bind::<Timestamptz, _>(at)
        .get_result(conn)
        .await?;
    if done.done {
        Ok(())
    } else {
        Err(gone())
    }
}

/// Counts a wrong answer; the fifth ends the step.
pub async fn fail(conn: &mut Conn, token: &str) -> ApiResult<()> {
    diesel::sql_query("SELECT auth.step_fail($1)")
        .bind::<Bytea, _>(tokens::hash(token))
        .execute(conn)
        .await?;
    Ok(())
}
