use chrono::{DateTime, NaiveTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    common::{
        fields,
        resource::{check_link, Ctx, Link, ListQuery, Meta, Resource},
    },
    db::{pool::Conn, schema::app::automation_rules as t},
    http::problem::{ApiError, ApiResult, FieldError},
    keyset,
};

const CONDITIONS_MAX: usize = 10;
const ACTIONS_MAX: usize = 10;

/// What starts a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// A task is marked done.
    TaskCompleted {},
    /// A task's due date passes while it is open.
    TaskOverdue {},
    /// Something lands in the inbox.
    CaptureCreated {},
    /// A routine occurrence ends without being done.
    RoutineMissed {},
    /// At a time of day on some weekdays, in the owner's time zone.
    Schedule {
        /// `HH:MM`, 24-hour.
        #[schema(example = "07:30", pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
        at: String,
        /// ISO weekdays, 1 (Monday) to 7 (Sunday); at least one.
        #[schema(value_type = Vec<Weekday>, example = json!([1, 2, 3, 4, 5]), min_items = 1)]
        days: Vec<i64>,
    },
}

/// An ISO weekday, 1 (Monday) to 7 (Sunday). Only the document uses this type.
#[derive(ToSchema)]
#[schema(example = 1)]
pub struct Weekday(#[allow(dead_code)] i64);

/// The task property a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionField {
    /// Integer 1 (highest) to 4; compared with `eq`, `ne`, `lt`, `gt`.
    Priority,
    /// `low`, `medium` or `high`; compared with `eq`, `ne`.
    Energy,
    /// A project id in the rule's workspace; compared with `eq`, `ne`.
    ProjectId,
    /// A label; `eq` (the task has exactly this label) or `contains` (a label contains this text).
    Label,
    /// A life area id in the rule's workspace; compared with `eq`, `ne`.
    AreaId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConditionOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Contains,
}

/// A test on the task (or capture) the trigger is about; every condition must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    #[schema(example = "priority")]
    pub field: ConditionField,
    #[schema(example = "lt")]
    pub op: ConditionOp,
    /// Its type follows from `field`.
    #[schema(example = 3)]
    pub value: Value,
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Action {
    /// Make a task, due some days after the trigger (none: no due date).
    CreateTask {
        /// 1 to 500 characters.
        #[schema(example = "Plan the week")]
        title: String,
        /// 0 to 365.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schema(example = 1, minimum = 0, maximum = 365)]
        due_in_days: Option<i64>,
    },
    /// Add a label (1 to 50 characters) to the task.
    AddLabel {
        #[schema(example = "follow-up")]
        label: String,
    },
    /// Set the task's priority, 1 (highest) to 4.
    SetPriority {
        #[schema(example = 1, minimum = 1, maximum = 4)]
        priority: i64,
    },
    /// Send the owner a notification of 1 to 500 characters.
    Notify {
        #[schema(example = "Time for the weekly review")]
        message: String,
    },
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct Row {
    id: Uuid,
    workspace_id: Uuid,
    created_by: Uuid,
    name: String,
    enabled: bool,
    trigger: Value,
    conditions: Value,
    actions: Value,
    version: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Rule {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub created_by: Uuid,
    #[schema(example = "Urgent work gets a follow-up")]
    pub name: String,
    pub enabled: bool,
    #[schema(value_type = Trigger)]
    pub trigger: Value,
    #[schema(value_type = Vec<Condition>)]
    pub conditions: Value,
    #[schema(value_type = Vec<Action>)]
    pub actions: Value,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `trigger`, `conditions` and `actions` are read as JSON and checked part by part, so that
/// one answer lists every problem of the rule.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    /// Default: your personal workspace. Cannot change later.
    pub workspace_id: Option<Uuid>,
    /// 1 to 200 characters.
    #[schema(example = "Urgent work gets a follow-up")]
    pub name: String,
    /// Default `true`.
    pub enabled: Option<bool>,
    /// A PATCH merges into it (RFC 7396): to switch to a trigger of another type, send
    /// `null` for the old type's fields, e.g. `{"type": "task_completed", "at": null, "days": null}`.
    #[schema(value_type = Trigger)]
    pub trigger: Value,
    /// Up to 10; default none.
    #[schema(value_type = Option<Vec<Condition>>, max_items = 10)]
    pub conditions: Option<Value>,
    /// 1 to 10.
    #[schema(value_type = Vec<Action>, min_items = 1, max_items = 10)]
    pub actions: Value,
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = t)]
pub struct Values {
    name: String,
    enabled: bool,
    trigger: Value,
    conditions: Value,
    actions: Value,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RuleFilter {
    /// `true` lists enabled rules only, `false` disabled ones only.
    pub enabled: Option<bool>,
}

fn error(errors: &mut Vec<FieldError>, field: String, message: impl Into<String>) {
    errors.push(FieldError {
        field,
        message: message.into(),
    });
}

/// Reads `value` as a `T`, naming the failing place below `path`. Inside internally tagged
/// enums serde keeps no position, so the field is taken from the message where it names one.
fn typed<T: DeserializeOwned>(
    value: &Value,
    path: &str,
    errors: &mut Vec<FieldError>,
) -> Option<T> {
    let err = match serde_path_to_error::deserialize::<_, T>(value.clone()) {
        Ok(typed) => return Some(typed),
        Err(err) => err,
    };
    let mut field = path.to_owned();
    let mut located = false;
    for segment in err.path().iter() {
        use serde_path_to_error::Segment;
        match segment {
            Segment::Seq { index } => field.push_str(&format!(".{index}")),
            Segment::Map { key } => field.push_str(&format!(".{key}")),
            Segment::Enum { .. } | Segment::Unknown => continue,
        }
        located = true;
    }
    let message = err.into_inner().to_string();
    if !located {
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned)
        };
        if message.starts_with("unknown variant") {
            field.push_str(".type");
        } else if let Some(name) = named("missing field `").or_else(|| named("unknown field `")) {
            field.push('.');
            field.push_str(&name);
        }
    }
    error(errors, field, message);
    None
}

