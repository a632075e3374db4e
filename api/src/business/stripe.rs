//! Stripe, as far as invoices paid by card need it: the `Stripe-Signature` check on webhooks,
//! the events a payment is recorded from, and the Checkout Session request and reply. Pure, no
//! I/O: the caller sends the form through the outbound fetcher and hands the webhook's raw bytes
//! here, so every rule below is testable without a network and without Stripe's libraries.
//!
//! The signature scheme is the one Stripe documents under "Verify signatures manually" and its
//! official libraries implement: the HMAC key is the endpoint's signing secret exactly as the
//! Dashboard shows it, `whsec_` prefix included, taken as UTF-8 bytes (unlike Svix-style
//! schemes, nothing is stripped or base64-decoded).

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The only scheme Stripe signs live events with; `v0` is a fake scheme its test tools emit and
/// must never be accepted.
const SCHEME: &str = "v1";

/// Why a webhook is refused. Each is answered 400 so Stripe retries: a rotated secret or a
/// skewed clock heals on a later attempt, a forgery never does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is malformed")]
    MalformedHeader,
    #[error("the Stripe-Signature header has no v1 signature")]
    NoV1Signature,
    #[error("the signature timestamp {timestamp} is outside the tolerance around {now}")]
    TimestampOutOfTolerance { timestamp: i64, now: i64 },
    #[error("no v1 signature matches the payload under any signing secret")]
    NoMatchingSignature,
}

/// The parts of a header this scheme reads. Signatures stay as the text received: one that is
/// not valid hex simply matches nothing, so a sloppy element cannot hide a good one.
struct ParsedHeader<'a> {
    timestamp: i64,
    signatures: Vec<&'a str>,
}

fn parse_header(header: &str) -> Result<ParsedHeader<'_>, SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for element in header.split(',') {
        // Elements without `=` carry nothing we read; Stripe's libraries skip them too.
        let Some((key, value)) = element.split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                // Two timestamps would make the signed payload ambiguous.
                if timestamp.is_some() {
                    return Err(SignatureError::MalformedHeader);
                }
                timestamp = Some(parse_timestamp(value)?);
            }
            SCHEME => signatures.push(value),
            // Other schemes (v0, future ones) are not ours to judge.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::MalformedHeader)?;
    Ok(ParsedHeader {
        timestamp,
        signatures,
    })
}

/// Digits only: `str::parse` would also take a sign, and a timestamp Stripe never writes is
/// better refused than re-formatted into a payload nobody signed.
fn parse_timestamp(value: &str) -> Result<i64, SignatureError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SignatureError::MalformedHeader);
    }
    value.parse().map_err(|_| SignatureError::MalformedHeader)
}

/// A MAC over `{timestamp}.{payload}`, the message Stripe signs.
fn mac_for(secret: &[u8], timestamp: i64, payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// Checks a `Stripe-Signature` header against the raw request body.
///
/// Accepted when any `v1` signature matches under any of `secrets`: while a secret is being
/// rolled Stripe signs with each active one, and we may hold the old and the new. The timestamp
/// is checked after the signature, as Stripe's libraries do, so an unsigned request learns
/// nothing about our clock; it must lie within `tolerance_secs` of `now_unix` on either side
/// (Stripe's libraries only bound the past, but a far-future timestamp would outlive any replay
/// window we keep).
pub fn verify_signature(
    header: &str,
    payload: &[u8],
    secrets: &[&[u8]],
    now_unix: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let parsed = parse_header(header)?;
    if parsed.signatures.is_empty() {
        return Err(SignatureError::NoV1Signature);
    }
    let candidates: Vec<Vec<u8>> = parsed
        .signatures
        .iter()
        .filter_map(|s| hex::decode(s).ok())
        .collect();
    let matched = secrets.iter().any(|secret| {
        let mac = mac_for(secret, parsed.timestamp, payload);
        // `verify_slice` compares in constant time.
        candidates
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
    });
    if !matched {
        return Err(SignatureError::NoMatchingSignature);
    }
    // i128: a hostile timestamp near i64::MAX must not overflow the difference.
    let skew = (i128::from(now_unix) - i128::from(parsed.timestamp)).abs();
    if skew > i128::from(tolerance_secs) {
        return Err(SignatureError::TimestampOutOfTolerance {
            timestamp: parsed.timestamp,
            now: now_unix,
        });
    }
    Ok(())
}

/// A `Stripe-Signature` value as Stripe would send it, so tests and the loopback fake Stripe
/// exercise the same code path as production webhooks.
pub fn sign(secret: &[u8], timestamp: i64, payload: &[u8]) -> String {
    let tag = mac_for(secret, timestamp, payload).finalize().into_bytes();
    format!("t={timestamp},{SCHEME}={}", hex::encode(tag))
}

/// Why a Stripe body cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the body is not the JSON Stripe sends: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a {0} event has no data.object")]
    MissingObject(String),
}

