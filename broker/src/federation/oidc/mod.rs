//! Leerpoort as a relying party of an OpenID Connect upstream, in steps that do no I/O: each
//! takes what arrived and returns a decision, or the HTTP request to make next
//! ([`HttpRequest`]), whose answer ([`HttpResponse`]) the server feeds to the next step.
//!
//! - [`discovery`]: the upstream's discovery document and keys (what to fetch, what the
//!   answers must hold), and [`Discoveries`], their cache timed by the injected clock
//!   ([`METADATA_TTL`], [`KEYS_REFETCH_INTERVAL`]).
//! - [`login`]: the sign-in — [`login::start`] gives the authorization URL (PKCE S256,
//!   `state`, `nonce`, `prompt=none` when the relying party asked it) and keeps the pending
//!   sign-in; [`login::callback`] checks the authorization response (RFC 9207 `iss`, errors)
//!   and gives the token request; [`login::tokens`] reads the token response;
//!   [`login::verify_id_token`] checks the ID token (signature with the upstream's keys,
//!   `iss`, `aud` only Leerpoort, `azp`, `nonce`, `exp`, `iat` with [`SKEW_SECS`]);
//!   [`login::userinfo_request`] asks UserInfo for a claim the ID token lacks.
//! - [`logout`]: the upstream's back-channel logout token checks and limits, and the URL of
//!   the upstream's own logout.

pub mod discovery;
pub mod login;
pub mod logout;

use std::time::Duration;

use crate::model::{Upstream, UpstreamProtocol};

pub use discovery::{Discoveries, Discovery};

use super::FinishError;

/// How long an upstream's discovery document and keys are reused.
pub const METADATA_TTL: Duration = Duration::from_secs(300);
/// A back-channel logout token with a key id the cached keys lack reads the upstream's keys
/// again at most this often (per upstream): junk tokens cannot make Leerpoort fetch them.
pub const KEYS_REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// The window of the back-channel logout endpoint's limits.
pub const BACKCHANNEL_WINDOW: Duration = Duration::from_secs(60);
/// Refused logout tokens one address may send in a window; after that its requests are
/// refused before anything is verified.
pub const BACKCHANNEL_REFUSED_PER_ADDRESS: u64 = 120;
/// Logout tokens naming one upstream as issuer that are looked at in a window.
pub const BACKCHANNEL_PER_UPSTREAM: u64 = 600;
/// Clock skew allowed on `exp` and `iat`.
pub const SKEW_SECS: i64 = 60;
/// Where every OIDC upstream sends the browser back to.
pub const CALLBACK_PATH: &str = "/broker/oidc/callback";
/// Where an upstream's logout sends the browser back to.
pub const SIGNED_OUT_PATH: &str = "/broker/oidc/uitgelogd";
/// The pending-store kind of an OIDC upstream sign-in (its key is the `state`).
pub const PENDING_KIND: &str = "oidc";

/// Why a sign-in at an OIDC upstream failed. Each names the check; none carries a token.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamOidcError {
    #[error("this is not an OIDC upstream")]
    NotOidc,
    #[error("the upstream's discovery document or keys could not be read: {0}")]
    Discovery(String),
    #[error("the upstream's client secret cannot be read")]
    Secret,
    #[error("unknown or expired state: this sign-in was not started here, or took too long")]
    UnknownState,
    #[error(
        "the state belongs to a sign-in another browser started (no or another binding cookie)"
    )]
    OtherBrowser,
    #[error("the authorization response names issuer '{0}', not the upstream's (mix-up)")]
    WrongIssuerParameter(String),
    #[error("the upstream announces the iss parameter (RFC 9207) but the response lacks it")]
    MissingIssuerParameter,
    #[error("the upstream answered: {0}")]
    UpstreamError(String),
    #[error("the upstream requires a sign-in and the request was passive")]
    LoginRequired,
    #[error("the authorization response has no code")]
    NoCode,
    #[error("the token request failed: {0}")]
    Token(String),
    #[error("the token response has no ID token")]
    NoIdToken,
    #[error("the ID token is not valid: {0}")]
    IdToken(String),
    #[error(transparent)]
    Finish(#[from] FinishError),
    #[error("try again in a few minutes")]
    Unavailable,
    #[error("too many back-channel logout requests; try again in a minute")]
    RateLimited,
}

