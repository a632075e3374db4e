//! Preview, then confirm. `POST /v1/ai/{feature}/previews` answers a typed proposal and keeps it
//! for 15 minutes; `POST /v1/ai/previews/{id}/confirm` (optionally with edits, validated exactly
//! like `POST /v1/tasks`) applies it in one transaction, once; `DELETE` discards it. Nothing else
//! writes. Providers are called between two transactions, never while one is open.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{dsl::now, prelude::*};
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    features::require_consent,
    heuristics,
    preview_store::{load, model_json, object, record, store, Preview, MAX_TASKS},
};
use crate::{
    common::{
        ai_provider::provider::Provider,
        extractor::{Access, Auth, Principal},
        resource::{resolve_workspace, Ctx, Resource},
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{ai_previews as p, projects, tasks},
    },
    http::{
        json::{Json, OptionalJson},
        problem::{ApiError, ApiResult, FieldError, ProblemKind},
    },
    projects::project::{ProjectInput, Projects},
    smart_add::{self, Draft},
    tasks::task::{TaskInput, Tasks},
};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(smart_add_preview)
        .service(steps_preview)
        .service(project_tasks_preview)
        .service(explain_plan_preview)
        .service(get_preview)
        .service(confirm)
        .service(discard);
}

fn titles_schema() -> Value {
    json!({"type": "OBJECT", "properties": {"tasks": {"type": "ARRAY", "items": {"type": "STRING"}}}, "required": ["tasks"]})
}

fn titles_from(answer: &Value) -> Vec<String> {
    answer["tasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str())
                .filter_map(heuristics::tidy)
                .take(20)
                .collect()
        })
        .unwrap_or_default()
}

// ---- Smart Add ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SmartAddRequest {
    /// One or more tasks in plain words (at most 5,000 characters).
    #[schema(example = "Call mum tomorrow 5pm @phone\nPay rent every 1st of the month #home !1")]
    pub text: String,
    /// Default: your personal workspace.
    pub workspace_id: Option<Uuid>,
}

fn smart_add_schema() -> Value {
    let nullable = |t: &str| json!({"type": t, "nullable": true});
    json!({"type": "OBJECT", "properties": {"tasks": {"type": "ARRAY", "items": {
        "type": "OBJECT",
        "properties": {
            "title": {"type": "STRING"},
            "due_date": {"type": "STRING", "nullable": true, "description": "YYYY-MM-DD"},
            "due_time": {"type": "STRING", "nullable": true, "description": "HH:MM, 24-hour"},
            "priority": {"type": "INTEGER", "nullable": true, "description": "1 (highest) to 4"},
            "project": nullable("STRING"),
            "labels": {"type": "ARRAY", "items": {"type": "STRING"}},
            "estimate_minutes": nullable("INTEGER"),
            "recurrence": {"type": "STRING", "nullable": true, "description": "RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO"},
            "energy": {"type": "STRING", "nullable": true, "enum": ["low", "medium", "high"]}
        },
        "required": ["title"]
    }}}, "required": ["tasks"]})
}

/// Where a provider's draft came from: the title, `#project` and `@labels` as they appear in the
/// input (values the model normalised, such as dates, have no span it could be checked against).
fn locate_spans(text: &str, draft: &mut Draft) {
    let lower = text.to_lowercase();
    // Lower-casing may change byte lengths outside ASCII; then offsets would not point into `text`.
    if lower.len() != text.len() {
        return;
    }
    let mut find = |field: &'static str, needle: String| {
        if let Some(start) = lower.find(&needle.to_lowercase()) {
            let end = start + needle.len();
            draft.spans.push(smart_add::Span {
                field,
                start,
                end,
                text: text[start..end].to_owned(),
            });
        }
    };
    find("title", draft.title.clone());
    if let Some(p) = &draft.project {
        find("project", format!("#{p}"));
    }
    for l in draft.labels.clone() {
        find("labels", format!("@{l}"));
    }
    draft.spans.sort_by_key(|s| s.start);
}

