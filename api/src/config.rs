//! Configuration from `MINIME_*` environment variables; every variable is listed in README.md.

use std::{collections::HashMap, time::Duration};

use anyhow::{anyhow, bail, Context};
use secrecy::{ExposeSecret, SecretString};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Env {
    Development,
    Production,
}

#[derive(Clone, Debug)]
pub enum MailProvider {
    /// Writes one `.eml` file per message into a folder.
    File { dir: std::path::PathBuf },
    /// A Resend-compatible HTTP mail API: `POST {base_url}/emails` with a bearer key.
    Http {
        base_url: url::Url,
        api_key: SecretString,
    },
}

/// `max` requests per `window` for one key (client IP or email hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

impl Limit {
    fn parse(value: &str) -> anyhow::Result<Self> {
        let (max, secs) = value
            .split_once('/')
            .ok_or_else(|| anyhow!("expected MAX/SECONDS, e.g. 30/300"))?;
        let limit = Limit {
            max: max.trim().parse().context("MAX must be a whole number")?,
            window: Duration::from_secs(
                secs.trim()
                    .parse()
                    .context("SECONDS must be a whole number")?,
            ),
        };
        if limit.max == 0 || limit.window.is_zero() {
            bail!("MAX and SECONDS must both be above zero");
        }
        Ok(limit)
    }
}

/// Per-client-IP limits (and per-address limits for mail), checked in Postgres so they hold
/// across instances. Defaults follow Supabase Auth's published limits or are stricter.
#[derive(Clone, Debug)]
pub struct RateLimits {
    pub signup: Limit,
    pub signin: Limit,
    pub refresh: Limit,
    pub token_check: Limit,
    pub mail_per_ip: Limit,
    pub mail_per_address: Limit,
    /// Writes per user (any credential), across instances.
    pub writes_per_user: Limit,
    /// Workspace invitations a user may create (revoked ones count too).
    pub invites_per_user: Limit,
    /// Second-factor codes and passkey challenges per client IP.
    pub factors: Limit,
}

#[derive(Clone, Debug)]
pub struct Lockout {
    /// Failed sign-ins for one email before the first lockout.
    pub threshold: u32,
    /// First lockout; each further failure doubles it.
    pub base: Duration,
    pub max: Duration,
    /// Failures for one address from all clients together before it locks for everyone: the
    /// lockout itself counts per address and client network, so that nobody can keep somebody
    /// else's address locked from one machine.
    pub address_ceiling: u32,
}

/// Which header a trusted proxy writes the client's address into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyHeader {
    XForwardedFor,
    Forwarded,
}

/// The proxies in front of the server, when there are any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxies {
    /// How many proxies append to the header: the client is the N-th address from the right.
    /// 0: no proxy, the peer address is the client.
    pub hops: usize,
    pub header: ProxyHeader,
}

/// How exports may use the database: each holds one connection for as long as it streams.
#[derive(Clone, Copy, Debug)]
pub struct ExportLimits {
    /// Exports running at once on this instance (each user has at most one).
    pub concurrency: usize,
    /// An export whose client reads nothing for this long is cut off.
    pub idle_timeout: Duration,
}

/// Where uploaded files are kept.
#[derive(Clone, Debug)]
pub enum FileStoreConfig {
    /// A local folder (`MINIME_FILE_DIR`, default `.data/files`).
    Local { dir: std::path::PathBuf },
    /// An S3-compatible bucket (`MINIME_FILE_STORE=s3`).
    S3(S3Config),
}

/// `MINIME_S3_*`: any S3-compatible store, addressed by path (`MINIME_S3_PATH_STYLE`, the
/// default, as MinIO and most self-hosted stores want) or by virtual host.
#[derive(Clone, Debug)]
pub struct S3Config {
    pub endpoint: url::Url,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub path_style: bool,
    /// Prepended to every object's key, to share a bucket (`minime/`, say).
    pub prefix: String,
}

/// Where the AI features run.
#[derive(Clone, Debug)]
pub enum AiProvider {
    /// Built in and offline: nothing leaves the server.
    Local,
    /// Google's Gemini `generateContent` REST API.
    Gemini {
        base_url: url::Url,
        api_key: SecretString,
        model: String,
    },
    /// Anthropic's Messages API (Claude).
    Anthropic {
        base_url: url::Url,
        api_key: SecretString,
        model: String,
    },
}

/// Google's OAuth client and the endpoints Gmail is read from (`MINIME_GOOGLE_*`); without a
/// client id the Gmail integration answers that it is not configured.
#[derive(Clone, Debug)]
pub struct Google {
    pub client_id: String,
    pub client_secret: SecretString,
    pub auth_url: url::Url,
    pub token_url: url::Url,
    pub revoke_url: url::Url,
    /// The Gmail API's base, up to and including `/gmail/v1`.
    pub gmail_api_url: url::Url,
    /// Where Google sends the browser back: this server's `/v1/integrations/gmail/callback`, as
    /// registered with the client at Google.
    pub redirect_url: url::Url,
}

