//! Sending notifications through the job queue. `push.notify` (queued by any part of minime with
//! [`notify`], acting as the recipient) fans out into one `push.deliver` per subscribed device,
//! so a failing device never makes the others receive twice; `push.deliver` encrypts the
//! payload to the browser (RFC 8291 `aes128gcm`), signs a VAPID token (RFC 8292) and POSTs it to
//! the push service through the outbound fetcher (the endpoint is a user's address).

use std::sync::Arc;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use diesel_async::scoped_futures::ScopedFutureExt;
use reqwest::{
    header::{HeaderMap, HeaderName, HeaderValue},
    StatusCode,
};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use web_push::{ContentEncoding, SubscriptionInfo, WebPushMessageBuilder};

use super::{
    subscription::{self, Target},
    vapid::{self, Vapid},
};
use crate::{
    common::jobs::{
        queue::{self, NewJob},
        worker::{JobContext, Registry},
    },
    config::Config,
    db::pool::{acting, Conn},
    http::problem::ApiResult,
    outbound::{FetchError, Fetcher},
};

/// Queued by others with the recipient as the job's user and a [`Notification`] as payload.
pub const NOTIFY: &str = "push.notify";
/// One notification to one subscription.
pub const DELIVER: &str = "push.deliver";
/// The largest payload push services take (what the encrypting crate allows).
pub const MAX_PAYLOAD_BYTES: usize = 3052;
/// How long a push service keeps a notification for a device that is offline, unless told.
pub const DEFAULT_TTL_SECONDS: u32 = 86_400;
/// Four weeks: the longest push services keep one.
pub const MAX_TTL_SECONDS: u32 = 2_419_200;

#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Urgency {
    VeryLow,
    Low,
    Normal,
    High,
}

/// What a `push.notify` job carries. The browser gets `title`, `body` and `url` (the body cut
/// short when the whole would pass the push services' cap); `topic`, `urgency` and `ttl` go to
/// the push service (a newer notification with the same topic replaces one not yet delivered).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Notification {
    pub title: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<Urgency>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u32>,
}

/// Queues `notification` for every device of `user_id`, in the caller's transaction: it is sent
/// only if that transaction commits. With `once`, a key, it is queued at most once for that key
/// (a recap per user and day); whether it was queued.
pub async fn notify(
    conn: &mut Conn,
    user_id: Uuid,
    notification: Notification,
    once: Option<String>,
) -> ApiResult<bool> {
    let (_, at) = acting(conn).await?;
    let payload =
        serde_json::to_value(notification).map_err(crate::http::problem::ApiError::internal)?;
    let queued = queue::enqueue(
        conn,
        NewJob {
            payload,
            user_id: Some(user_id),
            unique_key: once,
            ..NewJob::new(NOTIFY, at)
        },
    )
    .await?;
    Ok(queued.is_some())
}

/// What a `push.deliver` job carries.
#[derive(Serialize, Deserialize)]
struct Delivery {
    subscription_id: Uuid,
    notification: Notification,
}

/// Adds the `push.notify` and `push.deliver` handlers to `registry`; refuses a configured VAPID
/// key that is not one.
pub fn register(registry: Registry, config: &Config) -> anyhow::Result<Registry> {
    if let Some(key) = &config.vapid_private_key {
        Vapid::parse(secrecy::ExposeSecret::expose_secret(key))
            .map_err(|e| anyhow::anyhow!("MINIME_VAPID_PRIVATE_KEY: {e}"))?;
    }
    let config = Arc::new(config.clone());
    Ok(registry.add(NOTIFY, fan_out).add(DELIVER, move |ctx| {
        let config = config.clone();
        async move { deliver(ctx, &config).await }
    }))
}

