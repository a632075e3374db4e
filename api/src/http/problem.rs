//! RFC 9457 problem details: the one error type every handler and extractor returns.

use actix_web::{
    http::{header, StatusCode},
    HttpResponse, ResponseError,
};
use serde::Serialize;
use utoipa::ToSchema;

/// Each kind has a stable `type` path that clients may switch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProblemKind {
    Validation,
    MalformedJson,
    BadRequest,
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthorized,
    InvalidCredentials,
    EmailNotVerified,
    InsufficientScope,
    Csrf,
    InvalidToken,
    NotFound,
    MethodNotAllowed,
    PreconditionFailed,
    Conflict,
    IdempotencyKeyReused,
    PlanRequired,
    PlanLimit,
    OwnerOnly,
    RateLimited,
    AccountLocked,
    AccountSuspended,
    AiConsentRequired,
    AiOffline,
    AiBlocked,
    AiQuota,
    AiProvider,
    CalendarUnreachable,
    PreviewExpired,
    IntegrationNotConfigured,
    IntegrationDisconnected,
    IntegrationProvider,
    BusinessProfileRequired,
    DocumentIssued,
    InvalidCode,
    PasskeyRefused,
    ReauthenticationRequired,
    Unavailable,
    Internal,
}

impl ProblemKind {
    /// Every kind, in declaration order (the document lists their `type`s as an enum).
    pub const ALL: &'static [ProblemKind] = &[
        Self::Validation,
        Self::MalformedJson,
        Self::BadRequest,
        Self::UnsupportedMediaType,
        Self::PayloadTooLarge,
        Self::Unauthorized,
        Self::InvalidCredentials,
        Self::EmailNotVerified,
        Self::InsufficientScope,
        Self::Csrf,
        Self::InvalidToken,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::PreconditionFailed,
        Self::Conflict,
        Self::IdempotencyKeyReused,
        Self::PlanRequired,
        Self::PlanLimit,
        Self::OwnerOnly,
        Self::RateLimited,
        Self::AccountLocked,
        Self::AccountSuspended,
        Self::AiConsentRequired,
        Self::AiOffline,
        Self::AiBlocked,
        Self::AiQuota,
        Self::AiProvider,
        Self::CalendarUnreachable,
        Self::PreviewExpired,
        Self::IntegrationNotConfigured,
        Self::IntegrationDisconnected,
        Self::IntegrationProvider,
        Self::BusinessProfileRequired,
        Self::DocumentIssued,
        Self::InvalidCode,
        Self::PasskeyRefused,
        Self::ReauthenticationRequired,
        Self::Unavailable,
        Self::Internal,
    ];

    pub fn type_path(self) -> &'static str {
        match self {
            Self::Validation => "/problems/validation",
            Self::MalformedJson => "/problems/malformed-json",
            Self::BadRequest => "/problems/bad-request",
            Self::UnsupportedMediaType => "/problems/unsupported-media-type",
            Self::PayloadTooLarge => "/problems/payload-too-large",
            Self::Unauthorized => "/problems/unauthorized",
            Self::InvalidCredentials => "/problems/invalid-credentials",
            Self::EmailNotVerified => "/problems/email-not-verified",
            Self::InsufficientScope => "/problems/insufficient-scope",
            Self::Csrf => "/problems/csrf",
            Self::InvalidToken => "/problems/invalid-token",
            Self::NotFound => "/problems/not-found",
            Self::MethodNotAllowed => "/problems/method-not-allowed",
            Self::PreconditionFailed => "/problems/precondition-failed",
            Self::Conflict => "/problems/conflict",
            Self::IdempotencyKeyReused => "/problems/idempotency-key-reused",
            Self::PlanRequired => "/problems/plan-required",
            Self::PlanLimit => "/problems/plan-limit",
            Self::OwnerOnly => "/problems/owner-only",
            Self::RateLimited => "/problems/rate-limited",
            Self::AccountLocked => "/problems/account-locked",
            Self::AccountSuspended => "/problems/account-suspended",
            Self::AiConsentRequired => "/problems/ai-consent-required",
            Self::AiOffline => "/problems/ai-offline",
            Self::AiBlocked => "/problems/ai-blocked",
            Self::AiQuota => "/problems/ai-quota",
            Self::AiProvider => "/problems/ai-provider",
            Self::CalendarUnreachable => "/problems/calendar-unreachable",
            Self::PreviewExpired => "/problems/preview-expired",
            Self::IntegrationNotConfigured => "/problems/integration-not-configured",
            Self::IntegrationDisconnected => "/problems/integration-disconnected",
            Self::IntegrationProvider => "/problems/integration-provider",
            Self::BusinessProfileRequired => "/problems/business-profile-required",
            Self::DocumentIssued => "/problems/document-issued",
            Self::InvalidCode => "/problems/invalid-code",
            Self::PasskeyRefused => "/problems/passkey-refused",
            Self::ReauthenticationRequired => "/problems/reauthentication-required",
            Self::Unavailable => "/problems/unavailable",
            Self::Internal => "/problems/internal",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Validation => "The request has invalid fields",
            Self::MalformedJson => "The request body is not valid JSON",
            Self::BadRequest => "The request is not valid",
            Self::UnsupportedMediaType => "The request body must be JSON",
            Self::PayloadTooLarge => "The request body is too large",
            Self::Unauthorized => "Authentication is required",
            Self::InvalidCredentials => "The email or password is wrong",
            Self::EmailNotVerified => "The email address is not verified yet",
            Self::InsufficientScope => "The credentials do not allow this operation",
            Self::Csrf => "The CSRF token is missing or wrong",
            Self::InvalidToken => "The token is invalid, used or expired",
            Self::NotFound => "Not found",
            Self::MethodNotAllowed => "Method not allowed",
            Self::PreconditionFailed => "The resource has changed",
            Self::Conflict => "The request conflicts with the current state",
            Self::IdempotencyKeyReused => "The Idempotency-Key was used for another request",
            Self::PlanRequired => "Your plan does not include this feature",
            Self::PlanLimit => "Your plan's limit is reached",
            Self::OwnerOnly => "Only the workspace's owner may do this",
            Self::RateLimited => "Too many requests",
            Self::AccountLocked => "Too many failed sign-ins",
            Self::AccountSuspended => "An administrator locked this account",
            Self::AiConsentRequired => "AI features are off until you turn them on",
            Self::AiOffline => "This AI feature needs an online provider",
            Self::AiBlocked => "The AI provider refused this content",
            Self::AiQuota => "The AI provider's quota is used up for now",
            Self::AiProvider => "The AI provider failed",
            Self::CalendarUnreachable => "The calendar could not be read",
            Self::PreviewExpired => "The preview has expired",
            Self::IntegrationNotConfigured => "This integration is not configured on this server",
            Self::IntegrationDisconnected => "The integration is not connected",
            Self::IntegrationProvider => "The integration's provider failed",
            Self::BusinessProfileRequired => "Set up the business profile first",
            Self::DocumentIssued => "An issued document cannot change",
            Self::InvalidCode => "The code is wrong, used or expired",
            Self::PasskeyRefused => "The passkey was not accepted",
            Self::ReauthenticationRequired => "Confirm it is you with your second factor first",
            Self::Unavailable => "The service is temporarily unavailable",
            Self::Internal => "Internal server error",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::Validation => StatusCode::UNPROCESSABLE_ENTITY,
            Self::MalformedJson | Self::BadRequest | Self::InvalidToken => StatusCode::BAD_REQUEST,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthorized
            | Self::InvalidCredentials
            | Self::InvalidCode
            | Self::PasskeyRefused => StatusCode::UNAUTHORIZED,
            Self::ReauthenticationRequired => StatusCode::FORBIDDEN,
            Self::EmailNotVerified
            | Self::AccountSuspended
            | Self::InsufficientScope
            | Self::Csrf
            | Self::AiConsentRequired => StatusCode::FORBIDDEN,
            Self::AiOffline => StatusCode::NOT_IMPLEMENTED,
            Self::AiBlocked => StatusCode::UNPROCESSABLE_ENTITY,
            Self::AiQuota => StatusCode::SERVICE_UNAVAILABLE,
            Self::AiProvider | Self::CalendarUnreachable => StatusCode::BAD_GATEWAY,
            Self::PreviewExpired => StatusCode::GONE,
            Self::IntegrationNotConfigured | Self::IntegrationDisconnected => StatusCode::CONFLICT,
            Self::IntegrationProvider => StatusCode::BAD_GATEWAY,
            Self::BusinessProfileRequired | Self::DocumentIssued => StatusCode::CONFLICT,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::Conflict => StatusCode::CONFLICT,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PlanRequired | Self::PlanLimit | Self::OwnerOnly => StatusCode::FORBIDDEN,
            Self::RateLimited | Self::AccountLocked => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn from_status(status: StatusCode) -> Self {
        match status.as_u16() {
            401 => Self::Unauthorized,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            413 => Self::PayloadTooLarge,
            415 => Self::UnsupportedMediaType,
            409 => Self::Conflict,
            412 => Self::PreconditionFailed,
            422 => Self::Validation,
            429 => Self::RateLimited,
            503 => Self::Unavailable,
            400..=499 => Self::BadRequest,
            _ => Self::Internal,
        }
    }
}

