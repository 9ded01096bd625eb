//! The SSO session: what a signed-in browser holds, how long it lives, when it ends (its end,
//! its idle limit, the user's offboarding), and the takeover check — a session used from
//! another place than it started is ended. Sessions live in the [`EphemeralStore`] under
//! `session:<sid>`; the cookie that carries the `sid`, and CSRF, are the server's.

use crate::keyspace::Key;
use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use claims::{InstellingRef, LoginContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::School;
use crate::random::random_token;
use crate::repo::Directory;
use crate::store::{EphemeralStore, StoreError};

/// `acr` of a password sign-in.
pub const ACR_PASSWORD: &str = "urn:leerpoort:acr:wachtwoord";
/// `acr` of a pupil sign-in (name tile + PIN or picture password).
pub const ACR_PUPIL: &str = "urn:leerpoort:acr:leerling";

/// How long an SSO session lasts: a school day.
pub const SESSION_SECS: i64 = 10 * 3600;

/// A signed-in browser.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SsoSession {
    pub sid: String,
    pub user_id: Uuid,
    pub school: InstellingRef,
    /// When the user last proved who they are (seconds).
    pub auth_time: i64,
    /// How: `pwd` (password), `pin`, `pic` (picture password), `fed` (upstream).
    pub amr: Vec<String>,
    pub acr: String,
    pub context: LoginContext,
    /// The address the session started from.
    pub ip: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    /// Client ids that received tokens in this session (back-channel logout).
    pub clients: Vec<String>,
    /// Grants issued in this session, revoked at logout. No longer filled: a grant ends with
    /// its session through [`ended`]. Kept, and still revoked at logout, for sessions written
    /// by an earlier version during a rolling upgrade.
    #[serde(default)]
    pub grants: Vec<String>,
    /// The network environment the user came in through, for its logout.
    #[serde(default)]
    pub upstream: Option<SessionUpstream>,
    /// When the session was last used (seconds; kept to the minute).
    #[serde(default)]
    pub last_seen: i64,
    /// Inactivity after which the session ends (seconds); 0: none.
    #[serde(default)]
    pub idle_secs: i64,
}

/// The upstream a session came from.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionUpstream {
    pub upstream: Uuid,
    /// The upstream's ID token, as `id_token_hint` for its logout (OIDC).
    #[serde(default)]
    pub id_token: Option<String>,
    /// The NameID the upstream gave, for Leerpoort's LogoutRequest to it (SAML).
    #[serde(default)]
    pub name_id: Option<String>,
}

impl std::fmt::Debug for SessionUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionUpstream")
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

/// How often (seconds) a used session's `last_seen` is written back: at most once a minute.
const TOUCH_SECS: i64 = 60;

/// Load a live session. A session unused for its idle time (see [`SsoSession::idle_secs`]) is
/// over, and removed; a used one is marked as seen (written back at most once a minute).
pub fn load(
    store: &dyn EphemeralStore,
    sid: &str,
    now: i64,
) -> Result<Option<SsoSession>, StoreError> {
    let Some(bytes) = store.get(&Key::Session(sid))? else {
        return Ok(None);
    };
    let mut s: SsoSession = serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt)?;
    if s.expires_at <= now || s.sid != sid {
        return Ok(None);
    }
    let last_seen = s.last_seen.max(s.created_at);
    if s.idle_secs > 0 && now - last_seen >= s.idle_secs {
        tracing::info!("session ended after {} s without use", s.idle_secs);
        store.delete(&Key::Session(sid))?;
        return Ok(None);
    }
    if now - last_seen >= TOUCH_SECS {
        s.last_seen = now;
        save(store, &s, now)?;
    }
    Ok(Some(s))
}

/// Write a session back (after adding a client or grant).
pub fn save(store: &dyn EphemeralStore, s: &SsoSession, now: i64) -> Result<(), StoreError> {
    let ttl = (s.expires_at - now).max(1);
    let bytes = serde_json::to_vec(s).map_err(|_| StoreError::Corrupt)?;
    store.put(
        &Key::Session(&s.sid),
        &bytes,
        Duration::from_secs(ttl as u64),
    )
}

/// The session id relying parties see (`sid` in ID tokens and logout tokens): a one-way
/// hash of the secret cookie value, so it can never be replayed as a cookie.
pub fn public_sid(sid: &str) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("leerpoort-sid-v1:{sid}").as_bytes(),
    );
    URL_SAFE_NO_PAD.encode(&d.as_ref()[..18])
}

