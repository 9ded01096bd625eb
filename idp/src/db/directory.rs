//! [`broker::repo::Directory`] on diesel. Row structs mirror the tables; `into_domain`
//! functions turn them into the broker's types and refuse rows that break the domain's rules.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use broker::model::{
    AuditEvent, Group, JwsAlg, MatchRule, OidcClient, PupilAuth, Registration, RelyingParty,
    RpKind, RpProtocol, SamlSp, SamlSpOptions, School, SchoolBoard, SchoolStatus, ThuisAccount,
    Upstream, UpstreamProtocol, User, UserStanding, UserStatus, MAX_HOME_ADDRESSES,
};
use broker::repo::{
    Directory, NewBoard, NewGroup, NewRelyingParty, NewSchool, NewUpstream, NewUser,
    RegistrationChange, RepoError, RepoResult,
};
use claims::{Audience, Brin6, EckId, InstellingRef, Jaargroep, Release, Role};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use parking_lot::Mutex;
use uuid::Uuid;

use super::schema::{
    audit_events, group_members, pupil_secrets, registrations, relying_parties, saml_sp_options,
    school_boards, school_groups, schools, settings, staff_totp, thuis_accounts, thuis_codes,
    thuis_links, thuis_tokens, upstream_schools, upstreams, user_roles, users,
};
use super::{DbConn, DbConnection, DbPool};

/// How long a relying party, school or user read from the database is reused. They are read
/// on every authorize and token request and change rarely; a change made on this node is seen
/// at once, one made on another node within this time. (Registrations — a school's consent —
/// are never cached.)
const RP_CACHE_TTL: Duration = Duration::from_secs(10);
const RP_CACHE_MAX: usize = 10_000;

/// The directory on a diesel pool (SQLite or PostgreSQL).
#[derive(Clone)]
pub struct DieselDirectory {
    pool: DbPool,
    rp_cache: Arc<Mutex<HashMap<String, (Instant, RelyingParty)>>>,
    school_cache: Arc<Mutex<HashMap<String, (Instant, School)>>>,
    user_cache: Arc<Mutex<HashMap<Uuid, (Instant, User)>>>,
}

impl std::fmt::Debug for DieselDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselDirectory").finish_non_exhaustive()
    }
}

impl DieselDirectory {
    pub fn new(pool: DbPool) -> Self {
        Self {
            pool,
            rp_cache: Arc::new(Mutex::new(HashMap::new())),
            school_cache: Arc::new(Mutex::new(HashMap::new())),
            user_cache: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn cached_rp(&self, public_id: &str) -> Option<RelyingParty> {
        let cache = self.rp_cache.lock();
        cache
            .get(public_id)
            .filter(|(at, _)| at.elapsed() < RP_CACHE_TTL)
            .map(|(_, rp)| rp.clone())
    }

    fn remember_rp(&self, rp: &RelyingParty) {
        let mut cache = self.rp_cache.lock();
        if cache.len() >= RP_CACHE_MAX {
            cache.clear();
        }
        cache.insert(rp.public_id().to_string(), (Instant::now(), rp.clone()));
    }

    pub fn pool(&self) -> &DbPool {
        &self.pool
    }

    fn conn(&self) -> RepoResult<DbConn> {
        self.pool
            .get()
            .map_err(|e| RepoError::Backend(format!("no database connection: {e}")))
    }

    /// Run `f` on a connection, without a transaction (reads on the hot path).
    pub(super) fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        let mut conn = self.conn()?;
        f(&mut conn).map_err(RepoError::from)
    }

    /// Run `f` in one transaction.
    pub(super) fn tx<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, TxError>,
    ) -> RepoResult<T> {
        let mut conn = self.conn()?;
        let c: &mut DbConnection = &mut conn;
        c.transaction::<T, TxError, _>(f).map_err(RepoError::from)
    }
}

/// Errors inside a transaction: a domain error or a diesel error (which rolls back).
#[derive(Debug)]
pub(super) enum TxError {
    Repo(RepoError),
    Diesel(DieselError),
}

impl From<DieselError> for TxError {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

impl From<RepoError> for TxError {
    fn from(e: RepoError) -> Self {
        Self::Repo(e)
    }
}

impl From<TxError> for RepoError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Repo(r) => r,
            TxError::Diesel(d) => map_diesel(d),
        }
    }
}

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

/// A home account with the pupils it serves.
fn load_thuis_account(c: &mut DbConnection, id: &str) -> Result<Option<ThuisAccount>, TxError> {
    let row: Option<(String, String, Option<String>, Option<i64>)> = thuis_accounts::table
        .find(id)
        .select((
            thuis_accounts::id,
            thuis_accounts::email,
            thuis_accounts::password_hash,
            thuis_accounts::activated_at,
        ))
        .first(c)
        .optional()?;
    let Some((id, email, password_hash, activated_at)) = row else {
        return Ok(None);
    };
    let pupils: Vec<String> = thuis_links::table
        .filter(thuis_links::account_id.eq(&id))
        .select(thuis_links::user_id)
        .order((thuis_links::created_at.asc(), thuis_links::user_id.asc()))
        .load(c)?;
    let parse = |s: &str| {
        Uuid::parse_str(s).map_err(|_| {
            TxError::Repo(RepoError::Backend(format!(
                "a stored id is not a UUID: {s}"
            )))
        })
    };
    Ok(Some(ThuisAccount {
        id: parse(&id)?,
        email,
        password_hash,
        activated_at,
        pupils: pupils.iter().map(|p| parse(p)).collect::<Result<_, _>>()?,
    }))
}

