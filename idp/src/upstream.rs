//! Signing in through a network environment (an upstream identity provider), whatever its
//! protocol. The OIDC side (`upstream_oidc`) and the SAML side (`saml::upstream`) verify the
//! upstream's answer and call [`finish`] with what it asserted; this module finds the user
//! ([`broker::federation::match_user`]), creates them when the upstream provisions, starts the
//! SSO session with `login_context` `netwerk`, and says where the browser goes next.
//!
//! Between sending the browser to the upstream and its return, a [`Pending`] waits in the
//! ephemeral store under the protocol's own correlation key (OIDC `state`, SAML request id).
//! It is bound to the browser that started it (RFC 9700 §4.7): a short-lived cookie holds a
//! random value whose digest the `Pending` keeps ([`bind_and_put`], [`is_bound`]), so a
//! callback URL or an answer of someone else's sign-in signs nobody in.

use std::str::FromStr as _;
use std::time::Duration;

use broker::audit::AuditAction;
use broker::federation::{self, Asserted, MatchError};
use broker::model::{AuditEvent, Upstream, User, UserStatus};
use claims::{InstellingRef, LoginContext, Role};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::app::AppState;
use crate::session::{self, Authenticated, SsoSession};

/// How long a browser may take at the upstream.
pub const PENDING_TTL: Duration = Duration::from_secs(10 * 60);

/// `acr` of a sign-in through a network environment.
pub const ACR_NETWORK: &str = "urn:leerpoort:acr:netwerk";

/// What waits while the browser is at the upstream.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub upstream: Uuid,
    /// The school the user came through (a shortcut), if known.
    pub school: Option<InstellingRef>,
    /// A relying party to go on to (a shortcut's TARGET).
    pub target: Option<String>,
    /// Where to continue instead (a waiting OIDC or SAML request of a relying party).
    pub resume: Option<String>,
    /// The relying party asked `prompt=none`: the upstream is asked not to show anything.
    pub passive: bool,
    /// Protocol details (OIDC: PKCE verifier and nonce; SAML: the request id).
    pub protocol: serde_json::Value,
    /// SHA-256 (hex) of the binding cookie's value of the browser that started the sign-in.
    #[serde(default)]
    pub browser: Option<String>,
}

/// The cookie that binds a sign-in at a network environment to the browser that started it.
/// Its name is derived from the correlation key, so sign-ins in two tabs do not disturb each
/// other; its value is random.
#[derive(Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    value: String,
}

impl std::fmt::Debug for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binding")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The binding cookies' path: only the callback and the ACS need them.
pub const BINDING_PATH: &str = "/broker/";

fn sha256_hex(value: &str) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, value.as_bytes()).as_ref())
}

/// The name of the binding cookie of the sign-in `kind`/`key`.
pub fn binding_cookie_name(kind: &str, key: &str) -> String {
    let digest = sha256_hex(&format!("{kind}\n{key}"));
    format!("lp_netwerk_{}", &digest[..16])
}

impl Binding {
    /// The cookie to set with the redirect to the upstream: `HttpOnly`, `Secure` over HTTPS,
    /// `SameSite=Lax` (the OIDC callback is a top-level GET; the SAML ACS continues with one,
    /// see `saml::upstream_sp::hold`), as long as the sign-in may take.
    pub fn cookie(&self, https: bool) -> actix_web::cookie::Cookie<'static> {
        actix_web::cookie::Cookie::build(self.name.clone(), self.value.clone())
            .path(BINDING_PATH)
            .http_only(true)
            .secure(https)
            .same_site(actix_web::cookie::SameSite::Lax)
            .max_age(actix_web::cookie::time::Duration::seconds(
                PENDING_TTL.as_secs() as i64,
            ))
            .finish()
    }
}

/// A cookie that removes the binding cookie `name` (the sign-in is over).
pub fn clear_binding_cookie(name: &str, https: bool) -> actix_web::cookie::Cookie<'static> {
    let mut c = actix_web::cookie::Cookie::build(name.to_string(), String::new())
        .path(BINDING_PATH)
        .http_only(true)
        .secure(https)
        .same_site(actix_web::cookie::SameSite::Lax)
        .finish();
    c.make_removal();
    c
}

