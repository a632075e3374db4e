//! Job pricing (`POST /v1/ai/job-pricing/previews`): a fee suggested for a described job from
//! the business's own past jobs. Offline, the nearest past jobs by their words (and client)
//! decide it; a model gets the same history anonymised (titles, fee kinds, quantities and
//! amounts; never a client). Confirming a preview made for a job sets that job's rate.

use actix_web::{post, HttpResponse};
use diesel::prelude::*;
use diesel_async::{scoped_futures::ScopedFutureExt, RunQueryDsl};
use rust_decimal::{prelude::ToPrimitive, Decimal};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    features::require_consent,
    job_pricing::{self, PastJob},
    preview_store::{self, model_json, object, record, Preview},
};
use crate::{
    common::{
        extractor::{Access, Auth, Principal},
        resource::resolve_workspace,
        state::State,
    },
    db::{pool::Conn, schema::app::business_jobs as jobs},
    http::{
        json::Json,
        problem::{ApiError, ApiResult, ProblemKind},
    },
};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PricingRequest {
    /// The job, in a few words.
    #[schema(example = "Fit a new kitchen worktop")]
    pub description: String,
    /// Past jobs for this client count a little more.
    pub client_id: Option<Uuid>,
    /// A job of yours to price: confirming sets its rate.
    pub job_id: Option<Uuid>,
    pub workspace_id: Option<Uuid>,
}

type JobRow = (
    Uuid,
    String,
    Uuid,
    String,
    Decimal,
    i64,
    Option<chrono::NaiveDate>,
);

fn history_of(rows: Vec<JobRow>) -> Vec<PastJob> {
    rows.into_iter()
        .map(|(id, title, client_id, fee_kind, quantity, rate, date)| {
            let q = (quantity * Decimal::from(10_000)).to_i64().unwrap_or(0);
            let total = (i128::from(rate) * i128::from(q) / 10_000) as i64;
            PastJob {
                id,
                title,
                client_id,
                fee_kind,
                quantity_ten_thousandths: q,
                rate_pence: rate,
                total_pence: total,
                date,
            }
        })
        .collect()
}

fn schema() -> Value {
    json!({"type": "OBJECT", "properties": {
        "fee_pence": {"type": "INTEGER", "description": "The suggested fee in pence"},
        "low_pence": {"type": "INTEGER"},
        "high_pence": {"type": "INTEGER"},
        "reason": {"type": "STRING"}
    }, "required": ["fee_pence", "reason"]})
}

