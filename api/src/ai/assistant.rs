//! The business assistant (`/v1/business-assistant/conversations`): questions about the
//! business's own figures ("what do I owe in VAT this quarter?") answered from figures computed
//! here by the VAT return, the profit and loss and the open invoices, each answer with the
//! figures and the rows used. A model, when one is configured, only words the answer: it gets
//! the question and the computed figures, never the rows. Conversations are kept until deleted.

use actix_web::{delete, get, post, web::Path, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    assistant_intent::{self, Intent},
    features::require_consent,
    preview_store::{model_json, object, record},
};
use crate::{
    business::{
        ledger,
        money::balance,
        profit::{self, ProfitParams},
        vat::{self, VatReturnParams},
    },
    common::{
        ai_provider::provider::Provider,
        extractor::{Access, Auth},
        resource::resolve_workspace,
        state::State,
    },
    db::{
        pool::Conn,
        schema::app::{assistant_conversations as c, assistant_messages as m, invoices as inv},
    },
    http::{
        json::Json,
        pagination::{Cursor, Page, PageParams, Paging},
        problem::{ApiError, ApiResult},
    },
    keyset,
};

/// One computed figure an answer rests on.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Figure {
    #[schema(example = "VAT to pay (box 5)")]
    pub name: String,
    pub pence: i64,
}

/// What kind of row an answer used.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowKind {
    Invoice,
    CreditNote,
    Expense,
}

/// A row an answer was computed from.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RowUsed {
    pub kind: RowKind,
    pub id: Uuid,
    /// The document's number, or the expense's supplier.
    #[schema(example = "INV-0042")]
    pub label: String,
    pub pence: i64,
}

