//! The rows of `app.files` and their life cycle: listed, read, renamed and deleted through the
//! shared resource handlers; created only by an upload ([`super::upload`]).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{Ctx, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::files as t},
    http::problem::{ApiError, ApiResult},
    keyset,
};

#[derive(Queryable, Selectable, Clone)]
#[diesel(table_name = t)]
pub struct Row {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub store_key: String,
    pub purpose: String,
    pub name: String,
    pub content_type: String,
    pub sha256: Vec<u8>,
    pub size_bytes: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a file is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A receipt or supplier invoice behind an expense: PDF, PNG, JPEG, WebP or HEIC.
    Receipt,
    /// The original of an imported bank statement (CSV, OFX or CAMT.053 XML).
    BankStatement,
    /// Any other business document: PDF or image.
    Document,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Receipt => "receipt",
            Purpose::BankStatement => "bank_statement",
            Purpose::Document => "document",
        }
    }

    fn parse(s: &str) -> Purpose {
        match s {
            "receipt" => Purpose::Receipt,
            "bank_statement" => Purpose::BankStatement,
            _ => Purpose::Document,
        }
    }
}

/// A stored file's description; its bytes come from `GET /v1/files/{id}/content`.
#[derive(Serialize, ToSchema)]
pub struct StoredFile {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    pub purpose: Purpose,
    /// The name it was uploaded with (its last path segment, cleaned); only ever shown and
    /// offered on download, never used to store it.
    #[schema(example = "receipt-2026-03-14.pdf")]
    pub name: String,
    /// What the bytes are, as recognised from them.
    #[schema(example = "application/pdf")]
    pub content_type: String,
    /// Hex SHA-256 of the bytes, checked again on every download.
    pub sha256: String,
    pub size_bytes: i64,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What may change after the upload: the name.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileInput {
    #[schema(example = "receipt-2026-03-14.pdf")]
    pub name: String,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t)]
pub struct Values {
    pub store_key: String,
    pub purpose: String,
    pub name: String,
    pub content_type: String,
    pub sha256: Vec<u8>,
    pub size_bytes: i64,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FileFilter {
    /// Only files for this purpose.
    pub purpose: Option<Purpose>,
}

pub struct Files;

impl Resource for Files {
    const TABLE: &'static str = "app.files";
    type Row = Row;
    type Out = StoredFile;
    type Input = FileInput;
    type Values = Values;
    type Filter = FileFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> StoredFile {
        StoredFile {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            purpose: Purpose::parse(&r.purpose),
            name: r.name,
            content_type: r.content_type,
            sha256: hex::encode(r.sha256),
            size_bytes: r.size_bytes,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> FileInput {
        FileInput {
            name: r.name.clone(),
        }
    }

    fn input_workspace(_: &FileInput) -> Option<Uuid> {
        None
    }

    async fn validate(
        _conn: &mut Conn,
        _ctx: Ctx,
        current: Option<&Row>,
        i: FileInput,
    ) -> ApiResult<Values> {
        // Only a rename passes here; a new file arrives as an upload.
        let current = current.ok_or_else(ApiError::not_found)?;
        let mut errors = Vec::new();
        let name = fields::title("name", &i.name, 200, &mut errors);
        if name.contains(['/', '\\']) || name.chars().any(char::is_control) {
            errors.push(crate::http::problem::FieldError {
                field: "name".into(),
                message: "a name has no path separators or control characters".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::validation(errors));
        }
        Ok(Values {
            store_key: current.store_key.clone(),
            purpose: current.purpose.clone(),
            name,
            content_type: current.content_type.clone(),
            sha256: current.sha256.clone(),
            size_bytes: current.size_bytes,
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<FileFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(purpose) = q.filter.purpose {
            query = query.filter(t::purpose.eq(purpose.as_str()));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

/// The file `id` of `workspace` if it is for `purpose`; for links from other rows.
pub async fn find_for(
    conn: &mut Conn,
    workspace: Uuid,
    id: Uuid,
    purpose: Purpose,
) -> ApiResult<Option<Row>> {
    Ok(t::table
        .filter(t::workspace_id.eq(workspace))
        .filter(t::id.eq(id))
        .filter(t::purpose.eq(purpose.as_str()))
        .select(Row::as_select())
        .first(conn)
        .await
        .optional()?)
}
