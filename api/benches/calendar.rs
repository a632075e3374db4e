//! A 10,000-event calendar parsed and expanded for 7 days (target: under 200 ms median), beside
//! parsing alone with the `ical` crate, the floor any expansion stands on.
//!
//! The mix: mostly single events over two years, weekly series (with an EXDATE and a moved
//! instance each) and daily series (with COUNT or UNTIL), all-day events, in Berlin, New York
//! (by its Windows name), UTC and floating time.

use std::fmt::Write;
use std::io::BufReader;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use minime_api::calendar::expand::expand;

fn calendar() -> String {
    let zones = [";TZID=Europe/Berlin", ";TZID=Eastern Standard Time", "", ""];
    let mut ics = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    for i in 0..10_000u32 {
        let zone = zones[(i % 4) as usize];
        let utc = if i % 4 == 3 { "Z" } else { "" };
        let day =
            NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(u64::from(i % 730));
        let date = day.format("%Y%m%d");
        let hour = 8 + i % 10;
        ics.push_str("BEGIN:VEVENT\r\n");
        write!(ics, "UID:event-{i}@bench\r\nSUMMARY:Event {i}\r\n").unwrap();
        match i % 20 {
            0 | 1 => {
                // A weekly series with one day excluded and one instance moved.
                write!(
                    ics,
                    "DTSTART{zone}:{date}T{hour:02}0000{utc}\r\nDTEND{zone}:{date}T{hour:02}3000{utc}\r\n\
                     RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\nEXDATE{zone}:{date}T{hour:02}0000{utc}\r\nEND:VEVENT\r\n\
                     BEGIN:VEVENT\r\nUID:event-{i}@bench\r\nRECURRENCE-ID{zone}:{date}T{hour:02}0000{utc}\r\n\
                     DTSTART{zone}:{date}T{:02}0000{utc}\r\nDURATION:PT45M\r\nSUMMARY:Moved\r\n",
                    hour + 1
                )
                .unwrap();
            }
            2 => write!(
                ics,
                "DTSTART{zone}:{date}T{hour:02}1500{utc}\r\nDURATION:PT15M\r\nRRULE:FREQ=DAILY;COUNT=60\r\n"
            )
            .unwrap(),
            3 => write!(
                ics,
                "DTSTART;VALUE=DATE:{date}\r\nRRULE:FREQ=DAILY;UNTIL=20271231;INTERVAL=3\r\n"
            )
            .unwrap(),
            4 | 5 => write!(ics, "DTSTART;VALUE=DATE:{date}\r\nDTEND;VALUE=DATE:{date}\r\nTRANSP:TRANSPARENT\r\n").unwrap(),
            _ => write!(
                ics,
                "DTSTART{zone}:{date}T{hour:02}0000{utc}\r\nDTEND{zone}:{date}T{hour:02}4500{utc}\r\n"
            )
            .unwrap(),
        }
        ics.push_str("END:VEVENT\r\n");
    }
    ics.push_str("END:VCALENDAR\r\n");
    ics
}

fn bench(c: &mut Criterion) {
    let ics = calendar();
    let from = NaiveDate::from_ymd_opt(2027, 3, 25).unwrap();
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let found = expand(&ics, from, 7, zone).unwrap().len();
    eprintln!("{} bytes, {found} occurrences in the week", ics.len());
    let mut group = c.benchmark_group("calendar 10,000 events");
    group.sample_size(20);
    group.bench_function("ical parse only (baseline)", |b| {
        b.iter(|| {
            ical::IcalParser::new(BufReader::new(std::hint::black_box(&ics).as_bytes()))
                .map(|c| c.unwrap().events.len())
                .sum::<usize>()
        })
    });
    group.bench_function("parse and expand 7 days", |b| {
        b.iter(|| {
            expand(std::hint::black_box(&ics), from, 7, zone)
                .unwrap()
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
