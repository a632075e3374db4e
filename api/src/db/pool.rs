use std::time::Duration;

use diesel::{
    sql_types::{Bool, Text, Uuid as SqlUuid},
    QueryResult,
};
use diesel_async::{
    pooled_connection::{
        deadpool::Pool, AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
    },
    scoped_futures::ScopedBoxFuture,
    AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection,
};
use futures_util::FutureExt;
use uuid::Uuid;

use crate::http::problem::ApiError;

pub type Conn = AsyncPgConnection;

diesel::define_sql_function!(fn set_config(name: Text, value: Text, is_local: Bool) -> Text);
// Function-style cast, so the statement stays a cacheable prepared statement.
diesel::define_sql_function!(fn text(value: SqlUuid) -> Text);

#[derive(Clone)]
pub struct Db {
    pool: Pool<AsyncPgConnection>,
}

impl Db {
    pub fn connect(url: &str, size: usize, statement_timeout: Duration) -> anyhow::Result<Self> {
        let setup = format!(
            "SET statement_timeout = {ms}; SET idle_in_transaction_session_timeout = {idle}; SET application_name = 'minime'",
            ms = statement_timeout.as_millis(),
            idle = statement_timeout.as_millis() * 2,
        );
        let mut config = ManagerConfig::default();
        // No test query on every checkout: a connection whose socket closed is still dropped
        // (diesel-async checks it), and a query on a dead one answers 503 instead.
        config.recycling_method = RecyclingMethod::Fast;
        config.custom_setup = Box::new(move |url| {
            let setup = setup.clone();
            async move {
                let mut conn = AsyncPgConnection::establish(url).await?;
                conn.batch_execute(&setup)
                    .await
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(conn)
            }
            .boxed()
        });
        let manager = AsyncDieselConnectionManager::new_with_config(url, config);
        let pool = Pool::builder(manager)
            .max_size(size)
            .wait_timeout(Some(Duration::from_secs(5)))
            .create_timeout(Some(Duration::from_secs(5)))
            .recycle_timeout(Some(Duration::from_secs(5)))
            .runtime(deadpool::Runtime::Tokio1)
            .build()?;
        Ok(Self { pool })
    }

    /// A transaction with no user set: `app` rows are invisible in it (RLS), so it serves
    /// only the `auth` and `ops` schemas.
    pub async fn tx<'a, R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, ApiError>> + Send + 'a,
        R: Send + 'a,
    {
        let mut conn = self.pool.get().await?;
        let conn: &mut Conn = &mut conn;
        conn.transaction(f).await
    }

    /// A REPEATABLE READ transaction: every statement sees one snapshot (exports).
    pub async fn snapshot_tx<'a, R, F>(&self, f: F) -> Result<R, ApiError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, ApiError>> + Send + 'a,
        R: Send + 'a,
    {
        let mut conn = self.pool.get().await?;
        let conn: &mut Conn = &mut conn;
        conn.build_transaction().repeatable_read().run(f).await
    }

    /// A transaction acting as `user_id`, for flows that know the user without a credential
    /// (sign-up creates the personal workspace). Requests use `auth::Auth::tx`.
    pub async fn tx_as<'a, R, F>(&self, user_id: Uuid, f: F) -> Result<R, ApiError>
    where
        F: for<'r> FnOnce(&'r mut Conn) -> ScopedBoxFuture<'a, 'r, Result<R, ApiError>> + Send + 'a,
        R: Send + 'a,
    {
        use diesel_async::scoped_futures::ScopedFutureExt;
        self.tx(move |conn| {
            async move {
                act_as(conn, user_id).await?;
                f(conn).await
            }
            .scope_boxed()
        })
        .await
    }

    pub async fn ping(&self) -> Result<Vec<String>, ApiError> {
        use diesel::QueryDsl;
        diesel::table! { __diesel_schema_migrations (version) { version -> Text, } }
        let mut conn = self.pool.get().await?;
        Ok(__diesel_schema_migrations::table
            .select(__diesel_schema_migrations::version)
            .load(&mut conn)
            .await?)
    }
}

/// The transaction setting holding the request's instant on the server's clock, set with the
/// user at the start of every authenticated transaction, for code that has only the connection.
pub const AT_SETTING: &str = "app.at";

#[derive(diesel::QueryableByName)]
struct Acting {
    #[diesel(sql_type = diesel::sql_types::Nullable<SqlUuid>)]
    user_id: Option<Uuid>,
    #[diesel(sql_type = diesel::sql_types::Timestamptz)]
    at: chrono::DateTime<chrono::Utc>,
}

/// The user this transaction acts as, if any, and the request's instant (the database's own
/// time where no request set one).
pub async fn acting(conn: &mut Conn) -> QueryResult<(Option<Uuid>, chrono::DateTime<chrono::Utc>)> {
    let row: Acting = diesel::sql_query(
        "SELECT app.current_user_id() AS user_id, \
         coalesce(nullif(current_setting('app.at', true), '')::timestamptz, now()) AS at",
    )
    .get_result(conn)
    .await?;
    Ok((row.user_id, row.at))
}

/// Sets the RLS user for the rest of this transaction only.
pub async fn act_as(conn: &mut Conn, user_id: Uuid) -> QueryResult<()> {
    diesel::select(set_config("app.user_id", user_id.to_string(), true))
        .execute(conn)
        .await?;
    Ok(())
}
