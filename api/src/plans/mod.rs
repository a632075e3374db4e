//! Daily plans: `POST /v1/plans` computes and stores the plan of one local date, `GET
//! /v1/plans/{date}` reads it back, and each line can be accepted or rejected (`items.rs`).
//! Recomputing keeps the lines already answered: accepted blocks stay where they are and count
//! as busy time, rejected items are not proposed again for that date.

pub mod inputs;
pub mod items;
pub mod plan;
pub mod routes;
