//! The OpenID Connect provider, split by endpoint:
//!
//! | file | endpoint |
//! |---|---|
//! | `discovery.rs` | `/.well-known/openid-configuration`, `/oidc/jwks` |
//! | `authorize.rs` | `/oidc/authorize` (GET and POST) and its continuation after sign-in |
//! | `token.rs` + `grant_types/` | `/oidc/token`: `authorization_code`, `refresh_token`, `client_credentials` |
//! | `client_auth.rs` | `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none` |
//! | `userinfo.rs` | `/oidc/userinfo` (GET and POST) |
//! | `introspect.rs`, `revoke.rs` | RFC 7662 and RFC 7009 |
//! | `logout.rs` | `/oidc/logout` (RP-initiated) and back-channel logout |
//!
//! Handlers parse the request, call one function with no HTTP types in its signature (run on
//! the blocking pool, since storage is synchronous), and render its result.

pub mod authorize;
pub mod client_auth;
pub mod discovery;
pub mod error;
pub mod grant_types;
pub mod introspect;
pub mod logout;
pub mod revoke;
pub mod token;
pub mod tokens;
pub mod userinfo;

use std::time::Duration;

use broker::store::EphemeralStore;
use claims::{ClaimSet, InstellingRef, LoginContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use error::OidcError;

/// Authorization codes live at most this long (seconds).
pub const CODE_SECS: u64 = 60;
/// Access tokens (seconds).
pub const ACCESS_TOKEN_SECS: i64 = 600;
/// ID tokens (seconds).
pub const ID_TOKEN_SECS: i64 = 3600;
/// Refresh tokens without `offline_access`: a school day.
pub const REFRESH_SECS: i64 = 12 * 3600;
/// Refresh tokens with `offline_access`.
pub const OFFLINE_REFRESH_SECS: i64 = 30 * 24 * 3600;
/// A pending authorization request waits this long for the user to sign in.
pub const PENDING_SECS: u64 = 30 * 60;

/// The paths, relative to the issuer.
pub mod paths {
    pub const AUTHORIZE: &str = "/oidc/authorize";
    pub const AUTHORIZE_CONTINUE: &str = "/oidc/authorize/continue";
    pub const TOKEN: &str = "/oidc/token";
    pub const USERINFO: &str = "/oidc/userinfo";
    pub const JWKS: &str = "/oidc/jwks";
    pub const REVOKE: &str = "/oidc/revoke";
    pub const INTROSPECT: &str = "/oidc/introspect";
    pub const LOGOUT: &str = "/oidc/logout";
}

/// A validated authorization request, kept while the user signs in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt_login: bool,
    pub prompt_none: bool,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
    /// Claims asked for by name with the `claims` parameter.
    pub requested_claims: Vec<String>,
    /// When the request arrived: a sign-in after this moment satisfies `prompt=login` and
    /// `max_age`.
    pub created_at: i64,
    /// The `sub` an `id_token_hint` named, if any.
    pub hint_sub: Option<String>,
    /// The network environment to sign in at (`idp_hint`, or Keycloak's `kc_idp_hint`): the
    /// choice is skipped. Cleared once the browser went there, so it is never followed twice.
    #[serde(default)]
    pub idp_hint: Option<String>,
}

/// What an authorization code stands for. Stored under `code:<code>` for [`CODE_SECS`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeGrant {
    pub client_id: String,
    pub redirect_uri: String,
    pub user_id: Uuid,
    pub school: InstellingRef,
    pub sid: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub context: LoginContext,
    pub requested_claims: Vec<String>,
    /// The claims the broker released at authorization time, a few seconds earlier.
    pub claims: ClaimSet,
}

/// Everything issued from one authorization: access tokens, the refresh-token family.
/// Stored under `grant:<id>`; deleting it revokes all of them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    pub id: String,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub school: Option<InstellingRef>,
    pub sid: Option<String>,
    pub scope: String,
    pub auth_time: i64,
    pub amr: Vec<String>,
    pub acr: String,
    pub context: LoginContext,
    pub requested_claims: Vec<String>,
    /// SHA-256 (base64url) of the current refresh token's secret.
    pub refresh_hash: Option<String>,
    pub expires_at: i64,
    pub offline: bool,
    /// The claims released when the tokens were last issued (`None` for client tokens).
    #[serde(default)]
    pub claims: Option<ClaimSet>,
}

fn grant_key(id: &str) -> String {
    format!("grant:{id}")
}

/// Store a grant until it expires.
pub fn save_grant(store: &dyn EphemeralStore, g: &Grant, now: i64) -> Result<(), OidcError> {
    let bytes = serde_json::to_vec(g).map_err(|_| OidcError::ServerError)?;
    store.put(
        &grant_key(&g.id),
        &bytes,
        Duration::from_secs((g.expires_at - now).max(1) as u64),
    )?;
    Ok(())
}

/// A live grant.
pub fn load_grant(store: &dyn EphemeralStore, id: &str) -> Result<Option<Grant>, OidcError> {
    match store.get(&grant_key(id))? {
        Some(b) => Ok(Some(
            serde_json::from_slice(&b).map_err(|_| OidcError::ServerError)?,
        )),
        None => Ok(None),
    }
}

/// Revoke a grant and everything issued from it.
pub fn revoke_grant(store: &dyn EphemeralStore, id: &str) -> Result<(), OidcError> {
    store.delete(&grant_key(id))?;
    Ok(())
}

/// Does a space-separated scope string contain `item`?
pub fn has_scope(scope: &str, item: &str) -> bool {
    scope.split_ascii_whitespace().any(|s| s == item)
}

/// The scopes Leerpoort knows; others are dropped from a request.
pub const SCOPES_SUPPORTED: &[&str] = &["openid", "profile", "email", "groups", "offline_access"];