/// Remove a session, and leave word that it ended: the grants issued in it (refresh and
/// access tokens without `offline_access`) end with it ([`ended`]). The word is kept as long
/// as such a grant can live ([`protocol::oidc::REFRESH_SECS`]), so the session need not
/// keep a list of its grants.
pub fn destroy(store: &dyn EphemeralStore, sid: &str) -> Result<(), StoreError> {
    store.put(
        &Key::SessionEnded(&public_sid(sid)),
        b"1",
        Duration::from_secs(protocol::oidc::REFRESH_SECS as u64),
    )?;
    store.delete(&Key::Session(sid))
}

/// Was the session `sid` ended ([`destroy`])?
pub fn ended(store: &dyn EphemeralStore, sid: &str) -> Result<bool, StoreError> {
    Ok(store.get(&Key::SessionEnded(&public_sid(sid)))?.is_some())
}

/// What a successful sign-in proved.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user_id: Uuid,
    pub school: InstellingRef,
    pub amr: Vec<String>,
    pub acr: String,
    pub context: LoginContext,
    pub ip: Option<String>,
}

impl Authenticated {
    /// A sign-in at school (`LoginContext::School`) by `user_id` of `school`, proved by `amr`
    /// at level `acr`, from `ip`.
    pub fn at_school(
        user_id: Uuid,
        school: InstellingRef,
        amr: &[&str],
        acr: &str,
        ip: Option<&str>,
    ) -> Self {
        Authenticated {
            user_id,
            school,
            amr: amr.iter().map(|m| m.to_string()).collect(),
            acr: acr.to_string(),
            context: LoginContext::School,
            ip: ip.map(str::to_string),
        }
    }
}

/// The built-in inactivity limit of a session, for sign-ins that do not pass the configured one
/// ([`start_with_idle`]): pupils' (the pupil `acr`) [`PUPIL_IDLE_SECS`], none for others.
pub fn default_idle_secs(who: &Authenticated) -> i64 {
    if who.acr == ACR_PUPIL {
        PUPIL_IDLE_SECS
    } else {
        0
    }
}

/// Pupils' default inactivity limit: 30 minutes (a shared classroom tablet).
pub const PUPIL_IDLE_SECS: i64 = 30 * 60;

/// Start a new session (a new id: never reuse one the browser brought), with the built-in
/// inactivity limit ([`default_idle_secs`]).
pub fn start(
    store: &dyn EphemeralStore,
    who: Authenticated,
    now: i64,
    previous_sid: Option<&str>,
) -> Result<SsoSession, StoreError> {
    let idle_secs = default_idle_secs(&who);
    start_with_idle(store, who, now, previous_sid, idle_secs)
}

/// [`start`], ending the session after `idle_secs` without use (0: only at its end).
pub fn start_with_idle(
    store: &dyn EphemeralStore,
    who: Authenticated,
    now: i64,
    previous_sid: Option<&str>,
    idle_secs: i64,
) -> Result<SsoSession, StoreError> {
    if let Some(old) = previous_sid {
        store.delete(&Key::Session(old))?;
    }
    let sid = random_token().map_err(|_| StoreError::Unavailable("random".into()))?;
    let s = SsoSession {
        sid,
        user_id: who.user_id,
        school: who.school,
        auth_time: now,
        amr: who.amr,
        acr: who.acr,
        context: who.context,
        ip: who.ip,
        created_at: now,
        expires_at: now + SESSION_SECS,
        clients: Vec::new(),
        grants: Vec::new(),
        upstream: None,
        last_seen: now,
        idle_secs: idle_secs.max(0),
    };
    save(store, &s, now)?;
    Ok(s)
}

/// Does `user` still stand for something issued at a sign-in at `signed_in_at`: not disabled
/// or removed, and not offboarded since? Read from the database in every request (never a
/// cache across requests), so `user disable` ends sessions, codes and refresh tokens on every
/// node at once.
pub fn user_stands(dir: &dyn Directory, user: Uuid, signed_in_at: i64) -> bool {
    matches!(standing(dir, user, signed_in_at), Ok(true))
}

/// [`user_stands`], telling a database that did not answer apart from a user who no longer
/// stands: an outage is not an offboarding.
pub fn standing(dir: &dyn Directory, user: Uuid, signed_in_at: i64) -> Result<bool, StoreError> {
    match dir.user_standing(user) {
        Ok(s) => Ok(s.is_some_and(|s| s.admits(signed_in_at))),
        Err(e) => Err(StoreError::Unavailable(format!("directory: {e}"))),
    }
}

