//! Card payments through a business's own Stripe account, against a loopback Stripe that
//! checks what the real one would (the bearer key, the form, the Idempotency-Key), and webhook
//! deliveries signed as Stripe signs them.

use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use minime_api::business::stripe::sign;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{problem, TestApp};

const KEY: &str = "rk_test_51HminimeRestricted4242";
const SECRET: &str = "whsec_first_0123456789abcdef";
const ROLLED: &str = "whsec_second_fedcba9876543210";

#[derive(Default)]
struct Seen {
    /// (Idempotency-Key, form fields) of each Checkout Session request.
    sessions: Vec<(String, Vec<(String, String)>)>,
}

async fn create_session(
    req: HttpRequest,
    body: web::Bytes,
    seen: web::Data<Arc<Mutex<Seen>>>,
) -> HttpResponse {
    if req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        != Some(&format!("Bearer {KEY}"))
    {
        return HttpResponse::Unauthorized().json(
            json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}),
        );
    }
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&body).into_owned().collect();
    let mut seen = seen.lock().unwrap();
    // Stripe answers a repeated Idempotency-Key with the first session.
    let n = seen
        .sessions
        .iter()
        .position(|(k, _)| *k == key)
        .unwrap_or_else(|| {
            seen.sessions.push((key.clone(), form));
            seen.sessions.len() - 1
        });
    HttpResponse::Ok().json(json!({
        "id": format!("cs_test_{n}"), "object": "checkout.session",
        "url": format!("https://checkout.stripe.com/c/pay/cs_test_{n}")
    }))
}

async fn fake_stripe() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let shared = seen.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(shared.clone()))
            .route("/v1/checkout/sessions", web::post().to(create_session))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let url = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    (url, seen)
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn completed(event: &str, invoice: &str, amount: i64, status: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": event, "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp(),
        "data": {"object": {"id": "cs_test_0", "object": "checkout.session",
                            "client_reference_id": invoice, "amount_total": amount,
                            "currency": "gbp", "payment_status": status,
                            "payment_intent": "pi_test_1"}}
    }))
    .unwrap()
}

