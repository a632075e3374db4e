//! The OpenAPI document: collected from the handlers' annotations, then completed with the
//! problem responses every operation can give.

use actix_web::App;
use serde_json::json;
use utoipa::{
    openapi::{
        path::Operation,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
        ContentBuilder, Ref, RefOr, Response, ResponseBuilder,
    },
    Modify, OpenApi,
};
use utoipa_actix_web::AppExt;

use crate::http::problem::{FieldError, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "minime API",
        description = "The self-hostable backend of a personal life OS. Errors are RFC 9457 problem documents; \
                       lists are cursor-paginated; PATCH is JSON merge patch.",
        license(name = "AGPL-3.0-or-later"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Accounts, sessions and access tokens"),
        (name = "account", description = "The signed-in user's profile"),
        (name = "workspaces", description = "Personal and shared workspaces"),
        (name = "areas", description = "Life areas"),
        (name = "tasks", description = "Tasks, their steps and recurrence"),
        (name = "goals", description = "Goals, their milestones and progress"),
        (name = "projects", description = "Projects"),
        (name = "business", description = "Sole-trader business: the business profile, clients and jobs (every plan)"),
        (name = "invoicing", description = "Invoices with UK VAT, payments, credit notes and their PDFs (every plan)"),
        (name = "files", description = "Uploaded files (receipts, statements, documents): recognised by content, kept in the file store, read only through the API"),
        (name = "routines", description = "Routines, their completions and streaks"),
        (name = "captures", description = "The inbox: quick captures to turn into tasks or projects"),
        (name = "reviews", description = "Daily and weekly reviews"),
        (name = "decisions", description = "Decisions and their options"),
        (name = "rules", description = "Automation rules"),
        (name = "focus", description = "Focus sessions"),
        (name = "plans", description = "Today, daily plans and the Assistant: computed from your own data"),
        (name = "ai", description = "AI features: opt-in, preview first, nothing written until you confirm"),
        (name = "push", description = "Web push: devices subscribed to your notifications"),
        (name = "integrations", description = "Read-only integrations: a private iCal calendar (Pro and Max) and Gmail (Max); nothing is written to them and nothing from them goes to AI"),
        (name = "admin", description = "Statistics and account status for administrators: hashed ids only, every call audited"),
        (name = "health", description = "Liveness and readiness"),
    ),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token from /v1/auth/signin, or a personal access token (mm_pat_...)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "minime_access",
                "Browser sessions (sign in with mode=cookie). Unsafe methods also need X-CSRF-Token.",
            ))),
        );
    }
}

pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(crate::health::healthz)
        .service(crate::health::readyz)
        .service(
            utoipa_actix_web::scope("/v1")
                .configure(crate::auth::routes::configure)
                .configure(crate::account::routes::configure)
                .configure(crate::subscriptions::configure)
                .configure(crate::workspaces::routes::configure)
                .configure(crate::areas::routes::configure)
                .configure(crate::tasks::routes::configure)
                .configure(crate::goals::routes::configure)
                .configure(crate::projects::routes::configure)
                .configure(crate::routines::routes::configure)
                .configure(crate::captures::routes::configure)
                .configure(crate::reviews::routes::configure)
                .configure(crate::decisions::routes::configure)
                .configure(crate::rules::routes::configure)
                .configure(crate::focus::routes::configure)
                .configure(crate::plans::routes::configure)
                .configure(crate::today::configure)
                .configure(crate::assistant::configure)
                .configure(crate::admin::routes::configure)
                .configure(crate::ai::routes::configure)
                .configure(crate::push::routes::configure)
                .configure(crate::calendar::routes::configure)
                .configure(crate::gmail::routes::configure)
                .configure(crate::business::routes::configure)
                .configure(crate::files::routes::configure),
        );
}

pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(routes)
        .split_for_parts();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for op in operations_mut(&mut doc) {
        add_problems(op);
    }
    unique_operation_ids(&mut doc);
    crate::contract::apply(&mut doc);
    doc
}

/// Operation ids come from handler names, which repeat across modules (`create`, `list`, …);
/// OpenAPI requires them unique, and generated clients name methods after them. A repeated id
/// gets its tag in front (`workspaces_accept`, `plans_accept`).
fn unique_operation_ids(doc: &mut utoipa::openapi::OpenApi) {
    use std::collections::HashMap;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for op in operations_mut(doc) {
        if let Some(id) = &op.operation_id {
            *seen.entry(id.clone()).or_default() += 1;
        }
    }
    for op in operations_mut(doc) {
        let Some(id) = op.operation_id.clone() else {
            continue;
        };
        if seen.get(&id).copied().unwrap_or(0) > 1 {
            let tag = op
                .tags
                .as_ref()
                .and_then(|t| t.first())
                .cloned()
                .unwrap_or_default();
            op.operation_id = Some(format!("{tag}_{id}"));
        }
    }
}

