//! Automation rules (`/v1/rules`): when a trigger fires and every condition holds, run the
//! actions. A rule is checked completely when it is saved, so running it never meets a rule it
//! cannot understand; every problem names its place, such as `conditions.0.value`.

pub mod detector;
pub mod events;
pub mod jobs;
pub mod routes;
pub mod rule;
pub mod runner;
pub mod runs;
pub mod schedule;