/// The method of a request to an upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A request to make to the upstream, as a plain value: the server sends it (never following
/// redirects) and feeds the answer to the next step.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// The `application/x-www-form-urlencoded` body of a POST.
    pub form: Vec<(String, String)>,
}

/// Requests carry credentials (a client secret, an access token): `Debug` shows where to.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl HttpRequest {
    fn get(url: &str) -> Self {
        Self {
            method: Method::Get,
            url: url.to_string(),
            headers: vec![("accept".into(), "application/json".into())],
            form: Vec::new(),
        }
    }
}

/// What the upstream answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Leerpoort as a client of one OIDC upstream.
#[derive(Clone)]
pub struct Client {
    pub issuer: String,
    pub client_id: String,
    /// `None`: `private_key_jwt` with Leerpoort's own keys.
    pub secret: Option<String>,
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Leerpoort as a client of `u`; `open` unseals the stored client secret.
pub fn client_of(
    u: &Upstream,
    open: impl FnOnce(&str) -> Option<String>,
) -> Result<Client, UpstreamOidcError> {
    let UpstreamProtocol::Oidc {
        issuer,
        client_id,
        client_secret_sealed,
        client_auth,
        ..
    } = &u.protocol
    else {
        return Err(UpstreamOidcError::NotOidc);
    };
    let secret = match client_auth.as_str() {
        "private_key_jwt" => None,
        _ => Some(
            client_secret_sealed
                .as_deref()
                .and_then(open)
                .ok_or(UpstreamOidcError::Secret)?,
        ),
    };
    Ok(Client {
        issuer: issuer.clone(),
        client_id: client_id.clone(),
        secret,
        scopes: scopes_of(u),
    })
}

/// The issuer of the OIDC upstream `u`.
pub fn issuer_of(u: &Upstream) -> Option<&str> {
    match &u.protocol {
        UpstreamProtocol::Oidc { issuer, .. } => Some(issuer),
        UpstreamProtocol::Saml { .. } => None,
    }
}

/// The scope that carries a standard claim (OpenID Connect Core §5.4), if any.
pub fn scope_of_claim(claim: &str) -> Option<&'static str> {
    match claim {
        "name" | "given_name" | "family_name" | "middle_name" | "nickname"
        | "preferred_username" | "profile" | "picture" | "website" | "gender" | "birthdate"
        | "zoneinfo" | "locale" | "updated_at" => Some("profile"),
        "email" | "email_verified" => Some("email"),
        "address" => Some("address"),
        "phone_number" | "phone_number_verified" => Some("phone"),
        _ => None,
    }
}

/// Every scope Leerpoort asks an OIDC upstream for: `openid`, the scope that carries the
/// claim it matches on (`email` for `email`, `profile` for the names, and the other standard
/// claims likewise), `profile` when it provisions (the new user's names), and the operator's
/// own `--scope`s. In that order, each once.
pub fn scopes_asked(match_claim: &str, provision: bool, extra: &[String]) -> Vec<String> {
    let mut out = vec!["openid".to_string()];
    let derived = scope_of_claim(match_claim)
        .into_iter()
        .chain(provision.then_some("profile"));
    for s in derived.map(str::to_string).chain(extra.iter().cloned()) {
        if !s.is_empty() && !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// The scopes Leerpoort asks `u` for (see [`scopes_asked`]); empty for a SAML upstream.
pub fn scopes_of(u: &Upstream) -> Vec<String> {
    match &u.protocol {
        UpstreamProtocol::Oidc { scopes, .. } => scopes_asked(&u.match_claim, u.provision, scopes),
        UpstreamProtocol::Saml { .. } => Vec::new(),
    }
}

/// The payload of a JWT, unverified (or verified already).
pub(crate) fn payload(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(serde_json::Value::Null)
}
