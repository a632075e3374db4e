//! Rate limits per client IP or address, and the sign-in lockout per email; all state in
//! Postgres so that every instance sees the same counters.

use chrono::{DateTime, TimeZone, Utc};
use diesel::{
    prelude::*,
    sql_types::{Integer, Text, Timestamptz},
};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};

use crate::{
    config::{Limit, Lockout},
    db::{
        pool::{Conn, Db},
        schema::auth::signin_failures as failures,
    },
    http::{
        client_ip::ClientIp,
        problem::{ApiError, ApiResult, ProblemKind},
    },
    tokens,
};

#[derive(QueryableByName)]
struct Hits {
    #[diesel(sql_type = Integer)]
    hits: i32,
    #[diesel(sql_type = Timestamptz)]
    window_start: DateTime<Utc>,
}

/// Counts one hit; `Err(retry_after_secs)` once the window's budget is spent.
pub async fn hit(
    conn: &mut Conn,
    now: DateTime<Utc>,
    key: &str,
    limit: Limit,
) -> ApiResult<Result<(), u64>> {
    let window = limit.window.as_secs().max(1) as i64;
    let start = Utc
        .timestamp_opt(now.timestamp() - now.timestamp().rem_euclid(window), 0)
        .unwrap();
    let row: Hits = diesel::sql_query(
        "INSERT INTO ops.rate_limits AS r (key, window_start, hits) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           hits = CASE WHEN r.window_start = excluded.window_start THEN r.hits + 1 ELSE 1 END, \
           window_start = excluded.window_start \
         RETURNING hits, window_start",
    )
    .bind::<Text, _>(key)
    .bind::<Timestamptz, _>(start)
    .get_result(conn)
    .await?;
    if row.hits as u32 > limit.max {
        let reset = row.window_start.timestamp() + window;
        Ok(Err((reset - now.timestamp()).max(1) as u64))
    } else {
        Ok(Ok(()))
    }
}

/// Per-address mail budget, so nobody can flood an inbox through us, whoever asks. Over budget
/// the mail is skipped: for account mails an error would tell the caller about the address.
pub async fn mail_allowed(
    conn: &mut Conn,
    now: DateTime<Utc>,
    limit: Limit,
    address: &str,
) -> ApiResult<bool> {
    let key = format!("mail:addr:{}", hex::encode(super::email::key_hash(address)));
    Ok(hit(conn, now, &key, limit).await?.is_ok())
}

/// A limit on its own transaction: the hit counts even when the request then fails.
pub async fn enforce(db: &Db, now: DateTime<Utc>, key: String, limit: Limit) -> ApiResult<()> {
    let outcome = db
        .tx(move |conn| async move { hit(conn, now, &key, limit).await }.scope_boxed())
        .await?;
    outcome.map_err(|retry| ApiError::too_many(ProblemKind::RateLimited, retry))
}

/// The two counters a password attempt touches: one per address and client network (which
/// locks after `threshold` failures) and one per address alone (which locks for everyone after
/// `address_ceiling`). A stranger hammering an address from one network locks out only that
/// network, while a spread-out guesser still meets the ceiling.
#[derive(Clone)]
pub struct Attempt {
    pair: Vec<u8>,
    address: Vec<u8>,
}

impl Attempt {
    pub fn new(email: &str, ip: &ClientIp) -> Self {
        Self {
            pair: tokens::hash(&format!("email:{email}|net:{}", ip.key())),
            address: super::email::key_hash(email),
        }
    }
}

pub async fn check_lockout(
    conn: &mut Conn,
    now: DateTime<Utc>,
    attempt: &Attempt,
) -> ApiResult<()> {
    let locks: Vec<Option<DateTime<Utc>>> = failures::table
        .filter(failures::email_hash.eq_any([&attempt.pair, &attempt.address]))
        .select(failures::locked_until)
        .load(conn)
        .await?;
    match locks.into_iter().flatten().max() {
        Some(until) if until > now => {
            // Rounded up: a client that waits Retry-After seconds must find the lock gone.
            let millis = (until - now).num_milliseconds();
            Err(ApiError::too_many(
                ProblemKind::AccountLocked,
                ((millis + 999) / 1000) as u64,
            ))
        }
        _ => Ok(()),
    }
}

