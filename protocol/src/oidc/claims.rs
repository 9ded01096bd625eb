//! The claims of the tokens Leerpoort signs: the ID token (OIDC Core §2), the access token
//! (RFC 9068) and the logout token (OIDC Back-Channel Logout §2.4). Signing them is the
//! caller's (see [`super::jws`]).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::{ACCESS_TOKEN_SECS, ID_TOKEN_SECS, LOGOUT_TOKEN_SECS};

/// The event a logout token carries.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// `at_hash` (OIDC Core §3.1.3.6): the left half of the hash of the access token, with the
/// hash of the ID token's algorithm `alg` (its JWS name; SHA-512 for `EdDSA`, Ed25519).
pub fn at_hash(alg: &str, access_token: &str) -> String {
    let digest = match alg {
        "EdDSA" => ring::digest::digest(&ring::digest::SHA512, access_token.as_bytes()),
        _ => ring::digest::digest(&ring::digest::SHA256, access_token.as_bytes()),
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

/// The claims of an ID token for `client_id`, signed with `alg`: the user's claims
/// (`user`) and the token's own.
pub fn id_token(
    mut user: Map<String, Value>,
    issuer: &str,
    client_id: &str,
    alg: &str,
    ctx: IdTokenContext<'_>,
    now: i64,
) -> Value {
    user.insert("iss".into(), json!(issuer));
    user.insert("aud".into(), json!(client_id));
    user.insert("azp".into(), json!(client_id));
    user.insert("iat".into(), json!(now));
    user.insert("exp".into(), json!(now + ID_TOKEN_SECS));
    user.insert("auth_time".into(), json!(ctx.auth_time));
    user.insert("acr".into(), json!(ctx.acr));
    user.insert("amr".into(), json!(ctx.amr));
    if let Some(n) = ctx.nonce {
        user.insert("nonce".into(), json!(n));
    }
    if let Some(sid) = ctx.sid {
        user.insert("sid".into(), json!(sid));
    }
    if let Some(at) = ctx.access_token {
        user.insert("at_hash".into(), json!(at_hash(alg, at)));
    }
    Value::Object(user)
}

/// Who an access token is for and what it allows.
#[derive(Debug, Clone)]
pub struct AccessTokenContext<'a> {
    pub client_id: &'a str,
    pub sub: &'a str,
    pub scope: &'a str,
    pub grant_id: &'a str,
    pub jti: &'a str,
}

/// The user an access token speaks for (absent for client credentials).
#[derive(Debug, Clone)]
pub struct AccessTokenUser<'a> {
    pub instelling_ref: &'a str,
    pub brin6: &'a str,
    pub role: &'a str,
    pub login_context: &'a str,
}

/// The claims of an access token (RFC 9068), with the user's school and role when it speaks
/// for a user and `auth` (`auth_time`, `acr`) when one signed in.
pub fn access_token(
    issuer: &str,
    ctx: AccessTokenContext<'_>,
    user: Option<AccessTokenUser<'_>>,
    auth: Option<(i64, &str)>,
    now: i64,
) -> Value {
    let mut body = json!({
        "iss": issuer,
        "sub": ctx.sub,
        "aud": ctx.client_id,
        "client_id": ctx.client_id,
        "iat": now,
        "exp": now + ACCESS_TOKEN_SECS,
        "jti": ctx.jti,
        "scope": ctx.scope,
        "gid": ctx.grant_id,
    });
    if let Some(u) = user {
        body["instelling_ref"] = json!(u.instelling_ref);
        body["brin6"] = json!(u.brin6);
        body["role"] = json!(u.role);
        body["login_context"] = json!(u.login_context);
    }
    if let Some((auth_time, acr)) = auth {
        body["auth_time"] = json!(auth_time);
        body["acr"] = json!(acr);
    }
    body
}

/// The claims of a logout token for `client_id`: the session `sid` ended, and the user's
/// `sub` at that client when it is known.
pub fn logout_token(
    issuer: &str,
    client_id: &str,
    sid: &str,
    sub: Option<String>,
    jti: &str,
    now: i64,
) -> Value {
    let mut claims = json!({
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_SECS,
        "jti": jti,
        "sid": sid,
        "events": {BACKCHANNEL_LOGOUT_EVENT: {}},
    });
    if let Some(sub) = sub {
        claims["sub"] = Value::String(sub);
    }
    claims
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn at_hash_is_the_left_half_of_the_algorithms_hash() {
        // OIDC Core A.3's example value for RS256.
        assert_eq!(
            at_hash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(at_hash("EdDSA", "x").len(), 43);
    }

    #[test]
    fn a_logout_token_names_the_event_and_no_nonce() {
        let t = logout_token("https://idp", "c", "s", None, "j", 10);
        assert_eq!(t["exp"], 130);
        assert!(t["events"][BACKCHANNEL_LOGOUT_EVENT].is_object());
        assert!(t.get("sub").is_none() && t.get("nonce").is_none());
    }
}
