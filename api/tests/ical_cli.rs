//! `minime ical expand` prints the occurrences as a JSON array of
//! `{uid, recurrence_id, start, end, summary, all_day, status}` sorted by start.

use std::process::Command;

#[test]
fn ical_expand_prints_occurrences_as_json() {
    let dir = std::env::temp_dir().join(format!("minime-ical-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("calendar.ics");
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
         BEGIN:VEVENT\r\nUID:standup\r\nSUMMARY:Standup\r\nDTSTART;TZID=W. Europe Standard Time:20270104T090000\r\n\
         DTEND;TZID=W. Europe Standard Time:20270104T091500\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:standup\r\nRECURRENCE-ID;TZID=W. Europe Standard Time:20270105T090000\r\n\
         DTSTART;TZID=W. Europe Standard Time:20270105T090000\r\nDTEND;TZID=W. Europe Standard Time:20270105T091500\r\n\
         STATUS:CANCELLED\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:holiday\r\nSUMMARY:Holiday\r\nDTSTART;VALUE=DATE:20270104\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minime"))
        .args(["ical", "expand"])
        .arg(&file)
        .args([
            "--from",
            "2027-01-04",
            "--days",
            "2",
            "--tz",
            "America/New_York",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        // The window is 4-5 January in New York: the holiday's day starts at 05:00 UTC, before
        // the 09:00 Berlin standup (08:00 UTC); 6 January 09:00 in Berlin is past the window.
        serde_json::json!([
            {"uid": "holiday", "recurrence_id": null, "start": "2027-01-04", "end": "2027-01-05",
             "summary": "Holiday", "all_day": true, "status": "confirmed"},
            {"uid": "standup", "recurrence_id": "2027-01-04T09:00:00+01:00",
             "start": "2027-01-04T09:00:00+01:00", "end": "2027-01-04T09:15:00+01:00",
             "summary": "Standup", "all_day": false, "status": "confirmed"},
            {"uid": "standup", "recurrence_id": "2027-01-05T09:00:00+01:00",
             "start": "2027-01-05T09:00:00+01:00", "end": "2027-01-05T09:15:00+01:00",
             "summary": "", "all_day": false, "status": "cancelled"},
        ])
    );

    std::fs::write(&file, "not a calendar").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_minime"))
        .args(["ical", "expand"])
        .arg(&file)
        .args(["--from", "2027-01-04"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an iCalendar file"));
    std::fs::remove_dir_all(&dir).unwrap();
}
