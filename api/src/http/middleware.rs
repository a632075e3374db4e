//! Every response gets `X-Request-Id`; every error response becomes problem+json carrying it,
//! except the HTML pages of mailed links, which answer people.

use actix_web::{
    body::{BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::header::{self, HeaderValue},
    Error, HttpMessage,
};
use tracing_actix_web::RequestId;

use super::problem::ApiError;

/// What is wrong with the query string, checked here once for every endpoint: a parameter the
/// operation does not document (it would be ignored silently), or text with a NUL (`%00`),
/// which can be stored nowhere.
fn query_problem(req: &ServiceRequest) -> Option<ApiError> {
    let query = req.query_string();
    if query.is_empty() {
        return None;
    }
    let unknown = req
        .app_data::<actix_web::web::Data<super::route_table::RouteTable>>()
        .and_then(|routes| routes.unknown_query_param(req.path(), req.method(), query));
    if let Some((name, known)) = unknown {
        let message = if known.is_empty() {
            "is not a parameter of this operation, which takes none".to_owned()
        } else {
            format!(
                "is not a parameter of this operation (it takes {})",
                known.join(", ")
            )
        };
        return Some(ApiError::field(&name, message));
    }
    let (name, _) = url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, v)| k.contains('\0') || v.contains('\0'))?;
    let field = if name.contains('\0') || name.is_empty() {
        "query"
    } else {
        &name
    };
    Some(ApiError::field(
        field,
        "must not contain the NUL character (U+0000)",
    ))
}

pub async fn problem_details(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.to_string());
    let res = match query_problem(&req) {
        Some(error) => req
            .into_response(error.render(request_id.clone()))
            .map_into_boxed_body(),
        None => next.call(req).await?.map_into_boxed_body(),
    };
    let mut res = if let Some(api_error) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
    {
        if let Some(source) = &api_error.source {
            if api_error.kind.status().is_server_error() {
                tracing::error!(error = %format!("{source:#}"), problem = api_error.kind.type_path(), "request failed");
            }
        }
        let rendered = api_error.render(request_id.clone());
        res.into_response(rendered)
    } else if is_bare_error(&res) {
        let allow = res.headers().get(header::ALLOW).cloned();
        let mut rendered = ApiError::from_status(res.status()).render(request_id.clone());
        if let Some(allow) = allow {
            rendered.headers_mut().insert(header::ALLOW, allow);
        }
        res.into_response(rendered)
    } else {
        res.map_into_boxed_body()
    };
    if let Some(id) = request_id.and_then(|id| HeaderValue::from_str(&id).ok()) {
        res.headers_mut()
            .insert(header::HeaderName::from_static("x-request-id"), id);
    }
    Ok(res)
}

/// An error answer with no body meant for its reader. The HTML pages behind mailed links
/// answer their errors for people on purpose, so those stay as they are.
fn is_bare_error<B>(res: &ServiceResponse<B>) -> bool {
    let status = res.status();
    let deliberate = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| {
        let v = v.as_bytes();
        v.starts_with(b"application/problem+json") || v.starts_with(b"text/html")
    });
    (status.is_client_error() || status.is_server_error()) && !deliberate
}
