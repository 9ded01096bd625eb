//! Network environments as upstream identity providers.

use std::str::FromStr;

use crate::audit::AuditAction;
use claims::Role;
use uuid::Uuid;

use super::{invalid, non_empty, parse_school_ref, Ctx, Result};

/// Input of [`add_upstream`].
#[derive(Debug, Clone, Default)]
pub struct UpstreamInput {
    pub name: String,
    pub schools: Vec<String>,
    pub oidc_issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    pub scopes: Vec<String>,
    /// The upstream IdP's SAML metadata (XML).
    pub saml_metadata: Option<String>,
    pub match_rule: String,
    pub match_claim: String,
    pub provision: bool,
    /// The roles it may create users with: `leerling` and/or `leerkracht`. Empty: pupils
    /// only (the safe default).
    pub provision_roles: Vec<String>,
    /// SAML: accept unsolicited (IdP-initiated) responses.
    pub allow_unsolicited: bool,
    /// OIDC: `client_secret_basic` (the default) or `private_key_jwt`.
    pub client_auth: Option<String>,
}

/// Add a network environment as an upstream identity provider for `schools`. Its OIDC client
/// secret is kept sealed.
pub fn add_upstream(
    ctx: Ctx<'_>,
    sealer: &crate::secrets::Sealer,
    input: UpstreamInput,
) -> Result<crate::model::Upstream> {
    use crate::model::{MatchRule, UpstreamProtocol};
    let name = non_empty("upstream name", &input.name)?;
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(invalid(
            "an upstream's name is letters, digits, '-' and '_' (it appears in shortcuts: NETWERK=name)",
        ));
    }
    let match_rule = MatchRule::parse(&input.match_rule)
        .ok_or_else(|| invalid("--match is las-key, eck-id or email"))?;
    let match_claim = non_empty("--claim", &input.match_claim)?;
    if input.schools.is_empty() {
        return Err(invalid(
            "an upstream serves at least one school (--school REF)",
        ));
    }
    let mut schools = Vec::new();
    for s in &input.schools {
        let r = parse_school_ref(s)?;
        ctx.active_school(&r)?;
        if !schools.contains(&r) {
            schools.push(r);
        }
    }
    let provision_roles = provision_roles(input.provision, &input.provision_roles)?;
    let id = Uuid::new_v4();
    let protocol = match (&input.oidc_issuer, &input.saml_metadata) {
        (Some(issuer), None) => {
            let issuer = issuer.trim().trim_end_matches('/').to_string();
            let u = url::Url::parse(&issuer)
                .map_err(|_| invalid(format!("--oidc-issuer '{issuer}' is not a URL")))?;
            let loopback = matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
            if !(u.scheme() == "https" || (u.scheme() == "http" && loopback)) {
                return Err(invalid(
                    "--oidc-issuer must be https (http only on localhost)",
                ));
            }
            let client_id = input
                .client_id
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .ok_or_else(|| invalid("an OIDC upstream needs --client-id"))?
                .to_string();
            let client_auth = input
                .client_auth
                .clone()
                .unwrap_or_else(|| "client_secret_basic".into());
            let secret = input.client_secret.as_deref().filter(|s| !s.is_empty());
            let sealed =
                match (client_auth.as_str(), secret) {
                    ("client_secret_basic", Some(s)) => Some(sealer.seal(id, s)?),
                    ("client_secret_basic", None) => return Err(invalid(
                        "an OIDC upstream needs --client-secret (or --client-auth private_key_jwt)",
                    )),
                    ("private_key_jwt", None) => None,
                    ("private_key_jwt", Some(_)) => {
                        return Err(invalid(
                            "with --client-auth private_key_jwt there is no --client-secret",
                        ))
                    }
                    _ => {
                        return Err(invalid(
                            "--client-auth is client_secret_basic or private_key_jwt",
                        ))
                    }
                };
            UpstreamProtocol::Oidc {
                issuer,
                client_id,
                client_secret_sealed: sealed,
                client_auth,
                scopes: input.scopes.clone(),
            }
        }
        (None, Some(xml)) => {
            let entity_id = protocol::saml::upstream::idp_entity_id(xml)
                .map_err(|e| invalid(format!("--saml-metadata: {e}")))?;
            UpstreamProtocol::Saml {
                entity_id,
                metadata_xml: xml.clone(),
                allow_unsolicited: input.allow_unsolicited,
            }
        }
        _ => return Err(invalid(
            "give either --oidc-issuer (with --client-id and --client-secret) or --saml-metadata",
        )),
    };
    if input.allow_unsolicited && !matches!(protocol, UpstreamProtocol::Saml { .. }) {
        return Err(invalid("--allow-unsolicited is for SAML upstreams"));
    }
    let audit = ctx.audit(
        AuditAction::UpstreamAdd,
        schools.first().copied(),
        Some(id.to_string()),
        serde_json::json!({"name": name, "schools": schools.iter().map(|s| s.to_string()).collect::<Vec<_>>()}),
    );
    Ok(ctx.dir.insert_upstream(
        crate::model::Upstream {
            id,
            name,
            protocol,
            match_rule,
            match_claim,
            provision: input.provision,
            provision_roles,
            enabled: true,
            schools,
        },
        audit,
    )?)
}

/// The roles an upstream may create users with. Only pupils and teachers: a network
/// environment never creates a coordinator, an IB'er or anyone else with more rights. Without
/// `--provision-roles`, pupils only.
fn provision_roles(provision: bool, given: &[String]) -> Result<Vec<Role>> {
    let given: Vec<&str> = given
        .iter()
        .flat_map(|r| r.split(','))
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .collect();
    if !provision {
        if !given.is_empty() {
            return Err(invalid("--provision-roles needs --provision"));
        }
        return Ok(Vec::new());
    }
    if given.is_empty() {
        return Ok(vec![Role::Leerling]);
    }
    let mut roles = Vec::new();
    for r in given {
        let role = match Role::from_str(r) {
            Ok(role @ (Role::Leerling | Role::Leerkracht)) => role,
            Ok(_) => {
                return Err(invalid(format!(
                    "--provision-roles: a network environment creates pupils and teachers only (leerling, leerkracht), not '{r}'"
                )))
            }
            Err(_) => {
                return Err(invalid(format!(
                    "--provision-roles: '{r}' is not a role (leerling, leerkracht)"
                )))
            }
        };
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    Ok(roles)
}

/// Remove an upstream identity provider by name.
pub fn remove_upstream(ctx: Ctx<'_>, name: &str) -> Result<crate::model::Upstream> {
    let u = ctx
        .dir
        .upstream_by_name(name)?
        .ok_or_else(|| invalid(format!("no upstream named '{name}'")))?;
    let audit = ctx.audit(
        AuditAction::UpstreamRemove,
        u.schools.first().copied(),
        Some(u.id.to_string()),
        serde_json::json!({"name": u.name}),
    );
    ctx.dir.remove_upstream(u.id, audit)?;
    Ok(u)
}