/// Load a live session whose user still stands ([`user_stands`]); a session of an offboarded
/// user is ended. When the directory does not answer, the session is left alone and the error
/// says so: an outage signs nobody out.
pub fn load_standing(
    dir: &dyn Directory,
    store: &dyn EphemeralStore,
    sid: &str,
    now: i64,
) -> Result<Option<SsoSession>, StoreError> {
    let Some(s) = load(store, sid, now)? else {
        return Ok(None);
    };
    if standing(dir, s.user_id, s.created_at)? {
        Ok(Some(s))
    } else {
        let _ = destroy(store, &s.sid);
        Ok(None)
    }
}

/// A session as a request from a given address finds it.
#[derive(Debug)]
pub enum Found {
    /// Alive, and used from the place it started (see [`same_place`]).
    Here(Box<SsoSession>),
    /// Alive, but used from elsewhere: potentiële sessie-overname. It has been ended; the
    /// user is shown the warning and signs in again.
    Moved,
    /// No session.
    Absent,
}

/// Load session `sid` for a request from `ip`, ending it when it is used from another place
/// than it started. A store or directory that does not answer is an error, not "no session".
pub fn load_here(
    dir: &dyn Directory,
    store: &dyn EphemeralStore,
    sid: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Found, StoreError> {
    let Some(s) = load_standing(dir, store, sid, now)? else {
        return Ok(Found::Absent);
    };
    Ok(if ended_if_moved(dir, store, &s, ip)? {
        Found::Moved
    } else {
        Found::Here(Box::new(s))
    })
}

/// The takeover check: is session `s` used from `ip`, another place than it started (see
/// [`same_place`])? Then it is ended, and the answer is `true` (the user is warned and signs
/// in again).
pub fn ended_if_moved(
    dir: &dyn Directory,
    store: &dyn EphemeralStore,
    s: &SsoSession,
    ip: Option<&str>,
) -> Result<bool, StoreError> {
    if same_place(s.ip.as_deref(), ip, None) {
        return Ok(false);
    }
    let school = dir
        .school(&s.school)
        .map_err(|e| StoreError::Unavailable(format!("directory: {e}")))?;
    if same_place(s.ip.as_deref(), ip, school.as_ref()) {
        return Ok(false);
    }
    tracing::warn!("session used from another place; ended (potential session takeover)");
    destroy(store, &s.sid)?;
    Ok(true)
}

/// Is a session used from the place it started? The same /24 (IPv4) or /56 (IPv6), or both
/// addresses inside the school's networks, count as the same place — so a laptop moving
/// between access points, or a home router renumbering within its block, does not alarm
/// anyone; a jump from Wi-Fi to 4G, or a stolen cookie used elsewhere, does.
pub fn same_place(started: Option<&str>, now_at: Option<&str>, school: Option<&School>) -> bool {
    let (Some(a), Some(b)) = (
        started.and_then(|s| s.parse::<IpAddr>().ok()),
        now_at.and_then(|s| s.parse::<IpAddr>().ok()),
    ) else {
        return true;
    };
    if a == b {
        return true;
    }
    if let Some(s) = school {
        if s.in_network(&a) && s.in_network(&b) {
            return true;
        }
    }
    match (a, b) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.octets()[..3] == y.octets()[..3],
        (IpAddr::V6(x), IpAddr::V6(y)) => {
            let (x, y) = (x.octets(), y.octets());
            x[..7] == y[..7]
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_place() {
        assert!(
            same_place(Some("192.0.2.10"), Some("192.0.2.200"), None),
            "same /24"
        );
        assert!(
            !same_place(Some("192.0.2.10"), Some("198.51.100.7"), None),
            "Wi-Fi to 4G"
        );
        assert!(
            same_place(Some("2001:db8:1:ff00::1"), Some("2001:db8:1:ff42::9"), None),
            "same /56"
        );
        assert!(!same_place(
            Some("2001:db8:1:ff00::1"),
            Some("2001:db8:2::1"),
            None
        ));
        assert!(!same_place(Some("192.0.2.10"), Some("2001:db8::1"), None));
        assert!(
            same_place(None, Some("192.0.2.1"), None),
            "unknown start: nothing to compare"
        );
    }
}
