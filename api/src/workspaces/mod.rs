//! Workspaces: every user has a personal one from sign-up; shared ones come with Pro and Max.

mod invites;
pub mod routes;
mod shared;
pub mod workspace;
