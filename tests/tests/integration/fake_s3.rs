//! A loopback fake of an S3-compatible object store: one bucket, path-style
//! `PUT`/`GET`/`DELETE /{bucket}/{key}`, each request authenticated by an AWS Signature
//! Version 4 presigned URL that the fake recomputes from what it received, as S3 does, so a
//! signing mistake fails here as it would against AWS, MinIO or R2. Errors are S3's XML ones.

#![allow(
    dead_code,
    reason = "a test crate's module: not every test reads every part of what the fake saw"
)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use actix_web::dev::ServerHandle;
use actix_web::http::header::{HeaderName, AUTHORIZATION, CONTENT_TYPE};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";
/// S3 accepts presigned URLs valid for one second up to a week.
const MAX_EXPIRES: i64 = 7 * 24 * 60 * 60;
/// How far in the future a request's `X-Amz-Date` may be, as S3 tolerates clock skew.
const MAX_SKEW: TimeDelta = TimeDelta::minutes(15);
/// Larger than any file the backend stores.
const MAX_BODY: usize = 64 << 20;

/// The running fake; the server stops when this is dropped.
pub struct FakeS3 {
    url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

/// One request as the fake saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Request {
    pub method: String,
    /// The path as sent, still percent-encoded, without the query string.
    pub path: String,
    /// The object's key, percent-decoded, when the path named one in the bucket.
    pub key: Option<String>,
    /// Whether the SigV4 presigned signature verified (and had not expired).
    pub verified: bool,
    pub status: u16,
}

