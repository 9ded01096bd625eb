//! Administrative operations: what the `leerpoort` command (and later the school
//! administration pages) do to the directory. Each validates its input completely before it
//! writes, writes in one transaction with its audit event, and returns what it made.

use std::str::FromStr;

use broker::clock::Clock;
use broker::model::{
    AuditEvent, Group, JwsAlg, OidcClient, PupilAuth, Registration, RelyingParty, RpKind,
    RpProtocol, SamlSpOptions, School, SchoolBoard, User, UserStatus,
};
use broker::repo::{
    Directory, NewBoard, NewGroup, NewRelyingParty, NewSchool, NewUser, RegistrationChange,
    RepoError,
};
use claims::{Audience, Brin4, Brin6, EckId, InstellingRef, Jaargroep, Release, Role};
use ipnet::IpNet;
use uuid::Uuid;

use crate::pictures::{self, PictureSequence};
use crate::secrets::{self, PupilSecrets, SecretError};

/// Errors of administrative operations: one line each, naming what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    WeakPassword(#[from] crate::password_policy::WeakPassword),
}

type Result<T> = std::result::Result<T, AdminError>;

fn invalid(msg: impl Into<String>) -> AdminError {
    AdminError::Invalid(msg.into())
}

/// Who acts, and when.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub dir: &'a dyn Directory,
    pub clock: &'a dyn Clock,
    /// `cli`, `demo`, `user:<uuid>`.
    pub actor: &'a str,
}

impl Ctx<'_> {
    fn now(&self) -> i64 {
        self.clock.now_secs()
    }

    fn audit(
        &self,
        action: &str,
        school: Option<InstellingRef>,
        subject: Option<String>,
        details: serde_json::Value,
    ) -> AuditEvent {
        AuditEvent {
            id: Uuid::new_v4(),
            at: self.now(),
            actor: self.actor.to_string(),
            action: action.to_string(),
            school,
            subject,
            details,
        }
    }

    /// The school, which must exist and be active.
    pub fn active_school(&self, r: &InstellingRef) -> Result<School> {
        let school = self
            .dir
            .school(r)?
            .ok_or_else(|| invalid(format!("no school with INSTELLING_REF {r}")))?;
        match school.status {
            broker::model::SchoolStatus::Active => Ok(school),
            _ => Err(invalid(format!(
                "school {r} is {} and cannot be changed",
                school.status.as_str()
            ))),
        }
    }
}

/// Parse an INSTELLING_REF given on the command line.
pub fn parse_school_ref(s: &str) -> Result<InstellingRef> {
    InstellingRef::from_str(s).map_err(|e| invalid(e.to_string()))
}

/// The school year a date falls in: a new year starts on 1 August.
pub fn school_year_at(unix_secs: i64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = unix_secs.div_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let start = if month >= 8 { year } else { year - 1 };
    format!("{start}-{}", start + 1)
}

/// A school board.
pub fn add_board(ctx: Ctx<'_>, name: &str, bestuursnummer: Option<&str>) -> Result<SchoolBoard> {
    let name = non_empty("board name", name)?;
    let board = NewBoard {
        id: Uuid::new_v4(),
        name: name.clone(),
        bestuursnummer: bestuursnummer.map(str::to_string),
    };
    let audit = ctx.audit(
        "board.add",
        None,
        Some(board.id.to_string()),
        serde_json::json!({"name": name}),
    );
    Ok(ctx.dir.insert_board(board, ctx.now(), audit)?)
}

/// Input of [`add_school`].
#[derive(Debug, Clone)]
pub struct SchoolInput {
    pub brin: String,
    pub vestiging: String,
    pub name: String,
    pub networks: Vec<String>,
    pub board: Option<Uuid>,
    /// A fixed INSTELLING_REF (the demo); normally a new random one.
    pub instelling_ref: Option<InstellingRef>,
}

