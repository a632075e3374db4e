//! Running a rule for one event: the rule and its subject are read as they are when the job runs,
//! its conditions checked against the subject, its actions applied in one transaction (all of
//! them or none), and the run recorded for the rule's owner, once per event.
//!
//! Actions reach the database through the resources' own checks and writes (`Tasks::validate`,
//! `Tasks::insert`, `Tasks::update`), never through the request life cycle that records events,
//! and the tasks they make are marked so that the overdue detector passes them by: a rule's
//! actions never start rules again.
//!
//! `add_label` and `set_priority` act on the trigger's task; where the trigger has none (a
//! capture, a routine, a schedule) they act on the task an earlier `create_task` of the same
//! rule made, and without one the run fails. Conditions look at the trigger's task only: a rule
//! with conditions on another trigger is skipped.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    prelude::*,
    sql_types::{BigInt, Bool, Jsonb, Text, Uuid as SqlUuid},
};
use diesel_async::{scoped_futures::ScopedFutureExt, AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{
    events::{self, Event},
    rule::{Action, Condition, ConditionField, ConditionOp, Trigger},
};
use crate::{
    clock::Clock,
    common::{
        jobs::worker::JobContext,
        resource::{Ctx, Resource},
        zone,
    },
    db::{
        pool::{act_as, Conn, Db},
        schema::app::{rule_runs as rr, tasks as t},
    },
    http::problem::{ApiError, ApiResult, ProblemKind},
    push::sender::{notify, Notification},
    tasks::task::{self, TaskInput, Tasks},
};

/// The job kind of one rule run planned by the detector; it runs as the rule's owner.
pub const RUN: &str = "rules.run";

/// A run planned ahead: which rule, for which event, and (for a schedule) for which local date
/// at which instant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Planned {
    pub rule_id: Uuid,
    /// Once per rule: `task_overdue:<task>:<due date>`, `schedule:<date>`, …
    pub event: String,
    #[serde(flatten)]
    pub about: Event,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Enabled {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    created_by: Uuid,
}

fn failed(context: &str) -> impl FnOnce(ApiError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("{context}: {e}")
}

/// An event a write caused: every enabled rule of its trigger in the workspace, as they are now.
pub async fn on_event(ctx: JobContext, per_hour: i64) -> anyhow::Result<()> {
    let event: Event = serde_json::from_value(ctx.job.payload.clone())?;
    let (ws, trigger) = (event.workspace_id, event.trigger.clone());
    let rules: Vec<Enabled> = ctx
        .tx(move |conn| {
            async move {
                Ok(diesel::sql_query(
                    "SELECT id, created_by FROM app.automation_rules \
                     WHERE workspace_id = $1 AND enabled AND trigger ->> 'type' = $2 ORDER BY created_at, id",
                )
                .bind::<SqlUuid, _>(ws)
                .bind::<Text, _>(trigger)
                .load(conn)
                .await?)
            }
            .scope_boxed()
        })
        .await
        .map_err(failed("reading the rules of an event"))?;
    // The job is the event: its id tells a retry which rules ran already.
    let key = format!("job:{}", ctx.job.id);
    for rule in rules {
        let planned = Planned {
            rule_id: rule.id,
            event: key.clone(),
            about: event.clone(),
            date: None,
            at: None,
        };
        run(&ctx.db, &ctx.clock, per_hour, rule.created_by, planned).await?;
    }
    Ok(())
}

pub async fn on_planned(ctx: JobContext, per_hour: i64) -> anyhow::Result<()> {
    let planned: Planned = serde_json::from_value(ctx.job.payload.clone())?;
    let owner = ctx
        .job
        .user_id
        .ok_or_else(|| anyhow::anyhow!("a rule run without its owner"))?;
    run(&ctx.db, &ctx.clock, per_hour, owner, planned).await
}

#[derive(QueryableByName)]
struct RuleNow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Jsonb)]
    trigger: Value,
    #[diesel(sql_type = Jsonb)]
    conditions: Value,
    #[diesel(sql_type = Jsonb)]
    actions: Value,
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    yes: bool,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How a run ended, and why when it did nothing.
#[derive(Debug)]
enum Outcome {
    Done,
    Skipped(String),
    Failed(String),
    Limited(String),
}