fn is_in(op: ConditionOp, allowed: &[ConditionOp]) -> bool {
    allowed.contains(&op)
}

fn check_trigger(raw: &Value, errors: &mut Vec<FieldError>) -> Option<Trigger> {
    let trigger = typed::<Trigger>(raw, "trigger", errors)?;
    let Trigger::Schedule { at, days } = trigger else {
        return Some(trigger);
    };
    let at = at.trim().to_owned();
    if at.len() != 5 || NaiveTime::parse_from_str(&at, "%H:%M").is_err() {
        error(
            errors,
            "trigger.at".into(),
            "must be a time of day HH:MM, such as 07:30",
        );
    }
    if days.is_empty() {
        error(errors, "trigger.days".into(), "must name at least one day");
    }
    for (i, day) in days.iter().enumerate() {
        if !(1..=7).contains(day) {
            error(
                errors,
                format!("trigger.days.{i}"),
                "must be an ISO weekday, 1 (Monday) to 7 (Sunday)",
            );
        }
    }
    let mut days = days;
    days.sort_unstable();
    days.dedup();
    Some(Trigger::Schedule { at, days })
}

async fn check_condition(
    conn: &mut Conn,
    workspace_id: Uuid,
    path: &str,
    raw: &Value,
    errors: &mut Vec<FieldError>,
) -> ApiResult<Option<Condition>> {
    use ConditionOp::*;
    let Some(mut c) = typed::<Condition>(raw, path, errors) else {
        return Ok(None);
    };
    let op_field = format!("{path}.op");
    let value_field = format!("{path}.value");
    match c.field {
        ConditionField::Priority => {
            if !is_in(c.op, &[Eq, Ne, Lt, Gt]) {
                error(errors, op_field, "priority compares with eq, ne, lt or gt");
            }
            if !c.value.as_i64().is_some_and(|p| (1..=4).contains(&p)) {
                error(errors, value_field, "must be a priority, an integer 1 to 4");
            }
        }
        ConditionField::Energy => {
            if !is_in(c.op, &[Eq, Ne]) {
                error(errors, op_field, "energy compares with eq or ne");
            }
            if !c
                .value
                .as_str()
                .is_some_and(|e| ["low", "medium", "high"].contains(&e))
            {
                error(errors, value_field, "must be low, medium or high");
            }
        }
        ConditionField::ProjectId | ConditionField::AreaId => {
            if !is_in(c.op, &[Eq, Ne]) {
                error(errors, op_field, "ids compare with eq or ne");
            }
            match c.value.as_str().and_then(|s| Uuid::parse_str(s).ok()) {
                Some(id) => {
                    let link = match c.field {
                        ConditionField::ProjectId => Link::Project,
                        _ => Link::Area,
                    };
                    check_link(conn, link, Some(id), workspace_id, &value_field, errors).await?;
                    // One spelling of the id, so that stored rules compare as text.
                    c.value = Value::String(id.to_string());
                }
                None => error(errors, value_field, "must be an id (UUID)"),
            }
        }
        ConditionField::Label => {
            if !is_in(c.op, &[Eq, Contains]) {
                error(errors, op_field, "label compares with eq or contains");
            }
            match c.value.as_str() {
                Some(label) => {
                    c.value = Value::String(fields::title(&value_field, label, 50, errors));
                }
                None => error(errors, value_field, "must be a label, 1 to 50 characters"),
            }
        }
    }
    Ok(Some(c))
}

