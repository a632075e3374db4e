//! The contract as strict as the server: what the resources' validation enforces and utoipa's
//! attributes cannot say (enumerations kept in the validation's own lists, the printable-text
//! rule of titles, the form of `If-Match` and `Idempotency-Key`), written into the OpenAPI
//! document after it is collected; then every operation's summary and description, and an
//! example for every request body built from its fields' examples.

use serde_json::{json, Map, Value};

use crate::http::problem::ProblemKind;

/// Text with at least one visible character and no control characters (U+0000 to U+001F,
/// U+007F to U+009F): what `common::fields::title` accepts once trimmed.
pub const PRINTABLE: &str = "^[^\\u0000-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u001F\\u007F-\\u009F]*$";
/// Like [`PRINTABLE`], but line breaks and tabs are allowed (a capture's text).
pub const MULTILINE: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*[^\\s\\u0000-\\u001F\\u007F-\\u009F][^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";
/// A time of day as the server reads it: `HH:MM`, seconds optional.
pub const TIME_OF_DAY: &str = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?$";

/// Schema → property → the values validation accepts. Lists come from the resources' own checks.
fn enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    use crate::{
        account::preferences as prefs, business, captures, goals, projects, reviews, tasks,
    };
    let v = |list: &[&'static str]| list.to_vec();
    let mut capture_states = v(captures::capture::SETTABLE);
    capture_states.push("converted");
    vec![
        ("TaskInput", "status", v(tasks::task::STATUSES)),
        ("Task", "status", v(tasks::task::STATUSES)),
        ("TaskInput", "energy", v(tasks::task::ENERGIES)),
        ("Task", "energy", v(tasks::task::ENERGIES)),
        ("TaskBrief", "energy", v(tasks::task::ENERGIES)),
        ("GoalInput", "status", v(goals::goal::STATUSES)),
        ("Goal", "status", v(goals::goal::STATUSES)),
        ("ProjectInput", "status", v(projects::project::STATUSES)),
        ("Project", "status", v(projects::project::STATUSES)),
        ("CaptureInput", "source", v(captures::capture::SOURCES)),
        ("Capture", "source", v(captures::capture::SOURCES)),
        ("CaptureInput", "status", v(captures::capture::SETTABLE)),
        ("Capture", "status", capture_states),
        ("ReviewInput", "kind", v(reviews::review::KINDS)),
        ("Review", "kind", v(reviews::review::KINDS)),
        ("Decision", "status", vec!["open", "decided"]),
        ("Completion", "outcome", vec!["done", "skipped"]),
        ("RoutineOccurrence", "outcome", vec!["done", "skipped"]),
        ("RoutineToday", "outcome", vec!["done", "skipped"]),
        (
            "RuleRun",
            "outcome",
            vec!["done", "skipped", "failed", "limited"],
        ),
        (
            "RuleRun",
            "trigger",
            vec![
                "task_completed",
                "task_overdue",
                "capture_created",
                "routine_missed",
                "schedule",
            ],
        ),
        ("Onboarding", "guidance_level", v(prefs::GUIDANCE)),
        ("Onboarding", "available_time", v(prefs::AVAILABLE_TIME)),
        ("Onboarding", "default_energy", v(prefs::ENERGY)),
        ("InvoiceInput", "form", v(business::invoices::FORMS)),
        ("Invoice", "form", v(business::invoices::FORMS)),
        ("Invoice", "status", v(business::invoices::STATUSES)),
        ("PaymentInput", "method", v(business::payments::METHODS)),
        ("Payment", "method", v(business::payments::METHODS)),
        ("Document", "kind", vec!["invoice", "credit_note"]),
        ("Quote", "status", v(business::quotes::STATUSES)),
        ("DocumentEmail", "status", v(business::mailing::STATUSES)),
        (
            "RecurringInvoiceInput",
            "action",
            v(business::recurring::ACTIONS),
        ),
        (
            "RecurringInvoice",
            "action",
            v(business::recurring::ACTIONS),
        ),
        ("PublicQuote", "status", v(business::quotes::STATUSES)),
        (
            "WebhookReceipt",
            "outcome",
            vec![
                "recorded",
                "duplicate",
                "ignored",
                "unknown_invoice",
                "invoice_not_payable",
            ],
        ),
        ("SetPlan", "plan", v(crate::subscriptions::PLANS)),
        ("Me", "plan", v(crate::subscriptions::PLANS)),
        ("AdminUser", "plan", v(crate::subscriptions::PLANS)),
        ("PlanInfo", "name", v(crate::subscriptions::PLANS)),
        ("AccessToken", "scope", vec!["read", "write"]),
        ("Session", "mode", vec!["token", "cookie"]),
        ("Workspace", "kind", vec!["personal", "shared"]),
        ("Workspace", "role", vec!["owner", "member"]),
        ("Member", "role", vec!["owner", "member"]),
        (
            "PlanLine",
            "status",
            vec!["proposed", "accepted", "rejected", "unplanned"],
        ),
        (
            "Preview",
            "status",
            vec!["pending", "confirmed", "discarded"],
        ),
        (
            "Used",
            "kind",
            vec![
                "task",
                "routine_completion",
                "focus_session",
                "review",
                "goal",
            ],
        ),
        ("Health", "status", vec!["ok", "ready"]),
        ("Accepted", "status", vec!["accepted"]),
        ("Status", "status", vec!["verified"]),
        (
            "BusinessProfileInput",
            "work_type",
            v(business::profile::WORK_TYPES),
        ),
        (
            "BusinessProfile",
            "work_type",
            v(business::profile::WORK_TYPES),
        ),
        ("BusinessJobInput", "status", v(business::jobs::STATUSES)),
        ("BusinessJob", "status", v(business::jobs::STATUSES)),
        ("BusinessJobInput", "fee_kind", v(business::jobs::FEE_KINDS)),
        ("BusinessJob", "fee_kind", v(business::jobs::FEE_KINDS)),
    ]
}

/// Query parameters (path, name) → accepted values.
fn query_enums() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    use crate::{captures, goals, projects, reviews, tasks};
    let mut task_states = tasks::task::STATUSES.to_vec();
    task_states.push("open");
    let mut capture_states = captures::capture::SETTABLE.to_vec();
    capture_states.push("converted");
    vec![
        ("/v1/tasks", "status", task_states),
        ("/v1/goals", "status", goals::goal::STATUSES.to_vec()),
        (
            "/v1/projects",
            "status",
            projects::project::STATUSES.to_vec(),
        ),
        ("/v1/captures", "status", capture_states),
        ("/v1/decisions", "status", vec!["open", "decided"]),
        ("/v1/reviews", "kind", reviews::review::KINDS.to_vec()),
        (
            "/v1/business-jobs",
            "status",
            crate::business::jobs::STATUSES.to_vec(),
        ),
    ]
}

