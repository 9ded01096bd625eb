//! [`broker::repo::RelyingParties`] on diesel: the `relying_parties` and `saml_sp_options` tables.

use std::str::FromStr;

use broker::model::{
    AccessTokenFormat, AuditEvent, JwsAlg, OidcClient, RelyingParty, RpKind, RpProtocol, SamlSp,
    SamlSpOptions,
};
use broker::repo::{RelyingParties, RepoError, RepoResult, SamlSpChange};
use claims::Audience;
use diesel::prelude::*;
use uuid::Uuid;

use super::audit::write_audit;
use super::directory::{corrupt, json_list, parse_uuid, to_json_list, DieselDirectory};
use super::schema::{registrations, relying_parties, saml_sp_options};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = relying_parties)]
pub(super) struct RpRow {
    id: String,
    name: String,
    kind: String,
    protocol: String,
    client_id: Option<String>,
    client_secret_hash: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    initiate_login_uri: Option<String>,
    backchannel_logout_uri: Option<String>,
    jwks_uri: Option<String>,
    jwks: Option<String>,
    token_endpoint_auth_method: Option<String>,
    id_token_alg: String,
    sector: String,
    entity_id: Option<String>,
    saml_metadata: Option<String>,
    home_allowed: bool,
    audience: String,
    enabled: bool,
    created_at: i64,
    updated_at: i64,
    offline_access: bool,
    access_token_format: String,
}

impl RpRow {
    pub(super) fn from_domain(rp: RelyingParty) -> Self {
        let mut row = RpRow {
            id: rp.id.to_string(),
            name: rp.name,
            kind: rp.kind.as_str().into(),
            protocol: String::new(),
            client_id: None,
            client_secret_hash: None,
            redirect_uris: "[]".into(),
            post_logout_redirect_uris: "[]".into(),
            initiate_login_uri: None,
            backchannel_logout_uri: None,
            jwks_uri: None,
            jwks: None,
            token_endpoint_auth_method: None,
            id_token_alg: JwsAlg::RS256.as_str().into(),
            sector: rp.sector,
            entity_id: None,
            saml_metadata: None,
            home_allowed: rp.home_allowed,
            audience: rp.audience.to_string(),
            enabled: rp.enabled,
            created_at: rp.created_at,
            updated_at: rp.created_at,
            offline_access: rp.offline_access,
            access_token_format: AccessTokenFormat::Jwt.as_str().into(),
        };
        match rp.protocol {
            RpProtocol::Oidc(c) => {
                row.protocol = "oidc".into();
                row.client_id = Some(c.client_id);
                row.client_secret_hash = c.client_secret_hash;
                row.redirect_uris = to_json_list(&c.redirect_uris);
                row.post_logout_redirect_uris = to_json_list(&c.post_logout_redirect_uris);
                row.initiate_login_uri = c.initiate_login_uri;
                row.backchannel_logout_uri = c.backchannel_logout_uri;
                row.jwks_uri = c.jwks_uri;
                row.jwks = c.jwks;
                row.token_endpoint_auth_method = Some(c.token_endpoint_auth_method);
                row.id_token_alg = c.id_token_alg.as_str().into();
                row.access_token_format = c.access_token_format.as_str().into();
            }
            RpProtocol::Saml(s) => {
                row.protocol = "saml".into();
                row.entity_id = Some(s.entity_id);
                row.saml_metadata = Some(s.metadata);
            }
        }
        row
    }