/// The WebAuthn relying party: passkeys are bound to `rp_id` (a domain, never an IP address)
/// and answered only from `origins`.
#[derive(Clone, Debug)]
pub struct Passkeys {
    pub rp_id: String,
    pub rp_name: String,
    pub origins: Vec<url::Url>,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub env: Env,
    pub listen: String,
    /// The server's own login as `minime_app` (the superuser login is for `minime migrate` only).
    pub app_database_url: String,
    pub db_pool_size: usize,
    pub db_statement_timeout: Duration,
    pub workers: usize,
    /// Job workers in `minime serve` (0: none; `minime worker` runs them apart).
    pub job_workers: usize,
    /// How long a claimed job is its worker's; a worker that dies lets the job run elsewhere
    /// after this, and a handler running longer is cut off.
    pub job_lease: Duration,
    /// Runs of automation rules a user gets per hour; runs beyond it are recorded as `limited`.
    pub rule_runs_per_hour: u32,
    pub app_url: url::Url,
    pub mail_from: String,
    pub mail: MailProvider,
    pub ai: AiProvider,
    /// Browser origins allowed to call the API with credentials (CORS); empty: none.
    pub cors_origins: Vec<String>,
    pub ai_timeout: Duration,
    /// Largest audio upload for transcription.
    pub ai_max_audio_bytes: usize,
    pub jwt_secret: SecretString,
    /// Seals secrets at rest (`MINIME_SECRET_KEYS`); required in production.
    pub secret_keys: Option<std::sync::Arc<crate::secrets::KeyRing>>,
    /// Key of the hashes that stand for user ids in the admin API.
    pub admin_id_key: SecretString,
    pub access_token_ttl: Duration,
    pub session_ttl: Duration,
    pub cookie_secure: bool,
    pub proxies: TrustedProxies,
    pub max_body_bytes: usize,
    /// Time a client has to send a request's head (and its body) before the connection is cut.
    pub client_request_timeout: Duration,
    pub password_hash_concurrency: usize,
    pub rate_limits: RateLimits,
    pub lockout: Lockout,
    pub exports: ExportLimits,
    /// Lets production write mail (live tokens in it) to files, for a deliberate setup only.
    pub allow_file_mail: bool,
    /// Web push's VAPID key (`MINIME_VAPID_PRIVATE_KEY`: the raw 32-byte P-256 scalar in
    /// base64url); without one, the server makes one and keeps it sealed in the database.
    pub vapid_private_key: Option<SecretString>,
    /// The contact push services see in VAPID tokens (`sub`): `mailto:` or `https:`.
    pub vapid_subject: String,
    /// Requests to user-supplied addresses may reach loopback, over plain http: for tests
    /// against local fakes only, refused in production.
    pub outbound_allow_loopback: bool,
    pub google: Option<Google>,
    /// Stripe's API (`MINIME_STRIPE_API_URL`, default `https://api.stripe.com`): each business
    /// pastes its own key, so only the address is the operator's.
    pub stripe_api_url: url::Url,
    pub files: FileStoreConfig,
    /// Largest upload to the file store (`MINIME_FILE_MAX_BYTES`, default 10 MiB).
    pub file_max_bytes: usize,
    pub passkeys: Passkeys,
}