/// How a text field is checked (trimmed first): `Printable(max)` is `fields::title`,
/// `Multiline(max)` a capture's text, `Words(max)` free text (`fields::text`), `Label(max)` each
/// item of a list of short labels.
#[derive(Clone, Copy)]
enum Text {
    Printable(u32),
    Multiline(u32),
    Words(u32),
    Visible(u32),
}

fn texts() -> Vec<(&'static str, &'static str, Text)> {
    use Text::*;
    vec![
        ("TaskInput", "title", Printable(500)),
        ("TaskInput", "notes", Words(20_000)),
        ("GoalInput", "title", Printable(200)),
        ("GoalInput", "why", Words(5000)),
        ("MilestoneInput", "title", Printable(200)),
        ("ProjectInput", "title", Printable(200)),
        ("ProjectInput", "notes", Words(20_000)),
        ("AreaInput", "name", Printable(100)),
        ("WorkspaceInput", "name", Printable(200)),
        ("RoutineInput", "title", Printable(200)),
        ("RoutineStep", "title", Printable(200)),
        ("DecisionInput", "title", Printable(200)),
        ("DecisionInput", "context", Words(20_000)),
        ("DecisionOptionInput", "title", Printable(200)),
        ("FocusSessionInput", "note", Words(5000)),
        ("CaptureInput", "text", Multiline(5000)),
        ("RuleInput", "name", Printable(200)),
        ("SmartAddRequest", "text", Visible(5000)),
        ("BusinessProfileInput", "business_name", Printable(200)),
        ("ClientInput", "name", Printable(200)),
        ("ClientInput", "notes", Words(20_000)),
        ("BusinessJobInput", "title", Printable(200)),
        ("LineInput", "description", Printable(1000)),
        ("InvoiceInput", "notes", Words(5000)),
        ("CreditNoteInput", "reason", Words(1000)),
        ("PaymentInput", "reference", Words(200)),
        ("VoidInput", "reason", Words(500)),
        ("QuoteInput", "notes", Words(5000)),
        ("AnswerInput", "name", Printable(200)),
    ]
}

