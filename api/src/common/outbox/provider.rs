use std::time::Duration;

use anyhow::Context;
use lettre::message::{
    header::ContentType, Attachment as LettreAttachment, Mailbox, Message, MultiPart, SinglePart,
};
use secrecy::ExposeSecret;

use crate::config::MailProvider;

pub struct Outgoing<'a> {
    pub id: uuid::Uuid,
    pub from: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub attachment: Option<Attachment>,
}

/// A file a mail carries (an invoice's PDF).
pub struct Attachment {
    pub file_name: String,
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A failure the provider says will not go away (e.g. a rejected address) is not retried.
pub enum SendError {
    Retry(anyhow::Error),
    Permanent(anyhow::Error),
}

pub struct Provider {
    kind: MailProvider,
    http: reqwest::Client,
}

impl Provider {
    pub fn new(kind: MailProvider) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self { kind, http })
    }

    /// Sends `mail`; answers the id the provider knows it by.
    pub async fn send(&self, mail: &Outgoing<'_>) -> Result<String, SendError> {
        match &self.kind {
            MailProvider::File { dir } => write_eml(dir, mail)
                .await
                .map(|()| format!("<{}@minime>", mail.id))
                .map_err(SendError::Retry),
            MailProvider::Http { base_url, api_key } => {
                let url = base_url
                    .join("emails")
                    .map_err(|e| SendError::Permanent(e.into()))?;
                let response = self
                    .http
                    .post(url)
                    .bearer_auth(api_key.expose_secret())
                    .header("Idempotency-Key", mail.id.to_string())
                    .json(&{
                        let mut body = serde_json::json!({
                            "from": mail.from,
                            "to": [mail.to],
                            "subject": mail.subject,
                            "text": mail.body,
                        });
                        if let Some(a) = &mail.attachment {
                            use base64::Engine;
                            body["attachments"] = serde_json::json!([{
                                "filename": a.file_name,
                                "content_type": a.content_type,
                                "content": base64::engine::general_purpose::STANDARD.encode(&a.content),
                            }]);
                        }
                        body
                    })
                    .send()
                    .await
                    .map_err(|e| SendError::Retry(e.into()))?;
                let status = response.status();
                if status.is_success() {
                    // The provider's id for the message, when it answers one.
                    let answer: serde_json::Value = response.json().await.unwrap_or_default();
                    return Ok(answer["id"]
                        .as_str()
                        .map_or_else(|| mail.id.to_string(), str::to_owned));
                }
                let body: String = response
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(300)
                    .collect();
                let error = anyhow::anyhow!("mail API answered {status}: {body}");
                if status.as_u16() == 429 || status.is_server_error() {
                    Err(SendError::Retry(error))
                } else {
                    Err(SendError::Permanent(error))
                }
            }
        }
    }
}

/// Written to a temporary name and renamed, so readers never see half a message.
async fn write_eml(dir: &std::path::Path, mail: &Outgoing<'_>) -> anyhow::Result<()> {
    let message = Message::builder()
        .from(mail.from.parse::<Mailbox>().context("MINIME_MAIL_FROM")?)
        .to(mail.to.parse::<Mailbox>().context("recipient")?)
        .subject(mail.subject)
        .message_id(Some(format!("<{}@minime>", mail.id)));
    let message = match &mail.attachment {
        None => message
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.to_owned())?,
        Some(a) => message.multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(mail.body.to_owned()))
                .singlepart(
                    LettreAttachment::new(a.file_name.clone())
                        .body(a.content.clone(), ContentType::parse(&a.content_type)?),
                ),
        )?,
    };
    tokio::fs::create_dir_all(dir)
        .await
        .with_context(|| format!("creating {}", dir.display()))?;
    let tmp = dir.join(format!(".{}.tmp", mail.id));
    let path = dir.join(format!("{}.eml", mail.id));
    tokio::fs::write(&tmp, message.formatted()).await?;
    // A successful rename is the delivery: a reader may take the file away at once.
    tokio::fs::rename(&tmp, &path).await?;
    Ok(())
}