const DEV_JWT_SECRET_LEN: usize = 48;
const DEV_ADMIN_ID_KEY: &str = "minime-development-admin-id-key-not-for-production";

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        Self::from_vars(&vars)
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> anyhow::Result<Self> {
        let vars = Vars(vars);
        let env = vars.env()?;
        let app_database_url = vars.app_database_url()?;
        let proxies = vars.proxies()?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mail = vars.mail()?;
        let ai = vars.ai()?;
        let (jwt_secret, admin_id_key) = vars.secrets(env);
        let secret_keys = vars.secret_keys(env)?;
        let app_url: url::Url = vars
            .text("MINIME_APP_URL", "http://127.0.0.1:8080")
            .parse()
            .context("MINIME_APP_URL")?;
        let mail_from = vars.text("MINIME_MAIL_FROM", "minime <no-reply@minime.localhost>");
        let google = vars.google(&app_url)?;
        let passkeys = vars.passkeys(&app_url)?;
        let vapid_subject = vars
            .get("MINIME_VAPID_SUBJECT")
            .unwrap_or_else(|| default_vapid_subject(&app_url, &mail_from));
        let config = Config {
            env,
            listen: vars.text("MINIME_LISTEN", "127.0.0.1:8080"),
            app_database_url,
            db_pool_size: vars.number("MINIME_DB_POOL_SIZE", "8")? as usize,
            db_statement_timeout: vars.millis("MINIME_DB_STATEMENT_TIMEOUT_MS", "5000")?,
            workers: vars.count_or("MINIME_WORKERS", cores)?,
            job_workers: vars.count_or("MINIME_JOB_WORKERS", 2)?,
            job_lease: Duration::from_secs(vars.number("MINIME_JOB_LEASE_SECONDS", "120")?.max(1)),
            rule_runs_per_hour: u32::try_from(vars.number("MINIME_RULE_RUNS_PER_HOUR", "100")?)
                .context("MINIME_RULE_RUNS_PER_HOUR is too large")?,
            app_url,
            mail_from,
            mail,
            ai,
            cors_origins: vars.cors_origins(),
            ai_timeout: vars.millis("MINIME_AI_TIMEOUT_MS", "20000")?,
            ai_max_audio_bytes: vars.number("MINIME_AI_MAX_AUDIO_BYTES", "10485760")? as usize,
            jwt_secret,
            secret_keys,
            admin_id_key,
            access_token_ttl: Duration::from_secs(
                vars.number("MINIME_ACCESS_TOKEN_TTL_SECONDS", "900")?,
            ),
            session_ttl: Duration::from_secs(
                vars.number("MINIME_SESSION_TTL_DAYS", "30")? * 86_400,
            ),
            cookie_secure: match vars.get("MINIME_COOKIE_SECURE").as_deref() {
                None => env == Env::Production,
                Some(v) => parse_bool("MINIME_COOKIE_SECURE", v)?,
            },
            proxies,
            max_body_bytes: vars.number("MINIME_MAX_BODY_BYTES", "65536")? as usize,
            client_request_timeout: vars.millis("MINIME_CLIENT_REQUEST_TIMEOUT_MS", "10000")?,
            password_hash_concurrency: vars.count_or("MINIME_PASSWORD_HASH_CONCURRENCY", cores)?,
            rate_limits: vars.rate_limits()?,
            lockout: vars.lockout()?,
            exports: vars.exports()?,
            allow_file_mail: vars
                .get("MINIME_ALLOW_FILE_MAIL")
                .map_or(Ok(false), |v| parse_bool("MINIME_ALLOW_FILE_MAIL", &v))?,
            vapid_private_key: vars.get("MINIME_VAPID_PRIVATE_KEY").map(SecretString::from),
            vapid_subject,
            outbound_allow_loopback: vars
                .get("MINIME_OUTBOUND_ALLOW_LOOPBACK")
                .map_or(Ok(false), |v| {
                    parse_bool("MINIME_OUTBOUND_ALLOW_LOOPBACK", &v)
                })?,
            google,
            passkeys,
            stripe_api_url: vars
                .text("MINIME_STRIPE_API_URL", "https://api.stripe.com")
                .parse()
                .context("MINIME_STRIPE_API_URL")?,
            files: vars.files()?,
            file_max_bytes: vars.number("MINIME_FILE_MAX_BYTES", "10485760")? as usize,
        };
        config.check()?;
        Ok(config)
    }

    /// Refuses settings that would be unsafe in production, all problems at once.
    fn check(&self) -> anyhow::Result<()> {
        let mut problems = Vec::new();
        if self.db_pool_size == 0 || self.workers == 0 || self.password_hash_concurrency == 0 {
            problems.push("MINIME_DB_POOL_SIZE, MINIME_WORKERS and MINIME_PASSWORD_HASH_CONCURRENCY must be above zero".to_owned());
        }
        // The HTTP server's clock ticks in half seconds: shorter timeouts would hit fast clients.
        if self.client_request_timeout < Duration::from_secs(1) {
            problems.push("MINIME_CLIENT_REQUEST_TIMEOUT_MS must be at least 1000".to_owned());
        }
        if self.exports.concurrency == 0 || self.exports.concurrency >= self.db_pool_size.max(2) {
            problems.push("MINIME_EXPORT_CONCURRENCY must be above zero and below MINIME_DB_POOL_SIZE (exports must leave connections for everyone else)".to_owned());
        }
        if self.lockout.threshold == 0 || self.lockout.address_ceiling < self.lockout.threshold {
            problems.push("MINIME_LOCKOUT_THRESHOLD must be above zero and MINIME_LOCKOUT_ADDRESS_CEILING at least as high".to_owned());
        }
        if self.max_body_bytes < 1024 {
            problems.push("MINIME_MAX_BODY_BYTES must be at least 1024".to_owned());
        }
        if !(self.vapid_subject.starts_with("mailto:") || self.vapid_subject.starts_with("https:"))
        {
            problems.push("MINIME_VAPID_SUBJECT must be a mailto: or https: URL".to_owned());
        }
        if self.env == Env::Production {
            if self.outbound_allow_loopback {
                problems.push(
                    "MINIME_OUTBOUND_ALLOW_LOOPBACK is for tests: it cannot be true in production"
                        .to_owned(),
                );
            }
            if self.secret_keys.is_none() {
                problems.push("MINIME_SECRET_KEYS must be set in production (kid:base64key,…; `minime secrets new-key KID` makes one)".to_owned());
            }
            if self.jwt_secret.expose_secret().len() < 32 {
                problems.push(
                    "MINIME_JWT_SECRET must be set to at least 32 characters in production"
                        .to_owned(),
                );
            }
            if self.admin_id_key.expose_secret().len() < 32 {
                problems.push(
                    "MINIME_ADMIN_ID_KEY must be set to at least 32 characters in production"
                        .to_owned(),
                );
            }
            if matches!(self.mail, MailProvider::File { .. }) && !self.allow_file_mail {
                problems.push("MINIME_MAIL_PROVIDER=file writes live sign-in links to disk: use http in production, or set MINIME_ALLOW_FILE_MAIL=true deliberately".to_owned());
            }
            if !self.cookie_secure {
                problems.push("MINIME_COOKIE_SECURE cannot be false in production".to_owned());
            }
            if self.app_url.scheme() != "https" {
                problems.push("MINIME_APP_URL must be an https:// URL in production".to_owned());
            }
            if self.access_token_ttl > Duration::from_secs(3600) {
                problems.push(
                    "MINIME_ACCESS_TOKEN_TTL_SECONDS must be at most 3600 in production".to_owned(),
                );
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            bail!("refusing to start:\n  - {}", problems.join("\n  - "))
        }
    }
}

