//! The domain as the broker sees it: school boards, school locations, groups, users, relying
//! parties and per-school registrations. Storage rows are mapped onto these by the `idp`
//! crate; nothing here knows about SQL.

use claims::{Audience, Brin6, EckId, InstellingRef, Jaargroep, Release, Role};
use ipnet::IpNet;
use serde::Serialize;
use uuid::Uuid;

/// A school board (schoolbestuur / bevoegd gezag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchoolBoard {
    pub id: Uuid,
    pub name: String,
    /// DUO's bestuursnummer, when known.
    pub bestuursnummer: Option<String>,
    pub created_at: i64,
}

/// Where a school location stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "merged_into", rename_all = "kebab-case")]
pub enum SchoolStatus {
    Active,
    /// Merged (fusie) into another school: its INSTELLING_REF leads there.
    Merged(InstellingRef),
    Closed,
}

impl SchoolStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Merged(_) => "merged",
            Self::Closed => "closed",
        }
    }
}

/// A school location (vestiging), identified for ever by its INSTELLING_REF.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct School {
    pub instelling_ref: InstellingRef,
    pub board_id: Option<Uuid>,
    pub brin6: Brin6,
    pub name: String,
    pub status: SchoolStatus,
    /// The school's own networks: pupils may sign in with name + PIN from these.
    pub networks: Vec<IpNet>,
    /// The address the school's Dynamic IP agent last reported (a /32, or a /64 for IPv6):
    /// a school network too, as long as Dynamic IP is on.
    pub dynamic_network: Option<IpNet>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl School {
    /// Is `ip` inside one of the school's networks, typed or reported by Dynamic IP?
    pub fn in_network(&self, ip: &std::net::IpAddr) -> bool {
        self.networks
            .iter()
            .chain(self.dynamic_network.as_ref())
            .any(|n| n.contains(ip))
    }
}

/// A school's Dynamic IP setting (verbindingstype "Dynamic IP"): since when it has an update
/// token, and when its agent last reported. The address itself is the school's
/// [`School::dynamic_network`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamicIp {
    pub school: InstellingRef,
    pub created_at: i64,
    pub seen_at: Option<i64>,
}

/// One address a school's Dynamic IP agent reported, from `at` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DynamicIpChange {
    pub network: IpNet,
    pub at: i64,
}

/// A group (klas) at a school.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: Uuid,
    pub school: InstellingRef,
    /// The key the pupil administration (LAS) gives the group; unique within the school.
    pub key: String,
    pub name: String,
    pub jaargroep: Option<Jaargroep>,
    /// A combination group (combinatiegroep), e.g. groep 3/4.
    pub composite: bool,
    /// The school year, e.g. `2026-2027`.
    pub school_year: String,
}

/// Whether a user can sign in with Leerpoort's own credentials yet, or at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UserStatus {
    Active,
    /// Created by an import or a network environment; never activated here. Such a user may
    /// come in through a network environment, but gets no staff pages.
    Inactive,
    /// Offboarded (`user disable`): no sign-in, no session, no token, until `user enable`.
    Disabled,
    /// Removed (`user remove`): personal data wiped; the id stays as a tombstone so that no
    /// one else ever gets its pseudonyms. Never signs in again.
    Removed,
    /// No longer in the school's data: an import brought them and a later one no longer lists
    /// them. No sign-in, as `Disabled`; a file that lists them again brings them back as the
    /// same person.
    Left,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Inactive => "inactive",
            Self::Disabled => "disabled",
            Self::Removed => "removed",
            Self::Left => "left",
        }
    }

    /// May a user with this status be signed in anywhere (through a network environment at
    /// least)? Disabled, removed and departed users may not.
    pub fn may_sign_in(self) -> bool {
        matches!(self, Self::Active | Self::Inactive)
    }
}

/// What decides, on every use of a session, authorization code or refresh token, whether the
/// user still stands: read from the database on every request that uses one (never from a
/// cache across requests), so an offboarding takes effect at once on every node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserStanding {
    pub status: UserStatus,
    /// Everything issued at or before this second (sessions, codes, refresh tokens) is void:
    /// set by `user disable` and `user remove`, kept by `user enable`.
    pub revoked_at: Option<i64>,
}