/// Completes the document. Works on its JSON form; each changed schema and path is read back
/// on its own (utoipa cannot read back some schemas it writes, such as the empty schema of a
/// free-form field, and those are left as they are).
pub fn apply(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{path::PathItem, schema::Schema, RefOr};
    let Ok(before) = serde_json::to_value(&*doc) else {
        return;
    };
    let mut after = before.clone();
    complete(&mut after);
    if let Some(components) = doc.components.as_mut() {
        for (name, schema) in after["components"]["schemas"]
            .as_object()
            .into_iter()
            .flatten()
        {
            if before["components"]["schemas"][name] != *schema {
                let parsed: RefOr<Schema> = serde_json::from_value(schema.clone())
                    .unwrap_or_else(|e| panic!("schema {name} after the contract pass: {e}"));
                components.schemas.insert(name.clone(), parsed);
            }
        }
    }
    for (path, item) in after["paths"].as_object().into_iter().flatten() {
        if before["paths"][path] != *item {
            let parsed: PathItem = serde_json::from_value(item.clone())
                .unwrap_or_else(|e| panic!("path {path} after the contract pass: {e}"));
            doc.paths.paths.insert(path.clone(), parsed);
        }
    }
}

fn complete(doc: &mut Value) {
    constrain_schemas(&mut doc["components"]["schemas"]);
    close_request_objects(doc);
    patch_schemas(doc);
    let components = doc["components"]["schemas"].clone();
    let query_enums = query_enums();
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            complete_operation(path, method, op, &components, &query_enums);
        }
    }
}

