//! Builds the application and starts the HTTP server.

use std::{net::TcpListener, sync::Arc, time::Duration};

use actix_web::{
    middleware::{from_fn, Condition},
    web, App, HttpResponse, HttpServer,
};
use anyhow::{bail, Context};
use diesel::{sql_types::Bool, QueryableByName};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use tracing_actix_web::TracingLogger;
use utoipa_actix_web::AppExt;

use crate::{
    clock::Clock,
    common::{
        jobs::worker::{Registry, Wake, Worker},
        outbox,
        state::AppState,
    },
    config::Config,
    db::pool::Db,
    docs,
    http::{self, route_table::RouteTable},
    openapi,
};

pub struct Running {
    pub addr: std::net::SocketAddr,
    pub server: actix_web::dev::Server,
    pub state: AppState,
}

#[derive(QueryableByName)]
struct RoleFlags {
    #[diesel(sql_type = Bool)]
    privileged: bool,
}

/// The server must not be able to bypass row-level security.
async fn check_role(db: &Db) -> anyhow::Result<()> {
    let flags = db
        .tx(|conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT rolsuper OR rolbypassrls AS privileged FROM pg_roles WHERE rolname = current_user",
                )
                .get_result::<RoleFlags>(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await;
    match flags {
        Ok(RoleFlags { privileged: true }) => {
            bail!("the server's database login can bypass row-level security; use the minime_app role (see README)")
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind == http::problem::ProblemKind::Unavailable => {
            tracing::warn!(error = %e, "database not reachable yet; /readyz will say when it is");
            Ok(())
        }
        Err(e) => Err(anyhow::anyhow!("{e}"))
            .context("checking the database role (did you run minime migrate?)"),
    }
}

/// Browsers may call the API with credentials from the listed origins only; a request from any
/// other origin is refused. Without a list no CORS headers are sent at all (same-origin use).
fn cors(origins: &[String]) -> actix_cors::Cors {
    use actix_web::http::header;
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::HeaderName::from_static("idempotency-key"),
            header::HeaderName::from_static("x-csrf-token"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            header::LOCATION,
            header::CONTENT_DISPOSITION,
            header::HeaderName::from_static("x-request-id"),
        ])
        .supports_credentials()
        .max_age(600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// The route table read off the OpenAPI document, and the document as JSON: one serialised
/// copy shared by every worker; the document itself is dropped.
fn served_document() -> anyhow::Result<(web::Data<RouteTable>, web::Data<web::Bytes>)> {
    let doc = openapi::document();
    let routes = web::Data::new(RouteTable::new(openapi::methods(&doc)));
    let doc_json = web::Data::new(web::Bytes::from(
        doc.to_pretty_json()
            .context("serialising the OpenAPI document")?,
    ));
    Ok((routes, doc_json))
}

/// Every kind of job and its handler.
pub fn job_registry(config: &Config) -> anyhow::Result<Registry> {
    let registry = Registry::default()
        .add(crate::retention::CLEANUP, crate::retention::cleanup)
        .add(crate::recap::SEND, crate::recap::send)
        .add(crate::account::preferences::CHANGED, crate::recap::replan);
    let registry = crate::push::sender::register(registry, config)?;
    let registry = crate::rules::jobs::register(registry, config);
    let registry = crate::calendar::sync::register(registry, config);
    let registry = crate::business::recurring::register(registry, config);
    let registry = crate::files::remove::register(registry, config)?;
    outbox::sender::register(registry, config)
}

/// Plants the recurring jobs (once, however many processes start) and runs `workers` job
/// workers in this process, woken by `wake` when work is queued.
pub async fn start_jobs(
    config: &Config,
    db: Db,
    clock: Clock,
    workers: usize,
    wake: Wake,
) -> anyhow::Result<()> {
    let registry = Arc::new(job_registry(config)?);
    let at = clock.now();
    db.tx(move |conn| {
        async move {
            crate::retention::plant(conn, at).await?;
            crate::rules::detector::plant(conn, at).await
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| anyhow::anyhow!("planting the recurring jobs: {e}"))?;
    crate::recap::plant_all(&db, at)
        .await
        .map_err(|e| anyhow::anyhow!("planting the morning recaps: {e}"))?;
    crate::calendar::sync::plant_all(&db, at)
        .await
        .map_err(|e| anyhow::anyhow!("planting the calendar syncs: {e}"))?;
    let mut worker = Worker::new(db, clock, registry);
    worker.lease = config.job_lease;
    worker.spawn(workers, wake);
    Ok(())
}

/// What every request handler shares: keys, hasher, pools, providers and the configuration.
fn app_state(config: &Arc<Config>, db: Db) -> anyhow::Result<AppState> {
    Ok(AppState {
        files: crate::common::files::FileStore::from_config(&config.files)?,
        webauthn: Arc::new(crate::auth::factors::webauthn::relying_party(
            &config.passkeys,
        )?),
        hasher: crate::common::password::Hasher::new(config.password_hash_concurrency),
        jwt: crate::common::jwt::Keys::new(&config.jwt_secret, config.access_token_ttl),
        csrf: crate::common::csrf::CsrfKey::derive(&config.jwt_secret),
        jobs: Wake::default(),
        ai: crate::common::ai_provider::provider::Provider::from_config(config),
        exports: std::sync::Arc::new(tokio::sync::Semaphore::new(config.exports.concurrency)),
        db,
        clock: crate::clock::Clock::system(),
        config: config.clone(),
    })
}

pub async fn start(config: Config) -> anyhow::Result<Running> {
    let config = Arc::new(config);
    let db = Db::connect(
        &config.app_database_url,
        config.db_pool_size,
        config.db_statement_timeout,
    )?;
    check_role(&db).await?;

    let (routes, doc_json) = served_document()?;
    let state = app_state(&config, db.clone())?;
    if config.job_workers > 0 {
        let clock = state.clock.clone();
        start_jobs(&config, db, clock, config.job_workers, state.jobs.clone()).await?;
    }

    let listener =
        TcpListener::bind(&config.listen).with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let max_body = config.max_body_bytes;
    // Each worker thread runs its own runtime; a pool per worker keeps every connection's driver
    // task on the thread that uses it, instead of waking another thread for each query.
    let per_worker = config.db_pool_size.div_ceil(config.workers).max(1);
    let worker_state = state.clone();
    let cors_origins = config.cors_origins.clone();
    let server = HttpServer::new(move || {
        let mut state = worker_state.clone();
        match Db::connect(
            &state.config.app_database_url,
            per_worker,
            state.config.db_statement_timeout,
        ) {
            Ok(db) => state.db = db,
            Err(error) => tracing::error!(%error, "worker pool: falling back to the shared pool"),
        }
        App::new()
            .app_data(web::Data::new(state))
            .app_data(routes.clone())
            .app_data(doc_json.clone())
            .configure(|cfg| http::json::configure_extractors(cfg, max_body))
            .wrap(from_fn(http::middleware::problem_details))
            .wrap(TracingLogger::default())
            .wrap(Condition::new(
                !cors_origins.is_empty(),
                cors(&cors_origins),
            ))
            .into_utoipa_app()
            .configure(openapi::routes)
            .into_app()
            .route("/openapi.json", web::get().to(openapi_json))
            .configure(docs::configure)
            .configure(crate::auth::pages::configure)
            .default_service(web::to(http::route_table::fallback))
    })
    .workers(config.workers)
    // A client that sends its head or body too slowly is cut off instead of holding a slot.
    .client_request_timeout(config.client_request_timeout)
    .client_disconnect_timeout(Duration::from_secs(5))
    .keep_alive(Duration::from_secs(30))
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    tracing::info!(%addr, "minime listening");
    Ok(Running {
        addr,
        server,
        state,
    })
}

async fn openapi_json(doc: web::Data<web::Bytes>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(doc.get_ref().clone())
}
