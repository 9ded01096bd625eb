//! SSO sessions and CSRF protection.
//!
//! A session lives in the ephemeral store under `session:<sid>`; the browser holds only the
//! random `sid` in a cookie (`__Host-lp_session` over HTTPS: `Secure`, `HttpOnly`,
//! `SameSite=Lax`, `Path=/`). The id is replaced at every sign-in, so a session id planted
//! before sign-in is worthless after it.
//!
//! CSRF: every form carries a hidden `csrf_token` that must equal HMAC(key, the browser's
//! `lp_csrf` cookie). An attacker's page can neither read that cookie nor compute the HMAC.

use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::store::{EphemeralStore, StoreError};
use claims::{InstellingRef, LoginContext};
use ring::hmac;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::app::AppState;
use crate::secrets;

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
    /// Grants issued in this session, revoked at logout.
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

fn key(sid: &str) -> String {
    format!("session:{sid}")
}

/// The session cookie's name: `__Host-` prefixed over HTTPS.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-lp_session"
    } else {
        "lp_session"
    }
}

fn csrf_cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-lp_csrf"
    } else {
        "lp_csrf"
    }
}

pub(crate) fn cookie(
    name: &'static str,
    value: String,
    https: bool,
    max_age: Option<i64>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path("/")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(actix_web::cookie::time::Duration::seconds(age));
    }
    c
}

/// The session id the request carries, if any.
pub fn sid_of(req: &HttpRequest, https: bool) -> Option<String> {
    req.cookie(cookie_name(https))
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 43)
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
    let Some(bytes) = store.get(&key(sid))? else {
        return Ok(None);
    };
    let mut s: SsoSession = serde_json::from_slice(&bytes).map_err(|_| StoreError::Corrupt)?;
    if s.expires_at <= now || s.sid != sid {
        return Ok(None);
    }
    let last_seen = s.last_seen.max(s.created_at);
    if s.idle_secs > 0 && now - last_seen >= s.idle_secs {
        tracing::info!("session ended after {} s without use", s.idle_secs);
        store.delete(&key(sid))?;
        return Ok(None);
    }
    if now - last_seen >= TOUCH_SECS {
        s.last_seen = now;
        save(store, &s, now)?;
    }
    Ok(Some(s))
}

/// Does `user` still stand for something issued at a sign-in at `signed_in_at`: not disabled
/// or removed, and not offboarded since? Read from the database at every use (never a cache),
/// so `user disable` ends sessions, codes and refresh tokens on every node at once.
pub fn user_stands(state: &AppState, user: Uuid, signed_in_at: i64) -> bool {
    matches!(state.dir.user_standing(user), Ok(Some(s)) if s.admits(signed_in_at))
}

/// Load a live session whose user still stands ([`user_stands`]); a session of an offboarded
/// user is ended.
pub fn load_standing(
    state: &AppState,
    sid: &str,
    now: i64,
) -> Result<Option<SsoSession>, StoreError> {
    let Some(s) = load(state.store.as_ref(), sid, now)? else {
        return Ok(None);
    };
    if user_stands(state, s.user_id, s.created_at) {
        Ok(Some(s))
    } else {
        let _ = destroy(state.store.as_ref(), &s.sid);
        Ok(None)
    }
}

/// A session as a request from a given address finds it.
#[derive(Debug)]
pub enum Found {
    /// Alive, and used from the place it started (see [`crate::pupil::same_place`]).
    Here(Box<SsoSession>),
    /// Alive, but used from elsewhere: potentiële sessie-overname. It has been ended; the
    /// user is shown the warning and signs in again.
    Moved,
    /// No session (or the store did not answer).
    Absent,
}