/// Drafts from the provider's JSON; fields that do not parse are dropped, not guessed.
fn drafts_from(answer: &Value, ctx: &smart_add::Context) -> Vec<Draft> {
    let Some(items) = answer["tasks"].as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .take(MAX_TASKS)
        .filter_map(|t| {
            let title = t["title"].as_str()?.trim();
            (!title.is_empty()).then_some(())?;
            let due_date = t["due_date"]
                .as_str()
                .and_then(|d| d.parse::<NaiveDate>().ok());
            let due_time = t["due_time"]
                .as_str()
                .and_then(|s| chrono::NaiveTime::parse_from_str(s, "%H:%M").ok());
            Some(Draft {
                title: title.chars().take(200).collect(),
                due_date,
                due_time,
                due_at: due_date
                    .zip(due_time)
                    .map(|(d, t)| crate::recurrence::place(d, t, ctx.zone)),
                priority: t["priority"]
                    .as_i64()
                    .filter(|p| (1..=4).contains(p))
                    .map(|p| p as i16),
                project: t["project"]
                    .as_str()
                    .map(|s| s.trim_start_matches('#').to_owned()),
                labels: t["labels"]
                    .as_array()
                    .map(|l| {
                        l.iter()
                            .filter_map(|x| x.as_str())
                            .map(|x| x.trim_start_matches('@').to_owned())
                            .collect()
                    })
                    .unwrap_or_default(),
                estimate_minutes: t["estimate_minutes"]
                    .as_i64()
                    .filter(|m| (1..=1440).contains(m))
                    .map(|m| m as i32),
                recurrence: t["recurrence"]
                    .as_str()
                    .filter(|r| crate::recurrence::validate(r).is_ok())
                    .map(str::to_owned),
                energy: t["energy"]
                    .as_str()
                    .filter(|e| ["low", "medium", "high"].contains(e))
                    .map(str::to_owned),
                spans: Vec::new(),
            })
        })
        .collect()
}

/// Smart Add: draft tasks from plain words, each field with the span it was read from.
#[utoipa::path(
    tag = "ai",
    request_body = SmartAddRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The preview (nothing is created yet)", body = Preview),
        (status = 403, description = "AI is off (`/problems/ai-consent-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid text, or the provider blocked it", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The AI provider failed", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 503, description = "The AI provider's quota is used up", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/smart-add/previews")]
pub async fn smart_add_preview(
    state: State,
    auth: Auth,
    body: Json<SmartAddRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let text = body.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > 5_000 {
        return Err(ApiError::field("text", "must be 1 to 5,000 characters"));
    }
    let requested = body.workspace_id;
    let (workspace_id, ctx, locale) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                let workspace_id = resolve_workspace(conn, me.user_id, requested).await?;
                let (ctx, locale) =
                    crate::tasks::task::due_context(conn, me.user_id, me.at).await?;
                Ok((workspace_id, ctx, locale))
            }
            .scope_boxed()
        })
        .await?;
    let fields = object(json!({
        "text": text,
        "today": ctx.today,
        "time_zone": ctx.zone.name(),
        "locale": locale,
    }));
    let drafts = if state.ai.is_local() {
        smart_add::parse(&text, &ctx)
    } else {
        let prompt = format!(
            "Extract the tasks in the user's text. Today is {} in the time zone {} (locale {}). \
             Resolve relative dates against today. Give titles without the date, time, priority, \
             project (#name), labels (@name), duration or recurrence words.\n\nText:\n{}",
            ctx.today,
            ctx.zone.name(),
            locale,
            text
        );
        let answer = model_json(&state.ai, &prompt, &smart_add_schema()).await?;
        let mut drafts = drafts_from(&answer, &ctx);
        for d in &mut drafts {
            locate_spans(&text, d);
        }
        drafts
    };
    if drafts.is_empty() {
        return Err(ApiError::field("text", "holds no task"));
    }
    let sent = record("smart-add", &state.ai, fields);
    store(
        &state,
        &auth,
        workspace_id,
        "smart-add",
        sent,
        json!({"tasks": drafts}),
    )
    .await
}

