//! SAML service providers: adding, updating (metadata, RelayStates, refresh) and removing.

use std::str::FromStr;

use crate::audit::AuditAction;
use crate::model::{Registration, RelyingParty, RpKind, RpProtocol, SamlSpOptions};
use crate::repo::SamlSpChange;
use claims::Audience;
use uuid::Uuid;

use super::registrations::find_rp;
use super::{invalid, non_empty, Ctx, Result};

/// Input of [`add_saml_sp`].
#[derive(Debug, Clone, Default)]
pub struct SamlSpInput {
    /// The SP's metadata document.
    pub metadata: String,
    /// A name for people (default: the entity ID).
    pub name: Option<String>,
    pub kind: String,
    pub home_allowed: bool,
    pub audience: String,
    /// Pairwise sector (default: the host of the SP's first AssertionConsumerService, so an
    /// OIDC client of the same publisher on that host sees the same pseudonyms).
    pub sector: Option<String>,
    /// The URL the metadata was fetched from, if it was.
    pub metadata_url: Option<String>,
    /// Refresh the metadata from `metadata_url` this often (the running server does it).
    pub refresh_hours: Option<u32>,
    /// The certificate (PEM) the metadata must be signed with.
    pub metadata_signing_cert: Option<String>,
    /// The RelayState URLs an unsolicited response (a school shortcut) may carry.
    pub relay_states: Vec<String>,
}

/// The longest refresh interval: 30 days.
pub const SAML_REFRESH_HOURS_MAX: u32 = 30 * 24;

