//! Who may use the operator console: whoever runs the `leerpoort` command on the server. The
//! command makes a one-time sign-in link ([`make_link`]); the code in it is random, and only
//! its SHA-256 is stored, with its expiry, in the operator settings (the command and the
//! server share only the database). One link is outstanding at a time: a new one replaces
//! the last. Using the link once ([`redeem`]) uses it up and signs that browser in: a session
//! in the ephemeral store (8 hours), behind an `HttpOnly`, `SameSite=Strict` cookie for
//! `/operator`, with its own CSRF token for the console's forms. Wrong codes are counted per
//! client address and throttled.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use broker::audit::AuditAction;
use broker::keyspace::{Key, Limit};
use broker::model::AuditEvent;
use broker::repo::RepoError;
use broker::secrets::{random_token, token_hash, SecretError};
use broker::store::StoreError;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use super::OperatorError;
use crate::app::AppState;

/// The operator setting that holds the outstanding sign-in link (its code's hash and expiry).
pub const LINK_SETTING: &str = "operator-link";
/// How long a link lasts when the command is not told (`--minutes`).
pub const LINK_MINUTES: u32 = 10;
/// The longest a link may last.
pub const LINK_MINUTES_MAX: u32 = 60;
/// How long a console session lasts from its sign-in (it is not extended by use).
pub const SESSION_SECS: i64 = 8 * 3600;
/// Wrong codes from one address (bucket) within [`FAILURE_WINDOW`] before every code from
/// there is refused without looking.
pub const FAILURE_LIMIT: u64 = 10;
pub const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// The path the sign-in link opens.
pub const SIGN_IN_PATH: &str = "/operator/inloggen";

/// A sign-in link, as `leerpoort operator link` prints it.
#[derive(Clone, Serialize)]
pub struct Link {
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Why no link was made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(
        "the operator console is off: set LEERPOORT_OPERATOR_LISTEN (e.g. 127.0.0.1:9465) for \
         the server and restart it"
    )]
    Off,
    #[error("--minutes: from 1 to {LINK_MINUTES_MAX}")]
    Minutes,
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Secret(#[from] SecretError),
}

/// What is stored of the outstanding link.
#[derive(Debug, Serialize, Deserialize)]
struct StoredLink {
    code_hash: String,
    expires_at: i64,
}

/// Make a sign-in link for the console, valid `minutes`, replacing any link not yet used;
/// written to the trail (`operator.link`) as `actor`. Refused when the console is off.
pub fn make_link(state: &AppState, minutes: u32, actor: &str) -> Result<Link, LinkError> {
    let at = state.config.operator_listen.ok_or(LinkError::Off)?;
    if !(1..=LINK_MINUTES_MAX).contains(&minutes) {
        return Err(LinkError::Minutes);
    }
    let code = random_token()?;
    let now = state.clock.now_secs();
    let expires_at = now + i64::from(minutes) * 60;
    let stored = StoredLink {
        code_hash: token_hash(&code),
        expires_at,
    };
    let value = serde_json::to_string(&stored).unwrap_or_default();
    let audit = AuditEvent::record(
        AuditAction::OperatorLink,
        actor,
        now,
        None,
        None,
        serde_json::json!({"expires_at": expires_at}),
    );
    state.dir.put_setting(LINK_SETTING, Some(&value), audit)?;
    Ok(Link {
        url: format!("http://{}{SIGN_IN_PATH}?code={code}", reachable(at)),
        expires_at,
    })
}

/// The address a browser on the server opens for a listener on `at`: loopback for a
/// listener on every address.
fn reachable(at: SocketAddr) -> SocketAddr {
    let ip = match at.ip() {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, at.port())
}

/// What a sign-in code came to.
#[derive(Debug)]
pub enum Redeemed {
    /// Signed in: the new session's cookie value.
    SignedIn(String),
    /// Not a code of an outstanding link: mistyped, used already, or replaced.
    Unknown,
    /// The link's time is up.
    Expired,
    /// Too many wrong codes from this address lately.
    TooMany,
}

