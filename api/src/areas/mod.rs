//! Life areas (`/v1/areas`): the parts of life that goals, projects, tasks and routines belong to.

pub mod area;
pub mod routes;
