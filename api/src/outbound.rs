//! Requests to addresses users give us (calendar feeds, push endpoints): https only unless
//! configured otherwise, the host resolved by us and every address checked against the ranges a
//! request from our network must never reach (loopback, private, link-local and cloud metadata,
//! CGNAT, multicast, documentation, reserved, and IPv6 forms that embed IPv4), the connection made
//! to the address we checked (a second lookup could answer differently: DNS rebinding), each
//! redirect checked the same way, with timeouts and a cap on the body.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    sync::Arc,
    time::Duration,
};

/// What a fetch may do.
#[derive(Clone, Debug)]
pub struct Policy {
    /// Plain `http://` too (never in production).
    pub allow_http: bool,
    /// Loopback addresses too: only for tests against local fakes.
    pub allow_loopback: bool,
    pub max_redirects: usize,
    pub connect_timeout: Duration,
    pub timeout: Duration,
    pub max_body_bytes: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            allow_http: false,
            allow_loopback: false,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(20),
            max_body_bytes: 5 * 1024 * 1024,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the address is not a URL we fetch: {0}")]
    Url(String),
    #[error("{host} resolves to {addr}, which is {why}")]
    Forbidden {
        host: String,
        addr: IpAddr,
        why: &'static str,
    },
    #[error("{0} does not resolve")]
    NoAddress(String),
    #[error("more than {0} redirects")]
    TooManyRedirects(usize),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
}

/// Why a request must not reach `ip`, if it must not.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], bits: u32) -> bool {
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    (u32::from(ip) & mask) == (u32::from(Ipv4Addr::from(net)) & mask)
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u32, &str)] = &[
        ([0, 0, 0, 0], 8, "an unspecified address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        (
            [169, 254, 0, 0],
            16,
            "a link-local address (cloud metadata lives here)",
        ),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "an IETF protocol address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a 6to4 relay address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    RANGES
        .iter()
        .find(|(net, bits, _)| in_v4(ip, *net, *bits))
        .map(|(_, _, why)| *why)
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("an unspecified address");
    }
    if ip.is_loopback() {
        return Some("a loopback address");
    }
    // Forms that carry an IPv4 address: judged by it, and never reached as IPv6.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4).or(Some("an IPv4-mapped address"));
    }
    let ranges: &[(u16, u16, &str)] = &[
        (0xfe80, 0xffc0, "a link-local address"),
        (0xfc00, 0xfe00, "a unique local (private) address"),
        (0xff00, 0xff00, "a multicast address"),
        (0x2002, 0xffff, "a 6to4 address"),
    ];
    if let Some((_, _, why)) = ranges.iter().find(|(net, mask, _)| s[0] & mask == *net) {
        return Some(why);
    }
    if s[0] == 0x2001 && s[1] == 0x0db8 {
        return Some("a documentation address");
    }
    if s[0] == 0x2001 && s[1] == 0 {
        return Some("a Teredo address");
    }
    if s[0] == 0x0064 && s[1] == 0xff9b {
        return Some("a NAT64 address");
    }
    if s[..6] == [0, 0, 0, 0, 0, 0] {
        return Some("an IPv4-compatible address");
    }
    None
}

/// Resolves host names; the system's resolver by default, a fixed one in tests.
pub trait Resolver: Send + Sync {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>>;
}

pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, port)).await?.collect()) })
    }
}

pub struct Fetcher {
    pub policy: Policy,
    pub resolver: Arc<dyn Resolver>,
}

