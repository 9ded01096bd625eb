//! Minting tokens: ID tokens (algorithm per client), access tokens (per client: RFC 9068 JWTs,
//! ES256 so a flow costs at most one RSA signature, or opaque reference tokens), refresh tokens
//! (opaque, rotated).

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::keyspace::Key;
use broker::model::{AccessTokenFormat, JwsAlg, OidcClient, RelyingParty};
use broker::release::{Denial, ReleaseError, Scopes};
use claims::{ClaimSet, InstellingRef, LoginContext};
use protocol::oidc::claims::{AccessTokenContext, AccessTokenUser, IdTokenContext};
use protocol::oidc::jws::verify_access_token;
use protocol::oidc::{OidcError, ACCESS_TOKEN_SECS};
use serde_json::Value;
use uuid::Uuid;

use super::{directory_failed, signing_failed, store_failed};
use crate::app::AppState;
use crate::keys::sign_jwt;
use crate::session;

/// Why no claims are released.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReleased {
    /// The school's settings block it; the page names the setting.
    Denied(Denial),
    /// Anything else, as the client hears it.
    Error(OidcError),
}

impl NotReleased {
    /// As the client hears it: a denial is `access_denied` with its description.
    pub fn into_oidc(self) -> OidcError {
        match self {
            Self::Denied(d) => OidcError::AccessDenied(d.to_string()),
            Self::Error(e) => e,
        }
    }
}

/// Build the claim set `rp` may receive for a user, asking the broker whether the school
/// allows it.
pub fn claims_for(
    state: &AppState,
    rp: &RelyingParty,
    user_id: Uuid,
    school_ref: &InstellingRef,
    context: LoginContext,
    scope: &str,
    requested: &[String],
) -> Result<ClaimSet, NotReleased> {
    let mut scopes = Scopes::parse(scope);
    for c in requested {
        match c.as_str() {
            "given_name" | "family_name" | "name" => scopes.profile = true,
            "email" => scopes.email = true,
            // `niveau` comes with `groups`, and only with it.
            "groups" | "niveau" => scopes.groups = true,
            _ => {}
        }
    }
    session::release(state, rp, (user_id, school_ref, context), scopes).map_err(|e| match e {
        ReleaseError::Denied(d) => NotReleased::Denied(d),
        gone @ (ReleaseError::UserGone | ReleaseError::SchoolGone) => {
            NotReleased::Error(OidcError::AccessDenied(gone.to_string()))
        }
        ReleaseError::Storage(e) => NotReleased::Error(directory_failed(e)),
        ReleaseError::Subject(_) => NotReleased::Error(OidcError::ServerError),
    })
}

/// Sign an ID token for `rp`.
pub fn id_token(
    state: &AppState,
    rp: &RelyingParty,
    claims: &ClaimSet,
    ctx: IdTokenContext<'_>,
    now: i64,
) -> Result<String, OidcError> {
    let client = rp.oidc().ok_or(OidcError::ServerError)?;
    let body = protocol::oidc::claims::id_token(
        claims.to_json_map(),
        &state.config.issuer,
        &client.client_id,
        client.id_token_alg.as_str(),
        ctx,
        now,
    );
    sign_jwt(state.keys.as_ref(), client.id_token_alg, "JWT", &body).map_err(signing_failed)
}

/// How an opaque access token begins: it is told apart from a JWT and from a refresh token
/// (`<grant>.<secret>`) without a lookup.
pub const OPAQUE_PREFIX: &str = "lpat_";

/// An access token for a grant, in the client's format: a signed JWT (RFC 9068), or an opaque
/// token whose claims (the same as the JWT's) wait in the ephemeral store until it expires,
/// under the token's hash ([`broker::secrets::token_hash`]), never the token itself.
/// `claims` is `None` for client credentials.
#[allow(clippy::too_many_arguments)]
pub fn access_token(
    state: &AppState,
    client: &OidcClient,
    sub: &str,
    scope: &str,
    grant_id: &str,
    claims: Option<&ClaimSet>,
    auth: Option<(i64, &str)>,
    now: i64,
) -> Result<String, OidcError> {
    let jti = Uuid::new_v4().to_string();
    let (instelling_ref, brin6) = match claims {
        Some(c) => (c.instelling_ref.to_string(), c.brin6.to_string()),
        None => (String::new(), String::new()),
    };
    let user = claims.map(|c| AccessTokenUser {
        instelling_ref: &instelling_ref,
        brin6: &brin6,
        role: c.role.as_str(),
        login_context: c.login_context.as_str(),
    });
    let ctx = AccessTokenContext {
        client_id: &client.client_id,
        sub,
        scope,
        grant_id,
        jti: &jti,
    };
    let body = protocol::oidc::claims::access_token(&state.config.issuer, ctx, user, auth, now);
    match client.access_token_format {
        AccessTokenFormat::Jwt => {
            sign_jwt(state.keys.as_ref(), JwsAlg::ES256, "at+jwt", &body).map_err(signing_failed)
        }
        AccessTokenFormat::Opaque => {
            let secret = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
            let token = format!("{OPAQUE_PREFIX}{secret}");
            let bytes = serde_json::to_vec(&body).map_err(|_| OidcError::ServerError)?;
            state
                .store
                .put(
                    &Key::AccessToken(&broker::secrets::token_hash(&token)),
                    &bytes,
                    Duration::from_secs(ACCESS_TOKEN_SECS as u64),
                )
                .map_err(store_failed)?;
            Ok(token)
        }
    }
}

/// The claims of an access token Leerpoort issued and that has not expired: a JWT's verified
/// body, or what an opaque token stands for. Whether its grant still stands is the caller's
/// question.
pub fn access_token_claims(state: &AppState, token: &str, now: i64) -> Result<Value, OidcError> {
    if !token.starts_with(OPAQUE_PREFIX) {
        return verify_access_token(&state.keys.jwks(now), &state.config.issuer, token, now);
    }
    let unknown = || OidcError::InvalidToken("the token is unknown or has expired".into());
    let bytes = state
        .store
        .get(&Key::AccessToken(&broker::secrets::token_hash(token)))
        .map_err(store_failed)?
        .ok_or_else(unknown)?;
    let claims: Value = serde_json::from_slice(&bytes).map_err(|_| OidcError::ServerError)?;
    match claims["exp"].as_i64() {
        Some(exp) if exp > now => Ok(claims),
        _ => Err(unknown()),
    }
}

/// Forget an opaque access token (revocation); a JWT is left to its grant and expiry.
pub fn forget_access_token(state: &AppState, token: &str) -> Result<(), OidcError> {
    if token.starts_with(OPAQUE_PREFIX) {
        state
            .store
            .delete(&Key::AccessToken(&broker::secrets::token_hash(token)))
            .map_err(store_failed)?;
    }
    Ok(())
}

/// A new refresh token for a grant: `<grant id>.<secret>`, and the hash to store.
pub fn refresh_token(grant_id: &str) -> Result<(String, String), OidcError> {
    let secret = broker::secrets::random_token().map_err(|_| OidcError::ServerError)?;
    let hash = refresh_hash(&secret);
    Ok((format!("{grant_id}.{secret}"), hash))
}

/// SHA-256 of a refresh token's secret part.
pub fn refresh_hash(secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes()).as_ref())
}
