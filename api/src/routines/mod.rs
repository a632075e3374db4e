//! Routines (`/v1/routines`): habits on a schedule (an RRULE in the user's zone) with a time of
//! day and steps; completions record each occurrence done or skipped, and streaks follow.

mod completions;
pub mod due;
pub mod routes;
pub mod routine;
pub mod streak;