// ---- Break into steps / project into tasks ----

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepsRequest {
    pub task_id: Uuid,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectTasksRequest {
    pub project_id: Uuid,
}

/// A task or project whose title and notes a titled proposal is made from.
#[derive(Clone, Copy)]
enum Source {
    Task,
    Project,
}

impl Source {
    fn feature(self) -> &'static str {
        match self {
            Source::Task => "break-into-steps",
            Source::Project => "project-tasks",
        }
    }

    /// The row's workspace, title and notes, if the caller can see it.
    async fn read(self, conn: &mut Conn, id: Uuid) -> ApiResult<(Uuid, String, Option<String>)> {
        let row: Option<(Uuid, String, Option<String>)> = match self {
            Source::Task => tasks::table
                .find(id)
                .select((tasks::workspace_id, tasks::title, tasks::notes))
                .first(conn)
                .await
                .optional()?,
            Source::Project => projects::table
                .find(id)
                .select((projects::workspace_id, projects::title, projects::notes))
                .first(conn)
                .await
                .optional()?,
        };
        row.ok_or_else(|| match self {
            Source::Task => ApiError::field("task_id", "is not a task you can see"),
            Source::Project => ApiError::field("project_id", "is not a project you can see"),
        })
    }

    /// The proposed titles: the built-in heuristics offline, else the provider's answer.
    async fn titles(
        self,
        ai: &Provider,
        title: &str,
        notes: Option<&str>,
    ) -> ApiResult<Vec<String>> {
        if ai.is_local() {
            return Ok(match self {
                Source::Task => heuristics::steps(title, notes),
                Source::Project => heuristics::project_tasks(title, notes),
            });
        }
        let instruction = match self {
            Source::Task => "Break this task into concrete steps.",
            Source::Project => "List the tasks this project needs.",
        };
        let prompt = format!(
            "{instruction} Give 2 to 10 short titles, each starting with a verb.\n\nTitle: {title}\nNotes: {}",
            notes.unwrap_or("")
        );
        let found = titles_from(&model_json(ai, &prompt, &titles_schema()).await?);
        if found.is_empty() {
            return Err(ApiError::new(
                ProblemKind::AiProvider,
                "The AI provider proposed nothing",
            ));
        }
        Ok(found)
    }
}

/// Steps for a task, or tasks for a project: read it, ask the provider, keep the preview.
async fn titled_preview(
    state: &State,
    auth: &Auth,
    source: Source,
    id: Uuid,
) -> ApiResult<HttpResponse> {
    let (workspace_id, title, notes) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                source.read(conn, id).await
            }
            .scope_boxed()
        })
        .await?;
    let (prefix, key) = match source {
        Source::Task => ("task", "task_id"),
        Source::Project => ("project", "project_id"),
    };
    let found = source.titles(&state.ai, &title, notes.as_deref()).await?;
    let mut fields = Map::new();
    fields.insert(format!("{prefix}.title"), json!(title));
    fields.insert(format!("{prefix}.notes"), json!(notes));
    let sent = record(source.feature(), &state.ai, fields);
    let tasks: Vec<Value> = found.into_iter().map(|t| json!({"title": t})).collect();
    store(
        state,
        auth,
        workspace_id,
        source.feature(),
        sent,
        json!({key: id, "tasks": tasks}),
    )
    .await
}

