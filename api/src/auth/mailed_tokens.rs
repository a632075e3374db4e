//! Single-use links mailed for verification and password reset. The table is out of the server
//! role's reach; these go through the database functions that guard it (`auth.*_email_token*`).

use chrono::{DateTime, Duration, Utc};
use diesel::{
    sql_types::{Bytea, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::{
    db::pool::Conn,
    http::problem::{ApiError, ApiResult, ProblemKind},
    tokens,
};

/// Stores a fresh token and returns it in clear, for the mail only. A verification token
/// carries the password hash of the sign-up it answers.
pub async fn issue(
    conn: &mut Conn,
    at: DateTime<Utc>,
    user_id: Uuid,
    purpose: &str,
    ttl: Duration,
    password_hash: Option<&str>,
) -> ApiResult<String> {
    let token = tokens::random_token(32);
    diesel::sql_query("SELECT auth.issue_email_token($1, $2, $3, $4, $5)")
        .bind::<Bytea, _>(tokens::hash(&token))
        .bind::<SqlUuid, _>(user_id)
        .bind::<Text, _>(purpose)
        .bind::<Timestamptz, _>(at + ttl)
        .bind::<Nullable<Text>, _>(password_hash)
        .execute(conn)
        .await?;
    Ok(token)
}

#[derive(QueryableByName)]
struct Consumed {
    #[diesel(sql_type = SqlUuid)]
    user_id: Uuid,
    #[diesel(sql_type = Nullable<Text>)]
    password_hash: Option<String>,
}

fn invalid() -> ApiError {
    ApiError::new(
        ProblemKind::InvalidToken,
        "This link is invalid, was already used, or has expired",
    )
}

/// Uses a token once: its user and the password hash it carries, or an invalid-token error.
pub async fn consume(
    conn: &mut Conn,
    at: DateTime<Utc>,
    token: &str,
    purpose: &str,
) -> ApiResult<(Uuid, Option<String>)> {
    let row: Option<Consumed> = diesel::sql_query(
        "SELECT user_id, password_hash FROM auth.consume_email_token($1, $2, $3)",
    )
    .bind::<Bytea, _>(tokens::hash(token))
    .bind::<Text, _>(purpose)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await?
    .into_iter()
    .next();
    row.map(|r| (r.user_id, r.password_hash))
        .ok_or_else(invalid)
}

#[derive(QueryableByName)]
struct Owner {
    #[diesel(sql_type = Nullable<SqlUuid>)]
    user_id: Option<Uuid>,
}

/// The account a live token belongs to, without using the token.
pub async fn owner(
    conn: &mut Conn,
    at: DateTime<Utc>,
    token: &str,
    purpose: &str,
) -> ApiResult<Uuid> {
    let row: Owner = diesel::sql_query("SELECT auth.email_token_user($1, $2, $3) AS user_id")
        .bind::<Bytea, _>(tokens::hash(token))
        .bind::<Text, _>(purpose)
        .bind::<Timestamptz, _>(at)
        .get_result(conn)
        .await?;
    row.user_id.ok_or_else(invalid)
}

/// Every link mailed to the account stops working.
pub async fn end_all(conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
    diesel::sql_query("SELECT auth.end_email_tokens($1)")
        .bind::<SqlUuid, _>(user_id)
        .execute(conn)
        .await?;
    Ok(())
}