impl UserStanding {
    /// Does a session, code or token from a sign-in at `signed_in_at` still hold?
    pub fn admits(&self, signed_in_at: i64) -> bool {
        self.status.may_sign_in() && self.revoked_at.is_none_or(|r| signed_in_at > r)
    }
}

/// How a pupil proves who they are at school.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PupilAuth {
    /// A 4-digit PIN.
    Pin,
    /// A picture password: 2–4 pictures clicked in order.
    Picture,
}

impl PupilAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pin => "pin",
            Self::Picture => "picture",
        }
    }
}

/// A person: pupil or staff. `id` is permanent and never shown to relying parties.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: Uuid,
    pub school: InstellingRef,
    pub roles: Vec<Role>,
    pub las_key: Option<String>,
    #[serde(skip)]
    pub eck_id: Option<EckId>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub status: UserStatus,
    pub picture: Option<String>,
    pub pupil_auth: Option<PupilAuth>,
    #[serde(skip)]
    pub pin_hash: Option<String>,
    #[serde(skip)]
    pub picture_password_hash: Option<String>,
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// Where the record came from: `manual`, `edexml`, `las` or `upstream:<id>`.
    pub source: String,
    pub group_ids: Vec<Uuid>,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("school", &self.school)
            .field("roles", &self.roles)
            .field("status", &self.status)
            .field("has_eck_id", &self.eck_id.is_some())
            .finish_non_exhaustive()
    }
}

impl User {
    /// The role a token names: a pupil is `leerling`; staff carry their first staff role
    /// (the order in which they were given).
    pub fn primary_role(&self) -> Option<Role> {
        self.roles.first().copied()
    }

    pub fn is_pupil(&self) -> bool {
        self.roles.iter().any(|r| r.is_pupil())
    }

    /// Staff whose account is active: only they get the staff pages (groups, PINs, devices,
    /// shortcuts). Inactive staff (imported, or known only through a network environment) and
    /// offboarded users do not.
    pub fn is_active_staff(&self) -> bool {
        !self.is_pupil() && self.status == UserStatus::Active
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// Publisher (uitgeverij), network environment (netwerkomgeving), or a school
/// administration (LAS) that sends school data: the last has no users and signs no one in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RpKind {
    Publisher,
    Network,
    Las,
}

impl RpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Publisher => "publisher",
            Self::Network => "network",
            Self::Las => "las",
        }
    }
}

impl std::str::FromStr for RpKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "publisher" => Ok(Self::Publisher),
            "network" => Ok(Self::Network),
            "las" => Ok(Self::Las),
            other => Err(format!(
                "kind '{other}' is not valid: expected publisher or network"
            )),
        }
    }
}

/// A JWS algorithm a relying party may ask for its ID tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum JwsAlg {
    RS256,
    ES256,
    EdDSA,
}

impl JwsAlg {
    pub const ALL: [JwsAlg; 3] = [JwsAlg::RS256, JwsAlg::ES256, JwsAlg::EdDSA];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
            Self::EdDSA => "EdDSA",
        }
    }
}

impl std::str::FromStr for JwsAlg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "RS256" => Ok(Self::RS256),
            "ES256" => Ok(Self::ES256),
            "EdDSA" => Ok(Self::EdDSA),
            other => Err(format!(
                "algorithm '{other}' is not supported: expected RS256, ES256 or EdDSA"
            )),
        }
    }
}

/// What kind of access token a client receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessTokenFormat {
    /// A JWT (RFC 9068, `typ` `at+jwt`, ES256): a resource server can check it itself
    /// against the JWKS.
    #[default]
    Jwt,
    /// A reference token (`lpat_…`): its content stays with Leerpoort, and a resource server
    /// asks for it by introspection (RFC 7662). Cheaper to issue and to check.
    Opaque,
}

impl AccessTokenFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jwt => "jwt",
            Self::Opaque => "opaque",
        }
    }
}