/// Break a task into steps (created as its subtasks on confirmation).
#[utoipa::path(
    tag = "ai",
    request_body = StepsRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The preview (nothing is created yet)", body = Preview),
        (status = 403, description = "AI is off", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such task of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/break-into-steps/previews")]
pub async fn steps_preview(
    state: State,
    auth: Auth,
    body: Json<StepsRequest>,
) -> ApiResult<HttpResponse> {
    titled_preview(&state, &auth, Source::Task, body.0.task_id).await
}

/// Break a project into tasks (created in the project on confirmation).
#[utoipa::path(
    tag = "ai",
    request_body = ProjectTasksRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The preview (nothing is created yet)", body = Preview),
        (status = 403, description = "AI is off", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No such project of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/project-tasks/previews")]
pub async fn project_tasks_preview(
    state: State,
    auth: Auth,
    body: Json<ProjectTasksRequest>,
) -> ApiResult<HttpResponse> {
    titled_preview(&state, &auth, Source::Project, body.0.project_id).await
}

// ---- Explain today's plan ----

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ExplainRequest {
    /// Default: today.
    pub date: Option<NaiveDate>,
    pub workspace_id: Option<Uuid>,
}

/// Explain a day's plan (the stored one, or today's preview) in plain words. There is nothing
/// to confirm: the explanation writes nothing.
#[utoipa::path(
    tag = "ai",
    request_body = ExplainRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The explanation", body = Preview),
        (status = 403, description = "AI is off", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No plan stored for that date", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/explain-plan/previews")]
pub async fn explain_plan_preview(
    state: State,
    auth: Auth,
    body: OptionalJson<ExplainRequest>,
) -> ApiResult<HttpResponse> {
    let ExplainRequest { date, workspace_id } = body.0;
    let (plan, zone) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                let c = crate::today::context(conn, me, workspace_id).await?;
                let plan = match date {
                    Some(d) if d != c.date => {
                        crate::plans::plan::stored(conn, me.user_id, c.workspace_id, d)
                            .await?
                            .ok_or_else(ApiError::not_found)?
                    }
                    _ => crate::today::plan_of_today(conn, me.user_id, &c).await?,
                };
                Ok((plan, c.zone))
            }
            .scope_boxed()
        })
        .await?;
    let blocks: Vec<Value> = plan
        .blocks
        .iter()
        .map(|b| json!({"title": b.title, "start": b.start, "end": b.end, "reason": b.reason}))
        .collect();
    let unplanned: Vec<Value> = plan
        .unplanned
        .iter()
        .map(|u| json!({"title": u.title, "reason": u.reason}))
        .collect();
    let fields =
        object(json!({"plan.date": plan.date, "plan.blocks": blocks, "plan.unplanned": unplanned}));
    let text = if state.ai.is_local() {
        heuristics::explain(&plan, zone)
    } else {
        let prompt = format!(
            "Explain this daily plan to its owner in a few friendly sentences, using only the reasons given. Times are UTC; the owner's zone is {}.\n\n{}",
            zone.name(),
            Value::Object(fields.clone())
        );
        let schema = json!({"type": "OBJECT", "properties": {"text": {"type": "STRING"}}, "required": ["text"]});
        let answer = model_json(&state.ai, &prompt, &schema).await?;
        answer["text"].as_str().unwrap_or_default().to_owned()
    };
    let sent = record("explain-plan", &state.ai, fields);
    store(
        &state,
        &auth,
        plan.workspace_id,
        "explain-plan",
        sent,
        json!({"date": plan.date, "text": text}),
    )
    .await
}

// ---- Answering a preview ----

/// A preview of yours.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "The preview", body = Preview),
        (status = 404, description = "No such preview of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/ai/previews/{id}")]
pub async fn get_preview(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let preview = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            load(conn, id, false).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(preview))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// Your edited version of the proposed tasks, each checked exactly like `POST /v1/tasks`
    /// (their workspace, and the parent task or project of steps and project tasks, are the
    /// preview's). Without it, the proposal is applied as it is.
    pub tasks: Option<Vec<TaskInput>>,
    /// Document processing: your edited expense, checked exactly like `POST /v1/expenses`.
    pub expense: Option<crate::business::expenses::ExpenseInput>,
    /// Job pricing: the fee to set instead of the suggested one.
    #[schema(minimum = 0)]
    pub fee_pence: Option<i64>,
}

