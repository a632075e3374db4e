//! A goal's progress, derived from its milestones (when it has any) or else its tasks.

use std::collections::HashMap;

use diesel::{
    dsl::{count, count_star},
    prelude::*,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{
        pool::Conn,
        schema::app::{milestones as m, tasks as t},
    },
    http::problem::ApiResult,
};

#[derive(Clone, Copy, Debug, Default, Serialize, ToSchema)]
pub struct Progress {
    pub milestones_total: i64,
    pub milestones_done: i64,
    /// Linked tasks, not counting cancelled ones.
    pub tasks_total: i64,
    pub tasks_done: i64,
    /// 0 to 100: done milestones over milestones, or done tasks over tasks if it has no milestones.
    #[schema(example = 40)]
    pub percent: i64,
}

impl Progress {
    fn finish(mut self) -> Self {
        let (done, total) = if self.milestones_total > 0 {
            (self.milestones_done, self.milestones_total)
        } else {
            (self.tasks_done, self.tasks_total)
        };
        self.percent = if total == 0 { 0 } else { done * 100 / total };
        self
    }
}

/// Progress of each goal in `ids`, in two grouped queries whatever their number.
pub async fn of(conn: &mut Conn, ids: &[Uuid]) -> ApiResult<HashMap<Uuid, Progress>> {
    let mut out: HashMap<Uuid, Progress> =
        ids.iter().map(|id| (*id, Progress::default())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let milestones: Vec<(Uuid, i64, i64)> = m::table
        .filter(m::goal_id.eq_any(ids))
        .group_by(m::goal_id)
        .select((m::goal_id, count_star(), count(m::completed_at)))
        .load(conn)
        .await?;
    for (goal, total, done) in milestones {
        let p = out.entry(goal).or_default();
        p.milestones_total = total;
        p.milestones_done = done;
    }
    let tasks: Vec<(Option<Uuid>, String, i64)> = t::table
        .filter(t::goal_id.eq_any(ids))
        .filter(t::status.ne("cancelled"))
        .group_by((t::goal_id, t::status))
        .select((t::goal_id, t::status, count_star()))
        .load(conn)
        .await?;
    for (goal, status, n) in tasks {
        let Some(goal) = goal else { continue };
        let p = out.entry(goal).or_default();
        p.tasks_total += n;
        if status == "done" {
            p.tasks_done += n;
        }
    }
    Ok(out.into_iter().map(|(k, v)| (k, v.finish())).collect())
}