/// Use the sign-in `code` from the client in `bucket` (its limit bucket): once, before its
/// expiry. A wrong code counts against the bucket.
pub fn redeem(state: &AppState, code: &str, bucket: &str) -> Result<Redeemed, OperatorError> {
    let failures = Key::Limit(Limit::OperatorLinkFailuresFromAddress(bucket));
    if state.store.count(&failures, FAILURE_WINDOW)? >= FAILURE_LIMIT {
        return Ok(Redeemed::TooMany);
    }
    let hash = token_hash(code);
    let Some(stored) = outstanding(state)?
        .filter(|s| well_formed(code) && bool::from(s.code_hash.as_bytes().ct_eq(hash.as_bytes())))
    else {
        state.store.incr(&failures, FAILURE_WINDOW)?;
        return Ok(Redeemed::Unknown);
    };
    let now = state.clock.now_secs();
    if stored.expires_at <= now {
        return Ok(Redeemed::Expired);
    }
    // Of two uses at once, one wins; the other finds the link used.
    let left = Duration::from_secs(u64::try_from(stored.expires_at - now).unwrap_or(1));
    if !state
        .store
        .put_if_absent(&Key::OperatorLinkUsed(&hash), b"1", left)?
    {
        return Ok(Redeemed::Unknown);
    }
    let audit = AuditEvent::record(
        AuditAction::OperatorSignIn,
        super::ACTOR,
        now,
        None,
        None,
        serde_json::json!({}),
    );
    // The link is used up; a newer one made meanwhile stays.
    if outstanding(state)?.is_some_and(|s| s.code_hash == hash) {
        state.dir.put_setting(LINK_SETTING, None, audit)?;
    } else {
        state.dir.append_audit(audit)?;
    }
    let sid = random_token().map_err(|e| OperatorError::Unavailable(e.to_string()))?;
    let session = Session {
        csrf: random_token().map_err(|e| OperatorError::Unavailable(e.to_string()))?,
        since: now,
    };
    state.store.put(
        &Key::OperatorSession(&token_hash(&sid)),
        &serde_json::to_vec(&session).unwrap_or_default(),
        Duration::from_secs(SESSION_SECS.unsigned_abs()),
    )?;
    Ok(Redeemed::SignedIn(sid))
}

/// The outstanding link, if any.
fn outstanding(state: &AppState) -> Result<Option<StoredLink>, RepoError> {
    Ok(state
        .dir
        .setting(LINK_SETTING)?
        .and_then(|v| serde_json::from_str(&v).ok()))
}

/// A code as [`random_token`] makes them: 43 base64url characters.
fn well_formed(code: &str) -> bool {
    code.len() == 43
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A console session, as stored.
#[derive(Serialize, Deserialize)]
struct Session {
    /// The token every form of this session carries.
    csrf: String,
    since: i64,
}

/// The console session's cookie: `__Secure-` and `Secure` when the issuer is HTTPS.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Secure-leerpoort-operator"
    } else {
        "leerpoort-operator"
    }
}

/// The cookie that carries the session `sid` (an empty one, expired, ends it in the browser).
pub fn session_cookie(sid: String, https: bool) -> Cookie<'static> {
    let age = if sid.is_empty() { 0 } else { SESSION_SECS };
    Cookie::build(cookie_name(https), sid)
        .path("/operator")
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Strict)
        .max_age(actix_web::cookie::time::Duration::seconds(age))
        .finish()
}

/// A signed-in operator: their session's key and its CSRF token.
pub struct Operator {
    digest: String,
    pub csrf: String,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Operator { .. }")
    }
}

impl Operator {
    /// End the session.
    pub fn sign_out(&self, state: &AppState) -> Result<(), StoreError> {
        state.store.delete(&Key::OperatorSession(&self.digest))
    }

    /// Is `token` this session's CSRF token (compared in constant time)?
    fn csrf_matches(&self, token: &str) -> bool {
        !token.is_empty() && bool::from(self.csrf.as_bytes().ct_eq(token.as_bytes()))
    }
}

pub(super) fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, OperatorError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| OperatorError::Unavailable("no application state".into()))
}

async fn operator(req: HttpRequest) -> Result<Operator, OperatorError> {
    let state = state_of(&req)?;
    let sid = req
        .cookie(cookie_name(state.config.is_https()))
        .map(|c| c.value().to_string())
        .filter(|v| well_formed(v))
        .ok_or(OperatorError::SignIn)?;
    let digest = token_hash(&sid);
    let found = {
        let digest = digest.clone();
        web::block(move || state.store.get(&Key::OperatorSession(&digest))).await??
    };
    let session: Session = found
        .and_then(|v| serde_json::from_slice(&v).ok())
        .ok_or(OperatorError::SignIn)?;
    Ok(Operator {
        digest,
        csrf: session.csrf,
    })
}

impl FromRequest for Operator {
    type Error = OperatorError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, OperatorError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(operator(req.clone()))
    }
}

/// A form's fields, in order (a name may come more than once: checkboxes).
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// A form posted by a signed-in operator whose `csrf_token` is their session's. Without a
/// session: 401; with a missing or wrong token: 403 — the handler never runs.
#[derive(Debug)]
pub struct Checked {
    pub operator: Operator,
    pub fields: Fields,
}

impl FromRequest for Checked {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, actix_web::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let form = web::Form::<Vec<(String, String)>>::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let operator = operator(req).await?;
            let fields = Fields(form.await?.into_inner());
            if !operator.csrf_matches(fields.get("csrf_token")) {
                return Err(OperatorError::Forbidden.into());
            }
            Ok(Checked { operator, fields })
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_on_every_address_is_reached_on_loopback() {
        let at = |s: &str| reachable(s.parse().unwrap()).to_string();
        assert_eq!(at("0.0.0.0:9465"), "127.0.0.1:9465");
        assert_eq!(at("[::]:9465"), "[::1]:9465");
        assert_eq!(at("10.1.2.3:9465"), "10.1.2.3:9465");
    }

    #[test]
    fn codes_have_one_shape() {
        let code = random_token().unwrap();
        assert!(well_formed(&code));
        assert!(!well_formed(&code[1..]));
        assert!(!well_formed(&format!("{}.", &code[1..])));
    }
}
