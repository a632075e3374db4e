//! Document processing (`POST /v1/ai/document-processing/previews`): a stored receipt or
//! supplier invoice read into a draft expense. Offline, a PDF's text layer is read by rules
//! (`receipt_text`); an image needs a model. Confirming creates the expense, with the file as
//! its receipt.

use actix_web::{post, HttpResponse};
use diesel_async::scoped_futures::ScopedFutureExt;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    features::require_consent,
    preview_store::{self, json_answer, object, record, Preview},
    receipt_text,
};
use crate::{
    business::expenses::{Category, ExpenseInput, Expenses, PaymentMethod},
    common::{
        ai_provider::provider::{Input, Provider},
        extractor::{Access, Auth, Principal},
        resource::{Ctx, Resource},
        state::State,
    },
    db::pool::Conn,
    files::model::{Files, Purpose},
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// A file of yours uploaded with `purpose=receipt` or `purpose=document`.
    pub file_id: Uuid,
}

fn schema() -> Value {
    let categories: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    json!({"type": "OBJECT", "properties": {
        "supplier": {"type": "STRING", "nullable": true},
        "date": {"type": "STRING", "nullable": true, "description": "YYYY-MM-DD: the invoice or receipt date"},
        "total_pence": {"type": "INTEGER", "nullable": true, "description": "Total paid, in pence"},
        "vat_pence": {"type": "INTEGER", "nullable": true, "description": "VAT in the total, in pence"},
        "net_pence": {"type": "INTEGER", "nullable": true},
        "category": {"type": "STRING", "enum": categories, "description": "HMRC self-employment expense category"},
        "description": {"type": "STRING", "nullable": true}
    }, "required": ["category"]})
}

/// Read a receipt or supplier invoice into a draft expense.
#[utoipa::path(
    tag = "ai",
    request_body = DocumentRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The preview: `proposal.expense` is the draft (nothing is created yet)", body = Preview),
        (status = 403, description = "AI is off (`/problems/ai-consent-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a receipt or document of yours, or nothing could be read from it", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 501, description = "An image, and the server runs the built-in provider, which reads only PDFs (`/problems/ai-offline`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/document-processing/previews")]
pub async fn document_preview(
    state: State,
    auth: Auth,
    body: Json<DocumentRequest>,
) -> ApiResult<HttpResponse> {
    let file_id = body.0.file_id;
    let (file, today) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                let file = Files::find(conn, file_id)
                    .await?
                    .filter(|f| f.purpose != Purpose::BankStatement.as_str())
                    .ok_or_else(|| {
                        ApiError::field("file_id", "is not a receipt or document of yours")
                    })?;
                let zone = crate::common::zone::user_zone(conn, me.user_id).await?;
                Ok((file, me.at.with_timezone(&zone).date_naive()))
            }
            .scope_boxed()
        })
        .await?;
    let bytes = state
        .files
        .get(&file.store_key)
        .await
        .map_err(ApiError::internal)?
        .filter(|b| Sha256::digest(b).as_slice() == file.sha256.as_slice())
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("file {file_id}: missing or altered")))?;
    let fields = object(json!({
        "file": {"content_type": file.content_type, "bytes": bytes.len()},
    }));
    let draft = match &state.ai {
        Provider::Local => {
            if file.content_type != "application/pdf" {
                return Err(ApiError::new(
                    ProblemKind::AiOffline,
                    "Reading an image needs an AI model; the built-in provider reads the text of PDFs only",
                ));
            }
            let text = crate::business::pdf::text_of(&bytes);
            let r = receipt_text::read_receipt(&text, today);
            if r.total_pence.is_none() && r.supplier.is_none() {
                return Err(ApiError::field(
                    "file_id",
                    "no supplier or total could be read from this PDF's text",
                ));
            }
            json!({
                "supplier": r.supplier, "date": r.date, "total_pence": r.total_pence,
                "vat_pence": r.vat_pence, "net_pence": r.net_pence, "category": r.category,
                "found": r.found,
            })
        }
        ai => {
            if matches!(ai, Provider::Anthropic(_)) && file.content_type == "image/heic" {
                return Err(ApiError::new(
                    ProblemKind::UnsupportedMediaType,
                    "Claude does not read HEIC images: upload the receipt as JPEG, PNG or PDF",
                ));
            }
            let prompt = "Read this UK receipt or supplier invoice into an expense: the supplier, the date, \
                          the total paid, the VAT in it and the HMRC expense category.";
            let parts = [
                Input::File {
                    mime: &file.content_type,
                    bytes: &bytes,
                },
                Input::Text(prompt),
            ];
            let answer = match ai.json(&parts, &schema()).await? {
                Some(text) => json_answer(&text)?,
                None => Value::Null,
            };
            json!({
                "supplier": answer["supplier"], "date": answer["date"],
                "total_pence": answer["total_pence"], "vat_pence": answer["vat_pence"],
                "net_pence": answer["net_pence"], "category": answer["category"],
                "description": answer["description"], "found": [],
            })
        }
    };
    let expense = expense_of(&draft, today);
    let proposal = json!({"file_id": file.id, "expense": expense, "found": draft["found"]});
    let sent = record("document-processing", &state.ai, fields);
    preview_store::store_public(
        &state,
        &auth,
        file.workspace_id,
        "document-processing",
        sent,
        proposal,
    )
    .await
}

