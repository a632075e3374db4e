//! The offline provider's answers for steps, project tasks and plan explanations. Pure.

use chrono_tz::Tz;

use crate::plans::plan::DayPlan;

const FILLERS: &[&str] = &[
    "and then ",
    "then ",
    "and ",
    "first, ",
    "first ",
    "next, ",
    "next ",
    "finally, ",
    "finally ",
    "after that, ",
    "after that ",
    "i need to ",
    "i have to ",
    "we need to ",
    "we should ",
    "need to ",
    "to ",
];

/// A title that starts with its verb: list markers, fillers and trailing dots go, the first
/// letter is upper case.
pub fn tidy(piece: &str) -> Option<String> {
    let mut s = piece
        .trim()
        .trim_start_matches(|c: char| c == '-' || c == '*' || c == '•' || c.is_ascii_digit())
        .trim_start_matches(['.', ')', ' '])
        .trim()
        .to_owned();
    loop {
        let lower = s.to_lowercase();
        match FILLERS.iter().find(|f| lower.starts_with(*f)) {
            Some(f) => s = s[f.len()..].trim_start().to_owned(),
            None => break,
        }
    }
    let s = s.trim_end_matches(['.', ';', ',', '!']).trim();
    if s.chars().count() < 2 {
        return None;
    }
    let mut chars = s.chars();
    let first = chars.next()?;
    Some(first.to_uppercase().chain(chars).take(200).collect())
}

/// Pieces of a text: its list items or lines, else its sentences, else its "then"/";" parts.
pub fn split(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let pieces: Vec<String> = if lines.len() > 1 {
        lines.iter().map(|l| l.to_string()).collect()
    } else {
        let one = lines.first().copied().unwrap_or("");
        let mut out = Vec::new();
        for sentence in one.split_inclusive(['.', '!', '?', ';']) {
            for part in sentence.split(", then ").flat_map(|p| p.split(" then ")) {
                out.push(part.to_owned());
            }
        }
        out
    };
    let mut seen = std::collections::HashSet::new();
    pieces
        .iter()
        .filter_map(|p| tidy(p))
        .filter(|p| seen.insert(p.to_lowercase()))
        .take(20)
        .collect()
}

/// Steps for a task: from its notes when they list any, else a plan to get it started.
pub fn steps(title: &str, notes: Option<&str>) -> Vec<String> {
    let from_notes = notes.map(split).unwrap_or_default();
    if from_notes.len() >= 2 {
        return from_notes;
    }
    let from_title = split(&title.replace(" and ", "; "));
    if from_title.len() >= 2 {
        return from_title;
    }
    let t = title.trim().trim_end_matches('.');
    vec![
        format!("Decide what done looks like for “{t}”"),
        format!("Gather what “{t}” needs"),
        format!("Do the first 25 minutes of “{t}”"),
        format!("Finish and check “{t}”"),
    ]
}

/// Tasks for a project: from its notes when they list any, else the usual first moves.
pub fn project_tasks(title: &str, notes: Option<&str>) -> Vec<String> {
    let from_notes = notes.map(split).unwrap_or_default();
    if from_notes.len() >= 2 {
        return from_notes;
    }
    let t = title.trim();
    vec![
        format!("Write down the outcome of “{t}”"),
        format!("List everything “{t}” involves"),
        format!("Pick the first next action for “{t}”"),
        format!("Schedule a review of “{t}”"),
    ]
}

/// A plain-language account of a plan, built from the planner's own reasons.
pub fn explain(plan: &DayPlan, zone: Tz) -> String {
    let at = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&zone).format("%H:%M").to_string();
    let mut out = format!(
        "Your plan for {} holds {} block{} ({} of {} available minutes).",
        plan.date,
        plan.blocks.len(),
        if plan.blocks.len() == 1 { "" } else { "s" },
        plan.planned_minutes,
        plan.available_minutes
    );
    for b in plan.blocks.iter().take(8) {
        if let (Some(s), Some(e)) = (b.start, b.end) {
            out.push_str(&format!(
                " {}–{} “{}”: {}.",
                at(s),
                at(e),
                b.title,
                b.reason
            ));
        }
    }
    if plan.blocks.len() > 8 {
        out.push_str(&format!(" And {} more blocks.", plan.blocks.len() - 8));
    }
    if !plan.unplanned.is_empty() {
        out.push_str(&format!(" {} item(s) did not fit:", plan.unplanned.len()));
        for u in plan.unplanned.iter().take(5) {
            out.push_str(&format!(" “{}” ({});", u.title, u.reason));
        }
        out.pop();
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_come_from_lists_sentences_and_thens() {
        assert_eq!(
            steps(
                "Move",
                Some("- pack the books\n- book a van\n- clean the flat")
            ),
            ["Pack the books", "Book a van", "Clean the flat"]
        );
        assert_eq!(
            steps(
                "Taxes",
                Some("First, collect receipts. Then fill in the form, then submit it.")
            ),
            ["Collect receipts", "Fill in the form", "Submit it"]
        );
        assert_eq!(
            steps("Buy paint and paint the fence", None),
            ["Buy paint", "Paint the fence"]
        );
        assert_eq!(steps("Plan the trip", None).len(), 4);
    }
}