struct Shared {
    access_key: String,
    secret_key: String,
    region: String,
    bucket: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    objects: BTreeMap<String, Vec<u8>>,
    requests: Vec<S3Request>,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl FakeS3 {
    /// Serves one empty bucket on 127.0.0.1 at a free port; call it within a Tokio runtime.
    pub fn start(access_key: &str, secret_key: &str, region: &str, bucket: &str) -> FakeS3 {
        let shared = Arc::new(Shared {
            access_key: access_key.to_owned(),
            secret_key: secret_key.to_owned(),
            region: region.to_owned(),
            bucket: bucket.to_owned(),
            state: Mutex::new(State::default()),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(MAX_BODY))
                .default_service(web::to(handle))
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("binding the fake S3");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeS3 {
            url: format!("http://{addr}"),
            shared,
            handle,
        }
    }

    /// The endpoint, `http://127.0.0.1:{port}`, to address the bucket path-style.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Every stored object: key (the prefix included) → bytes.
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.shared.state().objects.clone()
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<S3Request> {
        self.shared.state().requests.clone()
    }
}

impl Drop for FakeS3 {
    fn drop(&mut self) {
        // The stop command is sent at once; waiting for the workers is not needed.
        drop(self.handle.stop(false));
    }
}

/// An S3 error answer: status, code, message, and any elements S3 adds for that code.
struct S3Error {
    status: StatusCode,
    code: &'static str,
    message: String,
    extra: Vec<(&'static str, String)>,
}

impl S3Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> S3Error {
        S3Error {
            status,
            code,
            message: message.into(),
            extra: Vec::new(),
        }
    }

    fn with(mut self, element: &'static str, value: impl Into<String>) -> S3Error {
        self.extra.push((element, value.into()));
        self
    }

    fn query_auth(message: impl Into<String>) -> S3Error {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "AuthorizationQueryParametersError",
            message,
        )
    }

    fn response(&self, resource: &str, request_id: &str) -> HttpResponse {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>");
        let mut element = |name: &str, value: &str| {
            xml.push_str(&format!("<{name}>{}</{name}>", escape_xml(value)));
        };
        element("Code", self.code);
        element("Message", &self.message);
        for (name, value) in &self.extra {
            element(name, value);
        }
        element("Resource", resource);
        element("RequestId", request_id);
        xml.push_str("</Error>");
        let mut res = HttpResponse::build(self.status);
        res.insert_header((CONTENT_TYPE, "application/xml"));
        if self.status == StatusCode::METHOD_NOT_ALLOWED {
            res.insert_header(("Allow", "GET, PUT, DELETE"));
        }
        res.body(xml)
    }
}

async fn handle(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let path = req.uri().path().to_owned();
    let mut seen = S3Request {
        method: req.method().as_str().to_owned(),
        path: path.clone(),
        key: None,
        verified: false,
        status: 0,
    };
    let request_id = format!("{:016X}", shared.state().requests.len() + 1);
    let mut res = match serve(&req, body, &shared, &mut seen) {
        Ok(res) => res,
        Err(e) => e.response(&path, &request_id),
    };
    if let Ok(value) = request_id.parse::<actix_web::http::header::HeaderValue>() {
        res.headers_mut()
            .insert(HeaderName::from_static("x-amz-request-id"), value);
    }
    seen.status = res.status().as_u16();
    shared.state().requests.push(seen);
    res
}

fn serve(
    req: &HttpRequest,
    body: web::Bytes,
    shared: &Shared,
    seen: &mut S3Request,
) -> Result<HttpResponse, S3Error> {
    let invalid_uri = || {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidURI",
            "Couldn't parse the specified URI.",
        )
    };
    let decoded = percent_decode(req.uri().path(), false).ok_or_else(invalid_uri)?;
    let rest = decoded.strip_prefix('/').ok_or_else(invalid_uri)?;
    let (bucket, key) = match rest.split_once('/') {
        Some((bucket, key)) => (bucket, key),
        None => (rest, ""),
    };
    if bucket.is_empty() {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            "This fake serves the objects of one bucket, addressed by path.",
        ));
    }
    if bucket != shared.bucket {
        return Err(S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        )
        .with("BucketName", bucket));
    }
    if !key.is_empty() {
        seen.key = Some(key.to_owned());
    }

    let query = parse_query(req.query_string()).ok_or_else(|| {
        S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "The query string could not be parsed.",
        )
    })?;
    authenticate(req, &decoded, &query, shared)?;
    seen.verified = true;

    if let Some((name, _)) = query.iter().find(|(name, _)| !name.starts_with("X-Amz-")) {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidRequest",
            format!("This fake does not implement the {name:?} parameter or sub-resource."),
        ));
    }
    let not_allowed = |resource: &str| {
        S3Error::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "The specified method is not allowed against this resource.",
        )
        .with("Method", req.method().as_str())
        .with("ResourceType", resource)
    };
    if key.is_empty() {
        return Err(not_allowed("BUCKET"));
    }
    let mut state = shared.state();
    match *req.method() {
        Method::PUT => {
            let etag = format!("\"{}\"", hex::encode(Sha256::digest(&body)));
            state.objects.insert(key.to_owned(), body.to_vec());
            Ok(HttpResponse::Ok().insert_header(("ETag", etag)).finish())
        }
        Method::GET => match state.objects.get(key) {
            Some(bytes) => Ok(HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "application/octet-stream"))
                .insert_header((
                    "ETag",
                    format!("\"{}\"", hex::encode(Sha256::digest(bytes))),
                ))
                .body(bytes.clone())),
            None => Err(S3Error::new(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            )
            .with("Key", key)),
        },
        Method::DELETE => {
            state.objects.remove(key);
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(not_allowed("OBJECT")),
    }
}

/// The one value of a query parameter; a repeated authentication parameter is malformed.
fn single<'a>(query: &'a [(String, String)], name: &str) -> Result<Option<&'a str>, S3Error> {
    let mut values = query.iter().filter(|(n, _)| n == name);
    let first = values.next().map(|(_, v)| v.as_str());
    if values.next().is_some() {
        return Err(S3Error::query_auth(format!(
            "{name} must be given only once."
        )));
    }
    Ok(first)
}