/// The draft as an expense's fields, every figure checked: a total is needed, VAT no more than
/// it, the category one of HMRC's.
fn expense_of(d: &Value, today: chrono::NaiveDate) -> Value {
    let total = d["total_pence"].as_i64().filter(|t| *t > 0);
    let vat = d["vat_pence"]
        .as_i64()
        .filter(|v| *v >= 0 && total.is_none_or(|t| *v < t))
        .unwrap_or(0);
    let net = d["net_pence"]
        .as_i64()
        .filter(|n| total.is_none_or(|t| n + vat == t))
        .or(total.map(|t| t - vat))
        .unwrap_or(0);
    let category = d["category"]
        .as_str()
        .and_then(Category::parse)
        .unwrap_or(Category::Other);
    let date = d["date"]
        .as_str()
        .and_then(|s| s.parse::<chrono::NaiveDate>().ok())
        .filter(|date| *date <= today + chrono::Duration::days(1))
        .unwrap_or(today);
    json!({
        "spent_on": date,
        "supplier": d["supplier"].as_str().map(|s| s.chars().take(200).collect::<String>()).unwrap_or_else(|| "Unknown supplier".into()),
        "description": d["description"],
        "category": category,
        "net_pence": net,
        "vat_pence": vat,
    })
}

/// Creates the expense of a confirmed preview (or of the edited version), the file attached
/// when it is a receipt.
pub async fn apply(
    conn: &mut Conn,
    me: Principal,
    preview: &Preview,
    edits: Option<ExpenseInput>,
) -> ApiResult<Value> {
    let file_id: Uuid = serde_json::from_value(preview.proposal["file_id"].clone())
        .map_err(|_| ApiError::new(ProblemKind::Conflict, "This preview has no file"))?;
    let mut input = match edits {
        Some(e) => e,
        None => serde_json::from_value(preview.proposal["expense"].clone()).map_err(|e| {
            ApiError::new(
                ProblemKind::Conflict,
                format!("The draft expense is not valid: {e}"),
            )
        })?,
    };
    let is_receipt =
        crate::files::model::find_for(conn, preview.workspace_id, file_id, Purpose::Receipt)
            .await?
            .is_some();
    input.workspace_id = Some(preview.workspace_id);
    if input.receipt_file_id.is_none() && is_receipt {
        input.receipt_file_id = Some(file_id);
    }
    if input.payment_method.is_none() {
        input.payment_method = Some(PaymentMethod::Card);
    }
    let ctx = Ctx {
        user_id: me.user_id,
        workspace_id: preview.workspace_id,
        id: Uuid::now_v7(),
        at: me.at,
    };
    let values = Expenses::validate(conn, ctx, None, input).await?;
    let row = Expenses::insert(conn, ctx, values).await?;
    Ok(json!({"expense": Expenses::output(row)}))
}
