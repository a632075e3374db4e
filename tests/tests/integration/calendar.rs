//! The iCal calendar over HTTP against a loopback calendar server that speaks HTTP caching
//! (ETag / If-None-Match, 304): connect, list, plan around it, read again, fail, disconnect.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{DateTime, Duration as Days, NaiveDate, Utc};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{problem, user_today, TestApp};

/// A secret-looking path: it must never show in an answer or a database dump.
const FEED: &str = "/private-7f3a9c2e51d84b06/basic.ics";

#[derive(Default)]
struct Served {
    body: String,
    etag: String,
    status: u16,
    hits: usize,
    /// The If-None-Match of every request.
    conditions: Vec<Option<String>>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<Served>>);

impl Fake {
    fn serve(&self, body: String, etag: &str) {
        let mut s = self.0.lock().unwrap();
        s.body = body;
        s.etag = format!("\"{etag}\"");
        s.status = 200;
    }
    fn fail(&self, status: u16) {
        self.0.lock().unwrap().status = status;
    }
    fn hits(&self) -> usize {
        self.0.lock().unwrap().hits
    }
    fn last_condition(&self) -> Option<String> {
        self.0.lock().unwrap().conditions.last().cloned().flatten()
    }
}

async fn feed(fake: web::Data<Fake>, req: HttpRequest) -> HttpResponse {
    let mut s = fake.0.lock().unwrap();
    s.hits += 1;
    let condition = req
        .headers()
        .get("if-none-match")
        .map(|v| v.to_str().unwrap().to_owned());
    s.conditions.push(condition.clone());
    if s.status != 200 {
        return HttpResponse::build(actix_web::http::StatusCode::from_u16(s.status).unwrap())
            .body("no");
    }
    if condition.as_deref() == Some(s.etag.as_str()) {
        return HttpResponse::NotModified()
            .insert_header(("etag", s.etag.clone()))
            .finish();
    }
    HttpResponse::Ok()
        .insert_header(("content-type", "text/calendar; charset=utf-8"))
        .insert_header(("etag", s.etag.clone()))
        .body(s.body.clone())
}