/// RelayState URLs for unsolicited responses: https (http only on localhost), at most 80
/// bytes (SAML's limit), each once.
fn relay_state_urls(list: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for u in list {
        let ok = url::Url::parse(u).ok().is_some_and(|url| {
            let host = url.host_str().unwrap_or("");
            let local = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
            !host.is_empty() && (url.scheme() == "https" || url.scheme() == "http" && local)
        });
        if !ok {
            return Err(invalid(format!(
                "--relay-state '{u}': expected an https URL (http only on localhost)"
            )));
        }
        if u.len() > protocol::saml::RELAY_STATE_MAX {
            return Err(invalid(format!(
                "--relay-state '{u}' is longer than {} bytes, the most SAML allows",
                protocol::saml::RELAY_STATE_MAX
            )));
        }
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    Ok(out)
}

fn refresh_hours(hours: Option<u32>, url: Option<&str>) -> Result<Option<u32>> {
    match hours {
        None => Ok(None),
        Some(h) if h == 0 || h > SAML_REFRESH_HOURS_MAX => Err(invalid(format!(
            "--refresh-hours {h}: expected 1 to {SAML_REFRESH_HOURS_MAX}"
        ))),
        Some(_) if url.is_none() => Err(invalid(
            "--refresh-hours needs metadata read from an https URL (--metadata URL)",
        )),
        Some(h) => Ok(Some(h)),
    }
}

fn signing_cert(pem: Option<&str>) -> Result<Option<String>> {
    pem.map(protocol::saml::sp::signing_certificate)
        .transpose()
        .map_err(|e| invalid(e.to_string()))
}

/// A SAML service provider from its metadata (`saml-sp add`).
pub fn add_saml_sp(ctx: Ctx<'_>, input: SamlSpInput) -> Result<RelyingParty> {
    let cert = signing_cert(input.metadata_signing_cert.as_deref())?;
    let (document, meta) = protocol::saml::sp::verified(&input.metadata, cert.as_deref())
        .map_err(|e| invalid(e.to_string()))?;
    let kind = RpKind::from_str(&input.kind).map_err(invalid)?;
    if kind == RpKind::Las {
        return Err(invalid("an LAS is not a SAML service provider"));
    }
    let audience = Audience::from_str(&input.audience).map_err(|e| invalid(e.to_string()))?;
    let name = non_empty("name", input.name.as_deref().unwrap_or(&meta.entity_id))?;
    let options = SamlSpOptions {
        relay_states: relay_state_urls(&input.relay_states)?,
        refresh_hours: refresh_hours(input.refresh_hours, input.metadata_url.as_deref())?,
        refreshed_at: input.metadata_url.is_some().then(|| ctx.now()),
        metadata_url: input.metadata_url,
        metadata_signing_cert: cert,
        refresh_error: None,
    };
    if ctx
        .dir
        .relying_party_by_public_id(&meta.entity_id)?
        .is_some()
    {
        return Err(invalid(format!(
            "a relying party with id '{}' already exists",
            meta.entity_id
        )));
    }
    let sector = match input.sector {
        Some(s) => non_empty("sector", &s)?,
        None => meta
            .acs_host()
            .ok_or_else(|| invalid("the AssertionConsumerService has no host: give --sector"))?,
    };
    let audit = ctx.audit(
        AuditAction::SamlSpAdd,
        None,
        Some(meta.entity_id.clone()),
        serde_json::json!({"name": name, "kind": kind.as_str(), "sector": sector,
            "relay_states": options.relay_states, "metadata_url": options.metadata_url,
            "refresh_hours": options.refresh_hours,
            "metadata_signed": options.metadata_signing_cert.is_some()}),
    );
    let rp = ctx.dir.insert_relying_party(
        RelyingParty {
            id: Uuid::new_v4(),
            name,
            kind,
            protocol: RpProtocol::Saml(crate::model::SamlSp {
                entity_id: meta.entity_id,
                metadata: document,
            }),
            sector,
            home_allowed: input.home_allowed,
            audience,
            enabled: true,
            offline_access: false,
            created_at: ctx.now(),
        },
        audit,
    )?;
    if options != SamlSpOptions::default() {
        ctx.dir.update_saml_sp(
            SamlSpChange {
                rp: rp.id,
                metadata: None,
                options,
            },
            ctx.now(),
            None,
        )?;
    }
    Ok(rp)
}

/// What `saml-sp update` changes; `None` keeps what is there.
#[derive(Debug, Clone, Default)]
pub struct SamlSpUpdate {
    pub entity_id: String,
    /// A new metadata document.
    pub metadata: Option<String>,
    /// The URL `metadata` was fetched from, if it was.
    pub metadata_url: Option<String>,
    /// `Some(None)`: stop refreshing.
    pub refresh_hours: Option<Option<u32>>,
    /// `Some(None)`: the metadata need no longer be signed.
    pub metadata_signing_cert: Option<Option<String>>,
    pub relay_states: Option<Vec<String>>,
}

/// The result of [`update_saml_sp`].
#[derive(Debug, Clone)]
pub struct SamlSpUpdated {
    pub rp: RelyingParty,
    pub options: SamlSpOptions,
    /// The metadata document differs from the one before.
    pub metadata_changed: bool,
    /// The schools whose registrations were kept.
    pub registrations: Vec<Registration>,
}

/// Replace a SAML SP's metadata (new certificates, endpoints) and options, keeping every
/// school's registration and the pairwise sector (`saml-sp update`, and the periodic
/// refresh). The new metadata must name the same entity ID, and is verified like at
/// `saml-sp add`.
pub fn update_saml_sp(ctx: Ctx<'_>, u: SamlSpUpdate) -> Result<SamlSpUpdated> {
    let rp = find_rp(ctx, &u.entity_id)?;
    let RpProtocol::Saml(saml) = &rp.protocol else {
        return Err(invalid(format!(
            "'{}' is an OIDC client, not a SAML service provider",
            u.entity_id
        )));
    };
    let old = ctx.dir.saml_sp_options(rp.id)?;
    let cert = match u.metadata_signing_cert {
        Some(pem) => signing_cert(pem.as_deref())?,
        None => old.metadata_signing_cert.clone(),
    };
    let document = match &u.metadata {
        Some(doc) => {
            let (document, meta) = protocol::saml::sp::verified(doc, cert.as_deref())
                .map_err(|e| invalid(e.to_string()))?;
            if meta.entity_id != saml.entity_id {
                return Err(invalid(format!(
                    "the metadata is for entity ID '{}', not '{}'",
                    meta.entity_id, saml.entity_id
                )));
            }
            Some(document)
        }
        None => None,
    };
    let metadata_url = u.metadata_url.clone().or(old.metadata_url.clone());
    let options = SamlSpOptions {
        relay_states: match &u.relay_states {
            Some(list) => relay_state_urls(list)?,
            None => old.relay_states.clone(),
        },
        refresh_hours: refresh_hours(
            u.refresh_hours.unwrap_or(old.refresh_hours),
            metadata_url.as_deref(),
        )?,
        metadata_url,
        metadata_signing_cert: cert,
        refreshed_at: if document.is_some() {
            Some(ctx.now())
        } else {
            old.refreshed_at
        },
        refresh_error: if document.is_some() {
            None
        } else {
            old.refresh_error.clone()
        },
    };
    let metadata_changed = document.as_ref().is_some_and(|d| *d != saml.metadata);
    let changed = metadata_changed
        || options.relay_states != old.relay_states
        || options.metadata_url != old.metadata_url
        || options.refresh_hours != old.refresh_hours
        || options.metadata_signing_cert != old.metadata_signing_cert;
    let audit = changed.then(|| {
        ctx.audit(
            AuditAction::SamlSpUpdate,
            None,
            Some(saml.entity_id.clone()),
            serde_json::json!({"metadata_changed": metadata_changed,
                "relay_states": options.relay_states, "metadata_url": options.metadata_url,
                "refresh_hours": options.refresh_hours,
                "metadata_signed": options.metadata_signing_cert.is_some()}),
        )
    });
    ctx.dir.update_saml_sp(
        SamlSpChange {
            rp: rp.id,
            metadata: document,
            options: options.clone(),
        },
        ctx.now(),
        audit,
    )?;
    let registrations = ctx.dir.registrations_of_relying_party(rp.id)?;
    let rp = ctx.dir.relying_party(rp.id)?.unwrap_or(rp);
    Ok(SamlSpUpdated {
        rp,
        options,
        metadata_changed,
        registrations,
    })
}

/// Remove a SAML service provider and every school's registration of it (`saml-sp
/// remove`): from then on it gets no sign-ins and no data. While any school has a
/// registration of it, only with `force`. Returns the registrations it removed.
pub fn remove_saml_sp(
    ctx: Ctx<'_>,
    entity_id: &str,
    force: bool,
) -> Result<(RelyingParty, Vec<Registration>)> {
    let rp = find_rp(ctx, entity_id)?;
    if !matches!(rp.protocol, RpProtocol::Saml(_)) {
        return Err(invalid(format!(
            "'{entity_id}' is an OIDC client, not a SAML service provider"
        )));
    }
    let registrations = ctx.dir.registrations_of_relying_party(rp.id)?;
    if !registrations.is_empty() && !force {
        let schools: Vec<String> = registrations.iter().map(|r| r.school.to_string()).collect();
        return Err(invalid(format!(
            "'{entity_id}' is registered by {} school(s) ({}): removing it deletes those registrations; give --force to remove it anyway, or use 'saml-sp update' to replace its metadata",
            schools.len(),
            schools.join(", ")
        )));
    }
    let audit = ctx.audit(
        AuditAction::SamlSpRemove,
        None,
        Some(entity_id.to_string()),
        serde_json::json!({"name": rp.name,
            "registrations_removed": registrations.iter().map(|r| r.school.to_string()).collect::<Vec<_>>()}),
    );
    ctx.dir.remove_relying_party(rp.id, audit)?;
    Ok((rp, registrations))
}