/// A webhook event: only what recording a payment and de-duplicating deliveries need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `evt_…`: Stripe delivers at least once, so this is the key that makes handling
    /// idempotent.
    pub id: String,
    /// The event's `type`, e.g. `checkout.session.completed`.
    pub kind: String,
    pub created: i64,
    /// `data.object` for `checkout.session.*` events; other types are acknowledged unread.
    pub session: Option<CheckoutSession>,
}

/// The fields of a Checkout Session a payment is recorded from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    pub id: String,
    /// The invoice id we created the Checkout Session with.
    pub client_reference_id: Option<String>,
    /// Pence, for GBP.
    pub amount_total: Option<i64>,
    pub currency: Option<String>,
    /// `paid`, `unpaid` or `no_payment_required`.
    pub payment_status: String,
    /// `pi_…`, the id a refund or a dispute names later.
    pub payment_intent: Option<String>,
}

#[derive(Deserialize)]
struct RawEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: Option<RawData>,
}

#[derive(Deserialize)]
struct RawData {
    object: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct RawSession {
    id: String,
    client_reference_id: Option<String>,
    amount_total: Option<i64>,
    currency: Option<String>,
    payment_status: String,
    payment_intent: Option<Expandable>,
}

/// Stripe writes a related object as its id, or as the object itself when the request asked
/// for it to be expanded; either way the id is what we keep.
#[derive(Deserialize)]
#[serde(untagged)]
enum Expandable {
    Id(String),
    Object { id: String },
}

impl Expandable {
    fn into_id(self) -> String {
        match self {
            Self::Id(id) | Self::Object { id } => id,
        }
    }
}

/// Reads a webhook body. Call only after [`verify_signature`] has accepted the same bytes.
///
/// An event type we do not handle still parses, so the endpoint can acknowledge it with 200
/// and Stripe stops redelivering it; only `checkout.session.*` objects are read.
pub fn parse_event(payload: &[u8]) -> Result<Event, EventError> {
    let raw: RawEvent = serde_json::from_slice(payload)?;
    let session = if raw.kind.starts_with("checkout.session.") {
        let object = raw
            .data
            .and_then(|data| data.object)
            .ok_or_else(|| EventError::MissingObject(raw.kind.clone()))?;
        let session: RawSession = serde_json::from_value(object)?;
        Some(CheckoutSession {
            id: session.id,
            client_reference_id: session.client_reference_id,
            amount_total: session.amount_total,
            currency: session.currency,
            payment_status: session.payment_status,
            payment_intent: session.payment_intent.map(Expandable::into_id),
        })
    } else {
        None
    };
    Ok(Event {
        id: raw.id,
        kind: raw.kind,
        created: raw.created,
        session,
    })
}

/// The Checkout Session whose payment should be recorded, if this event means money arrived.
///
/// `completed` alone is not enough: for delayed methods (Bacs Direct Debit, bank transfers) it
/// arrives with `payment_status` `unpaid`, and the money is only confirmed by a later
/// `async_payment_succeeded`.
pub fn payment_to_record(event: &Event) -> Option<&CheckoutSession> {
    let session = event.session.as_ref()?;
    match event.kind.as_str() {
        "checkout.session.completed" if session.payment_status == "paid" => Some(session),
        "checkout.session.async_payment_succeeded" => Some(session),
        _ => None,
    }
}

/// What a Checkout Session for one invoice is created from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutInput {
    pub invoice_id: String,
    pub workspace_id: String,
    /// Shown to the payer, e.g. `INV-0001`.
    pub invoice_number: String,
    /// The amount due, in pence.
    pub amount_pence: i64,
    /// Prefills the payer's email and sends Stripe's receipt there.
    pub customer_email: Option<String>,
    pub success_url: String,
    pub cancel_url: String,
}

