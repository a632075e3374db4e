//! Tasks (`/v1/tasks`): the unit of work, with steps (child tasks), links to a project, area and
//! goal, a due date with an optional time that floats with the user or is fixed to a zone, and
//! optional recurrence.

pub mod routes;
mod series;
pub mod task;