/// A merge patch sends any subset of a resource's fields, so its body is `XPatch`: `X` with no
/// field required (a typed client then accepts `{priority: 1}` alone).
fn patch_schemas(doc: &mut Value) {
    let with_required: Vec<String> = doc["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, s)| s["required"].as_array().is_some_and(|r| !r.is_empty()))
        .map(|(name, _)| name.clone())
        .collect();
    let mut patches = Vec::new();
    for item in doc["paths"]
        .as_object_mut()
        .into_iter()
        .flat_map(|p| p.values_mut())
    {
        for op in item
            .as_object_mut()
            .into_iter()
            .flat_map(|i| i.values_mut())
        {
            let Some(schema) =
                op.pointer_mut("/requestBody/content/application~1merge-patch+json/schema")
            else {
                continue;
            };
            let Some(name) = schema["$ref"]
                .as_str()
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
                .map(str::to_owned)
            else {
                continue;
            };
            if !with_required.contains(&name) {
                continue;
            }
            let patch = format!("{}Patch", name.strip_suffix("Input").unwrap_or(&name));
            schema["$ref"] = json!(format!("#/components/schemas/{patch}"));
            patches.push((name, patch));
        }
    }
    let schemas = &mut doc["components"]["schemas"];
    for (name, patch) in patches {
        if schemas.get(&patch).is_some() {
            continue;
        }
        let mut partial = schemas[&name].clone();
        if let Some(object) = partial.as_object_mut() {
            object.remove("required");
            object.insert(
                "description".into(),
                json!(format!(
                    "Any subset of the fields of `{name}`; `null` clears an optional one."
                )),
            );
        }
        schemas[&patch] = partial;
    }
}

/// What validation enforces on the named schemas' fields: enumerations, text rules, bounds.
fn constrain_schemas(schemas: &mut Value) {
    for (schema, property, values) in enums() {
        if let Some(p) = schemas[schema]["properties"].get_mut(property) {
            enumerate(p, &values);
        }
    }
    for (schema, property, text) in texts() {
        if let Some(p) = schemas[schema]["properties"].get_mut(property) {
            constrain_text(p, text);
        }
    }
    // The actions of a rule are checked like titles (`rules::check_action`).
    for variant in schemas["Action"]["oneOf"]
        .as_array_mut()
        .into_iter()
        .flatten()
    {
        for (property, text) in [
            ("title", Text::Printable(500)),
            ("label", Text::Printable(50)),
            ("message", Text::Printable(500)),
        ] {
            if let Some(p) = variant["properties"].get_mut(property) {
                constrain_text(p, text);
            }
        }
    }
    if let Some(day) = schemas.get_mut("Weekday") {
        day["minimum"] = json!(1);
        day["maximum"] = json!(7);
    }
    for (schema, property) in [
        ("SignupRequest", "password"),
        ("ResetConfirmRequest", "new_password"),
        ("ChangePasswordRequest", "new_password"),
    ] {
        if let Some(p) = schemas[schema]["properties"].get_mut(property) {
            p["minLength"] = json!(crate::common::password::MIN_LENGTH);
            p["maxLength"] = json!(crate::common::password::MAX_LENGTH);
        }
    }
    for (schema, property) in [
        ("SignupRequest", "email"),
        ("SigninRequest", "email"),
        ("EmailRequest", "email"),
    ] {
        if let Some(p) = schemas[schema]["properties"].get_mut(property) {
            p["format"] = json!("email");
            p["maxLength"] = json!(254);
        }
    }
    if let Some(label) = schemas.get_mut("Label") {
        label["minLength"] = json!(1);
        label["maxLength"] = json!(50);
        label["pattern"] = json!("\\S");
    }
    let kinds: Vec<&str> = ProblemKind::ALL.iter().map(|k| k.type_path()).collect();
    if let Some(p) = schemas["Problem"]["properties"].get_mut("type") {
        enumerate(p, &kinds);
    }
}

/// One operation: its headers' and query parameters' formats, the 412 of `If-Match`, its
/// summary and description, and its body's example.
fn complete_operation(
    path: &str,
    method: &str,
    op: &mut Value,
    components: &Value,
    query_enums: &[(&'static str, &'static str, Vec<&'static str>)],
) {
    for param in op["parameters"].as_array_mut().into_iter().flatten() {
        let name = param["name"].as_str().unwrap_or_default().to_owned();
        match (param["in"].as_str(), name.as_str()) {
            (Some("header"), "If-Match") => {
                // A header is text or absent, never null.
                param["schema"] = json!({
                    "type": "string",
                    "pattern": "^(\\*|(W/)?\"[0-9]{1,9}\")$",
                });
            }
            (Some("header"), "Idempotency-Key") => {
                param["schema"] = json!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 255,
                    "pattern": "^[!-~]+$",
                });
            }
            (Some("query"), "cursor") if path == "/v1/admin/audit" => {
                // The audit log's cursor is the last entry's id.
                param["schema"]["pattern"] = json!("^[0-9]{1,18}$");
            }
            (Some("query"), _) => {
                if let Some((_, _, values)) = query_enums
                    .iter()
                    .find(|(p, n, _)| *p == path && *n == name)
                {
                    enumerate(&mut param["schema"], values);
                }
            }
            _ => {}
        }
    }
    let takes_if_match = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["name"] == "If-Match"));
    if takes_if_match && op["responses"].get("412").is_none() {
        op["responses"]["412"] = json!({
            "description": "Changed since that ETag (`/problems/precondition-failed`)",
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }},
        });
    }
    describe(path, method, op);
    if let Some(body) = op.get_mut("requestBody") {
        not_null_body(body);
        add_body_example(body, components);
    }
}

