//! `leerpoort upstream`: network environments as upstream identity providers.

use std::path::PathBuf;
use std::sync::Arc;

use broker::clock::Clock;
use clap::Subcommand;
use serde_json::{json, Value};

use super::{ctx, open_state, out, Output};
use crate::config::Config;
use broker::admin;

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
            j["scopes"] = json!(broker::federation::oidc::scopes_of(u));
        }
        broker::model::UpstreamProtocol::Saml { entity_id, .. } => {
            j["protocol"] = json!("saml");
            j["entity_id"] = json!(entity_id);
        }
    }
    j
}

pub(super) fn run(
    config: Config,
    clock: Arc<dyn Clock>,
    cmd: UpstreamCmd,
) -> anyhow::Result<Output> {
    match cmd {
        UpstreamCmd::Add {
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
        } => {
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
                        broker::federation::oidc::scopes_of(&u).join(" ")
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
        UpstreamCmd::List => {
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
        UpstreamCmd::Remove { name } => {
            let state = open_state(config, clock)?;
            let u = admin::remove_upstream(ctx(&state, "cli"), &name)?;
            Ok(out(
                json!({"removed": u.name, "id": u.id.to_string()}),
                format!("Removed upstream {}", u.name),
            ))
        }
    }
}
