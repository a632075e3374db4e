//! Accounts, credentials and sessions: everything under `/v1/auth`.

mod access_tokens;
pub mod factors;
mod issue;
mod mailed_tokens;
mod mails;
pub mod pages;
mod reset;
pub mod routes;
mod sessions;
mod signin;
mod signup;