/// Request bodies refuse fields they do not know (`deny_unknown_fields`, and the merge patches of
/// settings and onboarding): every object schema a body uses says `additionalProperties: false`.
/// Schemas that are also part of an `allOf` (an answer that adds fields to them) stay open.
fn close_request_objects(doc: &mut Value) {
    fn refs(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                    out.push(r.trim_start_matches("#/components/schemas/").to_owned());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    fn close(schema: &mut Value) {
        match schema {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                for (key, value) in map.iter_mut() {
                    // Property values are schemas; `properties` itself is a name → schema map.
                    if key == "properties" {
                        value
                            .as_object_mut()
                            .into_iter()
                            .flatten()
                            .for_each(|(_, v)| close(v));
                    } else if key != "example" && key != "examples" {
                        close(value);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    let mut extended = Vec::new();
    refs(
        &collect_all_of(&doc["components"]["schemas"]),
        &mut extended,
    );
    let mut todo = Vec::new();
    for item in doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(_, i)| i)
    {
        for op in item.as_object().into_iter().flatten().map(|(_, o)| o) {
            refs(&op["requestBody"], &mut todo);
        }
    }
    let mut seen: Vec<String> = Vec::new();
    while let Some(name) = todo.pop() {
        if seen.contains(&name) || extended.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        refs(&doc["components"]["schemas"][&name], &mut todo);
    }
    for name in seen {
        if let Some(schema) = doc["components"]["schemas"].get_mut(&name) {
            close(schema);
        }
    }
}

/// Every `allOf` list among the components.
fn collect_all_of(schemas: &Value) -> Value {
    fn walk(value: &Value, out: &mut Vec<Value>) {
        match value {
            Value::Object(map) => {
                if let Some(all) = map.get("allOf") {
                    out.push(all.clone());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schemas, &mut out);
    Value::Array(out)
}

/// `values` as the property's `enum`; a nullable property keeps `null` among them.
fn enumerate(schema: &mut Value, values: &[&str]) {
    let nullable = schema["type"]
        .as_array()
        .is_some_and(|t| t.iter().any(|t| t == "null"));
    let mut list: Vec<Value> = values.iter().map(|v| json!(v)).collect();
    if nullable {
        list.push(Value::Null);
    }
    schema["enum"] = Value::Array(list);
}

fn constrain_text(schema: &mut Value, text: Text) {
    let (min, max, pattern) = match text {
        Text::Printable(max) => (1, max, Some(PRINTABLE)),
        Text::Multiline(max) => (1, max, Some(MULTILINE)),
        Text::Words(max) => (0, max, None),
        Text::Visible(max) => (1, max, Some("\\S")),
    };
    if min > 0 {
        schema["minLength"] = json!(min);
    }
    schema["maxLength"] = json!(max);
    if let Some(pattern) = pattern {
        schema["pattern"] = json!(pattern);
    }
}

/// Summaries for operations whose doc comment opens with a sentence too long for one line
/// (their whole doc comment becomes the description).
const SUMMARIES: &[(&str, &str, &str)] = &[
    (
        "post",
        "/v1/auth/verify-email/resend",
        "Send the verification mail again",
    ),
    (
        "get",
        "/v1/account/export",
        "Download all my data as one JSON archive",
    ),
    (
        "delete",
        "/v1/account",
        "Delete my account and everything that is only mine",
    ),
    (
        "delete",
        "/v1/workspaces/{id}",
        "Delete a shared workspace and everything in it",
    ),
    (
        "post",
        "/v1/invites/accept",
        "Join a workspace with an invitation token",
    ),
    (
        "post",
        "/v1/tasks/{id}/complete",
        "Complete a task, or move a recurring one to its next date",
    ),
    (
        "post",
        "/v1/routines/{id}/completions",
        "Record an occurrence of a routine as done or skipped",
    ),
    (
        "post",
        "/v1/captures/{id}/convert",
        "Turn a capture into a task or a project",
    ),
    (
        "post",
        "/v1/plan-items/{id}/accept",
        "Accept a line of a plan",
    ),
    (
        "post",
        "/v1/plan-items/{id}/reject",
        "Reject a line of a plan and move its task",
    ),
    ("get", "/v1/today", "Today at a glance"),
    (
        "get",
        "/v1/assistant",
        "Answers to a fixed set of questions from your own data",
    ),
    ("get", "/v1/admin/stats", "Statistics for administrators"),
    ("post", "/v1/admin/users/{user_ref}/lock", "Lock an account"),
    (
        "post",
        "/v1/ai/smart-add/previews",
        "Smart Add: draft tasks from plain words",
    ),
    (
        "post",
        "/v1/ai/transcriptions",
        "Transcribe a voice recording",
    ),
];

/// A one-line summary (the doc comment's first sentence) and a description: the rest of the doc
/// comment, then how the operation is called (credentials, body, pages, versions, retries).
fn describe(path: &str, method: &str, op: &mut Value) {
    let mut text = op["summary"].as_str().unwrap_or_default().trim().to_owned();
    if let Some(more) = op["description"].as_str().filter(|d| !d.trim().is_empty()) {
        text = format!("{text}\n\n{}", more.trim());
    }
    let (mut summary, mut rest) = first_sentence(&text);
    if let Some((_, _, short)) = SUMMARIES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
    {
        summary = (*short).to_owned();
        rest = &text;
    }
    let mut description: Vec<String> = Vec::new();
    if !rest.is_empty() {
        description.push(rest.to_owned());
    }
    let params: Vec<(String, String)> = op["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["in"].as_str().unwrap_or_default().to_owned(),
                p["name"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let has = |place: &str, name: &str| params.iter().any(|(i, n)| i == place && n == name);
    let mut how: Vec<&str> = Vec::new();
    if op.get("security").is_some() && method == "get" {
        how.push("Needs a bearer token (an access token or a personal access token) or the session cookie.");
    } else if op.get("security").is_some() {
        how.push("Needs a bearer token (an access token or a personal access token) or the session cookie, which also needs `X-CSRF-Token` here.");
    } else {
        how.push("Needs no credentials.");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        if content.contains_key("application/merge-patch+json") {
            how.push("The body is a JSON merge patch (RFC 7396): only the fields sent change, and `null` clears one; the result is validated like a create.");
        } else if content.contains_key("application/json") {
            how.push(
                "The body is JSON; every invalid field is named in the `errors` of a 422 answer.",
            );
        }
    }
    if has("query", "cursor") {
        how.push("Lists are pages: pass `next_cursor` back as `cursor` for the next one.");
    }
    if has("header", "If-Match") {
        how.push("Send the `ETag` you last saw as `If-Match` to refuse lost updates (412).");
    }
    if has("header", "Idempotency-Key") {
        how.push("Send an `Idempotency-Key` to make retries safe.");
    }
    if method == "get" && how.len() == 1 && description.is_empty() {
        how.push("Safe to repeat: it changes nothing.");
    }
    description.push(how.join(" "));
    op["summary"] = json!(summary);
    op["description"] = json!(description.join("\n\n"));
}

/// The first sentence without its full stop, and what follows.
fn first_sentence(text: &str) -> (String, &str) {
    let end = text
        .char_indices()
        .find(|&(i, c)| c == '.' && text[i + 1..].chars().next().is_none_or(char::is_whitespace))
        .map(|(i, _)| i);
    match end {
        Some(i) => (
            text[..i].split_whitespace().collect::<Vec<_>>().join(" "),
            text[i + 1..].trim(),
        ),
        None => (text.split_whitespace().collect::<Vec<_>>().join(" "), ""),
    }
}

/// An optional body (`Option<T>` in the handler's annotation) is documented as `T` or `null`;
/// the server takes the body or no body at all, never a JSON `null`.
fn not_null_body(body: &mut Value) {
    let mut optional = false;
    for media in body["content"]
        .as_object_mut()
        .into_iter()
        .flatten()
        .map(|(_, m)| m)
    {
        let variants = media["schema"]["oneOf"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if variants.len() == 2 && variants.iter().any(|v| v["type"] == "null") {
            if let Some(schema) = variants.into_iter().find(|v| v["type"] != "null") {
                media["schema"] = schema;
                optional = true;
            }
        }
    }
    if optional {
        body["required"] = json!(false);
    }
}

/// A request body without an example gets one made of its fields' examples (and, for required
/// fields without one, a value of their type).
fn add_body_example(body: &mut Value, components: &Value) {
    let Some(content) = body["content"].as_object_mut() else {
        return;
    };
    for (media_type, media) in content.iter_mut() {
        let json = media_type.ends_with("json");
        if !json || media.get("example").is_some() || media.get("examples").is_some() {
            continue;
        }
        if let Some(example) = example_of(&media["schema"], components, 0) {
            media["example"] = example;
        }
    }
}

fn resolve<'a>(schema: &'a Value, components: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &components[r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

fn example_of(schema: &Value, components: &Value, depth: usize) -> Option<Value> {
    if depth > 4 {
        return None;
    }
    let schema = resolve(schema, components);
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(example) = schema["examples"].as_array().and_then(|e| e.first()) {
        return Some(example.clone());
    }
    if let Some(first) = schema["enum"].as_array().and_then(|e| e.first()) {
        return Some(first.clone());
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(variants) = schema[key].as_array() {
            return variants
                .iter()
                .filter(|v| v["type"] != "null")
                .find_map(|v| example_of(v, components, depth + 1));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(t) => t.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"object") || schema.get("properties").is_some() {
        let required: Vec<&str> = schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut out = Map::new();
        for (name, property) in schema["properties"].as_object().into_iter().flatten() {
            let has_own = property.get("example").is_some()
                || resolve(property, components).get("example").is_some();
            if has_own || required.contains(&name.as_str()) {
                if let Some(v) = example_of(property, components, depth + 1) {
                    out.insert(name.clone(), v);
                }
            }
        }
        return Some(Value::Object(out));
    }
    let format = schema["format"].as_str().unwrap_or_default();
    match types.first().copied() {
        Some("string") => Some(json!(match format {
            "uuid" => "01936b2e-8f5c-7cc2-9f3e-2f1d0f6b8a11",
            "date" => "2026-12-01",
            "date-time" => "2026-12-01T09:00:00Z",
            "email" => "ada@example.com",
            _ => "text",
        })),
        Some("integer") | Some("number") => {
            Some(schema.get("minimum").cloned().unwrap_or(json!(1)))
        }
        Some("boolean") => Some(json!(true)),
        Some("array") => Some(match example_of(&schema["items"], components, depth + 1) {
            Some(item) => json!([item]),
            None => json!([]),
        }),
        _ => None,
    }
}

/// The body and query parameter schemas of every operation, references resolved, for the
/// parsers' messages (`http::json`): what a field must be is read from the same document the
/// clients read.
pub struct OperationSchemas(Value);

impl OperationSchemas {
    pub fn of(doc: &utoipa::openapi::OpenApi) -> Self {
        Self(serde_json::to_value(doc).unwrap_or_default())
    }

    fn operation(&self, path: &str, method: &actix_web::http::Method) -> &Value {
        &self.0["paths"][path][method.as_str().to_ascii_lowercase()]
    }

    pub fn body(
        &self,
        path: &str,
        method: &actix_web::http::Method,
    ) -> Option<std::sync::Arc<Value>> {
        let content = self.operation(path, method)["requestBody"]["content"].as_object()?;
        let media = content
            .get("application/json")
            .or_else(|| content.values().next())?;
        Some(std::sync::Arc::new(inline(
            &media["schema"],
            &self.0["components"]["schemas"],
            0,
        )))
    }

    pub fn params(&self, path: &str, method: &actix_web::http::Method) -> Vec<(String, Value)> {
        self.operation(path, method)["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["in"] == "query")
            .map(|p| {
                (
                    p["name"].as_str().unwrap_or_default().to_owned(),
                    inline(&p["schema"], &self.0["components"]["schemas"], 0),
                )
            })
            .collect()
    }
}

/// `schema` with every `$ref` replaced by the schema it names, a few levels deep.
fn inline(schema: &Value, components: &Value, depth: usize) -> Value {
    if depth > 6 {
        return Value::Null;
    }
    match schema {
        Value::Object(map) => {
            if let Some(r) = map.get("$ref").and_then(Value::as_str) {
                let target = &components[r.trim_start_matches("#/components/schemas/")];
                return inline(target, components, depth + 1);
            }
            Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), inline(v, components, depth)))
                    .collect(),
            )
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| inline(v, components, depth)).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_sentence_is_the_summary() {
        assert_eq!(
            first_sentence("Create a task. It may nest."),
            ("Create a task".to_owned(), "It may nest.")
        );
        assert_eq!(first_sentence("List tasks"), ("List tasks".to_owned(), ""));
        assert_eq!(
            first_sentence("Use v1.2 here. Then"),
            ("Use v1.2 here".to_owned(), "Then")
        );
    }

    #[test]
    fn printable_patterns_compile_and_match_like_the_server() {
        let printable = regex::Regex::new(PRINTABLE).unwrap();
        assert!(printable.is_match("Call the dentist"));
        assert!(!printable.is_match("   "));
        assert!(!printable.is_match("a\u{7}b"));
        assert!(!printable.is_match("a\nb"));
        let multiline = regex::Regex::new(MULTILINE).unwrap();
        assert!(multiline.is_match("a\nb\tc"));
        assert!(!multiline.is_match("\n"));
        let time = regex::Regex::new(TIME_OF_DAY).unwrap();
        assert!(time.is_match("07:30") && time.is_match("23:59:59"));
        assert!(!time.is_match("24:00") && !time.is_match("7:30"));
    }

    /// utoipa keys components by type name and silently keeps one of two types that share it, so
    /// a second `Question` would replace the first in the document and in the query validation
    /// that reads it. Every schema type needs a name of its own (or a `#[schema(as = ...)]`).
    #[test]
    fn every_schema_type_has_a_name_of_its_own() {
        fn visit(dir: &std::path::Path, names: &mut Vec<(String, String)>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    visit(&path, names);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    let mut derived = false;
                    let mut alias = None;
                    for line in text.lines().map(str::trim) {
                        if line.starts_with("#[derive(") && line.contains("ToSchema") {
                            derived = true;
                        } else if let Some(rest) = line.strip_prefix("#[schema(as = ") {
                            alias = rest.split(')').next().map(str::to_owned);
                        } else if derived {
                            let item = line
                                .strip_prefix("pub struct ")
                                .or_else(|| line.strip_prefix("pub enum "))
                                .or_else(|| line.strip_prefix("struct "))
                                .or_else(|| line.strip_prefix("enum "));
                            if let Some(item) = item {
                                let name: String = item
                                    .chars()
                                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                                    .collect();
                                let name = alias.take().unwrap_or(name);
                                names.push((name, path.display().to_string()));
                                derived = false;
                            }
                        }
                    }
                }
            }
        }
        let mut names = Vec::new();
        visit(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut names,
        );
        assert!(
            names.len() > 100,
            "the scan found {} schema types",
            names.len()
        );
        names.sort();
        let clashes: Vec<_> = names
            .windows(2)
            .filter(|w| w[0].0 == w[1].0)
            .map(|w| format!("{} in {} and {}", w[0].0, w[0].1, w[1].1))
            .collect();
        assert!(clashes.is_empty(), "schema names used twice: {clashes:?}");
    }
}
