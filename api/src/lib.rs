//! minime: the self-hostable backend of a personal life OS.

pub mod account;
pub mod auth;
pub mod config;
pub mod db;
pub mod health;
pub mod http;
pub mod openapi;
pub mod outbox;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod workspaces;
