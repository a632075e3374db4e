//! Goals (`/v1/goals`) with their progress, and milestones (`/v1/milestones`) on the way.

pub mod goal;
mod milestones;
mod progress;
pub mod routes;
