//! Reading a user's iCal feed: through the outbound guard (the URL is theirs), at most 10 MB,
//! sending back the validators of the last read so an unchanged feed costs a `304`.

use std::time::Duration;

use reqwest::{
    header::{
        HeaderMap, HeaderValue, ACCEPT, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
    },
    StatusCode,
};

use crate::{
    config::Config,
    outbound::{FetchError, Fetcher, Policy},
};

/// The largest feed read.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;

/// What requests to calendar servers may do: loopback only when configured (tests).
pub fn policy(config: &Config) -> Policy {
    Policy {
        allow_http: config.outbound_allow_loopback,
        allow_loopback: config.outbound_allow_loopback,
        max_redirects: 5,
        connect_timeout: Duration::from_secs(5),
        timeout: Duration::from_secs(30),
        max_body_bytes: MAX_BYTES,
    }
}

/// A feed's `ETag` and `Last-Modified`, as its server sent them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

pub enum Feed {
    /// `304 Not Modified`: the validators still hold.
    Unchanged,
    Read {
        text: String,
        validators: Validators,
    },
}

/// Reads the feed at `url`; with `validators`, conditionally. The error is a sentence for the
/// user (it never contains the URL, which is a secret).
pub async fn read(
    config: &Config,
    url: &str,
    validators: Option<&Validators>,
) -> Result<Feed, String> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("text/calendar, */*;q=0.5"));
    if let Some(v) = validators {
        let mut put = |name, value: &Option<String>| {
            if let Some(value) = value.as_deref().and_then(|s| HeaderValue::from_str(s).ok()) {
                headers.insert(name, value);
            }
        };
        put(IF_NONE_MATCH, &v.etag);
        put(IF_MODIFIED_SINCE, &v.last_modified);
    }
    let answer = Fetcher::new(policy(config))
        .get_with(url, headers)
        .await
        .map_err(|e| match e {
            FetchError::Http(e) if e.is_timeout() => {
                "the calendar server did not answer in time".to_owned()
            }
            FetchError::Http(e) if e.is_connect() => {
                "the calendar server could not be reached".to_owned()
            }
            FetchError::Http(_) => "the calendar server's answer could not be read".to_owned(),
            FetchError::TooLarge(_) => "the calendar is larger than 10 MB".to_owned(),
            other => other.to_string(),
        })?;
    if answer.status == StatusCode::NOT_MODIFIED && validators.is_some() {
        return Ok(Feed::Unchanged);
    }
    if !answer.status.is_success() {
        return Err(format!("the calendar server answered {}", answer.status));
    }
    let header = |name| {
        answer
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 100)
            .map(str::to_owned)
    };
    let validators = Validators {
        etag: header(ETAG),
        last_modified: header(LAST_MODIFIED),
    };
    let text =
        String::from_utf8(answer.body).map_err(|_| "the calendar is not UTF-8 text".to_owned())?;
    Ok(Feed::Read { text, validators })
}
