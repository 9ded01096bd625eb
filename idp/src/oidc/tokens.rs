//! Minting tokens: ID tokens (algorithm per client), access tokens (RFC 9068 JWTs, ES256 so
//! a flow costs at most one RSA signature), refresh tokens (opaque, rotated).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use broker::model::{JwsAlg, RelyingParty};
use broker::release::{self, ReleaseError, Scopes};
use claims::{ClaimSet, InstellingRef, LoginContext};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use super::{has_scope, OidcError};
use crate::app::AppState;
use crate::keys::sign_jwt;

/// Build the claim set `rp` may receive for a user, asking the broker whether the school
/// allows it. A refusal is `access_denied` naming the setting that blocks it.
pub fn claims_for(
    state: &AppState,
    rp: &RelyingParty,
    user_id: Uuid,
    school_ref: &InstellingRef,
    context: LoginContext,
    scope: &str,
    requested: &[String],
) -> Result<ClaimSet, OidcError> {
    let mut scopes = Scopes::parse(scope);
    for c in requested {
        match c.as_str() {
            "given_name" | "family_name" | "name" => scopes.profile = true,
            "email" => scopes.email = true,
            "groups" => scopes.groups = true,
            _ => {}
        }
    }
    release::release(
        state.dir.as_ref(),
        &state.pseudonyms,
        rp,
        user_id,
        school_ref,
        context,
        scopes,
    )
    .map_err(|e| match e {
        ReleaseError::Denied(d) => OidcError::Denied(d),
        ReleaseError::UserGone => OidcError::AccessDenied("the account no longer exists".into()),
        ReleaseError::SchoolGone => OidcError::AccessDenied("the school no longer exists".into()),
        ReleaseError::Storage(e) => e.into(),
        ReleaseError::Subject(_) => OidcError::ServerError,
    })
}

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash of the access token, with the
/// hash of the ID token's algorithm (SHA-512 for Ed25519).
pub fn at_hash(alg: JwsAlg, access_token: &str) -> String {
    let digest = match alg {
        JwsAlg::RS256 | JwsAlg::ES256 => {
            ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes())
        }
        JwsAlg::EdDSA => ring::digest::digest(&ring::digest::SHA512, access_token.as_bytes()),
    };
    let bytes = digest.as_ref();
    URL_SAFE_NO_PAD.encode(&bytes[..bytes.len() / 2])
}

/// What goes into an ID token besides the claim set.
#[derive(Debug, Clone)]
pub struct IdTokenContext<'a> {
    pub nonce: Option<&'a str>,
    pub auth_time: i64,
    pub acr: &'a str,
    pub amr: &'a [String],
    pub sid: Option<&'a str>,
    pub access_token: Option<&'a str>,
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
    let mut body: Map<String, Value> = claims.to_json_map();
    body.insert("iss".into(), json!(state.config.issuer));
    body.insert("aud".into(), json!(client.client_id));
    body.insert("azp".into(), json!(client.client_id));
    body.insert("iat".into(), json!(now));
    body.insert("exp".into(), json!(now + super::ID_TOKEN_SECS));
    body.insert("auth_time".into(), json!(ctx.auth_time));
    body.insert("acr".into(), json!(ctx.acr));
    body.insert("amr".into(), json!(ctx.amr));
    if let Some(n) = ctx.nonce {
        body.insert("nonce".into(), json!(n));
    }
    if let Some(sid) = ctx.sid {
        body.insert("sid".into(), json!(sid));
    }
    if let Some(at) = ctx.access_token {
        body.insert("at_hash".into(), json!(at_hash(client.id_token_alg, at)));
    }
    Ok(sign_jwt(
        state.keys.as_ref(),
        client.id_token_alg,
        "JWT",
        &Value::Object(body),
    )?)
}

/// Sign an access token (RFC 9068) for a grant. `claims` is `None` for client credentials.
#[allow(clippy::too_many_arguments)]
pub fn access_token(
    state: &AppState,
    client_id: &str,
    sub: &str,
    scope: &str,
    grant_id: &str,
    claims: Option<&ClaimSet>,
    auth: Option<(i64, &str)>,
    now: i64,
) -> Result<String, OidcError> {
    let mut body = json!({
        "iss": state.config.issuer,
        "sub": sub,
        "aud": client_id,
        "client_id": client_id,
        "iat": now,
        "exp": now + super::ACCESS_TOKEN_SECS,
        "jti": Uuid::new_v4().to_string(),
        "scope": scope,
        "gid": grant_id,
    });
    if let Some(c) = claims {
        body["instelling_ref"] = json!(c.instelling_ref.to_string());
        body["brin6"] = json!(c.brin6.to_string());
        body["role"] = json!(c.role.as_str());
        body["login_context"] = json!(c.login_context.as_str());
    }
    if let Some((auth_time, acr)) = auth {
        body["auth_time"] = json!(auth_time);
        body["acr"] = json!(acr);
    }
    Ok(sign_jwt(
        state.keys.as_ref(),
        JwsAlg::ES256,
        "at+jwt",
        &body,
    )?)
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

/// Verify one of our own access tokens: signature with a published key, issuer, expiry.
/// Returns its claims.
pub fn verify_access_token(state: &AppState, token: &str, now: i64) -> Result<Value, OidcError> {
    let bad = |why: &str| OidcError::InvalidToken(why.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed token"))?;
    if header.alg != jsonwebtoken::Algorithm::ES256 || header.typ.as_deref() != Some("at+jwt") {
        return Err(bad("not an access token"));
    }
    let kid = header.kid.ok_or_else(|| bad("no key id"))?;
    let key = crate::keys::decoding_key(state.keys.as_ref(), &kid, now)
        .ok_or_else(|| bad("unknown key"))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.validate_aud = false;
    v.validate_exp = false;
    v.set_issuer(&[state.config.issuer.as_str()]);
    v.set_required_spec_claims(&["exp", "iss", "sub"]);
    let data = jsonwebtoken::decode::<Value>(token, &key, &v)
        .map_err(|_| bad("signature or issuer does not verify"))?;
    let exp = data.claims["exp"]
        .as_i64()
        .ok_or_else(|| bad("no expiry"))?;
    if exp <= now {
        return Err(bad("the token has expired"));
    }
    Ok(data.claims)
}

/// The claims of an ID token this provider issued, used as a hint (`id_token_hint`): the
/// signature and issuer must verify; expiry and audience are the caller's business (an
/// expired ID token is still a fine hint).
pub fn verify_id_token_hint(state: &AppState, token: &str, now: i64) -> Option<Value> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let key = crate::keys::decoding_key(state.keys.as_ref(), &header.kid?, now)?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[state.config.issuer.as_str()]);
    v.set_required_spec_claims(&["sub", "aud", "iss"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// Does the grant allow refresh tokens that outlive the session?
pub fn is_offline(scope: &str) -> bool {
    has_scope(scope, "offline_access")
}
