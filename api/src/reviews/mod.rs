//! Reviews (`/v1/reviews`): a daily or weekly look back, with the user's answers and figures
//! the server computes from the workspace's data for the period.

pub mod review;
pub mod routes;