impl std::str::FromStr for AccessTokenFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "jwt" => Ok(Self::Jwt),
            "opaque" => Ok(Self::Opaque),
            other => Err(format!(
                "access token format '{other}' is not supported: expected jwt or opaque"
            )),
        }
    }
}

/// The OIDC side of a relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OidcClient {
    pub client_id: String,
    /// SHA-256 of the secret, hex; `None` for public clients (PKCE required).
    #[serde(skip)]
    pub client_secret_hash: Option<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub initiate_login_uri: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks_uri: Option<String>,
    pub jwks: Option<String>,
    pub token_endpoint_auth_method: String,
    pub id_token_alg: JwsAlg,
    pub access_token_format: AccessTokenFormat,
}

impl OidcClient {
    pub fn is_public(&self) -> bool {
        self.client_secret_hash.is_none() && self.token_endpoint_auth_method == "none"
    }
}

/// The SAML side of a relying party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SamlSp {
    pub entity_id: String,
    #[serde(skip)]
    pub metadata: String,
}

/// A SAML service provider's options besides its metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SamlSpOptions {
    /// The RelayState values (URLs at the SP) an unsolicited response may carry; empty: none.
    pub relay_states: Vec<String>,
    /// Where the running server refreshes the metadata from, every `refresh_hours`.
    pub metadata_url: Option<String>,
    pub refresh_hours: Option<u32>,
    /// The certificate (PEM) the SP's metadata must be signed with; `None`: unsigned metadata.
    pub metadata_signing_cert: Option<String>,
    /// When the metadata was last read from `metadata_url` (or replaced by hand).
    pub refreshed_at: Option<i64>,
    /// Why the last refresh failed (the old metadata stays), if it did.
    pub refresh_error: Option<String>,
}

/// How a relying party speaks to Leerpoort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "protocol", rename_all = "kebab-case")]
pub enum RpProtocol {
    Oidc(OidcClient),
    Saml(SamlSp),
}

/// A publisher's or network environment's service that receives identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RelyingParty {
    pub id: Uuid,
    pub name: String,
    pub kind: RpKind,
    pub protocol: RpProtocol,
    /// The pairwise sector: every relying party with the same sector sees the same `sub`.
    pub sector: String,
    /// The publisher allows this software at home.
    pub home_allowed: bool,
    pub audience: Audience,
    pub enabled: bool,
    /// The operator allows it long-lived refresh tokens (`offline_access`) that outlive the
    /// session; without this the scope is ignored.
    pub offline_access: bool,
    pub created_at: i64,
}

impl RelyingParty {
    /// The identifier schools and shortcuts use: the OIDC client id or the SAML entity id.
    pub fn public_id(&self) -> &str {
        match &self.protocol {
            RpProtocol::Oidc(c) => &c.client_id,
            RpProtocol::Saml(s) => &s.entity_id,
        }
    }

    pub fn oidc(&self) -> Option<&OidcClient> {
        match &self.protocol {
            RpProtocol::Oidc(c) => Some(c),
            RpProtocol::Saml(_) => None,
        }
    }
}

/// A school's decision about one relying party (toestemming uitwisseling schooldata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    pub school: InstellingRef,
    pub rp_id: Uuid,
    /// `false` after de-registration: no SSO, no data from then on.
    pub allowed: bool,
    pub release: Release,
    /// The school allows this software at home (only matters when the publisher does too).
    pub home_allowed: bool,
    /// When the current `allowed` state began.
    pub since: i64,
    pub updated_at: i64,
}

/// One line of the audit trail. Never holds secrets or plain ECK-iDs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEvent {
    /// Its place in the trail: grows with every line written (0 until it is stored).
    pub seq: i64,
    pub id: Uuid,
    pub at: i64,
    /// Who: `cli`, `operator`, `user:<uuid>`, `system`.
    pub actor: String,
    /// What, as a dotted name: `school.add`, `registration.deregister`, ...
    pub action: String,
    pub school: Option<InstellingRef>,
    /// The object acted on (a user id, a client id, ...).
    pub subject: Option<String>,
    pub details: serde_json::Value,
}

