//! The OpenID Connect provider, split by endpoint:
//!
//! | file | endpoint |
//! |---|---|
//! | `authorize.rs` | `/oidc/authorize` (GET and POST) and its continuation after sign-in |
//! | `token.rs` + `grant_types/` | `/oidc/token`: `authorization_code`, `refresh_token`, `client_credentials` |
//! | `client_auth.rs` | `client_secret_basic`, `client_secret_post`, `private_key_jwt`, `none` |
//! | `userinfo.rs` | `/oidc/userinfo` (GET and POST) |
//! | `introspect.rs`, `revoke.rs` | RFC 7662 and RFC 7009 |
//! | `logout.rs` | `/oidc/logout` (RP-initiated) and back-channel logout |
//!
//! Handlers parse the request, call one function with no HTTP types in its signature (run on
//! the blocking pool, since storage is synchronous — or, with the embedded backends, on the
//! worker itself: `server::oidc::run`), and render its result. The protocol's
//! shapes — the authorization request, the error codes, client credentials, token claims,
//! JWS, the discovery document — are `protocol::oidc`'s; what is here reaches storage, the
//! keys and the broker.

pub mod authorize;
pub mod client_auth;
pub mod grant_types;
pub mod introspect;
pub mod logout;
pub mod revoke;
pub mod token;
pub mod tokens;
pub mod userinfo;

use broker::keyspace::Key;
use std::time::Duration;

use broker::store::EphemeralStore;
use claims::{ClaimSet, InstellingRef, LoginContext};
use protocol::oidc::OidcError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A pending authorization request waits this long for the user to sign in.
pub const PENDING_SECS: u64 = 30 * 60;

/// The ephemeral store failed: logged, and the client hears `temporarily_unavailable`.
pub fn store_failed(e: broker::store::StoreError) -> OidcError {
    tracing::error!(error = %e, "ephemeral store");
    OidcError::TemporarilyUnavailable
}

/// The directory failed: logged, and the client hears `server_error`.
pub fn directory_failed(e: broker::repo::RepoError) -> OidcError {
    tracing::error!(error = %e, "directory");
    OidcError::ServerError
}

/// Signing failed: logged, and the client hears `server_error`.
pub fn signing_failed(e: crate::keys::KeyError) -> OidcError {
    tracing::error!(error = %e, "signing");
    OidcError::ServerError
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

/// Store a grant until it expires.
pub fn save_grant(store: &dyn EphemeralStore, g: &Grant, now: i64) -> Result<(), OidcError> {
    let bytes = serde_json::to_vec(g).map_err(|_| OidcError::ServerError)?;
    store
        .put(
            &Key::Grant(&g.id),
            &bytes,
            Duration::from_secs((g.expires_at - now).max(1) as u64),
        )
        .map_err(store_failed)
}

/// A live grant. A grant without `offline_access` ends with the session it was issued in:
/// once that session was ended ([`broker::session::destroy`]), the grant is revoked here.
pub fn load_grant(store: &dyn EphemeralStore, id: &str) -> Result<Option<Grant>, OidcError> {
    let Some(b) = store.get(&Key::Grant(id)).map_err(store_failed)? else {
        return Ok(None);
    };
    let grant: Grant = serde_json::from_slice(&b).map_err(|_| OidcError::ServerError)?;
    if let (false, Some(sid)) = (grant.offline, &grant.sid) {
        if broker::session::ended(store, sid).map_err(store_failed)? {
            revoke_grant(store, id)?;
            return Ok(None);
        }
    }
    Ok(Some(grant))
}

/// Revoke a grant and everything issued from it.
pub fn revoke_grant(store: &dyn EphemeralStore, id: &str) -> Result<(), OidcError> {
    store.delete(&Key::Grant(id)).map_err(store_failed)
}