/// A task input from a draft; a project named in it is looked up in the workspace, or made.
async fn from_draft(
    conn: &mut Conn,
    me: Principal,
    workspace_id: Uuid,
    draft: &Value,
    created_projects: &mut Vec<Value>,
) -> ApiResult<TaskInput> {
    let mut input = json!({
        "title": draft["title"],
        "due_date": draft["due_date"],
        "due_time": draft["due_time"],
        "priority": draft["priority"],
        "labels": draft["labels"],
        "estimate_minutes": draft["estimate_minutes"],
        "recurrence": draft["recurrence"],
        "energy": draft["energy"],
    });
    if let Some(name) = draft["project"].as_str() {
        let found: Option<Uuid> = projects::table
            .filter(projects::workspace_id.eq(workspace_id))
            .filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>("lower(title) = lower(")
                    .bind::<diesel::sql_types::Text, _>(name.to_owned())
                    .sql(")"),
            )
            .select(projects::id)
            .first(conn)
            .await
            .optional()?;
        let project_id = match found {
            Some(id) => id,
            None => {
                let ctx = Ctx {
                    user_id: me.user_id,
                    workspace_id,
                    id: Uuid::now_v7(),
                    at: me.at,
                };
                let project: ProjectInput =
                    serde_json::from_value(json!({"title": name})).map_err(ApiError::internal)?;
                let values = Projects::validate(conn, ctx, None, project).await?;
                let row = Projects::insert(conn, ctx, values).await?;
                created_projects
                    .push(serde_json::to_value(Projects::output(row)).map_err(ApiError::internal)?);
                ctx.id
            }
        };
        input["project_id"] = json!(project_id);
    }
    let input = Value::Object(
        object(input)
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .collect(),
    );
    serde_json::from_value(input).map_err(|e| {
        ApiError::new(
            ProblemKind::AiProvider,
            format!("a draft task is not valid: {e}"),
        )
    })
}

/// Apply a preview, once, in one transaction; optionally with your edits.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    request_body(content = Option<ConfirmRequest>, description = "Optional edits"),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Applied; `result` lists what was created", body = Preview),
        (status = 404, description = "No such preview of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or discarded, or nothing to apply", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 410, description = "The preview expired", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "An edited task is invalid (`errors` name `tasks.N.field`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/previews/{id}/confirm")]
