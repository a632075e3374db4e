//! The record of a rule's runs (`GET /v1/rules/{id}/runs`), newest first.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::{pool::Conn, schema::app::rule_runs as t},
    http::{pagination::Cursor, problem::ApiResult},
    keyset,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    rule_id: Uuid,
    trigger: String,
    subject_id: Option<Uuid>,
    outcome: String,
    error: Option<String>,
    ran_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

impl Row {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

/// One run of a rule, recorded for the user it ran for.
#[derive(Serialize, ToSchema)]
pub struct RuleRun {
    pub id: Uuid,
    pub rule_id: Uuid,
    pub workspace_id: Uuid,
    /// The user the run acted for: the rule's owner.
    pub created_by: Uuid,
    /// `task_completed`, `task_overdue`, `capture_created`, `routine_missed` or `schedule`.
    #[schema(example = "task_completed")]
    pub trigger: String,
    /// The task, capture or routine the trigger was about; none for a schedule.
    pub subject_id: Option<Uuid>,
    /// `done` (the actions were applied), `skipped` (the subject is gone, the conditions do
    /// not hold, or a scheduled time passed while the server was down), `failed` (an action
    /// could not be applied, so none was) or `limited` (over the hourly limit of runs).
    #[schema(example = "done")]
    pub outcome: String,
    /// Why the run did nothing, or what failed.
    #[schema(example = "labels: at most 20 labels")]
    pub error: Option<String>,
    pub ran_at: DateTime<Utc>,
}

impl From<Row> for RuleRun {
    fn from(r: Row) -> Self {
        Self {
            id: r.id,
            rule_id: r.rule_id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            trigger: r.trigger,
            subject_id: r.subject_id,
            outcome: r.outcome,
            error: r.error,
            ran_at: r.ran_at,
        }
    }
}

/// A page of the rule's runs after `after`.
pub async fn list(
    conn: &mut Conn,
    workspace_id: Uuid,
    rule_id: Uuid,
    after: Option<Cursor>,
    fetch: i64,
) -> ApiResult<Vec<Row>> {
    let query = t::table
        .filter(t::workspace_id.eq(workspace_id))
        .filter(t::rule_id.eq(rule_id))
        .select(Row::as_select())
        .into_boxed();
    Ok(keyset!(query, t, after, fetch).load(conn).await?)
}
