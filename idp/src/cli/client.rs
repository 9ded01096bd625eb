//! `leerpoort client`: OIDC clients of publishers and network environments.

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;

use anyhow::Context as _;
use broker::clock::Clock;
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

#[derive(Debug, Subcommand)]
pub enum ClientCmd {
    /// Add an OIDC client; prints client_id and (once) client_secret.
    Add(Box<ClientAddArgs>),
    /// List relying parties.
    List,
    /// The schools that registered a relying party: whether each allows it now, since when,
    /// what it releases, and home use.
    Registrations {
        /// Client id or SAML entity id.
        #[arg(long)]
        rp: String,
    },
    /// Set or remove where a party's change notifications (webhooks) go. Setting one sends a
    /// first event there at once.
    Webhook {
        /// Client id or SAML entity id.
        #[arg(long)]
        rp: String,
        /// The webhook (https; http only on loopback).
        #[arg(long, value_name = "URL", required_unless_present = "off")]
        uri: Option<String>,
        /// Remove the webhook.
        #[arg(long, conflicts_with = "uri")]
        off: bool,
    },
    /// Choose the kind of access token a client receives from now on: `jwt` (RFC 9068, checked
    /// against the JWKS) or `opaque` (a reference token, checked by introspection).
    AccessTokens {
        /// Client id.
        #[arg(long)]
        rp: String,
        /// jwt or opaque.
        #[arg(long)]
        format: String,
    },
    /// A party's change notifications, newest first: delivered, waiting, or given up (and why).
    Events {
        /// Client id or SAML entity id.
        #[arg(long)]
        rp: String,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Try the given-up events again, from now.
        #[arg(long)]
        retry_failed: bool,
    },
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
    /// jwt (RFC 9068 JWTs, the default) or opaque (reference tokens, checked by introspection).
    #[arg(long, value_name = "FORMAT")]
    access_token_format: Option<String>,
    /// Pairwise sector (default: the redirect URIs' host).
    #[arg(long)]
    sector: Option<String>,
    /// A chosen client id (default: a new UUID).
    #[arg(long)]
    client_id: Option<String>,
    /// Where the start page asks which titles a user holds at sign-in (live licence lookup).
    #[arg(long, value_name = "URL")]
    licence_endpoint: Option<String>,
    /// Where change notifications (signed Security Event Tokens) are posted.
    #[arg(long, value_name = "URL")]
    webhook_uri: Option<String>,
}

pub(super) fn run(config: Config, clock: Arc<dyn Clock>, cmd: ClientCmd) -> anyhow::Result<Output> {
    match cmd {
        ClientCmd::Add(a) => {
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
                    access_token_format: a.access_token_format,
                    sector: a.sector,
                    client_id: a.client_id,
                    client_secret: None,
                    licence_endpoint: a.licence_endpoint,
                    webhook_uri: a.webhook_uri,
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
        ClientCmd::List => {
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
                    "offline_access": r.offline_access,
                    "access_token_format": r.oidc().map(|c| c.access_token_format.as_str())}))
                .collect();
            Ok(out(json!({"relying_parties": list}), text))
        }
        ClientCmd::Registrations { rp } => registrations(&open_state(config, clock)?, &rp),
        ClientCmd::Webhook { rp, uri, off: _ } => {
            let state = open_state(config, clock)?;
            let rp = find(&state, &rp)?;
            admin::set_webhook(ctx(&state, "cli"), &rp, uri.as_deref())?;
            let text = match &uri {
                Some(u) => format!(
                    "Change notifications for {} go to {u}; a first event is on its way.",
                    rp.public_id()
                ),
                None => format!("{} gets no change notifications any more.", rp.public_id()),
            };
            Ok(out(json!({"rp": rp.public_id(), "webhook_uri": uri}), text))
        }
        ClientCmd::AccessTokens { rp, format } => {
            let state = open_state(config, clock)?;
            let rp = find(&state, &rp)?;
            let format = broker::model::AccessTokenFormat::from_str(&format)
                .map_err(|e| anyhow::anyhow!(e))?;
            admin::set_access_token_format(ctx(&state, "cli"), &rp, format)?;
            let text = format!(
                "{} receives {} access tokens from now on.",
                rp.public_id(),
                format.as_str()
            );
            Ok(out(
                json!({"rp": rp.public_id(), "access_token_format": format.as_str()}),
                text,
            ))
        }
        ClientCmd::Events {
            rp,
            limit,
            retry_failed,
        } => {
            let state = open_state(config, clock)?;
            let rp = find(&state, &rp)?;
            let retried = if retry_failed {
                admin::retry_webhooks(ctx(&state, "cli"), &rp)?
            } else {
                0
            };
            events(&state, &rp, limit.clamp(1, 1000), retried)
        }
    }
}

