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
    /// Apply pending migrations with DATABASE_URL (a superuser login); creates the roles.
    Migrate,
    /// Operator tasks, with DATABASE_URL.
    Admin {
        #[command(subcommand)]
        command: Admin,
    },
    /// Print the OpenAPI document, or write it to --out.
    Openapi {
        #[arg(long)]
        out: Option<std::path::PathBuf>,
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
