//! The Smart Add parser against the labelled phrases in `tests/data/smart_add.tsv`: prints the
//! exact-match accuracy and every miss, and fails below 95 % (the set includes phrases known to
//! be read wrongly, so that the number means something).

use chrono::{NaiveDate, NaiveTime};
use minime_api::smart_add::{parse, Context};

#[test]
fn labelled_phrases() {
    let data = include_str!("../../data/smart_add.tsv");
    let mut ctx = Context::new(
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        chrono_tz::UTC,
        "en-GB",
    );
    let (mut total, mut misses) = (0, Vec::new());
    for line in data.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix(">>>") {
            let mut today = ctx.today;
            let (mut zone, mut locale) = (ctx.zone, "en-GB".to_owned());
            for kv in rest.split_whitespace() {
                match kv.split_once('=') {
                    Some(("today", v)) => today = v.parse().unwrap(),
                    Some(("zone", v)) => zone = v.parse().unwrap(),
                    Some(("locale", v)) => locale = v.to_owned(),
                    _ => panic!("bad context line {line}"),
                }
            }
            ctx = Context::new(today, zone, &locale);
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        assert!(cols.len() >= 2, "{line:?}");
        let mut want = std::collections::HashMap::new();
        for kv in cols.get(2).map_or("", |s| s).split_whitespace() {
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("bad field {kv} in {line:?}"));
            want.insert(k, v);
        }
        total += 1;
        let drafts = parse(cols[0], &ctx);
        let Some(d) = drafts.first() else {
            misses.push(format!("{:?}: no task", cols[0]));
            continue;
        };
        let get = |k: &str| want.get(k).copied();
        let expected = (
            cols[1],
            get("due").map(|d| d.parse::<NaiveDate>().unwrap()),
            get("time").map(|t| NaiveTime::parse_from_str(t, "%H:%M").unwrap()),
            get("priority").map(|p| p.parse::<i16>().unwrap()),
            get("project"),
            get("labels").map_or(Vec::new(), |l| l.split(',').collect()),
            get("estimate").map(|m| m.parse::<i32>().unwrap()),
            get("rrule"),
            get("energy"),
        );
        let got = (
            d.title.as_str(),
            d.due_date,
            d.due_time,
            d.priority,
            d.project.as_deref(),
            d.labels.iter().map(String::as_str).collect::<Vec<_>>(),
            d.estimate_minutes,
            d.recurrence.as_deref(),
            d.energy.as_deref(),
        );
        let at_ok = get("at").is_none_or(|at| {
            d.due_at
                .map(|x| x.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .as_deref()
                == Some(at)
        });
        if got != expected || drafts.len() != 1 || !at_ok {
            misses.push(format!(
                "{:?}\n    expected {expected:?}\n    got      {got:?} at {:?}",
                cols[0], d.due_at
            ));
        }
    }
    let accuracy = (total - misses.len()) as f64 / total as f64;
    println!(
        "smart add: {}/{total} exact ({:.1} %)",
        total - misses.len(),
        accuracy * 100.0
    );
    for m in &misses {
        println!("  miss: {m}");
    }
    assert!(total >= 150, "only {total} labelled phrases");
    assert!(
        accuracy >= 0.95,
        "accuracy {accuracy:.3}:\n{}",
        misses.join("\n")
    );
}

#[test]
fn several_tasks_from_one_input() {
    let ctx = Context::new(
        NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
        chrono_tz::Europe::Berlin,
        "en-GB",
    );
    let drafts = parse(
        "- Buy milk\n- Call Bob tomorrow 5pm @phone\nPay rent every 1st of the month; water plants",
        &ctx,
    );
    let titles: Vec<&str> = drafts.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles, ["Buy milk", "Call Bob", "Pay rent", "water plants"]);
    // Spans point into the whole input.
    let input =
        "- Buy milk\n- Call Bob tomorrow 5pm @phone\nPay rent every 1st of the month; water plants";
    for d in &drafts {
        for s in &d.spans {
            assert_eq!(&input[s.start..s.end], s.text);
        }
    }
    assert_eq!(
        drafts[1].spans.iter().map(|s| s.field).collect::<Vec<_>>(),
        ["due_date", "due_time", "labels"]
    );
}