async fn fan_out(ctx: JobContext) -> anyhow::Result<()> {
    let notification: Notification = serde_json::from_value(ctx.job.payload.clone())?;
    let user = ctx
        .job
        .user_id
        .ok_or_else(|| anyhow::anyhow!("{NOTIFY} needs the recipient as the job's user"))?;
    let (job, at) = (ctx.job.id, ctx.clock.now());
    ctx.tx(move |conn| {
        async move {
            for id in subscription::ids(conn).await? {
                let payload = serde_json::to_value(Delivery {
                    subscription_id: id,
                    notification: notification.clone(),
                })
                .map_err(crate::http::problem::ApiError::internal)?;
                // Keyed, so that this job running twice (a lapsed lease) sends once.
                queue::enqueue(
                    conn,
                    NewJob {
                        payload,
                        user_id: Some(user),
                        unique_key: Some(format!("{DELIVER}:{job}:{id}")),
                        ..NewJob::new(DELIVER, at)
                    },
                )
                .await?;
            }
            Ok(())
        }
        .scope_boxed()
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}

async fn deliver(ctx: JobContext, config: &Arc<Config>) -> anyhow::Result<()> {
    let Delivery {
        subscription_id: id,
        notification,
    } = serde_json::from_value(ctx.job.payload.clone())?;
    let keys_config = config.clone();
    let found = ctx
        .tx(move |conn| {
            async move {
                let Some(target) = subscription::target(conn, id).await? else {
                    return Ok(None);
                };
                Ok(Some((target, vapid::keys(conn, &keys_config).await?)))
            }
            .scope_boxed()
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    // Unsubscribed since.
    let Some((target, vapid)) = found else {
        return Ok(());
    };
    let now = ctx.clock.now();
    let (headers, body) = match request(&target, &vapid, &notification, &config.vapid_subject, now)
    {
        Ok(request) => request,
        Err(error) => return settle(&ctx, id, Settle::Failed(error)).await,
    };
    let answer = Fetcher::new(subscription::policy(config))
        .post(&target.endpoint, headers, body)
        .await;
    let outcome = match answer {
        Ok(answer) => match answer.status {
            status if status.is_success() => Settle::Delivered,
            StatusCode::NOT_FOUND | StatusCode::GONE => Settle::Gone,
            status if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() => {
                Settle::Again(format!("the push service answered {status}"))
            }
            status => Settle::Failed(format!(
                "the push service answered {status}: {}",
                String::from_utf8_lossy(&answer.body[..answer.body.len().min(200)])
            )),
        },
        // The address is no longer one we may reach (its name now points elsewhere).
        Err(error @ (FetchError::Url(_) | FetchError::Forbidden { .. })) => {
            Settle::Failed(error.to_string())
        }
        Err(error) => Settle::Again(error.to_string()),
    };
    settle(&ctx, id, outcome).await
}

enum Settle {
    Delivered,
    /// The push service says the subscription has ended.
    Gone,
    /// Worth asking again later: the queue retries with backoff.
    Again(String),
    /// Asking again would get the same answer.
    Failed(String),
}

async fn settle(ctx: &JobContext, id: Uuid, outcome: Settle) -> anyhow::Result<()> {
    let at = ctx.clock.now();
    let (record, retry) = match outcome {
        Settle::Delivered => (Some(Ok(at)), None),
        Settle::Gone => (None, None),
        Settle::Again(error) => (Some(Err(error.clone())), Some(error)),
        Settle::Failed(error) => {
            tracing::warn!(subscription = %id, %error, "push: not delivered");
            (Some(Err(error)), None)
        }
    };
    let kept = ctx
        .tx(move |conn| {
            async move {
                match record {
                    Some(outcome) => subscription::record(conn, id, outcome).await,
                    None => subscription::remove(conn, id).await.map(|_| ()),
                }
            }
            .scope_boxed()
        })
        .await;
    if let Err(error) = kept {
        // The push service has answered for good: failing the job now would send it again.
        if retry.is_none() {
            tracing::warn!(subscription = %id, %error, "push: the outcome was not recorded");
            return Ok(());
        }
        return Err(anyhow::anyhow!("{error}"));
    }
    match retry {
        Some(error) => Err(anyhow::anyhow!("{error}; the queue will try again")),
        None => Ok(()),
    }
}

/// The encrypted, signed request for one push: its headers (TTL, Urgency, Topic,
/// Content-Encoding, Authorization) and body.
fn request(
    target: &Target,
    vapid: &Vapid,
    notification: &Notification,
    subject: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(HeaderMap, Vec<u8>), String> {
    let info = SubscriptionInfo::new(
        target.endpoint.clone(),
        URL_SAFE_NO_PAD.encode(&target.p256dh),
        URL_SAFE_NO_PAD.encode(&target.auth),
    );
    let signature = vapid
        .sign(&info, subject, now + chrono::Duration::hours(12))
        .map_err(|e| format!("signing the VAPID token: {e}"))?;
    let payload = payload(notification);
    let mut message = WebPushMessageBuilder::new(&info);
    message.set_payload(ContentEncoding::Aes128Gcm, &payload);
    message.set_ttl(
        notification
            .ttl
            .unwrap_or(DEFAULT_TTL_SECONDS)
            .min(MAX_TTL_SECONDS),
    );
    if let Some(urgency) = notification.urgency {
        message.set_urgency(match urgency {
            Urgency::VeryLow => web_push::Urgency::VeryLow,
            Urgency::Low => web_push::Urgency::Low,
            Urgency::Normal => web_push::Urgency::Normal,
            Urgency::High => web_push::Urgency::High,
        });
    }
    if let Some(topic) = &notification.topic {
        message.set_topic(topic_header(topic));
    }
    message.set_vapid_signature(signature);
    let message = message
        .build()
        .map_err(|e| format!("encrypting the notification: {e}"))?;
    let built = web_push::request_builder::build_request::<Vec<u8>>(message);
    let mut headers = HeaderMap::new();
    for (name, value) in built.headers() {
        // reqwest sets the length of the body it sends.
        if name.as_str().eq_ignore_ascii_case("content-length") {
            continue;
        }
        let name = HeaderName::from_bytes(name.as_str().as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_bytes(value.as_bytes()).map_err(|e| e.to_string())?;
        headers.insert(name, value);
    }
    Ok((headers, built.into_body()))
}

/// A Topic header is at most 32 base64url characters; any other topic is replaced by one made
/// from its hash, so that equal topics still replace each other.
fn topic_header(topic: &str) -> String {
    let valid = !topic.is_empty()
        && topic.len() <= 32
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        topic.to_owned()
    } else {
        URL_SAFE_NO_PAD.encode(Sha256::digest(topic.as_bytes()))[..32].to_owned()
    }
}

#[derive(Serialize)]
struct Shown<'a> {
    title: &'a str,
    body: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
}

/// What the browser receives, as JSON of at most [`MAX_PAYLOAD_BYTES`]: a body too long is cut
/// short with "…" (then the title, then the link goes), rather than the push failing.
pub fn payload(notification: &Notification) -> Vec<u8> {
    let render = |title: &str, body: &str, url: Option<&str>| {
        serde_json::to_vec(&Shown { title, body, url }).expect("strings serialise")
    };
    let (title, url) = (notification.title.as_str(), notification.url.as_deref());
    let whole = render(title, &notification.body, url);
    if whole.len() <= MAX_PAYLOAD_BYTES {
        return whole;
    }
    longest_fit(&notification.body, |body| render(title, body, url))
        .or_else(|| longest_fit(title, |title| render(title, "", url)))
        .or_else(|| longest_fit(title, |title| render(title, "", None)))
        .unwrap_or_else(|| render("", "", None))
}

/// The rendering with the longest start of `text` (marked "…" when cut) that fits the cap, if
/// even an empty one does. Renderings grow with the start's length, so a binary search finds it.
fn longest_fit(text: &str, render: impl Fn(&str) -> Vec<u8>) -> Option<Vec<u8>> {
    let shown = |end: usize| match &text[..end] {
        "" => render(""),
        start => render(&format!("{start}…")),
    };
    let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    let (mut fits, mut too_long) = (0, ends.len());
    if shown(0).len() > MAX_PAYLOAD_BYTES {
        return None;
    }
    while too_long - fits > 1 {
        let mid = (fits + too_long) / 2;
        if shown(ends[mid]).len() <= MAX_PAYLOAD_BYTES {
            fits = mid;
        } else {
            too_long = mid;
        }
    }
    Some(shown(ends.get(fits).copied().unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(title: &str, body: &str, url: Option<&str>) -> Notification {
        Notification {
            title: title.into(),
            body: body.into(),
            url: url.map(Into::into),
            topic: None,
            urgency: None,
            ttl: None,
        }
    }

    #[test]
    fn a_payload_fits_the_cap_and_a_long_body_is_cut_short() {
        let small = note("Hi", "Short", Some("/today"));
        assert_eq!(
            payload(&small),
            br#"{"title":"Hi","body":"Short","url":"/today"}"#
        );
        for body in [
            "a".repeat(5000),
            "é".repeat(3000),
            "\"\\".repeat(2000),
            "\u{1F600}".repeat(1000),
            "\n".repeat(3100),
        ] {
            let long = note("Title", &body, Some("https://minime.example/today"));
            let bytes = payload(&long);
            assert!(bytes.len() <= MAX_PAYLOAD_BYTES, "{}", bytes.len());
            assert!(
                bytes.len() > MAX_PAYLOAD_BYTES - 16,
                "cut too much: {}",
                bytes.len()
            );
            let shown: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert_eq!(shown["title"], "Title");
            let cut = shown["body"].as_str().unwrap();
            assert!(cut.ends_with('…') && body.starts_with(cut.trim_end_matches('…')));
        }
        let huge_title = note(&"t".repeat(4000), "b", None);
        let shown: serde_json::Value = serde_json::from_slice(&payload(&huge_title)).unwrap();
        assert_eq!(shown["body"], "");
        assert!(shown["title"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn topics_are_valid_headers() {
        assert_eq!(topic_header("morning-recap"), "morning-recap");
        let long = topic_header("a topic with spaces and more than thirty-two characters");
        assert_eq!(long.len(), 32);
        assert!(long
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(
            long,
            topic_header("a topic with spaces and more than thirty-two characters")
        );
        assert_ne!(topic_header("task:1"), topic_header("task:2"));
    }

    #[test]
    fn notifications_read_what_others_queue() {
        let n: Notification = serde_json::from_value(serde_json::json!({
            "title": "Due", "body": "Pay rent", "urgency": "very-low", "ttl": 60
        }))
        .unwrap();
        assert_eq!(n.urgency, Some(Urgency::VeryLow));
        assert_eq!(n.ttl, Some(60));
        assert!(serde_json::from_value::<Notification>(serde_json::json!({"title": "x"})).is_err());
    }
}