/// A scheduled run this much after its time, once its local day is over, is skipped: the server
/// was not running then, and a day already past is not caught up.
pub fn too_late() -> chrono::Duration {
    chrono::Duration::hours(1)
}

/// Runs one rule for one event as its owner, once: a second run of the same event (a retried
/// job) finds the first one's record and does nothing.
pub async fn run(
    db: &Db,
    clock: &Clock,
    per_hour: i64,
    owner: Uuid,
    planned: Planned,
) -> anyhow::Result<()> {
    let at = clock.now();
    db.tx(move |conn| {
        async move {
            act_as(conn, owner).await?;
            let ws = planned.about.workspace_id;
            // The rule as it is now; a rule deleted, disabled or changed to another trigger
            // since the event does not run (and a former member's rule is not visible).
            let rule: Option<RuleNow> = diesel::sql_query(
                "SELECT name, trigger, conditions, actions FROM app.automation_rules \
                 WHERE workspace_id = $1 AND id = $2 AND created_by = $3 AND enabled",
            )
            .bind::<SqlUuid, _>(ws)
            .bind::<SqlUuid, _>(planned.rule_id)
            .bind::<SqlUuid, _>(owner)
            .load(conn)
            .await?
            .into_iter()
            .next();
            let Some(rule) = rule else { return Ok(()) };
            let Ok(trigger) = serde_json::from_value::<Trigger>(rule.trigger.clone()) else {
                return Ok(());
            };
            if trigger_name(&trigger) != planned.about.trigger {
                return Ok(());
            }
            let zone = zone::user_zone(conn, owner).await?;
            if let (Trigger::Schedule { at: time, days }, Some(date), Some(instant)) =
                (&trigger, planned.date, planned.at)
            {
                // Planned under another time, days or zone: the detector plans the new one.
                if super::schedule::fire_at(date, time, days, zone) != Some(instant) {
                    return Ok(());
                }
            }
            // One user's runs one at a time, so that the hourly count holds across workers.
            diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended('rule_runs:' || $1::text, 0))")
                .bind::<SqlUuid, _>(owner)
                .execute(conn)
                .await?;
            let ran: Flag = diesel::sql_query(
                "SELECT EXISTS (SELECT 1 FROM app.rule_runs WHERE workspace_id = $1 AND rule_id = $2 AND event = $3) AS yes",
            )
            .bind::<SqlUuid, _>(ws)
            .bind::<SqlUuid, _>(planned.rule_id)
            .bind::<Text, _>(&planned.event)
            .get_result(conn)
            .await?;
            if ran.yes {
                return Ok(());
            }
            let outcome = decide(conn, &planned, &rule, &trigger, owner, zone, at, per_hour).await?;
            let (outcome, error) = match outcome {
                Outcome::Done => ("done", None),
                Outcome::Skipped(why) => ("skipped", Some(why)),
                Outcome::Failed(why) => ("failed", Some(why)),
                Outcome::Limited(why) => ("limited", Some(why)),
            };
            diesel::insert_into(rr::table)
                .values((
                    rr::id.eq(Uuid::now_v7()),
                    rr::workspace_id.eq(ws),
                    rr::created_by.eq(owner),
                    rr::rule_id.eq(planned.rule_id),
                    rr::trigger.eq(&planned.about.trigger),
                    rr::subject_id.eq(planned.about.subject_id),
                    rr::event.eq(&planned.event),
                    rr::outcome.eq(outcome),
                    rr::error.eq(error.map(|e| e.chars().take(2000).collect::<String>())),
                    rr::ran_at.eq(at),
                    rr::created_at.eq(at),
                ))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .map_err(failed("running a rule"))
}

pub fn trigger_name(trigger: &Trigger) -> &'static str {
    match trigger {
        Trigger::TaskCompleted {} => events::TASK_COMPLETED,
        Trigger::TaskOverdue {} => events::TASK_OVERDUE,
        Trigger::CaptureCreated {} => events::CAPTURE_CREATED,
        Trigger::RoutineMissed {} => events::ROUTINE_MISSED,
        Trigger::Schedule { .. } => events::SCHEDULE,
    }
}

/// Whether the subject is still there (and the task it is, for task triggers).
async fn subject(
    conn: &mut Conn,
    about: &Event,
) -> ApiResult<Result<Option<task::Row>, &'static str>> {
    use crate::db::schema::app::{capture_items as c, routines as r};
    let Some(id) = about.subject_id else {
        return Ok(Ok(None));
    };
    let ws = about.workspace_id;
    Ok(match about.trigger.as_str() {
        events::TASK_COMPLETED | events::TASK_OVERDUE => t::table
            .filter(t::workspace_id.eq(ws))
            .filter(t::id.eq(id))
            .select(task::Row::as_select())
            .first(conn)
            .await
            .optional()?
            .map(Some)
            .ok_or("the task no longer exists"),
        events::CAPTURE_CREATED => c::table
            .filter(c::workspace_id.eq(ws))
            .filter(c::id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await
            .map(|n| {
                if n > 0 {
                    Ok(None)
                } else {
                    Err("the capture no longer exists")
                }
            })?,
        events::ROUTINE_MISSED => r::table
            .filter(r::workspace_id.eq(ws))
            .filter(r::id.eq(id))
            .count()
            .get_result::<i64>(conn)
            .await
            .map(|n| {
                if n > 0 {
                    Ok(None)
                } else {
                    Err("the routine no longer exists")
                }
            })?,
        _ => Ok(None),
    })
}

#[allow(clippy::too_many_arguments)]
async fn decide(
    conn: &mut Conn,
    planned: &Planned,
    rule: &RuleNow,
    trigger: &Trigger,
    owner: Uuid,
    zone: chrono_tz::Tz,
    at: DateTime<Utc>,
    per_hour: i64,
) -> ApiResult<Outcome> {
    if let (Trigger::Schedule { .. }, Some(date), Some(instant)) =
        (trigger, planned.date, planned.at)
    {
        let today = at.with_timezone(&zone).date_naive();
        if today > date && at - instant > too_late() {
            return Ok(Outcome::Skipped(format!(
                "not run on {date}: the server was not running at that time"
            )));
        }
    }
    let recent: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM app.rule_runs \
         WHERE created_by = $1 AND ran_at > $2 AND outcome IN ('done', 'failed')",
    )
    .bind::<SqlUuid, _>(owner)
    .bind::<diesel::sql_types::Timestamptz, _>(at - chrono::Duration::hours(1))
    .get_result(conn)
    .await?;
    if recent.n >= per_hour {
        return Ok(Outcome::Limited(format!(
            "over the limit of {per_hour} rule runs an hour"
        )));
    }
    let task = match subject(conn, &planned.about).await? {
        Ok(task) => task,
        Err(gone) => return Ok(Outcome::Skipped(gone.into())),
    };
    let conditions: Vec<Condition> =
        serde_json::from_value(rule.conditions.clone()).map_err(ApiError::internal)?;
    if !conditions.is_empty() {
        match &task {
            None => {
                return Ok(Outcome::Skipped(format!(
                    "conditions look at a task, and a {} trigger has none",
                    planned.about.trigger
                )))
            }
            Some(row) if !holds(&conditions, row) => {
                return Ok(Outcome::Skipped("its conditions do not hold".into()))
            }
            Some(_) => {}
        }
    }
    let actions: Vec<Action> =
        serde_json::from_value(rule.actions.clone()).map_err(ApiError::internal)?;
    let target = task.map(|row| row.id);
    let env = Apply {
        workspace_id: planned.about.workspace_id,
        owner,
        zone,
        at,
        name: &rule.name,
        trigger: &planned.about.trigger,
    };
    // A savepoint: an action that fails takes the rule's other actions with it.
    let applied = conn
        .transaction(|conn| apply(conn, env, target, actions).scope_boxed())
        .await;
    Ok(match applied {
        Ok(()) => Outcome::Done,
        Err(e) if matches!(e.kind, ProblemKind::Unavailable) => return Err(e),
        Err(e) if matches!(e.kind, ProblemKind::Internal) => {
            tracing::error!(error = %e, "rules: an action failed unexpectedly");
            Outcome::Failed("an unexpected error; nothing was changed".into())
        }
        Err(e) => Outcome::Failed(describe(&e)),
    })
}