/// Checks the request's SigV4 query-string authentication, as S3 does.
fn authenticate(
    req: &HttpRequest,
    decoded_path: &str,
    query: &[(String, String)],
    shared: &Shared,
) -> Result<(), S3Error> {
    let algorithm = single(query, "X-Amz-Algorithm")?;
    match (req.headers().contains_key(AUTHORIZATION), algorithm) {
        (true, Some(_)) => {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            ))
        }
        (true, None) => {
            return Err(S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "This fake accepts presigned URLs (query-string authentication) only.",
            ))
        }
        (false, None) => {
            return Err(S3Error::new(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Access Denied",
            ))
        }
        (false, Some(_)) => {}
    }
    let (
        Some(algorithm),
        Some(credential),
        Some(amz_date),
        Some(expires),
        Some(signed),
        Some(provided),
    ) = (
        algorithm,
        single(query, "X-Amz-Credential")?,
        single(query, "X-Amz-Date")?,
        single(query, "X-Amz-Expires")?,
        single(query, "X-Amz-SignedHeaders")?,
        single(query, "X-Amz-Signature")?,
    )
    else {
        return Err(S3Error::query_auth("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."));
    };
    if algorithm != ALGORITHM {
        return Err(S3Error::query_auth(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\""
        )));
    }
    if single(query, "X-Amz-Security-Token")?.is_some() {
        return Err(S3Error::new(
            StatusCode::BAD_REQUEST,
            "InvalidToken",
            "The provided token is malformed or otherwise invalid.",
        ));
    }

    let parts: Vec<&str> = credential.split('/').collect();
    let [key, day, region, service, terminal] = parts[..] else {
        return Err(S3Error::query_auth("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."));
    };
    if key != shared.access_key {
        return Err(S3Error::new(
            StatusCode::FORBIDDEN,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
        .with("AWSAccessKeyId", key));
    }
    let date = parse_amz_date(amz_date).ok_or_else(|| {
        S3Error::query_auth(
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
    })?;
    if day != &amz_date[..8] {
        return Err(S3Error::query_auth(format!("Error parsing the X-Amz-Credential parameter; the date {day:?} is not the day of X-Amz-Date {amz_date:?}.")));
    }
    if region != shared.region {
        return Err(S3Error::query_auth(format!(
            "Error parsing the X-Amz-Credential parameter; the region '{region}' is wrong; expecting '{}'",
            shared.region
        ))
        .with("Region", shared.region.as_str()));
    }
    if service != "s3" {
        return Err(S3Error::query_auth(format!("Error parsing the X-Amz-Credential parameter; incorrect service \"{service}\". This endpoint belongs to \"s3\".")));
    }
    if terminal != "aws4_request" {
        return Err(S3Error::query_auth(format!("Error parsing the X-Amz-Credential parameter; incorrect terminal \"{terminal}\". This endpoint uses \"aws4_request\".")));
    }
    let seconds = expires
        .parse::<i64>()
        .ok()
        .filter(|s| (1..=MAX_EXPIRES).contains(s) && expires.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| {
            S3Error::query_auth(format!(
                "X-Amz-Expires must be a whole number of seconds from 1 to {MAX_EXPIRES}"
            ))
        })?;
    let now = Utc::now();
    let server_time = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    if now > date + TimeDelta::seconds(seconds) {
        return Err(
            S3Error::new(StatusCode::FORBIDDEN, "AccessDenied", "Request has expired")
                .with("X-Amz-Expires", expires)
                .with(
                    "Expires",
                    (date + TimeDelta::seconds(seconds))
                        .format("%Y-%m-%dT%H:%M:%SZ")
                        .to_string(),
                )
                .with("ServerTime", server_time),
        );
    }
    if date > now + MAX_SKEW {
        return Err(S3Error::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Request is not valid yet",
        )
        .with("ServerTime", server_time));
    }

    let names: Vec<&str> = signed.split(';').collect();
    let well_formed = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    }) && names.windows(2).all(|w| w[0] < w[1]);
    if !well_formed {
        return Err(S3Error::query_auth(
            "X-Amz-SignedHeaders must be distinct lowercase header names, sorted, separated by ';'.",
        ));
    }
    if !names.contains(&"host") {
        return Err(S3Error::query_auth(
            "X-Amz-SignedHeaders must include the host header.",
        ));
    }
    let unsigned: Vec<&str> = req
        .headers()
        .keys()
        .map(HeaderName::as_str)
        .filter(|n| n.starts_with("x-amz-") && !names.contains(n))
        .collect();
    if !unsigned.is_empty() {
        return Err(S3Error::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "There were headers present in the request which were not signed",
        )
        .with("HeadersNotSigned", unsigned.join(", ")));
    }
    let mut headers = Vec::with_capacity(names.len());
    for name in &names {
        let mut values = Vec::new();
        for value in req.headers().get_all(*name) {
            values.push(value.to_str().map_err(|_| {
                S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    format!("The {name} header is not ASCII."),
                )
            })?);
        }
        // HTTP/2 carries the host as the URI's authority rather than as a header.
        let authority = req.uri().authority().map(|a| a.as_str());
        if *name == "host" && values.is_empty() {
            values.extend(authority);
        }
        headers.push((*name, values.join(",")));
    }

    let canonical = canonical_request(req.method().as_str(), decoded_path, query, &headers, signed);
    let scope = format!("{day}/{region}/s3/aws4_request");
    let to_sign = string_to_sign(amz_date, &scope, &canonical);
    let expected = signature(&shared.secret_key, day, region, &to_sign);
    if !constant_time_eq(expected.as_bytes(), provided.as_bytes()) {
        return Err(S3Error::new(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        )
        .with("AWSAccessKeyId", key)
        .with("StringToSign", to_sign)
        .with("SignatureProvided", provided)
        .with("CanonicalRequest", canonical));
    }
    Ok(())
}