/// A home account (thuisaccount): an e-mail address a teacher entered for one or more pupils,
/// with which a parent signs in at the home entrance. Several children of one family may share
/// it; a pupil has at most [`MAX_HOME_ADDRESSES`] of them.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct ThuisAccount {
    pub id: Uuid,
    /// Lower-case; the user name at home.
    pub email: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    /// When the parent set a password through the activation link.
    pub activated_at: Option<i64>,
    /// The pupils it serves.
    pub pupils: Vec<Uuid>,
}

impl std::fmt::Debug for ThuisAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThuisAccount")
            .field("id", &self.id)
            .field("activated_at", &self.activated_at)
            .field("pupils", &self.pupils)
            .finish_non_exhaustive()
    }
}

/// How many home addresses a pupil may have.
pub const MAX_HOME_ADDRESSES: usize = 2;

/// A syntactically plausible e-mail address, lower-cased (trimmed); `None` if it is not one.
pub fn normalise_email(e: &str) -> Option<String> {
    let e = e.trim().to_lowercase();
    let ok = e.len() <= 254
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !e.contains(char::is_whitespace)
                && e.matches('@').count() == 1
        });
    ok.then_some(e)
}

/// A pupil's home-login status as the group overview shows it (the seeds' "Nee/Nee",
/// "Ja/Nee", "Ja/Ja": address set / account activated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ThuisStatus {
    /// No home address.
    NeeNee,
    /// An address, none activated yet.
    JaNee,
    /// At least one address activated.
    JaJa,
}

impl ThuisStatus {
    /// The status of a pupil with these home accounts.
    pub fn of(accounts: &[ThuisAccount]) -> Self {
        if accounts.iter().any(|a| a.activated_at.is_some()) {
            Self::JaJa
        } else if accounts.is_empty() {
            Self::NeeNee
        } else {
            Self::JaNee
        }
    }

    /// As the overview prints it.
    pub fn label(self) -> &'static str {
        match self {
            Self::NeeNee => "Nee/Nee",
            Self::JaNee => "Ja/Nee",
            Self::JaJa => "Ja/Ja",
        }
    }
}

/// How a network environment (netwerkomgeving) speaks to Leerpoort as an upstream identity
/// provider.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "protocol", rename_all = "kebab-case")]
pub enum UpstreamProtocol {
    /// OpenID Connect: Leerpoort is a confidential client of the upstream.
    Oidc {
        issuer: String,
        client_id: String,
        /// The client secret, sealed (never in plain text at rest); none with
        /// `private_key_jwt`.
        #[serde(skip)]
        client_secret_sealed: Option<String>,
        /// `client_secret_basic`, or `private_key_jwt` signed with Leerpoort's own keys.
        client_auth: String,
        /// Scopes asked for besides `openid`.
        scopes: Vec<String>,
    },
    /// SAML 2.0: Leerpoort is a service provider of the upstream IdP.
    Saml {
        entity_id: String,
        /// The IdP's metadata as it was added.
        #[serde(skip)]
        metadata_xml: String,
        /// Accept unsolicited (IdP-initiated) responses from it.
        allow_unsolicited: bool,
    },
}

impl std::fmt::Debug for UpstreamProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Oidc {
                issuer, client_id, ..
            } => f
                .debug_struct("Oidc")
                .field("issuer", issuer)
                .field("client_id", client_id)
                .finish_non_exhaustive(),
            Self::Saml { entity_id, .. } => f
                .debug_struct("Saml")
                .field("entity_id", entity_id)
                .finish_non_exhaustive(),
        }
    }
}

/// How an upstream's user is found among Leerpoort's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MatchRule {
    /// By the key in the pupil administration (LAS), within the schools the upstream serves.
    LasKey,
    /// By ECK-iD.
    EckId,
    /// By a staff member's e-mail address.
    Email,
}

