//! Projects (`/v1/projects`): outcomes that take several tasks, in an area and towards a goal.

pub mod project;
pub mod routes;
