//! OIDC clients of publishers and network environments, and the rules for their URIs.

use std::str::FromStr;

use crate::audit::AuditAction;
use crate::model::{AccessTokenFormat, JwsAlg, OidcClient, RelyingParty, RpKind, RpProtocol};
use claims::Audience;
use uuid::Uuid;

use super::{invalid, non_empty, AdminError, Ctx, Result};

/// Input of [`add_client`].
#[derive(Debug, Clone, Default)]
pub struct ClientInput {
    pub name: String,
    pub kind: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub initiate_login_uri: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks_uri: Option<String>,
    /// The client's public keys inline (a JWKS document), for `private_key_jwt`.
    pub jwks: Option<String>,
    pub public: bool,
    pub home_allowed: bool,
    /// Allow long-lived refresh tokens (`offline_access`).
    pub offline_access: bool,
    pub audience: String,
    pub id_token_alg: String,
    /// `jwt` (the default) or `opaque` ([`AccessTokenFormat`]).
    pub access_token_format: Option<String>,
    pub sector: Option<String>,
    /// A fixed client id (the demo, or a publisher's wish); normally a new random one.
    pub client_id: Option<String>,
    /// A fixed secret (the demo only).
    pub client_secret: Option<String>,
    /// Where the start page asks which titles a user holds (the live licence lookup):
    /// publishers only; https (http only for loopback).
    pub licence_endpoint: Option<String>,
    /// Where change notifications are posted (`crate::webhooks`): https (http only for
    /// loopback).
    pub webhook_uri: Option<String>,
}

/// What [`add_client`] made. The secret is shown once and only its hash is kept.
#[derive(Debug)]
pub struct AddedClient {
    pub rp: RelyingParty,
    pub client_secret: Option<String>,
}

/// An OIDC client for a publisher or network environment.
pub fn add_client(ctx: Ctx<'_>, input: ClientInput) -> Result<AddedClient> {
    let name = non_empty("client name", &input.name)?;
    let kind = RpKind::from_str(&input.kind).map_err(invalid)?;
    if kind == RpKind::Las {
        return Err(invalid(
            "an LAS is registered with `leerpoort las add`, not as a client",
        ));
    }
    let audience = Audience::from_str(&input.audience).map_err(|e| invalid(e.to_string()))?;
    let id_token_alg = JwsAlg::from_str(&input.id_token_alg).map_err(invalid)?;
    let access_token_format = input
        .access_token_format
        .as_deref()
        .map(AccessTokenFormat::from_str)
        .transpose()
        .map_err(invalid)?
        .unwrap_or_default();
    if input.redirect_uris.is_empty() {
        return Err(invalid("a client needs at least one --redirect-uri"));
    }
    for u in input
        .redirect_uris
        .iter()
        .chain(&input.post_logout_redirect_uris)
    {
        check_redirect_uri(u)?;
    }
    for u in input
        .initiate_login_uri
        .iter()
        .chain(&input.backchannel_logout_uri)
        .chain(&input.jwks_uri)
    {
        check_https_or_local(u)?;
    }
    if let Some(j) = &input.jwks {
        let set: serde_json::Value =
            serde_json::from_str(j).map_err(|e| invalid(format!("the JWKS is not JSON: {e}")))?;
        let keys = set["keys"]
            .as_array()
            .ok_or_else(|| invalid("the JWKS has no \"keys\" array"))?;
        if keys.is_empty() || keys.iter().any(|k| k.get("d").is_some()) {
            return Err(invalid(
                "the JWKS must hold public keys only (and at least one)",
            ));
        }
    }
    let sector = match input.sector {
        Some(s) => non_empty("sector", &s)?,
        None => {
            let hosts: std::collections::BTreeSet<String> =
                input.redirect_uris.iter().map(|u| host_of(u)).collect();
            if hosts.len() > 1 {
                return Err(invalid(
                    "the redirect URIs are on different hosts: give --sector so every pseudonym stays the same",
                ));
            }
            hosts.into_iter().next().unwrap_or_default()
        }
    };
    let client_id = match input.client_id {
        Some(id) => {
            let id = non_empty("client id", &id)?;
            if !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
            {
                return Err(invalid("a client id uses letters, digits and - _ . : only"));
            }
            id
        }
        None => Uuid::new_v4().to_string(),
    };
    let secret = if input.public {
        None
    } else {
        Some(match input.client_secret {
            Some(s) => s,
            None => crate::random::random_token()?,
        })
    };
    let client = OidcClient {
        client_id: client_id.clone(),
        client_secret_hash: secret.as_deref().map(crate::secrets::hash_client_secret),
        redirect_uris: input.redirect_uris,
        post_logout_redirect_uris: input.post_logout_redirect_uris,
        initiate_login_uri: input.initiate_login_uri,
        backchannel_logout_uri: input.backchannel_logout_uri,
        jwks_uri: input.jwks_uri,
        jwks: None,
        token_endpoint_auth_method: if input.public {
            "none".into()
        } else {
            "client_secret_basic".into()
        },
        id_token_alg,
        access_token_format,
    };
    if let Some(u) = &input.webhook_uri {
        check_https_or_local(u)?;
    }
    if let Some(u) = &input.licence_endpoint {
        if kind != RpKind::Publisher {
            return Err(invalid("only a publisher has a licence endpoint"));
        }
        check_https_or_local(u)?;
    }
    let id = Uuid::new_v4();
    let audit = ctx.audit(
        AuditAction::ClientAdd,
        None,
        Some(client_id.clone()),
        serde_json::json!({"name": name, "kind": kind.as_str(), "public": input.public,
            "offline_access": input.offline_access,
            "access_token_format": access_token_format.as_str()}),
    );
    let rp = ctx.dir.insert_relying_party(
        RelyingParty {
            id,
            name,
            kind,
            protocol: RpProtocol::Oidc(client),
            sector,
            home_allowed: input.home_allowed,
            audience,
            enabled: true,
            offline_access: input.offline_access,
            created_at: ctx.now(),
        },
        audit,
    )?;
    if let Some(u) = &input.licence_endpoint {
        let line = ctx.audit(
            AuditAction::ClientAdd,
            None,
            Some(client_id.clone()),
            serde_json::json!({"licence_endpoint": u}),
        );
        ctx.dir
            .set_licence_endpoint(rp.id, Some(u), ctx.now(), line)?;
    }
    if let Some(u) = &input.webhook_uri {
        set_webhook(ctx, &rp, Some(u))?;
    }
    Ok(AddedClient {
        rp,
        client_secret: secret,
    })
}

