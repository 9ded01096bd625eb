//! `leerpoort saml-sp`: SAML service providers of publishers.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::Clock;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

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
    Update(SamlSpUpdateArgs),
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

/// `saml-sp update`.
#[derive(Debug, Args)]
pub struct SamlSpUpdateArgs {
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

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: SamlSpCmd) -> anyhow::Result<Output> {
    match cmd {
        SamlSpCmd::Add {
            metadata,
            name,
            kind,
            home_allowed,
            audience,
            sector,
            options,
        } => {
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
        SamlSpCmd::List => {
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
        SamlSpCmd::Update(a) => update(config, clock, a),
        SamlSpCmd::Remove { entity_id, force } => {
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
    }
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

/// `saml-sp update`.
fn update(config: Config, clock: Arc<dyn Clock>, a: SamlSpUpdateArgs) -> anyhow::Result<Output> {
    let SamlSpUpdateArgs {
        entity_id,
        metadata,
        options,
        no_refresh,
        no_metadata_signing_cert,
        no_relay_states,
    } = a;
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
