//! The `leerpoort` command. Every subcommand takes `--json` and then prints exactly one JSON
//! document on stdout; errors give a non-zero exit and one line on stderr, and write nothing.

use std::path::PathBuf;
use std::sync::Arc;

use broker::clock::{Clock, SystemClock};
use broker::model::School;
use clap::{Parser, Subcommand};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::config::Config;
use crate::{db, demo};
use broker::admin::Ctx;

mod beheer;
mod cleanup;
mod client;
mod devices;
mod group;
mod import;
mod las;
mod mergers;
mod notice;
mod operator;
mod registration;
mod registry;
mod saml_sp;
mod school;
mod shortcuts;
mod signing_keys;
mod substitute;
mod upstream;
mod user;

pub use beheer::AuditCmd;
pub use client::{ClientAddArgs, ClientCmd};
pub use devices::DeviceCmd;
pub use group::GroupCmd;
pub use las::{LasCmd, SyncCmd};
pub use notice::NoticeCmd;
pub use operator::OperatorCmd;
pub use registration::{DeregisterArgs, RegisterArgs};
pub use saml_sp::{SamlSpCmd, SamlSpOptionArgs};
pub use school::SchoolCmd;
pub use signing_keys::KeysCmd;
pub use substitute::SubstituteCmd;
pub use upstream::UpstreamCmd;
pub use user::{UserAddArgs, UserCmd};

