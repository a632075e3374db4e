//! Outbound mail: rows in `ops.outbox`, written in the same transaction as the change that
//! caused them, delivered by the sender after commit.

mod provider;
pub mod queue;
pub mod sender;