/// A failed action in words: the problem and each field's complaint.
fn describe(e: &ApiError) -> String {
    let mut text = e.detail.clone();
    for f in &e.errors {
        text.push_str(&format!("; {}: {}", f.field, f.message));
    }
    text
}

/// Whether every condition holds for the task.
pub fn holds(conditions: &[Condition], row: &task::Row) -> bool {
    conditions.iter().all(|c| holds_one(c, row))
}

fn holds_one(c: &Condition, row: &task::Row) -> bool {
    use ConditionOp::*;
    let same_id = |id: Option<Uuid>| id.map(|id| id.to_string()).as_deref() == c.value.as_str();
    match c.field {
        ConditionField::Priority => {
            let (p, v) = (i64::from(row.priority), c.value.as_i64().unwrap_or(0));
            match c.op {
                Eq => p == v,
                Ne => p != v,
                Lt => p < v,
                Gt => p > v,
                Contains => false,
            }
        }
        ConditionField::Energy => {
            let same = row.energy.as_deref() == c.value.as_str();
            match c.op {
                Eq => same,
                Ne => !same,
                _ => false,
            }
        }
        ConditionField::ProjectId | ConditionField::AreaId => {
            let id = match c.field {
                ConditionField::ProjectId => row.project_id,
                _ => row.area_id,
            };
            match c.op {
                Eq => same_id(id),
                Ne => !same_id(id),
                _ => false,
            }
        }
        ConditionField::Label => {
            let want = c.value.as_str().unwrap_or_default().to_lowercase();
            match c.op {
                Eq => row.labels.iter().any(|l| l.to_lowercase() == want),
                Contains => row.labels.iter().any(|l| l.to_lowercase().contains(&want)),
                _ => false,
            }
        }
    }
}