/// Load session `sid` for a request from `ip`, ending it when it is used from another place
/// than it started.
pub fn load_here(state: &AppState, sid: &str, ip: Option<&str>, now: i64) -> Found {
    let Ok(Some(s)) = load_standing(state, sid, now) else {
        return Found::Absent;
    };
    let school = state.dir.school(&s.school).ok().flatten();
    if crate::pupil::same_place(s.ip.as_deref(), ip, school.as_ref()) {
        Found::Here(Box::new(s))
    } else {
        tracing::warn!("session used from another place; ended (potential session takeover)");
        let _ = destroy(state.store.as_ref(), &s.sid);
        Found::Moved
    }
}

/// Write a session back (after adding a client or grant).
pub fn save(store: &dyn EphemeralStore, s: &SsoSession, now: i64) -> Result<(), StoreError> {
    let ttl = (s.expires_at - now).max(1);
    let bytes = serde_json::to_vec(s).map_err(|_| StoreError::Corrupt)?;
    store.put(&key(&s.sid), &bytes, Duration::from_secs(ttl as u64))
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

/// Remove a session.
pub fn destroy(store: &dyn EphemeralStore, sid: &str) -> Result<(), StoreError> {
    store.delete(&key(sid))
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

/// The built-in inactivity limit of a session, for sign-ins that do not pass the configured one
/// ([`start_with_idle`]): pupils' (the pupil `acr`) [`PUPIL_IDLE_SECS`], none for others.
pub fn default_idle_secs(who: &Authenticated) -> i64 {
    if who.acr == crate::login::ACR_PUPIL {
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
        store.delete(&key(old))?;
    }
    let sid = secrets::random_token().map_err(|_| StoreError::Unavailable("random".into()))?;
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

/// The cookie that carries a session.
pub fn session_cookie(s: &SsoSession, https: bool) -> Cookie<'static> {
    cookie(cookie_name(https), s.sid.clone(), https, None)
}

/// A cookie that removes the session cookie.
pub fn clear_session_cookie(https: bool) -> Cookie<'static> {
    let mut c = cookie(cookie_name(https), String::new(), https, None);
    c.make_removal();
    c
}

/// CSRF tokens bound to the browser's `lp_csrf` cookie.
pub struct Csrf {
    key: hmac::Key,
}

impl std::fmt::Debug for Csrf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Csrf(<hidden>)")
    }
}

impl Csrf {
    pub fn new(secret: &[u8]) -> Self {
        let derived = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, secret),
            b"leerpoort-csrf-v1",
        );
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn token_for(&self, cookie_value: &str) -> String {
        URL_SAFE_NO_PAD.encode(hmac::sign(&self.key, cookie_value.as_bytes()).as_ref())
    }

    /// The token for a form, and the cookie to set when the browser has none yet.
    pub fn issue(&self, req: &HttpRequest, https: bool) -> (String, Option<Cookie<'static>>) {
        match req.cookie(csrf_cookie_name(https)) {
            Some(c) if c.value().len() == 43 => (self.token_for(c.value()), None),
            _ => {
                let value =
                    secrets::random_token().unwrap_or_else(|_| Uuid::new_v4().simple().to_string());
                let token = self.token_for(&value);
                (
                    token,
                    Some(cookie(csrf_cookie_name(https), value, https, None)),
                )
            }
        }
    }

    /// Does the form's token match the browser's cookie?
    pub fn verify(&self, req: &HttpRequest, https: bool, token: &str) -> bool {
        match req.cookie(csrf_cookie_name(https)) {
            Some(c) => bool::from(self.token_for(c.value()).as_bytes().ct_eq(token.as_bytes())),
            None => false,
        }
    }
}

/// The client's address: the peer, or — when the peer is a trusted proxy — the rightmost
/// `X-Forwarded-For` entry that is not a trusted proxy (see [`crate::forwarded`]).
pub fn client_ip(req: &HttpRequest, state: &AppState) -> Option<String> {
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    crate::forwarded::client_address(
        req.peer_addr().map(|a| a.ip()),
        forwarded,
        &state.config.trusted_proxies,
    )
    .map(|ip| ip.to_string())
}