fn check_action(path: &str, raw: &Value, errors: &mut Vec<FieldError>) -> Option<Action> {
    let action = typed::<Action>(raw, path, errors)?;
    let field = |name: &str| format!("{path}.{name}");
    Some(match action {
        Action::CreateTask { title, due_in_days } => {
            let title = fields::title(&field("title"), &title, 500, errors);
            fields::range(&field("due_in_days"), due_in_days, 0, 365, errors);
            Action::CreateTask { title, due_in_days }
        }
        Action::AddLabel { label } => Action::AddLabel {
            label: fields::title(&field("label"), &label, 50, errors),
        },
        Action::SetPriority { priority } => {
            fields::range(&field("priority"), Some(priority), 1, 4, errors);
            Action::SetPriority { priority }
        }
        Action::Notify { message } => Action::Notify {
            message: fields::title(&field("message"), &message, 500, errors),
        },
    })
}

/// The elements of a JSON array of at most `max` items (and at least `min`).
fn items<'v>(
    field: &str,
    raw: &'v Value,
    min: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) -> &'v [Value] {
    match raw.as_array() {
        Some(list) if (min..=max).contains(&list.len()) => list,
        Some(list) => {
            error(
                errors,
                field.into(),
                format!("must hold {min} to {max} items"),
            );
            list
        }
        None => {
            error(
                errors,
                field.into(),
                format!("must be an array of {min} to {max} items"),
            );
            &[]
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> ApiResult<Value> {
    serde_json::to_value(value).map_err(ApiError::internal)
}

pub struct Rules;

impl Resource for Rules {
    const TABLE: &'static str = "app.automation_rules";
    type Row = Row;
    type Out = Rule;
    type Input = RuleInput;
    type Values = Values;
    type Filter = RuleFilter;

    fn meta(row: &Row) -> Meta {
        Meta {
            id: row.id,
            workspace_id: row.workspace_id,
            version: row.version,
            created_at: row.created_at,
        }
    }

    fn output(r: Row) -> Rule {
        Rule {
            id: r.id,
            workspace_id: r.workspace_id,
            created_by: r.created_by,
            name: r.name,
            enabled: r.enabled,
            trigger: r.trigger,
            conditions: r.conditions,
            actions: r.actions,
            version: r.version,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }

    fn input(r: &Row) -> RuleInput {
        RuleInput {
            workspace_id: Some(r.workspace_id),
            name: r.name.clone(),
            enabled: Some(r.enabled),
            trigger: r.trigger.clone(),
            conditions: Some(r.conditions.clone()),
            actions: r.actions.clone(),
        }
    }

    fn input_workspace(input: &RuleInput) -> Option<Uuid> {
        input.workspace_id
    }

    async fn validate(
        conn: &mut Conn,
        ctx: Ctx,
        _: Option<&Row>,
        input: RuleInput,
    ) -> ApiResult<Values> {
        let mut errors = Vec::new();
        let name = fields::title("name", &input.name, 200, &mut errors);
        let trigger = check_trigger(&input.trigger, &mut errors);
        let no_conditions = Value::Array(Vec::new());
        let raw_conditions = input.conditions.as_ref().unwrap_or(&no_conditions);
        let mut conditions = Vec::new();
        for (i, raw) in items("conditions", raw_conditions, 0, CONDITIONS_MAX, &mut errors)
            .iter()
            .enumerate()
        {
            let path = format!("conditions.{i}");
            conditions
                .extend(check_condition(conn, ctx.workspace_id, &path, raw, &mut errors).await?);
        }
        let actions: Vec<Action> = items("actions", &input.actions, 1, ACTIONS_MAX, &mut errors)
            .iter()
            .enumerate()
            .filter_map(|(i, raw)| check_action(&format!("actions.{i}"), raw, &mut errors))
            .collect();
        // A trigger that did not parse has left an error behind.
        let trigger = match trigger {
            Some(trigger) if errors.is_empty() => trigger,
            _ => return Err(ApiError::validation(errors)),
        };
        Ok(Values {
            name,
            enabled: input.enabled.unwrap_or(true),
            trigger: to_json(&trigger)?,
            conditions: to_json(&conditions)?,
            actions: to_json(&actions)?,
        })
    }

    crate::row_queries!(t, Row, Values);

    async fn list(conn: &mut Conn, q: ListQuery<RuleFilter>) -> ApiResult<Vec<Row>> {
        let mut query = t::table.select(Row::as_select()).into_boxed();
        if let Some(enabled) = q.filter.enabled {
            query = query.filter(t::enabled.eq(enabled));
        }
        Ok(keyset!(query, t, q).load(conn).await?)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields_of(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn triggers_are_checked_and_normalised() {
        let mut errors = Vec::new();
        let trigger = check_trigger(
            &json!({"type": "schedule", "at": "07:30", "days": [5, 1, 5]}),
            &mut errors,
        );
        assert!(errors.is_empty());
        assert_eq!(
            trigger,
            Some(Trigger::Schedule {
                at: "07:30".into(),
                days: vec![1, 5]
            })
        );
        check_trigger(
            &json!({"type": "schedule", "at": "7:30", "days": [0]}),
            &mut errors,
        );
        check_trigger(
            &json!({"type": "schedule", "at": "24:00", "days": []}),
            &mut errors,
        );
        check_trigger(&json!({"type": "task_completed", "extra": 1}), &mut errors);
        check_trigger(&json!({"type": "sometimes"}), &mut errors);
        check_trigger(&json!({"type": "schedule", "days": [1]}), &mut errors);
        assert_eq!(
            fields_of(&errors),
            [
                "trigger.at",
                "trigger.days.0",
                "trigger.at",
                "trigger.days",
                "trigger.extra",
                "trigger.type",
                "trigger.at"
            ]
        );
        assert_eq!(
            serde_json::to_value(Trigger::TaskCompleted {}).unwrap(),
            json!({"type": "task_completed"})
        );
    }

    #[test]
    fn actions_name_their_fields() {
        let mut errors = Vec::new();
        let ok = check_action(
            "actions.0",
            &json!({"type": "create_task", "title": " Plan "}),
            &mut errors,
        );
        assert_eq!(
            ok,
            Some(Action::CreateTask {
                title: "Plan".into(),
                due_in_days: None
            })
        );
        check_action(
            "actions.1",
            &json!({"type": "create_task", "title": "", "due_in_days": 400}),
            &mut errors,
        );
        check_action(
            "actions.2",
            &json!({"type": "set_priority", "priority": 9}),
            &mut errors,
        );
        check_action("actions.3", &json!({"type": "notify"}), &mut errors);
        check_action("actions.4", &json!("notify"), &mut errors);
        assert_eq!(
            fields_of(&errors),
            [
                "actions.1.title",
                "actions.1.due_in_days",
                "actions.2.priority",
                "actions.3.message",
                "actions.4"
            ]
        );
    }

    #[test]
    fn plain_structs_keep_their_path() {
        let mut errors = Vec::new();
        typed::<Condition>(
            &json!({"field": "colour", "op": "eq", "value": 1}),
            "conditions.2",
            &mut errors,
        );
        typed::<Condition>(
            &json!({"field": "priority", "op": "eq"}),
            "conditions.3",
            &mut errors,
        );
        assert_eq!(
            fields_of(&errors),
            ["conditions.2.field", "conditions.3.value"]
        );
    }
}