/// Where a rule's actions happen.
#[derive(Clone, Copy)]
struct Apply<'a> {
    workspace_id: Uuid,
    owner: Uuid,
    zone: chrono_tz::Tz,
    at: DateTime<Utc>,
    name: &'a str,
    trigger: &'a str,
}

impl Apply<'_> {
    fn ctx(&self, id: Uuid) -> Ctx {
        Ctx {
            user_id: self.owner,
            workspace_id: self.workspace_id,
            id,
            at: self.at,
        }
    }
}

async fn apply(
    conn: &mut Conn,
    env: Apply<'_>,
    mut target: Option<Uuid>,
    actions: Vec<Action>,
) -> ApiResult<()> {
    for (i, action) in actions.into_iter().enumerate() {
        match action {
            Action::CreateTask { title, due_in_days } => {
                let due_date = match due_in_days {
                    Some(days) => {
                        let today = zone::today(conn, env.owner, env.zone, env.at).await?;
                        Some(today + chrono::Duration::days(days))
                    }
                    None => None,
                };
                let input: TaskInput =
                    serde_json::from_value(json!({"title": title, "due_date": due_date}))
                        .map_err(ApiError::internal)?;
                let ctx = env.ctx(Uuid::now_v7());
                let values = Tasks::validate(conn, ctx, None, input).await?;
                let row = Tasks::insert(conn, ctx, values).await?;
                diesel::update(t::table)
                    .filter(t::workspace_id.eq(env.workspace_id))
                    .filter(t::id.eq(row.id))
                    .set(t::made_by_rule.eq(true))
                    .execute(conn)
                    .await?;
                target.get_or_insert(row.id);
            }
            Action::AddLabel { label } => {
                change_task(conn, env, target, i, "add_label", |input| {
                    let labels = input.labels.get_or_insert_with(Vec::new);
                    if !labels.contains(&label) {
                        labels.push(label);
                    }
                })
                .await?;
            }
            Action::SetPriority { priority } => {
                change_task(conn, env, target, i, "set_priority", |input| {
                    input.priority = i16::try_from(priority).ok();
                })
                .await?;
            }
            Action::Notify { message } => {
                let notification = Notification {
                    title: env.name.to_owned(),
                    body: message.clone(),
                    url: None,
                    topic: None,
                    urgency: None,
                    ttl: None,
                };
                notify(conn, env.owner, notification, None).await?;
            }
        }
    }
    Ok(())
}

