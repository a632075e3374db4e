//! Requests to user-supplied addresses: the address we checked is the one we connect to, a
//! redirect is checked like the first request, and bodies are capped.

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
};

use actix_web::{web, App, HttpResponse, HttpServer};
use minime_api::outbound::{FetchError, Fetcher, Policy, Resolver};

/// A loopback server: `/feed` answers a calendar, `/big` 2 KiB, `/metadata` redirects to the
/// cloud metadata address, `/hop` redirects to `/feed`.
async fn start_fake() -> SocketAddr {
    let server = HttpServer::new(|| {
        App::new()
            .route(
                "/feed",
                web::get().to(|| async { HttpResponse::Ok().body("BEGIN:VCALENDAR") }),
            )
            .route(
                "/big",
                web::get().to(|| async { HttpResponse::Ok().body(vec![b'x'; 2048]) }),
            )
            .route(
                "/metadata",
                web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("Location", "http://169.254.169.254/latest/meta-data/"))
                        .finish()
                }),
            )
            .route(
                "/hop",
                web::get().to(|| async {
                    HttpResponse::Found()
                        .insert_header(("Location", "/feed"))
                        .finish()
                }),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let addr = server.addrs()[0];
    tokio::spawn(server.run());
    addr
}

fn local(max_body_bytes: usize) -> Policy {
    Policy {
        allow_http: true,
        allow_loopback: true,
        max_body_bytes,
        ..Policy::default()
    }
}

/// Answers the fake's address the first time a name is looked up, and a private one after.
struct Rebinding {
    first: SocketAddr,
    lookups: AtomicUsize,
}

impl Resolver for Rebinding {
    fn resolve<'a>(
        &'a self,
        _host: &'a str,
        port: u16,
    ) -> futures_util::future::BoxFuture<'a, std::io::Result<Vec<SocketAddr>>> {
        let n = self.lookups.fetch_add(1, Ordering::SeqCst);
        let first = self.first;
        Box::pin(async move {
            Ok(vec![if n == 0 {
                first
            } else {
                SocketAddr::from(([10, 0, 0, 7], port))
            }])
        })
    }
}

#[tokio::test]
async fn the_checked_address_is_the_one_connected_to() {
    let fake = start_fake().await;
    let resolver = Arc::new(Rebinding {
        first: fake,
        lookups: AtomicUsize::new(0),
    });
    let fetcher = Fetcher {
        policy: local(1024),
        resolver: resolver.clone(),
    };
    // feed.invalid resolves only through our resolver: the request reaching the fake proves
    // the connection went to the address we checked, looked up once.
    let url = format!("http://feed.invalid:{}/feed", fake.port());
    let got = fetcher.get(&url).await.unwrap();
    assert_eq!(got.body, b"BEGIN:VCALENDAR");
    assert_eq!(resolver.lookups.load(Ordering::SeqCst), 1);
    // The name now answers a private address: refused before any connection.
    match fetcher.get(&url).await {
        Err(FetchError::Forbidden { why, .. }) => assert_eq!(why, "a private address"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn redirects_are_checked_like_the_first_request() {
    let fake = start_fake().await;
    let fetcher = Fetcher::new(local(1024));
    let base = format!("http://127.0.0.1:{}", fake.port());
    match fetcher.get(&format!("{base}/metadata")).await {
        Err(FetchError::Forbidden { addr, .. }) => assert_eq!(addr.to_string(), "169.254.169.254"),
        other => panic!("{other:?}"),
    }
    let hopped = fetcher.get(&format!("{base}/hop")).await.unwrap();
    assert_eq!(hopped.url.path(), "/feed");
    let capped = Fetcher::new(Policy {
        max_redirects: 0,
        ..local(1024)
    });
    assert!(matches!(
        capped.get(&format!("{base}/hop")).await,
        Err(FetchError::TooManyRedirects(0))
    ));
}

#[tokio::test]
async fn bodies_are_capped_and_only_https_goes_by_default() {
    let fake = start_fake().await;
    let base = format!("http://127.0.0.1:{}", fake.port());
    assert!(matches!(
        Fetcher::new(local(1024)).get(&format!("{base}/big")).await,
        Err(FetchError::TooLarge(1024))
    ));
    // The defaults: no plain http, and no loopback even over https.
    assert!(matches!(
        Fetcher::new(Policy::default())
            .get(&format!("{base}/feed"))
            .await,
        Err(FetchError::Url(_))
    ));
    assert!(matches!(
        Fetcher::new(Policy::default())
            .get(&format!("https://127.0.0.1:{}/feed", fake.port()))
            .await,
        Err(FetchError::Forbidden { .. })
    ));
    assert!(matches!(
        Fetcher::new(Policy::default())
            .get("https://user:pw@example.com/")
            .await,
        Err(FetchError::Url(_))
    ));
}