/// Turn a uniqueness violation into a message naming the field.
fn map_diesel(e: DieselError) -> RepoError {
    match e {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let what = format!(
                "{} {}",
                info.constraint_name().unwrap_or_default(),
                info.message()
            );
            let field = [
                ("brin6", "an active school already has this BRIN6"),
                ("email", "this e-mail address is already in use"),
                ("eck_id", "this ECK-iD is already in use"),
                (
                    "las_key",
                    "this school already has a user with this LAS key",
                ),
                (
                    "school_groups",
                    "this school already has a group with this key",
                ),
                (
                    "client_id",
                    "a relying party with this client id already exists",
                ),
                (
                    "entity_id",
                    "a relying party with this entity id already exists",
                ),
                (
                    "bestuursnummer",
                    "a school board with this bestuursnummer already exists",
                ),
                ("upstreams", "an upstream with this name already exists"),
            ]
            .iter()
            .find(|(needle, _)| what.contains(needle))
            .map(|(_, msg)| (*msg).to_string())
            .unwrap_or_else(|| format!("already exists ({})", info.message()));
            RepoError::Conflict(field)
        }
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            RepoError::NotFound(format!(
                "a referenced record does not exist ({})",
                info.message()
            ))
        }
        DieselError::NotFound => RepoError::NotFound("not found".into()),
        other => RepoError::Backend(other.to_string()),
    }
}

fn corrupt(what: &str, detail: impl std::fmt::Display) -> RepoError {
    RepoError::Backend(format!("stored {what} is malformed: {detail}"))
}

fn parse_uuid(s: &str) -> RepoResult<Uuid> {
    Uuid::parse_str(s).map_err(|e| corrupt("id", e))
}

fn parse_ref(s: &str) -> RepoResult<InstellingRef> {
    InstellingRef::from_str(s).map_err(|e| corrupt("INSTELLING_REF", e))
}

fn json_list(s: &str) -> RepoResult<Vec<String>> {
    serde_json::from_str(s).map_err(|e| corrupt("list", e))
}

fn to_json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

// ---------------------------------------------------------------------------------------
// Rows

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = school_boards)]
struct BoardRow {
    id: String,
    name: String,
    bestuursnummer: Option<String>,
    created_at: i64,
}