/// A school location with a new, permanent INSTELLING_REF.
pub fn add_school(ctx: Ctx<'_>, input: SchoolInput) -> Result<School> {
    let brin4 = Brin4::from_str(input.brin.trim()).map_err(|e| invalid(e.to_string()))?;
    let brin6 = Brin6::new(brin4, input.vestiging.trim()).map_err(|e| invalid(e.to_string()))?;
    let name = non_empty("school name", &input.name)?;
    let networks = input
        .networks
        .iter()
        .map(|n| parse_network(n))
        .collect::<Result<Vec<_>>>()?;
    if let Some(b) = input.board {
        ctx.dir
            .board(b)?
            .ok_or_else(|| invalid(format!("no school board {b}")))?;
    }
    let r = input
        .instelling_ref
        .unwrap_or_else(InstellingRef::new_random);
    let audit = ctx.audit(
        "school.add",
        Some(r),
        None,
        serde_json::json!({"brin6": brin6.to_string(), "name": name}),
    );
    Ok(ctx.dir.insert_school(
        NewSchool {
            instelling_ref: r,
            board_id: input.board,
            brin6,
            name,
            networks,
        },
        ctx.now(),
        audit,
    )?)
}

/// DUO gave a school a new BRIN or location code. The INSTELLING_REF and every pseudonym
/// relying parties know stay the same.
pub fn change_brin(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    brin: &str,
    vestiging: &str,
) -> Result<School> {
    let before = ctx.active_school(school)?;
    let brin4 = Brin4::from_str(brin.trim()).map_err(|e| invalid(e.to_string()))?;
    let brin6 = Brin6::new(brin4, vestiging.trim()).map_err(|e| invalid(e.to_string()))?;
    let audit = ctx.audit(
        "school.change-brin",
        Some(*school),
        None,
        serde_json::json!({"from": before.brin6.to_string(), "to": brin6.to_string()}),
    );
    Ok(ctx.dir.change_brin6(school, brin6, ctx.now(), audit)?)
}

/// The operator's outage notice on every login page: set (`Some`) or cleared (`None`).
pub fn set_notice(ctx: Ctx<'_>, text: Option<&str>) -> Result<()> {
    let text = text.map(|t| non_empty_long("notice", t)).transpose()?;
    let audit = ctx.audit(
        "notice.set",
        None,
        None,
        serde_json::json!({"notice": text}),
    );
    Ok(ctx
        .dir
        .put_setting(crate::app::NOTICE_KEY, text.as_deref(), ctx.now(), audit)?)
}

fn non_empty_long(what: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        Err(invalid(format!("{what} may not be empty")))
    } else if t.chars().count() > 500 {
        Err(invalid(format!("{what} is longer than 500 characters")))
    } else {
        Ok(t.to_string())
    }
}

/// A school network in CIDR form; a bare address means that one host.
pub fn parse_network(s: &str) -> Result<IpNet> {
    let s = s.trim();
    IpNet::from_str(s)
        .or_else(|_| std::net::IpAddr::from_str(s).map(IpNet::from))
        .map_err(|_| {
            invalid(format!(
                "network '{s}' is not valid: expected CIDR like 192.0.2.0/24"
            ))
        })
}

/// A group at a school.
/// `composite` marks a combination group (combinatiegroep, e.g. 3/4).
pub fn add_group(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    key: &str,
    name: &str,
    jaargroep: Option<&str>,
    composite: bool,
) -> Result<Group> {
    ctx.active_school(school)?;
    let key = non_empty("group key", key)?;
    let name = non_empty("group name", name)?;
    let jaargroep = jaargroep
        .map(|j| Jaargroep::from_str(j).map_err(|e| invalid(e.to_string())))
        .transpose()?;
    let audit = ctx.audit(
        "group.add",
        Some(*school),
        Some(key.clone()),
        serde_json::json!({"name": name}),
    );
    Ok(ctx.dir.insert_group(
        NewGroup {
            school: *school,
            key,
            name,
            jaargroep,
            composite,
            school_year: school_year_at(ctx.now()),
        },
        ctx.now(),
        audit,
    )?)
}

