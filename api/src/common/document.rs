//! Per-user documents with defaults (rule settings, onboarding answers, and the next one): GET
//! answers the stored document or the defaults (version 0); PATCH merges into it (RFC 7396),
//! checks the whole result and stores it; DELETE returns to the defaults. The version is the
//! ETag, and a PATCH with `If-Match` applies only to the version it names.

use std::future::Future;

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::{de::DeserializeOwned, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    extractor::{Access, Auth, Principal},
    state::State,
};
use crate::{
    db::pool::Conn,
    http::{
        etag,
        json::{self, Json},
        problem::{ApiError, ApiResult},
    },
};

pub trait Document: Serialize + DeserializeOwned + Default + Send + Sync + 'static {
    /// Fields the server sets, each with what to send instead.
    const READ_ONLY: &'static [(&'static str, &'static str)] = &[];

    /// The stored document and its version, if the user has one.
    fn load<'a>(
        conn: &'a mut Conn,
        user: Uuid,
    ) -> impl Future<Output = ApiResult<Option<(Self, i32)>>> + Send + 'a;
    /// Stores the document (insert or update) and answers its new version.
    fn store<'a>(
        conn: &'a mut Conn,
        user: Uuid,
        document: &'a Self,
    ) -> impl Future<Output = ApiResult<i32>> + Send + 'a;
    fn remove<'a>(
        conn: &'a mut Conn,
        user: Uuid,
    ) -> impl Future<Output = ApiResult<()>> + Send + 'a;
    /// Checks the merged document (every error at once) and sets what the server derives.
    fn accept(self, current: &Self, me: &Principal, now: DateTime<Utc>) -> ApiResult<Self>;
    /// Whether this caller may return the document to its defaults.
    fn may_reset(_current: &Self, _me: &Principal) -> ApiResult<()> {
        Ok(())
    }
}

/// The stored document's version is its ETag; the defaults have version 0.
#[derive(Serialize, ToSchema)]
pub struct Versioned<T> {
    #[serde(flatten)]
    pub document: T,
    pub version: i32,
}

/// The user's document, or the defaults at version 0.
pub async fn load<D: Document>(conn: &mut Conn, user: Uuid) -> ApiResult<(D, i32)> {
    Ok(D::load(conn, user).await?.unwrap_or_default())
}

fn respond<D: Document>(document: D, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(etag::etag(version))
        .json(Versioned { document, version })
}

pub async fn get<D: Document>(state: &State, auth: &Auth) -> ApiResult<HttpResponse> {
    let (document, version) = auth
        .tx(&state.db, Access::Read, |conn, me| {
            load::<D>(conn, me.user_id).scope_boxed()
        })
        .await?;
    Ok(respond(document, version))
}

pub async fn patch<D: Document>(
    state: &State,
    auth: &Auth,
    req: &HttpRequest,
    body: Json<serde_json::Value>,
) -> ApiResult<HttpResponse> {
    let expected = etag::if_match(req)?;
    let schema = json::body_schema(req);
    let patch = body.0;
    let clock = state.clock.clone();
    let (document, version) = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let (current, version) = load::<D>(conn, me.user_id).await?;
                etag::check(expected, version)?;
                let next = merge(&current, &patch, schema.as_deref())?.accept(
                    &current,
                    &me,
                    clock.now(),
                )?;
                let version = D::store(conn, me.user_id, &next).await?;
                Ok((next, version))
            }
            .scope_boxed()
        })
        .await?;
    Ok(respond(document, version))
}

pub async fn reset<D: Document>(state: &State, auth: &Auth) -> ApiResult<HttpResponse> {
    auth.tx(&state.db, Access::Write, |conn, me| {
        async move {
            let (current, _) = load::<D>(conn, me.user_id).await?;
            D::may_reset(&current, &me)?;
            D::remove(conn, me.user_id).await
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `schema` is the operation's documented body, for the words of a field that cannot be read.
fn merge<D: Document>(
    current: &D,
    patch: &serde_json::Value,
    schema: Option<&serde_json::Value>,
) -> ApiResult<D> {
    let Some(keys) = patch.as_object() else {
        return Err(ApiError::field(
            "body",
            "a merge patch must be a JSON object",
        ));
    };
    let mut merged = serde_json::to_value(current).map_err(ApiError::internal)?;
    // Unknown keys are refused here rather than by serde, so that the same type documents the
    // response, which carries more (the version).
    for key in keys.keys() {
        if let Some((_, instead)) = D::READ_ONLY.iter().find(|(field, _)| field == key) {
            return Err(ApiError::field(key, format!("is read-only: {instead}")));
        }
        if merged.get(key).is_none() {
            return Err(ApiError::field(key, "is not a field of this document"));
        }
    }
    if let Some(obj) = merged.as_object_mut() {
        for (field, _) in D::READ_ONLY {
            obj.remove(*field);
        }
    }
    json_patch::merge(&mut merged, patch);
    json::parse_as(
        &serde_json::to_vec(&merged).map_err(ApiError::internal)?,
        schema,
    )
}