pub async fn confirm(
    state: State,
    auth: Auth,
    id: web::Path<Uuid>,
    body: OptionalJson<ConfirmRequest>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let ConfirmRequest {
        tasks: edits,
        expense,
        fee_pence,
    } = body.0;
    if edits
        .as_ref()
        .is_some_and(|t| t.is_empty() || t.len() > MAX_TASKS)
    {
        return Err(ApiError::field(
            "tasks",
            format!("must hold 1 to {MAX_TASKS} tasks"),
        ));
    }
    let preview = auth
        .tx(&state.db, Access::Write, move |conn, me| {
            async move {
                let preview = load(conn, id, true).await?;
                answerable(&preview, me.at)?;
                let applied = match preview.feature.as_str() {
                    "document-processing" => {
                        Some(super::documents::apply(conn, me, &preview, expense).await?)
                    }
                    "job-pricing" => {
                        Some(super::pricing::apply(conn, me, &preview, fee_pence).await?)
                    }
                    _ => None,
                };
                if let Some(result) = applied {
                    settle(conn, id, &result).await?;
                    return load(conn, id, false).await;
                }
                let anchor = Anchor::of(&preview)?;
                let ws = preview.workspace_id;
                let mut created_projects = Vec::new();
                let inputs = match edits {
                    Some(edits) => edits,
                    None => {
                        let drafts = preview.proposal["tasks"].as_array().cloned();
                        let mut out = Vec::new();
                        for draft in drafts.unwrap_or_default() {
                            out.push(
                                from_draft(conn, me, ws, &draft, &mut created_projects).await?,
                            );
                        }
                        out
                    }
                };
                let values = validate_all(conn, me, ws, &anchor, inputs).await?;
                let mut created = Vec::new();
                for (ctx, v) in values {
                    let row = Tasks::insert(conn, ctx, v).await?;
                    created.push(
                        serde_json::to_value(Tasks::output(row)).map_err(ApiError::internal)?,
                    );
                }
                let result = json!({"tasks": created, "projects": created_projects});
                settle(conn, id, &result).await?;
                load(conn, id, false).await
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Where a confirmed preview's tasks go: under the task broken into steps, into the project
/// given tasks, or neither.
struct Anchor {
    parent: Option<Value>,
    project: Option<Value>,
}

/// A preview may still be answered while it is pending and has not expired.
fn answerable(preview: &Preview, at: DateTime<Utc>) -> ApiResult<()> {
    if preview.status != "pending" {
        return Err(ApiError::new(
            ProblemKind::Conflict,
            format!("This preview is already {}", preview.status),
        ));
    }
    if preview.expires_at < at {
        return Err(ApiError::new(
            ProblemKind::PreviewExpired,
            "This preview expired; ask for a new one",
        ));
    }
    Ok(())
}

/// Marks the preview confirmed with what confirming it made.
async fn settle(conn: &mut Conn, id: Uuid, result: &Value) -> ApiResult<()> {
    diesel::update(p::table.find(id))
        .set((
            p::status.eq("confirmed"),
            p::answered_at.eq(now),
            p::result.eq(result),
            p::version.eq(p::version + 1),
            p::updated_at.eq(now),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

impl Anchor {
    /// Where the tasks of a preview of a feature that creates tasks go.
    fn of(preview: &Preview) -> ApiResult<Self> {
        let (parent, project) = match preview.feature.as_str() {
            "smart-add" => (None, None),
            "break-into-steps" => (Some(preview.proposal["task_id"].clone()), None),
            "project-tasks" => (None, Some(preview.proposal["project_id"].clone())),
            _ => {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    "This preview has nothing to apply",
                ))
            }
        };
        Ok(Anchor { parent, project })
    }
}

/// Every task checked like `POST /v1/tasks` in the preview's workspace and anchor; the errors of
/// all of them at once, named `tasks.N.field`.
async fn validate_all(
    conn: &mut Conn,
    me: Principal,
    ws: Uuid,
    anchor: &Anchor,
    inputs: Vec<TaskInput>,
) -> ApiResult<Vec<(Ctx, crate::tasks::task::Values)>> {
    let mut errors: Vec<FieldError> = Vec::new();
    let mut values = Vec::new();
    for (n, mut input) in inputs.into_iter().enumerate() {
        input.workspace_id = Some(ws);
        if let Some(parent) = &anchor.parent {
            input.parent_id = serde_json::from_value(parent.clone()).ok();
        }
        if let Some(project) = &anchor.project {
            input.project_id = serde_json::from_value(project.clone()).ok();
        }
        let ctx = Ctx {
            user_id: me.user_id,
            workspace_id: ws,
            id: Uuid::now_v7(),
            at: me.at,
        };
        match Tasks::validate(conn, ctx, None, input).await {
            Ok(v) => values.push((ctx, v)),
            Err(e) if e.kind == ProblemKind::Validation => {
                errors.extend(e.errors.into_iter().map(|f| FieldError {
                    field: format!("tasks.{n}.{}", f.field),
                    message: f.message,
                }))
            }
            Err(e) => return Err(e),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Discard a preview: it will not be applied.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Discarded"),
        (status = 404, description = "No such preview of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed or discarded", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/ai/previews/{id}")]
pub async fn discard(state: State, auth: Auth, id: web::Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            let preview = load(conn, id, true).await?;
            if preview.status != "pending" {
                return Err(ApiError::new(
                    ProblemKind::Conflict,
                    format!("This preview is already {}", preview.status),
                ));
            }
            diesel::update(p::table.find(id))
                .set((
                    p::status.eq("discarded"),
                    p::answered_at.eq(now),
                    p::updated_at.eq(now),
                ))
                .execute(conn)
                .await?;
            Ok(())
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