/// The form fields of `POST /v1/checkout/sessions`, in Stripe's bracket notation for nested
/// parameters. The price is given inline (`price_data`) because every invoice has its own
/// amount, and no Product or Price objects should pile up in the account.
///
/// The invoice id travels three ways: `client_reference_id` comes back on the Checkout Session
/// events, the Checkout Session's metadata is visible in the Dashboard, and the PaymentIntent's
/// metadata reaches charge, refund and dispute events, which never carry the Checkout Session.
pub fn checkout_session_form(input: &CheckoutInput) -> Vec<(String, String)> {
    let mut form = vec![
        pair("mode", "payment"),
        pair("success_url", &input.success_url),
        pair("cancel_url", &input.cancel_url),
        pair("client_reference_id", &input.invoice_id),
    ];
    if let Some(email) = &input.customer_email {
        form.push(pair("customer_email", email));
    }
    form.extend([
        pair("line_items[0][quantity]", "1"),
        pair("line_items[0][price_data][currency]", "gbp"),
        pair(
            "line_items[0][price_data][unit_amount]",
            &input.amount_pence.to_string(),
        ),
        pair(
            "line_items[0][price_data][product_data][name]",
            &format!("Invoice {}", input.invoice_number),
        ),
        pair("metadata[invoice_id]", &input.invoice_id),
        pair("metadata[workspace_id]", &input.workspace_id),
        pair(
            "payment_intent_data[metadata][invoice_id]",
            &input.invoice_id,
        ),
    ]);
    form
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_owned(), value.to_owned())
}

/// The form as an `application/x-www-form-urlencoded` body, for a POST that takes raw bytes.
/// Brackets in keys are percent-encoded; Stripe decodes them before reading the notation.
pub fn form_body(form: &[(String, String)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish()
}

/// A created Checkout Session: `url` is where the payer is sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedSession {
    pub id: String,
    pub url: String,
}

/// Reads the reply to `POST /v1/checkout/sessions`. A hosted Checkout Session always has a
/// `url`, so a reply without one is refused rather than leaving the payer nowhere to go.
pub fn parse_created_session(body: &[u8]) -> Result<CreatedSession, EventError> {
    Ok(serde_json::from_slice(body)?)
}