/// One invalid field: `field` is a dotted path into the request body or the query name.
#[derive(Clone, Debug, Serialize, ToSchema, PartialEq, Eq)]
pub struct FieldError {
    #[schema(example = "password")]
    pub field: String,
    #[schema(example = "is too weak: add more words or characters")]
    pub message: String,
}

/// An RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation")]
    pub kind: &'static str,
    #[schema(example = "The request has invalid fields")]
    pub title: &'static str,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "1 field is invalid")]
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11")]
    pub request_id: Option<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub kind: ProblemKind,
    pub detail: String,
    pub errors: Vec<FieldError>,
    pub retry_after: Option<u64>,
    pub allow: Option<String>,
    /// Logged, never sent.
    pub source: Option<anyhow::Error>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after: None,
            allow: None,
            source: None,
        }
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => format!("{}: {}", errors[0].field, errors[0].message),
            n => format!("{n} fields are invalid"),
        };
        Self {
            errors,
            ..Self::new(ProblemKind::Validation, detail)
        }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            field: field.to_owned(),
            message: message.into(),
        }])
    }

    pub fn not_found() -> Self {
        Self::new(
            ProblemKind::NotFound,
            "No such resource, or it is not yours",
        )
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(ProblemKind::Unauthorized, detail)
    }

    pub fn too_many(kind: ProblemKind, retry_after_secs: u64) -> Self {
        let retry = retry_after_secs.max(1);
        Self {
            retry_after: Some(retry),
            ..Self::new(kind, format!("Try again in {retry} s"))
        }
    }

    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            ..Self::new(ProblemKind::Internal, "Something went wrong on our side")
        }
    }

    pub fn unavailable(source: impl Into<anyhow::Error>) -> Self {
        Self {
            source: Some(source.into()),
            retry_after: Some(1),
            ..Self::new(
                ProblemKind::Unavailable,
                "The database is not reachable right now",
            )
        }
    }

    /// Any error status without a problem body of its own (e.g. from actix internals).
    pub fn from_status(status: StatusCode) -> Self {
        let kind = ProblemKind::from_status(status);
        Self::new(kind, kind.title())
    }

    pub fn problem(&self, request_id: Option<String>) -> Problem {
        Problem {
            kind: self.kind.type_path(),
            title: self.kind.title(),
            status: self.kind.status().as_u16(),
            detail: self.detail.clone(),
            errors: self.errors.clone(),
            request_id,
        }
    }

    pub fn render(&self, request_id: Option<String>) -> HttpResponse {
        let mut response = HttpResponse::build(self.kind.status());
        response.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Some(allow) = &self.allow {
            response.insert_header((header::ALLOW, allow.clone()));
        }
        if self.kind == ProblemKind::Unauthorized {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.body(serde_json::to_vec(&self.problem(request_id)).unwrap_or_default())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.kind.type_path(), self.detail)?;
        if let Some(source) = &self.source {
            write!(f, " ({source:#})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.render(None)
    }
}

const OUTAGE_MESSAGES: &[&str] = &[
    "statement timeout",
    "terminating connection",
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "canceling statement due to conflict with recovery",
    "server closed the connection",
];

impl From<diesel::result::Error> for ApiError {
    fn from(error: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match error {
            Error::NotFound => Self::not_found(),
            // Without a SQLSTATE (socket closed or reset mid-statement) the driver reports
            // `UnableToSendCommand`; both mean the database went away, not that the request was bad.
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                _,
            ) => Self::unavailable(error),
            // diesel hides the SQLSTATE; these are the server's messages for classes 57 and 08
            // (operator intervention, shutdown, start-up) and for the statement timeout.
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if OUTAGE_MESSAGES.iter().any(|m| info.message().contains(m)) =>
            {
                Self::unavailable(anyhow::anyhow!("{}", info.message()))
            }
            // The body parser refuses NUL in JSON; this catches any other way text reaches a
            // statement (a query parameter, a header), so a client never sees a 500 for it.
            Error::DatabaseError(DatabaseErrorKind::Unknown, ref info)
                if info
                    .message()
                    .starts_with("invalid byte sequence for encoding") =>
            {
                Self::new(
                    ProblemKind::Validation,
                    "Text must not contain the NUL character (U+0000)",
                )
            }
            // Two requests racing for one unique key, or a row another request removed
            // meanwhile: the client's answer is to read again and retry, not a server error.
            Error::DatabaseError(
                DatabaseErrorKind::UniqueViolation | DatabaseErrorKind::ForeignKeyViolation,
                ref info,
            ) => {
                let mut conflict = Self::new(
                    ProblemKind::Conflict,
                    "The change conflicts with another one made at the same time; read again and retry",
                );
                conflict.source = Some(anyhow::anyhow!(
                    "{} ({})",
                    info.message(),
                    info.constraint_name().unwrap_or("no constraint name")
                ));
                conflict
            }
            other => Self::internal(other),
        }
    }
}

impl From<deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>> for ApiError {
    fn from(
        error: deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>,
    ) -> Self {
        Self::unavailable(anyhow::anyhow!("database pool: {error}"))
    }
}
