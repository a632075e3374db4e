//! The job `files.remove`: the database queues one per deleted file row (a trigger on
//! `app.files`, in the deleting transaction, whatever deleted it), and this removes the object.
//! Removal is idempotent, so a retried job is harmless.

use serde::Deserialize;

use crate::{
    common::{
        files::FileStore,
        jobs::worker::{JobContext, Registry},
    },
    config::Config,
};

pub const REMOVE: &str = "files.remove";

#[derive(Deserialize)]
struct Payload {
    store_key: String,
}

/// Adds the handler of [`REMOVE`].
pub fn register(registry: Registry, config: &Config) -> anyhow::Result<Registry> {
    let store = FileStore::from_config(&config.files)?;
    Ok(registry.add(REMOVE, move |ctx: JobContext| {
        let store = store.clone();
        async move {
            let payload: Payload = serde_json::from_value(ctx.job.payload.clone())?;
            store.delete(&payload.store_key).await
        }
    }))
}
