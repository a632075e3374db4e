//! Where uploaded files live: a local folder (the default, `MINIME_FILE_DIR`) or an
//! S3-compatible bucket (`MINIME_FILE_STORE=s3`). Objects are named by a random key the server
//! makes ([`new_key`]), checked again before every use ([`check_key`]), so nothing a user sends
//! ever becomes part of a path or an object name. The store holds bytes only; who may read them
//! is decided by the database row that names them.

mod local;
mod s3;

use std::sync::Arc;

use anyhow::{bail, Context};

use crate::config::FileStoreConfig;

/// A file store, cheap to clone.
#[derive(Clone)]
pub struct FileStore(Arc<Inner>);

enum Inner {
    Local(local::Local),
    S3(Box<s3::S3>),
}

/// A fresh object key: 128 random bits as 32 hex digits.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Refuses anything but a key [`new_key`] could have made: no separator, dot or other byte
/// that could point outside the store.
pub fn check_key(key: &str) -> anyhow::Result<&str> {
    if key.len() == 32
        && key
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(key)
    } else {
        bail!("not a file store key")
    }
}

impl FileStore {
    pub fn from_config(config: &FileStoreConfig) -> anyhow::Result<Self> {
        Ok(FileStore(Arc::new(match config {
            FileStoreConfig::Local { dir } => Inner::Local(local::Local::new(dir.clone())),
            FileStoreConfig::S3(s3) => Inner::S3(Box::new(s3::S3::new(s3).context("MINIME_S3_*")?)),
        })))
    }

    /// Where files go, as a disclosure or the admin says it.
    pub fn describe(&self) -> String {
        match &*self.0 {
            Inner::Local(l) => format!("the folder {}", l.dir().display()),
            Inner::S3(s) => format!("the S3 bucket {}", s.describe()),
        }
    }

    /// Stores `bytes` under `key`; a key already there is replaced.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let key = check_key(key)?;
        match &*self.0 {
            Inner::Local(l) => l.put(key, bytes).await,
            Inner::S3(s) => s.put(key, bytes).await,
        }
    }

    /// The bytes under `key`, or `None` when there are none.
    pub async fn get(&self, key: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let key = check_key(key)?;
        match &*self.0 {
            Inner::Local(l) => l.get(key).await,
            Inner::S3(s) => s.get(key).await,
        }
    }

    /// Forgets `key`; a key that is not there is no error (removal is retried by a job).
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let key = check_key(key)?;
        match &*self.0 {
            Inner::Local(l) => l.delete(key).await,
            Inner::S3(s) => s.delete(key).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_generated_keys_pass() {
        assert!(check_key(&new_key()).is_ok());
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789abcdef0123456789abcde/",
            "0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdef0",
            "..",
            "/tmp/x",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }
}
