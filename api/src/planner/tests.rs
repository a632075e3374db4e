use std::collections::HashSet;

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn base(date: NaiveDate) -> PlanInput {
    PlanInput {
        date,
        zone: "Europe/Berlin".parse().unwrap(),
        work_start: t(9, 0),
        work_end: t(17, 0),
        high_energy_start: t(9, 0),
        high_energy_end: t(12, 0),
        available_minutes: 360,
        max_block_minutes: 90,
        default_estimate_minutes: 30,
        tasks: Vec::new(),
        routines: Vec::new(),
        busy: Vec::new(),
    }
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn task(
    n: u128,
    priority: i16,
    due: Option<NaiveDate>,
    energy: Option<Energy>,
    minutes: u32,
) -> TaskIn {
    TaskIn {
        id: id(n),
        priority,
        due,
        scheduled: None,
        energy,
        estimate_minutes: Some(minutes),
        has_open_steps: false,
    }
}

#[test]
fn urgent_first_high_energy_in_the_morning_long_work_split() {
    let date = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
    let mut input = base(date);
    input.tasks = vec![
        task(1, 4, None, None, 30),
        task(2, 2, Some(date), Some(Energy::High), 150),
        task(3, 1, Some(date.pred_opt().unwrap()), Some(Energy::Low), 20),
    ];
    let zone: Tz = input.zone;
    let lunch = (
        zone.with_ymd_and_hms(2027, 3, 10, 12, 0, 0)
            .unwrap()
            .to_utc(),
        zone.with_ymd_and_hms(2027, 3, 10, 13, 0, 0)
            .unwrap()
            .to_utc(),
    );
    input.busy = vec![lunch];
    let plan = plan(&input);
    // The overdue task comes first, outside the high-energy hours (it is low-energy work).
    let first = plan
        .blocks
        .iter()
        .find(|b| b.item == Item::Task(id(3)))
        .unwrap();
    assert!(first.reason.starts_with("overdue"));
    assert!(first.start >= lunch.1);
    // 150 minutes of high-energy work: blocks of at most 90, in the morning.
    let big: Vec<&Block> = plan
        .blocks
        .iter()
        .filter(|b| b.item == Item::Task(id(2)))
        .collect();
    assert_eq!(big.len(), 2);
    assert!(big.iter().all(|b| (b.end - b.start).num_minutes() <= 90));
    assert!(big[0].reason.contains("high-energy hours"));
    assert!(plan.unplanned.is_empty());
}

#[test]
fn dst_day_keeps_local_hours() {
    // 28 March 2027: Berlin moves from UTC+1 to UTC+2 at 02:00; 09:00 local is 07:00 UTC.
    let date = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
    let mut input = base(date);
    input.tasks = vec![task(1, 1, Some(date), None, 30)];
    input.high_energy_end = t(9, 30);
    input.routines = vec![RoutineIn {
        id: id(9),
        time: Some(t(9, 0)),
        minutes: 30,
    }];
    let plan = plan(&input);
    assert_eq!(
        plan.blocks[0].start,
        Utc.with_ymd_and_hms(2027, 3, 28, 7, 0, 0).unwrap()
    );
    assert_eq!(plan.blocks[0].item, Item::Routine(id(9)));
}

fn arb_input() -> impl Strategy<Value = PlanInput> {
    let tasks = prop::collection::vec(
        (
            1i16..=4,
            prop::option::of(-3i64..5),
            prop::option::of(0u8..3),
            5u32..240,
            any::<bool>(),
        ),
        0..40,
    );
    let busy = prop::collection::vec((0i64..600, 10i64..120), 0..6);
    let routines = prop::collection::vec((prop::option::of(0u32..600), 5u32..60), 0..4);
    (tasks, busy, routines, 30u32..600, 15u32..180).prop_map(
        |(tasks, busy, routines, available, max_block)| {
            let date = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
            let mut input = base(date);
            input.available_minutes = available;
            input.max_block_minutes = max_block;
            let zone = input.zone;
            let day_start = recurrence_place(date, t(7, 0), zone);
            input.tasks = tasks
                .into_iter()
                .enumerate()
                .map(|(n, (priority, due, energy, minutes, steps))| TaskIn {
                    id: id(n as u128 + 1),
                    priority,
                    due: due.map(|d| date + Duration::days(d)),
                    scheduled: None,
                    energy: energy.map(|e| [Energy::Low, Energy::Medium, Energy::High][e as usize]),
                    estimate_minutes: Some(minutes),
                    has_open_steps: steps && n % 5 == 0,
                })
                .collect();
            input.busy = busy
                .into_iter()
                .map(|(off, len)| {
                    (
                        day_start + Duration::minutes(off),
                        day_start + Duration::minutes(off + len),
                    )
                })
                .collect();
            input.routines = routines
                .into_iter()
                .enumerate()
                .map(|(n, (at, minutes))| RoutineIn {
                    id: id(1000 + n as u128),
                    time: at.map(|m| t(7 + m / 60, m % 60).min(t(23, 0))),
                    minutes,
                })
                .collect();
            input
        },
    )
}

fn recurrence_place(date: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    crate::recurrence::place(date, time, zone)
}

proptest! {
    #[test]
    fn plans_keep_their_promises(input in arb_input()) {
        let plan = plan(&input);
        // Deterministic.
        prop_assert_eq!(&plan, &super::plan(&input));
        // No overlaps with each other or with busy blocks.
        for (i, a) in plan.blocks.iter().enumerate() {
            prop_assert!(a.start < a.end);
            prop_assert!(!a.reason.is_empty());
            for b in plan.blocks.iter().skip(i + 1) {
                prop_assert!(a.end <= b.start || b.end <= a.start, "overlap {:?} {:?}", a, b);
            }
            if matches!(a.item, Item::Task(_)) {
                for (s, e) in &input.busy {
                    prop_assert!(a.end <= *s || *e <= a.start, "over a busy block");
                }
                prop_assert!((a.end - a.start).num_minutes() <= i64::from(input.max_block_minutes));
            }
        }
        // Never over the available time.
        let used: i64 = plan.blocks.iter().map(|b| (b.end - b.start).num_minutes()).sum();
        prop_assert!(used <= i64::from(input.available_minutes));
        // Nothing lost: every task and routine is planned or listed with a reason.
        let mut seen: HashSet<Item> = plan.blocks.iter().map(|b| b.item).collect();
        for u in &plan.unplanned {
            prop_assert!(!u.reason.is_empty());
            prop_assert!(seen.insert(u.item), "{:?} both planned and unplanned", u.item);
        }
        for task in &input.tasks {
            prop_assert!(seen.contains(&Item::Task(task.id)));
        }
        for r in &input.routines {
            prop_assert!(seen.contains(&Item::Routine(r.id)));
        }
    }
}
