//! [`broker::repo::Upstreams`] on diesel: the `upstreams` and `upstream_schools` tables.

use std::str::FromStr;

use broker::model::{AuditEvent, MatchRule, Upstream, UpstreamProtocol};
use broker::repo::{RepoError, RepoResult, Upstreams};
use claims::{InstellingRef, Role};
use diesel::prelude::*;
use uuid::Uuid;

use super::directory::{DieselDirectory, TxError};
use super::schema::{upstream_schools, upstreams};
use super::schools::load_school;
use super::DbConnection;

/// An upstream row as stored.
type UpstreamRow = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    bool,
    bool,
    String,
    Option<String>,
    bool,
    String,
    String,
);

/// An upstream with the schools it serves.
fn load_upstreams(
    c: &mut DbConnection,
    filter: Option<(&str, &str)>,
) -> Result<Vec<Upstream>, TxError> {
    let mut q = upstreams::table
        .select((
            upstreams::id,
            upstreams::name,
            upstreams::protocol,
            upstreams::oidc_issuer,
            upstreams::client_id,
            upstreams::client_secret,
            upstreams::saml_metadata,
            upstreams::match_rule,
            upstreams::match_claim,
            upstreams::provision,
            upstreams::enabled,
            upstreams::scopes,
            upstreams::saml_entity_id,
            upstreams::allow_unsolicited,
            upstreams::client_auth,
            upstreams::provision_roles,
        ))
        .order(upstreams::name.asc())
        .into_boxed();
    match filter {
        Some(("id", v)) => q = q.filter(upstreams::id.eq(v.to_string())),
        Some((_, v)) => q = q.filter(upstreams::name.eq(v.to_string())),
        None => {}
    }
    let rows: Vec<UpstreamRow> = q.load(c)?;
    let bad = |what: &str| TxError::Repo(RepoError::Backend(format!("stored upstream: {what}")));
    let mut out = Vec::new();
    for (
        id,
        name,
        protocol,
        issuer,
        client_id,
        secret,
        metadata,
        rule,
        claim,
        provision,
        enabled,
        scopes,
        entity,
        allow_unsolicited,
        client_auth,
        provision_roles,
    ) in rows
    {
        let schools: Vec<String> = upstream_schools::table
            .filter(upstream_schools::upstream_id.eq(&id))
            .select(upstream_schools::school_ref)
            .order(upstream_schools::school_ref.asc())
            .load(c)?;
        let protocol = match protocol.as_str() {
            "oidc" => UpstreamProtocol::Oidc {
                issuer: issuer.ok_or_else(|| bad("issuer"))?,
                client_id: client_id.ok_or_else(|| bad("client id"))?,
                client_secret_sealed: secret,
                client_auth,
                scopes: scopes.split_whitespace().map(str::to_string).collect(),
            },
            _ => UpstreamProtocol::Saml {
                entity_id: entity.ok_or_else(|| bad("entity id"))?,
                metadata_xml: metadata.ok_or_else(|| bad("metadata"))?,
                allow_unsolicited,
            },
        };
        out.push(Upstream {
            id: Uuid::parse_str(&id).map_err(|_| bad("id"))?,
            name,
            protocol,
            match_rule: MatchRule::parse(&rule).ok_or_else(|| bad("match rule"))?,
            match_claim: claim,
            provision,
            provision_roles: provision_roles
                .split_whitespace()
                .map(|r| Role::from_str(r).map_err(|_| bad("provision role")))
                .collect::<Result<_, _>>()?,
            enabled,
            schools: schools
                .iter()
                .map(|s| InstellingRef::from_str(s).map_err(|_| bad("school")))
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(out)
}

impl Upstreams for DieselDirectory {
    fn insert_upstream(&self, u: Upstream, audit: AuditEvent) -> RepoResult<Upstream> {
        let id = u.id.to_string();
        let now = audit.at;
        self.audited(audit, |c| {
            let unsolicited = matches!(
                u.protocol,
                UpstreamProtocol::Saml {
                    allow_unsolicited: true,
                    ..
                }
            );
            let client_auth = match &u.protocol {
                UpstreamProtocol::Oidc { client_auth, .. } => client_auth.clone(),
                UpstreamProtocol::Saml { .. } => "client_secret_basic".to_string(),
            };
            let (protocol, issuer, client_id, secret, metadata, scopes, entity) = match &u.protocol
            {
                UpstreamProtocol::Oidc {
                    issuer,
                    client_id,
                    client_secret_sealed,
                    scopes,
                    ..
                } => (
                    "oidc",
                    Some(issuer.clone()),
                    Some(client_id.clone()),
                    client_secret_sealed.clone(),
                    None,
                    scopes.join(" "),
                    None,
                ),
                UpstreamProtocol::Saml {
                    entity_id,
                    metadata_xml,
                    ..
                } => (
                    "saml",
                    None,
                    None,
                    None,
                    Some(metadata_xml.clone()),
                    String::new(),
                    Some(entity_id.clone()),
                ),
            };
            diesel::insert_into(upstreams::table)
                .values((
                    upstreams::id.eq(&id),
                    upstreams::name.eq(&u.name),
                    upstreams::protocol.eq(protocol),
                    upstreams::oidc_issuer.eq(issuer),
                    upstreams::client_id.eq(client_id),
                    upstreams::client_secret.eq(secret),
                    upstreams::saml_metadata.eq(metadata),
                    upstreams::match_rule.eq(u.match_rule.as_str()),
                    upstreams::match_claim.eq(&u.match_claim),
                    upstreams::provision.eq(u.provision),
                    upstreams::enabled.eq(u.enabled),
                    upstreams::created_at.eq(now),
                    upstreams::scopes.eq(scopes),
                    upstreams::saml_entity_id.eq(entity),
                    upstreams::allow_unsolicited.eq(unsolicited),
                    upstreams::client_auth.eq(client_auth),
                    upstreams::provision_roles.eq(u
                        .provision_roles
                        .iter()
                        .map(|r| r.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")),
                ))
                .execute(c)?;
            for school in &u.schools {
                if load_school(c, &school.to_string())?.is_none() {
                    return Err(RepoError::NotFound(format!(
                        "no school with INSTELLING_REF {school}"
                    ))
                    .into());
                }
                diesel::insert_into(upstream_schools::table)
                    .values((
                        upstream_schools::upstream_id.eq(&id),
                        upstream_schools::school_ref.eq(school.to_string()),
                    ))
                    .execute(c)?;
            }
            load_upstreams(c, Some(("id", &id)))?
                .pop()
                .ok_or_else(|| RepoError::NotFound("upstream".into()).into())
        })
    }

    fn upstream(&self, id: Uuid) -> RepoResult<Option<Upstream>> {
        self.read(|c| Ok(load_upstreams(c, Some(("id", &id.to_string())))?.pop()))
    }

    fn upstream_by_name(&self, name: &str) -> RepoResult<Option<Upstream>> {
        self.read(|c| Ok(load_upstreams(c, Some(("name", name)))?.pop()))
    }

    fn upstreams(&self) -> RepoResult<Vec<Upstream>> {
        self.read(|c| load_upstreams(c, None))
    }

    fn remove_upstream(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()> {
        self.audited(audit, |c| {
            diesel::delete(
                upstream_schools::table.filter(upstream_schools::upstream_id.eq(id.to_string())),
            )
            .execute(c)?;
            let n = diesel::delete(upstreams::table.find(id.to_string())).execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no upstream {id}")).into());
            }
            Ok(())
        })
    }
}
