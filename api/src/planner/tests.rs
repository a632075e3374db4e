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
        not_before: None,
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
        focused_minutes: 0,
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
fn replanning_at_noon_uses_the_afternoon_and_what_focus_left() {
    let date = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
    let mut input = base(date);
    let mut half_done = task(1, 1, Some(date), None, 120);
    half_done.focused_minutes = 90;
    input.tasks = vec![half_done];
    input.routines = vec![RoutineIn {
        id: id(9),
        time: Some(t(8, 0)),
        minutes: 15,
    }];
    input.not_before = Some(recurrence_place(date, t(12, 10), input.zone));
    let plan = plan(&input);
    assert_eq!(plan.blocks.len(), 1);
    let block = &plan.blocks[0];
    assert_eq!(block.start, recurrence_place(date, t(12, 10), input.zone));
    assert_eq!((block.end - block.start).num_minutes(), 30);
    assert!(
        block.reason.contains("30 of 120 min left"),
        "{}",
        block.reason
    );
    assert_eq!(plan.unplanned[0].item, Item::Routine(id(9)));
    assert_eq!(plan.unplanned[0].reason, "its time has already passed");
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

#[test]
fn after_the_working_day_the_reason_is_that_it_is_over() {
    let date = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
    let mut input = base(date);
    input.work_start = t(8, 30);
    input.work_end = t(16, 45);
    input.tasks = vec![task(1, 1, Some(date), None, 30)];
    input.routines = vec![RoutineIn {
        id: id(9),
        time: None,
        minutes: 15,
    }];
    input.not_before = Some(recurrence_place(date, t(18, 0), input.zone));
    let plan = plan(&input);
    assert!(plan.blocks.is_empty());
    assert_eq!(
        plan.unplanned[0].reason,
        "due today, priority 1: the working day (08:30–16:45) is over"
    );
    assert_eq!(
        plan.unplanned[1].reason,
        "the working day (08:30–16:45) is over"
    );
}

#[test]
fn other_work_says_the_high_energy_hours_were_kept_free() {
    let date = NaiveDate::from_ymd_opt(2027, 3, 10).unwrap();
    let mut input = base(date);
    input.tasks = vec![task(1, 1, Some(date), Some(Energy::Low), 30)];
    let plan = plan(&input);
    // 09:00-12:00 is free, yet the low-energy task starts at noon: the reason says why.
    assert_eq!(
        plan.blocks[0].start,
        recurrence_place(date, t(12, 0), input.zone)
    );
    assert_eq!(
        plan.blocks[0].reason,
        "due today, priority 1; outside your high-energy hours, kept free for high-energy work"
    );
    // With the rest of the day taken, it goes into the high-energy hours and says so.
    input.busy = vec![(
        recurrence_place(date, t(12, 0), input.zone),
        recurrence_place(date, t(17, 0), input.zone),
    )];
    let plan = super::plan(&input);
    assert_eq!(
        plan.blocks[0].reason,
        "due today, priority 1; in your high-energy hours (the other working hours were full)"
    );
    // With no high-energy hours free before it, the first free slot is just that.
    input.busy = vec![(
        recurrence_place(date, t(9, 0), input.zone),
        recurrence_place(date, t(12, 0), input.zone),
    )];
    let plan = super::plan(&input);
    assert_eq!(
        plan.blocks[0].reason,
        "due today, priority 1; in the first free slot"
    );
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
    (
        tasks,
        busy,
        routines,
        30u32..600,
        15u32..180,
        prop::option::of(0i64..720),
    )
        .prop_map(|(tasks, busy, routines, available, max_block, now)| {
            let date = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
            let mut input = base(date);
            input.available_minutes = available;
            input.max_block_minutes = max_block;
            let zone = input.zone;
            let day_start = recurrence_place(date, t(7, 0), zone);
            input.not_before = now.map(|m| day_start + Duration::minutes(m));
            input.tasks = tasks
                .into_iter()
                .enumerate()
                .map(|(n, (priority, due, energy, minutes, steps))| TaskIn {
                    id: id(n as u128 + 1),
                    priority,
                    due: due.map(|d| date + Duration::days(d)),
                    scheduled: (n % 7 == 0).then(|| date + Duration::days(n as i64 % 3 - 1)),
                    energy: energy.map(|e| [Energy::Low, Energy::Medium, Energy::High][e as usize]),
                    estimate_minutes: Some(minutes),
                    focused_minutes: if n % 3 == 0 { minutes / 2 } else { 0 },
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
        })
}

fn recurrence_place(date: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    crate::recurrence::place(date, time, zone)
}

#[test]
fn the_day_begins_at_its_boundary() {
    let zone: Tz = "Europe/Berlin".parse().unwrap();
    let d = |day| NaiveDate::from_ymd_opt(2026, 10, day).unwrap();
    let at = |day, h, m| {
        zone.with_ymd_and_hms(2026, 10, day, h, m, 0)
            .unwrap()
            .to_utc()
    };
    assert_eq!(local_date(at(26, 2, 59), zone, t(3, 0)), d(25));
    assert_eq!(local_date(at(26, 3, 0), zone, t(3, 0)), d(26));
    assert_eq!(local_date(at(26, 0, 30), zone, t(0, 0)), d(26));
    // 25 October 2026: 02:00-03:00 happens twice in Berlin; a 02:30 boundary is the first one.
    let first = |h, m| {
        zone.with_ymd_and_hms(2026, 10, 25, h, m, 0)
            .earliest()
            .unwrap()
            .to_utc()
    };
    assert_eq!(local_date(first(2, 15), zone, t(2, 30)), d(24));
    assert_eq!(local_date(first(2, 30), zone, t(2, 30)), d(25));
    let second = zone
        .with_ymd_and_hms(2026, 10, 25, 2, 15, 0)
        .latest()
        .unwrap()
        .to_utc();
    assert_eq!(local_date(second, zone, t(2, 30)), d(25));
}

proptest! {
    #[test]
    fn the_local_day_is_today_or_yesterday(secs in 1_700_000_000i64..1_900_000_000, minute in 0u32..1440) {
        let zone: Tz = "America/New_York".parse().unwrap();
        let now = DateTime::from_timestamp(secs, 0).unwrap();
        let boundary = t(minute / 60, minute % 60);
        let day = local_date(now, zone, boundary);
        let calendar = now.with_timezone(&zone).date_naive();
        prop_assert!(day == calendar || Some(day) == calendar.pred_opt());
        // The day has begun, and the next one has not.
        prop_assert!(recurrence_place(day, boundary, zone) <= now);
        prop_assert!(now < recurrence_place(day.succ_opt().unwrap(), boundary, zone));
    }

    #[test]
    fn plans_keep_their_promises(input in arb_input()) {
        let plan = plan(&input);
        // Deterministic.
        prop_assert_eq!(&plan, &super::plan(&input));
        // No overlaps with each other or with busy blocks.
        for (i, a) in plan.blocks.iter().enumerate() {
            prop_assert!(a.start < a.end);
            prop_assert!(!a.reason.is_empty());
            if let Some(now) = input.not_before {
                prop_assert!(a.start >= now, "placed in the past: {:?}", a);
            }
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
        // Once the working day is over, that is what the tasks left out are told.
        let day_end = recurrence_place(input.date, input.work_end, input.zone);
        if input.not_before.is_some_and(|now| now >= day_end) {
            for u in plan.unplanned.iter().filter(|u| matches!(u.item, Item::Task(_))) {
                prop_assert!(
                    u.reason.starts_with("scheduled for")
                        || u.reason == "planned through its open steps"
                        || u.reason.ends_with(": the working day (09:00–17:00) is over"),
                    "{}",
                    u.reason
                );
            }
        }
    }
}
