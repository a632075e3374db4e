//! Decisions (`/v1/decisions`) and their options (`/v1/decision-options`): weigh options with
//! pros, cons and a score, then record which one was chosen (and reopen if it was wrong).

pub mod decision;
pub mod options;
pub mod routes;
