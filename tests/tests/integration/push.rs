//! Web push: subscriptions are checked like every address a user gives us and reached by their
//! owner only; a `push.notify` for a user arrives at each of their devices encrypted to it and
//! signed with the server's VAPID key (checked by an independent push service on loopback); an
//! ended subscription goes, a busy service is asked again, a refusal is recorded.

use std::time::Duration;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use diesel_async::scoped_futures::ScopedFutureExt;
use minime_api::{
    db::pool::Db,
    push::sender::{self, Notification, Urgency},
};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::{
    helpers::{problem, two_users, TestApp},
    push_service::PushService,
};

const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

fn subscription(endpoint: &str) -> Value {
    json!({
        "endpoint": endpoint,
        "expirationTime": null,
        "keys": {
            "p256dh": "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4",
            "auth": "BTBZMqHH6r4Tts7J_aSIgg"
        }
    })
}

async fn subscribe(client: &crate::helpers::Client<'_>, body: &Value) -> reqwest::Response {
    client
        .send(
            Method::POST,
            "/v1/push/subscriptions",
            Some(body),
            &[("user-agent", UA)],
        )
        .await
}

async fn invalid_fields(res: reqwest::Response) -> Vec<String> {
    let body = problem(res, 422, "/problems/validation").await;
    body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn subscriptions_are_checked_listed_and_removed_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));

    // Addresses we would not send to: plain http, private and loopback hosts (without the
    // test switch), credentials, nonsense.
    for endpoint in [
        "http://1.1.1.1/push/x",
        "https://10.0.0.7/push/x",
        "https://169.254.169.254/latest/meta-data",
        "https://127.0.0.1:8443/push/x",
        "https://[::1]/push/x",
        "https://user:pw@1.1.1.1/push/x",
        "not a url",
        &format!("https://1.1.1.1/{}", "x".repeat(2048)),
    ] {
        let res = subscribe(&ada, &subscription(endpoint)).await;
        assert_eq!(invalid_fields(res).await, ["endpoint"], "{endpoint}");
    }
    // Keys that are not keys: a point off the curve, a compressed point, a short secret.
    let mut off_curve = vec![4u8];
    off_curve.extend([7u8; 64]);
    let compressed = URL_SAFE_NO_PAD.encode(
        &URL_SAFE_NO_PAD
            .decode("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
            .unwrap()[..33],
    );
    for (p256dh, auth) in [
        (URL_SAFE_NO_PAD.encode(&off_curve), "BTBZMqHH6r4Tts7J_aSIgg"),
        (compressed, "BTBZMqHH6r4Tts7J_aSIgg"),
    ] {
        let mut body = subscription("https://1.1.1.1/push/x");
        body["keys"] = json!({"p256dh": p256dh, "auth": auth});
        assert_eq!(
            invalid_fields(subscribe(&ada, &body).await).await,
            ["keys.p256dh"]
        );
    }
    let mut body = subscription("http://10.0.0.1/");
    body["keys"] = json!({"p256dh": "%%%", "auth": "BTBZMqHH6r4Tts7J_aSI"});
    assert_eq!(
        invalid_fields(subscribe(&ada, &body).await).await,
        ["endpoint", "keys.p256dh", "keys.auth"]
    );
    assert_eq!(
        app.count("SELECT count(*) FROM auth.push_subscriptions")
            .await,
        0
    );

    // A public address (a literal, so nothing is resolved): subscribed, then renewed.
    let endpoint = "https://1.1.1.1/push/ada-laptop";
    let res = subscribe(&ada, &subscription(endpoint)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["device"], "Chrome on Linux");
    assert_eq!(created["push_service"], "https://1.1.1.1");
    let again = subscribe(&ada, &subscription(endpoint)).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["id"], created["id"]);
    let listed = ada.get("/v1/push/subscriptions").await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_eq!(listed["next_cursor"], Value::Null);
    let text = listed.to_string();
    for secret in [
        "ada-laptop",
        "BTBZMqHH6r4Tts7J",
        "BCVxsr7N",
        "p256dh",
        "\"auth\"",
    ] {
        assert!(!text.contains(secret), "the list shows {secret}: {text}");
    }
    // The same endpoint is Bob's own row when Bob subscribes it.
    let bobs: Value = subscribe(&bob, &subscription(endpoint))
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(bobs["id"], created["id"]);

    // In SQL as the server's role: Bob's transaction sees and writes Bob's rows only, and one
    // without a user sees none.
    let ada_id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let bob_id = bob.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let mut as_app = crate::helpers::connect(&app.app_db_url).await;
    let tx = as_app.transaction().await.unwrap();
    let seen: i64 = tx
        .query_one("SELECT count(*) FROM auth.push_subscriptions", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(seen, 0);
    tx.execute("SELECT set_config('app.user_id', $1, true)", &[&bob_id])
        .await
        .unwrap();
    let seen: Vec<String> = tx
        .query("SELECT user_id::text FROM auth.push_subscriptions", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(seen, [bob_id]);
    let moved = tx
        .execute(
            "UPDATE auth.push_subscriptions SET device = 'x' WHERE user_id::text = $1",
            &[&ada_id],
        )
        .await
        .unwrap();
    assert_eq!(moved, 0);
    let planted = tx
        .execute(
            "INSERT INTO auth.push_subscriptions (id, user_id, endpoint, p256dh, auth, device)
             SELECT gen_random_uuid(), $1::text::uuid, 'https://1.1.1.1/p', p256dh, auth, 'x'
             FROM auth.push_subscriptions",
            &[&ada_id],
        )
        .await;
    assert!(planted.is_err(), "Bob planted a device in Ada's account");
    drop(tx);

    // Someone else's id is a made-up id; a read-only token cannot subscribe.
    let id = created["id"].as_str().unwrap();
    let res = bob
        .send(
            Method::DELETE,
            &format!("/v1/push/subscriptions/{id}"),
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(
        bob.get("/v1/push/subscriptions").await["items"][0]["id"],
        bobs["id"]
    );
    let pat = ada
        .create("/v1/auth/tokens", &json!({"name": "read", "scope": "read"}))
        .await;
    let reader = app.bearer(pat["token"].as_str().unwrap());
    let res = subscribe(&reader, &subscription("https://1.1.1.1/push/script")).await;
    problem(res, 403, "/problems/insufficient-scope").await;
    assert_eq!(
        reader.get("/v1/push/subscriptions").await["items"][0]["id"],
        created["id"]
    );

    // Twenty devices at most.
    for n in 1..20 {
        let res = subscribe(&ada, &subscription(&format!("https://1.1.1.1/push/{n}"))).await;
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = subscribe(&ada, &subscription("https://1.1.1.1/push/21")).await;
    problem(res, 409, "/problems/conflict").await;
    let renewed = subscribe(&ada, &subscription(endpoint)).await;
    assert_eq!(
        renewed.status(),
        StatusCode::OK,
        "renewing is not a new device"
    );

    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/push/subscriptions/{id}"),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = ada
        .send(
            Method::DELETE,
            &format!("/v1/push/subscriptions/{id}"),
            None,
            &[],
        )
        .await;
    problem(res, 404, "/problems/not-found").await;
    assert_eq!(
        ada.get("/v1/push/subscriptions").await["items"]
            .as_array()
            .unwrap()
            .len(),
        19
    );
}

#[tokio::test]
async fn the_vapid_key_is_made_once_and_kept_sealed() {
    let app = TestApp::spawn().await;
    let anyone = app.anonymous();
    let first = anyone.get("/v1/push/vapid-public-key").await;
    let key = URL_SAFE_NO_PAD
        .decode(first["public_key"].as_str().unwrap())
        .unwrap();
    assert_eq!((key.len(), key[0]), (65, 4));
    assert!(p256::PublicKey::from_sec1_bytes(&key).is_ok());
    assert_eq!(anyone.get("/v1/push/vapid-public-key").await, first);
    let admin = app.admin().await;
    let row = admin
        .query_one("SELECT name, length(sealed) FROM ops.server_secrets", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "vapid.private_key");
    // kid, nonce, 32 bytes sealed and the tag: the scalar itself is not stored.
    assert!(row.get::<_, i32>(1) > 32 + 12 + 16);
    // The server's role reaches the table only through its functions.
    let app_role = crate::helpers::connect(&app.app_db_url).await;
    assert!(app_role
        .query("SELECT * FROM ops.server_secrets", &[])
        .await
        .is_err());

    // A configured key is the one used.
    let configured = TestApp::spawn_with(&[(
        "MINIME_VAPID_PRIVATE_KEY",
        "yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw",
    )])
    .await;
    assert_eq!(
        configured
            .anonymous()
            .get("/v1/push/vapid-public-key")
            .await["public_key"],
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8"
    );
}

async fn notify(app: &TestApp, user_id: &str, notification: Notification) {
    let db = Db::connect(&app.app_db_url, 1, Duration::from_secs(5)).unwrap();
    let user_id: uuid::Uuid = user_id.parse().unwrap();
    db.tx(move |conn| {
        async move {
            sender::notify(conn, user_id, notification, None)
                .await
                .map(|_| ())
        }
        .scope_boxed()
    })
    .await
    .unwrap();
    app.wake_jobs();
}

/// Waits (moving the server's clock past retry backoffs when `advance`) until `done` holds.
async fn until(app: &TestApp, advance: bool, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        if advance {
            app.advance_when_idle(Duration::from_secs(60)).await;
        }
        app.wake_jobs();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn local_app_vars() -> [(&'static str, &'static str); 1] {
    [("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true")]
}

#[tokio::test]
async fn a_notification_arrives_decrypted_and_signed_at_each_of_the_users_devices() {
    let app = TestApp::spawn_with(&local_app_vars()).await;
    let service = PushService::start().await;
    let (a, b) = two_users(&app).await;
    let (ada, bob) = (app.signed_in(&a), app.signed_in(&b));
    let (laptop, phone, bobs) = (
        service.subscribe(),
        service.subscribe(),
        service.subscribe(),
    );
    for (who, sub) in [(&ada, &laptop), (&ada, &phone), (&bob, &bobs)] {
        assert_eq!(subscribe(who, sub).await.status(), StatusCode::CREATED);
    }
    let ada_id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let vapid = app.anonymous().get("/v1/push/vapid-public-key").await;

    notify(
        &app,
        &ada_id,
        Notification {
            title: "Morning recap".into(),
            body: "3 tasks today — first: Pay rent".into(),
            url: Some("/today".into()),
            topic: Some("recap".into()),
            urgency: Some(Urgency::High),
            ttl: Some(600),
        },
    )
    .await;
    until(&app, false, "both of Ada's devices", || {
        service.received(&laptop).len() == 1 && service.received(&phone).len() == 1
    })
    .await;
    for sub in [&laptop, &phone] {
        let got = &service.received(sub)[0];
        let shown: Value = serde_json::from_slice(&got.plaintext).unwrap();
        assert_eq!(
            shown,
            json!({"title": "Morning recap", "body": "3 tasks today — first: Pay rent", "url": "/today"})
        );
        assert_eq!(got.ttl.as_deref(), Some("600"));
        assert_eq!(got.urgency.as_deref(), Some("high"));
        assert_eq!(got.topic.as_deref(), Some("recap"));
        assert_eq!(got.vapid_key, vapid["public_key"]);
        assert_eq!(got.claims["aud"], service.origin());
        assert_eq!(got.claims["sub"], "mailto:no-reply@minime.localhost");
    }
    assert_eq!(service.violations(), Vec::<String>::new());
    assert_eq!(service.attempts(&bobs), 0, "Bob got Ada's notification");
    // The service has the push before the worker records the answer: wait for the record.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let mine = ada.get("/v1/push/subscriptions").await;
        let items = mine["items"].as_array().unwrap().clone();
        if items.iter().all(|i| i["last_used_at"].is_string()) {
            assert!(items.iter().all(|i| i["last_error"].is_null()), "{mine}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never recorded: {mine}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A body over the push services' cap arrives cut short, the title whole.
    let long_body = "Lorem ipsum dolor sit amet, ✓ ".repeat(400);
    notify(
        &app,
        &ada_id,
        Notification {
            title: "Long".into(),
            body: long_body.clone(),
            url: None,
            topic: None,
            urgency: None,
            ttl: None,
        },
    )
    .await;
    until(&app, false, "the long notification", || {
        service.received(&laptop).len() == 2
    })
    .await;
    let got = &service.received(&laptop)[1];
    assert!(got.plaintext.len() <= sender::MAX_PAYLOAD_BYTES);
    assert!(got.plaintext.len() > sender::MAX_PAYLOAD_BYTES - 40);
    let shown: Value = serde_json::from_slice(&got.plaintext).unwrap();
    assert_eq!(shown["title"], "Long");
    let body = shown["body"].as_str().unwrap();
    assert!(body.ends_with('…') && long_body.starts_with(body.trim_end_matches('…')));
    assert_eq!(got.ttl.as_deref(), Some("86400"));
    assert_eq!(got.urgency, None);
    assert_eq!(service.violations(), Vec::<String>::new());
}

#[tokio::test]
async fn an_ended_subscription_goes_a_busy_service_is_asked_again_and_a_refusal_is_kept() {
    let app = TestApp::spawn_with(&local_app_vars()).await;
    let service = PushService::start().await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let subs: Vec<Value> = (0..5).map(|_| service.subscribe()).collect();
    let [ended, busy, failing, refusing, fine] = &subs[..] else {
        unreachable!()
    };
    let mut ids = Vec::new();
    for sub in &subs {
        let created: Value = subscribe(&ada, sub).await.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    service.answer(ended, &[410]);
    service.answer(busy, &[429]);
    service.answer(failing, &[500, 503]);
    service.answer(refusing, &[403]);
    let ada_id = ada.get("/v1/me").await["id"].as_str().unwrap().to_owned();
    let admin = app.admin().await;
    let last_error = |id: String| {
        let admin = &admin;
        async move {
            admin
                .query_one(
                    "SELECT last_error FROM auth.push_subscriptions WHERE id = $1::text::uuid",
                    &[&id],
                )
                .await
                .unwrap()
                .get::<_, Option<String>>(0)
        }
    };

    notify(
        &app,
        &ada_id,
        Notification {
            title: "Hello".into(),
            body: "again".into(),
            url: None,
            topic: None,
            urgency: None,
            ttl: None,
        },
    )
    .await;
    until(&app, false, "a first try at every device", || {
        subs.iter().all(|s| service.attempts(s) >= 1)
    })
    .await;
    // The ended subscription goes; the others stay.
    let gone = format!(
        "SELECT count(*) FROM auth.push_subscriptions WHERE id = '{}'",
        ids[0]
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while app.count(&gone).await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the ended subscription stayed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // After their backoff the busy ones are asked again, and take it.
    until(&app, true, "the retried deliveries", || {
        service.received(busy).len() == 1 && service.received(failing).len() == 1
    })
    .await;
    assert_eq!(service.attempts(busy), 2);
    assert_eq!(service.attempts(failing), 3, "500, then 503, then accepted");
    assert_eq!(service.received(fine).len(), 1);
    assert_eq!(
        service.attempts(fine),
        1,
        "a device that got it is not asked again"
    );
    assert_eq!(service.attempts(ended), 1);
    // A refusal is not retried, and is shown to the user.
    assert_eq!(service.attempts(refusing), 1);
    let refused = last_error(ids[3].clone())
        .await
        .expect("the refusal is kept");
    assert!(refused.contains("403"), "{refused}");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while last_error(ids[2].clone()).await.is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "the success did not clear the error"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(service.violations(), Vec::<String>::new());
    assert_eq!(
        app.count("SELECT count(*) FROM ops.jobs WHERE kind LIKE 'push.%' AND done_at IS NULL")
            .await,
        0,
        "every push job is done"
    );
}

/// `minime secrets rotate`: with a new key in front of the ring, every secret is sealed anew
/// under it (once: a second run finds nothing to do), and a server that knows only the new key
/// reads the same VAPID key.
#[tokio::test]
async fn rotation_moves_every_secret_to_the_new_key_and_keeps_it_readable() {
    use minime_api::secrets::KeyRing;
    let (old, new) = (KeyRing::generate("old"), KeyRing::generate("new"));
    let app = TestApp::spawn_with(&[("MINIME_SECRET_KEYS", old.as_str())]).await;
    let before = app.anonymous().get("/v1/push/vapid-public-key").await;
    let kid = "SELECT convert_from(substring(sealed from 2 for get_byte(sealed, 0)), 'UTF8') FROM ops.server_secrets";
    let admin = app.admin().await;
    assert_eq!(
        admin.query_one(kid, &[]).await.unwrap().get::<_, String>(0),
        "old"
    );

    let vars = |ring: &str| -> std::collections::HashMap<String, String> {
        [
            ("DATABASE_URL", app.admin_url.as_str()),
            ("MINIME_LISTEN", "127.0.0.1:0"),
            ("MINIME_WORKERS", "1"),
            ("MINIME_JOB_WORKERS", "0"),
            ("MINIME_DB_POOL_SIZE", "2"),
            ("MINIME_JWT_SECRET", crate::helpers::JWT_SECRET),
            ("MINIME_SECRET_KEYS", ring),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    };
    let both = minime_api::config::Config::from_vars(&vars(&format!("{new},{old}"))).unwrap();
    assert_eq!(
        minime_api::admin::cli::rotate_secrets(&both).await.unwrap(),
        1
    );
    assert_eq!(
        admin.query_one(kid, &[]).await.unwrap().get::<_, String>(0),
        "new"
    );
    assert_eq!(
        minime_api::admin::cli::rotate_secrets(&both).await.unwrap(),
        0,
        "a second run has nothing left to do"
    );

    let only_new = minime_api::config::Config::from_vars(&vars(&new)).unwrap();
    let server = minime_api::server::start(only_new).await.unwrap();
    let base = format!("http://{}", server.addr);
    tokio::spawn(server.server);
    let after: Value = reqwest::get(format!("{base}/v1/push/vapid-public-key"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(after, before);
}
