//! The built-in job pricer: the past jobs whose titles share the most words with the new one
//! (a little more for the same client), and a fee from what they were charged. Also the one
//! place that decides what of the history a model may see: no client at all.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

pub struct PastJob {
    pub id: Uuid,
    pub title: String,
    pub client_id: Uuid,
    pub fee_kind: String,
    pub quantity_ten_thousandths: i64,
    pub rate_pence: i64,
    pub total_pence: i64,
    pub date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Similar {
    pub job_id: Uuid,
    pub title: String,
    pub total_pence: i64,
    pub similarity_pct: u8,
}

#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    pub fee_pence: i64,
    pub low_pence: i64,
    pub high_pence: i64,
    pub similar: Vec<Similar>,
    pub reason: String,
}

const STOP: &[&str] = &[
    "the", "a", "an", "of", "for", "and", "to", "in", "on", "at", "new", "job", "work", "with",
    "my", "our",
];

/// Words of a title, lower-cased, stop words out, plural and verb endings trimmed so "fitting
/// worktops" meets "fit worktop".
fn words(text: &str) -> HashSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !STOP.contains(w))
        .map(|w| {
            let w = w.strip_suffix("ing").filter(|s| s.len() >= 3).unwrap_or(w);
            let w = w.strip_suffix("ed").filter(|s| s.len() >= 3).unwrap_or(w);
            let w = w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w);
            // "fitt" (from "fitting") and "fit" are one word.
            let b = w.as_bytes();
            if b.len() >= 4 && b[b.len() - 1] == b[b.len() - 2] {
                w[..w.len() - 1].to_owned()
            } else {
                w.to_owned()
            }
        })
        .collect()
}

/// A fee for `description`, or `None` when no past job shares a word with it.
pub fn suggest(
    description: &str,
    client_id: Option<Uuid>,
    history: &[PastJob],
) -> Option<Suggestion> {
    let wanted = words(description);
    let mut scored: Vec<(u32, &PastJob)> = history
        .iter()
        .filter(|j| j.total_pence > 0)
        .filter_map(|j| {
            let have = words(&j.title);
            let shared = wanted.intersection(&have).count();
            if shared == 0 {
                return None;
            }
            let union = wanted.union(&have).count().max(1);
            let mut score = (shared * 100 / union) as u32;
            if client_id == Some(j.client_id) {
                score += 15;
            }
            Some((score.min(100), j))
        })
        .collect();
    if scored.is_empty() {
        return None;
    }
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.date.cmp(&a.1.date)));
    scored.truncate(5);
    // Weighted median of the totals: the fee half the similarity weight sits below.
    let mut by_total: Vec<(i64, u32)> = scored.iter().map(|(s, j)| (j.total_pence, *s)).collect();
    by_total.sort();
    let half = by_total
        .iter()
        .map(|x| u64::from(x.1))
        .sum::<u64>()
        .div_ceil(2);
    let mut acc = 0u64;
    let mut median = by_total[0].0;
    for (total, w) in &by_total {
        acc += u64::from(*w);
        if acc >= half {
            median = *total;
            break;
        }
    }
    let fee = (median + 250) / 500 * 500;
    let best = scored[0].1;
    Some(Suggestion {
        fee_pence: fee,
        low_pence: by_total.first().map_or(fee, |x| x.0),
        high_pence: by_total.last().map_or(fee, |x| x.0),
        reason: format!(
            "From {} similar past job{}, the closest \"{}\" at £{}.{:02}",
            scored.len(),
            if scored.len() == 1 { "" } else { "s" },
            best.title,
            best.total_pence / 100,
            best.total_pence % 100
        ),
        similar: scored
            .iter()
            .map(|(s, j)| Similar {
                job_id: j.id,
                title: j.title.clone(),
                total_pence: j.total_pence,
                similarity_pct: (*s).min(100) as u8,
            })
            .collect(),
    })
}

/// The history as a model may see it: what was done and charged, never for whom.
pub fn anonymised(history: &[PastJob]) -> Vec<Value> {
    history
        .iter()
        .map(|j| {
            json!({
                "title": j.title,
                "fee_kind": j.fee_kind,
                "quantity": format!("{}.{:04}", j.quantity_ten_thousandths / 10_000, j.quantity_ten_thousandths % 10_000),
                "rate_pence": j.rate_pence,
                "total_pence": j.total_pence,
                "date": j.date,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(title: &str, client: u128, total: i64) -> PastJob {
        PastJob {
            id: Uuid::from_u128(total as u128),
            title: title.into(),
            client_id: Uuid::from_u128(client),
            fee_kind: "fixed".into(),
            quantity_ten_thousandths: 10_000,
            rate_pence: total,
            total_pence: total,
            date: None,
        }
    }

    #[test]
    fn nearest_jobs_price_the_new_one() {
        let history = [
            job("Fit kitchen worktop", 1, 30_000),
            job("Fitting bathroom worktops", 2, 28_000),
            job("Paint garden fence", 1, 15_000),
        ];
        let s = suggest(
            "Fit a new kitchen worktop",
            Some(Uuid::from_u128(1)),
            &history,
        )
        .unwrap();
        assert_eq!(s.similar[0].title, "Fit kitchen worktop");
        assert_eq!(s.similar.len(), 2, "the fence shares no word");
        assert_eq!(s.fee_pence, 30_000);
        assert_eq!((s.low_pence, s.high_pence), (28_000, 30_000));
        assert!(suggest("Service a boiler", None, &history).is_none());
    }

    #[test]
    fn no_client_reaches_a_model() {
        let sent = serde_json::to_string(&anonymised(&[job("Fit worktop", 7, 100)])).unwrap();
        assert!(!sent.contains("client"));
        assert!(sent.contains("\"quantity\":\"1.0000\""));
    }
}