/// Leerpoort: single sign-on for primary schools.
#[derive(Debug, Parser)]
#[command(name = "leerpoort", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: leerpoort.toml when present). LEERPOORT_* variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print exactly one JSON document on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Create or upgrade the database schema (idempotent).
    Migrate,
    /// Seed a demo school board, school, groups, pupils, staff and a publisher; print every credential.
    Demo,
    /// migrate + demo (only on an empty database) + serve.
    DemoServe,
    /// School locations.
    #[command(subcommand)]
    School(SchoolCmd),
    /// Pupils and staff.
    #[command(subcommand)]
    User(UserCmd),
    /// Groups (klassen).
    #[command(subcommand)]
    Group(GroupCmd),
    /// OIDC clients of publishers and network environments.
    #[command(subcommand)]
    Client(ClientCmd),
    /// SAML service providers of publishers.
    #[command(subcommand, name = "saml-sp")]
    SamlSp(SamlSpCmd),
    /// A school allows a relying party (per-school client registration).
    Register(RegisterArgs),
    /// A school withdraws a relying party: no SSO, no data from then on.
    Deregister(DeregisterArgs),
    /// Network environments as upstream identity providers.
    #[command(subcommand)]
    Upstream(UpstreamCmd),
    /// Import school data.
    #[command(subcommand)]
    Import(ImportCmd),
    /// The automatic coupling with schools' pupil administrations (LAS).
    #[command(subcommand)]
    Las(LasCmd),
    /// Fetch a school's data from its LAS now.
    #[command(subcommand)]
    Sync(SyncCmd),
    /// Signing keys (JWS and SAML).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Devices linked to a school (pupils sign in on them outside the school's networks).
    #[command(subcommand)]
    Device(DeviceCmd),
    /// A school's audit trail.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// A group's substitute account (invalkracht).
    #[command(subcommand)]
    Substitute(SubstituteCmd),
    /// The outage notice on every login page.
    #[command(subcommand)]
    Notice(NoticeCmd),
    /// The operator console (`LEERPOORT_OPERATOR_LISTEN`): a one-time sign-in link.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Remove expired rows now (the server does this every hour): links, leases, and audit
    /// lines older than LEERPOORT_AUDIT_RETENTION_DAYS when set.
    Cleanup {
        /// Count what would be removed; remove nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// How many staff passwords this machine checks per second, on one thread, with the
    /// argon2id parameters Leerpoort uses: the ceiling of staff sign-ins per core (sizing).
    PasswordSpeed {
        /// How long to measure (seconds).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Write a school's shortcut files (.url, .webloc, link, QR) for pupils and teachers.
    Shortcuts {
        /// INSTELLING_REF of the school.
        #[arg(long)]
        school: String,
        /// The folder to write them to (created if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A client id or entity id to open straight after sign-in.
        #[arg(long)]
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import groups, pupils and teachers from an EDEXML file (1.0.3, 2.0, 2.1): one
    /// transaction, or nothing.
    Edexml {
        file: PathBuf,
        #[arg(long)]
        school: String,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import groups, pupils and teachers from a spreadsheet the school fills in itself (CSV
    /// or XLSX, told by its content; the template is in Beheer): one transaction, or nothing.
    Spreadsheet {
        file: PathBuf,
        #[arg(long)]
        school: String,
        /// Report what would change; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Files for the next school year waiting for 1 August (one school's, or every school's).
    Staged {
        #[arg(long)]
        school: Option<String>,
    },
    /// Withdraw a school's staged file for the next school year.
    Withdraw {
        #[arg(long)]
        school: String,
    },
    /// Load DUO's registry of school locations ("alle vestigingen", `;`-separated, UTF-8 or
    /// Windows-1252): official names and addresses; schools on its locations take DUO's name.
    Duo { file: PathBuf },
}

/// What a command produced: JSON for `--json`, text otherwise.
#[derive(Debug)]
pub struct Output {
    pub json: Value,
    pub text: String,
}

/// `leerpoort password-speed`: argon2id password checks per second on this thread, through
/// the same code a sign-in uses ([`broker::secrets::check_password`]), for a stored hash made
/// with the same parameters. Needs no database.
fn password_speed(seconds: u64) -> anyhow::Result<Output> {
    let stored = broker::secrets::hash_password("password-speed")?;
    let seconds = seconds.clamp(1, 600);
    let started = std::time::Instant::now();
    let mut checks = 0u64;
    while started.elapsed().as_secs() < seconds {
        if !broker::secrets::check_password(Some(&stored), "password-speed")? {
            anyhow::bail!("the password check failed");
        }
        checks += 1;
    }
    let per_s = checks as f64 / started.elapsed().as_secs_f64();
    Ok(out(
        serde_json::json!({"checks": checks, "seconds": seconds, "checks_per_s": per_s,
            "parameters": broker::secrets::argon2_parameters()}),
        format!(
            "{per_s:.1} password checks per second on one thread ({checks} in {seconds} s; \
             argon2id {})",
            broker::secrets::argon2_parameters()
        ),
    ))
}

fn out(json: Value, text: impl Into<String>) -> Output {
    Output {
        json,
        text: text.into(),
    }
}

fn open_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    AppState::open(config, clock)
}

fn school_json(s: &School) -> Value {
    json!({
        "instelling_ref": s.instelling_ref.to_string(),
        "brin6": s.brin6.to_string(),
        "name": s.name,
        "status": s.status.as_str(),
        "networks": s.networks.iter().map(|n| n.to_string()).collect::<Vec<_>>(),
    })
}

/// Run a command that finishes (everything but `serve` and `demo-serve`).
pub fn run_command(config: Config, json_mode: bool, command: Command) -> anyhow::Result<Output> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let _ = json_mode;
    match command {
        Command::Serve | Command::DemoServe => {
            Err(anyhow::anyhow!("serve runs through run_server"))
        }
        Command::Migrate => {
            let pool = db::connect(&config.database_url, 2)?;
            let ran = db::migrate(&pool)?;
            let text = if ran.is_empty() {
                "The database schema is up to date.".to_string()
            } else {
                format!("Applied {} migration(s): {}", ran.len(), ran.join(", "))
            };
            Ok(out(json!({"applied": ran}), text))
        }
        Command::Demo => {
            let state = open_state(config, clock)?;
            let d = demo::seed(&state)?;
            Ok(out(d.clone(), demo::describe(&d)))
        }
        Command::Import(ImportCmd::Edexml {
            file,
            school,
            dry_run,
        }) => import::edexml(&open_state(config, clock)?, &file, &school, dry_run),
        Command::Import(ImportCmd::Spreadsheet {
            file,
            school,
            dry_run,
        }) => import::spreadsheet(&open_state(config, clock)?, &file, &school, dry_run),
        Command::Import(ImportCmd::Staged { school }) => {
            import::staged(&open_state(config, clock)?, school.as_deref())
        }
        Command::Import(ImportCmd::Withdraw { school }) => {
            import::withdraw(&open_state(config, clock)?, &school)
        }
        Command::Import(ImportCmd::Duo { file }) => import::duo(&open_state(config, clock)?, &file),
        Command::Las(cmd) => las::run(&open_state(config, clock)?, cmd),
        Command::Sync(cmd) => las::sync(&open_state(config, clock)?, cmd),
        Command::Device(cmd) => devices::run(&open_state(config, clock)?, cmd),
        Command::Audit(cmd) => beheer::audit(&open_state(config, clock)?, cmd),
        Command::Substitute(cmd) => substitute::run(&open_state(config, clock)?, cmd),
        Command::School(cmd) => school::run(config, clock, cmd),
        Command::User(cmd) => user::run(config, clock, cmd),
        Command::Group(cmd) => group::run(config, clock, cmd),
        Command::Client(cmd) => client::run(config, clock, cmd),
        Command::SamlSp(cmd) => saml_sp::run(config, clock, cmd),
        Command::Upstream(cmd) => upstream::run(config, clock, cmd),
        Command::Keys(cmd) => signing_keys::run(config, clock, cmd),
        Command::Register(a) => registration::register(config, clock, a),
        Command::Deregister(a) => registration::deregister(config, clock, a),
        Command::Notice(cmd) => notice::run(config, clock, cmd),
        Command::Operator(cmd) => operator::run(config, clock, cmd),
        Command::Cleanup { dry_run } => cleanup::run(config, clock, dry_run),
        Command::PasswordSpeed { seconds } => password_speed(seconds),
        Command::Shortcuts {
            school,
            out: dir,
            target,
        } => shortcuts::run(config, clock, school, dir, target),
    }
}

fn ctx<'a>(state: &'a AppState, actor: &'a str) -> Ctx<'a> {
    Ctx {
        dir: state.dir.as_ref(),
        clock: state.clock.as_ref(),
        actor,
    }
}

/// `serve` and `demo-serve`.
pub async fn run_server(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = actix_web::web::block(move || -> anyhow::Result<AppState> {
        let state = AppState::open(config, clock)?;
        if with_demo {
            if state.dir.schools()?.is_empty() {
                let d = demo::seed(&state)?;
                eprintln!("{}", demo::describe(&d));
            } else {
                tracing::info!("the database already holds schools; demo data not seeded again");
            }
        }
        Ok(state)
    })
    .await??;
    crate::server::run(state).await
}
