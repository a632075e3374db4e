use actix_web::{dev::ResourceDef, http::Method, HttpRequest};

use super::problem::{ApiError, ProblemKind};

/// A documented method of a path and the query parameters it takes, with the schemas of its
/// body and parameters (references resolved) that name what a field must be when it cannot be
/// read.
pub struct Operation {
    pub method: Method,
    pub query: Vec<String>,
    pub body: Option<std::sync::Arc<serde_json::Value>>,
    pub params: Vec<(String, serde_json::Value)>,
}

/// Every documented path with its operations, so an unknown method answers 405 with `Allow`
/// rather than 404, and an undocumented query parameter (`?limt=1`) is refused rather than
/// silently ignored.
pub struct RouteTable(Vec<(ResourceDef, Vec<Operation>)>);

impl RouteTable {
    pub fn new(paths: impl IntoIterator<Item = (String, Vec<Operation>)>) -> Self {
        Self(
            paths
                .into_iter()
                .map(|(path, operations)| (ResourceDef::new(path), operations))
                .collect(),
        )
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, ops)| ops.iter().map(|op| op.method.clone()).collect())
    }

    /// The documented operation a request reaches.
    pub fn operation(&self, path: &str, method: &Method) -> Option<&Operation> {
        let (_, ops) = self.0.iter().find(|(def, _)| def.is_match(path))?;
        ops.iter().find(|op| op.method == *method)
    }

    /// The first query parameter the documented operation does not take, with the ones it does.
    pub fn unknown_query_param(
        &self,
        path: &str,
        method: &Method,
        query: &str,
    ) -> Option<(String, Vec<String>)> {
        if query.is_empty() {
            return None;
        }
        let (_, ops) = self.0.iter().find(|(def, _)| def.is_match(path))?;
        let op = ops.iter().find(|op| op.method == *method)?;
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(name, _)| name.into_owned())
            .find(|name| !op.query.iter().any(|known| known == name))
            .map(|name| (name, op.query.clone()))
    }
}

pub async fn fallback(
    req: HttpRequest,
    routes: actix_web::web::Data<RouteTable>,
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