/// The environment's `MINIME_*` variables, read section by section.
struct Vars<'a>(&'a HashMap<String, String>);

impl Vars<'_> {
    /// A variable's trimmed value; empty counts as unset.
    fn get(&self, key: &str) -> Option<String> {
        self.0
            .get(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn text(&self, key: &str, default: &str) -> String {
        self.get(key).unwrap_or_else(|| default.to_owned())
    }

    fn number(&self, key: &str, default: &str) -> anyhow::Result<u64> {
        self.text(key, default)
            .parse()
            .with_context(|| format!("{key} must be a whole number"))
    }

    fn millis(&self, key: &str, default: &str) -> anyhow::Result<Duration> {
        Ok(Duration::from_millis(self.number(key, default)?))
    }

    /// A count that defaults to the number of cores.
    fn count_or(&self, key: &str, cores: usize) -> anyhow::Result<usize> {
        self.get(key)
            .map_or(Ok(cores), |v| v.parse().context(key.to_owned()))
    }

    fn limit(&self, key: &str, default: &str) -> anyhow::Result<Limit> {
        Limit::parse(&self.text(key, default)).with_context(|| key.to_owned())
    }

    fn env(&self) -> anyhow::Result<Env> {
        Ok(match self.get("MINIME_ENV").as_deref() {
            None | Some("development") => Env::Development,
            Some("production") => Env::Production,
            Some(other) => bail!("MINIME_ENV must be development or production, not {other:?}"),
        })
    }

    fn app_database_url(&self) -> anyhow::Result<String> {
        match (self.get("MINIME_APP_DATABASE_URL"), self.get("DATABASE_URL")) {
            (Some(url), _) => Ok(url),
            (None, Some(database_url)) => {
                derive_app_url(&database_url, self.get("MINIME_DB_APP_PASSWORD").as_deref())
            }
            (None, None) => bail!(
                "set MINIME_APP_DATABASE_URL (the minime_app login), or DATABASE_URL to derive it from, or use scripts/run"
            ),
        }
    }

    fn proxies(&self) -> anyhow::Result<TrustedProxies> {
        if self.get("MINIME_TRUST_PROXY_HEADERS").is_some() {
            bail!("MINIME_TRUST_PROXY_HEADERS is gone: set MINIME_TRUSTED_PROXY_HOPS to the number of proxies in front of the server");
        }
        Ok(TrustedProxies {
            hops: self.number("MINIME_TRUSTED_PROXY_HOPS", "0")? as usize,
            header: match self.get("MINIME_PROXY_HEADER").as_deref() {
                None | Some("x-forwarded-for") => ProxyHeader::XForwardedFor,
                Some("forwarded") => ProxyHeader::Forwarded,
                Some(other) => {
                    bail!("MINIME_PROXY_HEADER must be x-forwarded-for or forwarded, not {other:?}")
                }
            },
        })
    }

    /// The key ring from `MINIME_SECRET_KEYS`, else from the file `MINIME_SECRET_KEYS_FILE` names
    /// (made with one new key if missing: `scripts/run` keeps it under `.data/`), else in
    /// development a key for this process only.
    fn secret_keys(
        &self,
        env: Env,
    ) -> anyhow::Result<Option<std::sync::Arc<crate::secrets::KeyRing>>> {
        use crate::secrets::KeyRing;
        let spec = match (
            self.get("MINIME_SECRET_KEYS"),
            self.get("MINIME_SECRET_KEYS_FILE"),
        ) {
            (Some(spec), _) => spec,
            (None, Some(path)) => {
                let path = std::path::PathBuf::from(path);
                match std::fs::read_to_string(&path) {
                    Ok(spec) => spec.trim().to_owned(),
                    Err(_) => {
                        let spec = KeyRing::generate("dev");
                        write_private(&path, &spec).with_context(|| {
                            format!("keeping a development key in {}", path.display())
                        })?;
                        tracing::warn!(path = %path.display(), "made a secret key and kept it in the file");
                        spec
                    }
                }
            }
            (None, None) if env == Env::Development => {
                tracing::warn!(
                    "MINIME_SECRET_KEYS is not set: secrets sealed now open only in this process"
                );
                KeyRing::generate("dev")
            }
            (None, None) => return Ok(None),
        };
        let ring = KeyRing::parse(&secrecy::SecretBox::from(spec.into_boxed_str()))?;
        Ok(Some(std::sync::Arc::new(ring)))
    }

    fn mail(&self) -> anyhow::Result<MailProvider> {
        Ok(match self.get("MINIME_MAIL_PROVIDER").as_deref() {
            None | Some("file") => MailProvider::File {
                dir: self.text("MINIME_MAIL_DIR", ".data/mail").into(),
            },
            Some("http") => {
                MailProvider::Http {
                    base_url: self
                        .text("MINIME_MAIL_API_URL", "https://api.resend.com")
                        .parse()
                        .context("MINIME_MAIL_API_URL")?,
                    api_key: SecretString::from(self.get("MINIME_MAIL_API_KEY").context(
                        "MINIME_MAIL_API_KEY is required with MINIME_MAIL_PROVIDER=http",
                    )?),
                }
            }
            Some(other) => bail!("MINIME_MAIL_PROVIDER must be file or http, not {other:?}"),
        })
    }

    fn files(&self) -> anyhow::Result<FileStoreConfig> {
        Ok(match self.get("MINIME_FILE_STORE").as_deref() {
            None | Some("local") => FileStoreConfig::Local {
                dir: self.text("MINIME_FILE_DIR", ".data/files").into(),
            },
            Some("s3") => {
                let required = |key: &str| {
                    self.get(key)
                        .with_context(|| format!("{key} is required with MINIME_FILE_STORE=s3"))
                };
                FileStoreConfig::S3(S3Config {
                    endpoint: required("MINIME_S3_ENDPOINT")?
                        .parse()
                        .context("MINIME_S3_ENDPOINT")?,
                    bucket: required("MINIME_S3_BUCKET")?,
                    region: self.text("MINIME_S3_REGION", "us-east-1"),
                    access_key_id: required("MINIME_S3_ACCESS_KEY_ID")?,
                    secret_access_key: SecretString::from(required("MINIME_S3_SECRET_ACCESS_KEY")?),
                    path_style: self
                        .get("MINIME_S3_PATH_STYLE")
                        .map_or(Ok(true), |v| parse_bool("MINIME_S3_PATH_STYLE", &v))?,
                    prefix: self.text("MINIME_S3_PREFIX", ""),
                })
            }
            Some(other) => bail!("MINIME_FILE_STORE must be local or s3, not {other:?}"),
        })
    }

    fn ai(&self) -> anyhow::Result<AiProvider> {
        Ok(match self.get("MINIME_AI_PROVIDER").as_deref() {
            None | Some("local") => AiProvider::Local,
            Some("gemini") => {
                AiProvider::Gemini {
                    base_url: self
                        .text(
                            "MINIME_GEMINI_URL",
                            "https://generativelanguage.googleapis.com",
                        )
                        .parse()
                        .context("MINIME_GEMINI_URL")?,
                    api_key: SecretString::from(self.get("MINIME_GEMINI_API_KEY").context(
                        "MINIME_GEMINI_API_KEY is required with MINIME_AI_PROVIDER=gemini",
                    )?),
                    model: self.text("MINIME_GEMINI_MODEL", "gemini-2.0-flash"),
                }
            }
            Some("anthropic") => AiProvider::Anthropic {
                base_url: self
                    .text("MINIME_ANTHROPIC_URL", "https://api.anthropic.com")
                    .parse()
                    .context("MINIME_ANTHROPIC_URL")?,
                api_key: SecretString::from(self.get("MINIME_ANTHROPIC_API_KEY").context(
                    "MINIME_ANTHROPIC_API_KEY is required with MINIME_AI_PROVIDER=anthropic",
                )?),
                model: self.text("MINIME_ANTHROPIC_MODEL", "claude-sonnet-4-5"),
            },
            Some(other) => {
                bail!("MINIME_AI_PROVIDER must be local, gemini or anthropic, not {other:?}")
            }
        })
    }

    fn google(&self, app_url: &url::Url) -> anyhow::Result<Option<Google>> {
        let Some(client_id) = self.get("MINIME_GOOGLE_CLIENT_ID") else {
            return Ok(None);
        };
        let url = |key: &str, default: &str| -> anyhow::Result<url::Url> {
            self.text(key, default).parse().context(key.to_owned())
        };
        let callback = app_url
            .join("/v1/integrations/gmail/callback")
            .context("MINIME_APP_URL")?;
        Ok(Some(Google {
            client_id,
            client_secret: SecretString::from(
                self.get("MINIME_GOOGLE_CLIENT_SECRET").context(
                    "MINIME_GOOGLE_CLIENT_SECRET is required with MINIME_GOOGLE_CLIENT_ID",
                )?,
            ),
            auth_url: url(
                "MINIME_GOOGLE_AUTH_URL",
                "https://accounts.google.com/o/oauth2/v2/auth",
            )?,
            token_url: url(
                "MINIME_GOOGLE_TOKEN_URL",
                "https://oauth2.googleapis.com/token",
            )?,
            revoke_url: url(
                "MINIME_GOOGLE_REVOKE_URL",
                "https://oauth2.googleapis.com/revoke",
            )?,
            gmail_api_url: url(
                "MINIME_GMAIL_API_URL",
                "https://gmail.googleapis.com/gmail/v1",
            )?,
            redirect_url: url("MINIME_GOOGLE_REDIRECT_URL", callback.as_str())?,
        }))
    }

    /// The token-signing secret and the admin id key; development makes do without them.
    fn secrets(&self, env: Env) -> (SecretString, SecretString) {
        let jwt_secret = match self.get("MINIME_JWT_SECRET") {
            Some(secret) => SecretString::from(secret),
            None if env == Env::Development => {
                tracing::warn!("MINIME_JWT_SECRET is not set: using a random one, so access tokens end with this process");
                SecretString::from(crate::tokens::random_token(DEV_JWT_SECRET_LEN))
            }
            None => SecretString::from(String::new()),
        };
        let admin_id_key = match self.get("MINIME_ADMIN_ID_KEY") {
            Some(key) => SecretString::from(key),
            // Stable across restarts so that hashes keep naming the same users locally.
            None if env == Env::Development => SecretString::from(DEV_ADMIN_ID_KEY.to_owned()),
            None => SecretString::from(String::new()),
        };
        (jwt_secret, admin_id_key)
    }

    fn cors_origins(&self) -> Vec<String> {
        self.get("MINIME_CORS_ORIGINS")
            .map(|v| {
                v.split(',')
                    .map(|o| o.trim().trim_end_matches('/').to_owned())
                    .filter(|o| !o.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `MINIME_WEBAUTHN_RP_ID` (default: the app's host, or `localhost` for an IP address, which
    /// WebAuthn refuses), `MINIME_WEBAUTHN_RP_NAME` and `MINIME_WEBAUTHN_ORIGINS` (default: the
    /// app's origin, on `localhost` when the app is served from a loopback address).
    fn passkeys(&self, app_url: &url::Url) -> anyhow::Result<Passkeys> {
        let host = app_url.host_str().unwrap_or("localhost");
        let loopback = host.parse::<std::net::IpAddr>().is_ok();
        let rp_id = self.get("MINIME_WEBAUTHN_RP_ID").unwrap_or_else(|| {
            if loopback {
                "localhost".into()
            } else {
                host.into()
            }
        });
        let origins = match self.get("MINIME_WEBAUTHN_ORIGINS") {
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    o.parse()
                        .with_context(|| format!("MINIME_WEBAUTHN_ORIGINS: {o}"))
                })
                .collect::<anyhow::Result<Vec<url::Url>>>()?,
            None => {
                let mut origin = app_url.clone();
                if loopback {
                    origin
                        .set_host(Some("localhost"))
                        .map_err(|e| anyhow!("MINIME_APP_URL: {e}"))?;
                }
                origin.set_path("");
                vec![origin]
            }
        };
        if origins.is_empty() {
            bail!("MINIME_WEBAUTHN_ORIGINS names no origin");
        }
        Ok(Passkeys {
            rp_id,
            rp_name: self.text("MINIME_WEBAUTHN_RP_NAME", "minime"),
            origins,
        })
    }

    fn rate_limits(&self) -> anyhow::Result<RateLimits> {
        Ok(RateLimits {
            signup: self.limit("MINIME_RATE_LIMIT_SIGNUP", "30/300")?,
            signin: self.limit("MINIME_RATE_LIMIT_SIGNIN", "30/300")?,
            refresh: self.limit("MINIME_RATE_LIMIT_REFRESH", "150/300")?,
            token_check: self.limit("MINIME_RATE_LIMIT_TOKEN_CHECK", "30/300")?,
            mail_per_ip: self.limit("MINIME_RATE_LIMIT_MAIL_PER_IP", "10/3600")?,
            mail_per_address: self.limit("MINIME_RATE_LIMIT_MAIL_PER_ADDRESS", "3/3600")?,
            writes_per_user: self.limit("MINIME_RATE_LIMIT_WRITES", "600/60")?,
            invites_per_user: self.limit("MINIME_RATE_LIMIT_INVITES", "20/86400")?,
            factors: self.limit("MINIME_RATE_LIMIT_FACTORS", "15/60")?,
        })
    }

    fn lockout(&self) -> anyhow::Result<Lockout> {
        Ok(Lockout {
            threshold: self.number("MINIME_LOCKOUT_THRESHOLD", "5")? as u32,
            base: Duration::from_secs(self.number("MINIME_LOCKOUT_BASE_SECONDS", "60")?),
            max: Duration::from_secs(self.number("MINIME_LOCKOUT_MAX_SECONDS", "86400")?),
            address_ceiling: self.number("MINIME_LOCKOUT_ADDRESS_CEILING", "50")? as u32,
        })
    }

    fn exports(&self) -> anyhow::Result<ExportLimits> {
        Ok(ExportLimits {
            concurrency: match self.get("MINIME_EXPORT_CONCURRENCY") {
                Some(v) => v.parse().context("MINIME_EXPORT_CONCURRENCY")?,
                None => (self.number("MINIME_DB_POOL_SIZE", "8")? as usize / 4).max(1),
            },
            idle_timeout: self.millis("MINIME_EXPORT_IDLE_TIMEOUT_MS", "30000")?,
        })
    }
}

fn parse_bool(key: &str, value: &str) -> anyhow::Result<bool> {
    match value {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" => Ok(false),
        _ => bail!("{key} must be true or false"),
    }
}

/// Who push services may contact about our notifications: the app's https address, else the
/// address mail comes from.
fn default_vapid_subject(app_url: &url::Url, mail_from: &str) -> String {
    if app_url.scheme() == "https" {
        return app_url.origin().ascii_serialization();
    }
    let address = match (mail_from.rfind('<'), mail_from.rfind('>')) {
        (Some(open), Some(close)) if open < close => &mail_from[open + 1..close],
        _ => mail_from,
    };
    format!("mailto:{}", address.trim())
}

/// The server logs in as `minime_app` on the same host and database as `DATABASE_URL`.
fn derive_app_url(database_url: &str, password: Option<&str>) -> anyhow::Result<String> {
    let mut url = url::Url::parse(database_url).context("DATABASE_URL is not a postgres:// URL")?;
    url.set_username("minime_app")
        .map_err(|()| anyhow!("DATABASE_URL has no host"))?;
    url.set_password(password)
        .map_err(|()| anyhow!("DATABASE_URL has no host"))?;
    Ok(url.into())
}

/// Writes `text` to a new file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn development_defaults_are_usable() {
        let config = Config::from_vars(&vars(&[(
            "DATABASE_URL",
            "postgres://postgres@127.0.0.1:5432/minime",
        )]))
        .unwrap();
        assert_eq!(
            config.app_database_url,
            "postgres://minime_app@127.0.0.1:5432/minime"
        );
        assert_eq!(
            config.rate_limits.signin,
            Limit {
                max: 30,
                window: Duration::from_secs(300)
            }
        );
        assert!(!config.cookie_secure);
        assert_eq!(config.vapid_subject, "mailto:no-reply@minime.localhost");
        assert!(!config.outbound_allow_loopback);
        assert!(config.google.is_none());
    }

    #[test]
    fn google_needs_its_secret_and_defaults_to_google() {
        let db = ("DATABASE_URL", "postgres://postgres@db/minime");
        let id = ("MINIME_GOOGLE_CLIENT_ID", "123.apps.googleusercontent.com");
        let err = Config::from_vars(&vars(&[db, id])).unwrap_err().to_string();
        assert!(err.contains("MINIME_GOOGLE_CLIENT_SECRET"), "{err}");
        let config = Config::from_vars(&vars(&[
            db,
            id,
            ("MINIME_GOOGLE_CLIENT_SECRET", "s3cret"),
            ("MINIME_APP_URL", "https://minime.example"),
        ]))
        .unwrap();
        let google = config.google.unwrap();
        assert_eq!(
            google.token_url.as_str(),
            "https://oauth2.googleapis.com/token"
        );
        assert_eq!(
            google.redirect_url.as_str(),
            "https://minime.example/v1/integrations/gmail/callback"
        );
        assert!(!format!("{google:?}").contains("s3cret"));
    }

    #[test]
    fn production_refuses_weak_settings() {
        let err = Config::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://postgres@db/minime"),
            ("MINIME_ENV", "production"),
            ("MINIME_JWT_SECRET", "short"),
            ("MINIME_OUTBOUND_ALLOW_LOOPBACK", "true"),
            ("MINIME_VAPID_SUBJECT", "ops@minime.example"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(err.contains("MINIME_JWT_SECRET"), "{err}");
        assert!(err.contains("MINIME_OUTBOUND_ALLOW_LOOPBACK"), "{err}");
        assert!(err.contains("MINIME_VAPID_SUBJECT"), "{err}");
        assert!(err.contains("MINIME_APP_URL"), "{err}");
        assert!(err.contains("MINIME_SECRET_KEYS"), "{err}");
    }

    #[test]
    fn secret_keys_come_from_the_variable_or_a_kept_file() {
        let db = ("DATABASE_URL", "postgres://postgres@db/minime");
        let err = Config::from_vars(&vars(&[db, ("MINIME_SECRET_KEYS", "k1:tooshort")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("MINIME_SECRET_KEYS"), "{err}");
        let dir = std::env::temp_dir().join(format!("minime-keys-{}", uuid::Uuid::now_v7()));
        let file = dir.join("secret-keys");
        let file_var = ("MINIME_SECRET_KEYS_FILE", file.to_str().unwrap());
        let first = Config::from_vars(&vars(&[db, file_var])).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = Config::from_vars(&vars(&[db, file_var])).unwrap();
        let place = crate::secrets::Place {
            table: "t",
            column: "c",
            row: "r",
        };
        let sealed = first.secret_keys.unwrap().seal(place, b"kept");
        assert_eq!(
            again.secret_keys.unwrap().open(place, &sealed).unwrap(),
            b"kept"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn production_accepts_strong_settings() {
        Config::from_vars(&vars(&[
            ("DATABASE_URL", "postgres://postgres@db/minime"),
            ("MINIME_ENV", "production"),
            ("MINIME_JWT_SECRET", "0123456789abcdef0123456789abcdef0123"),
            (
                "MINIME_ADMIN_ID_KEY",
                "fedcba9876543210fedcba9876543210fedc",
            ),
            ("MINIME_APP_URL", "https://minime.example"),
            ("MINIME_MAIL_PROVIDER", "http"),
            ("MINIME_MAIL_API_KEY", "re_test"),
            (
                "MINIME_SECRET_KEYS",
                "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
        ]))
        .unwrap();
    }

    #[test]
    fn production_refuses_mail_written_to_files_unless_allowed() {
        let strong = [
            ("DATABASE_URL", "postgres://postgres@db/minime"),
            ("MINIME_ENV", "production"),
            ("MINIME_JWT_SECRET", "0123456789abcdef0123456789abcdef0123"),
            (
                "MINIME_ADMIN_ID_KEY",
                "fedcba9876543210fedcba9876543210fedc",
            ),
            ("MINIME_APP_URL", "https://minime.example"),
            (
                "MINIME_SECRET_KEYS",
                "k2:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
            ),
        ];
        let err = Config::from_vars(&vars(&strong)).unwrap_err().to_string();
        assert!(err.contains("MINIME_MAIL_PROVIDER=file"), "{err}");
        let mut allowed = strong.to_vec();
        allowed.push(("MINIME_ALLOW_FILE_MAIL", "true"));
        Config::from_vars(&vars(&allowed)).unwrap();
    }

    #[test]
    fn serve_needs_only_the_app_login() {
        let config = Config::from_vars(&vars(&[(
            "MINIME_APP_DATABASE_URL",
            "postgres://minime_app:pw@db/minime",
        )]))
        .unwrap();
        assert_eq!(
            config.app_database_url,
            "postgres://minime_app:pw@db/minime"
        );
        assert!(Config::from_vars(&vars(&[])).is_err());
    }

    #[test]
    fn the_old_proxy_switch_is_refused_and_hops_are_read() {
        let base = ("DATABASE_URL", "postgres://postgres@db/minime");
        assert!(Config::from_vars(&vars(&[base, ("MINIME_TRUST_PROXY_HEADERS", "true")])).is_err());
        let config = Config::from_vars(&vars(&[base, ("MINIME_TRUSTED_PROXY_HOPS", "2")])).unwrap();
        assert_eq!(
            config.proxies,
            TrustedProxies {
                hops: 2,
                header: ProxyHeader::XForwardedFor
            }
        );
    }

    #[test]
    fn limits_parse_and_reject_nonsense() {
        assert_eq!(
            Limit::parse("3/2").unwrap(),
            Limit {
                max: 3,
                window: Duration::from_secs(2)
            }
        );
        assert!(Limit::parse("0/2").is_err());
        assert!(Limit::parse("abc").is_err());
    }
}