/// Bind `p` to a new random cookie and keep it under `kind`/`key` until the browser returns:
/// the cookie to set.
pub fn bind_and_put(
    state: &AppState,
    kind: &str,
    key: &str,
    mut p: Pending,
) -> Result<Binding, broker::store::StoreError> {
    let value = broker::secrets::random_token()
        .map_err(|_| broker::store::StoreError::Unavailable("random".into()))?;
    p.browser = Some(sha256_hex(&value));
    put_pending(state, kind, key, &p)?;
    Ok(Binding {
        name: binding_cookie_name(kind, key),
        value,
    })
}

/// Did the browser that shows `presented` (the value of the binding cookie) start `p`? A
/// pending sign-in without a binding is no one's.
pub fn is_bound(p: &Pending, presented: Option<&str>) -> bool {
    use subtle::ConstantTimeEq as _;
    match (&p.browser, presented.filter(|v| !v.is_empty())) {
        (Some(expected), Some(value)) => {
            bool::from(expected.as_bytes().ct_eq(sha256_hex(value).as_bytes()))
        }
        _ => false,
    }
}

fn pending_key(kind: &str, key: &str) -> String {
    format!("upstream-pending:{kind}:{key}")
}

/// Keep `p` under `kind`/`key` until the browser returns.
pub fn put_pending(
    state: &AppState,
    kind: &str,
    key: &str,
    p: &Pending,
) -> Result<(), broker::store::StoreError> {
    let bytes = serde_json::to_vec(p).map_err(|_| broker::store::StoreError::Corrupt)?;
    state
        .store
        .put(&pending_key(kind, key), &bytes, PENDING_TTL)
}

/// Take the pending sign-in for `kind`/`key`: single use.
pub fn take_pending(state: &AppState, kind: &str, key: &str) -> Option<Pending> {
    let bytes = state.store.take(&pending_key(kind, key)).ok()??;
    serde_json::from_slice(&bytes).ok()
}

