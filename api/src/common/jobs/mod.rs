//! The job queue: background work in `ops.jobs`, run by workers inside `minime serve` or in
//! `minime worker`, each job at most once at a time and retried with backoff until it is done
//! or dead.

pub mod queue;
pub mod worker;
