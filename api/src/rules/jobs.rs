//! The jobs that run rules: events caused by writes, runs the detector planned, the detector.

use super::{detector, events, runner};
use crate::{common::jobs::worker::Registry, config::Config};

/// Adds the rules' jobs, each run counting toward the per-user hourly limit.
pub fn register(registry: Registry, config: &Config) -> Registry {
    let per_hour = i64::from(config.rule_runs_per_hour);
    registry
        .add(events::EVENT, move |ctx| runner::on_event(ctx, per_hour))
        .add(runner::RUN, move |ctx| runner::on_planned(ctx, per_hour))
        .add(detector::DETECT, detector::detect)
}