/// Why a sign-in through an upstream ends without a session.
#[derive(Debug, thiserror::Error)]
pub enum FinishError {
    #[error(transparent)]
    Match(#[from] MatchError),
    /// Provisioning was configured but the upstream did not send enough to create the user.
    #[error("cannot create the user: {0}")]
    Provision(String),
    /// The upstream asserted a role it may not create users with: anything but the pupils
    /// and teachers the operator allowed (`--provision-roles`).
    #[error("the network environment may not create a user with the role it asserted")]
    RoleNotAllowed,
    #[error("try again in a few minutes")]
    Unavailable,
}

fn audit(
    upstream: &Upstream,
    action: AuditAction,
    school: Option<InstellingRef>,
    details: serde_json::Value,
    now: i64,
) -> AuditEvent {
    AuditEvent::record(
        action,
        format!("upstream:{}", upstream.name),
        now,
        school,
        None,
        details,
    )
}

/// The user the upstream signed in: matched, or created when the upstream provisions.
/// Unmatched users are an audit event (without the asserted values: they may be personal).
pub fn user_for(
    state: &AppState,
    upstream: &Upstream,
    asserted: &Asserted,
    school: Option<&InstellingRef>,
    now: i64,
) -> Result<User, FinishError> {
    match federation::match_user(state.dir.as_ref(), upstream, asserted, school) {
        Ok(u) => Ok(u),
        Err(MatchError::Unknown) if upstream.provision => {
            provision(state, upstream, asserted, school, now)
        }
        Err(e) => {
            let _ = state.dir.append_audit(audit(
                upstream,
                AuditAction::UpstreamUnmatched,
                school
                    .copied()
                    .or_else(|| upstream.schools.first().copied()),
                serde_json::json!({"reason": e.to_string()}),
                now,
            ));
            Err(e.into())
        }
    }
}

/// The role an upstream asserts.
enum AssertedRole {
    /// It asserts none.
    Missing,
    Known(Role),
    /// It asserts one Leerpoort does not know.
    Other,
}

/// The role an upstream asserts, from `role` (Leerpoort's names) or else
/// `eduPersonAffiliation` (`student`; `employee`, `faculty` or `staff` as a teacher).
fn asserted_role(asserted: &Asserted) -> AssertedRole {
    if let Some(r) = asserted.get("role").map(|r| r.trim()) {
        return match Role::from_str(r) {
            Ok(role) => AssertedRole::Known(role),
            Err(_) => AssertedRole::Other,
        };
    }
    match asserted.get("eduPersonAffiliation").map(|a| a.trim()) {
        None => AssertedRole::Missing,
        Some("student") => AssertedRole::Known(Role::Leerling),
        Some("employee" | "faculty" | "staff") => AssertedRole::Known(Role::Leerkracht),
        Some(_) => AssertedRole::Other,
    }
}

fn provision(
    state: &AppState,
    upstream: &Upstream,
    asserted: &Asserted,
    school: Option<&InstellingRef>,
    now: i64,
) -> Result<User, FinishError> {
    let school = match (
        school.filter(|s| upstream.schools.contains(s)),
        upstream.schools.as_slice(),
    ) {
        (Some(s), _) => *s,
        (None, [only]) => *only,
        _ => {
            return Err(FinishError::Provision(
                "the school is not known (it serves several)".into(),
            ))
        }
    };
    // Pupils and teachers only, and only the roles allowed for this upstream: never a
    // coordinator, an IB'er or anyone else with more rights.
    let role = match asserted_role(asserted) {
        AssertedRole::Missing => {
            return Err(FinishError::Provision(
                "no role ('role' or 'eduPersonAffiliation')".into(),
            ))
        }
        AssertedRole::Known(r @ (Role::Leerling | Role::Leerkracht))
            if upstream.provision_roles.contains(&r) =>
        {
            r
        }
        AssertedRole::Known(_) | AssertedRole::Other => {
            let _ = state.dir.append_audit(audit(
                upstream,
                AuditAction::UpstreamRoleRefused,
                Some(school),
                serde_json::json!({
                    "reason": "the asserted role may not be provisioned by this network environment",
                    "allowed": upstream.provision_roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
                }),
                now,
            ));
            return Err(FinishError::RoleNotAllowed);
        }
    };
    let first = |keys: &[&str]| keys.iter().find_map(|k| asserted.get(*k)).cloned();
    let given = first(&["given_name", "givenName"]).unwrap_or_default();
    let family = first(&["family_name", "sn", "surname"]).unwrap_or_default();
    if given.trim().is_empty() || family.trim().is_empty() {
        return Err(FinishError::Provision("no given and family name".into()));
    }
    let value = asserted.get(&upstream.match_claim).cloned();
    let (las_key, eck_id, email) = match upstream.match_rule {
        broker::model::MatchRule::LasKey => (value, None, None),
        broker::model::MatchRule::EckId => (None, value, None),
        broker::model::MatchRule::Email => (None, None, value),
    };
    let id = Uuid::new_v4();
    let roles = vec![role];
    let eck_id = eck_id
        .map(|e| claims::EckId::parse_import(&e))
        .transpose()
        .map_err(|e| FinishError::Provision(e.to_string()))?;
    if role.is_pupil() && email.is_some() {
        return Err(FinishError::Provision(
            "pupils are not matched by e-mail".into(),
        ));
    }
    let user = state
        .dir
        .insert_user(
            broker::repo::NewUser {
                id,
                school,
                roles,
                las_key,
                eck_id,
                given_name: given.trim().to_string(),
                family_name: family.trim().to_string(),
                email: email.map(|e| e.trim().to_lowercase()),
                // Known only through the network environment: inactive in Leerpoort, as the
                // seeds describe, and still given their software.
                status: if role.is_pupil() {
                    UserStatus::Active
                } else {
                    UserStatus::Inactive
                },
                picture: None,
                pupil_auth: None,
                pin_hash: None,
                picture_password_hash: None,
                password_hash: None,
                source: format!("upstream:{}", upstream.id),
                group_ids: Vec::new(),
                secret_sealed: None,
            },
            now,
            audit(
                upstream,
                AuditAction::UserProvisioned,
                Some(school),
                serde_json::json!({"user": id.to_string()}),
                now,
            ),
        )
        .map_err(|e| FinishError::Provision(e.to_string()))?;
    Ok(user)
}

/// Who the upstream said the user was in its own session, so that its logout can end
/// Leerpoort's session too (OIDC back-channel logout names `sid` or `sub`).
#[derive(Clone, Default)]
pub struct UpstreamLink {
    pub sid: Option<String>,
    pub sub: Option<String>,
    /// The upstream's ID token (OIDC), the hint for its logout.
    pub id_token: Option<String>,
}

impl std::fmt::Debug for UpstreamLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamLink").finish_non_exhaustive()
    }
}

