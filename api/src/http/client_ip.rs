use actix_web::HttpRequest;

/// The peer address, or the proxy-reported one when MINIME_TRUST_PROXY_HEADERS is set
/// (never trusted by default: a client could claim any address to dodge rate limits).
pub fn client_ip(req: &HttpRequest, trust_proxy_headers: bool) -> String {
    let info = req.connection_info();
    let ip = if trust_proxy_headers {
        info.realip_remote_addr()
    } else {
        info.peer_addr()
    };
    let ip = ip.unwrap_or("unknown");
    // realip may carry a port; peer_addr never does.
    match ip.parse::<std::net::SocketAddr>() {
        Ok(addr) => addr.ip().to_string(),
        Err(_) => ip.to_owned(),
    }
}