/// Input of [`add_user`].
#[derive(Debug, Clone, Default)]
pub struct UserInput {
    pub school: String,
    pub role: String,
    pub extra_roles: Vec<String>,
    pub given_name: String,
    pub family_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
    pub eck_id: Option<String>,
    pub las_key: Option<String>,
    pub pin: Option<String>,
    pub password: Option<String>,
    /// A fixed user id (the demo); normally a new random one.
    pub id: Option<Uuid>,
    /// The pupil's own picture on their name tile (a name from [`crate::pictures::ALL`]).
    pub picture: Option<String>,
    /// A picture password instead of a PIN: 2–4 grid pictures, e.g. `vos,appel,zon`.
    pub picture_password: Option<String>,
}

/// What [`add_user`] made; `pin` is set when a PIN was generated for a pupil.
#[derive(Debug)]
pub struct AddedUser {
    pub user: User,
    pub generated_pin: Option<String>,
}

/// A pupil or staff member. Pupils get a PIN (generated when none is given); staff with a
/// password are active, staff without one stay inactive until they activate their account.
pub fn add_user(ctx: Ctx<'_>, secrets: PupilSecrets<'_>, input: UserInput) -> Result<AddedUser> {
    let id = input.id.unwrap_or_else(Uuid::new_v4);
    let school = parse_school_ref(&input.school)?;
    ctx.active_school(&school)?;
    let roles = roles_of(&input)?;
    let given_name = non_empty("given name", &input.given_name)?;
    let family_name = non_empty("family name", &input.family_name)?;
    let eck_id = input
        .eck_id
        .as_deref()
        .map(|e| EckId::parse_import(e.trim()).map_err(|e| invalid(e.to_string())))
        .transpose()?;
    let email = input.email.as_deref().map(normalise_email).transpose()?;
    let mut group_ids = Vec::new();
    for key in &input.groups {
        let g = ctx
            .dir
            .group_by_key(&school, key)?
            .ok_or_else(|| invalid(format!("no group with key '{key}' at school {school}")))?;
        group_ids.push(g.id);
    }
    let creds = if roles[0].is_pupil() {
        pupil_credentials(&input, email.as_deref(), &secrets)?
    } else {
        let school_name = ctx.dir.school(&school)?.map(|s| s.name).unwrap_or_default();
        let hints = [
            given_name.as_str(),
            family_name.as_str(),
            email.as_deref().unwrap_or(""),
            school_name.as_str(),
        ];
        staff_credentials(&input, email.as_deref(), hints)?
    };
    let picture = picture_of(input.picture.as_deref())?;
    let secret_sealed = creds
        .shown
        .map(|s| secrets.sealer.seal(id, &s))
        .transpose()?;
    let audit = ctx.audit(
        "user.add",
        Some(school),
        Some(id.to_string()),
        serde_json::json!({"roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>()}),
    );
    let user = ctx.dir.insert_user(
        NewUser {
            id,
            school,
            roles,
            las_key: input
                .las_key
                .map(|k| k.trim().to_string())
                .filter(|k| !k.is_empty()),
            eck_id,
            given_name,
            family_name,
            email,
            status: creds.status,
            picture,
            pupil_auth: creds.pupil_auth,
            pin_hash: creds.pin_hash,
            picture_password_hash: creds.picture_password_hash,
            password_hash: creds.password_hash,
            source: "manual".into(),
            group_ids,
            secret_sealed,
        },
        ctx.now(),
        audit,
    )?;
    Ok(AddedUser {
        user,
        generated_pin: creds.generated_pin,
    })
}

/// The role and the extra roles of a new user: a pupil holds pupil roles only, staff staff
/// roles only; substitutes are not made by hand.
fn roles_of(input: &UserInput) -> Result<Vec<Role>> {
    let role = Role::from_str(&input.role).map_err(|e| invalid(e.to_string()))?;
    if role == Role::Invalkracht {
        return Err(invalid("role invalkracht is not created by hand: a coordinator activates the group's substitute account"));
    }
    let mut roles = vec![role];
    for r in &input.extra_roles {
        let r = Role::from_str(r).map_err(|e| invalid(e.to_string()))?;
        if r.is_pupil() != role.is_pupil() {
            return Err(invalid(
                "a pupil cannot also hold a staff role, nor staff a pupil role",
            ));
        }
        if !roles.contains(&r) {
            roles.push(r);
        }
    }
    Ok(roles)
}

/// A new user's status and credentials, and what their teacher may show later (the PIN, or
/// the picture names).
struct Credentials {
    status: UserStatus,
    pupil_auth: Option<PupilAuth>,
    pin_hash: Option<String>,
    picture_password_hash: Option<String>,
    password_hash: Option<String>,
    generated_pin: Option<String>,
    shown: Option<String>,
}

impl Credentials {
    fn with_status(status: UserStatus) -> Self {
        Self {
            status,
            pupil_auth: None,
            pin_hash: None,
            picture_password_hash: None,
            password_hash: None,
            generated_pin: None,
            shown: None,
        }
    }
}

/// A pupil's: a picture password (with a PIN only when one is given as well), or a PIN
/// (generated when none is given).
fn pupil_credentials(
    input: &UserInput,
    email: Option<&str>,
    secrets: &PupilSecrets<'_>,
) -> Result<Credentials> {
    let pins = secrets.pins;
    if email.is_some() {
        return Err(invalid(
            "pupils have no e-mail address here; home addresses are set by the teacher",
        ));
    }
    if input.password.is_some() {
        return Err(invalid(
            "pupils sign in with a PIN or picture password, not a password",
        ));
    }
    if let Some(seq) = &input.picture_password {
        let seq = PictureSequence::parse(seq).map_err(|e| invalid(e.to_string()))?;
        let pin_hash = match &input.pin {
            Some(p) => {
                secrets::check_pin(p)?;
                Some(pins.hash(p)?)
            }
            None => None,
        };
        return Ok(Credentials {
            pupil_auth: Some(PupilAuth::Picture),
            pin_hash,
            picture_password_hash: Some(pins.hash(&seq.encode())?),
            shown: Some(seq.encode()),
            ..Credentials::with_status(UserStatus::Active)
        });
    }
    let (pin, generated) = match &input.pin {
        Some(p) => (p.clone(), None),
        None => {
            let p = secrets::random_pin()?;
            (p.clone(), Some(p))
        }
    };
    secrets::check_pin(&pin)?;
    Ok(Credentials {
        pupil_auth: Some(PupilAuth::Pin),
        pin_hash: Some(pins.hash(&pin)?),
        generated_pin: generated,
        shown: Some(pin),
        ..Credentials::with_status(UserStatus::Active)
    })
}

/// Staff's: active with a password that passes the policy, else inactive until activation.
fn staff_credentials(
    input: &UserInput,
    email: Option<&str>,
    hints: [&str; 4],
) -> Result<Credentials> {
    if input.pin.is_some() || input.picture_password.is_some() {
        return Err(invalid(
            "only pupils have a PIN or picture password; staff have a password",
        ));
    }
    if email.is_none() {
        return Err(invalid(
            "staff need an e-mail address (--email): it is their user name",
        ));
    }
    Ok(match &input.password {
        Some(pw) => {
            crate::password_policy::check(pw, &crate::password_policy::personal_hints(hints))?;
            Credentials {
                password_hash: Some(secrets::hash_password(pw)?),
                ..Credentials::with_status(UserStatus::Active)
            }
        }
        None => Credentials::with_status(UserStatus::Inactive),
    })
}

/// A pupil's own picture on their name tile, by name.
fn picture_of(name: Option<&str>) -> Result<Option<String>> {
    match name.map(str::trim) {
        None | Some("") => Ok(None),
        Some(p) => Ok(Some(
            pictures::by_name(p)
                .ok_or_else(|| {
                    invalid(format!(
                        "unknown picture '{p}'; pictures: {}",
                        pictures::ALL
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?
                .name
                .to_string(),
        )),
    }
}

fn existing_user(ctx: &Ctx<'_>, id: Uuid) -> Result<User> {
    ctx.dir
        .user(id)?
        .ok_or_else(|| invalid(format!("no user {id}")))
}

/// Offboard a user (`user disable`): no sign-in from now on, and every session, authorization
/// code and refresh token (offline ones too) issued to them so far is void, on every node.
pub fn disable_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    if user.status == UserStatus::Removed {
        return Err(invalid(format!("user {id} has been removed")));
    }
    let audit = ctx.audit(
        "user.disable",
        Some(user.school),
        Some(id.to_string()),
        serde_json::json!({"was": user.status.as_str()}),
    );
    Ok(ctx.dir.set_disabled(id, true, ctx.now(), audit)?)
}

/// Undo [`disable_user`]: the user may sign in again, with the status they had (an inactive
/// account stays inactive); sessions and tokens from before the disabling stay void.
pub fn enable_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    match user.status {
        UserStatus::Removed => Err(invalid(format!(
            "user {id} has been removed and cannot be enabled"
        ))),
        UserStatus::Active | UserStatus::Inactive => Ok(user),
        UserStatus::Disabled => {
            let audit = ctx.audit(
                "user.enable",
                Some(user.school),
                Some(id.to_string()),
                serde_json::json!({}),
            );
            Ok(ctx.dir.set_disabled(id, false, ctx.now(), audit)?)
        }
    }
}

/// Remove a user (`user remove`): offboarded as by [`disable_user`], and their personal data
/// deleted; the id stays as a tombstone so that its pseudonyms are never anyone else's.
pub fn remove_user(ctx: Ctx<'_>, id: Uuid) -> Result<User> {
    let user = existing_user(&ctx, id)?;
    if user.status == UserStatus::Removed {
        return Err(invalid(format!("user {id} has already been removed")));
    }
    let audit = ctx.audit(
        "user.remove",
        Some(user.school),
        Some(id.to_string()),
        serde_json::json!({"was": user.status.as_str()}),
    );
    Ok(ctx.dir.remove_user(id, ctx.now(), audit)?)
}

/// A syntactically plausible e-mail address, lower-cased.
pub fn normalise_email(e: &str) -> Result<String> {
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
    if ok {
        Ok(e)
    } else {
        Err(invalid(format!("'{e}' is not a valid e-mail address")))
    }
}

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
    pub sector: Option<String>,
    /// A fixed client id (the demo, or a publisher's wish); normally a new random one.
    pub client_id: Option<String>,
    /// A fixed secret (the demo only).
    pub client_secret: Option<String>,
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
    let audience = Audience::from_str(&input.audience).map_err(|e| invalid(e.to_string()))?;
    let id_token_alg = JwsAlg::from_str(&input.id_token_alg).map_err(invalid)?;
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
            None => secrets::random_token()?,
        })
    };
    let client = OidcClient {
        client_id: client_id.clone(),
        client_secret_hash: secret.as_deref().map(secrets::hash_client_secret),
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
    };
    let id = Uuid::new_v4();
    let audit = ctx.audit(
        "client.add",
        None,
        Some(client_id.clone()),
        serde_json::json!({"name": name, "kind": kind.as_str(), "public": input.public,
            "offline_access": input.offline_access}),
    );
    let rp = ctx.dir.insert_relying_party(
        NewRelyingParty {
            id,
            name,
            kind,
            protocol: RpProtocol::Oidc(client),
            sector,
            home_allowed: input.home_allowed,
            audience,
            offline_access: input.offline_access,
        },
        ctx.now(),
        audit,
    )?;
    Ok(AddedClient {
        rp,
        client_secret: secret,
    })
}

