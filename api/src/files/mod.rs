//! Uploaded files (`/v1/files`): receipts, the originals of imported bank statements and other
//! business documents, kept in the file store (`common::files`) and described by a row of
//! `app.files` that row-level security guards. A file is recognised by its bytes (`kind`), never
//! by its name or declared type, and is only ever read back through this API.

pub mod kind;
pub mod model;
pub mod remove;
pub mod routes;
pub mod upload;
