//! The inbox (`/v1/captures`): quick notes taken on the go, later turned into a task or a
//! project in one step.

pub mod capture;
pub mod routes;