/// Who wrote a message.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub role: Role,
    pub text: String,
    pub figures: Vec<Figure>,
    pub rows_used: Vec<RowUsed>,
    /// For an answer: exactly what was sent, to whom (as every AI preview records it).
    #[schema(value_type = Option<Object>)]
    pub sent: Option<Value>,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct Conversation {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub title: String,
    pub messages: Vec<Message>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessQuestion {
    #[schema(example = "What do I owe in VAT this quarter?")]
    pub question: String,
    /// For a new conversation: its workspace (default: your personal one).
    pub workspace_id: Option<Uuid>,
}

/// What an answer rests on.
struct Computed {
    label: &'static str,
    from: NaiveDate,
    to: NaiveDate,
    figures: Vec<Figure>,
    rows: Vec<RowUsed>,
    text: String,
}

fn pounds(pence: i64) -> String {
    let sign = if pence < 0 { "-" } else { "" };
    let p = pence.unsigned_abs();
    let whole = (p / 100).to_string();
    let mut grouped = String::new();
    for (i, ch) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    format!("{sign}£{grouped}.{:02}", p % 100)
}

fn figure(name: &str, pence: i64) -> Figure {
    Figure {
        name: name.into(),
        pence,
    }
}

/// The figures and the local wording for `intent` over `from..=to`.
async fn compute(
    conn: &mut Conn,
    ws: Uuid,
    intent: Intent,
    (from, to, label): (NaiveDate, NaiveDate, &'static str),
) -> ApiResult<Computed> {
    let span = format!(
        "{label} ({} to {})",
        from.format("%-d %b %Y"),
        to.format("%-d %b %Y")
    );
    let ledger_rows = |sales: &[ledger::SaleDoc], costs: &[ledger::ExpenseDoc]| {
        let mut rows: Vec<RowUsed> = sales
            .iter()
            .map(|s| RowUsed {
                kind: match s.sale.kind {
                    crate::business::vat_return::SaleKind::Invoice => RowKind::Invoice,
                    crate::business::vat_return::SaleKind::CreditNote => RowKind::CreditNote,
                },
                id: s.id,
                label: s.number.clone(),
                pence: s.sale.total_pence,
            })
            .collect();
        rows.extend(costs.iter().map(|e| RowUsed {
            kind: RowKind::Expense,
            id: e.id,
            label: e.supplier.clone(),
            pence: e.purchase.gross_pence,
        }));
        rows
    };
    let out = match intent {
        Intent::VatDue => {
            let r = vat::compute(
                conn,
                ws,
                VatReturnParams {
                    workspace_id: None,
                    start: from,
                    end: to,
                    period_key: None,
                    finalised: None,
                    basis: None,
                },
            )
            .await?;
            let sales = ledger::sales(conn, ws, from, to).await?;
            let costs = ledger::expenses(conn, ws, from, to).await?;
            let b = &r.boxes;
            let direction = serde_json::to_value(r.direction)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let text = match direction.as_str() {
                "payable" => format!(
                    "For {span} your VAT return comes to {} to pay HMRC (box 5): {} VAT on sales, less {} reclaimed.",
                    pounds(b.box5), pounds(b.box3), pounds(b.box4)
                ),
                "repayable" => format!(
                    "For {span} HMRC owes you {} (box 5): you reclaim {} and owe {} on sales.",
                    pounds(b.box5), pounds(b.box4), pounds(b.box3)
                ),
                _ => format!("For {span} there is no VAT to pay or reclaim."),
            };
            Computed {
                label,
                from,
                to,
                figures: vec![
                    figure("VAT on sales (box 1)", b.box1),
                    figure("VAT reclaimed (box 4)", b.box4),
                    figure(
                        if direction == "repayable" { "VAT to reclaim (box 5)" } else { "VAT to pay (box 5)" },
                        b.box5,
                    ),
                ],
                rows: ledger_rows(&sales, &costs),
                text,
            }
        }
        Intent::Profit | Intent::Income | Intent::Spending => {
            let pl = profit::profit_and_loss(
                conn,
                ws,
                ProfitParams {
                    workspace_id: None,
                    from,
                    to,
                    basis: None,
                },
            )
            .await?;
            let sales = ledger::sales(conn, ws, from, to).await?;
            let costs = ledger::expenses(conn, ws, from, to).await?;
            let t = &pl.total;
            let (text, rows) = match intent {
                Intent::Income => (
                    format!("Your income for {span} is {} (ex VAT, as received).", pounds(t.income_pence)),
                    ledger_rows(&sales, &[]),
                ),
                Intent::Spending => (
                    format!(
                        "You spent {} on allowable costs in {span}, and {} that is not allowable{}.",
                        pounds(t.expenses_pence),
                        pounds(t.disallowable_pence),
                        t.by_category
                            .iter()
                            .max_by_key(|c| c.pence)
                            .map(|c| format!("; the most on {}", c.category.as_str().replace('_', " ")))
                            .unwrap_or_default()
                    ),
                    ledger_rows(&[], &costs),
                ),
                _ => (
                    format!(
                        "Your profit for {span} is {}: {} income less {} allowable costs.",
                        pounds(t.profit_pence), pounds(t.income_pence), pounds(t.expenses_pence)
                    ),
                    ledger_rows(&sales, &costs),
                ),
            };
            Computed {
                label,
                from,
                to,
                figures: vec![
                    figure("Income", t.income_pence),
                    figure("Allowable expenses", t.expenses_pence),
                    figure("Disallowable expenses", t.disallowable_pence),
                    figure("Profit", t.profit_pence),
                ],
                rows,
                text,
            }
        }
        Intent::Unpaid => {
            let open: Vec<(Uuid, Option<String>, i64, i64, i64)> = inv::table
                .filter(inv::workspace_id.eq(ws))
                .filter(inv::status.eq_any(["issued", "partly_paid"]))
                .order(inv::due_date.asc())
                .select((inv::id, inv::number, inv::total_pence, inv::paid_pence, inv::credited_pence))
                .load(conn)
                .await?;
            let rows: Vec<RowUsed> = open
                .into_iter()
                .map(|(id, number, total, paid, credited)| RowUsed {
                    kind: RowKind::Invoice,
                    id,
                    label: number.unwrap_or_default(),
                    pence: balance(total, paid, credited),
                })
                .filter(|r| r.pence > 0)
                .collect();
            let owed: i64 = rows.iter().map(|r| r.pence).sum();
            let text = if rows.is_empty() {
                "Every issued invoice is paid.".to_owned()
            } else {
                format!("{} is owed to you on {} invoice{}.", pounds(owed), rows.len(), if rows.len() == 1 { "" } else { "s" })
            };
            Computed {
                label: "now",
                from,
                to,
                figures: vec![figure("Owed to you", owed), figure("Open invoices", rows.len() as i64)],
                rows,
                text,
            }
        }
        Intent::Unknown => Computed {
            label,
            from,
            to,
            figures: Vec::new(),
            rows: Vec::new(),
            text: "I can answer about the VAT you owe, your profit, income and spending, and who owes you money, for this or last month, quarter or tax year.".into(),
        },
    };
    Ok(out)
}

type SummaryRow = (Uuid, Uuid, String, DateTime<Utc>, DateTime<Utc>);
type MessageRow = (
    Uuid,
    String,
    String,
    Value,
    Value,
    Option<Value>,
    DateTime<Utc>,
);

async fn load(conn: &mut Conn, id: Uuid) -> ApiResult<Conversation> {
    let (ws, title, created_at, updated_at): (Uuid, String, DateTime<Utc>, DateTime<Utc>) =
        c::table
            .find(id)
            .select((c::workspace_id, c::title, c::created_at, c::updated_at))
            .first(conn)
            .await
            .optional()?
            .ok_or_else(ApiError::not_found)?;
    let rows: Vec<MessageRow> = m::table
        .filter(m::workspace_id.eq(ws))
        .filter(m::conversation_id.eq(id))
        .order((m::created_at, m::id))
        .select((
            m::id,
            m::role,
            m::text,
            m::figures,
            m::rows_used,
            m::sent,
            m::created_at,
        ))
        .load(conn)
        .await?;
    Ok(Conversation {
        id,
        workspace_id: ws,
        title,
        messages: rows
            .into_iter()
            .map(
                |(id, role, text, figures, rows, sent, created_at)| Message {
                    id,
                    role: if role == "user" {
                        Role::User
                    } else {
                        Role::Assistant
                    },
                    text,
                    figures: serde_json::from_value(figures).unwrap_or_default(),
                    rows_used: serde_json::from_value(rows).unwrap_or_default(),
                    sent,
                    created_at,
                },
            )
            .collect(),
        created_at,
        updated_at,
    })
}

/// Answers `question` in conversation `id` (made now when `None`), storing both turns.
async fn ask(
    state: &State,
    auth: &Auth,
    id: Option<Uuid>,
    q: BusinessQuestion,
) -> ApiResult<Conversation> {
    let question = q.question.trim().to_owned();
    if question.is_empty() || question.chars().count() > 2_000 {
        return Err(ApiError::field("question", "must be 1 to 2,000 characters"));
    }
    let intent = assistant_intent::intent(&question);
    let asked = question.clone();
    let requested = q.workspace_id;
    let (ws, computed) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                let ws = match id {
                    Some(id) => c::table
                        .find(id)
                        .select(c::workspace_id)
                        .first(conn)
                        .await
                        .optional()?
                        .ok_or_else(ApiError::not_found)?,
                    None => resolve_workspace(conn, me.user_id, requested).await?,
                };
                require_consent(conn, me.user_id).await?;
                let zone = crate::common::zone::user_zone(conn, me.user_id).await?;
                let today = me.at.with_timezone(&zone).date_naive();
                let period = assistant_intent::period(&asked, intent, today);
                Ok((ws, compute(conn, ws, intent, period).await?))
            }
            .scope_boxed()
        })
        .await?;
    let figures = serde_json::to_value(&computed.figures).map_err(ApiError::internal)?;
    let fields = object(json!({
        "question": question,
        "figures": {"period": computed.label, "from": computed.from, "to": computed.to, "values": figures},
    }));
    // A question the rules cannot read gets their answer; nothing is sent, and the record says so.
    let asks_model = !state.ai.is_local() && intent != Intent::Unknown;
    let text = if !asks_model {
        computed.text.clone()
    } else {
        let prompt = format!(
            "You are the assistant of a UK sole trader's bookkeeping app. Answer the question in one or two sentences \
             using only these computed figures (amounts in pence; write them in pounds). Do not invent figures.\n\n\
             Question: {question}\nFigures: {}",
            Value::Object(fields.clone())
        );
        let schema = json!({"type": "OBJECT", "properties": {"text": {"type": "STRING"}}, "required": ["text"]});
        let answer = model_json(&state.ai, &prompt, &schema).await?;
        answer["text"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
            .map(|t| t.chars().take(2_000).collect())
            .unwrap_or(computed.text.clone())
    };
    let sent = record(
        "business-assistant",
        if asks_model {
            &state.ai
        } else {
            &Provider::Local
        },
        fields,
    );
    let rows = serde_json::to_value(&computed.rows).map_err(ApiError::internal)?;
    auth.tx(&state.db, Access::Write, move |conn, me| {
        async move {
            let id = match id {
                Some(id) => {
                    diesel::update(c::table.filter(c::workspace_id.eq(ws)).filter(c::id.eq(id)))
                        .set((
                            c::version.eq(c::version + 1),
                            c::updated_at.eq(diesel::dsl::now),
                        ))
                        .execute(conn)
                        .await?;
                    id
                }
                None => {
                    let id = Uuid::now_v7();
                    diesel::insert_into(c::table)
                        .values((
                            c::id.eq(id),
                            c::workspace_id.eq(ws),
                            c::created_by.eq(me.user_id),
                            c::title.eq(question.chars().take(200).collect::<String>()),
                        ))
                        .execute(conn)
                        .await?;
                    id
                }
            };
            let turn =
                |role: &str, text: String, figures: Value, rows: Value, sent: Option<Value>| {
                    (
                        m::id.eq(Uuid::now_v7()),
                        m::workspace_id.eq(ws),
                        m::created_by.eq(me.user_id),
                        m::conversation_id.eq(id),
                        m::role.eq(role.to_owned()),
                        m::text.eq(text),
                        m::figures.eq(figures),
                        m::rows_used.eq(rows),
                        m::sent.eq(sent),
                    )
                };
            diesel::insert_into(m::table)
                .values((
                    turn("user", question.clone(), json!([]), json!([]), None),
                    m::created_at.eq(me.at),
                ))
                .execute(conn)
                .await?;
            // A microsecond apart, so the answer sorts after the question.
            diesel::insert_into(m::table)
                .values((
                    turn("assistant", text, figures, rows, Some(sent)),
                    m::created_at.eq(me.at + chrono::Duration::microseconds(1)),
                ))
                .execute(conn)
                .await?;
            load(conn, id).await
        }
        .scope_boxed()
    })
    .await
}