/// Every operation of the document.
fn operations_mut(doc: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    doc.paths.paths.values_mut().flat_map(|item| {
        [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.patch,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
    })
}

/// Methods per path, for 405 answers.
pub fn methods(
    doc: &utoipa::openapi::OpenApi,
) -> Vec<(String, Vec<crate::http::route_table::Operation>)> {
    use actix_web::http::Method;
    use utoipa::openapi::path::{Operation, ParameterIn};
    let query_names = |op: &Operation| -> Vec<String> {
        op.parameters
            .iter()
            .flatten()
            .filter(|p| matches!(p.parameter_in, ParameterIn::Query))
            .map(|p| p.name.clone())
            .collect()
    };
    let schemas = crate::contract::OperationSchemas::of(doc);
    doc.paths
        .paths
        .iter()
        .map(|(path, item)| {
            let operations = [
                (&item.get, Method::GET),
                (&item.post, Method::POST),
                (&item.put, Method::PUT),
                (&item.patch, Method::PATCH),
                (&item.delete, Method::DELETE),
            ]
            .into_iter()
            .filter_map(|(op, method)| {
                op.as_ref().map(|op| crate::http::route_table::Operation {
                    body: schemas.body(path, &method),
                    params: schemas.params(path, &method),
                    method,
                    query: query_names(op),
                })
            })
            .collect();
            (path.clone(), operations)
        })
        .collect()
}

fn problem(description: &str, example: serde_json::Value) -> RefOr<Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .example(Some(example))
                    .build(),
            )
            .build(),
    )
}

fn example(kind: &str, title: &str, status: u16, detail: &str) -> serde_json::Value {
    json!({"type": kind, "title": title, "status": status, "detail": detail, "request_id": "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11"})
}

/// Which operations a standard problem answer is documented on.
#[derive(Clone, Copy)]
enum Applies {
    /// Those with a request body.
    Body,
    /// Those with query, path or header parameters.
    Params,
    /// Those with a body or parameters.
    Input,
    /// Those that need credentials.
    Secured,
    Always,
}

/// A problem answer any operation may give: when it applies, its status, the description, and
/// the example's type, title and detail.
type Standard = (
    Applies,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// In order: the first entry for a status wins.
const STANDARD_PROBLEMS: &[Standard] = &[
    (
        Applies::Body,
        "400",
        "Malformed JSON (`/problems/malformed-json`)",
        "/problems/malformed-json",
        "The request body is not valid JSON",
        "EOF while parsing an object",
    ),
    (
        Applies::Body,
        "413",
        "Body over the size limit (`/problems/payload-too-large`)",
        "/problems/payload-too-large",
        "The request body is too large",
        "The body exceeds the limit documented at MINIME_MAX_BODY_BYTES",
    ),
    (
        Applies::Body,
        "415",
        "Body is not JSON (`/problems/unsupported-media-type`)",
        "/problems/unsupported-media-type",
        "The request body must be JSON",
        "Send the body with Content-Type: application/json",
    ),
    (
        Applies::Params,
        "400",
        "A malformed header such as If-Match (`/problems/bad-request`)",
        "/problems/bad-request",
        "The request is not valid",
        "If-Match must be an ETag this API issued",
    ),
    (
        Applies::Input,
        "422",
        "Invalid fields (`/problems/validation`), each named in `errors`",
        "/problems/validation",
        "The request has invalid fields",
        "email: is not an email address",
    ),
    (
        Applies::Secured,
        "401",
        "Missing, invalid or expired credentials (`/problems/unauthorized`)",
        "/problems/unauthorized",
        "Authentication is required",
        "This session has ended; sign in again",
    ),
    (
        Applies::Always,
        "500",
        "Unexpected failure (`/problems/internal`); details are in the server log under `request_id`",
        "/problems/internal",
        "Internal server error",
        "Something went wrong on our side",
    ),
    (
        Applies::Always,
        "503",
        "Database unreachable (`/problems/unavailable`); retry after `Retry-After`",
        "/problems/unavailable",
        "The service is temporarily unavailable",
        "The database is not reachable right now",
    ),
];

fn add_problems(op: &mut Operation) {
    let body = op.request_body.is_some();
    let params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
    let secured = op.security.is_some();
    let responses = &mut op.responses.responses;
    for &(applies, status, description, kind, title, detail) in STANDARD_PROBLEMS {
        let applies = match applies {
            Applies::Body => body,
            Applies::Params => params,
            Applies::Input => body || params,
            Applies::Secured => secured,
            Applies::Always => true,
        };
        if !applies {
            continue;
        }
        let code: u16 = status.parse().expect("a numeric status");
        let mut example = example(kind, title, code, detail);
        if code == 422 {
            example["errors"] = json!([{"field": "email", "message": "is not an email address"}]);
        }
        responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description, example));
    }
}
