//! The API reference at `/docs`: Swagger UI reading `/openapi.json`, with every byte it needs
//! served by minime itself, so that it works offline and no script of a third party runs.
//!
//! The assets are compiled into the binary (`api/assets/`, refreshed by `scripts/docs-assets`)
//! and answered from that static memory, never copied per request or per worker. Their URLs
//! carry a hash of their bytes, so browsers cache them for a year and still fetch a new build's
//! at once.

use std::sync::LazyLock;

use actix_web::{
    http::header::{self, HeaderValue},
    web, HttpRequest, HttpResponse,
};
use sha2::{Digest, Sha256};

use crate::http::problem::{ApiError, ProblemKind};

/// Same-origin only. `img-src` also allows `data:` because swagger-ui.css draws its icons
/// (arrows, locks, checkboxes) as `data:image/svg+xml` backgrounds; a `data:` URL is decoded in
/// the page and never reaches the network. Swagger UI needs no inline `<script>` or `<style>`
/// and no `eval`: its inline styles are set through the CSSOM, which `style-src` does not govern.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const ASSETS: [Asset; 3] = [
    Asset {
        name: "swagger-ui-bundle.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/swagger-ui/swagger-ui-bundle.js"),
    },
    Asset {
        name: "swagger-ui.css",
        content_type: "text/css; charset=utf-8",
        bytes: include_bytes!("../assets/swagger-ui/swagger-ui.css"),
    },
    Asset {
        name: "docs.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../assets/docs.js"),
    },
];

struct Page {
    /// Names this build's assets in their URLs and ETags.
    version: String,
    html: web::Bytes,
}

// Made on the first visit rather than at start-up: hashing reads every page of the assets, which
// a server whose reference nobody opens never needs to map in.
static PAGE: LazyLock<Page> = LazyLock::new(|| {
    let mut hash = Sha256::new();
    for asset in &ASSETS {
        hash.update(asset.name);
        hash.update((asset.bytes.len() as u64).to_be_bytes());
        hash.update(asset.bytes);
    }
    let version = hex::encode(&hash.finalize()[..8]);
    // Relative URLs, so that the page also works behind a proxy that mounts minime under a prefix.
    let html = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>minime API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="docs/{version}/swagger-ui.css">
</head>
<body>
<noscript>The minime API reference needs JavaScript; the document itself is at <a href="openapi.json">/openapi.json</a>.</noscript>
<div id="swagger-ui"></div>
<script src="docs/{version}/swagger-ui-bundle.js"></script>
<script src="docs/{version}/docs.js"></script>
</body>
</html>
"#
    );
    Page {
        version,
        html: web::Bytes::from(html),
    }
});

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/docs", web::get().to(page))
        .route("/docs/{version}/{name}", web::get().to(asset));
}

fn protect(res: &mut HttpResponse) {
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

async fn page() -> HttpResponse {
    let mut res = HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        // The page names the current assets, so it is checked on every visit (it is small).
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(PAGE.html.clone());
    protect(&mut res);
    res
}

async fn asset(
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (version, name) = path.into_inner();
    let found = ASSETS
        .iter()
        .find(|a| a.name == name)
        .filter(|_| version == PAGE.version);
    let Some(asset) = found else {
        return Err(ApiError::new(
            ProblemKind::NotFound,
            format!("There is no route {}", req.path()),
        ));
    };
    let etag = format!("\"{}\"", PAGE.version);
    // If-None-Match compares weakly: a `W/` prefix still names the same bytes.
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == etag || t == "*")
        });
    let mut builder = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    builder
        .insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::CONTENT_TYPE, asset.content_type));
    let mut res = if fresh {
        builder.finish()
    } else {
        builder.body(web::Bytes::from_static(asset.bytes))
    };
    protect(&mut res);
    Ok(res)
}