    pub(super) fn into_domain(self) -> RepoResult<RelyingParty> {
        let protocol = match self.protocol.as_str() {
            "oidc" => RpProtocol::Oidc(OidcClient {
                client_id: self
                    .client_id
                    .ok_or_else(|| corrupt("client", "no client id"))?,
                client_secret_hash: self.client_secret_hash,
                redirect_uris: json_list(&self.redirect_uris)?,
                post_logout_redirect_uris: json_list(&self.post_logout_redirect_uris)?,
                initiate_login_uri: self.initiate_login_uri,
                backchannel_logout_uri: self.backchannel_logout_uri,
                jwks_uri: self.jwks_uri,
                jwks: self.jwks,
                token_endpoint_auth_method: self
                    .token_endpoint_auth_method
                    .unwrap_or_else(|| "client_secret_basic".into()),
                id_token_alg: JwsAlg::from_str(&self.id_token_alg)
                    .map_err(|e| corrupt("id_token_alg", e))?,
                access_token_format: AccessTokenFormat::from_str(&self.access_token_format)
                    .map_err(|e| corrupt("access_token_format", e))?,
            }),
            "saml" => RpProtocol::Saml(SamlSp {
                entity_id: self
                    .entity_id
                    .ok_or_else(|| corrupt("SP", "no entity id"))?,
                metadata: self.saml_metadata.unwrap_or_default(),
            }),
            other => return Err(corrupt("protocol", other)),
        };
        Ok(RelyingParty {
            id: parse_uuid(&self.id)?,
            name: self.name,
            kind: RpKind::from_str(&self.kind).map_err(|e| corrupt("kind", e))?,
            protocol,
            sector: self.sector,
            home_allowed: self.home_allowed,
            audience: Audience::from_str(&self.audience).map_err(|e| corrupt("audience", e))?,
            enabled: self.enabled,
            offline_access: self.offline_access,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = saml_sp_options)]
#[diesel(treat_none_as_null = true)]
struct SamlSpOptionsRow {
    rp_id: String,
    relay_states: String,
    metadata_url: Option<String>,
    refresh_hours: Option<i32>,
    metadata_signing_cert: Option<String>,
    refreshed_at: Option<i64>,
    refresh_error: Option<String>,
    updated_at: i64,
}

impl SamlSpOptionsRow {
    fn from_domain(rp: Uuid, o: SamlSpOptions, now: i64) -> Self {
        Self {
            rp_id: rp.to_string(),
            relay_states: to_json_list(&o.relay_states),
            metadata_url: o.metadata_url,
            refresh_hours: o.refresh_hours.and_then(|h| i32::try_from(h).ok()),
            metadata_signing_cert: o.metadata_signing_cert,
            refreshed_at: o.refreshed_at,
            refresh_error: o.refresh_error,
            updated_at: now,
        }
    }

    fn into_domain(self) -> RepoResult<SamlSpOptions> {
        Ok(SamlSpOptions {
            relay_states: json_list(&self.relay_states)?,
            metadata_url: self.metadata_url,
            refresh_hours: self.refresh_hours.and_then(|h| u32::try_from(h).ok()),
            metadata_signing_cert: self.metadata_signing_cert,
            refreshed_at: self.refreshed_at,
            refresh_error: self.refresh_error,
        })
    }
}

impl RelyingParties for DieselDirectory {
    fn insert_relying_party(
        &self,
        rp: RelyingParty,
        audit: AuditEvent,
    ) -> RepoResult<RelyingParty> {
        let row = RpRow::from_domain(rp);
        insert_audited!(self, relying_parties::table, row, audit)
    }

    fn relying_party(&self, id: Uuid) -> RepoResult<Option<RelyingParty>> {
        self.find(
            |c| {
                relying_parties::table
                    .find(id.to_string())
                    .select(RpRow::as_select())
                    .first(c)
            },
            RpRow::into_domain,
        )
    }

    fn relying_party_by_public_id(&self, public_id: &str) -> RepoResult<Option<RelyingParty>> {
        if let Some(rp) = self.cached_rp(public_id) {
            return Ok(Some(rp));
        }
        let found = self.find(
            |c| {
                relying_parties::table
                    .filter(
                        relying_parties::client_id
                            .eq(public_id)
                            .or(relying_parties::entity_id.eq(public_id)),
                    )
                    .select(RpRow::as_select())
                    .first(c)
            },
            RpRow::into_domain,
        )?;
        if let Some(rp) = &found {
            self.remember_rp(rp);
        }
        Ok(found)
    }

    fn remove_relying_party(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()> {
        self.audited(audit, |c| {
            diesel::delete(registrations::table.filter(registrations::rp_id.eq(id.to_string())))
                .execute(c)?;
            diesel::delete(saml_sp_options::table.find(id.to_string())).execute(c)?;
            let n = diesel::delete(relying_parties::table.find(id.to_string())).execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no relying party {id}")).into());
            }
            Ok(())
        })?;
        self.rp_cache.clear();
        Ok(())
    }

    fn saml_sp_options(&self, rp: Uuid) -> RepoResult<SamlSpOptions> {
        self.find(
            |c| {
                saml_sp_options::table
                    .find(rp.to_string())
                    .select(SamlSpOptionsRow::as_select())
                    .first(c)
            },
            SamlSpOptionsRow::into_domain,
        )
        .map(Option::unwrap_or_default)
    }

    fn set_access_token_format(
        &self,
        rp: Uuid,
        format: AccessTokenFormat,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.audited(audit, |c| {
            let n = diesel::update(
                relying_parties::table
                    .find(rp.to_string())
                    .filter(relying_parties::protocol.eq("oidc")),
            )
            .set((
                relying_parties::access_token_format.eq(format.as_str()),
                relying_parties::updated_at.eq(now),
            ))
            .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no OIDC client {rp}")).into());
            }
            Ok(())
        })?;
        self.rp_cache.clear();
        Ok(())
    }

    fn update_saml_sp(
        &self,
        change: SamlSpChange,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()> {
        let SamlSpChange {
            rp,
            metadata,
            options,
        } = change;
        let row = SamlSpOptionsRow::from_domain(rp, options, now);
        self.tx(|c| {
            let id = rp.to_string();
            let found = match metadata {
                Some(m) => {
                    diesel::update(
                        relying_parties::table
                            .find(&id)
                            .filter(relying_parties::protocol.eq("saml")),
                    )
                    .set((
                        relying_parties::saml_metadata.eq(m),
                        relying_parties::updated_at.eq(now),
                    ))
                    .execute(c)?
                        > 0
                }
                None => {
                    relying_parties::table
                        .find(&id)
                        .filter(relying_parties::protocol.eq("saml"))
                        .count()
                        .get_result::<i64>(c)?
                        > 0
                }
            };
            if !found {
                return Err(RepoError::NotFound(format!("no SAML service provider {rp}")).into());
            }
            let exists = saml_sp_options::table
                .find(&id)
                .count()
                .get_result::<i64>(c)?
                > 0;
            if exists {
                diesel::update(saml_sp_options::table.find(&id))
                    .set(&row)
                    .execute(c)?;
            } else {
                diesel::insert_into(saml_sp_options::table)
                    .values(&row)
                    .execute(c)?;
            }
            if let Some(a) = audit {
                write_audit(c, a)?;
            }
            Ok(())
        })?;
        self.rp_cache.clear();
        Ok(())
    }

    fn relying_parties(&self) -> RepoResult<Vec<RelyingParty>> {
        self.load_all(
            |c| {
                relying_parties::table
                    .select(RpRow::as_select())
                    .order(relying_parties::name)
                    .load(c)
            },
            RpRow::into_domain,
        )
    }
}