#[derive(Deserialize)]
struct ErrorReply {
    error: ErrorBody,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The message of a Stripe error reply (`{"error":{"message":…,"type":…}}`), for logs and the
/// problem returned to the user; `None` when the body is not one, so the caller falls back to
/// the status code. Without a message the error's type is the best description there is.
pub fn parse_error(body: &[u8]) -> Option<String> {
    let reply: ErrorReply = serde_json::from_slice(body).ok()?;
    reply.error.message.or(reply.error.kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Known answers computed outside this code, with Python's standard library:
    //   python3 -c 'import hmac,hashlib; print(hmac.new(SECRET,
    //     b"1492774577." + PAYLOAD, hashlib.sha256).hexdigest())'
    const PAYLOAD: &[u8] =
        br#"{"id":"evt_test","object":"event","type":"checkout.session.completed"}"#;
    const T: i64 = 1_492_774_577;
    const NEW_SECRET: &[u8] = b"whsec_new_0123456789abcdef";
    const OLD_SECRET: &[u8] = b"whsec_old_fedcba9876543210";
    const NEW_SIG: &str = "c1191b4616b1729f9e61f91d421265811e4b56a7dec5de6fff4cc6917aa00ff3";
    const OLD_SIG: &str = "5f5533ce62f5755b26c9a749e265ee652ea378547982b20dea09301db2189df2";
    /// The same HMAC with `whsec_` stripped from the key: what a wrong reading of the docs
    /// would produce.
    const STRIPPED_SIG: &str = "02097bf41ba07be21f27ff3d877613f7517053a3922db38a3d97168c595fa287";
    const TOLERANCE: i64 = 300;

    fn verify(header: &str, secrets: &[&[u8]], now: i64) -> Result<(), SignatureError> {
        verify_signature(header, PAYLOAD, secrets, now, TOLERANCE)
    }

    #[test]
    fn sign_matches_the_known_answer() {
        assert_eq!(sign(NEW_SECRET, T, PAYLOAD), format!("t={T},v1={NEW_SIG}"));
        assert_eq!(sign(OLD_SECRET, T, PAYLOAD), format!("t={T},v1={OLD_SIG}"));
    }

    #[test]
    fn valid_signature_is_accepted() {
        let header = format!("t={T},v1={NEW_SIG}");
        assert_eq!(verify(&header, &[NEW_SECRET], T), Ok(()));
    }

    #[test]
    fn whsec_prefix_is_part_of_the_key() {
        let header = format!("t={T},v1={STRIPPED_SIG}");
        assert_eq!(
            verify(&header, &[NEW_SECRET], T),
            Err(SignatureError::NoMatchingSignature)
        );
        let stripped: &[u8] = b"new_0123456789abcdef";
        assert_eq!(verify(&header, &[stripped], T), Ok(()));
    }

    #[test]
    fn tampered_body_is_refused() {
        let header = format!("t={T},v1={NEW_SIG}");
        let tampered = br#"{"id":"evt_test","object":"event","type":"checkout.session.expired"}"#;
        assert_eq!(
            verify_signature(&header, tampered, &[NEW_SECRET], T, TOLERANCE),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn tampered_timestamp_is_refused() {
        let header = format!("t={},v1={NEW_SIG}", T + 1);
        assert_eq!(
            verify(&header, &[NEW_SECRET], T),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn wrong_secret_is_refused() {
        let header = format!("t={T},v1={NEW_SIG}");
        assert_eq!(
            verify(&header, &[OLD_SECRET], T),
            Err(SignatureError::NoMatchingSignature)
        );
        assert_eq!(
            verify(&header, &[], T),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn old_timestamp_is_refused_past_the_tolerance() {
        let header = format!("t={T},v1={NEW_SIG}");
        assert_eq!(verify(&header, &[NEW_SECRET], T + 300), Ok(()));
        assert_eq!(
            verify(&header, &[NEW_SECRET], T + 301),
            Err(SignatureError::TimestampOutOfTolerance {
                timestamp: T,
                now: T + 301
            })
        );
    }

    #[test]
    fn future_timestamp_is_refused_past_the_tolerance() {
        let header = format!("t={T},v1={NEW_SIG}");
        assert_eq!(verify(&header, &[NEW_SECRET], T - 300), Ok(()));
        assert_eq!(
            verify(&header, &[NEW_SECRET], T - 301),
            Err(SignatureError::TimestampOutOfTolerance {
                timestamp: T,
                now: T - 301
            })
        );
    }

    #[test]
    fn forged_signature_is_reported_before_the_clock() {
        let header = format!("t={T},v1={}", "00".repeat(32));
        assert_eq!(
            verify(&header, &[NEW_SECRET], T + 10_000),
            Err(SignatureError::NoMatchingSignature)
        );
    }

    #[test]
    fn rotation_accepts_either_secret() {
        // Stripe sends one v1 per active secret, in no promised order.
        for header in [
            format!("t={T},v1={NEW_SIG},v1={OLD_SIG}"),
            format!("t={T},v1={OLD_SIG},v1={NEW_SIG}"),
        ] {
            assert_eq!(verify(&header, &[NEW_SECRET], T), Ok(()));
            assert_eq!(verify(&header, &[OLD_SECRET], T), Ok(()));
            assert_eq!(verify(&header, &[OLD_SECRET, NEW_SECRET], T), Ok(()));
        }
        // Holding both while Stripe has moved on to the new one only.
        let header = format!("t={T},v1={NEW_SIG}");
        assert_eq!(verify(&header, &[OLD_SECRET, NEW_SECRET], T), Ok(()));
    }

    #[test]
    fn v0_alone_is_not_a_signature() {
        let header = format!("t={T},v0={NEW_SIG}");
        assert_eq!(
            verify(&header, &[NEW_SECRET], T),
            Err(SignatureError::NoV1Signature)
        );
    }

    #[test]
    fn unknown_elements_and_schemes_are_ignored() {
        let header = format!("t={T},v0=abc,v2=def,junk,v1=nothex,v1={NEW_SIG}");
        assert_eq!(verify(&header, &[NEW_SECRET], T), Ok(()));
    }

    #[test]
    fn uppercase_hex_signature_still_matches() {
        let header = format!("t={T},v1={}", NEW_SIG.to_uppercase());
        assert_eq!(verify(&header, &[NEW_SECRET], T), Ok(()));
    }

    #[test]
    fn malformed_headers_are_named() {
        for header in [
            "",
            ",",
            "v1=abc",
            "t=,v1=abc",
            "t=abc,v1=abc",
            "t=-5,v1=abc",
            "t=+5,v1=abc",
            "t= 5,v1=abc",
            "t=99999999999999999999,v1=abc",
            "t=1,t=1,v1=abc",
        ] {
            assert_eq!(
                verify(header, &[NEW_SECRET], T),
                Err(SignatureError::MalformedHeader),
                "{header:?}"
            );
        }
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let header = sign(NEW_SECRET, i64::MAX, PAYLOAD);
        assert_eq!(
            verify(&header, &[NEW_SECRET], i64::MIN),
            Err(SignatureError::TimestampOutOfTolerance {
                timestamp: i64::MAX,
                now: i64::MIN
            })
        );
    }

    proptest! {
        #[test]
        fn arbitrary_headers_never_panic(header in "\\PC*") {
            let _ = verify(&header, &[NEW_SECRET, OLD_SECRET], T);
        }

        #[test]
        fn header_shaped_garbage_never_panics(
            header in "(t|v0|v1|v2|x|=|,|[0-9a-f]{0,70}|-|\\+| ){0,24}",
            now in any::<i64>(),
            tolerance in any::<i64>(),
        ) {
            let _ = verify_signature(&header, PAYLOAD, &[NEW_SECRET], now, tolerance);
        }

        #[test]
        fn what_sign_writes_verifies(
            secret in proptest::collection::vec(any::<u8>(), 0..80),
            timestamp in 0..i64::MAX,
            payload in proptest::collection::vec(any::<u8>(), 0..256),
        ) {
            let header = sign(&secret, timestamp, &payload);
            prop_assert_eq!(
                verify_signature(&header, &payload, &[&secret], timestamp, 0),
                Ok(())
            );
        }
    }

    fn session_event(kind: &str, payment_status: &str) -> Vec<u8> {
        serde_json::json!({
            "id": "evt_1",
            "object": "event",
            "type": kind,
            "created": 1_700_000_000,
            "livemode": false,
            "data": {
                "object": {
                    "id": "cs_test_1",
                    "object": "checkout.session",
                    "client_reference_id": "inv_42",
                    "amount_total": 12_000,
                    "currency": "gbp",
                    "payment_status": payment_status,
                    "payment_intent": "pi_1",
                    "metadata": { "invoice_id": "inv_42" }
                }
            }
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn completed_and_paid_is_recorded() {
        let event = parse_event(&session_event("checkout.session.completed", "paid")).unwrap();
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.kind, "checkout.session.completed");
        assert_eq!(event.created, 1_700_000_000);
        let expected = CheckoutSession {
            id: "cs_test_1".into(),
            client_reference_id: Some("inv_42".into()),
            amount_total: Some(12_000),
            currency: Some("gbp".into()),
            payment_status: "paid".into(),
            payment_intent: Some("pi_1".into()),
        };
        assert_eq!(event.session.as_ref(), Some(&expected));
        assert_eq!(payment_to_record(&event), Some(&expected));
    }

    #[test]
    fn completed_but_unpaid_is_not_recorded() {
        let event = parse_event(&session_event("checkout.session.completed", "unpaid")).unwrap();
        assert!(event.session.is_some());
        assert_eq!(payment_to_record(&event), None);
    }

    #[test]
    fn async_payment_succeeded_is_recorded() {
        let body = session_event("checkout.session.async_payment_succeeded", "paid");
        let event = parse_event(&body).unwrap();
        assert_eq!(
            payment_to_record(&event).map(|s| s.id.as_str()),
            Some("cs_test_1")
        );
    }

    #[test]
    fn other_checkout_events_are_read_but_not_recorded() {
        for kind in [
            "checkout.session.expired",
            "checkout.session.async_payment_failed",
        ] {
            let event = parse_event(&session_event(kind, "unpaid")).unwrap();
            assert!(event.session.is_some());
            assert_eq!(payment_to_record(&event), None);
        }
    }

    #[test]
    fn unknown_type_parses_without_a_session() {
        let body = br#"{"id":"evt_2","object":"event","type":"customer.created","created":5,
            "data":{"object":{"id":"cus_1","object":"customer"}}}"#;
        let event = parse_event(body).unwrap();
        assert_eq!(event.kind, "customer.created");
        assert_eq!(event.session, None);
        assert_eq!(payment_to_record(&event), None);
    }

    #[test]
    fn nullable_session_fields_and_expanded_payment_intent() {
        let body = br#"{"id":"evt_3","type":"checkout.session.completed","created":1,
            "data":{"object":{"id":"cs_2","client_reference_id":null,"amount_total":null,
            "currency":null,"payment_status":"no_payment_required",
            "payment_intent":{"id":"pi_9","object":"payment_intent"}}}}"#;
        let session = parse_event(body).unwrap().session.unwrap();
        assert_eq!(session.client_reference_id, None);
        assert_eq!(session.amount_total, None);
        assert_eq!(session.payment_intent.as_deref(), Some("pi_9"));
    }

    #[test]
    fn malformed_json_is_an_error() {
        for body in [
            &b"{"[..],
            b"",
            b"null",
            b"[]",
            br#"{"id":"evt_1","type":"x"}"#,
            br#"{"id":1,"type":"x","created":1}"#,
            br#"{"id":"evt_1","type":"checkout.session.completed","created":1,"data":{"object":{"id":"cs_1"}}}"#,
        ] {
            assert!(
                matches!(parse_event(body), Err(EventError::Json(_))),
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let missing = br#"{"id":"evt_1","type":"checkout.session.completed","created":1}"#;
        assert!(matches!(
            parse_event(missing),
            Err(EventError::MissingObject(kind)) if kind == "checkout.session.completed"
        ));
    }

    fn input(customer_email: Option<&str>) -> CheckoutInput {
        CheckoutInput {
            invoice_id: "inv_42".into(),
            workspace_id: "ws_7".into(),
            invoice_number: "INV-0001".into(),
            amount_pence: 12_345,
            customer_email: customer_email.map(Into::into),
            success_url: "https://app.example/pay/done?i=inv_42".into(),
            cancel_url: "https://app.example/pay/cancelled".into(),
        }
    }

    #[test]
    fn checkout_form_has_every_field() {
        let form = checkout_session_form(&input(Some("payer@example.com")));
        let expected: Vec<(String, String)> = [
            ("mode", "payment"),
            ("success_url", "https://app.example/pay/done?i=inv_42"),
            ("cancel_url", "https://app.example/pay/cancelled"),
            ("client_reference_id", "inv_42"),
            ("customer_email", "payer@example.com"),
            ("line_items[0][quantity]", "1"),
            ("line_items[0][price_data][currency]", "gbp"),
            ("line_items[0][price_data][unit_amount]", "12345"),
            (
                "line_items[0][price_data][product_data][name]",
                "Invoice INV-0001",
            ),
            ("metadata[invoice_id]", "inv_42"),
            ("metadata[workspace_id]", "ws_7"),
            ("payment_intent_data[metadata][invoice_id]", "inv_42"),
        ]
        .into_iter()
        .map(|(k, v)| pair(k, v))
        .collect();
        assert_eq!(form, expected);
    }

    #[test]
    fn checkout_form_omits_a_missing_email() {
        let form = checkout_session_form(&input(None));
        assert!(form.iter().all(|(k, _)| k != "customer_email"));
        assert_eq!(form.len(), 11);
    }

    #[test]
    fn form_body_round_trips() {
        let form = checkout_session_form(&input(Some("a+b@example.com")));
        let body = form_body(&form);
        assert!(body.starts_with("mode=payment&success_url=https%3A%2F%2Fapp.example"));
        assert!(body.contains("line_items%5B0%5D%5Bquantity%5D=1"));
        assert!(body.contains("customer_email=a%2Bb%40example.com"));
        let decoded: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(decoded, form);
    }

    #[test]
    fn created_session_is_read() {
        let body = br#"{"id":"cs_test_a1","object":"checkout.session",
            "url":"https://checkout.stripe.com/c/pay/cs_test_a1","payment_status":"unpaid"}"#;
        assert_eq!(
            parse_created_session(body).unwrap(),
            CreatedSession {
                id: "cs_test_a1".into(),
                url: "https://checkout.stripe.com/c/pay/cs_test_a1".into(),
            }
        );
        assert!(parse_created_session(br#"{"id":"cs_1","url":null}"#).is_err());
        assert!(parse_created_session(b"<html>").is_err());
    }

    #[test]
    fn stripe_errors_are_read() {
        let body = br#"{"error":{"message":"Invalid currency: gpb","type":"invalid_request_error",
            "param":"line_items[0][price_data][currency]"}}"#;
        assert_eq!(parse_error(body).as_deref(), Some("Invalid currency: gpb"));
        assert_eq!(
            parse_error(br#"{"error":{"type":"api_error"}}"#).as_deref(),
            Some("api_error")
        );
        assert_eq!(parse_error(br#"{"error":{}}"#), None);
        assert_eq!(parse_error(br#"{"id":"cs_1"}"#), None);
        assert_eq!(parse_error(b"Bad Gateway"), None);
    }
}
