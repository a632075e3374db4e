//! Plumbing shared by every capability: problem errors, extractors, pagination, ETags.

pub mod client_ip;
pub mod etag;
pub mod json;
pub mod middleware;
pub mod pagination;
pub mod problem;
pub mod route_table;