/// Set (or with `None` remove) where a party's change notifications go. Setting it sends a
/// first event there (`webhook-ingesteld`), so the receiving end can be checked at once.
pub fn set_webhook(ctx: Ctx<'_>, rp: &RelyingParty, url: Option<&str>) -> Result<()> {
    if rp.kind == RpKind::Las {
        return Err(invalid("an LAS gets no change notifications"));
    }
    if let Some(u) = url {
        check_https_or_local(u)?;
    }
    let line = ctx.audit(
        AuditAction::WebhookSet,
        None,
        Some(rp.public_id().to_string()),
        serde_json::json!({"url": url}),
    );
    ctx.dir.set_webhook_endpoint(rp.id, url, ctx.now(), line)?;
    Ok(())
}

/// Change the kind of access token an OIDC client receives from now on. Tokens issued before
/// stay valid, whichever kind they are, until they expire.
pub fn set_access_token_format(
    ctx: Ctx<'_>,
    rp: &RelyingParty,
    format: AccessTokenFormat,
) -> Result<()> {
    if rp.oidc().is_none() {
        return Err(invalid("a SAML service provider receives no access tokens"));
    }
    let line = ctx.audit(
        AuditAction::ClientAccessTokens,
        None,
        Some(rp.public_id().to_string()),
        serde_json::json!({"format": format.as_str()}),
    );
    ctx.dir
        .set_access_token_format(rp.id, format, ctx.now(), line)?;
    Ok(())
}

/// Try a party's given-up change notifications again, from now: how many.
pub fn retry_webhooks(ctx: Ctx<'_>, rp: &RelyingParty) -> Result<usize> {
    let line = ctx.audit(
        AuditAction::WebhookSet,
        None,
        Some(rp.public_id().to_string()),
        serde_json::json!({"retry_failed": true}),
    );
    Ok(ctx.dir.retry_failed_webhooks(rp.id, ctx.now(), line)?)
}

/// The host of an absolute URL as the WHATWG URL standard reads it (what a browser would
/// connect to), without IPv6 brackets; empty when there is none.
pub(super) fn host_of(uri: &str) -> String {
    url::Url::parse(uri)
        .map(|u| host_name(&u).to_string())
        .unwrap_or_default()
}

/// A parsed URL's host without IPv6 brackets; empty when it has none.
fn host_name(u: &url::Url) -> &str {
    u.host_str().map_or("", |h| h.trim_matches(['[', ']']))
}

fn is_loopback_host(h: &str) -> bool {
    h == "localhost" || h == "127.0.0.1" || h == "::1" || h.ends_with(".localhost")
}

/// Parse `u` as a browser would (WHATWG, the `url` crate) and insist that it is written the
/// way the parser writes it back: then the URI Leerpoort compares, the one it redirects to and
/// the one a browser follows are the same. `http://evil.example\@localhost/cb` reads as host
/// `evil.example` and is refused, not taken for localhost.
fn parse_canonical(u: &str, bad: &dyn Fn(&str) -> AdminError) -> Result<url::Url> {
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains spaces"));
    }
    let parsed = url::Url::parse(u).map_err(|_| bad("it is not an absolute URI"))?;
    if parsed.fragment().is_some() {
        return Err(bad("it may not contain a fragment"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("it may not contain a user name or password"));
    }
    if parsed.as_str() != u {
        return Err(bad(&format!("write it as '{}'", parsed.as_str())));
    }
    Ok(parsed)
}

/// Redirect URIs: absolute, no fragment, no user info, in canonical form; https, or http only
/// on loopback (RFC 8252 / RFC 9700); private-use schemes (`nl.uitgever.app:/cb`) for native
/// apps.
pub fn check_redirect_uri(u: &str) -> Result<()> {
    let bad = |why: &str| invalid(format!("redirect URI '{u}' is not valid: {why}"));
    let parsed = parse_canonical(u, &bad)?;
    let host = host_name(&parsed);
    match parsed.scheme() {
        "https" => {
            if host.is_empty() {
                return Err(bad("it has no host"));
            }
        }
        "http" => {
            if !is_loopback_host(host) {
                return Err(bad("http is allowed only for localhost; use https"));
            }
        }
        s if s.contains('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c))
            && parsed.host().is_none() => {}
        _ => {
            return Err(bad(
                "use https (or a reverse-domain scheme for native apps)",
            ))
        }
    }
    Ok(())
}

pub(crate) fn check_https_or_local(u: &str) -> Result<()> {
    let parsed = parse_canonical(u, &|why| invalid(format!("'{u}' is not valid: {why}")))?;
    let host = host_name(&parsed);
    match parsed.scheme() {
        "https" if !host.is_empty() => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        _ => Err(invalid(format!(
            "'{u}' is not valid: expected an https URL"
        ))),
    }
}
