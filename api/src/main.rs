use anyhow::Context;
use clap::{Parser, Subcommand};
use minime_api::{config::Config, db, openapi, server, telemetry};
use secrecy::ExposeSecret;

#[derive(Parser)]
#[command(name = "minime", version, about = "The minime API server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (configuration from MINIME_* variables; see README).
    Serve,
    /// Run only the background job workers (MINIME_JOB_WORKERS of them, at least one).
    Worker,
    /// Secrets at rest.
    Secrets {
        #[command(subcommand)]
        command: Secrets,
    },
    /// The job queue, with DATABASE_URL.
    Jobs {
        #[command(subcommand)]
        command: Jobs,
    },
    /// Apply pending migrations with DATABASE_URL (a superuser login); creates the roles.
    Migrate,
    /// Operator tasks, with DATABASE_URL.
    Admin {
        #[command(subcommand)]
        command: Admin,
    },
    /// iCalendar files, read as the calendar integration reads them.
    Ical {
        #[command(subcommand)]
        command: Ical,
    },
    /// Print the OpenAPI document, or write it to --out.
    Openapi {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum Secrets {
    /// Print a new key (`KID:base64`) to put in front of MINIME_SECRET_KEYS.
    NewKey { kid: String },
    /// Seal every secret at rest anew under the first key of MINIME_SECRET_KEYS (resumable).
    Rotate,
}

#[derive(Subcommand)]
enum Jobs {
    /// Jobs not done yet, or with --dead those that ran out of attempts.
    List {
        #[arg(long)]
        dead: bool,
    },
    /// Run a dead job again.
    Retry { id: i64 },
}

#[derive(Subcommand)]
enum Ical {
    /// Print the occurrences of FILE in [--from, --from + --days) in --tz as a JSON array,
    /// sorted by start.
    Expand {
        file: std::path::PathBuf,
        /// First day of the window (YYYY-MM-DD).
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Days in the window.
        #[arg(long, default_value_t = 7)]
        days: u32,
        /// The zone floating times and the window are read in (IANA name).
        #[arg(long, default_value = "UTC")]
        tz: chrono_tz::Tz,
    },
}

#[derive(Subcommand)]
enum Admin {
    /// Set an account's plan (free, pro or max).
    SetPlan { email: String, plan: String },
    /// Print the argon2id hash of a password (for seeding test and benchmark data).
    HashPassword { password: String },
    /// Make an account an administrator (the /v1/admin API: statistics and hashed ids only).
    Grant { email: String },
    /// Take the administrator role away.
    Revoke { email: String },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve => {
            let config = Config::from_env()?;
            telemetry::init(config.env);
            let running = server::start(config).await?;
            running.server.await?;
        }
        Command::Worker => run_worker().await?,
        Command::Jobs { command } => run_jobs(command).await?,
        Command::Secrets {
            command: Secrets::Rotate,
        } => {
            if std::env::var_os("MINIME_SECRET_KEYS").is_none()
                && std::env::var_os("MINIME_SECRET_KEYS_FILE").is_none()
            {
                // A key made for this command alone would lock every secret away.
                anyhow::bail!(
                    "set MINIME_SECRET_KEYS (or MINIME_SECRET_KEYS_FILE), the new key first"
                );
            }
            let config = Config::from_env()?;
            telemetry::init(config.env);
            let resealed = minime_api::admin::cli::rotate_secrets(&config).await?;
            println!("{resealed} secret(s) sealed anew; every secret is now under the first key");
        }
        Command::Secrets {
            command: Secrets::NewKey { kid },
        } => {
            let key = minime_api::secrets::KeyRing::generate(&kid);
            // Checked as the server will read it.
            minime_api::secrets::KeyRing::parse(&secrecy::SecretBox::from(
                key.clone().into_boxed_str(),
            ))?;
            println!("{key}");
        }
        Command::Migrate => {
            // The key the server is configured with (its development default included); read
            // before logging starts, as configuring a server warns about settings migrating
            // does not need.
            let admin_id_key = std::env::var("MINIME_ADMIN_ID_KEY")
                .ok()
                .map(|k| k.trim().to_owned())
                .filter(|k| !k.is_empty())
                .or_else(|| {
                    Config::from_env()
                        .ok()
                        .map(|c| c.admin_id_key.expose_secret().to_owned())
                })
                .filter(|k| !k.is_empty())
                .map(secrecy::SecretString::from);
            telemetry::init(minime_api::config::Env::Development);
            if admin_id_key.is_none() {
                tracing::warn!("MINIME_ADMIN_ID_KEY is not set: the admin id key in the database, if any, stays as it was");
            }
            let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
            let password = std::env::var("MINIME_DB_APP_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty());
            let applied = db::migrate::run(&url, password, admin_id_key).await?;
            println!("{} migration(s) applied", applied.len());
        }
        Command::Admin {
            command: Admin::SetPlan { email, plan },
        } => {
            let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
            minime_api::admin::cli::set_plan(&url, &email, &plan).await?;
            println!("{email} is on the {plan} plan");
        }
        Command::Admin {
            command: Admin::Grant { email },
        } => {
            let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
            minime_api::admin::cli::grant(&url, &email, true).await?;
            println!("{email} is an administrator");
        }
        Command::Admin {
            command: Admin::Revoke { email },
        } => {
            let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
            minime_api::admin::cli::grant(&url, &email, false).await?;
            println!("{email} is no longer an administrator");
        }
        Command::Admin {
            command: Admin::HashPassword { password },
        } => {
            let hasher = minime_api::common::password::Hasher::new(1);
            println!(
                "{}",
                hasher
                    .hash(secrecy::SecretString::from(password))
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
            );
        }
        Command::Ical {
            command:
                Ical::Expand {
                    file,
                    from,
                    days,
                    tz,
                },
        } => {
            let ics = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {}", file.display()))?;
            let occurrences = minime_api::calendar::expand::expand(&ics, from, days, tz)?;
            println!("{}", serde_json::to_string_pretty(&occurrences)?);
        }
        Command::Openapi { out } => {
            let json = openapi::document().to_pretty_json()? + "\n";
            match out {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{json}"),
            }
        }
    }
    Ok(())
}

async fn run_worker() -> anyhow::Result<()> {
    let config = Config::from_env()?;
    telemetry::init(config.env);
    let db = db::pool::Db::connect(
        &config.app_database_url,
        config.job_workers.max(1) + 1,
        config.db_statement_timeout,
    )?;
    server::start_jobs(
        &config,
        db,
        minime_api::clock::Clock::system(),
        config.job_workers.max(1),
        Default::default(),
    )
    .await?;
    tracing::info!("minime worker running");
    tokio::signal::ctrl_c().await?;
    Ok(())
}

async fn run_jobs(command: Jobs) -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is not set")?;
    match command {
        Jobs::List { dead } => {
            for line in minime_api::admin::cli::list_jobs(&url, dead).await? {
                println!("{line}");
            }
        }
        Jobs::Retry { id } => {
            minime_api::admin::cli::retry_job(&url, id).await?;
            println!("job {id} will run again");
        }
    }
    Ok(())
}
