//! The daily plan for 1,000 open tasks and 50 busy blocks (DESIGN target: under 2 ms).

use chrono::{Duration, NaiveDate, NaiveTime};
use criterion::{criterion_group, criterion_main, Criterion};
use minime_api::planner::day::{plan, Energy, PlanInput, RoutineIn, TaskIn};
use uuid::Uuid;

fn input() -> PlanInput {
    let date = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let t = |h, m| NaiveTime::from_hms_opt(h, m, 0).unwrap();
    let day = minime_api::recurrence::place(date, t(7, 0), zone);
    PlanInput {
        date,
        zone,
        work_start: t(8, 0),
        work_end: t(20, 0),
        high_energy_start: t(9, 0),
        high_energy_end: t(12, 0),
        available_minutes: 600,
        max_block_minutes: 90,
        default_estimate_minutes: 30,
        tasks: (0..1000u128)
            .map(|n| TaskIn {
                id: Uuid::from_u128(n),
                priority: (n % 4) as i16 + 1,
                due: Some(date + Duration::days((n % 9) as i64 - 4)),
                scheduled: None,
                energy: Some([Energy::Low, Energy::Medium, Energy::High][(n % 3) as usize]),
                estimate_minutes: Some(5 + (n % 12) as u32 * 10),
                focused_minutes: (n % 7) as u32 * 5,
                has_open_steps: n % 17 == 0,
            })
            .collect(),
        routines: (0..5u128)
            .map(|n| RoutineIn {
                id: Uuid::from_u128(5000 + n),
                time: None,
                minutes: 15,
            })
            .collect(),
        busy: (0..50i64)
            .map(|n| {
                (
                    day + Duration::minutes(n * 14),
                    day + Duration::minutes(n * 14 + 7),
                )
            })
            .collect(),
        not_before: None,
    }
}

fn bench(c: &mut Criterion) {
    let input = input();
    c.bench_function("plan 1000 tasks, 50 busy blocks", |b| {
        b.iter(|| plan(std::hint::black_box(&input)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