fn find(
    state: &crate::app::AppState,
    public_id: &str,
) -> anyhow::Result<broker::model::RelyingParty> {
    state
        .dir
        .relying_party_by_public_id(public_id)?
        .ok_or_else(|| {
            anyhow::anyhow!("no relying party with client id or entity id '{public_id}'")
        })
}

/// `client events --rp ID`: the party's webhook and its events, newest first.
fn events(
    state: &crate::app::AppState,
    rp: &broker::model::RelyingParty,
    limit: i64,
    retried: usize,
) -> anyhow::Result<Output> {
    let url = state.dir.webhook_endpoint(rp.id)?;
    let list = state.dir.webhook_events(rp.id, limit)?;
    let status = |e: &broker::repo::OutboxEvent| match (e.delivered_at, e.failed_at) {
        (Some(_), _) => "delivered",
        (_, Some(_)) => "given-up",
        _ => "waiting",
    };
    let mut text = format!(
        "{} ({}): webhook {}",
        rp.name,
        rp.public_id(),
        url.as_deref().unwrap_or("(none)")
    );
    if retried > 0 {
        text.push_str(&format!(
            "
{retried} given-up event(s) will be tried again."
        ));
    }
    for e in &list {
        text.push_str(&format!(
            "
{}  {}  {}  {}  {}  attempts {}{}",
            e.id,
            catalogue::local_time(e.created_at, "%Y-%m-%d %H:%M:%S"),
            e.event.trim_start_matches("urn:leerpoort:events:"),
            e.school
                .map(|s| s.to_string())
                .unwrap_or_else(|| "-".into()),
            status(e),
            e.attempts,
            e.last_error
                .as_deref()
                .map(|r| format!("  ({r})"))
                .unwrap_or_default(),
        ));
    }
    let items: Vec<Value> = list
        .iter()
        .map(|e| {
            json!({
                "id": e.id, "event": e.event, "instelling_ref": e.school.map(|s| s.to_string()),
                "created_at": e.created_at, "status": status(e), "attempts": e.attempts,
                "next_attempt_at": e.next_attempt_at, "delivered_at": e.delivered_at,
                "failed_at": e.failed_at, "last_error": e.last_error,
            })
        })
        .collect();
    Ok(out(
        json!({"rp": rp.public_id(), "webhook_uri": url, "retried": retried, "events": items}),
        text,
    ))
}

/// `client registrations --rp ID`: every school's registration of the relying party, allowed
/// or withdrawn, by school name.
fn registrations(state: &crate::app::AppState, public_id: &str) -> anyhow::Result<Output> {
    let rp = find(state, public_id)?;
    let regs = broker::schooldata::registrations(state.dir.as_ref(), &rp)?;
    let list: Vec<Value> = regs
        .iter()
        .map(|r| {
            json!({
                "instelling_ref": r.school.instelling_ref.to_string(),
                "brin6": r.school.brin6.to_string(),
                "name": r.school.name,
                "school_status": r.school.status.as_str(),
                "allowed": r.registration.allowed,
                "since": r.registration.since,
                "release": r.registration.release,
                "home_allowed": r.registration.home_allowed,
            })
        })
        .collect();
    let mut text = format!("{} ({}): {} school(s)", rp.name, rp.public_id(), regs.len());
    for r in &regs {
        let rel = r.registration.release;
        let released: Vec<&str> = [
            (rel.eckid, "eck-id"),
            (rel.names, "names"),
            (rel.groups, "groups"),
        ]
        .into_iter()
        .filter_map(|(on, what)| on.then_some(what))
        .collect();
        text.push_str(&format!(
            "\n{}  {}  {}  {}  since {}  releases: {}  home: {}",
            r.school.instelling_ref,
            r.school.brin6,
            r.school.name,
            if r.registration.allowed {
                "allowed"
            } else {
                "withdrawn"
            },
            r.registration.since,
            if released.is_empty() {
                "nothing".to_string()
            } else {
                released.join(", ")
            },
            if r.registration.home_allowed {
                "yes"
            } else {
                "no"
            },
        ));
    }
    Ok(out(
        json!({"rp": rp.public_id(), "name": rp.name, "registrations": list}),
        text,
    ))
}