/// Suggest a fee for a job from your own past jobs.
#[utoipa::path(
    tag = "ai",
    request_body = PricingRequest,
    security(("bearer" = []), ("cookie" = [])),
    responses(
        (status = 201, description = "The preview: `proposal` holds `fee_pence`, `low_pence`, `high_pence`, the similar past jobs and the reason", body = Preview),
        (status = 403, description = "AI is off (`/problems/ai-consent-required`)", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 422, description = "No description, no job of yours with that id, or no past job to learn from", body = crate::http::problem::Problem, content_type = "application/problem+json"),
        (status = 502, description = "The AI provider failed", body = crate::http::problem::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/ai/job-pricing/previews")]
pub async fn job_pricing_preview(
    state: State,
    auth: Auth,
    body: Json<PricingRequest>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let description = body.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 1_000 {
        return Err(ApiError::field(
            "description",
            "must be 1 to 1,000 characters",
        ));
    }
    let (requested, job_id, client_id) = (body.workspace_id, body.job_id, body.client_id);
    let (workspace_id, history) = auth
        .tx(&state.db, Access::Read, move |conn, me| {
            async move {
                require_consent(conn, me.user_id).await?;
                let mut ws = resolve_workspace(conn, me.user_id, requested).await?;
                if let Some(job) = job_id {
                    ws = jobs::table
                        .find(job)
                        .select(jobs::workspace_id)
                        .first(conn)
                        .await
                        .optional()?
                        .ok_or_else(|| ApiError::field("job_id", "is not a job you can see"))?;
                }
                let rows = jobs::table
                    .filter(jobs::workspace_id.eq(ws))
                    .filter(jobs::status.ne("cancelled"))
                    .filter(jobs::rate_pence.gt(0))
                    .order(jobs::created_at.desc())
                    .limit(500)
                    .select((
                        jobs::id,
                        jobs::title,
                        jobs::client_id,
                        jobs::fee_kind,
                        jobs::quantity,
                        jobs::rate_pence,
                        jobs::start_date,
                    ))
                    .load(conn)
                    .await?;
                Ok((ws, history_of(rows)))
            }
            .scope_boxed()
        })
        .await?;
    let history: Vec<PastJob> = history
        .into_iter()
        .filter(|j| Some(j.id) != job_id)
        .collect();
    let local = job_pricing::suggest(&description, client_id, &history);
    let fields = object(json!({
        "description": description,
        "past_jobs": job_pricing::anonymised(&history),
    }));
    let proposal = if state.ai.is_local() {
        let s = local.ok_or_else(|| {
            ApiError::field(
                "description",
                "no past job resembles this one: there is nothing to learn a price from",
            )
        })?;
        json!({"job_id": job_id, "description": description, "fee_pence": s.fee_pence,
               "low_pence": s.low_pence, "high_pence": s.high_pence, "similar": s.similar,
               "reason": s.reason})
    } else {
        if history.is_empty() {
            return Err(ApiError::field(
                "description",
                "you have no past jobs with a fee to learn a price from",
            ));
        }
        let prompt = format!(
            "A UK sole trader asks what to charge for a job. Suggest a fee in pence from their own past jobs only \
             (amounts in pence, quantities in units of the fee kind), with a low and high bound and a one-sentence reason.\n\n\
             Job: {description}\n\nPast jobs: {}",
            fields["past_jobs"]
        );
        let answer = model_json(&state.ai, &prompt, &schema()).await?;
        let fee = answer["fee_pence"]
            .as_i64()
            .filter(|f| (0..=100_000_000_000).contains(f))
            .ok_or_else(|| {
                ApiError::new(
                    ProblemKind::AiProvider,
                    "The AI provider gave no usable fee",
                )
            })?;
        json!({"job_id": job_id, "description": description, "fee_pence": fee,
               "low_pence": answer["low_pence"].as_i64().unwrap_or(fee),
               "high_pence": answer["high_pence"].as_i64().unwrap_or(fee),
               "similar": local.map(|s| s.similar).unwrap_or_default(),
               "reason": answer["reason"].as_str().unwrap_or_default().chars().take(500).collect::<String>()})
    };
    let sent = record("job-pricing", &state.ai, fields);
    preview_store::store_public(&state, &auth, workspace_id, "job-pricing", sent, proposal).await
}

/// Sets the priced job's rate to the suggested fee (per unit of its fee kind).
pub async fn apply(
    conn: &mut Conn,
    _me: Principal,
    preview: &Preview,
    fee: Option<i64>,
) -> ApiResult<Value> {
    let job_id: Uuid =
        serde_json::from_value(preview.proposal["job_id"].clone()).map_err(|_| {
            ApiError::new(
                ProblemKind::Conflict,
                "This preview priced no job of yours: use its fee when you create the job",
            )
        })?;
    let fee = fee.or(preview.proposal["fee_pence"].as_i64()).unwrap_or(0);
    if !(0..=100_000_000_000).contains(&fee) {
        return Err(ApiError::field("fee_pence", "between 0 and £1,000,000,000"));
    }
    let quantity: Decimal = jobs::table
        .find(job_id)
        .select(jobs::quantity)
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| ApiError::new(ProblemKind::Conflict, "The priced job is gone"))?;
    let rate = if quantity > Decimal::ZERO {
        (Decimal::from(fee) / quantity)
            .round()
            .to_i64()
            .unwrap_or(fee)
    } else {
        fee
    };
    diesel::update(jobs::table.find(job_id))
        .set((
            jobs::rate_pence.eq(rate),
            jobs::version.eq(jobs::version + 1),
            jobs::updated_at.eq(diesel::dsl::now),
        ))
        .execute(conn)
        .await?;
    Ok(json!({"job_id": job_id, "rate_pence": rate}))
}
