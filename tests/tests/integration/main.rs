//! Black-box tests over HTTP against a real PostgreSQL.

mod admin;
mod ai;
mod auth_flows;
mod bad_input;
mod cookies;
mod cors;
mod data_rights;
mod faults;
mod helpers;
mod integrity;
mod isolation;
mod jobs;
mod limits;
mod mail_http;
mod openapi;
mod outbound;
mod pages;
mod plans;
mod resources;
mod resources_more;
mod rls;
mod rules_run;
mod security;
mod smart_add;
mod workspaces;
