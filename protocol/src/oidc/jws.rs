//! Compact JWS (RFC 7515) as Leerpoort signs and checks its own tokens: the signing input
//! and the token around a signature (the signature itself is the key store's), and verifying
//! one of its own access tokens or ID tokens with the published keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Value};

use super::jwk::decoding_key;
use super::OidcError;

fn b64u(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// The signing input of a JWT: header (`alg`, `kid`, `typ`) and claims, base64url, joined
/// by a dot. `typ` is `JWT`, `at+jwt`, `logout+jwt`, ...
pub fn signing_input(alg: &str, kid: &str, typ: &str, claims: &Value) -> String {
    let header = json!({"alg": alg, "kid": kid, "typ": typ});
    format!(
        "{}.{}",
        b64u(header.to_string().as_bytes()),
        b64u(claims.to_string().as_bytes())
    )
}

/// The compact token: the signing input, a dot, the signature in base64url.
pub fn compact(input: &str, signature: &[u8]) -> String {
    format!("{input}.{}", b64u(signature))
}

/// Verify one of our own access tokens against the published `jwks`: ES256 with `typ`
/// `at+jwt`, a published key, `issuer`, not expired at `now`. Returns its claims.
pub fn verify_access_token(
    jwks: &Value,
    issuer: &str,
    token: &str,
    now: i64,
) -> Result<Value, OidcError> {
    let bad = |why: &str| OidcError::InvalidToken(why.to_string());
    let header = jsonwebtoken::decode_header(token).map_err(|_| bad("malformed token"))?;
    if header.alg != jsonwebtoken::Algorithm::ES256 || header.typ.as_deref() != Some("at+jwt") {
        return Err(bad("not an access token"));
    }
    let kid = header.kid.ok_or_else(|| bad("no key id"))?;
    let key = decoding_key(jwks, &kid).ok_or_else(|| bad("unknown key"))?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256);
    v.validate_aud = false;
    v.validate_exp = false;
    v.set_issuer(&[issuer]);
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

/// The claims of an ID token `issuer` issued, used as a hint (`id_token_hint`): the signature
/// (with a key in `jwks`) and issuer must verify; expiry and audience are the caller's
/// business (an expired ID token is still a fine hint).
pub fn verify_id_token_hint(jwks: &Value, issuer: &str, token: &str) -> Option<Value> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    let key = decoding_key(jwks, &header.kid?)?;
    let mut v = jsonwebtoken::Validation::new(header.alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_issuer(&[issuer]);
    v.set_required_spec_claims(&["sub", "aud", "iss"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .ok()
        .map(|d| d.claims)
}

/// Is `client_id` among the audience (`aud`, a string or an array) of `claims`?
pub fn audience_includes(claims: &Value, client_id: &str) -> bool {
    match &claims["aud"] {
        Value::String(a) => a == client_id,
        Value::Array(a) => a.iter().any(|x| x.as_str() == Some(client_id)),
        _ => false,
    }
}