/// Counts one failed password; from its threshold on, each counter locks for twice as long.
pub async fn record_failure(
    db: &Db,
    now: DateTime<Utc>,
    attempt: Attempt,
    lockout: Lockout,
) -> ApiResult<()> {
    db.tx(move |conn| {
        async move {
            let ceiling = Lockout {
                threshold: lockout.address_ceiling,
                ..lockout.clone()
            };
            for (key, rule) in [(&attempt.pair, &lockout), (&attempt.address, &ceiling)] {
                let failures: i32 = diesel::insert_into(failures::table)
                    .values((
                        failures::email_hash.eq(key),
                        failures::address_hash.eq(&attempt.address),
                        failures::failures.eq(1),
                    ))
                    .on_conflict(failures::email_hash)
                    .do_update()
                    .set((
                        failures::failures.eq(failures::failures + 1),
                        failures::updated_at.eq(diesel::dsl::now),
                    ))
                    .returning(failures::failures)
                    .get_result(conn)
                    .await?;
                if let Some(lock) = lock_duration(failures as u32, rule) {
                    let until =
                        now + chrono::Duration::from_std(lock).unwrap_or(chrono::Duration::days(1));
                    diesel::update(failures::table.find(key))
                        .set(failures::locked_until.eq(until))
                        .execute(conn)
                        .await?;
                }
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
}

pub fn lock_duration(failures: u32, lockout: &Lockout) -> Option<std::time::Duration> {
    let over = failures.checked_sub(lockout.threshold)?;
    let factor = 1u32.checked_shl(over.min(31)).unwrap_or(u32::MAX);
    Some(lockout.base.saturating_mul(factor).min(lockout.max))
}

/// A correct password: this network's counter and the address's ceiling start again.
pub async fn clear_failures(conn: &mut Conn, attempt: &Attempt) -> ApiResult<()> {
    diesel::delete(
        failures::table.filter(failures::email_hash.eq_any([&attempt.pair, &attempt.address])),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The mailbox owner proved themself (or the account is gone): every counter of the address.
pub async fn forget_failures(conn: &mut Conn, email: &str) -> ApiResult<()> {
    diesel::delete(
        failures::table.filter(failures::address_hash.eq(super::email::key_hash(email))),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A password check outside sign-in (deleting the account, changing the password) counts
/// toward the same lockout, so a stolen session cannot be used to guess the password.
pub async fn verify_password(
    state: &crate::common::state::State,
    attempt: Attempt,
    password: secrecy::SecretString,
    stored: String,
) -> ApiResult<bool> {
    state
        .db
        .tx({
            let attempt = attempt.clone();
            let now = state.clock.now();
            move |conn| async move { check_lockout(conn, now, &attempt).await }.scope_boxed()
        })
        .await?;
    if state.hasher.verify(password, Some(stored)).await? {
        Ok(true)
    } else {
        record_failure(
            &state.db,
            state.clock.now(),
            attempt,
            state.config.lockout.clone(),
        )
        .await?;
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn lockout_grows_exponentially_and_is_capped() {
        let l = Lockout {
            threshold: 5,
            base: Duration::from_secs(60),
            max: Duration::from_secs(3600),
            address_ceiling: 50,
        };
        assert_eq!(lock_duration(4, &l), None);
        assert_eq!(lock_duration(5, &l), Some(Duration::from_secs(60)));
        assert_eq!(lock_duration(6, &l), Some(Duration::from_secs(120)));
        assert_eq!(lock_duration(8, &l), Some(Duration::from_secs(480)));
        assert_eq!(lock_duration(40, &l), Some(Duration::from_secs(3600)));
    }
}
