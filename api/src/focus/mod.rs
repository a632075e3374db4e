//! Focus sessions (`/v1/focus-sessions`): timed stretches of work, optionally on a task. Each
//! user has at most one running session, across all workspaces.

pub mod routes;
pub mod session;
