//! The `leerpoort` command. Every subcommand takes `--json` and then prints exactly one JSON
//! document on stdout; errors give a non-zero exit and one line on stderr, and write nothing.

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::{Clock, SystemClock};
use broker::model::School;
use claims::Release;
use clap::{Args, Parser, Subcommand};
use serde_json::{json, Value};

use crate::admin::{self, Ctx};
use crate::app::AppState;
use crate::config::Config;
use crate::{db, demo, keys};

mod devices;

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
    /// Signing keys (JWS and SAML).
    #[command(subcommand)]
    Keys(KeysCmd),
    /// Devices linked to a school (pupils sign in on them outside the school's networks).
    #[command(subcommand)]
    Device(devices::DeviceCmd),
    /// The outage notice on every login page.
    #[command(subcommand)]
    Notice(NoticeCmd),
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
pub enum NoticeCmd {
    /// Show a message on every login page until it is cleared.
    Set { text: String },
    /// Remove the message.
    Clear,
    /// Print the current message.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum SchoolCmd {
    /// Add a school location; prints its new INSTELLING_REF.
    Add {
        /// BRIN (two digits, two capitals), e.g. 12AB.
        #[arg(long)]
        brin: String,
        /// Location code (vestigingsnummer), two digits, e.g. 00.
        #[arg(long)]
        vestiging: String,
        /// The school's name as DUO knows it.
        #[arg(long)]
        name: String,
        /// A school network (CIDR) pupils may sign in from. Repeatable.
        #[arg(long = "network", value_name = "CIDR")]
        networks: Vec<String>,
    },
    /// List school locations.
    List,
    /// Record a new BRIN or location code from DUO; pseudonyms do not change.
    ChangeBrin {
        #[arg(long)]
        school: String,
        #[arg(long)]
        brin: String,
        #[arg(long)]
        vestiging: String,
    },
    /// Change a school's settings.
    Set {
        #[arg(long)]
        school: String,
        /// Require a second factor (an authenticator app's code) of the school's ICT
        /// coordinators: `true` or `false`.
        /// `--require-totp` alone means `true`.
        #[arg(
            long,
            required = true,
            action = clap::ArgAction::Set,
            num_args = 0..=1,
            default_missing_value = "true",
            value_name = "true|false"
        )]
        require_totp: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCmd {
    /// Add a pupil or staff member.
    Add(Box<UserAddArgs>),
    /// List the users of a school.
    List {
        #[arg(long)]
        school: String,
    },
    /// Lift a pupil's lock after too many wrong PINs.
    Unlock {
        #[arg(long)]
        user: String,
    },
    /// Mail a staff member a link to set a password (an activation link while inactive).
    SendActivation {
        #[arg(long)]
        user: String,
    },
    /// Offboard a user: no sign-in; their sessions, codes and refresh tokens end at once.
    Disable {
        #[arg(long)]
        user: String,
    },
    /// Let a disabled user sign in again (what was issued before stays void).
    Enable {
        #[arg(long)]
        user: String,
    },
    /// Remove a user: offboarded, personal data deleted, the id kept as a tombstone.
    Remove {
        #[arg(long)]
        user: String,
    },
    /// Remove a staff member's second factor (a lost phone); they set it up again at their
    /// next sign-in when it is required.
    ResetTotp {
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// INSTELLING_REF of the school.
    #[arg(long)]
    school: String,
    /// leerling, leerkracht, ict-coordinator, ib, rt or stagiaire.
    #[arg(long)]
    role: String,
    #[arg(long)]
    given_name: String,
    #[arg(long)]
    family_name: String,
    /// Staff e-mail address (their user name).
    #[arg(long)]
    email: Option<String>,
    /// Group key. Repeatable.
    #[arg(long = "group", value_name = "KEY")]
    groups: Vec<String>,
    /// ECK-iD (https://ketenid.nl/...).
    #[arg(long)]
    eck_id: Option<String>,
    /// Key in the pupil administration (LAS).
    #[arg(long)]
    las_key: Option<String>,
    /// A pupil's 4-digit PIN (generated and printed when omitted, unless the pupil has a
    /// picture password).
    #[arg(long)]
    pin: Option<String>,
    /// A young pupil's picture password instead of a PIN: 2–4 of the grid pictures in order,
    /// e.g. `vos,appel,zon` (grid: vos kat hond uil vis kikker appel banaan zon ster auto bal).
    #[arg(long, value_name = "PICTURES")]
    picture_password: Option<String>,
    /// The pupil's own picture on their name tile, e.g. `egel` (see docs/assets.md).
    #[arg(long, value_name = "NAME")]
    picture: Option<String>,
    /// Read a staff password from standard input.
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
pub enum GroupCmd {
    /// Add a group.
    Add {
        #[arg(long)]
        school: String,
        /// The group's key (from the LAS), unique in the school.
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
        /// Year group 1–8.
        #[arg(long)]
        jaargroep: Option<String>,
        /// A combination group (combinatiegroep).
        #[arg(long)]
        composite: bool,
    },
    /// List the groups of a school.
    List {
        #[arg(long)]
        school: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Add an OIDC client; prints client_id and (once) client_secret.
    Add(Box<ClientAddArgs>),
    /// List relying parties.
    List,
}

#[derive(Debug, Args)]
pub struct ClientAddArgs {
    #[arg(long)]
    name: String,
    /// publisher or network.
    #[arg(long, default_value = "publisher")]
    kind: String,
    /// Exact redirect URI. Repeatable.
    #[arg(long = "redirect-uri", value_name = "URI", required = true)]
    redirect_uris: Vec<String>,
    /// Where RP-initiated logout may return to. Repeatable.
    #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
    post_logout_redirect_uris: Vec<String>,
    /// Third-party-initiated login URI (used by school shortcuts).
    #[arg(long)]
    initiate_login_uri: Option<String>,
    /// Back-channel logout URI.
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// The client's JWKS URI (for private_key_jwt).
    #[arg(long)]
    jwks_uri: Option<String>,
    /// A file with the client's public JWKS (for private_key_jwt).
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// A public client (no secret; PKCE required).
    #[arg(long)]
    public: bool,
    /// The publisher allows this software at home.
    #[arg(long)]
    home_allowed: bool,
    /// Allow long-lived refresh tokens (scope `offline_access`) that outlive the session.
    #[arg(long)]
    offline_access: bool,
    /// leerling, leerkracht or beide.
    #[arg(long, default_value = "beide")]
    audience: String,
    /// RS256, ES256 or EdDSA.
    #[arg(long, default_value = "RS256")]
    id_token_alg: String,
    /// Pairwise sector (default: the redirect URIs' host).
    #[arg(long)]
    sector: Option<String>,
    /// A chosen client id (default: a new UUID).
    #[arg(long)]
    client_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SamlSpCmd {
    /// Add a SAML SP from its metadata.
    Add {
        /// A file, or an https URL to fetch it from.
        #[arg(long, value_name = "FILE|URL")]
        metadata: String,
        /// A name for people (default: the entity ID).
        #[arg(long)]
        name: Option<String>,
        /// publisher or network.
        #[arg(long, default_value = "publisher")]
        kind: String,
        /// The publisher allows this software at home.
        #[arg(long)]
        home_allowed: bool,
        /// leerling, leerkracht or beide.
        #[arg(long, default_value = "beide")]
        audience: String,
        /// Pairwise sector (default: the host of the first AssertionConsumerService).
        #[arg(long)]
        sector: Option<String>,
        #[command(flatten)]
        options: SamlSpOptionArgs,
    },
    /// Re-read a SAML SP's metadata (new certificates, endpoints), keeping every school's
    /// registration; without --metadata from the URL it was last read from.
    Update {
        /// The SP's entity ID; the metadata must name the same one.
        #[arg(long)]
        entity_id: String,
        /// A file, or an https URL to fetch it from.
        #[arg(long, value_name = "FILE|URL")]
        metadata: Option<String>,
        #[command(flatten)]
        options: SamlSpOptionArgs,
        /// Stop the periodic refresh.
        #[arg(long, conflicts_with = "refresh_hours")]
        no_refresh: bool,
        /// The metadata need no longer be signed.
        #[arg(long, conflicts_with = "metadata_signing_cert")]
        no_metadata_signing_cert: bool,
        /// Allow no RelayState in unsolicited responses any more.
        #[arg(long, conflicts_with = "relay_states")]
        no_relay_states: bool,
    },
    /// List SAML SPs.
    List,
    /// Remove a SAML SP and every school's registration of it.
    Remove {
        entity_id: String,
        /// Remove it even though schools have registered it (their registrations go too).
        #[arg(long)]
        force: bool,
    },
}

/// Options of a SAML SP, for `saml-sp add` and `saml-sp update`.
#[derive(Debug, Args)]
pub struct SamlSpOptionArgs {
    /// Refresh the metadata from its URL (--metadata URL) every N hours, in the running
    /// server; a failed refresh keeps the old metadata.
    #[arg(long, value_name = "N")]
    refresh_hours: Option<u32>,
    /// The certificate (PEM file) the metadata must be signed with; unsigned metadata is
    /// then refused.
    #[arg(long, value_name = "FILE")]
    metadata_signing_cert: Option<PathBuf>,
    /// A URL an unsolicited response (a school shortcut) may carry as RelayState; repeat for
    /// more (update: replaces the list). Without any, no RelayState is allowed.
    #[arg(long = "relay-state", value_name = "URL")]
    relay_states: Vec<String>,
}

impl SamlSpOptionArgs {
    fn signing_cert(&self) -> anyhow::Result<Option<String>> {
        self.metadata_signing_cert
            .as_ref()
            .map(|p| {
                std::fs::read_to_string(p)
                    .with_context(|| format!("--metadata-signing-cert {}", p.display()))
            })
            .transpose()
    }
}

fn is_url(src: &str) -> bool {
    src.starts_with("https://") || src.starts_with("http://")
}

fn saml_sp_json(rp: &broker::model::RelyingParty, o: &broker::model::SamlSpOptions) -> Value {
    json!({"entity_id": rp.public_id(), "name": rp.name, "kind": rp.kind.as_str(),
        "home_allowed": rp.home_allowed, "audience": rp.audience.to_string(), "sector": rp.sector,
        "enabled": rp.enabled, "relay_states": o.relay_states, "metadata_url": o.metadata_url,
        "refresh_hours": o.refresh_hours, "metadata_signed": o.metadata_signing_cert.is_some(),
        "refreshed_at": o.refreshed_at, "refresh_error": o.refresh_error})
}

#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// INSTELLING_REF of the school.
    #[arg(long)]
    school: String,
    /// Client id or SAML entity id.
    #[arg(long)]
    rp: String,
    /// Release given name, family name and name.
    #[arg(long)]
    release_names: bool,
    /// Do not release the ECK-iD.
    #[arg(long)]
    no_eckid: bool,
    /// Do not release groups.
    #[arg(long)]
    no_groups: bool,
    /// Do not allow this software at home, even if the publisher does.
    #[arg(long)]
    no_home: bool,
}

#[derive(Debug, Args)]
pub struct DeregisterArgs {
    #[arg(long)]
    school: String,
    #[arg(long)]
    rp: String,
}

#[derive(Debug, Subcommand)]
// Parsed once per run; boxing the big variant would only obscure clap's derive.
#[allow(clippy::large_enum_variant)]
pub enum UpstreamCmd {
    /// Add a network environment as upstream identity provider.
    Add {
        /// Unique name: `NETWERK=` in shortcuts and `idp_hint` name it.
        #[arg(long)]
        name: String,
        /// A school it serves (its INSTELLING_REF). Repeatable; at least one.
        #[arg(long = "school", value_name = "REF")]
        schools: Vec<String>,
        /// OIDC: the upstream's issuer (discovery is read from it).
        #[arg(long)]
        oidc_issuer: Option<String>,
        /// OIDC: Leerpoort's client id at the upstream.
        #[arg(long)]
        client_id: Option<String>,
        /// OIDC: Leerpoort's client secret at the upstream (kept sealed).
        #[arg(long)]
        client_secret: Option<String>,
        /// OIDC: how Leerpoort authenticates at the upstream's token endpoint:
        /// client_secret_basic (default) or private_key_jwt (with Leerpoort's own keys,
        /// published at /oidc/jwks).
        #[arg(long, value_name = "METHOD")]
        client_auth: Option<String>,
        /// OIDC: a scope to ask for besides `openid`. Repeatable.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
        /// SAML: the upstream IdP's metadata file.
        #[arg(long, value_name = "FILE")]
        saml_metadata: Option<PathBuf>,
        /// How its users are found: las-key, eck-id or email.
        #[arg(long = "match")]
        match_rule: String,
        /// The upstream claim or attribute that carries the value matched on.
        #[arg(long)]
        claim: String,
        /// Create unknown users it signs in (marked as coming from it).
        #[arg(long)]
        provision: bool,
        /// With --provision: the roles it may create, comma-separated: leerling and/or
        /// leerkracht (default: leerling). Any other role it asserts is refused.
        #[arg(long, value_name = "ROLES", value_delimiter = ',')]
        provision_roles: Vec<String>,
        /// SAML: accept unsolicited (IdP-initiated) responses from it.
        #[arg(long)]
        allow_unsolicited: bool,
    },
    /// List upstreams.
    List,
    /// Remove an upstream.
    Remove { name: String },
}

#[derive(Debug, Subcommand)]
pub enum ImportCmd {
    /// Import groups, pupils and teachers from an EDEXML file.
    Edexml {
        file: PathBuf,
        #[arg(long)]
        school: String,
    },
    /// Load DUO's school-location registry (CSV).
    Duo { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Show the signing keys with their state.
    List,
    /// Add new active keys; previous keys stay published until they expire.
    Rotate,
}

/// What a command produced: JSON for `--json`, text otherwise.
#[derive(Debug)]
pub struct Output {
    pub json: Value,
    pub text: String,
}

/// An upstream as `upstream add|list` print it (never its secret).
fn upstream_json(u: &broker::model::Upstream) -> Value {
    let mut j = json!({
        "id": u.id.to_string(),
        "name": u.name,
        "match": u.match_rule.as_str(),
        "claim": u.match_claim,
        "provision": u.provision,
        "provision_roles": u.provision_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "enabled": u.enabled,
        "schools": u.schools.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
    });
    match &u.protocol {
        broker::model::UpstreamProtocol::Oidc {
            issuer,
            client_id,
            client_auth,
            ..
        } => {
            j["protocol"] = json!("oidc");
            j["issuer"] = json!(issuer);
            j["client_id"] = json!(client_id);
            j["client_auth"] = json!(client_auth);
            // What Leerpoort asks the upstream for, `openid` and the derived scopes included.
            j["scopes"] = json!(crate::upstream_oidc::scopes_of(u));
        }
        broker::model::UpstreamProtocol::Saml { entity_id, .. } => {
            j["protocol"] = json!("saml");
            j["entity_id"] = json!(entity_id);
        }
    }
    j
}

/// Why `user unlock` cannot lift a lock without Redis.
const UNLOCK_UNREACHABLE: &str = "without LEERPOORT_REDIS_URL the lock is held in the running \
    server's memory, which this command cannot reach; it ends by itself an hour after the last \
    wrong attempt, or when the server restarts. Configure Redis to unlock from the command line.";

fn out(json: Value, text: impl Into<String>) -> Output {
    Output {
        json,
        text: text.into(),
    }
}

/// An SP's metadata from a file, or fetched from an https URL (http only on localhost),
/// at most `saml::METADATA_MAX` bytes.
fn read_metadata(src: &str) -> anyhow::Result<String> {
    let max = crate::saml::METADATA_MAX;
    if src.starts_with("https://") || src.starts_with("http://") {
        crate::saml::sp_refresh::fetch(src).map_err(|e| anyhow::anyhow!("--metadata {e}"))
    } else {
        let len = std::fs::metadata(src)
            .with_context(|| format!("reading {src}"))?
            .len();
        if len > max as u64 {
            anyhow::bail!("{src}: the metadata is larger than {max} bytes");
        }
        std::fs::read_to_string(src).with_context(|| format!("reading {src}"))
    }
}

/// Not available in this version: a clear refusal, nothing written.
fn not_available(what: &str) -> anyhow::Error {
    anyhow::anyhow!("'{what}' is not available in this version of Leerpoort")
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
        Command::School(SchoolCmd::Add {
            brin,
            vestiging,
            name,
            networks,
        }) => {
            let state = open_state(config, clock)?;
            let ctx = ctx(&state, "cli");
            let s = admin::add_school(
                ctx,
                admin::SchoolInput {
                    brin,
                    vestiging,
                    name,
                    networks,
                    board: None,
                    instelling_ref: None,
                },
            )?;
            Ok(out(
                school_json(&s),
                format!(
                    "Added {} ({}), INSTELLING_REF {}",
                    s.name, s.brin6, s.instelling_ref
                ),
            ))
        }
        Command::School(SchoolCmd::Set {
            school,
            require_totp,
        }) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let s = state
                .dir
                .school(&r)?
                .ok_or_else(|| anyhow::anyhow!("no school {r}"))?;
            crate::totp::set_school_requirement(
                &state,
                &r,
                require_totp,
                "cli",
                state.clock.now_secs(),
            )?;
            Ok(out(
                json!({"instelling_ref": r.to_string(), "require_totp": require_totp}),
                if require_totp {
                    format!(
                        "{}'s ICT coordinators now sign in with a second factor.",
                        s.name
                    )
                } else {
                    format!(
                        "{}'s ICT coordinators choose whether to use a second factor.",
                        s.name
                    )
                },
            ))
        }
        Command::School(SchoolCmd::List) => {
            let state = open_state(config, clock)?;
            let schools = state.dir.schools()?;
            let text = schools
                .iter()
                .map(|s| {
                    format!(
                        "{}  {}  {}  {}",
                        s.instelling_ref,
                        s.brin6,
                        s.status.as_str(),
                        s.name
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"schools": schools.iter().map(school_json).collect::<Vec<_>>()}),
                text,
            ))
        }
        Command::School(SchoolCmd::ChangeBrin {
            school,
            brin,
            vestiging,
        }) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let s = admin::change_brin(ctx(&state, "cli"), &r, &brin, &vestiging)?;
            Ok(out(
                school_json(&s),
                format!(
                    "{} is now {}; its INSTELLING_REF stays {}",
                    s.name, s.brin6, s.instelling_ref
                ),
            ))
        }
        Command::User(UserCmd::Add(a)) => {
            let password = if a.password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .context("reading the password from standard input")?;
                Some(s.trim_end_matches(['\n', '\r']).to_string())
            } else {
                None
            };
            let state = open_state(config, clock)?;
            let added = admin::add_user(
                ctx(&state, "cli"),
                state.pupil_secrets(),
                admin::UserInput {
                    school: a.school,
                    role: a.role,
                    given_name: a.given_name,
                    family_name: a.family_name,
                    email: a.email,
                    groups: a.groups,
                    eck_id: a.eck_id,
                    las_key: a.las_key,
                    pin: a.pin,
                    picture_password: a.picture_password,
                    picture: a.picture,
                    password,
                    ..Default::default()
                },
            )?;
            let u = &added.user;
            let mut j = json!({
                "user_id": u.id.to_string(),
                "school": u.school.to_string(),
                "roles": u.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                "status": u.status.as_str(),
                "sign_in": u.pupil_auth.map(|a| a.as_str()),
            });
            let mut text = format!(
                "Added {} ({}), user id {}",
                u.display_name(),
                u.roles
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                u.id
            );
            if let Some(pin) = &added.generated_pin {
                j["pin"] = json!(pin);
                text.push_str(&format!("\nPIN: {pin}"));
            }
            Ok(out(j, text))
        }
        Command::User(UserCmd::List { school }) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let users = state.dir.users_of_school(&r)?;
            let text = users
                .iter()
                .map(|u| {
                    format!(
                        "{}  {:<16}  {:<8}  {}",
                        u.id,
                        u.roles
                            .iter()
                            .map(|r| r.to_string())
                            .collect::<Vec<_>>()
                            .join(","),
                        u.status.as_str(),
                        u.display_name()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = users
                .iter()
                .map(|u| json!({"user_id": u.id.to_string(), "roles": u.roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
                    "given_name": u.given_name, "family_name": u.family_name, "email": u.email, "status": u.status.as_str()}))
                .collect();
            Ok(out(json!({"users": list}), text))
        }
        Command::Group(GroupCmd::Add {
            school,
            key,
            name,
            jaargroep,
            composite,
        }) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let g = admin::add_group(
                ctx(&state, "cli"),
                &r,
                &key,
                &name,
                jaargroep.as_deref(),
                composite,
            )?;
            Ok(out(
                json!({"group_key": g.key, "name": g.name, "jaargroep": g.jaargroep.map(|j| j.get()), "school_year": g.school_year}),
                format!("Added group {} ({})", g.name, g.key),
            ))
        }
        Command::Group(GroupCmd::List { school }) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let groups = state.dir.groups_of_school(&r)?;
            let text = groups
                .iter()
                .map(|g| format!("{}  {}", g.key, g.name))
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = groups
                .iter()
                .map(|g| json!({"group_key": g.key, "name": g.name, "jaargroep": g.jaargroep.map(|j| j.get()), "composite": g.composite, "school_year": g.school_year}))
                .collect();
            Ok(out(json!({"groups": list}), text))
        }
        Command::Client(ClientCmd::Add(a)) => {
            let jwks = a
                .jwks
                .as_ref()
                .map(|p| {
                    std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))
                })
                .transpose()?;
            let state = open_state(config, clock)?;
            let added = admin::add_client(
                ctx(&state, "cli"),
                admin::ClientInput {
                    name: a.name,
                    kind: a.kind,
                    redirect_uris: a.redirect_uris,
                    post_logout_redirect_uris: a.post_logout_redirect_uris,
                    initiate_login_uri: a.initiate_login_uri,
                    backchannel_logout_uri: a.backchannel_logout_uri,
                    jwks_uri: a.jwks_uri,
                    jwks,
                    public: a.public,
                    home_allowed: a.home_allowed,
                    offline_access: a.offline_access,
                    audience: a.audience,
                    id_token_alg: a.id_token_alg,
                    sector: a.sector,
                    client_id: a.client_id,
                    client_secret: None,
                },
            )?;
            let rp = &added.rp;
            let mut j = json!({
                "client_id": rp.public_id(),
                "name": rp.name,
                "kind": rp.kind.as_str(),
                "sector": rp.sector,
                "offline_access": rp.offline_access,
                "issuer": state.config.issuer,
                "discovery": format!("{}/.well-known/openid-configuration", state.config.issuer),
            });
            let mut text = format!(
                "Added client {} ({})\nclient_id: {}",
                rp.name,
                rp.kind.as_str(),
                rp.public_id()
            );
            if let Some(s) = &added.client_secret {
                j["client_secret"] = json!(s);
                text.push_str(&format!("\nclient_secret: {s}\n(The secret is shown only now; Leerpoort keeps only its hash.)"));
            }
            Ok(out(j, text))
        }
        Command::Client(ClientCmd::List) => {
            let state = open_state(config, clock)?;
            let rps = state.dir.relying_parties()?;
            let text = rps
                .iter()
                .map(|r| format!("{}  {}  {}", r.public_id(), r.kind.as_str(), r.name))
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = rps
                .iter()
                .map(|r| json!({"id": r.public_id(), "name": r.name, "kind": r.kind.as_str(), "protocol": match r.protocol { broker::model::RpProtocol::Oidc(_) => "oidc", broker::model::RpProtocol::Saml(_) => "saml" },
                    "home_allowed": r.home_allowed, "audience": r.audience.to_string(), "sector": r.sector,
                    "offline_access": r.offline_access}))
                .collect();
            Ok(out(json!({"relying_parties": list}), text))
        }
        Command::Register(a) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&a.school)?;
            let opts = admin::RegisterOptions {
                release: Release {
                    eckid: !a.no_eckid,
                    names: a.release_names,
                    groups: !a.no_groups,
                },
                home_allowed: !a.no_home,
            };
            let (school, rp, reg) = admin::register(ctx(&state, "cli"), &r, &a.rp, opts)?;
            Ok(out(
                json!({"school": school.instelling_ref.to_string(), "rp": rp.public_id(), "allowed": reg.allowed, "release": reg.release, "home_allowed": reg.home_allowed, "since": reg.since}),
                format!(
                    "{} may now sign users of {} in ({}).",
                    rp.name, school.name, school.brin6
                ),
            ))
        }
        Command::Deregister(a) => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&a.school)?;
            let reg = admin::deregister(ctx(&state, "cli"), &r, &a.rp)?;
            Ok(out(
                json!({"school": reg.school.to_string(), "rp": a.rp, "allowed": reg.allowed, "since": reg.since}),
                format!(
                    "'{}' no longer receives sign-ins or data from school {}.",
                    a.rp, reg.school
                ),
            ))
        }
        Command::SamlSp(SamlSpCmd::Add {
            metadata,
            name,
            kind,
            home_allowed,
            audience,
            sector,
            options,
        }) => {
            let document = read_metadata(&metadata)?;
            let metadata_signing_cert = options.signing_cert()?;
            let state = open_state(config, clock)?;
            let rp = admin::add_saml_sp(
                ctx(&state, "cli"),
                admin::SamlSpInput {
                    metadata: document,
                    name,
                    kind,
                    home_allowed,
                    audience,
                    sector,
                    metadata_url: is_url(&metadata).then_some(metadata),
                    refresh_hours: options.refresh_hours,
                    metadata_signing_cert,
                    relay_states: options.relay_states,
                },
            )?;
            let idp_metadata = format!("{}{}", state.config.issuer, crate::saml::paths::METADATA);
            Ok(out(
                json!({"entity_id": rp.public_id(), "name": rp.name, "kind": rp.kind.as_str(),
                    "sector": rp.sector, "idp_metadata": idp_metadata}),
                format!(
                    "Added SAML service provider {} ({})\nentity_id: {}\nLeerpoort's metadata: {}",
                    rp.name,
                    rp.kind.as_str(),
                    rp.public_id(),
                    idp_metadata
                ),
            ))
        }
        Command::SamlSp(SamlSpCmd::List) => {
            let state = open_state(config, clock)?;
            let sps: Vec<_> = state
                .dir
                .relying_parties()?
                .into_iter()
                .filter(|r| matches!(r.protocol, broker::model::RpProtocol::Saml(_)))
                .collect();
            let text = sps
                .iter()
                .map(|r| format!("{}  {}  {}", r.public_id(), r.kind.as_str(), r.name))
                .collect::<Vec<_>>()
                .join("\n");
            let list: Vec<Value> = sps
                .iter()
                .map(|r| {
                    let o = state.dir.saml_sp_options(r.id).unwrap_or_default();
                    saml_sp_json(r, &o)
                })
                .collect();
            Ok(out(json!({"service_providers": list}), text))
        }
        Command::SamlSp(SamlSpCmd::Update {
            entity_id,
            metadata,
            options,
            no_refresh,
            no_metadata_signing_cert,
            no_relay_states,
        }) => {
            let state = open_state(config, clock)?;
            // Without --metadata: the URL it was last read from.
            let src = match metadata {
                Some(m) => Some(m),
                None => {
                    let rp = state
                        .dir
                        .relying_party_by_public_id(&entity_id)?
                        .ok_or_else(|| anyhow::anyhow!("no relying party '{entity_id}'"))?;
                    state.dir.saml_sp_options(rp.id)?.metadata_url
                }
            };
            let Some(src) = src else {
                anyhow::bail!("'{entity_id}' was not read from a URL: give --metadata FILE|URL");
            };
            let document = read_metadata(&src)?;
            let signing_cert = options.signing_cert()?;
            let updated = admin::update_saml_sp(
                ctx(&state, "cli"),
                admin::SamlSpUpdate {
                    entity_id,
                    metadata: Some(document),
                    metadata_url: is_url(&src).then_some(src),
                    refresh_hours: if no_refresh {
                        Some(None)
                    } else {
                        options.refresh_hours.map(Some)
                    },
                    metadata_signing_cert: if no_metadata_signing_cert {
                        Some(None)
                    } else {
                        signing_cert.map(Some)
                    },
                    relay_states: if no_relay_states {
                        Some(Vec::new())
                    } else {
                        (!options.relay_states.is_empty()).then_some(options.relay_states)
                    },
                },
            )?;
            let schools: Vec<String> = updated
                .registrations
                .iter()
                .map(|r| r.school.to_string())
                .collect();
            let mut j = saml_sp_json(&updated.rp, &updated.options);
            j["metadata_changed"] = json!(updated.metadata_changed);
            j["registrations_kept"] = json!(schools);
            Ok(out(
                j,
                format!(
                    "Updated SAML service provider {} ({}): metadata {}; the registrations of {} school(s) are kept.",
                    updated.rp.name,
                    updated.rp.public_id(),
                    if updated.metadata_changed {
                        "replaced"
                    } else {
                        "unchanged"
                    },
                    schools.len()
                ),
            ))
        }
        Command::SamlSp(SamlSpCmd::Remove { entity_id, force }) => {
            let state = open_state(config, clock)?;
            let (rp, registrations) = admin::remove_saml_sp(ctx(&state, "cli"), &entity_id, force)?;
            let schools: Vec<Value> = registrations
                .iter()
                .map(|r| {
                    let name = state
                        .dir
                        .school(&r.school)
                        .ok()
                        .flatten()
                        .map(|s| s.name)
                        .unwrap_or_default();
                    json!({"school": r.school.to_string(), "name": name, "allowed": r.allowed})
                })
                .collect();
            let lines: Vec<String> = schools
                .iter()
                .map(|s| {
                    format!(
                        "  {} {}",
                        s["school"].as_str().unwrap_or_default(),
                        s["name"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            let text = if lines.is_empty() {
                format!(
                    "Removed SAML service provider {} ({}). No school had registered it.",
                    rp.name,
                    rp.public_id()
                )
            } else {
                format!(
                    "Removed SAML service provider {} ({}) and the registrations of {} school(s):\n{}",
                    rp.name,
                    rp.public_id(),
                    lines.len(),
                    lines.join("\n")
                )
            };
            Ok(out(
                json!({"entity_id": rp.public_id(), "removed": true, "registrations_removed": schools}),
                text,
            ))
        }
        Command::Upstream(UpstreamCmd::Add {
            name,
            schools,
            oidc_issuer,
            client_id,
            client_secret,
            client_auth,
            scopes,
            saml_metadata,
            match_rule,
            claim,
            provision,
            provision_roles,
            allow_unsolicited,
        }) => {
            let saml_metadata = match saml_metadata {
                Some(p) => Some(
                    std::fs::read_to_string(&p)
                        .map_err(|e| anyhow::anyhow!("--saml-metadata {}: {e}", p.display()))?,
                ),
                None => None,
            };
            let state = open_state(config, clock)?;
            let u = admin::add_upstream(
                ctx(&state, "cli"),
                &state.sealer,
                admin::UpstreamInput {
                    name,
                    schools,
                    oidc_issuer,
                    client_id,
                    client_secret,
                    scopes,
                    saml_metadata,
                    match_rule,
                    match_claim: claim,
                    provision,
                    provision_roles,
                    allow_unsolicited,
                    client_auth,
                },
            )?;
            let issuer = &state.config.issuer;
            let mut j = upstream_json(&u);
            let text = match &u.protocol {
                broker::model::UpstreamProtocol::Oidc { client_auth, .. } => {
                    let cb = format!("{issuer}/broker/oidc/callback");
                    j["redirect_uri"] = json!(cb);
                    j["backchannel_logout_uri"] =
                        json!(format!("{issuer}/broker/oidc/backchannel-logout"));
                    j["post_logout_redirect_uri"] =
                        json!(format!("{issuer}/broker/oidc/uitgelogd"));
                    if client_auth == "private_key_jwt" {
                        j["jwks_uri"] = json!(format!("{issuer}/oidc/jwks"));
                    }
                    format!(
                        "Added upstream {} (OIDC). Register this redirect URI at it: {cb}\nLeerpoort asks it for the scopes: {}",
                        u.name,
                        crate::upstream_oidc::scopes_of(&u).join(" ")
                    )
                }
                broker::model::UpstreamProtocol::Saml { .. } => {
                    let md = format!("{issuer}/broker/saml/metadata");
                    j["sp_metadata"] = json!(md);
                    j["acs"] = json!(format!("{issuer}/broker/saml/acs"));
                    format!(
                        "Added upstream {} (SAML). Give it Leerpoort's SP metadata: {md}",
                        u.name
                    )
                }
            };
            Ok(out(j, text))
        }
        Command::Upstream(UpstreamCmd::List) => {
            let state = open_state(config, clock)?;
            let all = state.dir.upstreams()?;
            let text = all
                .iter()
                .map(|u| {
                    format!(
                        "{}  {}  {} schools",
                        u.name,
                        u.match_rule.as_str(),
                        u.schools.len()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"upstreams": all.iter().map(upstream_json).collect::<Vec<_>>()}),
                text,
            ))
        }
        Command::Upstream(UpstreamCmd::Remove { name }) => {
            let state = open_state(config, clock)?;
            let u = admin::remove_upstream(ctx(&state, "cli"), &name)?;
            Ok(out(
                json!({"removed": u.name, "id": u.id.to_string()}),
                format!("Removed upstream {}", u.name),
            ))
        }
        Command::Import(ImportCmd::Edexml { .. }) => Err(not_available("import edexml")),
        Command::Import(ImportCmd::Duo { .. }) => Err(not_available("import duo")),
        Command::Device(cmd) => devices::run(&open_state(config, clock)?, cmd),
        Command::Shortcuts {
            school,
            out: dir,
            target,
        } => {
            let state = open_state(config, clock)?;
            let r = admin::parse_school_ref(&school)?;
            let s = state
                .dir
                .school(&r)?
                .ok_or_else(|| anyhow::anyhow!("no school with INSTELLING_REF {r}"))?;
            if let Some(t) = &target {
                crate::shortcut::resolve_target(&state, &s, t)
                    .map_err(|_| anyhow::anyhow!("school {r} has not enabled '{t}'"))?;
            }
            let files =
                crate::shortcut_files::files(&state.config.issuer, &r, &s.name, target.as_deref())?;
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            let mut written = Vec::new();
            for f in &files {
                let path = dir.join(&f.name);
                std::fs::write(&path, &f.bytes)
                    .with_context(|| format!("writing {}", path.display()))?;
                written.push(path.display().to_string());
            }
            let pupil = crate::shortcut_files::shortcut_url(
                &state.config.issuer,
                &r,
                "leerling",
                target.as_deref(),
            );
            let teacher = crate::shortcut_files::shortcut_url(
                &state.config.issuer,
                &r,
                "leerkracht",
                target.as_deref(),
            );
            Ok(out(
                json!({"school": r.to_string(), "pupil_url": pupil, "teacher_url": teacher, "files": written}),
                format!(
                    "Pupils: {pupil}\nTeachers: {teacher}\nWrote {} files to {}",
                    written.len(),
                    dir.display()
                ),
            ))
        }
        Command::Notice(cmd) => {
            let state = open_state(config, clock)?;
            match cmd {
                NoticeCmd::Set { text } => {
                    admin::set_notice(ctx(&state, "cli"), Some(&text))?;
                    Ok(out(
                        json!({"notice": text.trim()}),
                        "The notice is shown on every login page.",
                    ))
                }
                NoticeCmd::Clear => {
                    admin::set_notice(ctx(&state, "cli"), None)?;
                    Ok(out(json!({"notice": null}), "The notice is cleared."))
                }
                NoticeCmd::Show => {
                    let n = state.dir.setting(crate::app::NOTICE_KEY)?;
                    Ok(out(
                        json!({"notice": n}),
                        n.unwrap_or_else(|| "(no notice)".into()),
                    ))
                }
            }
        }
        Command::User(UserCmd::SendActivation { user }) => {
            let state = open_state(config, clock)?;
            let id = uuid::Uuid::parse_str(user.trim())
                .map_err(|_| anyhow::anyhow!("'{user}' is not a user id"))?;
            let u = state
                .dir
                .user(id)?
                .ok_or_else(|| anyhow::anyhow!("no user {id}"))?;
            if u.is_pupil() {
                anyhow::bail!(
                    "pupils have no staff account; their home login is set by the teacher"
                );
            }
            crate::password::send_link(&state, &u, state.clock.now_secs())
                .map_err(|e| anyhow::anyhow!(e))?;
            Ok(out(
                json!({"user_id": id.to_string(), "sent_to": u.email}),
                format!("Sent a link to {}.", u.email.unwrap_or_default()),
            ))
        }
        Command::User(UserCmd::Disable { user }) => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::disable_user(ctx(&state, "cli"), id)?;
            Ok(offboarding_output(
                &u,
                "disabled; sessions and tokens ended",
            ))
        }
        Command::User(UserCmd::Enable { user }) => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::enable_user(ctx(&state, "cli"), id)?;
            // Sessions and tokens from the second of the disabling are void: a sign-in straight
            // after this command must fall in a later second.
            if let Some(revoked) = state.dir.user_standing(id)?.and_then(|s| s.revoked_at) {
                for _ in 0..30 {
                    if state.clock.now_secs() > revoked {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
            }
            Ok(offboarding_output(&u, "may sign in again"))
        }
        Command::User(UserCmd::Remove { user }) => {
            let state = open_state(config, clock)?;
            let id = parse_user_id(&user)?;
            let u = admin::remove_user(ctx(&state, "cli"), id)?;
            Ok(offboarding_output(
                &u,
                "removed; personal data deleted, the id kept",
            ))
        }
        Command::User(UserCmd::ResetTotp { user }) => {
            let state = open_state(config, clock)?;
            let id = uuid::Uuid::parse_str(user.trim())
                .map_err(|_| anyhow::anyhow!("'{user}' is not a user id"))?;
            let u = state
                .dir
                .user(id)?
                .ok_or_else(|| anyhow::anyhow!("no user {id}"))?;
            if u.is_pupil() {
                anyhow::bail!("pupils have no second factor");
            }
            let removed = crate::totp::reset(&state, &u, "cli", state.clock.now_secs())?;
            let required = crate::totp::required_for(&state, &u)?;
            let text = match (removed, required) {
                (false, _) => format!("{} had no second factor.", u.display_name()),
                (true, true) => format!(
                    "Removed the second factor of {}; they set up a new one at their next sign-in.",
                    u.display_name()
                ),
                (true, false) => format!("Removed the second factor of {}.", u.display_name()),
            };
            Ok(out(
                json!({"user_id": id.to_string(), "removed": removed, "required": required}),
                text,
            ))
        }
        Command::User(UserCmd::Unlock { user }) => {
            let state = open_state(config, clock)?;
            let id = uuid::Uuid::parse_str(user.trim())
                .map_err(|_| anyhow::anyhow!("'{user}' is not a user id"))?;
            let u = state
                .dir
                .user(id)?
                .ok_or_else(|| anyhow::anyhow!("no user {id}"))?;
            if state.config.redis_url.is_none() {
                // The lock lives in the running server's memory; this process cannot see it.
                return Ok(out(
                    json!({
                        "user_id": id.to_string(),
                        "unlocked": false,
                        "reason": "in-process-store",
                        "message": UNLOCK_UNREACHABLE,
                    }),
                    format!("{} is NOT unlocked: {UNLOCK_UNREACHABLE}", u.display_name()),
                ));
            }
            crate::pupil::unlock(&state, id)?;
            state.dir.append_audit(broker::model::AuditEvent {
                id: uuid::Uuid::new_v4(),
                at: state.clock.now_secs(),
                actor: "cli".into(),
                action: "user.unlock".into(),
                school: Some(u.school),
                subject: Some(id.to_string()),
                details: json!({}),
            })?;
            Ok(out(
                json!({"user_id": id.to_string(), "unlocked": true}),
                format!("{} can sign in again.", u.display_name()),
            ))
        }
        Command::Keys(KeysCmd::List) => {
            let now = clock.now_secs();
            // Opening creates the keys on a fresh install, as the server would.
            keys::FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), now)?;
            let list = keys::list(&config.keys_dir, now)?;
            Ok(keys_output(&list))
        }
        Command::Keys(KeysCmd::Rotate) => {
            let now = clock.now_secs();
            keys::FileKeyStore::open_or_init(&config.keys_dir, config.issuer_host(), now)?;
            let list = keys::rotate(&config.keys_dir, config.issuer_host(), now)?;
            Ok(keys_output(&list))
        }
    }
}

fn keys_output(list: &[keys::KeyInfo]) -> Output {
    let text = list
        .iter()
        .map(|k| {
            format!(
                "{:<46}  {:<10}  {:<8}  created {}",
                k.kid,
                k.alg.as_str(),
                format!("{:?}", k.state).to_lowercase(),
                k.created_at
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    out(json!({"keys": list}), text)
}

fn parse_user_id(user: &str) -> anyhow::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(user.trim()).map_err(|_| anyhow::anyhow!("'{user}' is not a user id"))
}

/// What `user disable`, `enable` and `remove` print.
fn offboarding_output(u: &broker::model::User, what: &str) -> Output {
    out(
        json!({"user_id": u.id.to_string(), "school": u.school.to_string(),
            "status": u.status.as_str()}),
        format!("User {} {what} (status {}).", u.id, u.status.as_str()),
    )
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