/// The host of an absolute URL as the WHATWG URL standard reads it (what a browser would
/// connect to), without IPv6 brackets; empty when there is none.
fn host_of(uri: &str) -> String {
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

fn check_https_or_local(u: &str) -> Result<()> {
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
        if u.len() > crate::saml::RELAY_STATE_MAX {
            return Err(invalid(format!(
                "--relay-state '{u}' is longer than {} bytes, the most SAML allows",
                crate::saml::RELAY_STATE_MAX
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
    pem.map(crate::saml::sp::signing_certificate)
        .transpose()
        .map_err(|e| invalid(e.to_string()))
}

/// A SAML service provider from its metadata (`saml-sp add`).
pub fn add_saml_sp(ctx: Ctx<'_>, input: SamlSpInput) -> Result<RelyingParty> {
    let cert = signing_cert(input.metadata_signing_cert.as_deref())?;
    let (document, meta) = crate::saml::sp::verified(&input.metadata, cert.as_deref())
        .map_err(|e| invalid(e.to_string()))?;
    let kind = RpKind::from_str(&input.kind).map_err(invalid)?;
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
        "saml_sp.add",
        None,
        Some(meta.entity_id.clone()),
        serde_json::json!({"name": name, "kind": kind.as_str(), "sector": sector,
            "relay_states": options.relay_states, "metadata_url": options.metadata_url,
            "refresh_hours": options.refresh_hours,
            "metadata_signed": options.metadata_signing_cert.is_some()}),
    );
    let rp = ctx.dir.insert_relying_party(
        NewRelyingParty {
            id: Uuid::new_v4(),
            name,
            kind,
            protocol: RpProtocol::Saml(broker::model::SamlSp {
                entity_id: meta.entity_id,
                metadata: document,
            }),
            sector,
            home_allowed: input.home_allowed,
            audience,
            offline_access: false,
        },
        ctx.now(),
        audit,
    )?;
    if options != SamlSpOptions::default() {
        ctx.dir
            .update_saml_sp(rp.id, None, options, ctx.now(), None)?;
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
            let (document, meta) = crate::saml::sp::verified(doc, cert.as_deref())
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
            "saml_sp.update",
            None,
            Some(saml.entity_id.clone()),
            serde_json::json!({"metadata_changed": metadata_changed,
                "relay_states": options.relay_states, "metadata_url": options.metadata_url,
                "refresh_hours": options.refresh_hours,
                "metadata_signed": options.metadata_signing_cert.is_some()}),
        )
    });
    ctx.dir
        .update_saml_sp(rp.id, document, options.clone(), ctx.now(), audit)?;
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
        "saml_sp.remove",
        None,
        Some(entity_id.to_string()),
        serde_json::json!({"name": rp.name,
            "registrations_removed": registrations.iter().map(|r| r.school.to_string()).collect::<Vec<_>>()}),
    );
    ctx.dir.remove_relying_party(rp.id, audit)?;
    Ok((rp, registrations))
}

/// Options of a registration.
#[derive(Debug, Clone, Copy)]
pub struct RegisterOptions {
    pub release: Release,
    pub home_allowed: bool,
}

impl Default for RegisterOptions {
    fn default() -> Self {
        Self {
            release: Release::default(),
            home_allowed: true,
        }
    }
}

/// The school allows a relying party (`register`).
pub fn register(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    rp_public_id: &str,
    opts: RegisterOptions,
) -> Result<(School, RelyingParty, Registration)> {
    let s = ctx.active_school(school)?;
    let rp = find_rp(ctx, rp_public_id)?;
    let audit = ctx.audit(
        "registration.register",
        Some(*school),
        Some(rp.public_id().to_string()),
        serde_json::json!({"release": opts.release, "home_allowed": opts.home_allowed}),
    );
    let reg = ctx.dir.put_registration(
        RegistrationChange {
            school: *school,
            rp_id: rp.id,
            allowed: true,
            release: opts.release,
            home_allowed: opts.home_allowed,
        },
        ctx.now(),
        audit,
    )?;
    Ok((s, rp, reg))
}

/// The school withdraws a relying party (`deregister`): no SSO and no data from now on.
pub fn deregister(
    ctx: Ctx<'_>,
    school: &InstellingRef,
    rp_public_id: &str,
) -> Result<Registration> {
    let _ = ctx
        .dir
        .school(school)?
        .ok_or_else(|| invalid(format!("no school with INSTELLING_REF {school}")))?;
    let rp = find_rp(ctx, rp_public_id)?;
    let existing = ctx.dir.registration(school, rp.id)?.ok_or_else(|| {
        invalid(format!(
            "school {school} has not registered '{rp_public_id}'"
        ))
    })?;
    let audit = ctx.audit(
        "registration.deregister",
        Some(*school),
        Some(rp.public_id().to_string()),
        serde_json::json!({}),
    );
    Ok(ctx.dir.put_registration(
        RegistrationChange {
            school: *school,
            rp_id: rp.id,
            allowed: false,
            release: existing.release,
            home_allowed: existing.home_allowed,
        },
        ctx.now(),
        audit,
    )?)
}

fn find_rp(ctx: Ctx<'_>, public_id: &str) -> Result<RelyingParty> {
    ctx.dir
        .relying_party_by_public_id(public_id)?
        .ok_or_else(|| {
            invalid(format!(
                "no relying party with client id or entity id '{public_id}'"
            ))
        })
}

fn non_empty(what: &str, s: &str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() {
        Err(invalid(format!("{what} may not be empty")))
    } else if t.chars().count() > 200 {
        Err(invalid(format!("{what} is longer than 200 characters")))
    } else if t.chars().any(char::is_control) {
        Err(invalid(format!("{what} contains control characters")))
    } else {
        Ok(t.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn school_year_turns_on_the_first_of_august() {
        // 2026-07-31 23:59:59 UTC and 2026-08-01 00:00:00 UTC
        assert_eq!(school_year_at(1_785_542_399), "2025-2026");
        assert_eq!(school_year_at(1_785_542_400), "2026-2027");
        assert_eq!(school_year_at(1_767_225_600), "2025-2026"); // 2026-01-01
    }

    #[test]
    fn redirect_uris_follow_the_security_bcp() {
        for ok in [
            "https://uitgever.example/cb",
            "http://127.0.0.1:8081/cb",
            "http://localhost/cb",
            "nl.uitgever.app:/cb",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://uitgever.example/cb",
            "https://uitgever.example/cb#x",
            "/cb",
            "javascript:alert(1)",
            "https:///cb",
            // WHATWG reads a backslash as a slash: the host is evil.example, not localhost.
            "http://evil.example\\@localhost/cb",
            "https://evil.example\\@uitgever.example/cb",
            "https://user:pw@uitgever.example/cb",
            "https://uitgever.example",
            "https://UITGEVER.example/cb",
            "http://localhost.evil.example/cb",
            "http://127.0.0.1.evil.example/cb",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn e_mail_addresses() {
        assert_eq!(
            normalise_email(" Juf.Anna@School.NL ").ok().as_deref(),
            Some("juf.anna@school.nl")
        );
        for bad in [
            "anna",
            "anna@",
            "@school.nl",
            "a@b",
            "a b@school.nl",
            "a@@school.nl",
        ] {
            assert!(normalise_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(host_of("https://a.example:8443/x?y"), "a.example");
        assert_eq!(host_of("http://[::1]:80/x"), "::1");
        assert_eq!(
            host_of("http://evil.example\\@localhost/cb"),
            "evil.example"
        );
    }
}

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
) -> Result<broker::model::Upstream> {
    use broker::model::{MatchRule, UpstreamProtocol};
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
            let entity_id = crate::saml::upstream::idp_entity_id(xml)
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
        "upstream.add",
        schools.first().copied(),
        Some(id.to_string()),
        serde_json::json!({"name": name, "schools": schools.iter().map(|s| s.to_string()).collect::<Vec<_>>()}),
    );
    Ok(ctx.dir.insert_upstream(
        broker::repo::NewUpstream {
            id,
            name,
            protocol,
            match_rule,
            match_claim,
            provision: input.provision,
            provision_roles,
            schools,
        },
        ctx.now(),
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
pub fn remove_upstream(ctx: Ctx<'_>, name: &str) -> Result<broker::model::Upstream> {
    let u = ctx
        .dir
        .upstream_by_name(name)?
        .ok_or_else(|| invalid(format!("no upstream named '{name}'")))?;
    let audit = ctx.audit(
        "upstream.remove",
        u.schools.first().copied(),
        Some(u.id.to_string()),
        serde_json::json!({"name": u.name}),
    );
    ctx.dir.remove_upstream(u.id, audit)?;
    Ok(u)
}
