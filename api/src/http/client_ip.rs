//! The client's address: the peer, or — behind proxies the operator declared with
//! `MINIME_TRUSTED_PROXY_HOPS` — the address the outermost trusted proxy saw. Entries left of
//! that one are whatever the client wrote, so they are never used.

use std::net::{IpAddr, Ipv6Addr};

use actix_web::HttpRequest;

use crate::config::{ProxyHeader, TrustedProxies};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    /// The key of per-client counters. An IPv6 client usually holds a whole /64, so counting
    /// single addresses would let it rotate through 2^64 of them.
    pub fn key(&self) -> String {
        match self.0 {
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                let net = Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
            None => "unknown".to_owned(),
        }
    }
}

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ip) => write!(f, "{ip}"),
            None => f.write_str("unknown"),
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One address as proxies write it: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`, or
/// `"[::1]:80"` in a `Forwarded` element.
fn parse_addr(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sock) = raw.parse::<std::net::SocketAddr>() {
        return Some(sock.ip());
    }
    raw.strip_prefix('[')
        .and_then(|r| r.split(']').next())
        .and_then(|r| r.parse().ok())
}

/// The addresses proxies appended, nearest proxy last (several header lines join in order).
fn chain(req: &HttpRequest, header: ProxyHeader) -> Vec<String> {
    let name = match header {
        ProxyHeader::XForwardedFor => "x-forwarded-for",
        ProxyHeader::Forwarded => "forwarded",
    };
    let mut out = Vec::new();
    for value in req.headers().get_all(name) {
        let Ok(value) = value.to_str() else {
            out.push(String::new());
            continue;
        };
        for element in value.split(',') {
            match header {
                ProxyHeader::XForwardedFor => out.push(element.trim().to_owned()),
                ProxyHeader::Forwarded => out.push(
                    element
                        .split(';')
                        .find_map(|pair| {
                            let (k, v) = pair.split_once('=')?;
                            k.trim()
                                .eq_ignore_ascii_case("for")
                                .then(|| v.trim().to_owned())
                        })
                        .unwrap_or_default(),
                ),
            }
        }
    }
    out
}

pub fn client_ip(req: &HttpRequest, proxies: TrustedProxies) -> ClientIp {
    let peer = req.peer_addr().map(|a| a.ip());
    if proxies.hops == 0 {
        return ClientIp(peer.map(canonical));
    }
    let entries = chain(req, proxies.header);
    // The N-th from the right; with fewer entries the request skipped some proxy, and the
    // leftmost is then the one a trusted proxy wrote.
    let picked = match entries.len() {
        0 => None,
        n => entries.get(n.saturating_sub(proxies.hops)),
    };
    ClientIp(
        picked
            .and_then(|raw| parse_addr(raw))
            .or(peer)
            .map(canonical),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(req: TestRequest, hops: usize, header: ProxyHeader) -> String {
        client_ip(&req.to_http_request(), TrustedProxies { hops, header }).to_string()
    }

    fn peer() -> TestRequest {
        TestRequest::default().peer_addr("10.0.0.9:4000".parse().unwrap())
    }

    #[test]
    fn a_client_cannot_choose_its_address_behind_one_proxy() {
        let req = peer().insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.7"));
        assert_eq!(ip(req, 1, ProxyHeader::XForwardedFor), "203.0.113.7");
        let req = peer().insert_header(("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1"));
        assert_eq!(ip(req, 2, ProxyHeader::XForwardedFor), "203.0.113.7");
    }

    #[test]
    fn without_hops_headers_are_ignored() {
        let req = peer()
            .insert_header(("x-forwarded-for", "6.6.6.6"))
            .insert_header(("forwarded", "for=6.6.6.6"));
        assert_eq!(ip(req, 0, ProxyHeader::XForwardedFor), "10.0.0.9");
    }

    #[test]
    fn forwarded_is_read_only_when_configured() {
        let req = peer()
            .insert_header(("forwarded", "for=6.6.6.6, for=\"[2001:db8::1]:443\""))
            .insert_header(("x-forwarded-for", "198.51.100.2"));
        assert_eq!(ip(req, 1, ProxyHeader::Forwarded), "2001:db8::1");
        let req = peer()
            .insert_header(("forwarded", "for=6.6.6.6"))
            .insert_header(("x-forwarded-for", "198.51.100.2"));
        assert_eq!(ip(req, 1, ProxyHeader::XForwardedFor), "198.51.100.2");
    }

    #[test]
    fn garbage_falls_back_to_the_peer() {
        let req = peer().insert_header(("x-forwarded-for", "not-an-ip"));
        assert_eq!(ip(req, 1, ProxyHeader::XForwardedFor), "10.0.0.9");
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = ClientIp(Some("2001:db8:1:2:aaaa::1".parse().unwrap()));
        let b = ClientIp(Some("2001:db8:1:2:ffff::9".parse().unwrap()));
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key(), "2001:db8:1:2::/64");
        let mapped = ClientIp(Some(canonical("::ffff:192.0.2.1".parse().unwrap())));
        assert_eq!(mapped.key(), "192.0.2.1");
    }
}