/// An answer: its status, final URL, headers and body (at most the policy's cap).
#[derive(Debug)]
pub struct Fetched {
    pub status: reqwest::StatusCode,
    pub url: url::Url,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Fetcher {
    pub fn new(policy: Policy) -> Self {
        Self {
            policy,
            resolver: Arc::new(SystemResolver),
        }
    }

    /// The one address of `url` a request may go to, checked: also how an address users give
    /// is judged before it is stored.
    pub async fn checked_address(&self, url: &url::Url) -> Result<SocketAddr, FetchError> {
        match url.scheme() {
            "https" => {}
            "http" if self.policy.allow_http => {}
            other => {
                return Err(FetchError::Url(format!(
                    "the scheme {other}: is not allowed"
                )))
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::Url(
                "credentials in a URL are not allowed".into(),
            ));
        }
        let host = url
            .host_str()
            .ok_or_else(|| FetchError::Url("no host".into()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::Url("no port".into()))?;
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![SocketAddr::new(ip, port)],
            Err(_) => self
                .resolver
                .resolve(&host, port)
                .await
                .map_err(|_| FetchError::NoAddress(host.clone()))?,
        };
        if addrs.is_empty() {
            return Err(FetchError::NoAddress(host));
        }
        // Every answer must pass: an attacker's name may list a good address and a bad one.
        for addr in &addrs {
            let ip = addr.ip();
            let why = match forbidden(ip) {
                Some("a loopback address") if self.policy.allow_loopback => None,
                Some(_) if self.policy.allow_loopback && ip.to_canonical().is_loopback() => None,
                other => other,
            };
            if let Some(why) = why {
                return Err(FetchError::Forbidden {
                    host,
                    addr: ip,
                    why,
                });
            }
        }
        Ok(addrs[0])
    }

    /// GETs `url`, following at most the policy's redirects, each checked like the first.
    pub async fn get(&self, url: &str) -> Result<Fetched, FetchError> {
        self.get_with(url, reqwest::header::HeaderMap::new()).await
    }

    /// GETs `url` with `headers`, which go only to the first address's origin: a redirect
    /// elsewhere never carries a credential along.
    pub async fn get_with(
        &self,
        url: &str,
        headers: reqwest::header::HeaderMap,
    ) -> Result<Fetched, FetchError> {
        let mut url = url::Url::parse(url).map_err(|e| FetchError::Url(e.to_string()))?;
        let origin = url.origin();
        for _ in 0..=self.policy.max_redirects {
            let addr = self.checked_address(&url).await?;
            let host = url.host_str().unwrap_or_default().to_owned();
            let mut request = self.pinned(&host, addr)?.get(url.clone());
            if url.origin() == origin {
                request = request.headers(headers.clone());
            }
            let response = request.send().await?;
            // 304 Not Modified is a 3xx that is an answer, not a redirect.
            if matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                let next = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| FetchError::Url("a redirect without a Location".into()))?;
                url = url.join(next).map_err(|e| FetchError::Url(e.to_string()))?;
                continue;
            }
            return self.read(url, response).await;
        }
        Err(FetchError::TooManyRedirects(self.policy.max_redirects))
    }

    /// POSTs `body` to `url` once: a redirect is answered as it is, never followed, so a body
    /// meant for one address is never sent to another.
    pub async fn post(
        &self,
        url: &str,
        headers: reqwest::header::HeaderMap,
        body: Vec<u8>,
    ) -> Result<Fetched, FetchError> {
        let url = url::Url::parse(url).map_err(|e| FetchError::Url(e.to_string()))?;
        let addr = self.checked_address(&url).await?;
        let host = url.host_str().unwrap_or_default().to_owned();
        let response = self
            .pinned(&host, addr)?
            .post(url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await?;
        self.read(url, response).await
    }

    /// A client that connects to the address checked, never resolving the name again.
    fn pinned(&self, host: &str, addr: SocketAddr) -> Result<reqwest::Client, FetchError> {
        Ok(reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .resolve(host, addr)
            .connect_timeout(self.policy.connect_timeout)
            .timeout(self.policy.timeout)
            .build()?)
    }

    async fn read(
        &self,
        url: url::Url,
        mut response: reqwest::Response,
    ) -> Result<Fetched, FetchError> {
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > self.policy.max_body_bytes {
                return Err(FetchError::TooLarge(self.policy.max_body_bytes));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            url,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_forbidden_range_is_refused_and_public_addresses_pass() {
        let refused = [
            "0.0.0.0",
            "0.1.2.3",
            "10.1.2.3",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.9",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "fe80::1",
            "fc00::1",
            "fd00:ec2::254",
            "ff02::1",
            "2001:db8::1",
            "2001:0:4136::1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "::127.0.0.1",
            "::ffff:1.1.1.1",
        ];
        for addr in refused {
            assert!(forbidden(addr.parse().unwrap()).is_some(), "{addr} passed");
        }
        let allowed = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "192.169.0.1",
            "2606:4700:4700::1111",
            "2a00:1450:4001:80b::200e",
        ];
        for addr in allowed {
            assert_eq!(forbidden(addr.parse().unwrap()), None, "{addr} refused");
        }
    }
}
