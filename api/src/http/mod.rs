//! Plumbing shared by every capability: problem errors, extractors, pagination, ETags.

pub mod client_ip;
pub mod etag;
pub mod json;
pub mod middleware;
pub mod pagination;
pub mod problem;

use actix_web::{
    dev::ResourceDef,
    http::Method,
    web::{self, PathConfig, QueryConfig},
    HttpRequest,
};

pub use problem::{ApiError, ApiResult, FieldError, ProblemKind};

/// Extractor settings whose failures answer problem+json.
pub fn configure_extractors(cfg: &mut web::ServiceConfig, max_body_bytes: usize) {
    cfg.app_data(web::PayloadConfig::new(max_body_bytes))
        .app_data(QueryConfig::default().error_handler(|err, _| {
            ApiError::new(ProblemKind::BadRequest, format!("Query string: {err}")).into()
        }))
        .app_data(PathConfig::default().error_handler(|_, _| ApiError::not_found().into()));
}

/// Every documented path with its methods, so an unknown method answers 405 with `Allow`
/// rather than 404.
pub struct RouteTable(Vec<(ResourceDef, Vec<Method>)>);

impl RouteTable {
    pub fn new(paths: impl IntoIterator<Item = (String, Vec<Method>)>) -> Self {
        Self(
            paths
                .into_iter()
                .map(|(path, methods)| (ResourceDef::new(path), methods))
                .collect(),
        )
    }

    fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

pub async fn fallback(
    req: HttpRequest,
    routes: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, ApiError> {
    Err(match routes.allowed(req.path()) {
        Some(methods) => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            ApiError {
                allow: Some(allow.clone()),
                ..ApiError::new(
                    ProblemKind::MethodNotAllowed,
                    format!("{} allows {allow}", req.path()),
                )
            }
        }
        None => ApiError::new(
            ProblemKind::NotFound,
            format!("There is no route {}", req.path()),
        ),
    })
}