/// Changes the target task as a merge patch would: its current fields, changed by `edit`, and
/// checked like any other write of a task.
async fn change_task(
    conn: &mut Conn,
    env: Apply<'_>,
    target: Option<Uuid>,
    index: usize,
    name: &str,
    edit: impl FnOnce(&mut TaskInput),
) -> ApiResult<()> {
    let Some(id) = target else {
        return Err(ApiError::field(
            &format!("actions.{index}"),
            format!(
                "{name} needs a task: a {} trigger has none, and no create_task came before it",
                env.trigger
            ),
        ));
    };
    let row = Tasks::find(conn, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut input = Tasks::input(&row);
    edit(&mut input);
    let values = Tasks::validate(conn, env.ctx(id), Some(&row), input).await?;
    Tasks::update(conn, id, values).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn task(
        priority: i16,
        energy: Option<&str>,
        labels: &[&str],
        project: Option<Uuid>,
    ) -> task::Row {
        let now = Utc::now();
        task::Row {
            id: Uuid::now_v7(),
            workspace_id: Uuid::now_v7(),
            created_by: Uuid::now_v7(),
            title: "t".into(),
            notes: None,
            status: "done".into(),
            priority,
            energy: energy.map(Into::into),
            estimate_minutes: None,
            due_date: None,
            due_time: None,
            due_time_zone: None,
            scheduled_date: None,
            parent_id: None,
            project_id: project,
            area_id: None,
            goal_id: None,
            position: 0,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            recurrence: None,
            recurrence_start: None,
            reset_steps: true,
            completed_at: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }

    fn cond(v: Value) -> Condition {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn conditions_compare_the_tasks_fields() {
        let project = Uuid::now_v7();
        let row = task(2, Some("high"), &["Errand", "phone"], Some(project));
        let yes = [
            json!({"field": "priority", "op": "lt", "value": 3}),
            json!({"field": "priority", "op": "eq", "value": 2}),
            json!({"field": "priority", "op": "gt", "value": 1}),
            json!({"field": "energy", "op": "eq", "value": "high"}),
            json!({"field": "energy", "op": "ne", "value": "low"}),
            json!({"field": "project_id", "op": "eq", "value": project.to_string()}),
            json!({"field": "area_id", "op": "ne", "value": project.to_string()}),
            json!({"field": "label", "op": "eq", "value": "errand"}),
            json!({"field": "label", "op": "contains", "value": "hon"}),
        ];
        for c in yes {
            assert!(holds(&[cond(c.clone())], &row), "{c}");
        }
        let no = [
            json!({"field": "priority", "op": "gt", "value": 2}),
            json!({"field": "energy", "op": "eq", "value": "low"}),
            json!({"field": "project_id", "op": "ne", "value": project.to_string()}),
            json!({"field": "area_id", "op": "eq", "value": project.to_string()}),
            json!({"field": "label", "op": "eq", "value": "err"}),
        ];
        for c in no {
            assert!(!holds(&[cond(c.clone())], &row), "{c}");
        }
        let unset = task(4, None, &[], None);
        assert!(!holds(
            &[cond(json!({"field": "energy", "op": "eq", "value": "low"}))],
            &unset
        ));
        assert!(holds(
            &[cond(json!({"field": "energy", "op": "ne", "value": "low"}))],
            &unset
        ));
        assert!(holds(&[], &unset));
    }
}
