//! The events automation rules wait for that a write causes (a task completed, a capture
//! created): recorded as a `rules.event` job in the transaction of the write itself, so that an
//! event exists exactly when its change does. Only a workspace with an enabled rule of that
//! trigger gets one, so ordinary writes pay one indexed lookup.

use diesel::sql_types::{Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{db::pool::Conn, http::problem::ApiResult};

/// The job kind of an event caused by a write; it runs as the user who made the change.
pub const EVENT: &str = "rules.event";

pub const TASK_COMPLETED: &str = "task_completed";
pub const TASK_OVERDUE: &str = "task_overdue";
pub const CAPTURE_CREATED: &str = "capture_created";
pub const ROUTINE_MISSED: &str = "routine_missed";
pub const SCHEDULE: &str = "schedule";

/// What happened, where, and to which row: the payload of every rules job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub workspace_id: Uuid,
    pub trigger: String,
    /// The task, capture or routine; none for a schedule.
    pub subject_id: Option<Uuid>,
}

/// Records that `trigger` happened to `subject_id`, in the caller's transaction and as its user.
/// Each call is an event of its own (no unique key): a task completed, reopened and completed
/// again is two.
pub async fn record(
    conn: &mut Conn,
    workspace_id: Uuid,
    trigger: &str,
    subject_id: Uuid,
) -> ApiResult<()> {
    diesel::sql_query(
        "SELECT ops.job_enqueue($1, jsonb_build_object('workspace_id', $2::uuid, 'trigger', $3::text, 'subject_id', $4::uuid), \
                app.current_user_id(), NULL, now(), 8) \
         WHERE EXISTS (SELECT 1 FROM app.automation_rules r \
                       WHERE r.workspace_id = $2 AND r.enabled AND r.trigger ->> 'type' = $3)",
    )
    .bind::<Text, _>(EVENT)
    .bind::<SqlUuid, _>(workspace_id)
    .bind::<Text, _>(trigger)
    .bind::<SqlUuid, _>(subject_id)
    .execute(conn)
    .await?;
    Ok(())
}