impl MatchRule {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LasKey => "las-key",
            Self::EckId => "eck-id",
            Self::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "las-key" => Some(Self::LasKey),
            "eck-id" => Some(Self::EckId),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

/// A network environment (MOO, ZuluConnect, ...) as an upstream identity provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upstream {
    pub id: Uuid,
    /// Unique; what `NETWERK=` and `idp_hint` name.
    pub name: String,
    pub protocol: UpstreamProtocol,
    pub match_rule: MatchRule,
    /// The upstream claim or attribute that carries the value matched on.
    pub match_claim: String,
    /// Create users the upstream signs in who are not known yet (marked as coming from it).
    pub provision: bool,
    /// The roles it may create users with: pupils and teachers only (`leerling`,
    /// `leerkracht`), as the operator allowed.
    pub provision_roles: Vec<Role>,
    pub enabled: bool,
    /// The schools it serves: it can never sign in a user of another school.
    pub schools: Vec<InstellingRef>,
}

/// A substitution in progress: a group's substitute account (invalkracht) lent to one person
/// for 1, 2 or 5 school days. Their name is on the account while it lasts; their e-mail
/// address and the sign-in link's hash only here.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct Substitution {
    /// The group's substitute account.
    pub user: Uuid,
    pub school: InstellingRef,
    pub group: Uuid,
    pub email: String,
    pub days: u8,
    pub starts_at: i64,
    /// Access ends at this second.
    pub until: i64,
    /// The coordinator who activated it (`None`: the operator).
    pub activated_by: Option<Uuid>,
}

impl std::fmt::Debug for Substitution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Substitution")
            .field("user", &self.user)
            .field("group", &self.group)
            .field("until", &self.until)
            .finish_non_exhaustive()
    }
}

/// A device a teacher or ICT coordinator linked to their school (a classroom tablet, a
/// Chromebook on a school trip): pupils may sign in on it outside the school's networks. Its
/// cookie carries only this id, signed; every use is checked against the stored row, so
/// revoking (deleting the row) ends it at once on every node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnrolledDevice {
    pub id: Uuid,
    pub school: InstellingRef,
    /// What the school calls it ("iPad 3 groep 4").
    pub name: String,
    /// The staff member who linked it.
    pub enrolled_by: Uuid,
    pub enrolled_at: i64,
    /// The last time a pupil's sign-in page was used on it (to the nearest
    /// [`DEVICE_USE_RESOLUTION_SECS`]).
    pub last_used_at: Option<i64>,
}

/// How finely a device's last use is kept: a tablet used all day writes once per this time.
pub const DEVICE_USE_RESOLUTION_SECS: i64 = 600;

/// At most this many devices per school: a school with more asks its coordinator to revoke
/// old ones first.
pub const MAX_DEVICES_PER_SCHOOL: usize = 2_000;

/// A school location in DUO's registry ("alle vestigingen"), as the last file that listed it
/// had it. DUO's data are official: a school whose BRIN6 is listed carries DUO's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DuoLocation {
    pub brin6: Brin6,
    /// `VESTIGINGSNAAM`.
    pub name: String,
    pub street: String,
    /// The house number with its addition (`HUISNUMMER-TOEVOEGING`).
    pub house_number: String,
    pub postcode: String,
    pub place: String,
    pub municipality: String,
    pub province: String,
    /// The school board's number at DUO (`BEVOEGD GEZAG NUMMER`).
    pub board_number: String,
    /// When a file first listed it.
    pub first_seen_at: i64,
    /// When a file last listed it.
    pub seen_at: i64,
    /// Since when the files no longer list it (closed, merged or renumbered at DUO); `None`
    /// while they do.
    pub gone_at: Option<i64>,
}

impl DuoLocation {
    /// Does DUO's latest file list it?
    pub fn listed(&self) -> bool {
        self.gone_at.is_none()
    }

    /// Whether `other` holds the same official data (the times aside).
    pub fn same_data(&self, other: &DuoLocation) -> bool {
        let data = |l: &DuoLocation| DuoLocation {
            first_seen_at: 0,
            seen_at: 0,
            gone_at: None,
            ..l.clone()
        };
        data(self) == data(other)
    }
}