fn link_key(upstream: Uuid, kind: &str, value: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, value.as_bytes());
    format!(
        "upstream-link:{upstream}:{kind}:{}",
        hex::encode(d.as_ref())
    )
}

fn sids_of(bytes: Option<Vec<u8>>) -> Vec<String> {
    bytes
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Remember that Leerpoort session `sid` came from the upstream's `link`.
fn remember_link(state: &AppState, upstream: Uuid, link: &UpstreamLink, sid: &str) {
    let ttl = Duration::from_secs(session::SESSION_SECS as u64);
    for (kind, value) in [("sid", &link.sid), ("sub", &link.sub)] {
        let Some(v) = value else { continue };
        let key = link_key(upstream, kind, v);
        let mut sids = sids_of(state.store.get(&key).ok().flatten());
        if !sids.iter().any(|s| s == sid) {
            sids.push(sid.to_string());
        }
        if let Ok(b) = serde_json::to_vec(&sids) {
            let _ = state.store.put(&key, &b, ttl);
        }
    }
}

/// The Leerpoort sessions that came from the upstream's session `sid`, or from its user
/// `sub` (all of that user's sessions through this upstream). The links are used up.
pub fn linked_sessions(state: &AppState, upstream: Uuid, link: &UpstreamLink) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, value) in [("sid", &link.sid), ("sub", &link.sub)] {
        let Some(v) = value else { continue };
        let sids = sids_of(
            state
                .store
                .take(&link_key(upstream, kind, v))
                .ok()
                .flatten(),
        );
        for s in sids {
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// Finish a sign-in through `upstream`: the user, a new SSO session (`login_context`
/// `netwerk`, `amr` `fed`, the upstream named in `acr`), and where the browser goes next.
pub fn finish(
    state: &AppState,
    upstream: &Upstream,
    asserted: &Asserted,
    pending: &Pending,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
) -> Result<(SsoSession, String), FinishError> {
    finish_linked(
        state,
        upstream,
        asserted,
        pending,
        ip,
        previous_sid,
        now,
        None,
    )
}

/// As [`finish`], remembering the upstream's session (`link`) for its logout.
#[allow(clippy::too_many_arguments)]
pub fn finish_linked(
    state: &AppState,
    upstream: &Upstream,
    asserted: &Asserted,
    pending: &Pending,
    ip: Option<&str>,
    previous_sid: Option<&str>,
    now: i64,
    link: Option<&UpstreamLink>,
) -> Result<(SsoSession, String), FinishError> {
    let user = user_for(state, upstream, asserted, pending.school.as_ref(), now)?;
    if !session::user_stands(state, user.id, now) {
        // Offboarded (`user disable`): a network environment cannot sign them in either.
        return Err(FinishError::Match(broker::federation::MatchError::Unknown));
    }
    let who = Authenticated {
        user_id: user.id,
        school: user.school,
        amr: vec!["fed".into()],
        acr: format!("{ACR_NETWORK}:{}", upstream.name),
        context: LoginContext::Netwerk,
        ip: ip.map(str::to_string),
    };
    let mut s = session::start(state.store.as_ref(), who, now, previous_sid)
        .map_err(|_| FinishError::Unavailable)?;
    s.upstream = Some(session::SessionUpstream {
        upstream: upstream.id,
        id_token: link.and_then(|l| l.id_token.clone()),
        name_id: asserted.get("NameID").cloned(),
    });
    session::save(state.store.as_ref(), &s, now).map_err(|_| FinishError::Unavailable)?;
    if let Some(link) = link {
        remember_link(state, upstream.id, link, &s.sid);
    }
    let dest = match (&pending.resume, &pending.target) {
        (Some(r), _) => r.clone(),
        (None, Some(t)) => state
            .dir
            .school(&user.school)
            .ok()
            .flatten()
            .and_then(|school| crate::shortcut::destination_of_target(state, &school, &s, Some(t)))
            .unwrap_or_else(|| "/".into()),
        (None, None) => "/".into(),
    };
    Ok((s, dest))
}
