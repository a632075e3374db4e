use tracing_subscriber::{fmt, fmt::format::FmtSpan, EnvFilter};

use crate::config::Env;

/// JSON lines in production, readable lines in development; `RUST_LOG` overrides the level.
/// Closing each request's span writes its access line (method, route, status, request id,
/// elapsed time); bodies and headers are never logged.
pub fn init(env: Env) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_span_events(FmtSpan::CLOSE);
    let _ = match env {
        Env::Production => builder.json().try_init(),
        Env::Development => builder.compact().try_init(),
    };
}