#[tokio::test]
async fn an_invoice_paid_through_stripe_is_recorded_once() {
    let (stripe_url, seen) = fake_stripe().await;
    let ring = minime_api::secrets::KeyRing::generate("k1");
    let app = TestApp::spawn_with(&[
        ("MINIME_SECRET_KEYS", ring.as_str()),
        ("MINIME_STRIPE_API_URL", stripe_url.as_str()),
        ("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true"),
    ])
    .await;
    let a = app.user("ada@example.com").await;
    let ada = app.signed_in(&a);
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/profile",
            Some(&json!({"business_name": "Ada Carpentry", "address_lines": ["1 High St"]})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let client = ada
        .create(
            "/v1/clients",
            &json!({"name": "Acme", "address": "2 Low Rd", "email": "pay@acme.example"}),
        )
        .await;
    let draft = ada
        .create(
            "/v1/invoices",
            &json!({"client_id": client["id"], "lines": [{"description": "Shelves", "unit_price": "120"}]}),
        )
        .await;
    let invoice = draft["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/invoices/{invoice}");
    ada.ok(Method::POST, &format!("{path}/issue"), None).await;
    let urls = json!({"success_url": "https://ada.example/thanks", "cancel_url": "https://ada.example/back"});

    // Not connected yet.
    let res = ada
        .send(Method::POST, &format!("{path}/checkout"), Some(&urls), &[])
        .await;
    problem(res, 409, "/problems/integration-not-configured").await;
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/stripe",
            Some(&json!({"api_key": "pk_live_nope", "webhook_secret": "secret"})),
            &[],
        )
        .await;
    problem(res, 422, "/problems/validation").await;
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/stripe",
            Some(&json!({"api_key": KEY, "webhook_secret": SECRET})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let account: Value = res.json().await.unwrap();
    assert_eq!(account["api_key_hint"], "rk_test_…4242");
    assert!(!account.to_string().contains(SECRET));
    let webhook = url::Url::parse(account["webhook_url"].as_str().unwrap()).unwrap();
    let hook = app.url(webhook.path());

    // Checkout for the balance, idempotent per invoice and balance.
    let checkout = ada.create(&format!("{path}/checkout"), &urls).await;
    assert_eq!(checkout["amount_pence"], 12000);
    assert!(checkout["url"]
        .as_str()
        .unwrap()
        .starts_with("https://checkout.stripe.com/"));
    let again = ada.create(&format!("{path}/checkout"), &urls).await;
    assert_eq!(again["id"], checkout["id"]);
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.sessions.len(), 1);
        let form = &seen.sessions[0].1;
        assert_eq!(field(form, "mode"), Some("payment"));
        assert_eq!(field(form, "client_reference_id"), Some(invoice.as_str()));
        assert_eq!(
            field(form, "line_items[0][price_data][unit_amount]"),
            Some("12000")
        );
        assert_eq!(
            field(form, "line_items[0][price_data][currency]"),
            Some("gbp")
        );
        assert_eq!(field(form, "customer_email"), Some("pay@acme.example"));
    }

    let deliver = |body: Vec<u8>, header: String| {
        let client = app.client.clone();
        let hook = hook.clone();
        async move {
            client
                .post(hook)
                .header("stripe-signature", header)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let now = chrono::Utc::now().timestamp();
    let body = completed("evt_1", &invoice, 12000, "paid");

    // A tampered body, an old timestamp, a wrong secret: refused, nothing recorded.
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'2').unwrap();
    tampered[at] = b'9';
    let res = deliver(tampered, sign(SECRET.as_bytes(), now, &body)).await;
    problem(res, 400, "/problems/bad-request").await;
    let res = deliver(body.clone(), sign(SECRET.as_bytes(), now - 301, &body)).await;
    problem(res, 400, "/problems/bad-request").await;
    let res = deliver(body.clone(), sign(b"whsec_someone_else", now, &body)).await;
    problem(res, 400, "/problems/bad-request").await;
    assert_eq!(
        app.count("SELECT count(*) FROM app.invoice_payments").await,
        0
    );
    // An unknown endpoint is not found, whatever it carries.
    let res = app
        .client
        .post(app.url(&format!(
            "/v1/webhooks/stripe/{}/{}",
            draft["workspace_id"].as_str().unwrap(),
            uuid::Uuid::new_v4()
        )))
        .header("stripe-signature", sign(SECRET.as_bytes(), now, &body))
        .body(body.clone())
        .send()
        .await
        .unwrap();
    problem(res, 404, "/problems/not-found").await;

    // An unpaid completion records nothing; the paid one records once, however often sent.
    let unpaid = completed("evt_0", &invoice, 12000, "unpaid");
    let res = deliver(unpaid.clone(), sign(SECRET.as_bytes(), now, &unpaid)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["outcome"], "ignored");
    for expected in ["recorded", "duplicate", "duplicate"] {
        let res = deliver(body.clone(), sign(SECRET.as_bytes(), now, &body)).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["outcome"], expected);
    }
    let paid = ada.get(&path).await;
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid_pence"], 12000);
    let payments = ada.get(&format!("{path}/payments")).await;
    assert_eq!(payments.as_array().unwrap().len(), 1);
    assert_eq!(payments[0]["method"], "stripe");
    assert_eq!(payments[0]["stripe_event_id"], "evt_1");
    // A Stripe payment is refunded in Stripe, not deleted here.
    let res = ada
        .send(
            Method::DELETE,
            &format!("{path}/payments/{}", payments[0]["id"].as_str().unwrap()),
            None,
            &[],
        )
        .await;
    problem(res, 409, "/problems/conflict").await;

    // Rolling the signing secret: Stripe signs with both for a while; either verifies, and
    // a header carrying both signatures verifies too.
    let res = ada
        .send(
            Method::PUT,
            "/v1/business/stripe",
            Some(&json!({"api_key": KEY, "webhook_secret": ROLLED})),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rolled: Value = res.json().await.unwrap();
    assert!(rolled["previous_secret_valid_until"].is_string());
    assert_eq!(rolled["webhook_url"], account["webhook_url"]);
    let other = serde_json::to_vec(
        &json!({"id": "evt_2", "object": "event", "type": "customer.created",
                                            "created": now, "data": {"object": {}}}),
    )
    .unwrap();
    let old = sign(SECRET.as_bytes(), now, &other);
    let new = sign(ROLLED.as_bytes(), now, &other);
    let both = format!("{new},v1={}", old.split("v1=").nth(1).unwrap());
    for header in [old.clone(), new, both] {
        let res = deliver(other.clone(), header).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    // A day later only the new secret verifies.
    let a = app
        .advance(std::time::Duration::from_secs(25 * 3600), &a)
        .await;
    let ada = app.signed_in(&a);
    let later = chrono::Utc::now().timestamp() + 25 * 3600;
    let fresh = serde_json::to_vec(
        &json!({"id": "evt_3", "object": "event", "type": "customer.created",
                                            "created": later, "data": {"object": {}}}),
    )
    .unwrap();
    let res = deliver(fresh.clone(), sign(SECRET.as_bytes(), later, &fresh)).await;
    problem(res, 400, "/problems/bad-request").await;
    let res = deliver(fresh.clone(), sign(ROLLED.as_bytes(), later, &fresh)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // No secret reaches the database in clear.
    let admin = app.admin().await;
    let raw: Vec<u8> = admin
        .query_one("SELECT api_key FROM app.stripe_accounts", &[])
        .await
        .unwrap()
        .get(0);
    assert!(!raw.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    // The export lists the account without its secrets, and the events handled.
    let export = ada.get("/v1/account/export").await.to_string();
    assert!(export.contains("rk_test_…4242") && export.contains("evt_1"));
    assert!(!export.contains(SECRET) && !export.contains(KEY));
}
