//! An S3-compatible bucket (AWS, MinIO, Cloudflare R2, Backblaze B2, ...): each request is
//! signed with AWS Signature Version 4 as a short-lived presigned URL (rusty-s3) and sent by
//! reqwest, so no vendor SDK is compiled in.

use std::time::Duration;

use anyhow::{bail, Context};
use reqwest::StatusCode;
use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};
use secrecy::ExposeSecret;

use crate::config::S3Config;

/// How long a signed request stays valid: long enough to send it, too short to be reused.
const SIGNED_FOR: Duration = Duration::from_secs(60);

pub struct S3 {
    http: reqwest::Client,
    bucket: Bucket,
    credentials: Credentials,
    prefix: String,
}

impl S3 {
    pub fn new(config: &S3Config) -> anyhow::Result<Self> {
        let style = if config.path_style {
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHost
        };
        let bucket = Bucket::new(
            config.endpoint.clone(),
            style,
            config.bucket.clone(),
            config.region.clone(),
        )
        .context("the bucket's URL")?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(5))
            // The endpoint is the operator's, never a user's.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("building the S3 client")?;
        Ok(S3 {
            http,
            bucket,
            credentials: Credentials::new(
                config.access_key_id.clone(),
                config.secret_access_key.expose_secret().to_owned(),
            ),
            prefix: config.prefix.clone(),
        })
    }

    pub fn describe(&self) -> String {
        format!("{} at {}", self.bucket.name(), self.bucket.base_url())
    }

    fn object(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    pub async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let object = self.object(key);
        let url = self
            .bucket
            .put_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let res = self
            .http
            .put(url)
            .body(bytes.to_vec())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("S3 unreachable: {}", e.without_url()))?;
        expect_success("PUT", res.status())
    }

    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let object = self.object(key);
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let res = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("S3 unreachable: {}", e.without_url()))?;
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        expect_success("GET", res.status())?;
        let bytes = res
            .bytes()
            .await
            .map_err(|e| anyhow::anyhow!("S3 body: {}", e.without_url()))?;
        Ok(Some(bytes.to_vec()))
    }

    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let object = self.object(key);
        let url = self
            .bucket
            .delete_object(Some(&self.credentials), &object)
            .sign(SIGNED_FOR);
        let res = self
            .http
            .delete(url)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("S3 unreachable: {}", e.without_url()))?;
        // S3 answers 204 whether or not the object was there; some stores answer 404.
        if res.status() == StatusCode::NOT_FOUND {
            return Ok(());
        }
        expect_success("DELETE", res.status())
    }
}

/// The status alone: an S3 error body names the bucket and request, which belong in no answer.
fn expect_success(method: &str, status: StatusCode) -> anyhow::Result<()> {
    if status.is_success() {
        Ok(())
    } else {
        bail!("S3 {method} answered {status}")
    }
}