/// Ask the business assistant a first question.
#[utoipa::path(
    tag = "ai",
    request_body = BusinessQuestion,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The new conversation with the question and its answer", body = Conversation),
        (status = 403, description = "AI is off (`/problems/ai-consent-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No question", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/business-assistant/conversations")]
pub async fn start_conversation(
    state: State,
    auth: Auth,
    body: Json<BusinessQuestion>,
) -> ApiResult<HttpResponse> {
    let out = ask(&state, &auth, None, body.0).await?;
    Ok(HttpResponse::Created().json(out))
}

/// Ask a further question in a conversation.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    request_body = BusinessQuestion,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The conversation with the new question and its answer", body = Conversation),
        (status = 404, description = "No such conversation of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/business-assistant/conversations/{id}/messages")]
pub async fn ask_again(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
    body: Json<BusinessQuestion>,
) -> ApiResult<HttpResponse> {
    let out = ask(&state, &auth, Some(id.into_inner()), body.0).await?;
    Ok(HttpResponse::Created().json(out))
}

/// List your conversations with the business assistant.
#[utoipa::path(
    tag = "ai",
    params(PageParams),
    security(("bearer" = []), ("cookie" = [])),
    responses((status = 200, description = "A page, newest first", body = Page<ConversationSummary>)),
)]
#[get("/business-assistant/conversations")]
pub async fn list_conversations(state: State, auth: Auth, page: Paging) -> ApiResult<HttpResponse> {
    let body = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            async move {
                let query = c::table
                    .select((
                        c::id,
                        c::workspace_id,
                        c::title,
                        c::created_at,
                        c::updated_at,
                    ))
                    .into_boxed();
                let rows: Vec<SummaryRow> = keyset!(query, c, page.after, page.fetch())
                    .load(conn)
                    .await?;
                let page = Page::from_rows(rows, &page, |r| Cursor {
                    created_at: r.3,
                    id: r.0,
                })
                .map(
                    |(id, workspace_id, title, created_at, updated_at)| ConversationSummary {
                        id,
                        workspace_id,
                        title,
                        created_at,
                        updated_at,
                    },
                );
                serde_json::to_vec(&page).map_err(ApiError::internal)
            }
            .scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

/// A conversation with every question and answer.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 200, description = "Found", body = Conversation),
        (status = 404, description = "No such conversation of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[get("/business-assistant/conversations/{id}")]
pub async fn get_conversation(state: State, auth: Auth, id: Path<Uuid>) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let out = auth
        .tx(&state.db, Access::Read, move |conn, _| {
            load(conn, id).scope_boxed()
        })
        .await?;
    Ok(HttpResponse::Ok().json(out))
}

/// Delete a conversation and every message in it.
#[utoipa::path(
    tag = "ai",
    params(("id" = Uuid, Path)),
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such conversation of yours", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[delete("/business-assistant/conversations/{id}")]
pub async fn delete_conversation(
    state: State,
    auth: Auth,
    id: Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    auth.tx(&state.db, Access::Write, move |conn, _| {
        async move {
            match diesel::delete(c::table.filter(c::id.eq(id)))
                .execute(conn)
                .await?
            {
                0 => Err(ApiError::not_found()),
                _ => Ok(()),
            }
        }
        .scope_boxed()
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(start_conversation)
        .service(ask_again)
        .service(list_conversations)
        .service(get_conversation)
        .service(delete_conversation);
}
