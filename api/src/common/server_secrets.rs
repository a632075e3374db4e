//! Secrets the server makes for itself (the VAPID key when none is configured), kept sealed with
//! the key ring in `ops.server_secrets`, each bound to its row by name. The server's role reaches
//! the table only through `ops.server_secret*` functions.

use diesel::{
    sql_types::{Bool, Bytea, Nullable, Text},
    QueryableByName,
};
use diesel_async::RunQueryDsl;

use crate::{
    db::pool::Conn,
    http::problem::{ApiError, ApiResult},
    secrets::{KeyRing, Place},
};

pub const TABLE: &str = "ops.server_secrets";

/// Where the secret `name` lives: bound into its ciphertext.
pub fn place(name: &str) -> Place<'_> {
    Place {
        table: TABLE,
        column: "sealed",
        row: name,
    }
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = Nullable<Bytea>)]
    sealed: Option<Vec<u8>>,
}

/// The secret `name`, made by `make` and kept the first time it is asked for. Two processes
/// asking at once agree on one: the first kept wins and the other's is dropped.
pub async fn get_or_make(
    conn: &mut Conn,
    keys: &KeyRing,
    name: &str,
    make: impl FnOnce() -> Vec<u8>,
) -> ApiResult<Vec<u8>> {
    let stored: Stored = diesel::sql_query("SELECT ops.server_secret($1) AS sealed")
        .bind::<Text, _>(name)
        .get_result(conn)
        .await?;
    let sealed = match stored.sealed {
        Some(sealed) => sealed,
        None => {
            let made = keys.seal(place(name), &make());
            let kept: Stored = diesel::sql_query("SELECT ops.server_secret_keep($1, $2) AS sealed")
                .bind::<Text, _>(name)
                .bind::<Bytea, _>(made)
                .get_result(conn)
                .await?;
            kept.sealed
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("{name} was not kept")))?
        }
    };
    keys.open(place(name), &sealed).map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "the server secret {name} does not open with MINIME_SECRET_KEYS ({e}): restore the key that sealed it"
        ))
    })
}

#[derive(QueryableByName)]
struct Sealed {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bytea)]
    sealed: Vec<u8>,
}

#[derive(QueryableByName)]
struct Swapped {
    #[diesel(sql_type = Bool)]
    done: bool,
}

/// Every server secret sealed under the ring's sealing key (for rotation: put the new key first,
/// reseal, then drop the old one). How many were sealed anew.
pub async fn reseal_all(conn: &mut Conn, keys: &KeyRing) -> ApiResult<usize> {
    let all: Vec<Sealed> =
        diesel::sql_query("SELECT name, sealed FROM ops.server_secrets_sealed()")
            .load(conn)
            .await?;
    let mut resealed = 0;
    for secret in all {
        let fresh = keys
            .reseal(place(&secret.name), &secret.sealed)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("{}: {e}", secret.name)))?;
        let Some(fresh) = fresh else { continue };
        let swapped: Swapped =
            diesel::sql_query("SELECT ops.server_secret_reseal($1, $2, $3) AS done")
                .bind::<Text, _>(&secret.name)
                .bind::<Bytea, _>(&secret.sealed)
                .bind::<Bytea, _>(fresh)
                .get_result(conn)
                .await?;
        resealed += usize::from(swapped.done);
    }
    Ok(resealed)
}