impl BoardRow {
    fn into_domain(self) -> RepoResult<SchoolBoard> {
        Ok(SchoolBoard {
            id: parse_uuid(&self.id)?,
            name: self.name,
            bestuursnummer: self.bestuursnummer,
            created_at: self.created_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = schools)]
struct SchoolRow {
    instelling_ref: String,
    board_id: Option<String>,
    brin6: String,
    name: String,
    status: String,
    merged_into: Option<String>,
    networks: String,
    created_at: i64,
    updated_at: i64,
}

impl SchoolRow {
    fn into_domain(self) -> RepoResult<School> {
        let status = match (self.status.as_str(), &self.merged_into) {
            ("active", _) => SchoolStatus::Active,
            ("closed", _) => SchoolStatus::Closed,
            ("merged", Some(into)) => SchoolStatus::Merged(parse_ref(into)?),
            (other, _) => return Err(corrupt("school status", other)),
        };
        let networks = json_list(&self.networks)?
            .iter()
            .map(|n| n.parse().map_err(|e| corrupt("network", e)))
            .collect::<RepoResult<Vec<_>>>()?;
        Ok(School {
            instelling_ref: parse_ref(&self.instelling_ref)?,
            board_id: self.board_id.as_deref().map(parse_uuid).transpose()?,
            brin6: Brin6::from_str(&self.brin6).map_err(|e| corrupt("BRIN6", e))?,
            name: self.name,
            status,
            networks,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = school_groups)]
struct GroupRow {
    id: String,
    school_ref: String,
    las_key: String,
    name: String,
    jaargroep: Option<i32>,
    composite: bool,
    school_year: String,
    created_at: i64,
    updated_at: i64,
}

impl GroupRow {
    fn into_domain(self) -> RepoResult<Group> {
        let jaargroep = self
            .jaargroep
            .map(|j| Jaargroep::from_str(&j.to_string()).map_err(|e| corrupt("jaargroep", e)))
            .transpose()?;
        Ok(Group {
            id: parse_uuid(&self.id)?,
            school: parse_ref(&self.school_ref)?,
            key: self.las_key,
            name: self.name,
            jaargroep,
            composite: self.composite,
            school_year: self.school_year,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
struct UserRow {
    id: String,
    school_ref: String,
    las_key: Option<String>,
    eck_id: Option<String>,
    given_name: String,
    family_name: String,
    email: Option<String>,
    status: String,
    picture: Option<String>,
    pupil_auth: Option<String>,
    pin_hash: Option<String>,
    picture_password_hash: Option<String>,
    password_hash: Option<String>,
    source: String,
    created_at: i64,
    updated_at: i64,
    offboarded: Option<String>,
    revoked_at: Option<i64>,
}

/// The status from the `status` column (active or inactive) and the `offboarded` one (disabled
/// or removed, which take precedence).
fn parse_user_status(status: &str, offboarded: Option<&str>) -> RepoResult<UserStatus> {
    match (offboarded, status) {
        (Some("disabled"), _) => Ok(UserStatus::Disabled),
        (Some("removed"), _) => Ok(UserStatus::Removed),
        (Some(other), _) => Err(corrupt("user offboarding", other)),
        (None, "active") => Ok(UserStatus::Active),
        (None, "inactive") => Ok(UserStatus::Inactive),
        (None, other) => Err(corrupt("user status", other)),
    }
}

impl UserRow {
    fn into_domain(self, roles: Vec<Role>, group_ids: Vec<Uuid>) -> RepoResult<User> {
        let status = parse_user_status(&self.status, self.offboarded.as_deref())?;
        let pupil_auth = match self.pupil_auth.as_deref() {
            None => None,
            Some("pin") => Some(PupilAuth::Pin),
            Some("picture") => Some(PupilAuth::Picture),
            Some(other) => return Err(corrupt("pupil_auth", other)),
        };
        Ok(User {
            id: parse_uuid(&self.id)?,
            school: parse_ref(&self.school_ref)?,
            roles,
            las_key: self.las_key,
            eck_id: self
                .eck_id
                .as_deref()
                .map(|e| EckId::parse_import(e).map_err(|_| corrupt("ECK-iD", "unparseable")))
                .transpose()?,
            given_name: self.given_name,
            family_name: self.family_name,
            email: self.email,
            status,
            picture: self.picture,
            pupil_auth,
            pin_hash: self.pin_hash,
            picture_password_hash: self.picture_password_hash,
            password_hash: self.password_hash,
            source: self.source,
            group_ids,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = relying_parties)]
struct RpRow {
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
}

impl RpRow {
    fn from_new(rp: NewRelyingParty, now: i64) -> Self {
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
            enabled: true,
            created_at: now,
            updated_at: now,
            offline_access: rp.offline_access,
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
            }
            RpProtocol::Saml(s) => {
                row.protocol = "saml".into();
                row.entity_id = Some(s.entity_id);
                row.saml_metadata = Some(s.metadata);
            }
        }
        row
    }

    fn into_domain(self) -> RepoResult<RelyingParty> {
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

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = registrations)]
struct RegistrationRow {
    school_ref: String,
    rp_id: String,
    allowed: bool,
    release_eckid: bool,
    release_names: bool,
    release_groups: bool,
    home_allowed: bool,
    since: i64,
    updated_at: i64,
}

impl RegistrationRow {
    fn into_domain(self) -> RepoResult<Registration> {
        Ok(Registration {
            school: parse_ref(&self.school_ref)?,
            rp_id: parse_uuid(&self.rp_id)?,
            allowed: self.allowed,
            release: Release {
                eckid: self.release_eckid,
                names: self.release_names,
                groups: self.release_groups,
            },
            home_allowed: self.home_allowed,
            since: self.since,
            updated_at: self.updated_at,
        })
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
struct AuditRow {
    id: String,
    at: i64,
    actor: String,
    action: String,
    school_ref: Option<String>,
    subject: Option<String>,
    details: String,
}

impl AuditRow {
    fn from_domain(e: AuditEvent) -> Self {
        AuditRow {
            id: e.id.to_string(),
            at: e.at,
            actor: e.actor,
            action: e.action,
            school_ref: e.school.map(|s| s.to_string()),
            subject: e.subject,
            details: e.details.to_string(),
        }
    }

    fn into_domain(self) -> RepoResult<AuditEvent> {
        Ok(AuditEvent {
            id: parse_uuid(&self.id)?,
            at: self.at,
            actor: self.actor,
            action: self.action,
            school: self.school_ref.as_deref().map(parse_ref).transpose()?,
            subject: self.subject,
            details: serde_json::from_str(&self.details)
                .map_err(|e| corrupt("audit details", e))?,
        })
    }
}

pub(super) fn write_audit(conn: &mut DbConnection, event: AuditEvent) -> Result<(), TxError> {
    diesel::insert_into(audit_events::table)
        .values(AuditRow::from_domain(event))
        .execute(conn)?;
    Ok(())
}

fn load_school(conn: &mut DbConnection, r: &str) -> Result<Option<School>, TxError> {
    let row = schools::table
        .find(r)
        .select(SchoolRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(SchoolRow::into_domain).transpose()?)
}

/// Load users with their roles and groups, in two extra queries for the whole batch.
fn hydrate_users(conn: &mut DbConnection, rows: Vec<UserRow>) -> Result<Vec<User>, TxError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let roles: Vec<(String, String)> = user_roles::table
        .filter(user_roles::user_id.eq_any(&ids))
        .select((user_roles::user_id, user_roles::role))
        .order((user_roles::user_id, user_roles::role))
        .load(conn)?;
    let groups: Vec<(String, String)> = group_members::table
        .filter(group_members::user_id.eq_any(&ids))
        .select((group_members::user_id, group_members::group_id))
        .load(conn)?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut user_roles: Vec<Role> = roles
            .iter()
            .filter(|(u, _)| *u == row.id)
            .map(|(_, r)| Role::from_str(r).map_err(|e| corrupt("role", e)))
            .collect::<RepoResult<_>>()?;
        user_roles.sort_by_key(|r| role_rank(*r));
        let group_ids = groups
            .iter()
            .filter(|(u, _)| *u == row.id)
            .map(|(_, g)| parse_uuid(g))
            .collect::<RepoResult<_>>()?;
        out.push(row.into_domain(user_roles, group_ids)?);
    }
    Ok(out)
}

/// The order roles are listed in: the first is the one a token names.
fn role_rank(r: Role) -> u8 {
    match r {
        Role::Leerling => 0,
        Role::Leerkracht => 1,
        Role::Invalkracht => 2,
        Role::IctCoordinator => 3,
        Role::Ib => 4,
        Role::Rt => 5,
        Role::Stagiaire => 6,
    }
}

impl Directory for DieselDirectory {
    fn ping(&self) -> RepoResult<()> {
        let mut conn = self.conn()?;
        diesel::sql_query("SELECT 1")
            .execute(&mut *conn)
            .map_err(map_diesel)?;
        Ok(())
    }

    fn insert_board(
        &self,
        board: NewBoard,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<SchoolBoard> {
        let row = BoardRow {
            id: board.id.to_string(),
            name: board.name,
            bestuursnummer: board.bestuursnummer,
            created_at: now,
        };
        self.tx(|c| {
            diesel::insert_into(school_boards::table)
                .values(&row)
                .execute(c)?;
            write_audit(c, audit)?;
            Ok(())
        })?;
        row.into_domain()
    }

    fn board(&self, id: Uuid) -> RepoResult<Option<SchoolBoard>> {
        let mut conn = self.conn()?;
        school_boards::table
            .find(id.to_string())
            .select(BoardRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(BoardRow::into_domain)
            .transpose()
    }

    fn insert_school(&self, school: NewSchool, now: i64, audit: AuditEvent) -> RepoResult<School> {
        let networks: Vec<String> = school.networks.iter().map(|n| n.to_string()).collect();
        let row = SchoolRow {
            instelling_ref: school.instelling_ref.to_string(),
            board_id: school.board_id.map(|b| b.to_string()),
            brin6: school.brin6.to_string(),
            name: school.name,
            status: "active".into(),
            merged_into: None,
            networks: to_json_list(&networks),
            created_at: now,
            updated_at: now,
        };
        self.tx(|c| {
            diesel::insert_into(schools::table)
                .values(&row)
                .execute(c)?;
            write_audit(c, audit)?;
            Ok(())
        })?;
        row.into_domain()
    }

    fn school(&self, r: &InstellingRef) -> RepoResult<Option<School>> {
        let key = r.to_string();
        if let Some((at, s)) = self.school_cache.lock().get(&key) {
            if at.elapsed() < RP_CACHE_TTL {
                return Ok(Some(s.clone()));
            }
        }
        let mut conn = self.conn()?;
        let found = load_school(&mut conn, &key).map_err(RepoError::from)?;
        if let Some(s) = &found {
            let mut cache = self.school_cache.lock();
            if cache.len() >= RP_CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), s.clone()));
        }
        Ok(found)
    }

    fn schools(&self) -> RepoResult<Vec<School>> {
        let mut conn = self.conn()?;
        schools::table
            .select(SchoolRow::as_select())
            .order(schools::name)
            .load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(SchoolRow::into_domain)
            .collect()
    }

    fn change_brin6(
        &self,
        r: &InstellingRef,
        brin6: Brin6,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<School> {
        self.school_cache.lock().remove(&r.to_string());
        let key = r.to_string();
        self.tx(|c| {
            let n = diesel::update(schools::table.find(&key))
                .set((
                    schools::brin6.eq(brin6.to_string()),
                    schools::updated_at.eq(now),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(
                    RepoError::NotFound(format!("no school with INSTELLING_REF {key}")).into(),
                );
            }
            write_audit(c, audit)?;
            load_school(c, &key)?.ok_or_else(|| {
                RepoError::NotFound(format!("no school with INSTELLING_REF {key}")).into()
            })
        })
    }

    fn insert_group(&self, group: NewGroup, now: i64, audit: AuditEvent) -> RepoResult<Group> {
        let row = GroupRow {
            id: Uuid::new_v4().to_string(),
            school_ref: group.school.to_string(),
            las_key: group.key,
            name: group.name,
            jaargroep: group.jaargroep.map(|j| i32::from(j.get())),
            composite: group.composite,
            school_year: group.school_year,
            created_at: now,
            updated_at: now,
        };
        self.tx(|c| {
            if load_school(c, &row.school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {}",
                    row.school_ref
                ))
                .into());
            }
            diesel::insert_into(school_groups::table)
                .values(&row)
                .execute(c)?;
            write_audit(c, audit)?;
            Ok(())
        })?;
        row.into_domain()
    }

    fn group(&self, id: Uuid) -> RepoResult<Option<Group>> {
        let mut conn = self.conn()?;
        school_groups::table
            .find(id.to_string())
            .select(GroupRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(GroupRow::into_domain)
            .transpose()
    }

    fn group_by_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<Group>> {
        let mut conn = self.conn()?;
        school_groups::table
            .filter(school_groups::school_ref.eq(school.to_string()))
            .filter(school_groups::las_key.eq(key))
            .select(GroupRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(GroupRow::into_domain)
            .transpose()
    }

    fn groups_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Group>> {
        let mut conn = self.conn()?;
        school_groups::table
            .filter(school_groups::school_ref.eq(school.to_string()))
            .select(GroupRow::as_select())
            .order((school_groups::jaargroep, school_groups::name))
            .load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(GroupRow::into_domain)
            .collect()
    }

    fn insert_user(&self, user: NewUser, now: i64, audit: AuditEvent) -> RepoResult<User> {
        let id = user.id.to_string();
        let row = UserRow {
            id: id.clone(),
            school_ref: user.school.to_string(),
            las_key: user.las_key,
            eck_id: user.eck_id.map(|e| e.as_str().to_string()),
            given_name: user.given_name,
            family_name: user.family_name,
            email: user.email.map(|e| e.to_lowercase()),
            status: user.status.as_str().into(),
            picture: user.picture,
            pupil_auth: user.pupil_auth.map(|p| p.as_str().to_string()),
            pin_hash: user.pin_hash,
            picture_password_hash: user.picture_password_hash,
            password_hash: user.password_hash,
            source: user.source,
            created_at: now,
            updated_at: now,
            offboarded: None,
            revoked_at: None,
        };
        let roles = user.roles;
        let group_ids = user.group_ids;
        let sealed = user.secret_sealed;
        let school_ref = row.school_ref.clone();
        self.tx(move |c| {
            if load_school(c, &school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {school_ref}"
                ))
                .into());
            }
            diesel::insert_into(users::table).values(&row).execute(c)?;
            if let Some(sealed) = &sealed {
                diesel::insert_into(pupil_secrets::table)
                    .values((
                        pupil_secrets::user_id.eq(&id),
                        pupil_secrets::sealed.eq(sealed),
                        pupil_secrets::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            for role in &roles {
                diesel::insert_into(user_roles::table)
                    .values((
                        user_roles::user_id.eq(&id),
                        user_roles::role.eq(role.to_string()),
                    ))
                    .execute(c)?;
            }
            for g in &group_ids {
                let group_school: Option<String> = school_groups::table
                    .find(g.to_string())
                    .select(school_groups::school_ref)
                    .first(c)
                    .optional()?;
                if group_school.as_deref() != Some(school_ref.as_str()) {
                    return Err(RepoError::NotFound(format!("no group {g} at this school")).into());
                }
                diesel::insert_into(group_members::table)
                    .values((
                        group_members::group_id.eq(g.to_string()),
                        group_members::user_id.eq(&id),
                    ))
                    .execute(c)?;
            }
            write_audit(c, audit)?;
            let mut users = hydrate_users(c, vec![row])?;
            users
                .pop()
                .ok_or_else(|| RepoError::NotFound("user vanished".into()).into())
        })
    }

    fn user(&self, id: Uuid) -> RepoResult<Option<User>> {
        let cached = self
            .user_cache
            .lock()
            .get(&id)
            .filter(|(at, _)| at.elapsed() < RP_CACHE_TTL)
            .map(|(_, u)| u.clone());
        if let Some(u) = cached {
            // The status is read again on every hit (one indexed column): a user disabled on
            // another node or by the command is refused here at once.
            if self
                .user_standing(id)?
                .is_some_and(|s| s.status == u.status)
            {
                return Ok(Some(u));
            }
        }
        let found = self.read(|c| {
            let rows = users::table
                .find(id.to_string())
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })?;
        if let Some(u) = &found {
            let mut cache = self.user_cache.lock();
            if cache.len() >= RP_CACHE_MAX {
                cache.clear();
            }
            cache.insert(id, (Instant::now(), u.clone()));
        }
        Ok(found)
    }

    fn user_by_email(&self, email: &str) -> RepoResult<Option<User>> {
        let email = email.trim().to_lowercase();
        self.tx(|c| {
            let rows = users::table
                .filter(users::email.eq(&email))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn users_of_group(&self, group: Uuid) -> RepoResult<Vec<User>> {
        self.tx(|c| {
            let rows = users::table
                .inner_join(group_members::table)
                .filter(group_members::group_id.eq(group.to_string()))
                .select(UserRow::as_select())
                .order((users::given_name, users::family_name))
                .load(c)?;
            hydrate_users(c, rows)
        })
    }

    fn users_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<User>> {
        self.tx(|c| {
            let rows = users::table
                .filter(users::school_ref.eq(school.to_string()))
                .filter(
                    users::offboarded
                        .is_null()
                        .or(users::offboarded.ne(UserStatus::Removed.as_str())),
                )
                .select(UserRow::as_select())
                .order((users::given_name, users::family_name))
                .load(c)?;
            hydrate_users(c, rows)
        })
    }

    fn user_standing(&self, id: Uuid) -> RepoResult<Option<UserStanding>> {
        type Row = (String, Option<String>, Option<i64>);
        let row: Option<Row> = self.read(|c| {
            Ok(users::table
                .find(id.to_string())
                .select((users::status, users::offboarded, users::revoked_at))
                .first(c)
                .optional()?)
        })?;
        row.map(|(status, offboarded, revoked_at)| {
            Ok(UserStanding {
                status: parse_user_status(&status, offboarded.as_deref())?,
                revoked_at,
            })
        })
        .transpose()
    }

    fn set_disabled(
        &self,
        user: Uuid,
        disabled: bool,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<User> {
        self.user_cache.lock().remove(&user);
        let found = self.tx(|c| {
            let target = users::table.find(user.to_string()).filter(
                users::offboarded
                    .is_null()
                    .or(users::offboarded.ne(UserStatus::Removed.as_str())),
            );
            let n = if disabled {
                diesel::update(target)
                    .set((
                        users::offboarded.eq(Some(UserStatus::Disabled.as_str())),
                        users::revoked_at.eq(Some(now)),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            } else {
                diesel::update(target)
                    .set((
                        users::offboarded.eq(None::<String>),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            };
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user} (or removed)")).into());
            }
            write_audit(c, audit)?;
            let rows = users::table
                .find(user.to_string())
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })?;
        self.user_cache.lock().remove(&user);
        found.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn remove_user(&self, user: Uuid, now: i64, audit: AuditEvent) -> RepoResult<User> {
        self.user_cache.lock().remove(&user);
        let id = user.to_string();
        let found = self.tx(|c| {
            let n = diesel::update(users::table.find(&id))
                .set((
                    users::offboarded.eq(Some(UserStatus::Removed.as_str())),
                    users::revoked_at.eq(Some(now)),
                    users::updated_at.eq(now),
                    users::given_name.eq(""),
                    users::family_name.eq(""),
                    users::email.eq(None::<String>),
                    users::eck_id.eq(None::<String>),
                    users::las_key.eq(None::<String>),
                    users::picture.eq(None::<String>),
                    users::pin_hash.eq(None::<String>),
                    users::picture_password_hash.eq(None::<String>),
                    users::password_hash.eq(None::<String>),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user}")).into());
            }
            diesel::delete(group_members::table.filter(group_members::user_id.eq(&id)))
                .execute(c)?;
            diesel::delete(pupil_secrets::table.filter(pupil_secrets::user_id.eq(&id)))
                .execute(c)?;
            diesel::delete(thuis_codes::table.filter(thuis_codes::user_id.eq(&id))).execute(c)?;
            let accounts: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(&id))
                .select(thuis_links::account_id)
                .load(c)?;
            diesel::delete(thuis_links::table.filter(thuis_links::user_id.eq(&id))).execute(c)?;
            for account in accounts {
                let left: i64 = thuis_links::table
                    .filter(thuis_links::account_id.eq(&account))
                    .count()
                    .get_result(c)?;
                if left == 0 {
                    diesel::delete(
                        thuis_tokens::table.filter(thuis_tokens::account_id.eq(&account)),
                    )
                    .execute(c)?;
                    diesel::delete(thuis_accounts::table.find(&account)).execute(c)?;
                }
            }
            write_audit(c, audit)?;
            let rows = users::table
                .find(&id)
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })?;
        self.user_cache.lock().remove(&user);
        found.ok_or_else(|| RepoError::NotFound(format!("no user {user}")))
    }

    fn insert_upstream(&self, u: NewUpstream, now: i64, audit: AuditEvent) -> RepoResult<Upstream> {
        let id = u.id.to_string();
        self.tx(|c| {
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
                    upstreams::enabled.eq(true),
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
            write_audit(c, audit)?;
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
        self.tx(|c| {
            diesel::delete(
                upstream_schools::table.filter(upstream_schools::upstream_id.eq(id.to_string())),
            )
            .execute(c)?;
            let n = diesel::delete(upstreams::table.find(id.to_string())).execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no upstream {id}")).into());
            }
            write_audit(c, audit)
        })
    }

    fn user_by_las_key(&self, school: &InstellingRef, key: &str) -> RepoResult<Option<User>> {
        self.read(|c| {
            let rows = users::table
                .filter(users::school_ref.eq(school.to_string()))
                .filter(users::las_key.eq(key))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn user_by_eck_id(&self, eck_id: &EckId) -> RepoResult<Option<User>> {
        self.read(|c| {
            let rows = users::table
                .filter(users::eck_id.eq(eck_id.as_str()))
                .select(UserRow::as_select())
                .load(c)?;
            Ok(hydrate_users(c, rows)?.pop())
        })
    }

    fn put_thuis_code(
        &self,
        user: Uuid,
        code_hash: &str,
        sealed: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.tx(|c| {
            diesel::delete(thuis_codes::table.find(user.to_string())).execute(c)?;
            diesel::insert_into(thuis_codes::table)
                .values((
                    thuis_codes::user_id.eq(user.to_string()),
                    thuis_codes::code_hash.eq(code_hash),
                    thuis_codes::sealed.eq(sealed),
                    thuis_codes::created_at.eq(now),
                ))
                .execute(c)?;
            write_audit(c, audit)
        })
    }

    fn thuis_code_user(&self, code_hash: &str) -> RepoResult<Option<Uuid>> {
        self.read(|c| {
            let id: Option<String> = thuis_codes::table
                .filter(thuis_codes::code_hash.eq(code_hash))
                .select(thuis_codes::user_id)
                .first(c)
                .optional()?;
            Ok(id.and_then(|i| Uuid::parse_str(&i).ok()))
        })
    }

    fn thuis_code_sealed(&self, user: Uuid) -> RepoResult<Option<String>> {
        self.read(|c| {
            Ok(thuis_codes::table
                .find(user.to_string())
                .select(thuis_codes::sealed)
                .first(c)
                .optional()?)
        })
    }

    fn pupil_secret(&self, user: Uuid) -> RepoResult<Option<String>> {
        self.read(|c| {
            Ok(pupil_secrets::table
                .find(user.to_string())
                .select(pupil_secrets::sealed)
                .first(c)
                .optional()?)
        })
    }

    fn staff_totp(&self, user: Uuid) -> RepoResult<Option<(String, i64)>> {
        self.read(|c| {
            Ok(staff_totp::table
                .find(user.to_string())
                .select((staff_totp::sealed, staff_totp::last_step))
                .first(c)
                .optional()?)
        })
    }

    fn put_staff_totp(
        &self,
        user: Uuid,
        sealed: &str,
        step: i64,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.tx(|c| {
            diesel::delete(staff_totp::table.find(user.to_string())).execute(c)?;
            diesel::insert_into(staff_totp::table)
                .values((
                    staff_totp::user_id.eq(user.to_string()),
                    staff_totp::sealed.eq(sealed),
                    staff_totp::last_step.eq(step),
                    staff_totp::enrolled_at.eq(now),
                ))
                .execute(c)?;
            write_audit(c, audit)
        })
    }

    fn use_totp_step(&self, user: Uuid, step: i64) -> RepoResult<bool> {
        self.read(|c| {
            let n = diesel::update(
                staff_totp::table
                    .filter(staff_totp::user_id.eq(user.to_string()))
                    .filter(staff_totp::last_step.lt(step)),
            )
            .set(staff_totp::last_step.eq(step))
            .execute(c)?;
            Ok(n == 1)
        })
    }

    fn remove_staff_totp(&self, user: Uuid, audit: AuditEvent) -> RepoResult<bool> {
        self.tx(|c| {
            let n = diesel::delete(staff_totp::table.find(user.to_string())).execute(c)?;
            if n > 0 {
                write_audit(c, audit)?;
            }
            Ok(n > 0)
        })
    }

    fn thuis_accounts_of_user(&self, user: Uuid) -> RepoResult<Vec<ThuisAccount>> {
        self.read(|c| {
            let ids: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(user.to_string()))
                .select(thuis_links::account_id)
                .order((thuis_links::created_at.asc(), thuis_links::account_id.asc()))
                .load(c)?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(a) = load_thuis_account(c, &id)? {
                    out.push(a);
                }
            }
            Ok(out)
        })
    }

    fn thuis_account_by_email(&self, email: &str) -> RepoResult<Option<ThuisAccount>> {
        self.read(|c| {
            let id: Option<String> = thuis_accounts::table
                .filter(thuis_accounts::email.eq(email))
                .select(thuis_accounts::id)
                .first(c)
                .optional()?;
            match id {
                Some(id) => load_thuis_account(c, &id),
                None => Ok(None),
            }
        })
    }

    fn thuis_account(&self, id: Uuid) -> RepoResult<Option<ThuisAccount>> {
        self.read(|c| load_thuis_account(c, &id.to_string()))
    }

    fn link_thuis_account(
        &self,
        user: Uuid,
        email: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount> {
        self.tx(|c| {
            let existing: Option<String> = thuis_accounts::table
                .filter(thuis_accounts::email.eq(email))
                .select(thuis_accounts::id)
                .first(c)
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let id = Uuid::new_v4().to_string();
                    diesel::insert_into(thuis_accounts::table)
                        .values((
                            thuis_accounts::id.eq(&id),
                            thuis_accounts::email.eq(email),
                            thuis_accounts::created_at.eq(now),
                            thuis_accounts::updated_at.eq(now),
                        ))
                        .execute(c)?;
                    id
                }
            };
            let linked: Vec<String> = thuis_links::table
                .filter(thuis_links::user_id.eq(user.to_string()))
                .select(thuis_links::account_id)
                .load(c)?;
            if !linked.contains(&id) {
                if linked.len() >= MAX_HOME_ADDRESSES {
                    return Err(RepoError::Conflict(format!(
                        "a pupil has at most {MAX_HOME_ADDRESSES} home addresses"
                    ))
                    .into());
                }
                diesel::insert_into(thuis_links::table)
                    .values((
                        thuis_links::account_id.eq(&id),
                        thuis_links::user_id.eq(user.to_string()),
                        thuis_links::created_at.eq(now),
                    ))
                    .execute(c)?;
            }
            write_audit(c, audit)?;
            load_thuis_account(c, &id)?
                .ok_or_else(|| RepoError::NotFound("home account".into()).into())
        })
    }

    fn unlink_thuis_account(
        &self,
        user: Uuid,
        account: Uuid,
        _now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.tx(|c| {
            let n = diesel::delete(
                thuis_links::table
                    .filter(thuis_links::user_id.eq(user.to_string()))
                    .filter(thuis_links::account_id.eq(account.to_string())),
            )
            .execute(c)?;
            if n == 0 {
                return Err(
                    RepoError::NotFound("this pupil has no such home address".into()).into(),
                );
            }
            let left: i64 = thuis_links::table
                .filter(thuis_links::account_id.eq(account.to_string()))
                .count()
                .get_result(c)?;
            if left == 0 {
                diesel::delete(
                    thuis_tokens::table.filter(thuis_tokens::account_id.eq(account.to_string())),
                )
                .execute(c)?;
                diesel::delete(thuis_accounts::table.find(account.to_string())).execute(c)?;
            }
            write_audit(c, audit)
        })
    }

    fn put_thuis_token(
        &self,
        token_hash: &str,
        account: Uuid,
        email: &str,
        expires_at: i64,
        now: i64,
    ) -> RepoResult<()> {
        self.tx(|c| {
            // Expired links of anyone go as new ones are made.
            diesel::delete(thuis_tokens::table.filter(thuis_tokens::expires_at.le(now)))
                .execute(c)?;
            diesel::insert_into(thuis_tokens::table)
                .values((
                    thuis_tokens::token_hash.eq(token_hash),
                    thuis_tokens::account_id.eq(account.to_string()),
                    thuis_tokens::email.eq(email),
                    thuis_tokens::expires_at.eq(expires_at),
                    thuis_tokens::created_at.eq(now),
                ))
                .execute(c)?;
            Ok(())
        })
    }

    fn thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>> {
        self.read(|c| {
            let row: Option<(String, String)> = thuis_tokens::table
                .find(token_hash)
                .filter(thuis_tokens::expires_at.gt(now))
                .select((thuis_tokens::account_id, thuis_tokens::email))
                .first(c)
                .optional()?;
            Ok(row.and_then(|(a, e)| Uuid::parse_str(&a).ok().map(|a| (a, e))))
        })
    }

    fn take_thuis_token(&self, token_hash: &str, now: i64) -> RepoResult<Option<(Uuid, String)>> {
        self.tx(|c| {
            let row: Option<(String, String, i64)> = thuis_tokens::table
                .find(token_hash)
                .select((
                    thuis_tokens::account_id,
                    thuis_tokens::email,
                    thuis_tokens::expires_at,
                ))
                .first(c)
                .optional()?;
            // Whoever deletes the row owns the link: a second use finds nothing.
            let n = diesel::delete(thuis_tokens::table.find(token_hash)).execute(c)?;
            Ok(row
                .filter(|(_, _, exp)| n == 1 && *exp > now)
                .and_then(|(account, email, _)| Uuid::parse_str(&account).ok().map(|a| (a, email))))
        })
    }

    fn set_thuis_password(
        &self,
        account: Uuid,
        hash: &str,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<ThuisAccount> {
        self.tx(|c| {
            let id = account.to_string();
            let n = diesel::update(thuis_accounts::table.find(&id))
                .set((
                    thuis_accounts::password_hash.eq(hash),
                    thuis_accounts::updated_at.eq(now),
                ))
                .execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound("no such home account".into()).into());
            }
            diesel::update(
                thuis_accounts::table
                    .find(&id)
                    .filter(thuis_accounts::activated_at.is_null()),
            )
            .set(thuis_accounts::activated_at.eq(now))
            .execute(c)?;
            write_audit(c, audit)?;
            load_thuis_account(c, &id)?
                .ok_or_else(|| RepoError::NotFound("home account".into()).into())
        })
    }

    fn set_password_hash(
        &self,
        user: Uuid,
        hash: &str,
        activate: bool,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.user_cache.lock().remove(&user);
        self.tx(|c| {
            let target = users::table.find(user.to_string());
            let n = if activate {
                diesel::update(target)
                    .set((
                        users::password_hash.eq(hash),
                        users::status.eq(UserStatus::Active.as_str()),
                        users::updated_at.eq(now),
                    ))
                    .execute(c)?
            } else {
                diesel::update(target)
                    .set((users::password_hash.eq(hash), users::updated_at.eq(now)))
                    .execute(c)?
            };
            if n == 0 {
                return Err(RepoError::NotFound(format!("no user {user}")).into());
            }
            write_audit(c, audit)?;
            Ok(())
        })
    }

    fn insert_relying_party(
        &self,
        rp: NewRelyingParty,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<RelyingParty> {
        let row = RpRow::from_new(rp, now);
        self.tx(|c| {
            diesel::insert_into(relying_parties::table)
                .values(&row)
                .execute(c)?;
            write_audit(c, audit)?;
            Ok(())
        })?;
        row.into_domain()
    }

    fn relying_party(&self, id: Uuid) -> RepoResult<Option<RelyingParty>> {
        let mut conn = self.conn()?;
        relying_parties::table
            .find(id.to_string())
            .select(RpRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(RpRow::into_domain)
            .transpose()
    }

    fn relying_party_by_public_id(&self, public_id: &str) -> RepoResult<Option<RelyingParty>> {
        if let Some(rp) = self.cached_rp(public_id) {
            return Ok(Some(rp));
        }
        let mut conn = self.conn()?;
        let found = relying_parties::table
            .filter(
                relying_parties::client_id
                    .eq(public_id)
                    .or(relying_parties::entity_id.eq(public_id)),
            )
            .select(RpRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(RpRow::into_domain)
            .transpose()?;
        if let Some(rp) = &found {
            self.remember_rp(rp);
        }
        Ok(found)
    }

    fn remove_relying_party(&self, id: Uuid, audit: AuditEvent) -> RepoResult<()> {
        self.tx(|c| {
            diesel::delete(registrations::table.filter(registrations::rp_id.eq(id.to_string())))
                .execute(c)?;
            diesel::delete(saml_sp_options::table.find(id.to_string())).execute(c)?;
            let n = diesel::delete(relying_parties::table.find(id.to_string())).execute(c)?;
            if n == 0 {
                return Err(RepoError::NotFound(format!("no relying party {id}")).into());
            }
            write_audit(c, audit)?;
            Ok(())
        })?;
        self.rp_cache.lock().clear();
        Ok(())
    }

    fn saml_sp_options(&self, rp: Uuid) -> RepoResult<SamlSpOptions> {
        let mut conn = self.conn()?;
        saml_sp_options::table
            .find(rp.to_string())
            .select(SamlSpOptionsRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(SamlSpOptionsRow::into_domain)
            .transpose()
            .map(Option::unwrap_or_default)
    }

    fn update_saml_sp(
        &self,
        rp: Uuid,
        metadata: Option<String>,
        options: SamlSpOptions,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> RepoResult<()> {
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
        self.rp_cache.lock().clear();
        Ok(())
    }

    fn relying_parties(&self) -> RepoResult<Vec<RelyingParty>> {
        let mut conn = self.conn()?;
        relying_parties::table
            .select(RpRow::as_select())
            .order(relying_parties::name)
            .load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(RpRow::into_domain)
            .collect()
    }

    fn put_registration(
        &self,
        change: RegistrationChange,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<Registration> {
        let school_ref = change.school.to_string();
        let rp_id = change.rp_id.to_string();
        self.tx(|c| {
            if load_school(c, &school_ref)?.is_none() {
                return Err(RepoError::NotFound(format!(
                    "no school with INSTELLING_REF {school_ref}"
                ))
                .into());
            }
            let existing: Option<RegistrationRow> = registrations::table
                .find((&school_ref, &rp_id))
                .select(RegistrationRow::as_select())
                .first(c)
                .optional()?;
            let since = match &existing {
                Some(e) if e.allowed == change.allowed => e.since,
                _ => now,
            };
            let row = RegistrationRow {
                school_ref: school_ref.clone(),
                rp_id: rp_id.clone(),
                allowed: change.allowed,
                release_eckid: change.release.eckid,
                release_names: change.release.names,
                release_groups: change.release.groups,
                home_allowed: change.home_allowed,
                since,
                updated_at: now,
            };
            if existing.is_some() {
                diesel::update(registrations::table.find((&school_ref, &rp_id)))
                    .set(&row)
                    .execute(c)?;
            } else {
                diesel::insert_into(registrations::table)
                    .values(&row)
                    .execute(c)?;
            }
            write_audit(c, audit)?;
            Ok(row.into_domain()?)
        })
    }

    fn registration(&self, school: &InstellingRef, rp: Uuid) -> RepoResult<Option<Registration>> {
        let mut conn = self.conn()?;
        registrations::table
            .find((school.to_string(), rp.to_string()))
            .select(RegistrationRow::as_select())
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)?
            .map(RegistrationRow::into_domain)
            .transpose()
    }

    fn registrations_of_school(&self, school: &InstellingRef) -> RepoResult<Vec<Registration>> {
        let mut conn = self.conn()?;
        registrations::table
            .filter(registrations::school_ref.eq(school.to_string()))
            .select(RegistrationRow::as_select())
            .load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(RegistrationRow::into_domain)
            .collect()
    }

    fn registrations_of_relying_party(&self, rp: Uuid) -> RepoResult<Vec<Registration>> {
        let mut conn = self.conn()?;
        registrations::table
            .filter(registrations::rp_id.eq(rp.to_string()))
            .order(registrations::school_ref)
            .select(RegistrationRow::as_select())
            .load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(RegistrationRow::into_domain)
            .collect()
    }

    fn setting(&self, key: &str) -> RepoResult<Option<String>> {
        let mut conn = self.conn()?;
        settings::table
            .find(key)
            .select(settings::value)
            .first(&mut *conn)
            .optional()
            .map_err(map_diesel)
    }

    fn put_setting(
        &self,
        key: &str,
        value: Option<&str>,
        now: i64,
        audit: AuditEvent,
    ) -> RepoResult<()> {
        self.tx(|c| {
            diesel::delete(settings::table.find(key)).execute(c)?;
            if let Some(v) = value {
                diesel::insert_into(settings::table)
                    .values((
                        settings::key.eq(key),
                        settings::value.eq(v),
                        settings::updated_at.eq(now),
                    ))
                    .execute(c)?;
            }
            write_audit(c, audit)
        })
    }

    fn append_audit(&self, event: AuditEvent) -> RepoResult<()> {
        self.tx(|c| write_audit(c, event))
    }

    fn audit_events(
        &self,
        school: Option<&InstellingRef>,
        limit: i64,
    ) -> RepoResult<Vec<AuditEvent>> {
        let mut conn = self.conn()?;
        let mut q = audit_events::table
            .select(AuditRow::as_select())
            .order((audit_events::at.desc(), audit_events::id.desc()))
            .limit(limit)
            .into_boxed();
        if let Some(s) = school {
            q = q.filter(audit_events::school_ref.eq(s.to_string()));
        }
        q.load(&mut *conn)
            .map_err(map_diesel)?
            .into_iter()
            .map(AuditRow::into_domain)
            .collect()
    }
}
