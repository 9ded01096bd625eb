//! SSO sessions and CSRF protection.
//!
//! A session lives in the ephemeral store under `session:<sid>`; the browser holds only the
//! random `sid` in a cookie (`__Host-lp_session` over HTTPS: `Secure`, `HttpOnly`,
//! `SameSite=Lax`, `Path=/`). The id is replaced at every sign-in, so a session id planted
//! before sign-in is worthless after it.
//!
//! CSRF: every form carries a hidden `csrf_token` that must equal HMAC(key, the browser's
//! `lp_csrf` cookie). An attacker's page can neither read that cookie nor compute the HMAC.

use actix_web::cookie::Cookie;
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::model::RelyingParty;
use broker::release::{ReleaseError, Scopes};
use broker::store::StoreError;
use claims::{ClaimSet, InstellingRef, LoginContext};
use ring::hmac;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::app::AppState;
use crate::cookie::cookie;

pub use broker::session::{
    default_idle_secs, destroy, load, public_sid, save, start, start_with_idle, Authenticated,
    Found, SessionUpstream, SsoSession, PUPIL_IDLE_SECS, SESSION_SECS,
};

/// What `rp` receives under `scopes` for the user who signed in at `school` as `context`: the
/// broker's release, with this server's directory and pseudonym key.
pub fn release(
    state: &AppState,
    rp: &RelyingParty,
    (user, school, context): (Uuid, &InstellingRef, LoginContext),
    scopes: Scopes,
) -> Result<ClaimSet, ReleaseError> {
    broker::release::release(
        state.dir.as_ref(),
        &state.pseudonyms,
        rp,
        user,
        school,
        context,
        scopes,
    )
}

/// The browser a request comes from: the session id its cookie carries, and its address.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    pub sid: Option<String>,
    pub ip: Option<String>,
}

impl Browser {
    /// The browser `req` comes from.
    pub fn of(req: &HttpRequest, state: &AppState) -> Self {
        Self {
            sid: sid_of(req, state.config.is_https()),
            ip: client_ip(req, state),
        }
    }
}

/// Where the browser stands towards a request that needs a signed-in user.
#[derive(Debug)]
pub struct Standing {
    /// Its session, when it has one that still stands.
    pub session: Option<SsoSession>,
    /// The user must sign in (again), as `needs_login` of [`standing`] decides.
    pub needs_login: bool,
    /// The session ended because the browser moved (see [`broker::session::ended_if_moved`]).
    pub moved: bool,
}

/// Where `browser` stands: its standing session, whether the user must sign in (again) for
/// the request (`needs_login`, given the session), and if not, whether the session ended
/// because the browser moved.
pub fn standing(
    state: &AppState,
    browser: &Browser,
    now: i64,
    needs_login: impl FnOnce(Option<&SsoSession>) -> bool,
) -> Result<Standing, StoreError> {
    let session = match browser.sid.as_deref() {
        Some(sid) => load_standing(state, sid, now)?,
        None => None,
    };
    let needs_login = needs_login(session.as_ref());
    let moved = match &session {
        Some(s) if !needs_login => broker::session::ended_if_moved(
            state.dir.as_ref(),
            state.store.as_ref(),
            s,
            browser.ip.as_deref(),
        )?,
        _ => false,
    };
    Ok(Standing {
        session,
        needs_login,
        moved,
    })
}

/// Take the request waiting under `key` while the user signs in: read and delete it; `None`
/// when none is there or it does not read.
pub fn take_waiting<T: serde::de::DeserializeOwned>(
    state: &AppState,
    key: &broker::keyspace::Key<'_>,
) -> Result<Option<T>, StoreError> {
    Ok(state
        .store
        .take(key)?
        .and_then(|b| serde_json::from_slice(&b).ok()))
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

/// The session id the request carries, if any.
pub fn sid_of(req: &HttpRequest, https: bool) -> Option<String> {
    req.cookie(cookie_name(https))
        .map(|c| c.value().to_string())
        .filter(|v| v.len() == 43)
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
    /// With the key `crate::keys::KeyStore::derive` gives for this purpose.
    pub fn new(key: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
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
                let value = broker::secrets::random_token()
                    .unwrap_or_else(|_| Uuid::new_v4().simple().to_string());
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

/// Does `user` still stand for something issued at a sign-in at `signed_in_at`? See
/// [`broker::session::user_stands`].
pub fn user_stands(state: &AppState, user: Uuid, signed_in_at: i64) -> bool {
    broker::session::user_stands(state.dir.as_ref(), user, signed_in_at)
}

/// A live session whose user still stands; see [`broker::session::load_standing`].
pub fn load_standing(
    state: &AppState,
    sid: &str,
    now: i64,
) -> Result<Option<SsoSession>, StoreError> {
    broker::session::load_standing(state.dir.as_ref(), state.store.as_ref(), sid, now)
}

/// Session `sid` for a request from `ip`; see [`broker::session::load_here`].
pub fn load_here(
    state: &AppState,
    sid: &str,
    ip: Option<&str>,
    now: i64,
) -> Result<Found, StoreError> {
    broker::session::load_here(state.dir.as_ref(), state.store.as_ref(), sid, ip, now)
}