async fn start_fake() -> (Fake, String) {
    let fake = Fake::default();
    let data = web::Data::new(fake.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route(FEED, web::get().to(feed))
            .route(
                "/page.html",
                web::get().to(|| async { HttpResponse::Ok().body("<html>not a calendar</html>") }),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    (fake, format!("http://{addr}"))
}

fn day(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// A week as Google writes it (UTC times): a review tomorrow 10–11, a daily standup 08:30–08:45
/// with the day after tomorrow excluded and the next one cancelled, an all-day holiday today
/// and a gym slot marked free tomorrow 14–15.
fn week(today: NaiveDate) -> String {
    let (t1, t2, t3) = (
        today + Days::days(1),
        today + Days::days(2),
        today + Days::days(3),
    );
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".into(),
        "PRODID:-//minime tests//EN".into(),
        "BEGIN:VEVENT".into(),
        "UID:review@example".into(),
        "DTSTAMP:20261201T000000Z".into(),
        format!("DTSTART:{}T100000Z", day(t1)),
        format!("DTEND:{}T110000Z", day(t1)),
        "SUMMARY:Design review".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:standup@example".into(),
        "DTSTAMP:20261201T000000Z".into(),
        format!("DTSTART:{}T083000Z", day(today - Days::days(2))),
        format!("DTEND:{}T084500Z", day(today - Days::days(2))),
        "RRULE:FREQ=DAILY;COUNT=30".into(),
        format!("EXDATE:{}T083000Z", day(t2)),
        "SUMMARY:Standup".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:standup@example".into(),
        "DTSTAMP:20261201T000000Z".into(),
        format!("RECURRENCE-ID:{}T083000Z", day(t3)),
        format!("DTSTART:{}T083000Z", day(t3)),
        format!("DTEND:{}T084500Z", day(t3)),
        "STATUS:CANCELLED".into(),
        "SUMMARY:Standup".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:holiday@example".into(),
        "DTSTAMP:20261201T000000Z".into(),
        format!("DTSTART;VALUE=DATE:{}", day(today)),
        format!("DTEND;VALUE=DATE:{}", day(t1)),
        "SUMMARY:Holiday".into(),
        "TRANSP:TRANSPARENT".into(),
        "END:VEVENT".into(),
        "BEGIN:VEVENT".into(),
        "UID:gym@example".into(),
        "DTSTAMP:20261201T000000Z".into(),
        format!("DTSTART:{}T140000Z", day(t1)),
        format!("DTEND:{}T150000Z", day(t1)),
        "TRANSP:TRANSPARENT".into(),
        "SUMMARY:Maybe gym".into(),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.join("\r\n") + "\r\n"
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn pro(app: &TestApp, email: &str) {
    minime_api::admin::cli::set_plan(&app.admin_url, email, "pro")
        .await
        .unwrap();
}

async fn loopback_app() -> TestApp {
    TestApp::spawn_with(&[("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true")]).await
}

#[tokio::test]
async fn a_connected_calendar_is_listed_planned_around_read_again_and_disconnected() {
    let (fake, base) = start_fake().await;
    let today = user_today();
    fake.serve(week(today), "v1");
    let app = loopback_app().await;
    let t = app.user("ada@example.com").await;
    let ada = app.signed_in(&t);
    let url = format!("{base}{FEED}");

    // Free plans have no calendar, and nothing is read.
    let res = ada
        .send(
            Method::PUT,
            "/v1/integrations/calendar",
            Some(&json!({"url": url})),
            &[],
        )
        .await;
    problem(res, 403, "/problems/plan-required").await;
    assert_eq!(fake.hits(), 0);

    pro(&app, "ada@example.com").await;
    let (status, text) = ada
        .text(
            Method::PUT,
            "/v1/integrations/calendar",
            Some(&json!({"url": url})),
        )
        .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        !text.contains("private-7f3a9c2e51d84b06"),
        "the URL is shown back: {text}"
    );
    let connected: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(connected["connected"], true);
    assert_eq!(connected["host"], "127.0.0.1");
    assert_eq!(connected["window_start"], today.to_string());
    assert_eq!(connected["event_count"], 9);
    assert_eq!(connected["last_error"], Value::Null);

    // The week: 6 standups (one excluded, one of them cancelled), the review, the holiday, the gym.
    let events = ada.get("/v1/calendar/events").await;
    let items = events["items"].as_array().unwrap();
    let of = |uid: &str| items.iter().filter(|e| e["uid"] == uid).collect::<Vec<_>>();
    assert_eq!(items.len(), 9, "{events:#}");
    let standups = of("standup@example");
    assert_eq!(standups.len(), 6);
    let cancelled: Vec<_> = standups
        .iter()
        .filter(|e| e["status"] == "cancelled")
        .collect();
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["busy"], false);
    assert!(cancelled[0]["start"]
        .as_str()
        .unwrap()
        .starts_with(&(today + Days::days(3)).to_string()));
    assert!(!standups.iter().any(|e| e["start"]
        .as_str()
        .unwrap()
        .starts_with(&(today + Days::days(2)).to_string())));
    let holiday = &of("holiday@example")[0];
    assert_eq!(
        (holiday["all_day"].clone(), holiday["busy"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(holiday["start"], today.to_string());
    assert_eq!(of("gym@example")[0]["busy"], false);
    let review = &of("review@example")[0];
    assert_eq!(review["busy"], true);
    let review_span = (at(&review["starts_at"]), at(&review["ends_at"]));
    assert_eq!(review_span.1 - review_span.0, Days::hours(1));
    let starts: Vec<DateTime<Utc>> = items.iter().map(|e| at(&e["starts_at"])).collect();
    assert!(starts.windows(2).all(|w| w[0] <= w[1]), "sorted by start");
    // A range of days narrows the list.
    let tomorrow = today + Days::days(1);
    let one = ada
        .get(&format!(
            "/v1/calendar/events?from={tomorrow}&to={tomorrow}"
        ))
        .await;
    let uids: Vec<&str> = one["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids, ["standup@example", "review@example", "gym@example"]);

    // Today shows today's events.
    let today_view = ada.get("/v1/today").await;
    let today_uids: Vec<&str> = today_view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uid"].as_str().unwrap())
        .collect();
    assert_eq!(today_uids, ["holiday@example", "standup@example"]);

    // Tomorrow's plan keeps the review and the standup free, though the client sent no busy time.
    for n in 0..8 {
        ada.create(
            "/v1/tasks",
            &json!({"title": format!("Work {n}"), "estimate_minutes": 60, "scheduled_date": tomorrow}),
        )
        .await;
    }
    let plan = ada
        .ok(Method::POST, "/v1/plans", Some(&json!({"date": tomorrow})))
        .await;
    let blocks = plan["blocks"].as_array().unwrap();
    assert!(!blocks.is_empty(), "{plan:#}");
    let standup = of("standup@example")
        .into_iter()
        .find(|e| {
            e["start"]
                .as_str()
                .unwrap()
                .starts_with(&tomorrow.to_string())
        })
        .map(|e| (at(&e["starts_at"]), at(&e["ends_at"])))
        .unwrap();
    for b in blocks {
        let (s, e) = (at(&b["start"]), at(&b["end"]));
        for (bs, be) in [review_span, standup] {
            assert!(e <= bs || s >= be, "block {s}–{e} overlaps busy {bs}–{be}");
        }
    }

    // Reading again sends the ETag back; the unchanged feed costs a 304 and keeps the events.
    let again = ada
        .ok(Method::POST, "/v1/integrations/calendar/sync", None)
        .await;
    assert_eq!(fake.last_condition().as_deref(), Some("\"v1\""));
    assert_eq!(again["event_count"], 9);
    // A changed feed replaces them.
    let mut smaller = week(today);
    let gym = smaller.find("BEGIN:VEVENT\r\nUID:gym@example").unwrap();
    let end = gym + smaller[gym..].find("END:VEVENT\r\n").unwrap() + "END:VEVENT\r\n".len();
    smaller.replace_range(gym..end, "");
    fake.serve(smaller, "v2");
    let changed = ada
        .ok(Method::POST, "/v1/integrations/calendar/sync", None)
        .await;
    assert_eq!(changed["event_count"], 8);

    // A failing server: 502, the reason recorded, the cached events kept.
    fake.fail(500);
    let res = ada
        .send(Method::POST, "/v1/integrations/calendar/sync", None, &[])
        .await;
    let p = problem(res, 502, "/problems/calendar-unreachable").await;
    assert!(p["detail"].as_str().unwrap().contains("500"), "{p}");
    let status = ada.get("/v1/integrations/calendar").await;
    assert!(status["last_error"].as_str().unwrap().contains("500"));
    assert_eq!(status["event_count"], 8);

    // Another user sees nothing of it.
    let b = app.user("bob@example.com").await;
    let bob = app.signed_in(&b);
    assert_eq!(
        bob.get("/v1/integrations/calendar").await["connected"],
        false
    );
    assert_eq!(bob.get("/v1/calendar/events").await["items"], json!([]));

    // Disconnecting removes the URL and every event, at once.
    let (status, _) = ada
        .call(Method::DELETE, "/v1/integrations/calendar", None)
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        ada.get("/v1/integrations/calendar").await["connected"],
        false
    );
    assert_eq!(ada.get("/v1/calendar/events").await["items"], json!([]));
    assert_eq!(
        app.count("SELECT count(*) FROM auth.calendar_connections")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM auth.calendar_events").await,
        0
    );
    let res = ada
        .send(Method::POST, "/v1/integrations/calendar/sync", None, &[])
        .await;
    problem(res, 404, "/problems/not-found").await;
}

#[tokio::test]
async fn addresses_that_are_not_calendars_we_may_read_are_refused_and_nothing_is_kept() {
    let (fake, base) = start_fake().await;
    fake.fail(404);
    let app = loopback_app().await;
    let t = app.user("ada@example.com").await;
    pro(&app, "ada@example.com").await;
    let ada = app.signed_in(&t);
    for (url, says) in [
        ("not a url".to_owned(), "is not a URL"),
        ("ftp://example.com/cal.ics".to_owned(), "scheme"),
        ("http://10.1.2.3/cal.ics".to_owned(), "private"),
        ("http://169.254.169.254/latest".to_owned(), "link-local"),
        (format!("{base}{FEED}"), "404"),
        (format!("{base}/page.html"), "iCalendar"),
    ] {
        let res = ada
            .send(
                Method::PUT,
                "/v1/integrations/calendar",
                Some(&json!({"url": url})),
                &[],
            )
            .await;
        let p = problem(res, 422, "/problems/validation").await;
        assert_eq!(p["errors"][0]["field"], "url", "{p}");
        let message = p["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(says), "{url}: {message}");
    }
    assert_eq!(
        app.count("SELECT count(*) FROM auth.calendar_connections")
            .await,
        0
    );
}

#[tokio::test]
async fn the_feed_is_read_every_half_hour_and_a_downgrade_disconnects() {
    let (fake, base) = start_fake().await;
    fake.serve(week(user_today()), "v1");
    let app = loopback_app().await;
    let t = app.user("ada@example.com").await;
    pro(&app, "ada@example.com").await;
    let ada = app.signed_in(&t);
    ada.ok(
        Method::PUT,
        "/v1/integrations/calendar",
        Some(&json!({"url": format!("{base}{FEED}")})),
    )
    .await;
    assert_eq!(fake.hits(), 1);
    let next = at(&ada.get("/v1/integrations/calendar").await["next_sync_at"]);
    assert!(next > app.clock.now() && next - app.clock.now() <= Days::minutes(30));

    app.advance_when_idle(Duration::from_secs(31 * 60)).await;
    app.wake_jobs();
    until(|| fake.hits() == 2).await;

    minime_api::admin::cli::set_plan(&app.admin_url, "ada@example.com", "free")
        .await
        .unwrap();
    app.advance_when_idle(Duration::from_secs(31 * 60)).await;
    app.wake_jobs();
    for _ in 0..200 {
        if app
            .count("SELECT count(*) FROM auth.calendar_connections")
            .await
            == 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        app.count("SELECT count(*) FROM auth.calendar_connections")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM auth.calendar_events").await,
        0
    );
    assert_eq!(fake.hits(), 2, "a downgraded connection is not read");
}

/// The server's own major version's pg_dump when the distribution keeps several.
fn pg_dump() -> std::path::PathBuf {
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin/pg_dump"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| "pg_dump".into())
}

async fn until(ok: impl Fn() -> bool) {
    for _ in 0..200 {
        if ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened");
}

/// The URL is sealed at rest: a dump of the database does not hold it; after `minime secrets
/// rotate` a server knowing only the new key still reads the calendar.
#[tokio::test]
async fn the_url_is_sealed_at_rest_and_survives_key_rotation() {
    use minime_api::secrets::KeyRing;
    let (fake, base) = start_fake().await;
    fake.serve(week(user_today()), "v1");
    let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
    let app = TestApp::spawn_with(&[
        ("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true"),
        ("MINIME_SECRET_KEYS", old.as_str()),
    ])
    .await;
    let t = app.user("ada@example.com").await;
    pro(&app, "ada@example.com").await;
    app.signed_in(&t)
        .ok(
            Method::PUT,
            "/v1/integrations/calendar",
            Some(&json!({"url": format!("{base}{FEED}")})),
        )
        .await;

    let dump = std::process::Command::new(pg_dump())
        .arg("--data-only")
        .arg(&app.admin_url)
        .output()
        .unwrap();
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("Design review"), "the dump holds the events");
    assert!(
        !dump.contains("7f3a9c2e51d84b06"),
        "the calendar URL is in the dump in clear"
    );

    let vars = |ring: &str| -> std::collections::HashMap<String, String> {
        [
            ("DATABASE_URL", app.admin_url.as_str()),
            ("MINIME_LISTEN", "127.0.0.1:0"),
            ("MINIME_WORKERS", "1"),
            ("MINIME_JOB_WORKERS", "0"),
            ("MINIME_DB_POOL_SIZE", "2"),
            ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
            ("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true"),
            ("MINIME_SECRET_KEYS", ring),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let both = minime_api::config::Config::from_vars(&vars(&format!("{new},{old}"))).unwrap();
    assert!(minime_api::admin::cli::rotate_secrets(&both).await.unwrap() >= 1);
    let kid = "SELECT convert_from(substring(url from 2 for get_byte(url, 0)), 'UTF8') FROM auth.calendar_connections";
    let admin = app.admin().await;
    assert_eq!(
        admin.query_one(kid, &[]).await.unwrap().get::<_, String>(0),
        "new"
    );
    let only_new = minime_api::config::Config::from_vars(&vars(&new)).unwrap();
    let server = minime_api::server::start(only_new).await.unwrap();
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.server);
    let res = reqwest::Client::new()
        .post(format!("{base}/v1/integrations/calendar/sync"))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(fake.hits(), 2);
}
