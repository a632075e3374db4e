//! minime: the self-hostable backend of a personal life OS.

pub mod account;
pub mod admin;
pub mod areas;
pub mod auth;
pub mod captures;
pub mod config;
pub mod db;
pub mod decisions;
pub mod focus;
pub mod goals;
pub mod health;
pub mod http;
pub mod openapi;
pub mod outbox;
pub mod planner;
pub mod plans;
pub mod projects;
pub mod recurrence;
pub mod reviews;
pub mod routines;
pub mod rules;
pub mod server;
pub mod state;
pub mod tasks;
pub mod telemetry;
pub mod workspaces;