/// `yyyyMMdd'T'HHmmss'Z'`, strictly.
fn parse_amz_date(text: &str) -> Option<DateTime<Utc>> {
    let shape = text.len() == 16
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 => b == b'T',
            15 => b == b'Z',
            _ => b.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|d| d.and_utc())
}

/// The canonical request of a presigned URL, from the percent-decoded path.
fn canonical_request(
    method: &str,
    decoded_path: &str,
    query: &[(String, String)],
    headers: &[(&str, String)],
    signed_headers: &str,
) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .filter(|(name, _)| name != "X-Amz-Signature")
        .map(|(name, value)| (uri_encode(name, true), uri_encode(value, true)))
        .collect();
    pairs.sort();
    let query: Vec<String> = pairs.iter().map(|(n, v)| format!("{n}={v}")).collect();
    let mut canonical_headers = String::new();
    for (name, value) in headers {
        let value: Vec<&str> = value.split_whitespace().collect();
        canonical_headers.push_str(&format!("{name}:{}\n", value.join(" ")));
    }
    // S3 encodes the decoded key once, keeping its slashes: no double encoding, no
    // normalisation of `.`, `..` or repeated slashes.
    format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{UNSIGNED_PAYLOAD}",
        uri_encode(decoded_path, false),
        query.join("&"),
    )
}

fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// The hex signature of `string_to_sign` with the key derived from the secret for that day.
fn signature(secret: &str, day: &str, region: &str, string_to_sign: &str) -> String {
    let date_key = hmac(format!("AWS4{secret}").as_bytes(), day);
    let region_key = hmac(&date_key, region);
    let service_key = hmac(&region_key, "s3");
    let signing_key = hmac(&service_key, "aws4_request");
    hex::encode(hmac(&signing_key, string_to_sign))
}

/// Equal lengths are compared without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// AWS's `UriEncode`: every byte but `A-Za-z0-9-._~` as `%XY` (and `/` too when asked).
fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (b == b'/' && !encode_slash)
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes UTF-8 text; `+` is a space only in a query. `None` if malformed.
fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// Name/value pairs, decoded, in order; a name without `=` has an empty value.
fn parse_query(query: &str) -> Option<Vec<(String, String)>> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((percent_decode(name, true)?, percent_decode(value, true)?))
        })
        .collect()
}

/// Element text only: quotes need no escaping there.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's own presigned-URL example ("Authenticating Requests: Using Query Parameters").
    #[test]
    fn aws_documentation_example() {
        let credential = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";
        let query = parse_query(&format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host",
            uri_encode(credential, true)
        ))
        .unwrap();
        let canonical = canonical_request(
            "GET",
            "/test.txt",
            &query,
            &[("host", "examplebucket.s3.amazonaws.com".to_owned())],
            "host",
        );
        assert_eq!(
            canonical,
            "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD"
        );
        let to_sign = string_to_sign(
            "20130524T000000Z",
            "20130524/us-east-1/s3/aws4_request",
            &canonical,
        );
        assert_eq!(
            to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"
        );
        assert_eq!(
            signature(
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                "20130524",
                "us-east-1",
                &to_sign
            ),
            "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        );
    }

    #[test]
    fn encoding_and_decoding() {
        assert_eq!(uri_encode("a b/ü~+*", false), "a%20b/%C3%BC~%2B%2A");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
        assert_eq!(percent_decode("a%20b+c%2f", false).unwrap(), "a b+c/");
        assert_eq!(percent_decode("a+b", true).unwrap(), "a b");
        assert!(percent_decode("a%2", false).is_none());
        assert!(percent_decode("a%zz", false).is_none());
        assert!(percent_decode("%FF", false).is_none());
        assert!(parse_amz_date("20130524T000000Z").is_some());
        assert!(parse_amz_date("2013-05-24T00:00:00Z").is_none());
        assert!(parse_amz_date("20131324T000000Z").is_none());
    }
}
