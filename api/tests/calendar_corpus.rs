//! Expansion against an independent implementation: the test calendars that the PyPI package
//! recurring-ical-events ships (see tests/calendars/README.md), expanded by that library once
//! into NAME.expected.json, compared here occurrence by occurrence (uid, start, end).

use std::collections::BTreeMap;
use std::path::PathBuf;

use minime_api::calendar::expand::expand;

/// Where we deliberately differ from the reference: (file, "missing" or "extra", uid, start,
/// why). Any other difference fails, and so does an entry that no longer differs.
const ALLOWED: &[(&str, &str, &str, &str, &str)] = &[
    // DTSTART floating, DTEND in UTC (RFC 5545 wants both of one kind): a floating time is read
    // in the user's zone wherever it stands; the reference reads it in the other value's zone.
    (
        "issue_201_test_matrix.ics",
        "missing",
        "VEVENT-DATETIME-UTC",
        "2000-01-01T00:00:00+00:00",
        "floating start read in the user's zone",
    ),
    (
        "issue_201_test_matrix.ics",
        "extra",
        "VEVENT-DATETIME-UTC",
        "2000-01-01T00:00:00-05:00",
        "floating start read in the user's zone",
    ),
    // DTSTART in UTC, DTEND floating: the same rule for the end.
    (
        "issue_201_test_matrix.ics",
        "missing",
        "VEVENT-UTC-DATETIME",
        "2000-01-01T00:00:00+00:00",
        "floating end read in the user's zone",
    ),
    (
        "issue_201_test_matrix.ics",
        "extra",
        "VEVENT-UTC-DATETIME",
        "2000-01-01T00:00:00+00:00",
        "floating end read in the user's zone",
    ),
    // UNTIL=20250920 (a date) on a series of date-times: the last day counts whole; the
    // reference stops at its midnight, so the instance of 20 September (moved by a
    // THISANDFUTURE override to the 21st) is only ours.
    (
        "issue_75_range_parameter.ics",
        "extra",
        "210",
        "2025-09-21T14:22:00+00:00",
        "a date UNTIL includes its whole day",
    ),
];

/// Files the reference refuses and we read (or the reverse), with the reason.
const ALLOWED_ERRORS: &[(&str, &str)] = &[(
    "issue_128_only_first_event.ics",
    "COUNT=-1 is not a valid RRULE: the file is refused with a message naming the event, \
     where the reference ignores the COUNT",
)];

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/calendars")
}

type Row = (String, String, String);

fn rows(value: &serde_json::Value) -> Vec<Row> {
    // RFC 3339 writes UTC as `Z` (ours) or `+00:00` (the reference): the same.
    let text = |v: &serde_json::Value, k: &str| {
        let t = v[k].as_str().unwrap_or_default();
        match t.strip_suffix('Z') {
            Some(rest) => format!("{rest}+00:00"),
            None => t.to_owned(),
        }
    };
    let mut rows: Vec<Row> = value
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| (text(o, "uid"), text(o, "start"), text(o, "end")))
        .collect();
    rows.sort();
    rows
}

#[test]
fn expansion_matches_recurring_ical_events_event_by_event() {
    let mut files = 0;
    let mut exact_files = 0;
    let mut matched = 0;
    let mut expected_total = 0;
    let mut unexplained = Vec::new();
    let mut used = vec![false; ALLOWED.len()];
    let mut used_errors = vec![false; ALLOWED_ERRORS.len()];
    let mut paths: Vec<PathBuf> = std::fs::read_dir(folder())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "ics"))
        .collect();
    paths.sort();
    assert!(paths.len() >= 90, "the corpus is in tests/calendars");
    for path in paths {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let expected: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(path.with_extension("expected.json")).unwrap(),
        )
        .unwrap();
        let ics = std::fs::read_to_string(&path).unwrap();
        let from = expected["from"].as_str().unwrap().parse().unwrap();
        let days = expected["days"].as_u64().unwrap() as u32;
        let zone = expected["zone"].as_str().unwrap().parse().unwrap();
        files += 1;
        let ours = expand(&ics, from, days, zone);
        let refused = expected.get("error").is_some();
        if refused || ours.is_err() {
            match ALLOWED_ERRORS.iter().position(|(f, _)| *f == name) {
                Some(i) if refused != ours.is_err() => used_errors[i] = true,
                _ if refused && ours.is_err() => exact_files += 1,
                _ => unexplained.push(format!(
                    "{name}: reference {:?}, ours {:?}",
                    expected.get("error"),
                    ours.as_ref().err()
                )),
            }
            continue;
        }
        let ours = rows(&serde_json::to_value(ours.unwrap()).unwrap());
        let theirs = rows(&expected["occurrences"]);
        expected_total += theirs.len();
        let mut count: BTreeMap<&Row, i64> = BTreeMap::new();
        for r in &theirs {
            *count.entry(r).or_default() += 1;
        }
        for r in &ours {
            *count.entry(r).or_default() -= 1;
        }
        let mut exact = true;
        for (row, n) in count {
            if n == 0 {
                continue;
            }
            let kind = if n > 0 { "missing" } else { "extra" };
            let allowed = ALLOWED.iter().position(|(f, k, uid, start, _)| {
                *f == name && *k == kind && *uid == row.0 && *start == row.1
            });
            match allowed {
                Some(i) => used[i] = true,
                None => unexplained.push(format!("{name}: {kind} {row:?}")),
            }
            exact = false;
        }
        matched += theirs
            .iter()
            .filter(|r| ours.binary_search(r).is_ok())
            .count();
        if exact {
            exact_files += 1;
        }
    }
    println!(
        "{exact_files} of {files} files match exactly; {matched} of {expected_total} expected occurrences found"
    );
    for (i, entry) in ALLOWED.iter().enumerate() {
        if !used[i] {
            unexplained.push(format!("allowed but not seen: {entry:?}"));
        }
    }
    for (i, entry) in ALLOWED_ERRORS.iter().enumerate() {
        if !used_errors[i] {
            unexplained.push(format!("allowed error but not seen: {entry:?}"));
        }
    }
    assert!(
        unexplained.is_empty(),
        "{} unexplained differences:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
}
