//! The connection pool and the only ways to run statements: transactions.

pub mod migrate;
pub mod pool;
pub mod schema;
